"""A report being written: the reporter's answers so far, kept in the chat state until the report is sent.

The draft is stored as JSON under `state.data["report"]`, and that whole value is encrypted at rest (db/chat_state.py
SEALED_KEYS). What the reporter typed is sealed once more inside it (`secret`, a DraftText), so it stays unreadable
wherever the draft is handled in the clear. Drafts saved before these types existed read back the same: every key is
optional in `from_dict`.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from db.enums import ContactMode, LocationKind

STATE_KEY = "report"  # where the draft lives in the chat state (sealed as a whole: db/chat_state.py SEALED_KEYS)


class Evidence(NamedTuple):
    """A file the reporter sent, by the channel's file id (the file stays on Telegram's servers)."""

    kind: str  # "photo", "document", "voice", "audio", "video"
    file_id: str


@dataclass(frozen=True)
class DraftText:
    """What the reporter typed (or chose as text); sealed inside the draft."""

    what: str | None = None  # the story
    who: str | None = None
    when: str | None = None
    place: str | None = None  # a place typed rather than chosen
    phone: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DraftText:
        return cls(what=data.get("what"), who=data.get("who"), when=data.get("when"), place=data.get("place"),
                   phone=data.get("phone"))


@dataclass
class ReportDraft:
    """The reporter's answers so far; the chat state keeps `to_dict()`."""

    key: str  # filing the same draft twice (a redelivered press) finds the first report
    secret: str | None = None  # the sealed DraftText
    urgent: bool = False  # someone is in danger now
    category: str | None = None  # a key of content/report_options.yml categories
    where: LocationKind | None = None
    place_code: str | None = None  # a regency code (NTT) or a country code (abroad)
    agency_id: int | None = None  # the registry's agency the reporter named
    contact: ContactMode = ContactMode.ANONYMOUS  # until the reporter chooses
    evidence: list[Evidence] = field(default_factory=list)
    story_voice: Evidence | None = None  # the voice note that told the story (also in `evidence`)
    story_by_voice: bool = False  # the story is that voice note (a typed story replaces it)
    editing: bool = False  # changing one answer from the summary: the next answer returns to it
    reminded: bool = False  # the idle draft's one reminder was sent

    @classmethod
    def new(cls) -> ReportDraft:
        return cls(key=secrets.token_urlsafe(18))

    def to_dict(self) -> dict[str, Any]:
        """The JSON kept in the chat state."""
        return {
            "key": self.key, "secret": self.secret, "urgent": self.urgent, "category": self.category,
            "where": self.where, "place_code": self.place_code, "agency_id": self.agency_id, "contact": self.contact,
            "evidence": [list(item) for item in self.evidence],
            "story_voice": list(self.story_voice) if self.story_voice else None,
            "story_by_voice": self.story_by_voice, "editing": self.editing, "reminded": self.reminded,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportDraft:
        story_voice = data.get("story_voice")
        return cls(
            key=data["key"], secret=data.get("secret"), urgent=bool(data.get("urgent")),
            category=data.get("category"),
            where=LocationKind(data["where"]) if data.get("where") else None,
            place_code=data.get("place_code"), agency_id=data.get("agency_id"),
            contact=ContactMode(data["contact"]) if data.get("contact") else ContactMode.ANONYMOUS,
            evidence=[Evidence(*item) for item in data.get("evidence") or ()],
            story_voice=Evidence(*story_voice) if story_voice else None,
            story_by_voice=bool(data.get("story_by_voice")), editing=bool(data.get("editing")),
            reminded=bool(data.get("reminded")),
        )
