"""Button data: what a press means. Short ASCII strings, well under Telegram's 64-byte limit."""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.registry.names import WRITTEN_FORMS

MENU = "menu"
MENU_FAQ = "menu:faq"
MENU_AGENCY = "menu:agency"
MENU_REPORT = "menu:report"
MENU_EMERGENCY = "menu:emergency"
MENU_OFFER = "menu:offer"
MENU_ACTIONS = (MENU, MENU_FAQ, MENU_AGENCY, MENU_REPORT, MENU_EMERGENCY, MENU_OFFER)

FAQ_TOPIC = "faq"  # faq:<topic id>
TOPIC_GROUP = "group"  # group:<group id from content/topic_menu.yml>
COUNTRY = "country"  # country:<code from content/countries/>, or alone for the list
AGENCY = "agency"  # agency:<registry id>
OFFERED_AGENCY = "offered"  # offered:<registry id>[_<legal form typed>]: offered for a name typed otherwise
REPORT = "report"  # report:<step answer>, see bot/dialogue/report.py
OFFER = "offer"  # offer:report (report the checked offer), offer:agency (check another company)

# Buttons that lead away to something to read: pressed mid-report, they ask whether to leave the report.
BROWSING_KINDS = (FAQ_TOPIC, TOPIC_GROUP, COUNTRY, AGENCY, OFFERED_AGENCY)

MAX_DATA_BYTES = 64
_DATA_RE = re.compile(r"^([a-z]{1,10})(?::([a-z0-9_]{1,40}))?$")


@dataclass(frozen=True)
class Action:
    kind: str
    arg: str | None


def faq_topic(topic_id: str) -> str:
    return f"{FAQ_TOPIC}:{topic_id}"


def topic_group(group_id: str) -> str:
    return f"{TOPIC_GROUP}:{group_id}"


def country(code: str | None = None) -> str:
    return COUNTRY if code is None else f"{COUNTRY}:{code}"


def agency(agency_id: int) -> str:
    return f"{AGENCY}:{agency_id}"


def offered_agency(agency_id: int, legal_form: str | None = None) -> str:
    return f"{OFFERED_AGENCY}:{agency_id}" + (f"_{legal_form}" if legal_form else "")


def offered_agency_arg(arg: str, max_id_digits: int) -> tuple[int, str | None] | None:
    """The registry id and the legal form typed (not PT) in an `offered_agency` argument; None when forged."""
    number, _, form = arg.partition("_")
    if not number.isdigit() or len(number) > max_id_digits or not (form == "" or form in WRITTEN_FORMS - {"pt"}):
        return None
    return int(number), form or None


def parse(data: str) -> Action | None:
    """The action behind button data, or None when it is malformed (forged or from an old version)."""
    if not data or len(data.encode("utf-8")) > MAX_DATA_BYTES:
        return None
    match = _DATA_RE.match(data)
    if match is None:
        return None
    return Action(match.group(1), match.group(2))
