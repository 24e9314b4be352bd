"""The reporter's conversation: short, skippable steps, saved after each one, then a summary and a code.

Start with `step_table()`: one row per step says what the step asks, which buttons it offers, what typed text, a
press and a file do there, whether it can be skipped or changed from the summary, and which step comes next. Adding a
step means adding a row (and its handlers). The draft (bot/reports/draft.py) lives in the chat state; what the
reporter writes is kept sealed in it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple, TypeAlias

from markupsafe import Markup

from bot.content import Content
from bot.dialogue import actions, countries
from bot.dialogue.agency import ntt_branches
from bot.dialogue.menu import with_menu, with_menu_link
from bot.dialogue.messages import Button, Reply
from bot.nlu.normalise import normalise
from bot.registry.service import AgencyRegistry, Found
from bot.reports.draft import STATE_KEY, Evidence, ReportDraft
from bot.reports.service import ReportService, place_name
from bot.textformat import TELEGRAM_TEXT_LIMIT, telegram_len, utf16_cut, utf16_len
from db.agencies import AgencyRecord
from db.chat_state import ConversationState
from db.enums import ContactMode, LocationKind

FLOW = "report"


class Step(StrEnum):
    """The steps, in the order asked; the values are what the chat state stores (`ConversationState.step`)."""

    DANGER = "danger"
    WHAT = "what"
    CATEGORY = "category"
    WHERE = "where"
    WHERE_NTT = "where_ntt"
    WHERE_COUNTRY = "where_country"
    WHERE_PLACE = "where_place"
    WHO = "who"
    WHEN = "when"
    EVIDENCE = "evidence"
    CONTACT = "contact"
    CONFIRM = "confirm"


# Steps whose typed answer is told in the reporter's own words: a danger told there is also the answer.
TOLD_STEPS = frozenset({Step.WHAT, Step.WHERE_PLACE, Step.WHO, Step.WHEN})


@cache
def step_table() -> Mapping[Step, StepSpec]:
    """The report conversation, one row per step (a function only so that the rows can name handlers defined
    further down). A question with buttons also offers "Batalkan", and "Lewati" when the step is skippable."""
    flow = ReportFlow
    return {
        Step.DANGER: StepSpec(
            "report_start", choices=_danger_choices, on_press=flow._press_danger, on_text=flow._text_danger,
            words=DANGER_WORDS, next=Step.WHAT),
        Step.WHAT: StepSpec(
            "report_ask_what", on_text=flow._text_what, on_file=flow._voice_story, free_text=True,
            edit_label="report_edit_what", next=Step.CATEGORY),
        Step.CATEGORY: StepSpec(
            "report_ask_category", choices=_category_choices, on_press=flow._press_category, skippable=True,
            edit_label="report_edit_category", next=Step.WHERE),
        Step.WHERE: StepSpec(  # in NTT, elsewhere in Indonesia, abroad: each leads to a sub-step below
            "report_ask_where", choices=_where_choices, on_press=flow._press_where, on_text=flow._text_place,
            skippable=True, edit_label="report_edit_where", next=Step.WHO),
        Step.WHERE_NTT: StepSpec(
            "report_ask_regency", choices=_regency_choices, columns=2, on_press=flow._press_regency,
            on_text=flow._text_place, skippable=True, part_of=Step.WHERE),
        Step.WHERE_COUNTRY: StepSpec(
            "report_ask_country", choices=_country_choices, columns=2, on_press=flow._press_country,
            on_text=flow._text_place, skippable=True, part_of=Step.WHERE),
        Step.WHERE_PLACE: StepSpec(
            "report_ask_place", facts=flow._place_facts, on_text=flow._text_place, free_text=True, skippable=True,
            part_of=Step.WHERE),
        Step.WHO: StepSpec(
            "report_ask_who", on_text=flow._text_who, free_text=True, skippable=True, edit_label="report_edit_who",
            next=Step.WHEN),
        Step.WHEN: StepSpec(  # its buttons are common answers; anything typed is the answer too
            "report_ask_when", choices=_when_choices, on_press=flow._press_when, on_text=flow._text_when,
            free_text=True, skippable=True, edit_label="report_edit_when", next=Step.EVIDENCE),
        Step.EVIDENCE: StepSpec(  # its own button says "Lewati" until a file came, then "Selesai"
            "report_ask_evidence", facts=flow._evidence_facts, choices=_evidence_choices,
            on_press=flow._press_evidence, on_text=flow._text_evidence, on_file=flow._add_evidence,
            words=EVIDENCE_WORDS, skippable=True, skip_button=False, edit_label="report_edit_evidence",
            next=Step.CONTACT),
        Step.CONTACT: StepSpec(
            "report_ask_contact", keyboard=_contact_keys, on_text=flow._text_contact, on_file=flow._shared_contact,
            free_text=True, edit_label="report_edit_contact", next=Step.CONFIRM),
        Step.CONFIRM: StepSpec(  # the summary: send, change an answer, or cancel
            "report_summary", facts=flow._summary_facts, choices=_summary_choices, on_press=flow._press_confirm,
            words=CONFIRM_WORDS),
    }


Choices: TypeAlias = "Callable[[Content, ReportDraft], tuple[Button, ...]]"
Facts: TypeAlias = "Callable[[ReportFlow, At], dict[str, Any]]"
OnPress: TypeAlias = "Callable[[ReportFlow, At, str], list[Reply] | None]"
OnText: TypeAlias = "Callable[[ReportFlow, At, str], list[Reply]]"
OnFile: TypeAlias = "Callable[[ReportFlow, At, Attachment], list[Reply] | None]"


@dataclass(frozen=True)
class StepSpec:
    """One step of the conversation (see `step_table`)."""

    question: str  # the template that asks it
    facts: Facts | None = None  # the question's variables (besides `note`)
    choices: Choices | None = None  # its own buttons ("Lewati" and "Batalkan" follow them)
    columns: int = 1
    keyboard: Callable[[Content], tuple[str, ...]] | None = None  # answer keys instead of any buttons
    on_press: OnPress | None = None  # a button of the step: the replies, None when it is not one of its buttons
    on_text: OnText | None = None  # typed text; without it the reporter is asked to use the buttons
    on_file: OnFile | None = None  # an attachment: the replies, None when the step takes no such file
    words: Mapping[str, str] = field(default_factory=dict)  # typed words for its buttons -> their data
    free_text: bool = False  # typed text is the answer (not read as a button's label or word)
    skippable: bool = False  # "Lewati" (pressed or typed) moves on without an answer
    skip_button: bool = True  # a skippable step shows a "Lewati" button
    edit_label: str | None = None  # offered under this label when changing an answer from the summary
    next: Step | None = None  # the step after an answer; None: the summary
    part_of: Step | None = None  # a sub-step moves on like the step it details


@dataclass
class At:
    """What a step's handlers work on: this turn's content, the chat's state and its draft (kept after the turn)."""

    content: Content
    state: ConversationState
    draft: ReportDraft
    service: ReportService

    @property
    def step(self) -> Step:
        assert self.state.step is not None  # a chat in the report flow is always at one of its steps
        return Step(self.state.step)

    def go(self, step: Step) -> None:
        self.state.step = step

    def render(self, template: str, **context: Any) -> str:
        return self.content.render(template, **context)


