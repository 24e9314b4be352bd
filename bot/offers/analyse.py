"""Read a job offer against the rules: the signs found, the agencies it names (with the registry's verdict), the
countries it names, and a verdict. Pure reading: nothing is stored, and the offer text is never logged."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypedDict

from bot.content_models import Country
from bot.nlu.normalise import normalise
from bot.offers.rules import OfferRules, SignRule
from bot.offers.text import Clause, OfferText
from bot.registry.names import licence_key
from bot.registry.service import AgencyRegistry, Found, Lookup
from db.agencies import AgencyRecord

BAHAYA, HATI_HATI, TIDAK_DITEMUKAN = "bahaya", "hati_hati", "tidak_ditemukan"
VERDICTS = (BAHAYA, HATI_HATI, TIDAK_DITEMUKAN)
MAX_AGENCIES = 5  # companies looked up per offer; more are counted, not checked
SANCTIONED = ("skorsing", "dicabut")
# Which currency "$" means, by the destination the offer names.
DOLLARS = {"sg": "SGD", "hk": "HKD", "tw": "TWD", "bn": "BND"}
PER_MONTH = ((re.compile(r"\b(?:per ?jam|/jam|sejam|hour|hourly)\b"), 200.0),
             (re.compile(r"\b(?:per ?hari|/hari|sehari|harian|daily|day)\b"), 26.0),
             (re.compile(r"\b(?:per ?minggu|/minggu|seminggu|mingguan|weekly)\b"), 4.3),
             (re.compile(r"\b(?:per ?tahun|/tahun|setahun|tahunan|yearly|annual)\b"), 1 / 12))


@dataclass(frozen=True)
class SignFound:
    id: str
    severity: str
    title: str
    reason: str
    legal_basis: str
    snippet: str | None  # the words of the offer that show it, as written (None when it is something missing)

    @property
    def serious(self) -> bool:
        return self.severity == "serious"


@dataclass(frozen=True)
class AgencyNamed:
    """A company the offer names, with what the registry says: `verdict` is sanctioned, inactive, active,
    several (looks like more than one registered name), not_found, or unchecked (no registry given)."""

    text: str
    verdict: str
    record: AgencyRecord | None = None
    lookup: Lookup | None = None


class OfferCounts(TypedDict):
    """`OfferCheck.counts()`: anonymous figures for the insights (no offer text)."""

    verdict: str
    signs: list[str]  # sign ids, sorted
    agencies: list[str]  # registry names of the companies found in the registry, sorted
    agencies_unregistered: int
    countries: list[str]  # codes, in order of mention


@dataclass(frozen=True)
class OfferCheck:
    verdict: str  # bahaya | hati_hati | tidak_ditemukan
    signs: tuple[SignFound, ...]  # serious first, each group in the rules file's order
    agencies: tuple[AgencyNamed, ...]
    countries: tuple[str, ...]  # codes from content/countries/ or the rules' places, in order of mention
    more_agencies: int = 0  # companies named beyond MAX_AGENCIES (not looked up)
    truncated: bool = False  # the text was longer than the part read
    has_words: bool = True
    offer_like: bool = True  # reads like a job offer (False: a question, news, a warning, a personal message)

    @property
    def sign_ids(self) -> set[str]:
        return {sign.id for sign in self.signs}

    def counts(self) -> OfferCounts:
        """Anonymous figures for the insights (no offer text): verdict, sign ids, registry names, countries."""
        return {
            "verdict": self.verdict,
            "signs": sorted(self.sign_ids),
            "agencies": sorted({a.record.name for a in self.agencies if a.record is not None}),
            "agencies_unregistered": sum(1 for a in self.agencies if a.verdict == "not_found"),
            "countries": list(self.countries),
        }


def analyse(text: str, rules: OfferRules, registry: AgencyRegistry | None,
            countries: Mapping[str, Country]) -> OfferCheck:
    """Check one offer. `countries` is content/countries/ (`Content.countries`); `registry` None skips lookups."""
    offer = OfferText(text)
    if not offer.has_words:
        return OfferCheck(TIDAK_DITEMUKAN, (), (), (), truncated=offer.truncated, has_words=False)
    mentions = _countries_named(offer, countries, rules)
    agencies, more = _agencies(offer, registry)
    context = _Context(offer, rules, countries, mentions, agencies)
    found = {rule.id: sign for rule in rules.signs if rule.kind != "missing" and (sign := context.check(rule))}
    offer_like = looks_like_offer(text) and not _reports_sanction(offer, rules, agencies)
    if offer_like or found:  # "no address" says something about an offer only, not about news or a question
        found |= {rule.id: sign for rule in rules.signs if rule.kind == "missing" and (sign := context.check(rule))}
    order = {rule.id: index for index, rule in enumerate(rules.signs)}
    signs = sorted(found.values(), key=lambda sign: (not sign.serious, order[sign.id]))
    if any(sign.serious for sign in signs):
        verdict = BAHAYA
    elif signs or any(agency.verdict == "several" for agency in agencies):
        verdict = HATI_HATI
    else:
        verdict = TIDAK_DITEMUKAN
    return OfferCheck(verdict, tuple(signs), tuple(agencies), tuple(dict.fromkeys(code for code, _ in mentions)),
                      more_agencies=more, truncated=offer.truncated, offer_like=offer_like)


class _Context:
    def __init__(self, offer: OfferText, rules: OfferRules, countries: Mapping[str, Country],
                 mentions: list[tuple[str, str]], agencies: list[AgencyNamed]):
        self.offer = offer
        self.rules = rules
        self.countries = countries
        self.mentions = mentions
        self.agencies = agencies

    def check(self, rule: SignRule) -> SignFound | None:
        kind_check: Callable[[SignRule], SignFound | None] = getattr(self, f"_{rule.kind}")  # a method per KINDS entry
        return kind_check(rule)

    def _found(self, rule: SignRule, snippet: str | None, reason: str | None = None, **values: object) -> SignFound:
        reason = (reason or rule.reason).format_map(values) if values else (reason or rule.reason)
        return SignFound(rule.id, rule.severity, rule.title, reason, rule.legal_basis, snippet or None)

    def _has(self, group: str | None) -> bool:
        if group is None:
            return False
        if self.offer.first(self.rules.vocabulary[group]) is not None:
            return True
        return any(implied.group == group and self.offer.first(implied.words) is not None
                   and not (implied.unless and self.offer.first(self.rules.vocabulary[implied.unless]) is not None)
                   for implied in self.rules.implied)

    def _phrase(self, rule: SignRule, pattern: re.Pattern[str] | None) -> tuple[Clause, re.Match[str]] | None:
        """The first match of the pattern whose clause (and sentence) the rule's `unless` does not cancel."""
        if pattern is None:
            return None
        for clause, match in self.offer.search(pattern):
            if not self._cancelled(rule, clause):
                return clause, match
        return None

    def _phrase_when(self, rule: SignRule) -> tuple[Clause, re.Match[str]] | None:
        """The first match of `patterns_when` whose sentence also says `when_sentence` (neither cancelled)."""
        if rule.patterns_when is None or rule.when_sentence is None:
            return None
        for clause, match in self.offer.search(rule.patterns_when):
            if self._cancelled(rule, clause) or not rule.when_sentence.search(self.offer.sentence_of(clause)):
                continue
            # said in a clause of that sentence that is not itself cancelled ("..., tidak perlu bayar di depan")
            if any(other.sentence == clause.sentence and rule.when_sentence.search(other.norm)
                   and not self._cancelled(rule, other) for other in self.offer.clauses):
                return clause, match
        return None

    def _cancelled(self, rule: SignRule, clause: Clause) -> bool:
        if rule.unless is not None and rule.unless.search(clause.norm):
            return True
        return rule.unless_sentence is not None and bool(rule.unless_sentence.search(self.offer.sentence_of(clause)))

    def _name(self, code: str) -> str:
        if code in self.countries:
            return self.countries[code].name
        place = self.rules.places.get(code)
        return place.name if place else code

    # ---- the kinds of rule -------------------------------------------------------------------

    def _phrases(self, rule: SignRule) -> SignFound | None:
        hit = None
        if all(self._has(group) for group in rule.needs):
            hit = self._phrase(rule, rule.patterns) or self._phrase_when(rule)
        hit = hit or self._phrase(rule, rule.patterns_alone)
        if hit is None:
            return None
        clause, match = hit
        return self._found(rule, clause.snippet(match.start(), match.end()))

    def _agency(self, rule: SignRule) -> SignFound | None:
        if rule.unless is not None and self.offer.first(rule.unless) is not None:
            return None  # the text itself reports the sanction (news, a warning): not an offer by that company
        named = next((a for a in self.agencies if a.verdict in rule.verdicts), None)
        return self._found(rule, named.text) if named else None

    def _destination(self, rule: SignRule) -> SignFound | None:
        for code, written in self.mentions:
            country = self.countries.get(code)
            if (country is not None and country.status in rule.statuses) or code in rule.also:
                return self._found(rule, written, rule.also.get(code), country=self._name(code))
        return None

    def _job_in_country(self, rule: SignRule) -> SignFound | None:
        if not self._has(rule.job):
            return None
        return self._destination(rule)

    def _min_age(self, rule: SignRule) -> SignFound | None:
        youngest = self.offer.youngest_age
        if youngest is not None and youngest[0] < rule.below:
            return self._found(rule, youngest[1], age=youngest[0])
        hit = self._phrase(rule, rule.patterns)
        if hit is None and (youngest is None or youngest[0] < rule.below):
            hit = self._phrase(rule, rule.hints)
        if hit is None:
            return None
        clause, match = hit
        return self._found(rule, clause.snippet(match.start(), match.end()), age=rule.below - 1)

    def _destination_age(self, rule: SignRule) -> SignFound | None:
        youngest = self.offer.youngest_age
        if youngest is None or not self._has(rule.job):
            return None
        for code, _written in self.mentions:
            country = self.countries.get(code)
            for age_rule in country.age_rules if country is not None else ():
                if age_rule.job == rule.age_rule_job and youngest[0] < age_rule.min_age:
                    return self._found(rule, youngest[1], country=self._name(code), age=age_rule.min_age)
        return None

    def _high_pay(self, rule: SignRule) -> SignFound | None:
        destination = next((code for code, _ in self.mentions if code in rule.monthly_idr), "default")
        threshold = rule.monthly_idr[destination]["job" if self._has(rule.job) else "other"]
        dollar = next((DOLLARS[code] for code, _ in self.mentions if code in DOLLARS), "USD")
        for clause in self.offer.clauses:
            if not self.rules.wage.search(clause.norm) or self.rules.fee.search(clause.norm) \
                    or self._cancelled(rule, clause):
                continue
            factor = next((f for pattern, f in PER_MONTH if pattern.search(clause.norm)), 1.0)
            for value, written in self.offer.amounts(clause, dollar, self.rules.currencies):
                if value * factor >= threshold:
                    return self._found(rule, " ".join(clause.raw.split())[:70], amount=written)
        return None

    def _missing(self, rule: SignRule) -> SignFound | None:
        if len(self.offer.text.strip()) < rule.min_chars:
            return None
        if rule.no_company and self.agencies:
            return None
        if rule.absent is not None and self.offer.first(rule.absent) is not None:
            return None
        if rule.patterns is None:
            return self._found(rule, None)
        hit = self._phrase(rule, rule.patterns)
        if hit is None:
            return None
        clause, match = hit
        return self._found(rule, clause.snippet(match.start(), match.end()))


