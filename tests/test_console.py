"""The console channel: interactive chat, the JSON-lines chat, and `ask`."""
import io
import json
import os
import subprocess
import sys

from bot.channels import console
from bot.settings import PROJECT_ROOT
from tests.conftest import RASA_TEST_TOKEN
from tests.helpers import vague_message


def run_jsonl(function, app, lines: list[dict]) -> list[dict]:
    out = io.StringIO()
    function(app.engine, io.StringIO("".join(json.dumps(line) + "\n" for line in lines)), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_chat_jsonl_presses_buttons_by_label_or_number(fallback_app):
    turns = run_jsonl(console.chat_jsonl, fallback_app, [
        {"text": "/start"},
        {"press": "Tanya prosedur"},
        {"press": "1"},
        {"press": "1"},
        {"press": "99"},
    ])
    assert turns[0]["replies"][0]["buttons"] == ["❓ Tanya prosedur", "🏢 Cek perusahaan", "🔎 Cek tawaran kerja",
                                                 "🚨 Lapor TPPO", "☎️ Kontak darurat"]
    assert "Pilih topik" in turns[2]["replies"][-1]["text"]  # button 1: the first group of topics
    assert "Dasar hukum" in turns[3]["replies"][-1]["text"]  # button 1 of the group: its first topic
    assert "tidak berlaku" in turns[4]["replies"][0]["text"]
    assert "<b>" not in json.dumps(turns)  # plain text, no HTML tags


def test_chat_jsonl_reports_a_malformed_line_and_goes_on(fallback_app):
    out = io.StringIO()
    console.chat_jsonl(fallback_app.engine, io.StringIO('not json\n{"text": "halo"}\n'), out)
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert "error" in first and second["replies"]


def test_ask_jsonl_answers_each_line_as_a_fresh_conversation(fallback_app):
    word, _turn = vague_message(fallback_app)
    answers = run_jsonl(console.ask_jsonl, fallback_app, [
        {"id": "a", "text": word},  # leaves a clarification pending ...
        {"id": "b", "text": "1"},  # ... which a fresh conversation must not see
    ])
    assert [a["id"] for a in answers] == ["a", "b"]
    assert "kurang yakin" in answers[0]["replies"][0]["text"]
    assert "Dasar hukum" not in answers[1]["replies"][-1]["text"]
    assert set(answers[0]) == {"id", "intent", "confidence", "meaning", "replies"}
    assert answers[0]["meaning"] == "clarify"


def test_interactive_chat_numbers_buttons(fallback_app):
    out = io.StringIO()
    console.chat_interactive(fallback_app.engine, io.StringIO("5\n"), out)
    text = out.getvalue()
    assert "[5] ☎️ Kontak darurat" in text and "0800-1000" in text


def test_run_without_a_token_opens_the_console_chat(rasa_server, tmp_path):
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "", "RASA_URL": rasa_server.url, "RASA_AUTH_TOKEN": RASA_TEST_TOKEN,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", "BOT_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env, timeout=120,
                            input="syarat jadi PMI apa aja?\n", capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "selamat datang" in result.stdout.lower() and "minimal 18 tahun" in result.stdout