class Attachment(NamedTuple):
    kind: str  # bot/dialogue/messages.py ATTACHMENT_KINDS
    file_id: str | None
    phone: str | None  # of a shared contact


MAX_STORY = 2000  # UTF-16 units, as Telegram counts (an emoji counts 2)
MAX_SHORT = 500
MAX_EVIDENCE = 10
EVIDENCE_KINDS = ("photo", "document", "voice", "audio", "video")
VOICE_KINDS = ("voice", "audio")
SENT_CODE = "sent_code"  # kept in the chat state after sending (unless anonymous): a second "send" gets the code
YES_WORDS = {"ya", "iya", "y", "ada", "yes", "betul", "benar", "bahaya", "tolong"}
NO_WORDS = {"tidak", "tdk", "gak", "ga", "nggak", "ngga", "enggak", "ndak", "sonde", "son", "no", "aman", "belum"}
# Typed words for the buttons, after normalisation (slang mapped: "tdk"/"sonde" -> "tidak"); a button's label
# typed works too.
CANCEL_WORDS = {"batal", "batalkan", "batalkan laporan", "cancel", "tidak jadi", "tidak jadi lapor", "stop"}
SKIP_WORDS = {"lewati": "skip", "lewat": "skip", "skip": "skip", "lanjut": "skip", "tidak tahu": "skip",
              "tidak ada": "skip", "-": "skip"}