def _reports_sanction(offer: OfferText, rules: OfferRules, agencies: list[AgencyNamed]) -> bool:
    """News or a warning that itself reports a sanctioned company's licence ("izin PT X dicabut")."""
    if not any(agency.verdict == "sanctioned" for agency in agencies):
        return False
    return any(rule.kind == "agency" and rule.unless is not None and offer.first(rule.unless) is not None
               for rule in rules.signs)


# ---- countries -------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _name_index(entries: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    index: dict[str, str] = {}
    for code, names in entries:
        for name in names:
            index.setdefault(normalise(name), code)
    return index


def _countries_named(offer: OfferText, countries: Mapping[str, Country], rules: OfferRules) -> list[tuple[str, str]]:
    """(code, the words as written) for every country or place named, in order."""
    entries = tuple((code, c.all_names) for code, c in countries.items())
    entries += tuple((place.code, (place.name, *place.names)) for place in rules.places.values())  # also aliases
    index = _name_index(entries)
    found = []
    for clause in offer.clauses:
        words = clause.norm.split(" ")
        offsets, position = [], 0
        for word in words:
            offsets.append(position)
            position += len(word) + 1
        start = 0
        while start < len(words):
            for size in (3, 2, 1):
                code = index.get(" ".join(words[start:start + size]))
                if code is not None and start + size <= len(words):
                    end = offsets[start + size - 1] + len(words[start + size - 1])
                    found.append((code, clause.snippet(offsets[start], end)))
                    start += size
                    break
            else:
                start += 1
    return found


