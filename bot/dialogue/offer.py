"""Checking a job offer: the user pastes or forwards it, the bot answers with a verdict, the signs it found, the
agencies it names and what to do next, with one tap to report it.

The offer text is kept only between the answer and a press on its buttons, in the chat state and encrypted like
the report drafts' typed text (bot/dialogue/report.py `_set_secret`); anything else the user does drops it
(`discard`). It is never stored otherwise, and never logged.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from bot.content import Content
from bot.dialogue import actions, agency
from bot.dialogue.menu import back_to_menu_button, with_menu
from bot.dialogue.messages import Button, Reply
from bot.dialogue.report import MAX_STORY, ReportFlow
from bot.offers.analyse import MAX_AGENCIES, OfferCheck, analyse
from bot.offers.rules import OfferRules
from bot.registry.service import AgencyRegistry, DataStamp
from bot.reports.service import ReportService
from db.chat_state import ConversationState

log = logging.getLogger(__name__)

FLOW = "offer"
STEP_WAIT = "wait"  # asked to paste or forward an offer: the next text is the offer
STEP_ANSWERED = "answered"  # the answer is shown; its buttons may still be pressed
REPORT, AGENCY = "report", "agency"  # offer:report, offer:agency
MAX_SIGNS_SHOWN = 6
MAX_REPLY_CHARS = 4000  # Telegram's limit is 4,096 characters per message
MIN_CHECK_CHARS = 80  # shorter text is checked only when it shows a sign or names a company


def start(content: Content, state: ConversationState, note: str | None = None) -> list[Reply]:
    """After /tawaran or the menu button: ask for the offer."""
    state.enter(FLOW, STEP_WAIT)
    return [Reply(content.render("offer_prompt", note=Markup(note) if note else None),
                  (back_to_menu_button(content),))]


def waiting_for_offer(state: ConversationState) -> bool:
    return state.flow == FLOW and state.step == STEP_WAIT


def discard(state: ConversationState) -> None:
    """Forget the offer (and its kept text): call when the user does anything other than press its buttons."""
    if state.flow == FLOW:
        state.reset()


def answer(content: Content, state: ConversationState, registry: AgencyRegistry | None, rules: OfferRules,
           text: str, reports: ReportService | None = None, *, photo: bool = False,
           on_check: Callable[[OfferCheck], None] | None = None) -> list[Reply]:
    """Check the offer and answer; `photo`: the text is a photo's caption. `reports` seals the text kept for the
    report button (without it, reports are off here and nothing is kept). `on_check` receives the result, e.g. to
    count `OfferCheck.counts()` (anonymous: no offer text) for the insights."""
    text = (text or "").strip()
    check = analyse(text, rules, registry, content.countries)
    if not check.has_words:
        return _not_readable(content, state, "photo" if photo else "empty")
    if len(text) < MIN_CHECK_CHARS and not (check.signs or check.agencies):
        return _not_readable(content, state, "short")
    log.info("offer checked: verdict %s, signs %s", check.verdict, ",".join(sorted(check.sign_ids)) or "-")
    if on_check is not None:
        on_check(check)
    kept = {"text": text[:MAX_STORY], "agencies": [a.text for a in check.agencies]}
    state.enter(FLOW, STEP_ANSWERED, {"offer": {"secret": reports.cipher.seal(kept) if reports is not None else None}})
    return [Reply(_render(content, rules, registry, check, photo), _buttons(content))]


def on_attachment(content: Content, state: ConversationState, registry: AgencyRegistry | None, rules: OfferRules,
                  kind: str, caption: str | None = None, reports: ReportService | None = None,
                  on_check: Callable[[OfferCheck], None] | None = None) -> list[Reply]:
    """A photo (a flyer) is checked by its caption; anything else that is not text gets a note. Either way the
    next text is taken as the offer."""
    if kind == "photo" and caption and caption.strip():
        return answer(content, state, registry, rules, caption, reports, photo=True, on_check=on_check)
    return _not_readable(content, state, "photo" if kind == "photo" else kind)


def on_press(content: Content, state: ConversationState, arg: str | None, report_flow: ReportFlow,
             reports: ReportService | None = None) -> list[Reply]:
    """offer:report starts a report with the offer as the story; offer:agency asks for another company."""
    if arg == REPORT:
        kept = _kept(state, reports)
        discard(state)
        if kept is None or not kept.text:
            return report_flow.start(content, state)
        return report_flow.start_prefilled(content, state, kept.text, "; ".join(kept.agencies))
    if arg == AGENCY:
        discard(state)
        return agency.start(content, state)
    return [with_menu(content, "button_expired")]


@dataclass(frozen=True)
class KeptOffer:
    """The checked offer, kept sealed in the chat state so "Laporkan" can start a report with it."""

    text: str
    agencies: tuple[str, ...]


def _kept(state: ConversationState, reports: ReportService | None) -> KeptOffer | None:
    if state.flow != FLOW or reports is None:
        return None
    sealed = (state.data.get("offer") or {}).get("secret")
    if not sealed:
        return None
    try:
        opened = reports.cipher.open(sealed)
    except ValueError:  # sealed with a key no longer configured
        return None
    return KeptOffer(str(opened.get("text") or ""), tuple(str(a) for a in opened.get("agencies") or ()))


def _not_readable(content: Content, state: ConversationState, kind: str) -> list[Reply]:
    state.enter(FLOW, STEP_WAIT)
    return [Reply(content.render("offer_not_readable", kind=kind), (back_to_menu_button(content),))]


def _buttons(content: Content) -> tuple[Button, ...]:
    return (
        Button(content.label("offer_report"), f"{actions.OFFER}:{REPORT}"),
        Button(content.label("offer_agency"), f"{actions.OFFER}:{AGENCY}"),
        back_to_menu_button(content),
    )


def _stamp(registry: AgencyRegistry | None, check: OfferCheck) -> DataStamp | None:
    """The "Data per ..." of the registry rows shown (the first found row's data, else the latest list)."""
    if registry is None or not check.agencies:
        return None
    record = next((a.record for a in check.agencies if a.record is not None), None)
    return registry.stamp(record) if record is not None else registry.registry_stamp()


def _render(content: Content, rules: OfferRules, registry: AgencyRegistry | None, check: OfferCheck,
            photo: bool) -> str:
    """The answer, kept under Telegram's limit: at most MAX_SIGNS_SHOWN signs, fewer (and no quotes) if needed."""
    names = {**{code: place.name for code, place in rules.places.items()},
             **{code: c.name for code, c in content.countries.items()}}
    context = {
        "check": check, "agencies": check.agencies[:MAX_AGENCIES], "more_agencies": check.more_agencies,
        "countries": [names.get(code, code) for code in check.countries], "photo": photo,
        "stamp": _stamp(registry, check),
        "demo": any(a.record is not None and a.record.is_demo for a in check.agencies),
    }
    text = ""
    for shown, snippets in ((MAX_SIGNS_SHOWN, True), (MAX_SIGNS_SHOWN, False), (3, False), (1, False)):
        text = content.render("offer_answer", signs=check.signs[:shown], more_signs=max(0, len(check.signs) - shown),
                              snippets=snippets, **context)
        if len(text) <= MAX_REPLY_CHARS:
            break
    return text