DANGER_WORDS = {"ya": "danger_yes", "iya": "danger_yes", "ada": "danger_yes", "tidak": "danger_no",
                "tidak ada": "danger_no", "aman": "danger_no"}
EVIDENCE_WORDS = {"selesai": "evidence_done", "sudah": "evidence_done", "sudah semua": "evidence_done",
                  "tidak ada": "evidence_done", "lewati": "evidence_done", "skip": "evidence_done",
                  "tidak punya": "evidence_done", "done": "evidence_done"}
CONFIRM_WORDS = {"kirim": "send", "kirim laporan": "send", "ya kirim": "send", "ya": "send", "send": "send",
                 "ubah": "edit", "edit": "edit", "ganti": "edit"}
CONTACT_WORDS = {
    "anonim": ContactMode.ANONYMOUS, "anonymous": ContactMode.ANONYMOUS, "tanpa nama": ContactMode.ANONYMOUS,
    "rahasia": ContactMode.ANONYMOUS, "jangan hubungi": ContactMode.ANONYMOUS,
    "jangan hubungi saya": ContactMode.ANONYMOUS,
    "lewat bot": ContactMode.BOT, "lewat bot saja": ContactMode.BOT, "bot saja": ContactMode.BOT,
    "kabari lewat bot": ContactMode.BOT, "lewati": ContactMode.BOT, "skip": ContactMode.BOT,
    "tidak": ContactMode.BOT, "tidak mau": ContactMode.BOT,
}
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")
_COMPANY = re.compile(r"\b(?:pt|p\.t\.?|cv)\s+[^\n,;:()]{3,60}", re.IGNORECASE)


def _r(arg: str) -> str:
    return f"{actions.REPORT}:{arg}"