# ---- agencies --------------------------------------------------------------------------------

_LICENCE = re.compile(r"(?:sip3mi|no\.?\s*izin|nomor\s+izin|izin)\s*(?:no\.?|nomor)?\s*[:.]?\s*"
                      r"([A-Za-z0-9][A-Za-z0-9./-]{3,40}\d)", re.IGNORECASE)


def _agencies(offer: OfferText, registry: AgencyRegistry | None) -> tuple[list[AgencyNamed], int]:
    names = offer.companies
    checked, more = names[:MAX_AGENCIES], max(0, len(names) - MAX_AGENCIES)
    if registry is None:
        return [AgencyNamed(name, "unchecked") for name in checked], more
    agencies: list[AgencyNamed] = []
    seen: set[int] = set()
    for name in checked:
        named = _look_up(registry, name)
        if named.record is not None:
            if named.record.id in seen:
                continue
            seen.add(named.record.id)
        agencies.append(named)
    for match in _LICENCE.finditer(offer.text):
        if len(agencies) >= MAX_AGENCIES:
            break
        number = match.group(1)
        lookup = registry.lookup(number)
        record = registry.get(lookup.agency_ids[0]) if lookup.kind == Found.CLEAR else None
        if record is None or record.id in seen or not record.licence_number \
                or licence_key(record.licence_number) != licence_key(number):
            continue
        seen.add(record.id)
        agencies.append(AgencyNamed(f"{record.name} ({number})", _verdict(record), record, lookup))
    return agencies, more


