"""Finding company names and licence numbers in free text ("izin PT Sinar Jaya masih aktif ga?").

A mention is the span after a company marker (PT, P.T., CV, perusahaan, agen, ...) up to the first word that is
not part of a name (resmi, izin, ga, di, ...). Markers like PT and CV make a mention on their own; softer markers
(perusahaan, agen) only count when the name has a capitalised or distinctive word, so "perusahaan penempatan itu apa"
is no company; yayasan and LPK, legal forms of their own, also before lower-case words when one of them is no common
name word nor a place ("yayasan pelita kasih", not "yayasan sosial" or "lpk mandiri kupang"). Without a marker, a
capitalised run of words with a company-name word in a question about a company is a mention too ("is Golden Star
Manpower legit?").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# "PT", "P.T", "PT.", "P T" — the strong markers: whatever follows is meant as a company's name.
_STRONG = r"p\s?\.?\s?t\b\.?|cv\b\.?"
_SOFT = r"perusahaan|agen(?:si|cy)?|penyalur|p3mi|pjtki|yayasan|lpk"
_MARKER = re.compile(rf"(?<![\w])(?:(?P<strong>{_STRONG})|(?P<soft>{_SOFT})\b)\s*", re.IGNORECASE)
_WORD = re.compile(r"[^\W_][\w&'.-]*", re.UNICODE)
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'-]*(?:\s+(?:&\s+)?[A-Z][\w'-]*)+")
# A capitalised name is a company asked about when a word like these comes just before it, or a question about
# being legal just after it ("is Golden Star Manpower legit?", "Bintang Timur Express aman kah?").
_NAME_BEFORE = frozenset({"lewat", "lwt", "via", "melalui", "namanya", "nama", "through", "is"})
_LEGAL = r"resmi|legal|ilegal|legit|aman|asli|tipu|terdaftar|izin|ijin|bodong|abal"
_ASKED_AFTER = re.compile(rf"\W*(?:\w+\W+){{0,2}}?({_LEGAL})", re.IGNORECASE)
# Words that say a message asks about a company.
COMPANY_CUES = re.compile(rf"\b(pt|cv|agen|agensi|agency|perusahaan|{_LEGAL}|daftar|lewat|lwt|sanksi|dicabut|aktif|"
                          r"rekrut)\b")
MAX_NAME_WORDS = 6
# Soft markers that are legal forms of their own: the words after them name that body even in lower case
# ("yayasan pelita kasih bisa kirim org ke luar negeri?"), when one of them is longer than this.
NAMED_FORMS = frozenset({"yayasan", "lpk"})
MIN_FORM_NAME = 4
MIN_NAME_LETTERS = 3


def _word_set(words: str) -> frozenset[str]:
    """The words of a whitespace-separated list (long word lists stay readable as text)."""
    return frozenset(words.split())


# Words that end a company name: questions about it, verbs, particles, places introduced by "di".
STOP_WORDS = _word_set("""
resmi legal ilegal izin ijin izinnya ijinnya terdaftar daftar aktif masih sudah sdh udah su apakah apa apa2 itu ini
ga gak gk nggak ngga enggak tidak tdk sonde son ko kah ka ya yah kan dong sih deh tu nih
yang yg di dan atau atw ato & dengan dgn dari ke untuk utk buat pada sama juga jg kalau kalo klo
punya pung benar bener betul tipu penipu palsu bohong aman asli boleh bisa bs ada adakah gimana bagaimana gmn
cek check tolong mohon minta mau kak kakak kk bang mas mbak min admin bot om mama bapa pak bu ibu
rekrut merekrut rekrutmen ajak ngajak mengajak bawa membawa kirim mengirim berangkat berangkatkan kerja bekerja
kena dicabut cabut skorsing sanksi disanksi status nomor no kantornya cabang cabangnya alamat alamatnya
saya sy aku beta kami kita dia mereka adik anak suami istri
mana siapa kapan berapa brp kenapa knp mengapa bagus baik aja saja sj gimana bgmn tuh lah toh pun nya
bilang katanya kata buka membuka usah ikut suruh janji janjikan tawarkan menawarkan tawar bayar minta rekrut
beneran bodong legit dipercaya percaya msh bs sm ni situ bae lewat via punya pake pakai sudah telah akan
duanya dua2nya keduanya semua semuanya ny kaka lwt lg mending sementara dihentikan dekat tempat milik sebelah
is the a an my your their legit real fake registered licensed ok okay
""")
# Words for a person before a name: "om Tulus Widodo" is a sponsor, not PT Tulus Widodo Putra.
PERSON_WORDS = _word_set("""
om pak bapak bapa ibu bu mama kak kakak kaka adik ade nona nama namanya sdr saudara mas mbak bang tante
opa oma tuan nyonya bos
""")
# Words that alone do not name a company ("perusahaan penempatan pekerja migran").
GENERIC_WORDS = _word_set("""
penempatan pekerja migran indonesia tki tkw pmi cpmi swasta pengerah perekrut penyalur jasa tenaga kerja luar negeri
asing calo sponsor resmi sawit kapal perikanan yg ini itu tersebut mana apa nya lain baru lama tertentu
sosial pelatihan pendidikan keterampilan kursus bahasa gereja katolik kristen islam masjid sekolah desa kampung
disnaker bp2mi kp2mi bp3mi ltsa kbri kjri kemnaker imigrasi pemerintah negara pengirim penempat pengiriman
malaysia sabah brunei singapura singapore hongkong taiwan korea jepang arab saudi dubai kamboja myanmar thailand
australia amerika eropa jerman inggris kanada polandia turki qatar kuwait oman bahrain yordania mesir cina china
tiongkok vietnam filipina
""")

# Words common in Indonesian company names: after a registered name they make a longer, different name ("Sinar Jaya
# Makmur" is not "Sinar Jaya"); alone they name no company ("jaya", "mandiri").
NAME_WORDS = _word_set("""
abadi agung alam amanah anugerah artha bahari bakti bangun berkah bersama bina bintang buana cahaya cipta citra
dharma duta global graha griya harapan indah indo inti jaya karya kencana kurnia lestari makmur mandiri
gemilang megah mitra mulia multi nusantara perdana perkasa permata persada prima putra putri raya sakti samudra sarana
sejahtera sentosa setia sinar sukses surya tama tunggal utama wijaya express group grup travel tour tours
internasional international manpower employment bersaudara sumber
""")

# Places people add after a name ("pt sinar jaya kupang"): dropped from the end of a query.
PLACE_WORDS = {
    "kupang", "ntt", "jakarta", "surabaya", "bekasi", "malaka", "atambua", "soe", "ende", "maumere", "kota", "kab",
    "kabupaten", "timur", "barat", "utara", "selatan", "pusat", "tangerang", "depok", "bogor", "bandung", "semarang",
    "malang", "medan", "batam", "denpasar", "bali", "jawa", "nusa", "tenggara", "belu", "alor", "sikka", "lembata",
    "rote", "sabu", "sumba", "flores", "manggarai", "ngada", "nagekeo", "tts", "ttu", "kefamenanu", "larantuka",
    "waingapu", "ruteng", "bajawa", "labuan", "bajo", "indonesia", "yogyakarta", "jogja", "solo", "makassar",
    "mataram", "lombok", "ntb", "nunukan", "tarakan", "pontianak", "karawang", "cikarang", "sidoarjo", "serang",
    "banten", "dki", "jabar", "jateng", "jatim", "tangsel", "cirebon",
    # as cities are abbreviated in chats
    "jkt", "jaktim", "jakbar", "jakut", "jaksel", "jakpus", "sby", "smg", "bks", "dpk", "kpg", "bdg", "mdn", "tng",
    "bgr", "dps", "mlg", "jogya", "yogya", "mks",
    # districts seen after names
    "pondok", "gede", "cengkareng", "cibubur",
}
# Words for a person's role: no company's name starts with one ("ngaku orang PT. Sponsor lapangan bilang ...",
# "kartu nama PT. sponsor": the sentence goes on after "PT.").
ROLE_WORDS = _word_set("""
sponsor calo perekrut orang staf staff karyawan pegawai petugas bos boss pemilik direktur
""")
# Words that start names of places and institutions, not of companies ("Bank Mandiri", "Pulau Sentosa").
NOT_COMPANY_START = _word_set("""
bank pulau kota bandara gunung jalan jl universitas rs rumah hotel pantai desa kampung kecamatan kabupaten kab
provinsi gereja masjid sekolah toko pasar terminal pelabuhan kbri kjri polres polda km kapal hari pas bahasa
""")

@dataclass(frozen=True)
class Mention:
    """A name as typed after a marker; `strong` when the marker was PT/CV (not "perusahaan", "agen")."""

    text: str
    strong: bool


def company_mentions(text: str, unmarked: bool = True) -> list[Mention]:
    """Company names in the text, in order, without duplicates: after markers, then (`unmarked`) capitalised names."""
    found = _after_markers(text)
    marked = {word.lower() for mention in found for word in mention.text.split()}
    for name in _capitalised_names(text) if unmarked else []:
        if marked.isdisjoint(word.lower() for word in name.split()):
            found.append(Mention(name, strong=False))
    return found


def _capitalised_names(text: str) -> list[str]:
    """Names written with capitals and a company-name word in a question about a company, without a marker:
    "is Golden Star Manpower legit?", "Bintang Timur Express aman kah?" (mixed-case text only)."""
    if text.islower() or text.isupper() or not COMPANY_CUES.search(text.lower()):
        return []
    names = []
    for match in _CAPITALISED_RUN.finditer(text):
        before, after = text[:match.start()].lower().split()[-1:], text[match.end():].lower()
        if not (set(before) & _NAME_BEFORE or _ASKED_AFTER.match(after)):
            continue  # "kapal tuna di Samudra Hindia. bagaimana ...": a place, not a company asked about
        words = match.group(0).replace("&", " ").split()
        lower = [w.lower().strip(".") for w in words]
        if not 2 <= len(words) <= MAX_NAME_WORDS or NAME_WORDS.isdisjoint(lower) or lower[0] in NOT_COMPANY_START:
            continue
        if not all(w in GENERIC_WORDS or w in PLACE_WORDS for w in lower) and _MARKER.match(words[0]) is None:
            names.append(" ".join(words))
    return names


def _after_markers(text: str) -> list[Mention]:
    found: list[Mention] = []
    for match in _MARKER.finditer(text):
        name = _name_after(text, match.end())
        if not name:
            continue
        strong = match.group("strong") is not None
        words = name.split()
        if words[0].lower() in ROLE_WORDS:
            continue
        distinctive = [w for w in words if w.lower() not in GENERIC_WORDS]
        if not distinctive or sum(ch.isalpha() for ch in "".join(distinctive)) < MIN_NAME_LETTERS:
            continue
        capitalised = [w for w in distinctive if w[:1].isupper()]
        # After yayasan/LPK a lower-case name counts when a word of it is no common name word nor a place.
        named_form = not strong and match.group("soft").lower() in NAMED_FORMS and any(
            len(w) > MIN_FORM_NAME and w.lower() not in NAME_WORDS | PLACE_WORDS for w in distinctive)
        if not strong and not capitalised and not named_form:
            continue  # "agen bilang ...", "perusahaan penempatan": no name; "yayasan pelita kasih" is one
        acronym = strong and distinctive[0].isupper() and distinctive[0].isalpha()  # "PT TWP"
        if len(distinctive) == 1 and not (capitalised and len(distinctive[0]) >= 4 or acronym or named_form):
            continue  # "PT pengirim", "pt bilang": one plain word after PT is rarely a company's name ("lpk sakura" is)
        if all(name.lower() != m.text.lower() for m in found):
            found.append(Mention(name, strong))
    return found


def _name_after(text: str, start: int) -> str:
    words: list[str] = []
    position = start
    while len(words) < MAX_NAME_WORDS:
        match = _WORD.match(text, position)
        if match is None:
            break
        word = match.group(0).rstrip(".")
        if word.lower() in STOP_WORDS or _MARKER.fullmatch(match.group(0)):
            break
        words.append(word)
        position = match.end()
        if match.group(0).endswith(".") and len(word) >= 3:
            break  # the end of a sentence: "... lewat PT Elsafa Adiwiguna Mandiri. Can you check"
        gap = re.match(r"[ \t]*", text[position:])
        position += gap.end() if gap else 0
        if position < len(text) and text[position] in ",;:?!()\n\"'":
            break
    return " ".join(words)
