"""Normal forms of company names and licence numbers, so that what people type can be compared."""
from __future__ import annotations

import re
import unicodedata

# Words that are not part of a company's distinctive name.
LEGAL_FORMS = {"pt", "p", "t", "tbk", "persero", "cv"}
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})  # phones type "Ma’arif"


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text.translate(_APOSTROPHES)).encode("ascii", "ignore").decode().lower()


def normalise_name(name: str) -> str:
    """'PT. Sinar  Jaya-Abadi, Tbk' -> 'sinar jaya abadi'."""
    text = _plain(name)
    text = re.sub(r"\bp\.\s*t\.?", " pt ", text)
    text = re.sub(r"\b(?:int\W?l|international)\b", "internasional", text)  # "Int'l", "Intl"
    words = [w for w in _NOT_ALNUM.sub(" ", text).split() if w not in LEGAL_FORMS]
    return " ".join(words)


# Legal forms people write before a company name ("p.t" and "c.v" as "pt" and "cv"; replies name them in
# content/templates/_legal_form.j2, which must know every form here). A placement company (P3MI) must be a PT (UU
# 18/2017 Pasal 51): the others are never the registered company of the same name.
_FORM = r"(p\W{0,2}t|c\W{0,2}v|yayasan|lpk|ud|koperasi)"
WRITTEN_FORMS = frozenset({"pt", "cv", "yayasan", "lpk", "ud", "koperasi"})  # the forms as `forms_around` gives them
_NOT_AFTER_CV = r"ktp|ijazah|paspor|foto|dan|sudah|sdh|su|saya|sa|sy|kami"  # "Sinar Jaya CV, KTP ...": a resume
_ASKED = r"itu|ini|apa|gimana|bagaimana|resmi|legal|ilegal|terdaftar|ko|kah|ka|aman|asli"
_FORM_AFTER = re.compile(
    rf"[ \t]+(pt|cv)\b(?!-)(?=[ \t]*(?:$|[?!\n]|[.,](?![ \t]*(?:{_NOT_AFTER_CV})\b)|(?:{_ASKED})\b))")
_SENT_TO = re.compile(r"\b(?:kirim|dikirim|kirimkan|lamaran|lamar|melamar|email)\b\W+(?:\w+\W+){0,2}$")  # "kirim ke"


def forms_around(text: str, name: str) -> list[tuple[str | None, str]]:
    """For each place the (normalised) name is written in the text, the legal form written with it (or None) and
    the word after it (or ""): 'cv sinar jaya atau PT Sinar Jaya Abadi' -> [('cv', 'atau'), ('pt', 'abadi')]
    ('kirim cv ke PT Sinar Jaya' has PT before the name, 'Sinar Jaya minta CV' none)."""
    words = r"\W+".join(re.escape(word) for word in name.split())
    # The form is right before the name ("CV Sinar", "C.V. Sinar", "yayasan: sinar"; not "kirim CV, Sinar" or
    # "kirim CV: Sinar"), or after it where the sentence ends or asks about it ("Sinar Jaya CV itu resmi?", "Sinar
    # Jaya CV."), unless it is a curriculum vitae ("Sinar Jaya CV saya", "ke Sinar Jaya CV, KTP ...", "cv-nya", "Sinar
    # Jaya CV masih bisa dikirim?", "kirim ke Sinar Jaya CV") or the next form ("PT Sinar Jaya CV Sinar Jaya"); the
    # word after the name only when nothing but spaces stands between (a comma ends the name), read ahead so that
    # it may be the next form.
    plain = _plain(text)
    found = []
    for match in re.finditer(rf"(?:\b{_FORM}(?:(?<!v)[ \t]*:)?[ \t.]*)?\b{words}\b(?=(?:[ \t]+(\w+))?)", plain):
        after = None if _SENT_TO.search(plain[:match.start()]) else _FORM_AFTER.match(plain, match.end())
        form = re.sub(r"[^a-z]", "", match.group(1)) if match.group(1) else after.group(1) if after else None
        found.append((form, match.group(2) or ""))
    return found


def registered_form(name: str) -> str | None:
    """The legal form in a registered name ('PT. Sinar Jaya' -> 'pt'), if it has one."""
    match = re.search(rf"\b{_FORM}\b", _plain(name))
    return re.sub(r"[^a-z]", "", match.group(1)) if match else None


def without_form(name: str) -> str:
    """A name without the legal form it starts or ends with, as written: 'PT. Sinar Jaya' and 'Sinar Jaya CV' ->
    'Sinar Jaya'."""
    bare = re.sub(rf"^\s*{_FORM}\b\W*|\W*\b{_FORM}\W*$", "", name, flags=re.IGNORECASE)
    return bare or name


def licence_key(number: str) -> str:
    """Licence numbers compared without separators, case or leading zeros: 'KEP-0123/2020' == 'kep 123.2020'."""
    return _NOT_ALNUM.sub("", _LEADING_ZEROS.sub("", unicodedata.normalize("NFKD", number).lower()))


def initials(normalized: str) -> str:
    return "".join(word[0] for word in normalized.split())
