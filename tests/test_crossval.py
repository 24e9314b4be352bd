"""Cross-validation (bot/nlu/crossval.py): folds that never test on a rewording of what they trained on, and figures
of the NLU the bot runs (Rasa and the local classifier combined), recomputable from the kept parses."""
from bot.nlu.crossval import Parsed, figures, folds_of, load_parses, save_parses
from bot.nlu.understanding import Understanding

USABLE = frozenset({"faq/syarat", "faq/biaya", "emergency", "greet"})


def test_paraphrases_of_one_question_share_a_fold_and_different_questions_spread():
    examples = [("faq/syarat", "syarat jadi PMI apa saja"), ("faq/syarat", "syarat jadi pmi apa saja ya kak"),
                ("faq/syarat", "umur minimal kerja ke luar negeri"), ("faq/syarat", "dokumen apa yang harus disiapkan"),
                ("faq/syarat", "perlu ijazah apa untuk daftar"), ("faq/syarat", "boleh daftar kalau sudah menikah")]
    fold = folds_of(examples, 3)
    assert fold[0] == fold[1]
    assert set(fold) == {0, 1, 2}
    # A short message is not a rewording of every longer one that contains it.
    thanks = [("thanks", text) for text in ("terima kasih", "terima kasih atas informasinya", "terima kasih kaka",
                                            "terima kasih, sangat membantu", "wah terima kasih banyak ya admin")]
    assert len(set(folds_of(thanks, 3))) > 1


def rasa(*ranked: tuple[str, float]) -> Understanding:
    return Understanding(ranked[0][0], ranked[0][1], ranked)


def test_figures_measure_both_models_combined_as_the_bot_combines_them(tmp_path):
    parsed = [
        # Rasa is sure and wrong, the local classifier right: the bot (0.85 local) answers right.
        Parsed("brp biaya ke malaysia", "faq/biaya", rasa(("faq/syarat", 0.9), ("faq/biaya", 0.1)),
               {"faq/biaya": 0.7, "faq/syarat": 0.2, "greet": 0.1}),
        # Both wrong: acted on a wrong meaning.
        Parsed("halo", "greet", rasa(("faq/syarat", 0.8), ("greet", 0.2)),
               {"faq/syarat": 0.8, "greet": 0.2}),
        # Neither sure: a question, neither right nor wrong.
        Parsed("hmm", "faq/syarat", rasa(("faq/syarat", 0.3), ("faq/biaya", 0.3)),
               {"faq/syarat": 0.35, "faq/biaya": 0.33, "greet": 0.32}),
    ]
    path = tmp_path / "cv-parses.jsonl"
    save_parses(parsed, path)
    for parses in (parsed, load_parses(path)):
        result = figures(parses, USABLE, (0.6, 0.3, 0.15))
        assert result["exact label, rasa"] == 1 / 3
        assert result["exact label, local"] == 2 / 3
        assert result["exact label, combined"] == 2 / 3
        assert result["answered right"] == 1 / 3
        assert result["acted on a wrong meaning"] == 1 / 3
    # Rasa alone (local weight 0) would have acted on two wrong meanings.
    assert figures(parsed, USABLE, (0.6, 0.3, 0.15), local_weight=0.0)["acted on a wrong meaning"] == 2 / 3
