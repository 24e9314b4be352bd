import pytest

from bot.nlu.normalise import MAX_NLU_CHARS, normalise


@pytest.mark.parametrize("raw, expected", [
    ("Syarat JD TKW ke Malaysia apa sj kk???", "syarat jadi pmi ke malaysia apa saja kak"),
    ("beta mau pi karja di malaysia, son ada paspor bisa ko?", "saya mau pergi kerja di malaysia tidak ada paspor bisa kah"),
    ("adik sy di bawa calo blm pulang2", "adik saya di bawa calo belum pulang pulang"),
    ("tolonggggg", "tolong"),
    ("😀😀👍", ""),
    ("!!! ???", ""),
    ("izin 1234/2020 TPPO-2026-7K3Q9", "izin 1234/2020 tppo-2026-7k3q9"),
    ("tlg sy msh di KL, klu mo pulang cm bs lwt agen?", "tolong saya masih di kuala lumpur kalau mau pulang cuma bisa lewat agen"),
    ("kk sy kerja di jb", "kak saya kerja di johor bahru"),  # a place only after di/ke/dari
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_long_messages_keep_only_their_start():
    text = "syarat " + "x" * 10_000
    assert len(normalise(text)) <= MAX_NLU_CHARS
    assert normalise(text).startswith("syarat ")
