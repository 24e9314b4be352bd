"""Everything a user reads: FAQ topics, contacts, button labels and Jinja2 message templates from `content/`.

`ContentStore.current()` returns an immutable snapshot and reloads it when a file under `content/` changed,
so edited answers reach users without a restart.
"""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import jinja2
import yaml
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from bot.content_models import (
    ContentError,
    Country,
    ReportOptions,
    TopicGroup,
    parse_country,
    parse_entries,
    parse_report_options,
    parse_texts,
    parse_topic_menu,
)
from bot.yaml_files import read_yaml
from db.enums import CLOSED_STATUSES, OPEN_STATUSES

MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)
WITA = timezone(timedelta(hours=8))
FAQ_REQUIRED_FIELDS = ("id", "title", "questions", "answer", "legal_basis", "sources", "last_verified", "review_status")
# Who reads a topic: people still in Indonesia, people already abroad, or both. Phone numbers in text for
# people abroad must work from abroad (`content check` enforces it); a topic without `audience` counts as both.
AUDIENCES = ("indonesia", "luar_negeri", "semua")
DEFAULT_AUDIENCE = "semua"


log = logging.getLogger(__name__)


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """Templates and FAQ answers are hot-reloaded files anyone with access to `content/` may edit, so they run in
    Jinja2's immutable sandbox: no attribute starting with `_` (the way to `__globals__`, `__class__`, ...), no
    method that changes a list or dict, and only the filters and globals the bot registers."""

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        return not attr.startswith("_") and super().is_safe_attribute(obj, attr, value)


def template_environment(loader: jinja2.BaseLoader | None = None) -> TemplateEnvironment:
    env = TemplateEnvironment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals.clear()  # drop range, lipsum, cycler, joiner, namespace, dict: content needs none of them
    return env


def unsafe_references(env: jinja2.Environment, source: str) -> list[str]:
    """Attribute or item names starting with `_` a template touches (`x._y`, `x['_y']`, `x|attr('_y')`).

    The sandbox refuses them when rendering anyway; `content check` (through ContentError at load) rejects the file
    so the mistake or the attack is seen before anyone reads the answer."""
    found: list[str] = []
    for node in env.parse(source).find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        names: list[object] = []
        if isinstance(node, nodes.Getattr):
            names = [node.attr]
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            names = [node.arg.value]
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            names = [a.value for a in node.args if isinstance(a, nodes.Const)]
        found += [name for name in names if isinstance(name, str) and name.startswith("_")]
    return found


@dataclass(frozen=True)
class FaqTopic:
    id: str
    title: str
    questions: tuple[str, ...]
    answer: str
    related: tuple[str, ...]
    legal_basis: str
    sources: tuple[str, ...]
    last_verified: date
    review_status: str
    path: Path
    audience: str = DEFAULT_AUDIENCE
    # Destinations (content/countries/ codes) the answer opens with; a message naming one other country alone gets
    # that country's card instead, the topic offered beside it.
    countries: tuple[str, ...] = ()
    # The answer helps someone in danger now (rights, where to complain): sent right after the emergency contacts
    # when a danger is told with a question about this topic. Not a topic whose answer could harm them then
    # (changing employer "can get you detained") nor a destination's advice on going there.
    beside_danger: bool = False


def tanggal(value: date) -> str:
    """Format a date the Indonesian way: 27 November 2026."""
    return f"{value.day} {MONTHS_ID[value.month - 1]} {value.year}"


def bulan(value: date) -> str:
    """Month and year, for dates sources give only to the month: September 2025."""
    return f"{MONTHS_ID[value.month - 1]} {value.year}"


def waktu(value: datetime) -> str:
    """A moment in NTT's time zone (WITA, UTC+8): 28 November 2026 09.15 WITA."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(WITA)
    return f"{tanggal(local)} {local:%H.%M} WITA"


def lama(age: timedelta) -> str:
    """How long ago, roughly: 45 menit, 5 jam, 3 hari."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} menit"
    if minutes < 48 * 60:
        return f"{minutes // 60} jam"
    return f"{minutes // (24 * 60)} hari"


