"""An offer's text prepared for the rules: clauses of normalised words that map back to the words as written,
money amounts, stated ages, and the companies the offer names.

Rules match the *normalised* text of one clause at a time (`bot/nlu/normalise.py`: lower case, no punctuation,
repeated letters squeezed, slang mapped), so "Gajiii 3jt, TANPA potongan!!" and "gaji 3jt tanpa potongan" read the
same, and "tanpa potongan" in one clause never cancels a fee named in the next. Clauses end at line breaks,
sentence ends, bullets, emoji and commas (but not at the dot or comma inside "3.500.000" or "3,5 jt", nor at the
",-" that closes an amount: "Rp 5.000.000,- untuk visa" is one clause).

The slang map is used without the words that name a kind of worker ("tkw", "tki"): the NLU reads them as "pmi",
but for an offer "TKW" says which job is meant (mostly domestic work), so the rules must see it as written. "KK" is
kept too: in an offer it is the kartu keluarga, not "kak".
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

from bot.nlu.normalise import load_slang, normalise
from bot.registry.names import normalise_name

MAX_OFFER_CHARS = 5000  # Telegram allows 4,096 per message; a longer paste is read up to here
MAX_SNIPPET = 70

_SPLIT = re.compile(
    r"\n|[;!?•·▪◾►➤→|]"
    r"|[\u2190-\u21ff\u2300-\u27bf\u2b00-\u2bff\U0001F000-\U0001FAFF]"
    r"|(?<!\d),|,(?!\d)(?!-(?!\d))"
    r"|(?<!rp)(?<!\bno)(?<!\bjl)(?<!\bpt)(?<!a\.n)(?<!jln)(?<!telp)(?<!\bkab)(?<!\bkec)(?<!\bdr)(?<!\bhp)\.(?=\s|$)"
    r"|(?<!\d)\s[-–—]\s|\s[-–—]\s(?!\d)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\S+")


# Slang words kept as written in offers: "tkw", "tki" name the worker (the rules tell jobs apart by them), and in
# an offer "KK" is the kartu keluarga ("cukup KTP dan KK") far more often than "kak".
KEEP_WORDS = frozenset({"tkw", "tki", "kk"})


@lru_cache(maxsize=1)
def _offer_slang() -> dict[str, str]:
    return {word: standard for word, standard in load_slang().items() if word not in KEEP_WORDS}


_AMOUNT_END = re.compile(r"(?<=\d)[.,]-+$")  # "5.000.000,-": the ",-" only closes the amount
# "RM2,000", "Rp5jt": the currency is set apart from the number, or normalise() would read "rm2" as "rm rm".
_CURRENCY_GLUED = re.compile(r"^(rp|rm|idr|myr|sgd|hkd|ntd|twd|usd|sar|aed|bnd|s\$|hk\$|nt\$|us\$|b\$)\.?(?=\d)",
                             re.IGNORECASE)


@lru_cache(maxsize=50_000)
def _normal_words(token: str) -> tuple[str, ...]:
    token = _CURRENCY_GLUED.sub(r"\1 ", _AMOUNT_END.sub("", token))
    return tuple(normalise(token, _offer_slang()).split())


@dataclass(frozen=True)
class Clause:
    """One clause: as written (`raw`, starting at `start` in the offer) and normalised (`norm`)."""

    raw: str
    start: int
    norm: str
    spans: tuple[tuple[int, int], ...]  # each token's (start, end) in `raw`
    owner: tuple[int, ...]  # for each character of `norm`, the index of the token it came from
    sentence: int = 0  # clauses of one sentence (split only at commas and dashes) share this number

    @cached_property
    def lower(self) -> str:
        return self.raw.lower()

    def snippet(self, start: int, end: int) -> str:
        """The words as written behind norm[start:end], shortened to MAX_SNIPPET characters."""
        if not self.owner:
            return ""
        first = self.owner[min(start, len(self.owner) - 1)]
        last = self.owner[min(max(start, end - 1), len(self.owner) - 1)]
        text = " ".join(self.raw[self.spans[first][0]:self.spans[last][1]].split())
        text = text.strip(" .,;:*_~-")
        return text if len(text) <= MAX_SNIPPET else text[:MAX_SNIPPET - 1].rstrip() + "…"


def _clause(raw: str, start: int, sentence: int) -> Clause | None:
    spans: list[tuple[int, int]] = []
    owner: list[int] = []
    words: list[str] = []
    for index, token in enumerate(_TOKEN.finditer(raw)):
        spans.append((token.start(), token.end()))
        for word in _normal_words(token.group(0)):
            if words:
                owner.append(index)  # the space before this word
            words.append(word)
            owner.extend([index] * len(word))
    if not words:
        return None
    return Clause(raw, start, " ".join(words), tuple(spans), tuple(owner), sentence)


class OfferText:
    """The offer, split into clauses once; rules then search it many times."""

    def __init__(self, text: str):
        text = unicodedata.normalize("NFKC", text or "")
        self.truncated = len(text) > MAX_OFFER_CHARS
        self.text = text[:MAX_OFFER_CHARS]
        self.clauses: list[Clause] = []
        position, sentence = 0, 0
        for separator in [*_SPLIT.finditer(self.text), None]:
            end = separator.start() if separator else len(self.text)
            clause = _clause(self.text[position:end], position, sentence)
            if clause is not None:
                self.clauses.append(clause)
            if separator is not None and separator.group(0).strip() not in (",", "-", "–", "—"):
                sentence += 1
            position = separator.end() if separator else end
        self._found: dict[int, tuple[Clause, re.Match[str]] | None] = {}
        self._sentences: dict[int, str] = {}

    @property
    def has_words(self) -> bool:
        return any(ch.isalpha() for clause in self.clauses for ch in clause.norm)

    def search(self, pattern: re.Pattern[str]) -> Iterator[tuple[Clause, re.Match[str]]]:
        """Every (clause, match) of the pattern, clause by clause."""
        for clause in self.clauses:
            for match in pattern.finditer(clause.norm):
                yield clause, match

    def sentence_of(self, clause: Clause) -> str:
        """The normalised text of the whole sentence the clause belongs to."""
        if clause.sentence not in self._sentences:
            self._sentences[clause.sentence] = " ".join(c.norm for c in self.clauses if c.sentence == clause.sentence)
        return self._sentences[clause.sentence]

    def first(self, pattern: re.Pattern[str]) -> tuple[Clause, re.Match[str]] | None:
        """The first match anywhere (cached per pattern: vocabulary groups are asked about by several rules)."""
        key = id(pattern)
        if key not in self._found:
            self._found[key] = next(self.search(pattern), None)
        return self._found[key]

    # ---- money -------------------------------------------------------------------------------

    @staticmethod
    def amounts(clause: Clause, dollar: str, rates: dict[str, float]) -> list[tuple[float, str]]:
        """Money amounts in one clause: (rupiah, as written); a range counts by its low end ("8-15 juta" promises
        at least 8 juta)."""
        found = []
        for match in _MONEY.finditer(clause.lower):
            written = " ".join(clause.raw[match.start():match.end()].split())
            currency = _currency(match.group("pre") or match.group("post"), dollar)
            multiplier = _MULTIPLIERS[match.group("mult") or ""]
            number = match.group("num")
            # A bare number is money only when written like "3.500.000"; "0812...", "rek 123456789" are not.
            if currency is None and multiplier == 1 \
                    and (not _THOUSANDS.fullmatch(number) or len(re.sub(r"\D", "", number)) < 6):
                continue
            rate = rates.get(currency or "IDR")
            if rate:
                found.append((_number(number) * multiplier * rate, written))
        return found

    # ---- ages --------------------------------------------------------------------------------

    @cached_property
    def youngest_age(self) -> tuple[int, str] | None:
        """The lowest age the offer says it accepts ("usia 18-35", "umur min 21 thn", "17 tahun ke atas"),
        with the words that say it."""
        ages = []
        for clause in self.clauses:
            for match in _AGE.finditer(clause.norm):
                skipped = (match.group(1) or "").split()
                if any(word in _MAX_WORDS for word in skipped) and not match.group(3):
                    continue  # "usia maksimal 35": an upper limit
                ages.append((int(match.group(2)), clause.snippet(match.start(), match.end())))
            for match in _AGE_RANGE.finditer(clause.norm):
                low, high = int(match.group(1)), int(match.group(2))
                if 10 <= low < high <= 70:
                    ages.append((low, clause.snippet(match.start(), match.end())))
            for match in _AGE_MIN.finditer(clause.norm):
                ages.append((int(match.group(1)), clause.snippet(match.start(), match.end())))
        ages = [age for age in ages if 10 <= age[0] <= 70]
        return min(ages, key=lambda age: age[0]) if ages else None

    # ---- companies ---------------------------------------------------------------------------

    @cached_property
    def companies(self) -> list[str]:
        """Company names as written ("PT Sinar Jaya"), in order, without repeats."""
        seen, names = set(), []
        for match in _COMPANY.finditer(self.text):
            name = _company_name(match.group("form"), match.group("name"))
            key = normalise_name(name) if name else ""
            if name and key and key not in seen:
                seen.add(key)
                names.append(name)
        return names


# ---- money parsing ---------------------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d{1,2})?"
_MONEY = re.compile(
    rf"""(?<![\w.,])
    (?:(?P<pre>rp|idr|rm|myr|sgd|s\$|hkd|hk\$|nt\$|ntd|twd|usd|us\$|sar|aed|bnd|b\$|jpy|¥|krw|₩|\$)\.?\s?)?
    (?P<num>{_NUMBER})
    (?:\s?(?:-|–|s/d|sd|sampai|hingga|to)\s?(?P<num2>{_NUMBER}))?
    \s?(?P<mult>juta|jta|jt|ribu|rbu|rb|k)?(?!\w)
    (?:\s?(?P<post>rupiah|ringgit|rm|dolar|dollar|sgd|hkd|ntd|yen|won|riyal|rial|dirham|usd|sar|aed)\b)?""",
    re.VERBOSE,
)
_MULTIPLIERS = {"juta": 1_000_000, "jta": 1_000_000, "jt": 1_000_000, "ribu": 1_000, "rbu": 1_000, "rb": 1_000,
                "k": 1_000, "": 1}
_CURRENCIES = {
    "rp": "IDR", "idr": "IDR", "rupiah": "IDR", "rm": "MYR", "myr": "MYR", "ringgit": "MYR", "sgd": "SGD",
    "s$": "SGD", "hkd": "HKD", "hk$": "HKD", "nt$": "TWD", "ntd": "TWD", "twd": "TWD", "usd": "USD", "us$": "USD",
    "sar": "SAR", "riyal": "SAR", "rial": "SAR", "aed": "AED", "dirham": "AED", "bnd": "BND", "b$": "BND",
    "jpy": "JPY", "¥": "JPY", "yen": "JPY", "krw": "KRW", "₩": "KRW", "won": "KRW",
}


def _currency(marker: str | None, dollar: str) -> str | None:
    if marker is None:
        return None
    if marker in ("$", "dolar", "dollar"):
        return dollar
    return _CURRENCIES.get(marker)


_THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


def _number(text: str) -> float:
    """'3.500.000' -> 3500000; '1.800' -> 1800; '3,5' (before "jt") -> 3.5."""
    if _THOUSANDS.fullmatch(text):
        return float(re.sub(r"\D", "", text))
    return float(text.replace(",", "."))


# ---- age parsing -----------------------------------------------------------------------------

_AGE = re.compile(
    r"\b(?:usia|umur|umr|age|aged|berusia|berumur)((?: [a-z]+){0,3}?) (\d{1,2})\b"
    r"(?: ?(?:tahun|thn|th|years|yrs|yo)\b)?(?: ?(?:-|s/d|sd|sampai|hingga|to|s d) ?(\d{1,2})\b)?"
)
_AGE_RANGE = re.compile(r"\b(\d{1,2}) ?(?:-|s/d|sampai|hingga) ?(\d{1,2}) (?:tahun|thn|th)\b")
_AGE_MIN = re.compile(r"\b(?:min|minimal|minimum) (\d{2}) (?:tahun|thn|th)\b")
_MAX_WORDS = {"max", "maks", "maksimal", "maximal", "maximum", "maksimum", "paling", "tertinggi", "batas"}

# ---- company names ---------------------------------------------------------------------------

# The name is read by a lookahead, so "PT Satu dan PT Dua" yields both.
_COMPANY = re.compile(r"(?<![\w@/.])(?P<form>p\.\s?t\.?|pt\.?|cv\.?)[ \t]+(?=(?P<name>[^\n,;:()!?/|\"“”]{2,80}))",
                      re.IGNORECASE)
_NAME_STOP = {
    "resmi", "berizin", "terdaftar", "membuka", "buka", "dibuka", "membutuhkan", "butuh", "dibutuhkan", "mencari",
    "dicari", "merekrut", "rekrut", "menerima", "yang", "yg", "di", "ke", "dari", "untuk", "utk", "dan", "atau",
    "adalah", "sedang", "akan", "kembali", "lowongan", "loker", "alamat", "kantor", "cabang", "jl", "jln", "jalan",
    "hubungi", "hub", "wa", "whatsapp", "telp", "telepon", "tlp", "hp", "no", "nomor", "izin", "ijin", "sip3mi",
    "dengan", "penempatan", "p3mi", "sebagai", "siap", "memberangkatkan", "berangkat", "kirim", "info", "gaji",
    "tujuan", "negara", "lokasi", "bagian", "posisi", "job", "ini", "itu", "kami", "via", "lewat", "melalui",
    "agen", "agency", "pusat", "kota", "kab", "kabupaten", "provinsi", "juga", "sudah", "telah", "punya",
    "milik", "bukan", "tidak", "saja", "aja", "lengkap", "anda", "terbaru", "foto", "dikirim", "email", "is",
    "the", "company", "hiring", "sdn", "bhd", "ltd", "bagi", "pada", "oleh", "tersebut", "nya", "sy", "saya",
}


def _company_name(form: str, rest: str) -> str | None:
    words: list[str] = []
    capitals = None
    for raw in rest.split():
        word = raw.strip(".,'\"*_~-’‘")
        if not word or not any(ch.isalnum() for ch in word) or word.lower() in _NAME_STOP:
            break
        if capitals is None:
            capitals = word[0].isupper() and not rest.isupper()
        elif capitals and not (word[0].isupper() or word[0].isdigit() or word == "&"):
            break
        words.append(word)
        if len(words) == 5 or (raw.endswith((".", ",")) and word.lower() != "tbk"):
            break
    if not words or sum(ch.isalpha() for ch in "".join(words)) < 3:
        return None
    is_cv = form.lower().startswith("c")
    if is_cv and not words[0][0].isupper():
        return None  # "kirim cv lengkap": a curriculum vitae, not a company
    return f"{'CV' if is_cv else 'PT'} {' '.join(words)}"