class ReportFlow:
    def __init__(self, service: ReportService | None, registry: AgencyRegistry):
        self._service = service
        self._registry = registry

    def in_progress(self, state: ConversationState) -> bool:
        """A draft is open (and reports are switched on: a draft left from before they were off is ignored)."""
        return self._service is not None and state.flow == FLOW and isinstance(state.data.get(STATE_KEY), dict)

    def draft(self, state: ConversationState) -> ReportDraft:
        """The open draft (see `in_progress`); changes to it are kept in the state by `keep`."""
        return ReportDraft.from_dict(state.data[STATE_KEY])

    def keep(self, state: ConversationState, draft: ReportDraft) -> None:
        state.data[STATE_KEY] = draft.to_dict()

    # ---- entry, interruptions, cancelling ----------------------------------------------------

    def start(self, content: Content, state: ConversationState, story: str | None = None) -> list[Reply]:
        """The report begun at the danger question; `story`, a case told with the wish to report it ("sa mau lapor
        calo di kampung yang kumpul KTP ..."), is kept as what happened: that question is not asked again."""
        if self._service is None:
            state.reset()
            return [with_menu_link(content, "report_not_ready")]
        if self.in_progress(state):
            return self.prompt(content, state)
        if self._service.reports_left_today(state.chat_id) <= 0:  # REPORTS_PER_DAY from one chat
            return [with_menu(content, "report_quota", limit=self._service.reports_per_day)]
        state.enter(FLOW, Step.DANGER, {STATE_KEY: ReportDraft.new().to_dict()})
        if story:
            at = self._at(content, state)
            self._write(at, what=utf16_cut(story, MAX_STORY))
            self._keep(at)
        return self.prompt(content, state)

    def start_prefilled(self, content: Content, state: ConversationState, story: str,
                        agency_text: str | None) -> list[Reply]:
        """A report begun from a checked job offer: the offer is the story and the company it names is who is
        involved. After the danger question the reporter lands on the summary, to add details or send."""
        if self._service is None or self.in_progress(state):
            return self.start(content, state)  # reports off, or a draft already open: never overwrite it
        replies = self.start(content, state)
        if not self.in_progress(state):  # the day's reports are used up
            return replies
        at = self._at(content, state)
        self._write(at, what=utf16_cut(story, MAX_STORY))
        if agency_text:
            self._write(at, who=utf16_cut(agency_text, MAX_SHORT))
            record = self._agency_named(agency_text)
            at.draft.agency_id = record.id if record is not None else None
        # The contact stays anonymous (the draft's default) until the reporter chooses otherwise on the summary
        # ("Ubah"): the bot never writes first to someone who did not ask for news.
        at.draft.editing = True  # the danger answer then goes straight to the summary
        self._keep(at)
        return self._ask(at)

    def start_with_danger(self, content: Content, state: ConversationState, story: str) -> list[Reply] | None:
        """A danger told with a wish to report it ("sa mau lapor, majikan pukul sa tiap hari"): a report ready to send
        with one tap, the message as what happened, marked urgent (the message answered the danger question),
        anonymous until the reporter changes it; the summary says it is not sent yet. None when no report can be
        begun: reports off, the day's reports used up, or a draft already open (never overwritten)."""
        if self._service is None or self.in_progress(state) or self._service.reports_left_today(state.chat_id) <= 0:
            return None
        state.enter(FLOW, Step.CONFIRM, {STATE_KEY: ReportDraft.new().to_dict()})
        at = self._at(content, state)
        at.draft.urgent = True
        self._write(at, what=utf16_cut(story, MAX_STORY))
        self._keep(at)
        note = at.render("report_begun_with_danger", cut=utf16_len(story) > MAX_STORY, limit=MAX_STORY)
        return self._ask(at, note)

    def interrupted(self, content: Content, state: ConversationState) -> list[Reply]:
        """/start or a menu button mid-report: continue or cancel, never lose the draft silently."""
        return [Reply(content.render("report_interrupted"), self.reminder(content).buttons)]

    def reminder(self, content: Content) -> Reply:
        return Reply(content.render("report_draft_reminder"), (
            Button(content.label("report_resume"), _r("resume")),
            Button(content.label("report_cancel"), _r("cancel_yes")),
        ))

    def ask_cancel(self, content: Content, state: ConversationState) -> list[Reply]:
        return [Reply(content.render("report_cancel_confirm"), (
            Button(content.label("report_cancel_yes"), _r("cancel_yes")),
            Button(content.label("report_resume"), _r("resume")),
        ))]

    def prompt(self, content: Content, state: ConversationState, note: str | None = None) -> list[Reply]:
        """The question of the current step (again), optionally after a short note."""
        return self._ask(self._at(content, state), note)

    # ---- input -------------------------------------------------------------------------------

    def on_press(self, content: Content, state: ConversationState, arg: str | None) -> list[Reply]:
        arg = arg or ""
        if not self.in_progress(state):
            if arg == "send" and state.data.get(SENT_CODE):  # the same press again: the report is filed
                return [with_menu(content, "report_already_sent", code=state.data[SENT_CODE])]
            if arg in ("resume", "cancel", "cancel_yes", "send"):
                return [with_menu(content, "report_no_draft")]
            return [with_menu(content, "button_expired")]
        at = self._at(content, state)
        replies = self._press(at, arg)
        self._keep(at)
        return replies

    def on_text(self, content: Content, state: ConversationState, text: str) -> list[Reply]:
        at = self._at(content, state)
        replies = self._text(at, text.strip())
        self._keep(at)
        return replies

    def answers_step(self, content: Content, state: ConversationState, text: str) -> bool:
        """Whether the text answers the current step even when it tells a danger: a story, a place, a person or a
        time in the reporter's own words (the danger question came first: "PT X memukul adik saya ..." is the
        story), or a button's label typed ("Ditahan atau dikurung"). A plea elsewhere is no category, no phone
        number, no "send"."""
        at = self._at(content, state)
        return at.step in TOLD_STEPS or self._typed_button(at, text) is not None

    def on_attachment(self, content: Content, state: ConversationState, kind: str, file_id: str | None,
                      phone: str | None) -> list[Reply]:
        at = self._at(content, state)
        on_file = step_table()[at.step].on_file
        replies = on_file(self, at, Attachment(kind, file_id, phone)) if on_file else None
        if replies is None:
            replies = self._ask(at, at.render("report_attachment_not_now", kind=kind))
        self._keep(at)
        return replies

    def _press(self, at: At, arg: str) -> list[Reply]:
        if arg == "resume":
            return self._ask(at)
        if arg == "cancel":
            return self.ask_cancel(at.content, at.state)
        if arg == "cancel_yes":
            at.state.reset()
            return [with_menu(at.content, "report_cancelled")]
        spec = step_table()[at.step]
        if arg == "skip" and spec.skippable:
            return self._advance(at)
        replies = spec.on_press(self, at, arg) if spec.on_press else None
        if replies is None:  # a button of another step (an old message) or forged data
            return self._ask(at, at.render("report_button_old"))
        return replies

    def _text(self, at: At, text: str) -> list[Reply]:
        if not text:
            return self._ask(at, at.render("report_empty"))
        typed = self._typed_button(at, text)
        if typed is not None:  # the keyboard is often hidden on phones: typed words work like the buttons
            return self._press(at, typed)
        on_text = step_table()[at.step].on_text
        if on_text is None:
            return self._ask(at, at.render("report_use_buttons"))
        return on_text(self, at, text)

    def _typed_button(self, at: At, text: str) -> str | None:
        """The button a typed answer means: its label, or a word for it (batal, lewati, selesai, kirim, ubah)."""
        said = normalise(text)
        if said in CANCEL_WORDS:
            return "cancel"
        spec = step_table()[at.step]
        if spec.free_text:
            return None
        words = (SKIP_WORDS if spec.skippable else {}) | dict(spec.words)
        if said in words:
            return words[said]
        return next((b.data.removeprefix(f"{actions.REPORT}:") for b in self._buttons(at, spec)
                     if normalise(b.label) == said), None)

    # ---- the questions -----------------------------------------------------------------------

    def _ask(self, at: At, note: str | None = None) -> list[Reply]:
        spec = step_table()[at.step]
        text = self._question(at, spec, Markup(note) if note else None)  # notes are our own rendered templates
        if spec.keyboard is not None:
            return [Reply(text, keyboard=spec.keyboard(at.content))]
        return [Reply(text, self._buttons(at, spec), columns=spec.columns)]

    def _question(self, at: At, spec: StepSpec, note: Markup | None) -> str:
        facts = spec.facts(self, at) if spec.facts else {}
        text = at.content.render(spec.question, note=note, **facts)
        if telegram_len(text) <= TELEGRAM_TEXT_LIMIT:
            return text
        # Only the summary grows this long: it repeats the story (emoji count double). Show its start, say so.
        typed = facts["secret"]
        without_story = at.content.render(spec.question, note=note, **(facts | {"secret": replace(typed, what="")}))
        room = TELEGRAM_TEXT_LIMIT - telegram_len(without_story) - 200
        head = utf16_cut(typed.what or "", max(0, room))
        cut_note = at.render("report_summary_cut")
        note = Markup(f"{note}\n\n{cut_note}") if note else Markup(cut_note)  # our own templates
        return at.content.render(spec.question, note=note, **(facts | {"secret": replace(typed, what=f"{head} […]")}))

    @staticmethod
    def _buttons(at: At, spec: StepSpec) -> tuple[Button, ...]:
        content = at.content
        choices = spec.choices(content, at.draft) if spec.choices else ()
        skip = (Button(content.label("report_skip"), _r("skip")),) if spec.skippable and spec.skip_button else ()
        return (*choices, *skip, Button(content.label("report_cancel"), _r("cancel")))

    def _place_facts(self, at: At) -> dict[str, Any]:
        return {"abroad": at.draft.where == LocationKind.ABROAD}

    def _evidence_facts(self, at: At) -> dict[str, Any]:
        return {"count": len(at.draft.evidence)}

    def _summary_facts(self, at: At) -> dict[str, Any]:
        draft = at.draft
        typed = at.service.open_draft(draft)
        return {
            "draft": draft,
            "secret": typed,
            "place": place_name(at.content, draft.where, draft.place_code) or typed.place,
            "agency": self._registry.get(draft.agency_id) if draft.agency_id else None,
            "evidence": len(draft.evidence),
            "category": at.content.report_options.categories.get(draft.category or ""),
        }

    # ---- the steps' handlers (see step_table) ------------------------------------------------

    def _press_danger(self, at: At, arg: str) -> list[Reply] | None:
        if arg not in ("danger_yes", "danger_no"):
            return None
        return self._answer_danger(at, arg == "danger_yes")

    def _text_danger(self, at: At, text: str) -> list[Reply]:
        words = set(normalise(text).split())
        if words & YES_WORDS and not words & NO_WORDS:
            return self._answer_danger(at, True)
        if words & NO_WORDS:
            return self._answer_danger(at, False)
        return self._ask(at, at.render("report_use_buttons"))

    def _answer_danger(self, at: At, urgent: bool) -> list[Reply]:
        at.draft.urgent = urgent
        replies = [Reply(at.render("report_emergency"))] if urgent else []
        return replies + self._advance(at)

    def _text_what(self, at: At, text: str) -> list[Reply]:
        if not any(ch.isalpha() for ch in text):
            return self._ask(at, at.render("report_need_words"))
        self._write(at, what=utf16_cut(text, MAX_STORY))
        at.draft.story_by_voice = False
        note = at.render("report_story_cut", limit=MAX_STORY) if utf16_len(text) > MAX_STORY else None
        return self._advance(at, note)

    def _voice_story(self, at: At, file: Attachment) -> list[Reply] | None:
        """Telling it by voice is easier for many than typing: the voice note is the story (and evidence). A new
        voice story (through "edit") replaces the earlier one; the evidence cap holds on every path."""
        if file.kind not in VOICE_KINDS or not file.file_id:
            return None
        draft = at.draft
        evidence = [item for item in draft.evidence if item != draft.story_voice]
        if len(evidence) >= MAX_EVIDENCE:
            return self._ask(at, at.render("report_evidence_full", limit=MAX_EVIDENCE))
        voice = Evidence(file.kind, file.file_id)
        draft.evidence, draft.story_voice, draft.story_by_voice = [*evidence, voice], voice, True
        return self._advance(at, at.render("report_story_voice"))

    def _press_category(self, at: At, arg: str) -> list[Reply] | None:
        key = arg.removeprefix("cat_")
        if not arg.startswith("cat_") or key not in at.content.report_options.categories:
            return None
        at.draft.category = key
        return self._advance(at)

    def _press_where(self, at: At, arg: str) -> list[Reply] | None:
        if arg == "where_ntt":
            at.go(Step.WHERE_NTT)
        elif arg == "where_abroad":
            at.go(Step.WHERE_COUNTRY)
        elif arg == "where_indonesia":
            at.draft.where, at.draft.place_code = LocationKind.INDONESIA, None
            at.go(Step.WHERE_PLACE)
        else:
            return None
        return self._ask(at)

    def _press_regency(self, at: At, arg: str) -> list[Reply] | None:
        code = arg.removeprefix("reg_")
        if not arg.startswith("reg_") or code not in at.content.report_options.regencies:
            return None
        return self._set_place(at, LocationKind.NTT, code)

    def _press_country(self, at: At, arg: str) -> list[Reply] | None:
        if arg == "ctry_other":
            at.draft.where, at.draft.place_code = LocationKind.ABROAD, None
            at.go(Step.WHERE_PLACE)
            return self._ask(at)
        code = arg.removeprefix("ctry_")
        if not arg.startswith("ctry_") or code not in at.content.countries:
            return None
        return self._set_place(at, LocationKind.ABROAD, code)

    def _text_place(self, at: At, text: str) -> list[Reply]:
        """A typed place: a regency or a country we know becomes a choice, anything else is kept as written."""
        regency = _regency_in_text(at.content, text)
        country = countries.country_in_text(at.content, text)
        if regency is not None and at.step is not Step.WHERE_COUNTRY:
            return self._set_place(at, LocationKind.NTT, regency)
        if country is not None:
            return self._set_place(at, LocationKind.ABROAD, country)
        if at.step is Step.WHERE_NTT:
            at.draft.where = LocationKind.NTT
        elif at.step is Step.WHERE_COUNTRY:
            at.draft.where = LocationKind.ABROAD
        at.draft.place_code = None
        self._write(at, place=utf16_cut(text, MAX_SHORT))
        return self._advance(at)

    def _set_place(self, at: At, kind: LocationKind, code: str) -> list[Reply]:
        at.draft.where, at.draft.place_code = kind, code
        self._write(at, place=None)
        replies = []
        if kind is LocationKind.ABROAD and at.draft.urgent:
            country = at.content.countries[code]
            replies.append(Reply(at.render("report_country_help", country=country, missions=country.missions or [])))
        return replies + self._advance(at)

    def _text_who(self, at: At, text: str) -> list[Reply]:
        self._write(at, who=utf16_cut(text, MAX_SHORT))
        record = self._agency_named(text)
        at.draft.agency_id = record.id if record is not None else None
        note = None
        if record is not None:
            note = at.render("report_agency_note", agency=record, stamp=self._registry.stamp(record),
                           ntt_branches=ntt_branches(record))
        return self._advance(at, note)

    def _agency_named(self, text: str) -> AgencyRecord | None:
        """The registry's agency when the text clearly names one ("PT Sinar Jaya", or just a company name)."""
        named = _COMPANY.search(text)
        query = named.group(0) if named else (text if len(text.split()) <= 5 else None)
        if query is None:
            return None
        lookup = self._registry.lookup(query)
        return self._registry.get(lookup.agency_ids[0]) if lookup.kind == Found.CLEAR else None

    def _press_when(self, at: At, arg: str) -> list[Reply] | None:
        key = arg.removeprefix("when_")
        if not arg.startswith("when_") or key not in at.content.report_options.when:
            return None
        self._write(at, when=at.content.report_options.when[key])
        return self._advance(at)

    def _text_when(self, at: At, text: str) -> list[Reply]:
        self._write(at, when=utf16_cut(text, MAX_SHORT))
        return self._advance(at)

    def _press_evidence(self, at: At, arg: str) -> list[Reply] | None:
        return self._advance(at) if arg == "evidence_done" else None

    def _text_evidence(self, at: At, text: str) -> list[Reply]:
        return self._ask(at, at.render("report_evidence_text"))

    def _add_evidence(self, at: At, file: Attachment) -> list[Reply]:
        if file.kind not in EVIDENCE_KINDS or not file.file_id:
            return self._ask(at, at.render("report_attachment_not_evidence", kind=file.kind))
        evidence = at.draft.evidence
        if len(evidence) >= MAX_EVIDENCE:
            return self._ask(at, at.render("report_evidence_full", limit=MAX_EVIDENCE))
        item = Evidence(file.kind, file.file_id)
        if item not in evidence:
            evidence.append(item)
        return self._ask(at, at.render("report_evidence_received", count=len(evidence)))

    def _text_contact(self, at: At, text: str) -> list[Reply]:
        label = at.content.label
        keys = {label("report_contact_bot"): ContactMode.BOT, label("report_contact_anonymous"): ContactMode.ANONYMOUS}
        mode = CONTACT_WORDS.get(normalise(text)) or keys.get(text)
        if mode is not None:
            return self._set_contact(at, mode, phone=None)
        if text == label("report_contact_share"):
            return self._ask(at, at.render("report_contact_button_help"))
        return self._set_phone(at, text)

    def _shared_contact(self, at: At, file: Attachment) -> list[Reply] | None:
        return self._set_phone(at, file.phone) if file.kind == "contact" and file.phone else None

    def _set_phone(self, at: At, phone: str) -> list[Reply]:
        digits = re.sub(r"\D", "", phone)
        if not _PHONE_CHARS.match(phone.strip()) or not 8 <= len(digits) <= 15:
            return self._ask(at, at.render("report_phone_invalid"))
        return self._set_contact(at, ContactMode.PHONE, phone=phone.strip()[:30])

    def _set_contact(self, at: At, mode: ContactMode, phone: str | None) -> list[Reply]:
        at.draft.contact = mode
        self._write(at, phone=phone)
        return [Reply(at.render("report_contact_noted", mode=mode), remove_keyboard=True)] + self._advance(at)

    def _press_confirm(self, at: At, arg: str) -> list[Reply] | None:
        if arg == "send":
            report = at.service.submit(at.draft, at.state.chat_id)
            # Anonymous means unlinkable: nothing about the report stays with this chat (the reporter was told to
            # save the code); otherwise the code answers a second press of "send".
            at.state.reset({SENT_CODE: report.code} if report.contact_mode != ContactMode.ANONYMOUS else {})
            return [with_menu(at.content, "report_sent", report=report)]
        label = at.content.label
        editable = {f"edit_{step}": (step, spec.edit_label) for step, spec in step_table().items() if spec.edit_label}
        if arg == "edit":
            return [Reply(at.render("report_edit_which"), (
                *(Button(label(edit_label), _r(data)) for data, (_step, edit_label) in editable.items()),
                Button(label("report_back_to_summary"), _r("resume"))))]
        if arg not in editable:
            return None
        at.draft.editing = True
        at.go(editable[arg][0])
        return self._ask(at)

    # ---- helpers -----------------------------------------------------------------------------

    def _at(self, content: Content, state: ConversationState) -> At:
        assert self._service is not None  # callers checked in_progress()
        return At(content, state, self.draft(state), self._service)

    def _keep(self, at: At) -> None:
        if at.state.flow == FLOW:  # not sent or cancelled
            self.keep(at.state, at.draft)

    def _advance(self, at: At, note: str | None = None) -> list[Reply]:
        spec = step_table()[at.step]
        following = step_table()[spec.part_of].next if spec.part_of else spec.next
        if following == Step.WHAT and not at.draft.editing and at.service.open_draft(at.draft).what:
            following = step_table()[Step.WHAT].next  # told with the wish to report (`start`)
            note = at.render("report_story_kept")
        if at.draft.editing or following is None:
            at.draft.editing = False
            at.go(Step.CONFIRM)
        else:
            at.go(following)
        return self._ask(at, note)

    def _write(self, at: At, **typed: str | None) -> None:
        """Change what the reporter typed (sealed in the draft)."""
        at.service.seal_draft(at.draft, replace(at.service.open_draft(at.draft), **typed))


