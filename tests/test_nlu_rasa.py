"""The NLU client against the real Rasa server, the fallback when it is down, and managed mode."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from bot.app import build_app
from bot.nlu.normalise import normalise
from bot.nlu.rasa_client import RasaClient, understanding_from_rasa
from bot.nlu.sentence_vectors import DIMENSIONS, sentence_vectors
from bot.nlu.understanding import NluUnavailable
from bot.settings import PROJECT_ROOT
from tests.conftest import RASA_TEST_TOKEN, free_port, settings_for
from tests.helpers import say, text_of


@pytest.mark.parametrize("text, label", [
    ("syarat jd tkw ke malaysia apa sj kk", "faq/syarat"),
    ("berkas apa aja yg hrs disiapin buat daftar", "faq/dokumen"),
    ("halo kak", "greet"),
    ("makasih banyak kak", "thanks"),
])
def test_rasa_understands_informal_indonesian(rasa_server, text, label):
    client = RasaClient(rasa_server.url, RASA_TEST_TOKEN, timeout=5)
    understanding = client.parse(normalise(text))
    assert understanding.intent == label and understanding.source == "rasa"
    assert understanding.confidence >= 0.6


def test_rasa_sends_the_sentence_vector_the_local_classifier_was_trained_with(rasa_server):
    """The vector comes from the Rasa process (Python 3.10, its own NumPy); `bot train` computed the training
    examples' vectors in the bot's: the two must agree, or the local classifier would read noise."""
    query = normalise("how much does it cost to work in malaysia")
    sent = RasaClient(rasa_server.url, RASA_TEST_TOKEN, timeout=5).parse(query).meaning
    assert len(sent) == DIMENSIONS
    assert float(np.dot(sentence_vectors([query])[0], sent)) > 0.999


@pytest.mark.parametrize("vector", [None, "x", [0.1] * 10, [0.1] * (DIMENSIONS - 1) + ["a"],
                                    [0.1] * (DIMENSIONS - 1) + [float("nan")], {"a": 1}, [1e39] * DIMENSIONS,
                                    [50.0] * DIMENSIONS, [True] * DIMENSIONS, ["0.04"] * DIMENSIONS])
def test_a_missing_or_malformed_sentence_vector_is_left_out(vector):
    payload = {"intent": {"name": "greet", "confidence": 0.9},
               "intent_ranking": [{"name": "greet", "confidence": 0.9}], "sentence_vector": vector}
    understanding = understanding_from_rasa(payload)
    assert understanding.intent == "greet" and understanding.meaning == ()


def test_a_wrong_token_is_an_unavailable_server_not_a_crash(rasa_server):
    with pytest.raises(NluUnavailable):
        RasaClient(rasa_server.url, "wrong-token", timeout=5).parse("halo")


def test_the_app_answers_a_faq_through_rasa(rasa_app):
    # no country named: with one, the topic about that country may be the answer (a close call between models)
    turn = say(rasa_app, "beta mau pi karja di luar negeri, syarat apa sa?")
    assert turn.intent == "faq/syarat"
    text = text_of(turn)
    assert "minimal 18 tahun" in text and "sedang terbatas" not in text


def test_when_rasa_is_down_the_fallback_still_answers_and_says_it_is_unsure(sqlite_url):
    dead = f"http://127.0.0.1:{free_port()}"
    with build_app(settings_for(database_url=sqlite_url, rasa_url=dead, rasa_timeout="0.5")) as app:
        turn = say(app, "syarat jadi PMI apa aja?")
    text = text_of(turn)
    assert "sedang terbatas" in text and "minimal 18 tahun" in text


def test_managed_mode_starts_rasa_for_ask_and_stops_it_on_exit(tmp_path, nlu_model):
    var_dir = tmp_path / "var"
    (var_dir / "models").mkdir(parents=True)
    (var_dir / "models" / nlu_model.name).symlink_to(nlu_model)
    port = free_port()
    env = {**os.environ, "BOT_VAR_DIR": str(var_dir), "RASA_PORT": str(port), "RASA_URL": "",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    lines = [{"id": 1, "text": "syarat jd tkw apa sj"}, {"id": "b", "text": "😀"}]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--jsonl"], cwd=PROJECT_ROOT, env=env, timeout=300,
        input="".join(json.dumps(line) + "\n" for line in lines), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["id"] for a in answers] == [1, "b"]
    assert answers[0]["intent"] == "faq/syarat"
    assert "sedang terbatas" not in answers[0]["replies"][0]["text"]  # understood by Rasa, not the fallback
    assert "minimal 18 tahun" in answers[0]["replies"][0]["text"]
    assert answers[1]["intent"] is None and "kata-kata" in answers[1]["replies"][0]["text"]
    assert not RasaClient(f"http://127.0.0.1:{port}", "", timeout=1).is_ready()  # stopped on exit


def test_a_managed_server_that_dies_is_restarted(rasa_server):
    process = rasa_server._process
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert rasa_server.wait_ready(240)
    assert rasa_server._process is not process
