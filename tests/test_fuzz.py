"""10,000 generated messages, presses and attachments through the engine (as the Telegram channel passes them:
cleaned at the boundary): no crash, every message answered, every reply within Telegram's limits."""
from __future__ import annotations

import random

import pytest

from bot.app import build_app
from bot.dialogue.messages import Incoming
from bot.reports.crypto import new_key
from bot.textformat import TELEGRAM_CALLBACK_DATA_LIMIT, TELEGRAM_TEXT_LIMIT, clean_input, telegram_len
from tests.conftest import settings_for

pytestmark = pytest.mark.slow  # about 40 s: in `make test`, not in `make test-fast`

MESSAGES = 10_000
CHATS = 40
WORDS = ("syarat", "kerja", "malaysia", "paspor", "calo", "gaji", "tidak", "dibayar", "lapor", "tolong", "PT",
         "sinar", "jaya", "resmi", "gk", "kk", "sy", "mau", "ke", "hongkong", "biaya", "berapa", "adik", "dibawa",
         "kupang", "ya", "tidak", "lewati", "selesai", "kirim", "anonim", "0812 3456 7890", "status", "TPPO-2026-",
         "halo", "makasih", "batal", "menu", "darurat", "visa", "taiwan", "bp3mi", "sonde", "beta", "mo")
ODD = ("\udb8c", "\ud800", "\udfff", "\x00", "\x07", "\x1b[31m", "\u202e", "\u200b", "\ufeff", "\uffff", "<b>",
       "</i>", "<a href='javascript:alert(1)'>x</a>", "{{ lipsum.__globals__ }}", "{% for %}", "&amp;", "'; DROP TABLE "
       "report; --", "😀", "👨‍👩‍👧‍👦", "🇮🇩", "\r\n", "\t", "ﷺ", "𝕏", "Z̸̢̛̛̛")
COMMANDS = ("/start", "/menu", "/lapor", "/batal", "/bantuan", "/cek", "/darurat", "/status", "/status TPPO-2026-ZZZZZZ",
            "/privasi", "/hapus", "/tidak_ada", "/start@migrasi_aman_bot", "/")
FORGED = ("", "x", "menu:", "faq:", "faq:../../etc/passwd", "report:", "report:cat_<script>", "staff:1_selesai",
          "group:tidak_ada", "menu:" + "a" * 80, "\udb8c", "report:reg_9999", "report:ctry_zz", "agency:-1",
          "agency:9999999999", "report:edit_what", "report:send", "::::", "faq:syarat:extra")
ATTACHMENTS = ("photo", "document", "voice", "audio", "video", "sticker", "contact", "location", "other")


def generated(rng: random.Random):
    """(chat, kind, payload) items: text, a press (from the chat's last buttons, or forged), or an attachment."""
    last_buttons: dict[int, list[str]] = {}
    for _ in range(MESSAGES):
        chat = rng.randrange(CHATS)
        roll = rng.random()
        if roll < 0.30 and last_buttons.get(chat):
            yield chat, "press", rng.choice(last_buttons[chat]), last_buttons
        elif roll < 0.36:
            yield chat, "press", rng.choice(FORGED), last_buttons
        elif roll < 0.46:
            yield chat, "attachment", rng.choice(ATTACHMENTS), last_buttons
        elif roll < 0.56:
            yield chat, "text", rng.choice(COMMANDS), last_buttons
        elif roll < 0.58:
            yield chat, "text", rng.choice(("😢" * 5000, "a" * 5000, "tolong " * 800, "\udb8c" * 300)), last_buttons
        else:
            parts = [rng.choice(WORDS) for _ in range(rng.randint(0, 12))]
            for _ in range(rng.randint(0, 2)):
                parts.insert(rng.randint(0, len(parts)), rng.choice(ODD))
            yield chat, "text", " ".join(parts), last_buttons


def test_ten_thousand_generated_inputs_crash_nothing_and_get_answers(sqlite_url):
    settings = settings_for(database_url=sqlite_url, report_encryption_keys=new_key(), taskforce_chat_id="-1009",
                            messages_per_minute="0", reports_per_day="1000")
    rng = random.Random(13)
    unanswered, handled = [], 0
    with build_app(settings, fallback_only=True) as app:
        for chat, kind, payload, last_buttons in generated(rng):
            if kind == "press":
                message = Incoming(chat, chat, press=clean_input(payload))
            elif kind == "attachment":
                message = Incoming(chat, chat, attachment=payload, file_id=f"F-{rng.randrange(10**6)}",
                                   phone="+62 812 0000 1111" if payload == "contact" else None)
            else:
                message = Incoming(chat, chat, text=clean_input(payload))
            turn = app.engine.handle(message)  # any exception fails the test: that is a crash
            handled += 1
            if not turn.replies:
                unanswered.append((kind, payload[:40]))
            for reply in turn.replies:
                assert reply.text.strip()
                assert telegram_len(reply.text) <= TELEGRAM_TEXT_LIMIT, (kind, payload[:40])
                assert all(len(b.data.encode("utf-8")) <= TELEGRAM_CALLBACK_DATA_LIMIT for b in reply.buttons)
            last_buttons[chat] = [b.data for reply in turn.replies for b in reply.buttons]
    assert handled == MESSAGES
    assert unanswered == []


def test_a_forged_huge_agency_id_is_refused_politely(sqlite_url):
    with build_app(settings_for(database_url=sqlite_url), fallback_only=True) as app:
        assert app.engine.handle(Incoming(1, 1, press="agency:99999999999999999999")).replies