# ---- the steps' buttons (see step_table) -----------------------------------------------------------------------

def _danger_choices(content: Content, draft: ReportDraft) -> tuple[Button, ...]:
    return (Button(content.label("report_danger_yes"), _r("danger_yes")),
            Button(content.label("report_danger_no"), _r("danger_no")))


def _category_choices(content: Content, draft: ReportDraft) -> tuple[Button, ...]:
    return tuple(Button(label, _r(f"cat_{key}")) for key, label in content.report_options.categories.items())


def _where_choices(content: Content, draft: ReportDraft) -> tuple[Button, ...]:
    return (Button(content.label("report_where_ntt"), _r("where_ntt")),
            Button(content.label("report_where_indonesia"), _r("where_indonesia")),
            Button(content.label("report_where_abroad"), _r("where_abroad")))


def _regency_choices(content: Content, draft: ReportDraft) -> tuple[Button, ...]:
    return tuple(Button(name, _r(f"reg_{code}")) for code, name in content.report_options.regencies.items())


def _country_choices(content: Content, draft: ReportDraft) -> tuple[Button, ...]:
    return (*(Button(content.countries[code].name, _r(f"ctry_{code}")) for code in countries.ordered_codes(content)),
            Button(content.label("report_other_country"), _r("ctry_other")))


def _when_choices(content: Content, draft: ReportDraft) -> tuple[Button, ...]:
    return tuple(Button(label, _r(f"when_{key}")) for key, label in content.report_options.when.items())


def _evidence_choices(content: Content, draft: ReportDraft) -> tuple[Button, ...]:
    return (Button(content.label("report_evidence_done" if draft.evidence else "report_skip"), _r("evidence_done")),)


def _contact_keys(content: Content) -> tuple[str, ...]:
    return (content.label("report_contact_share"), content.label("report_contact_bot"),
            content.label("report_contact_anonymous"))


def _summary_choices(content: Content, draft: ReportDraft) -> tuple[Button, ...]:
    return (Button(content.label("report_send"), _r("send")), Button(content.label("report_edit"), _r("edit")))


def _regency_in_text(content: Content, text: str) -> str | None:
    words = f" {normalise(text)} "
    for code, name in content.report_options.regencies.items():
        bare = normalise(name.replace("Kab.", "").replace("Kota", ""))
        if f" {bare} " in words:
            return code
    return None
