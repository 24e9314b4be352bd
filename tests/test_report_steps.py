"""The report conversation's step table, checked through the engine: a broken row shows up as a broken conversation.

Engine-level with the local classifier and a real SQLite database, like tests/test_reports.py.
"""
from __future__ import annotations

import pytest

from bot.app import build_app
from bot.dialogue.report import Step, step_table
from bot.reports import codes
from bot.reports.crypto import new_key
from bot.reports.draft import DraftText, Evidence, ReportDraft
from db.enums import ContactMode, LocationKind
from tests.conftest import settings_for
from tests.helpers import CHAT, buttons_of, press, say, text_of

STORY = "Adik saya dibawa calo ke Kalimantan, tidak bisa dihubungi"
ANONYMOUS = "🙈 Anonim, jangan hubungi saya"
SUMMARY = "Periksa laporan"
OFFER = ("DIBUTUHKAN SEGERA!!! Lowongan kerja ladang sawit di Malaysia, gaji 8jt/bln tanpa pengalaman. Syarat: usia "
         "17-40 thn, cukup KTP, paspor menyusul. Berangkat minggu depan lewat Nunukan. Biaya pendaftaran 2jt "
         "transfer ke rek BRI a.n. Yohanes. Kuota terbatas!! Hubungi WA 0812xxxx")
# How a reporter reaches each sub-step from the step it details.
SUB_STEP_PRESS = {Step.WHERE_NTT: "report:where_ntt", Step.WHERE_COUNTRY: "report:where_abroad",
                  Step.WHERE_PLACE: "report:where_indonesia"}


@pytest.fixture
def app(sqlite_url):
    settings = settings_for(database_url=sqlite_url, report_encryption_key=new_key(), taskforce_chat_id="-1009",
                            reports_per_day="100")
    with build_app(settings, fallback_only=True) as app:
        yield app


def put_state(app, saved) -> None:
    """Put the chat back into a state read earlier (as a turn does: one transaction)."""
    with app.chat_states.turn(saved.chat_id) as state:
        state.flow, state.step, state.data = saved.flow, saved.step, saved.data


def step_of(app, chat: int = CHAT) -> str | None:
    return app.chat_states.load(chat).step


def following(step: Step) -> Step:
    """The step an answer (or a skip) at `step` leads to, by the table."""
    spec = step_table()[step]
    after = step_table()[spec.part_of].next if spec.part_of else spec.next
    return after or Step.CONFIRM


def reach(app, step: Step, chat: int = CHAT) -> None:
    """Open a report and go to `step` the way a reporter would (skipping what can be skipped)."""
    say(app, "/lapor", chat)
    target = step_table()[step].part_of or step
    if target is not Step.DANGER:
        press(app, "report:danger_no", chat)
    if target not in (Step.DANGER, Step.WHAT):
        say(app, STORY, chat)
    while step_of(app, chat) != target:
        current = Step(step_of(app, chat))
        if current is Step.EVIDENCE:
            press(app, "report:evidence_done", chat)
        elif current is Step.CONTACT:
            say(app, ANONYMOUS, chat)
        else:
            press(app, "report:skip", chat)
    if step in SUB_STEP_PRESS:
        press(app, SUB_STEP_PRESS[step], chat)
    assert step_of(app, chat) == step


def answer_quickly(app, step: Step) -> str:
    """Answer the current step the shortest way; returns what the reporter then reads."""
    if step is Step.WHAT:
        return text_of(say(app, "Ternyata dibawa ke Malaysia"))
    if step is Step.CONTACT:
        return text_of(say(app, ANONYMOUS))
    if step is Step.EVIDENCE:
        return text_of(press(app, "report:evidence_done"))
    return text_of(press(app, "report:skip"))


def test_the_table_has_a_row_for_every_step_and_every_step_can_be_reached():
    table = step_table()
    assert set(table) == set(Step)
    chain, step = [], Step.DANGER
    while step is not Step.CONFIRM:
        chain.append(step)
        step = following(step)
    main = [step for step, spec in table.items() if spec.part_of is None and step is not Step.CONFIRM]
    assert chain == main  # the answers lead through every main step, in the table's order, to the summary
    assert all(table[spec.part_of].part_of is None for spec in table.values() if spec.part_of)


def test_every_editable_step_is_in_the_edit_menu_and_returns_to_the_summary(app):
    editable = [step for step, spec in step_table().items() if spec.edit_label]
    reach(app, Step.CONFIRM)
    menu = [data for _label, data in buttons_of(press(app, "report:edit"))]
    assert menu == [f"report:edit_{step}" for step in editable] + ["report:resume"]
    for step in editable:
        asked = text_of(press(app, f"report:edit_{step}"))
        assert step_of(app) == step and SUMMARY not in asked
        assert SUMMARY in answer_quickly(app, step) and step_of(app) == Step.CONFIRM
    assert SUMMARY in text_of(press(app, "report:resume"))


