"""NLU quality gate on the held-out set (the real Rasa model), bad input, and the training-data checks."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content import Content
from bot.dialogue.evaluation import default_sets, is_blind, is_right, load_set
from bot.nlu.training_data import evaluation_leaks, training_problems
from bot.settings import PROJECT_ROOT
from tests.conftest import RASA_TEST_TOKEN
from tests.helpers import say, text_of


def test_no_regression_on_the_heldout_file_and_every_figure_is_reported(rasa_server, tmp_path):
    env = {**os.environ, "RASA_URL": rasa_server.url, "RASA_AUTH_TOKEN": RASA_TEST_TOKEN, "BOT_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    result = subprocess.run([sys.executable, "-m", "bot", "nlu", "eval", "--check"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    print(result.stdout)  # the numbers show in the CI log
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intent accuracy" in result.stdout
    for path in default_sets():  # every set
        assert f"{path.name}: right first reply" in result.stdout
    first_reply = (tmp_path / "nlu-eval" / "first_reply.md").read_text()
    blind_sets = [path.name for path in default_sets() if is_blind(path)]
    assert "blind9.yml" in blind_sets
    for name in blind_sets:
        blind = first_reply[first_reply.index(f"## {name}"):]
        assert "| text | expected |" not in blind.split("\n## ")[0]  # a blind set's mistakes are never shown
    report = (tmp_path / "nlu-eval" / "report.md").read_text()
    assert "| intent accuracy |" in report and "## Most confused" in report
    assert (tmp_path / "nlu-eval" / "confusion.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("text", [
    "syarat " + "bla " * 1300,
    "😀😀😀😭🙏",
    "?!?!... ---",
    "我想去马来西亚工作",
    "أريد العمل في السعودية",
    "k",
    "How do I apply for a job abroad legally?",
])
def test_bad_input_never_gets_a_confident_wrong_faq_answer(rasa_app, text):
    turn = say(rasa_app, text)
    assert turn.replies
    if not text.startswith("syarat "):  # a long message keeps its start, which may be a real question
        assert "Dasar hukum" not in text_of(turn), (turn.intent, turn.confidence)


@pytest.mark.parametrize("text", ["cek pt", "cek PT dong", "tolong cek pt", "cek cv"])
def test_a_company_check_naming_only_a_legal_form_asks_for_the_name(rasa_app, text):
    turn = say(rasa_app, text)  # NLU may take "pt" for the name: a legal form alone is no name, never "too short"
    assert turn.meaning == "check_agency" and "terlalu pendek" not in text_of(turn), turn.meaning


def test_a_question_in_malay_gets_the_malaysia_answer_or_none(rasa_app):
    turn = say(rasa_app, "saya nak kerja kat kilang di johor bahru, macam mana nak mohon")
    assert turn.replies
    assert turn.meaning == "faq/malaysia" or "Dasar hukum" not in text_of(turn), (turn.meaning, turn.confidence)


def test_a_text_under_two_intents_blocks_training_and_an_evaluation_text_in_training_is_found(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    path = content / "faq" / "syarat.yml"
    path.write_text(path.read_text().replace("  - syarat jadi pmi apa aja\n", "  - syarat jadi pmi apa aja\n  - halo\n"))
    problems = training_problems(Content(content), PROJECT_ROOT / "nlu_data")
    assert any("'halo' is under both greet and faq/syarat" in p for p in problems)
    leaks = evaluation_leaks(Content(content), PROJECT_ROOT / "nlu_data", ["Syarat jd PMI apa aja", "kapal ke bulan"])
    assert leaks == ["the evaluation message 'Syarat jd PMI apa aja' is also a training example (faq/syarat)"]


@pytest.mark.parametrize(("name", "size"), [("heldout.yml", 150), ("dev.yml", 150), ("blind.yml", 150),
                                            ("blind_emergency.yml", 80), ("dev_emergency.yml", 100),
                                            ("blind_emergency2.yml", 160), ("dev_emergency2.yml", 150),
                                            ("blind_emergency3.yml", 120)])
def test_the_shipped_training_data_is_fit_and_learnt_nothing_from_an_evaluation_set(name, size):
    content = Content(PROJECT_ROOT / "content")
    assert training_problems(content, PROJECT_ROOT / "nlu_data") == []
    texts = [text for text, _label in load_set(PROJECT_ROOT / "tests" / "nlu" / name)]
    assert len(texts) >= size
    # Independent writers coincide on short everyday phrases ("halo", "menu"); a longer message found in the
    # training data was copied from the evaluation set.
    longer = [text for text in texts if len(text.split()) > 5]
    assert evaluation_leaks(content, PROJECT_ROOT / "nlu_data", longer) == []
    if name == "heldout.yml":
        assert evaluation_leaks(content, PROJECT_ROOT / "nlu_data", texts) == []


def test_country_questions_show_the_country(rasa_app):
    turn = say(rasa_app, "info negara kamboja")  # the country named alone: its card before NLU (session 16)
    assert turn.meaning == "country:kh" and "BUKAN negara tujuan" in text_of(turn)


def test_a_country_question_answered_by_that_countrys_topic_counts_as_right():
    topics = {"kr": frozenset({"faq/korea_jepang"}), "jp": frozenset()}
    no_agency = lambda name: None  # noqa: E731
    assert is_right("country:kr", "faq/korea_jepang", no_agency, topics)  # "korea selatan" -> the Korea topic
    assert is_right("country:jp", "country:jp", no_agency, topics)
    assert not is_right("country:jp", "faq/korea_jepang", no_agency, topics)  # a topic not about jp here
    assert not is_right("country:kr", "faq/malaysia", no_agency, topics)


def test_the_contacts_followed_by_a_report_begun_are_right_for_an_emergency_and_for_a_report_only():
    topics: dict[str, frozenset[str]] = {}
    no_agency = lambda name: None  # noqa: E731
    assert is_right("emergency", "emergency_report", no_agency, topics)
    assert is_right("report", "emergency_report", no_agency, topics)
    assert not is_right("faq/tppo", "emergency_report", no_agency, topics)
    assert not is_right("out_of_scope", "emergency_report", no_agency, topics)
    assert is_right("emergency", "emergency+faq/paspor_ditahan", no_agency, topics)
    assert is_right("faq/paspor_ditahan", "emergency+faq/paspor_ditahan", no_agency, topics)
    assert not is_right("faq/paspor", "emergency+faq/paspor_ditahan", no_agency, topics)


def test_a_set_is_blind_by_its_name_wherever_it_lies():
    # A blind set's mistakes are never printed (`nlu eval`): a new one must not need registering anywhere.
    assert is_blind(PROJECT_ROOT / "tests" / "nlu" / "blind9.yml") and is_blind(Path("/tmp/blind10.yml"))
    assert not is_blind(PROJECT_ROOT / "tests" / "nlu" / "dev.yml") and not is_blind(Path("heldout.yml"))