def _look_up(registry: AgencyRegistry, name: str) -> AgencyNamed:
    lookup = registry.lookup(name)
    if lookup.kind == Found.CLEAR:
        record = registry.get(lookup.agency_ids[0])
        if record is not None:
            return AgencyNamed(name, _verdict(record), record, lookup)
    if lookup.kind == Found.SEVERAL:
        return AgencyNamed(name, "several", None, lookup)
    return AgencyNamed(name, "not_found", None, lookup)


def _verdict(record: AgencyRecord) -> str:
    if record.status in SANCTIONED:
        return "sanctioned"
    if not record.listed or record.status == "tidak_aktif":
        return "inactive"
    return "active"


# ---- does pasted text look like an offer? ----------------------------------------------------

MIN_OFFER_CHARS = 60
_ANNOUNCE = re.compile(
    r"\b(?:lowongan|loker|lowker|dibutuhkan|dicari|butuh|membutuhkan|rekrut|rekrutmen|merekrut|perekrutan|"
    r"open recruitment|hiring|vacancy|vacancies|jawatan kosong|kesempatan kerja|peluang kerja|dibuka|"
    r"buka pendaftaran|pendaftaran dibuka|kami membuka|job offer|urgently needed|info kerja|tawaran kerja|"
    r"ditawari|ditawarkan|ditawarin|dijanjikan|job order|diberangkatkan|memberangkatkan|urgent|cari kerja|"
    r"kerja ke luar negeri|kerja luar negeri|ada kerja|ada kerjaan|ada pekerjaan|ada lowongan|direct hire|"
    r"we are hiring|now hiring|job vacancy)\b")