class Content:
    """One consistent snapshot of the content folder."""

    def __init__(self, root: Path):
        self.root = root
        self.topics = _load_topics(root / "faq")
        self.contacts = parse_entries(root / "contacts.yml", _load_yaml(root / "contacts.yml"))
        self.labels = parse_texts(root / "buttons.yml", _load_yaml(root / "buttons.yml"))
        self.commands = parse_texts(root / "commands.yml", _load_yaml(root / "commands.yml"))
        self.staff_commands = parse_texts(root / "staff_commands.yml", _load_yaml(root / "staff_commands.yml"))
        self.topic_menu: list[TopicGroup] = parse_topic_menu(
            root / "topic_menu.yml", _load_yaml(root / "topic_menu.yml") or [])
        self.report_options: ReportOptions = parse_report_options(
            root / "report_options.yml", _load_yaml(root / "report_options.yml"), OPEN_STATUSES + CLOSED_STATUSES)
        self.countries: dict[str, Country] = {
            path.stem: parse_country(path, _load_yaml(path)) for path in sorted((root / "countries").glob("*.yml"))}
        self.env = template_environment(jinja2.FileSystemLoader(root / "templates"))
        self._answer_bodies: dict[str, str] = {}
        self._refuse_unsafe_templates()
        self.env.filters["tanggal"] = tanggal
        self.env.filters["bulan"] = bulan
        self.env.filters["lama"] = lama
        self.env.filters["waktu"] = waktu
        self.env.globals["contacts"] = self.contacts
        self.env.globals["countries"] = self.countries
        self.env.globals["statuses"] = self.report_options.statuses
        self.env.globals["categories"] = self.report_options.categories

    def _refuse_unsafe_templates(self) -> None:
        sources = [(path, path.read_text(encoding="utf-8")) for path in sorted((self.root / "templates").glob("*.j2"))]
        sources += [(topic.path, topic.answer) for topic in self.topics.values()]
        for path, source in sources:
            try:
                unsafe = unsafe_references(self.env, source)
            except jinja2.TemplateSyntaxError:
                continue  # reported with its line by `content check`; rendering it fails safely
            if unsafe:
                raise ContentError(f"{path}: the template touches {', '.join(sorted(set(unsafe)))}: names starting "
                                   "with _ are not allowed in content (templates run sandboxed)")

    def render(self, template: str, **context: object) -> str:
        """Render `templates/<template>.j2` to Telegram HTML."""
        return self.env.get_template(f"{template}.j2").render(**context).strip()

    def answer_body(self, topic_id: str) -> str:
        """The topic's answer (itself a template over the contacts and countries) as HTML: rendered once per
        snapshot, since it depends on nothing else."""
        body = self._answer_bodies.get(topic_id)
        if body is None:
            body = self._answer_bodies[topic_id] = self.env.from_string(self.topics[topic_id].answer).render().strip()
        return body

    def render_answer(self, topic_id: str) -> str:
        """The topic's answer inside the answer frame."""
        return self.render("faq_answer", topic=self.topics[topic_id], body=Markup(self.answer_body(topic_id)))

    def label(self, key: str) -> str:
        return self.labels[key]


def _load_yaml(path: Path) -> object:
    try:
        return read_yaml(path) or {}
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: invalid YAML: {exc}") from None


def _load_topics(folder: Path) -> dict[str, FaqTopic]:
    topics: dict[str, FaqTopic] = {}
    for path in sorted(folder.glob("*.yml")):
        raw = _load_yaml(path)
        if not isinstance(raw, dict):
            raise ContentError(f"{path}: expected a mapping of fields")
        missing = [name for name in FAQ_REQUIRED_FIELDS if not raw.get(name)]
        if missing:
            raise ContentError(f"{path}: missing field(s): {', '.join(missing)}")
        if raw["id"] != path.stem:
            raise ContentError(f"{path}: id {raw['id']!r} must equal the file name {path.stem!r}")
        if not isinstance(raw["last_verified"], date):
            raise ContentError(f"{path}: last_verified must be a date like 2026-11-27")
        topics[raw["id"]] = FaqTopic(
            id=raw["id"],
            title=str(raw["title"]),
            questions=tuple(str(q) for q in raw["questions"]),
            answer=str(raw["answer"]),
            related=tuple(raw.get("related") or ()),
            legal_basis=str(raw["legal_basis"]),
            sources=tuple(raw["sources"]),
            last_verified=raw["last_verified"],
            review_status=str(raw["review_status"]),
            path=path,
            audience=str(raw.get("audience") or DEFAULT_AUDIENCE),
            countries=tuple(str(code) for code in raw.get("countries") or ()),
            beside_danger=raw.get("beside_danger") is True,
        )
    return topics


Signature = tuple[tuple[str, str, int, int], ...]  # (folder, file, mtime, size) of every content file


@functools.lru_cache(maxsize=8)
def _snapshot(root: Path, signature: Signature) -> Content:
    """The content of `root` as it was when its files had `signature`: loaded once, shared by every store of the
    same folder (a snapshot is never changed after loading)."""
    return Content(root)


class ContentStore:
    """Hands out the current content snapshot, reloading when files change on disk."""

    def __init__(self, root: Path):
        self.root = root
        self._signature = self._scan()
        self._content = _snapshot(root, self._signature)

    def current(self) -> Content:
        signature = self._scan()
        if signature != self._signature:
            self._signature = signature
            try:
                self._content = _snapshot(self.root, signature)
            except (ContentError, jinja2.TemplateError) as exc:
                log.error("content not reloaded, still serving the previous version: %s", exc)
        return self._content

    def _scan(self) -> Signature:
        entries = []
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                if name.endswith((".yml", ".j2")):
                    stat = os.stat(os.path.join(folder, name))
                    entries.append((folder, name, stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(entries))
