"""Checking a recruiting agency: ask for a name or licence number, match it, give an honest verdict."""
from __future__ import annotations

from bot.content import Content
from bot.dialogue import actions
from bot.dialogue.menu import back_to_menu_button
from bot.dialogue.messages import Button, Reply
from bot.registry.names import without_form
from bot.registry.service import AgencyRegistry, Found, Lookup
from db.agencies import AgencyRecord
from db.chat_state import ConversationState

FLOW = "agency"
STEP_ASK = "ask"
NTT = ("nusa tenggara timur", "ntt")
MAX_QUERY_SHOWN = 80
ASKED = "asked"  # the name as typed, kept while the user picks among close or other registered names


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
            return verdict(content, state, registry, record, asked=message)
    shown = " ".join(query.split())[:MAX_QUERY_SHOWN]
    if lookup.kind == Found.SEVERAL:
        records = [r for r in (registry.get(i) for i in lookup.agency_ids) if r is not None]
        state.enter(FLOW, "choose", {ASKED: shown})
        buttons = tuple(Button(_label(r), actions.agency(r.id)) for r in records)
        return [Reply(content.render("agency_choose", count=len(buttons)), (*buttons, back_to_menu_button(content)))]
    if lookup.kind == Found.TOO_SHORT:
        state.enter(FLOW, STEP_ASK)
        return [Reply(content.render("agency_too_short"), (back_to_menu_button(content),))]
    others = [r for r in (registry.get(i) for i in lookup.agency_ids) if r is not None]
    other_form = registry.other_form(others[0], message) if len(others) == 1 else None
    asked = shown
    if other_form is not None:  # shown as "CV" + "Sinar Jaya": the name under the form it was asked with
        shown = without_form(others[0].name)
        asked = f"{other_form} {shown}"
    state.enter(FLOW, "not_found", {ASKED: asked})
    buttons = tuple(Button(_label(r), actions.agency(r.id)) for r in others)
    return [Reply(content.render("agency_not_found", query=shown, stamp=registry.registry_stamp(), demo=False,
                                 others=others, other_form=other_form), buttons + _after_verdict_buttons(content))]


def under_other_form(registry: AgencyRegistry, lookup: Lookup, message: str) -> Lookup:
    """A company found by its name written under another legal form ("CV Sinar Jaya" for PT Sinar Jaya) is not
    found: a placement company must be a PT, so that CV is another company; the registered one is shown as another."""
    if lookup.kind == Found.CLEAR:
        record = registry.get(lookup.agency_ids[0])
        if record is not None and registry.other_form(record, message) is not None:
            return Lookup(Found.NONE, lookup.agency_ids)
    return lookup


def picked(content: Content, state: ConversationState, registry: AgencyRegistry,
           record: AgencyRecord) -> list[Reply]:
    """The verdict on a company picked by a button; when picked from the close or other names offered for a typed
    name, that name is compared with the registered one as if typed with it ("PT Sinar Jaya Gemilang" -> picked
    PT Sinar Jaya: the names differ)."""
    asked = state.data.get(ASKED) if state.flow == FLOW else None
    if not isinstance(asked, str):
        return verdict(content, state, registry, record)
    return verdict(content, state, registry, record, asked=asked, as_typed=registry.named_exactly(record, asked))


def verdict(content: Content, state: ConversationState, registry: AgencyRegistry,
            record: AgencyRecord, asked: str | None = None, as_typed: bool | None = None) -> list[Reply]:
    """The verdict on one agency; `asked`: the message it was found in, when typed (a name that is not the
    registered one, or under another legal form, is said to be different: calo borrow licensed names);
    `as_typed`: whether the name was written as registered, when the caller knows better than the message's words."""
    state.enter(FLOW, "verdict", {"agency": record.id})
    other_form = registry.other_form(record, asked) if asked is not None else None
    if as_typed is None:
        as_typed = asked is None or registry.written_whole(record, asked)
    differs = other_form is not None or not as_typed
    context = {"agency": record, "stamp": registry.stamp(record), "demo": record.is_demo,
               "name_differs": differs, "other_form": other_form}
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