_CONTACT = re.compile(
    r"\b(?:hubungi|hub|kontak|contact|wa|whatsapp|telp|telepon|call|sms|inbox|inbok|dm|japri|"
    r"info lebih lanjut|info lanjut|informasi lebih lanjut|minat|berminat|daftar segera|segera daftar|"
    r"cara daftar|apply|daftar|pendaftaran|chat|info|kantor|alamat|telpon|hubungi saya|contact us)\b")
_JOB = re.compile(
    r"\b(?:gaji|upah|salary|berangkat|keberangkatan|penempatan|syarat|persyaratan|requirements?|usia|umur|"
    r"kontrak|majikan|visa|paspor|tiket|fasilitas|mess|lembur|pengalaman|pendidikan|negara tujuan|bekerja di|"
    r"kerja di|posisi|jabatan|p3mi|pt|biaya|potong gaji|ditanggung|gratis|pelatihan|program|bidang|employer|"
    r"hire|rest day|day off|agency fee|deposit|contract)\b")
_QUESTION = re.compile(r"\b(?:mau tanya|tanya|numpang tanya|apa|bagaimana|berapa|bisakah|bolehkah|kenapa|mengapa|"
                       r"benarkah|betulkah|di mana|dimana|kemana|ke mana)\b")
_ADVICE = re.compile(r"\b(?:waspada|hati hati|awas|mengimbau|imbauan|himbauan|diimbau|jangan percaya|"
                     r"jangan mudah percaya|agar tidak|supaya tidak|modus|penipuan|hoaks|hoax|lowongan palsu)\b")
_PERSONAL_NUMBER = re.compile(r"(?:\+?62|\b0)\s?8[1-9]\d")
_CONCRETE = re.compile(r"(?:\bp\.?\s?t\.?\s+\w|(?:rp|rm)\.?\s?\d|\d\s?(?:jt|juta|rb|ribu)\b"
                       r"|\b(?:0|\+?62)\s?8\d{2}[\s-]?\d{3})", re.IGNORECASE)


def looks_like_offer(text: str) -> bool:
    """Pasted text that reads like a job offer (long enough, several offer signals), not a question about one.

    "Berapa gaji PRT di Malaysia?" is a question that merely mentions "gaji": False."""
    text = (text or "").strip()
    if len(text) < MIN_OFFER_CHARS:
        return False
    words = " ".join(normalise(part) for part in _chunks(text[:3000]))
    announce = set(_ANNOUNCE.findall(words))
    contact = set(_CONTACT.findall(words))
    job = set(_JOB.findall(words))
    if not (announce or contact):
        return False
    needed = 3 if len(text) >= 120 or (announce and contact) else 4
    if len(announce | contact | job) < needed or not (job or (announce and contact)):
        return False
    if len(set(_ADVICE.findall(words))) >= 2 and not _PERSONAL_NUMBER.search(text):
        return False  # a warning or an advisory about offers ("Waspada ... masyarakat diimbau ..."), not an offer
    opening = " ".join(words.split()[:15])
    if "?" in text and _QUESTION.search(opening):
        # A question: an offer only when it describes a concrete one (an amount, a company, a phone number).
        return bool(announce) and bool(_CONCRETE.search(text))
    return True


def _chunks(text: str, size: int = 450) -> Iterator[str]:
    """normalise() reads at most 500 characters: feed it the text in pieces cut at spaces."""
    while text:
        if len(text) <= size:
            yield text
            return
        cut = text.rfind(" ", 0, size)
        cut = cut if cut > 0 else size
        yield text[:cut]
        text = text[cut:]
