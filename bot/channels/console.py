"""Console channel: `python -m bot chat` (interactive or --jsonl) and `python -m bot ask`."""
from __future__ import annotations

import json
import re
import sys
from typing import TextIO

from bot.app import App
from bot.dialogue.engine import Engine
from bot.dialogue.messages import Button, Incoming, Reply, Turn
from bot.textformat import clean_input, html_to_text

CONSOLE_CHAT_ID = 0
CONSOLE_USER_ID = 0
_NOT_WORD = re.compile(r"[^\w]+")


def reply_as_dict(reply: Reply) -> dict[str, object]:
    return {"text": html_to_text(reply.text), "buttons": [button.label for button in reply.buttons],
            "keyboard": list(reply.keyboard)}


def _simplified(label: str) -> str:
    return _NOT_WORD.sub(" ", label).strip().lower()


class ConsoleConversation:
    """One console conversation; remembers the last buttons so they can be pressed by number or label."""

    def __init__(self, engine: Engine, chat_id: int = CONSOLE_CHAT_ID):
        self._engine = engine
        self._chat_id = chat_id
        self._buttons: tuple[Button, ...] = ()

    @property
    def button_count(self) -> int:
        return len(self._buttons)

    def say(self, text: str) -> Turn:
        # The channel boundary: what Telegram's channel cleans, the console cleans too.
        incoming = Incoming(self._chat_id, CONSOLE_USER_ID, text=clean_input(text))
        return self._remember(self._engine.handle(incoming))

    def press(self, choice: str) -> Turn:
        """Press a button of the last reply by its number (1-based) or its label."""
        data = self._button_data(clean_input(str(choice)) or "")
        return self._remember(self._engine.handle(Incoming(self._chat_id, CONSOLE_USER_ID, press=data)))

    def _button_data(self, choice: str) -> str:
        if choice.strip().isdigit():
            index = int(choice) - 1
            return self._buttons[index].data if 0 <= index < len(self._buttons) else ""
        wanted = _simplified(choice)
        return next((b.data for b in self._buttons if _simplified(b.label) == wanted), "")

    def _remember(self, turn: Turn) -> Turn:
        buttons = tuple(b for reply in turn.replies for b in reply.buttons)
        self._buttons = buttons
        return turn


def chat_interactive(engine: Engine, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """A chat in the terminal: buttons are numbered; type a number to press one."""
    conversation = ConsoleConversation(engine)
    print("Obrolan konsol. Ketik pesan; angka untuk menekan tombol; Ctrl-D untuk keluar.", file=stdout)
    _print_turn(conversation.say("/start"), stdout)
    while True:
        print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            print(file=stdout)
            return
        line = line.rstrip("\n")
        if line.strip().isdigit() and 1 <= int(line.strip()) <= conversation.button_count:
            turn = conversation.press(line.strip())
        else:
            turn = conversation.say(line)
        _print_turn(turn, stdout)


def _print_turn(turn: Turn, stdout: TextIO) -> None:
    number = 0
    for reply in turn.replies:
        print(file=stdout)
        print(html_to_text(reply.text), file=stdout)
        for button in reply.buttons:
            number += 1
            print(f"  [{number}] {button.label}", file=stdout)
        for key in reply.keyboard:  # answer keys: typed as they are
            print(f"  > {key}", file=stdout)
    print(file=stdout, flush=True)


def chat_jsonl(engine: Engine, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """One conversation: each input line {"text": ...} or {"press": ...}; each output line {"replies": [...]}."""
    conversation = ConsoleConversation(engine)
    for line in stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
            if "press" in message:
                turn = conversation.press(str(message["press"]))
            else:
                turn = conversation.say(str(message.get("text", "")))
        except (json.JSONDecodeError, AttributeError):
            _write(stdout, {"error": 'each line must be a JSON object: {"text": "..."} or {"press": "..."}'})
            continue
        _write(stdout, {"replies": [reply_as_dict(r) for r in turn.replies]})


def ask_once(engine: Engine, text: str, stdout: TextIO = sys.stdout) -> None:
    turn = _fresh_turn(engine, text)
    for reply in turn.replies:
        print(html_to_text(reply.text), file=stdout)
        for button in reply.buttons:
            print(f"  [{button.label}]", file=stdout)
        print(file=stdout)


def ask_jsonl(engine: Engine, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Each input line {"id": ..., "text": ...} is a fresh conversation of one message."""
    for line in stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
            message_id, text = message.get("id"), str(message.get("text", ""))
        except (json.JSONDecodeError, AttributeError):
            _write(stdout, {"error": 'each line must be a JSON object: {"id": ..., "text": "..."}'})
            continue
        turn = _fresh_turn(engine, text)
        _write(stdout, {
            "id": message_id,
            "intent": turn.intent,
            "confidence": turn.confidence,
            "meaning": turn.meaning,
            "replies": [reply_as_dict(r) for r in turn.replies],
        })


def _fresh_turn(engine: Engine, text: str) -> Turn:
    engine.forget(CONSOLE_CHAT_ID)
    return engine.handle(Incoming(CONSOLE_CHAT_ID, CONSOLE_USER_ID, text=text))


def _write(stdout: TextIO, payload: dict[str, object]) -> None:
    stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    stdout.flush()


def demo_note(app: App) -> str:
    """What the console says about reports before the chat starts: honestly, that it is a local demo."""
    settings = app.settings
    if app.reports is None:
        return ("Reports are off: no REPORT_ENCRYPTION_KEYS (`python -m bot reports init-key` writes one). The menu "
                "says reporting is not active here and gives the hotlines.")
    if settings.taskforce_chat_id is None:
        where = ("No TASKFORCE_CHAT_ID is set: no group receives them yet. Once it is set and the bot serves "
                 "Telegram, the queued reports are delivered to that group.")
    else:
        where = (f"They go to the task-force group {settings.taskforce_chat_id} once the bot serves Telegram "
                 "(TELEGRAM_BOT_TOKEN).")
    return ("LOCAL DEMO: reports filed here are real entries in the local database (encrypted) and queued for the "
            f"task force. {where} Act on them as staff with `python -m bot reports list` and "
            "`python -m bot reports set-status CODE diterima|diproses|selesai|bukan_tppo`; `/status CODE` here "
            "then shows the new status.")