@pytest.mark.parametrize("step", [step for step, spec in step_table().items() if spec.skippable])
def test_skipping_a_skippable_step_moves_to_the_next(app, step):
    reach(app, step)
    press(app, "report:skip")
    assert step_of(app) == following(step)


@pytest.mark.parametrize("step", [step for step, spec in step_table().items() if not spec.skippable])
def test_a_step_that_must_be_answered_cannot_be_skipped(app, step):
    reach(app, step)
    assert "Tombol itu sudah tidak berlaku" in text_of(press(app, "report:skip"))
    assert step_of(app) == step


BUTTON_STEPS = [step for step, spec in step_table().items() if spec.choices and not spec.free_text]


@pytest.mark.parametrize("step", BUTTON_STEPS)
def test_typing_a_button_label_works_like_pressing_it(app, step):
    reach(app, step)
    saved = app.chat_states.load(CHAT)
    buttons = buttons_of(press(app, "report:resume"))
    assert len(buttons) >= 2
    for label, data in buttons:  # from the same state each time: the press, then the label typed
        put_state(app, saved)
        pressed = press(app, data)
        after_press = step_of(app)
        put_state(app, saved)
        typed = say(app, label)
        assert step_of(app) == after_press, label
        assert text_of(typed) == text_of(pressed), label


@pytest.mark.parametrize("step", list(Step))
def test_typed_cancel_words_ask_before_cancelling_at_every_step(app, step):
    reach(app, step)
    assert "report:cancel_yes" in [data for _label, data in buttons_of(say(app, "batal"))]
    assert step_of(app) == step


@pytest.mark.parametrize("step", [step for step, spec in step_table().items()
                                  if spec.skippable and not spec.free_text])
def test_typed_skip_words_work_at_every_skippable_button_step(app, step):
    reach(app, step)
    say(app, "lewati")
    assert step_of(app) == following(step)


def test_a_draft_saved_before_the_typed_draft_still_opens_and_is_sent(app):
    """The chat state of a reporter who was on the summary when the bot was updated: keys missing, lists for the
    evidence, plain strings for the choices."""
    say(app, "/lapor")
    state = app.chat_states.load(CHAT)
    secret = app.reports.cipher.seal({"what": STORY, "who": "PT Contoh", "phone": None})
    state.step = "confirm"
    state.data = {"report": {"key": "old-draft-key", "urgent": True, "secret": secret, "where": "ntt",
                             "place_code": "5302", "contact": "bot", "evidence": [["photo", "AgAC-old"]]}}
    put_state(app, state)
    summary = text_of(press(app, "report:resume"))
    assert SUMMARY in summary and STORY in summary and "PT Contoh" in summary and "Bukti: 1 berkas" in summary
    code = codes.find_code(text_of(press(app, "report:send")))
    report = app.reports.repository.by_code(code)
    assert (report.urgent, report.location_kind, report.location, report.contact_mode) == (True, "ntt", "5302", "bot")
    assert app.reports.details(report)["what"] == STORY and [e.kind for e in report.evidence] == ["photo"]


def test_the_draft_round_trips_through_the_chat_state():
    draft = ReportDraft(key="k", secret="gAAAA-sealed", urgent=True, category="calo", where=LocationKind.ABROAD,
                        place_code="my", agency_id=7, contact=ContactMode.PHONE,
                        evidence=[Evidence("voice", "AwAC"), Evidence("photo", "AgAC")],
                        story_voice=Evidence("voice", "AwAC"), story_by_voice=True, editing=True, reminded=True)
    assert ReportDraft.from_dict(draft.to_dict()) == draft
    assert ReportDraft.from_dict({"key": "k"}) == ReportDraft(key="k")
    assert DraftText.from_dict(DraftText(what="x", phone="0812").to_dict()) == DraftText(what="x", phone="0812")


def test_reporting_a_checked_offer_when_the_days_reports_are_used_up_says_so(sqlite_url):
    settings = settings_for(database_url=sqlite_url, report_encryption_key=new_key(), taskforce_chat_id="-1009",
                            reports_per_day="1")
    with build_app(settings, fallback_only=True) as app:
        reach(app, Step.CONFIRM)
        assert "TPPO-" in text_of(press(app, "report:send"))
        assert ("🚨 Laporkan tawaran ini", "offer:report") in buttons_of(say(app, OFFER))
        assert "Laporan baru bisa dikirim besok" in text_of(press(app, "offer:report"))
        assert step_of(app) is None
