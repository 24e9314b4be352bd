"""Normal forms of company names and licence numbers, so that what people type can be compared."""
from __future__ import annotations

import re
import unicodedata

# Words that are not part of a company's distinctive name.
LEGAL_FORMS = {"pt", "p", "t", "tbk", "persero", "cv"}
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def normalise_name(name: str) -> str:
    """'PT. Sinar  Jaya-Abadi, Tbk' -> 'sinar jaya abadi'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\bp\.\s*t\.?", " pt ", text)
    text = re.sub(r"\b(?:int\W?l|international)\b", "internasional", text)  # "Int'l", "Intl"
    words = [w for w in _NOT_ALNUM.sub(" ", text).split() if w not in LEGAL_FORMS]
    return " ".join(words)


def legal_forms(name: str) -> set[str]:
    """The legal forms written in a name or message: 'cv. sinar jaya' -> {'cv'}, 'P.T Sinar Jaya' -> {'pt'}."""
    found = re.findall(r"\b(pt|p\.\s*t|cv|c\.\s*v)\b", unicodedata.normalize("NFKD", name).lower())
    return {re.sub(r"[^a-z]", "", form) for form in found}


def licence_key(number: str) -> str:
    """Licence numbers compared without separators, case or leading zeros: 'KEP-0123/2020' == 'kep 123.2020'."""
    return _NOT_ALNUM.sub("", _LEADING_ZEROS.sub("", unicodedata.normalize("NFKD", number).lower()))


def initials(normalized: str) -> str:
    return "".join(word[0] for word in normalized.split())
