import pytest

from bot.nlu.normalise import MAX_NLU_CHARS, normalise


@pytest.mark.parametrize("raw, expected", [
    ("Syarat JD TKW ke Malaysia apa sj kk???", "syarat jadi pmi ke malaysia apa saja kak"),
    ("beta mau pi karja di malaysia, son ada paspor bisa ko?", "saya mau pergi kerja di malaysia tidak ada paspor bisa kah"),
    ("adik sy di bawa calo blm pulang2", "adik saya dibawa calo belum pulang pulang"),
    ("tolonggggg", "tolong"),
    ("😀😀👍", ""),
    ("!!! ???", ""),
    ("izin 1234/2020 TPPO-2026-7K3Q9", "izin 1234/2020 tppo-2026-7k3q9"),
    ("tlg sy msh di KL, klu mo pulang cm bs lwt agen?", "tolong saya masih di kuala lumpur kalau mau pulang cuma bisa lewat agen"),
    ("kk sy kerja di jb", "kak saya kerja di johor bahru"),  # a place after di/ke/dari
    # ... or ending a clause: "kalau" never ends one
    ("adik ditinggal agen di bandara kl, paspor dibawa agen", "adik ditinggal agen di bandara kuala lumpur paspor dibawa agen"),
    ("kl sy mau pulang gmn", "kalau saya mau pulang bagaimana"),
    # Kupang "sa": "saya" before what a person does or after a conjunction, else "saja"
    ("sa pung adik di Taiping, kalau sa salah dia kasih tangan", "saya punya adik di taiping kalau saya salah dia kasih tangan"),
    ("surat apa sa yg perlu? ikut dia sa", "surat apa saja yang perlu ikut dia saja"),
    ("dokumen apa sa di butuhkan", "dokumen apa saja di butuhkan"),  # never "saya" after a question word
    ("sa di bandara kl 😭 paspor", "saya di bandara kuala lumpur paspor"),
    ("sa dulu kerja di johor", "saya dulu kerja di johor"),  # starting the message
    ("yang sa lapor kemarin", "yang saya lapor kemarin"),
    ("anak sa su 2 tahun di sabah, majikan sa sonde kasi pulang", "anak saya sudah 2 tahun di sabah majikan saya tidak kasi pulang"),  # after a person
    ("info kerja kemalaysia, sa skrg dikupang", "info kerja ke malaysia saya sekarang di kupang"),  # joined places
    ("paspor di tahan, gaji tdk di bayar di kebun", "paspor ditahan gaji tidak dibayar di kebun"),  # a passive typed apart
    ("tiket kapal ke nunukan di jual di mana", "tiket kapal ke nunukan di jual di mana"),  # no person sold
    ("katong di kampung su tau", "kita di kampung sudah tau"),  # Kupang "we"
    ("my son is beaten by the boss", "my son is beaten by the boss"),  # English "son" after "my", "the"...
    ("dia son mau pulang", "dia tidak mau pulang"),  # ... Kupang "son" (not) elsewhere
    ("paspor sa d tahan agen d batam", "paspor saya ditahan agen di batam"),  # SMS "d" is "di"
    ("I'd like to report", "i d like to report"),  # ... not after an English subject
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_long_messages_keep_only_their_start():
    text = "syarat " + "x" * 10_000
    assert len(normalise(text)) <= MAX_NLU_CHARS
    assert normalise(text).startswith("syarat ")
