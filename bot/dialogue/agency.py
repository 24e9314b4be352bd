"""Checking a recruiting agency: ask for a name or licence number, match it, give an honest verdict."""
from __future__ import annotations

from bot.content import Content
from bot.dialogue import actions
from bot.dialogue.menu import back_to_menu_button
from bot.dialogue.messages import Button, Reply
from bot.registry.names import forms_around, normalise_name, without_form
from bot.registry.service import AgencyRegistry, Found, Lookup
from db.agencies import AgencyRecord
from db.chat_state import ConversationState

FLOW = "agency"
STEP_ASK = "ask"
NTT = ("nusa tenggara timur", "ntt")
MAX_QUERY_SHOWN = 80


def start(content: Content, state: ConversationState) -> list[Reply]:
    state.enter(FLOW, STEP_ASK)
    return [Reply(content.render("agency_prompt"), (back_to_menu_button(content),))]


def waiting_for_name(state: ConversationState) -> bool:
    return state.flow == FLOW and state.step == STEP_ASK


def answer_lookup(content: Content, state: ConversationState, registry: AgencyRegistry,
                  query: str, lookup: Lookup, message: str) -> list[Reply]:
    """The reply to a lookup of `query` (the name as found in `message`): the verdict, a choice of close matches, or
    not found (never "safe")."""
    if lookup.kind == Found.CLEAR:
        record = registry.get(lookup.agency_ids[0])
        if record is not None:
            other_form = registry.other_form(record, message)
            typed_whole = registry.written_whole(record, message)
            return _verdict(content, state, registry, record, not typed_whole or other_form is not None, other_form)
    if lookup.kind == Found.SEVERAL:
        records = [r for r in (registry.get(i) for i in lookup.agency_ids) if r is not None]
        state.enter(FLOW, "choose")
        buttons = tuple(Button(_label(r), actions.agency(r.id) if registry.named_exactly(r, query)
                               else actions.offered_agency(r.id)) for r in records)
        return [Reply(content.render("agency_choose", count=len(buttons)), (*buttons, back_to_menu_button(content)))]
    if lookup.kind == Found.TOO_SHORT:
        state.enter(FLOW, STEP_ASK)
        return [Reply(content.render("agency_too_short"), (back_to_menu_button(content),))]
    state.enter(FLOW, "not_found")
    shown = " ".join(query.split())[:MAX_QUERY_SHOWN]
    others = [r for r in (registry.get(i) for i in lookup.agency_ids) if r is not None]
    other_form = registry.other_form(others[0], message) if len(others) == 1 else None
    if other_form is not None:  # "CV" + the registered name, or the name as typed without its form
        typed_as_registered = query == message or registry.named_exactly(others[0], query)
        shown = without_form(others[0].name) if typed_as_registered else without_form(shown)
    elif not others:  # "yayasan pelita kasih", "CV Maju Terus": no placement company, whatever its name
        other_form = next((form for form, _after in forms_around(message, normalise_name(query))
                           if form not in (None, "pt")), None)
        shown = without_form(shown) if other_form is not None else shown
    buttons = tuple(Button(_label(r), actions.offered_agency(r.id, other_form)) for r in others)
    return [Reply(content.render("agency_not_found", query=shown, stamp=registry.registry_stamp(), demo=False,
                                 others=others, other_form=other_form), buttons + _after_verdict_buttons(content))]


def under_other_form(registry: AgencyRegistry, lookup: Lookup, message: str) -> Lookup:
    """A company found by its name written only under another legal form ("CV Sinar Jaya" for PT Sinar Jaya) is not
    found: a placement company must be a PT, so that CV is another company; the registered one is shown as another.
    Named under both ("CV Sinar Jaya atau PT Sinar Jaya"), the PT's verdict says the CV is not it."""
    if lookup.kind == Found.CLEAR:
        record = registry.get(lookup.agency_ids[0])
        if record is not None and registry.only_other_form(record, message):
            return Lookup(Found.NONE, lookup.agency_ids)
    return lookup


def verdict(content: Content, state: ConversationState, registry: AgencyRegistry,
            record: AgencyRecord) -> list[Reply]:
    """The verdict on one agency, by its button."""
    return _verdict(content, state, registry, record, name_differs=False, other_form=None)


def offered_verdict(content: Content, state: ConversationState, registry: AgencyRegistry,
                    record: AgencyRecord, other_form: str | None) -> list[Reply]:
    """The verdict on a company offered for a name typed otherwise (a close name to choose, or a similar other
    company): it says the names differ, and the legal form typed when it was not a PT (calo borrow licensed names)."""
    return _verdict(content, state, registry, record, name_differs=True, other_form=other_form)


def _verdict(content: Content, state: ConversationState, registry: AgencyRegistry, record: AgencyRecord,
             name_differs: bool, other_form: str | None) -> list[Reply]:
    state.enter(FLOW, "verdict", {"agency": record.id})
    context = {"agency": record, "stamp": registry.stamp(record), "demo": record.is_demo,
               "name_differs": name_differs, "other_form": other_form}
    if record.status in ("skorsing", "dicabut"):  # whether or not still on the latest list
        text = content.render("agency_sanctioned", **context)
    elif not record.listed or record.status == "tidak_aktif":
        text = content.render("agency_inactive", **context)
    else:
        text = content.render("agency_active", ntt_branches=ntt_branches(record), **context)
    return [Reply(text, _after_verdict_buttons(content))]


def ntt_branches(record: AgencyRecord) -> list[str]:
    return [b.regency or "" for b in record.branches
            if b.registered and any(word in (b.province or "").lower() for word in NTT)]


def _label(record: AgencyRecord) -> str:
    return f"{record.name} ({record.city})" if record.city else record.name


def _after_verdict_buttons(content: Content) -> tuple[Button, ...]:
    return (
        Button(content.label("menu_report"), actions.MENU_REPORT),
        Button(content.label("check_another"), actions.MENU_AGENCY),
        back_to_menu_button(content),
    )
