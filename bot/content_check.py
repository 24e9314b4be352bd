"""`python -m bot content check`: validate everything in content/ the way the running bot will use it."""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import re

import jinja2
import yaml

from bot.content import Content, ContentError, FaqTopic
from bot.dialogue import actions
from bot.nlu.normalise import normalise

MAX_ANSWER_CHARS = 3500
MIN_QUESTIONS = 15
STALE_AFTER = timedelta(days=180)
RELATED_MENU_ENTRIES = (actions.MENU_FAQ, actions.MENU_AGENCY, actions.MENU_REPORT, actions.MENU_EMERGENCY)
COUNTRY_STATUSES = ("tujuan_penempatan", "moratorium_sebagian", "bukan_tujuan", "belum_pasti")
CONTACT_FIELDS = ("name", "number", "source", "seen")
MAX_GROUP_TOPICS = 8


def _line_of(path: Path, needle: str) -> int:
    """The first line of `path` that contains `needle` (1-based), or 1."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    return 1


def check_topic(content: Content, topic: FaqTopic) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    where = lambda needle: f"{topic.path}:{_line_of(topic.path, needle)}"  # noqa: E731
    try:
        rendered = content.render_answer(topic.id)
        if len(rendered) > MAX_ANSWER_CHARS:
            errors.append(f"{where('answer:')}: answer is {len(rendered)} characters, at most {MAX_ANSWER_CHARS}")
    except jinja2.TemplateError as exc:
        errors.append(f"{where('answer:')}: answer does not render: {exc}")
    if len(topic.questions) < MIN_QUESTIONS:
        errors.append(f"{where('questions:')}: {len(topic.questions)} question examples, at least {MIN_QUESTIONS}")
    for related in topic.related:
        if related not in content.topics and related not in RELATED_MENU_ENTRIES:
            errors.append(f"{where('related:')}: related {related!r} is neither a topic nor a menu entry")
    for url in topic.sources:
        parsed = urlparse(str(url))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors.append(f"{where(str(url))}: source {url!r} is not a well-formed http(s) URL")
    if date.today() - topic.last_verified > STALE_AFTER:
        warnings.append(f"{where('last_verified:')}: last verified {topic.last_verified}, more than 180 days ago")
    return errors, warnings


def check_duplicate_questions(content: Content) -> list[str]:
    seen: dict[str, FaqTopic] = {}
    errors = []
    for topic in content.topics.values():
        for question in topic.questions:
            key = normalise(question)
            other = seen.setdefault(key, topic)
            if other is not topic:
                errors.append(
                    f"{topic.path}:{_line_of(topic.path, question)}: question {question!r} is also under topic {other.id!r}"
                )
    return errors


def check_outdated_terms(content: Content) -> list[str]:
    """Outdated names from content/lint.yml must not appear in answers or templates (except where allowed)."""
    with (content.root / "lint.yml").open(encoding="utf-8") as handle:
        terms = (yaml.safe_load(handle) or {}).get("terms") or []
    texts = [(topic.path, topic.id, topic.answer) for topic in content.topics.values()]
    texts += [(path, None, path.read_text(encoding="utf-8")) for path in sorted((content.root / "templates").glob("*.j2"))]
    errors = []
    for entry in terms:
        pattern = re.compile(rf"(?<!\w){re.escape(entry['term'])}(?!\w)", re.IGNORECASE)
        for path, topic_id, text in texts:
            if topic_id in (entry.get("allowed_in") or ()):
                continue
            match = pattern.search(text)
            if match:
                errors.append(f"{path}:{_line_of(path, match.group(0))}: outdated term {match.group(0)!r}; "
                              f"use {entry['use_instead']}")
    return errors


def check_contacts_and_countries(content: Content) -> list[str]:
    errors = []
    contacts_path = content.root / "contacts.yml"
    for key, contact in content.contacts.items():
        missing = [name for name in CONTACT_FIELDS if not (contact or {}).get(name)]
        if missing:
            errors.append(f"{contacts_path}:{_line_of(contacts_path, key + ':')}: {key} lacks {', '.join(missing)}")
    for code, country in content.countries.items():
        path = content.root / "countries" / f"{code}.yml"
        if country.get("status") not in COUNTRY_STATUSES:
            errors.append(f"{path}:{_line_of(path, 'status:')}: status must be one of {', '.join(COUNTRY_STATUSES)}")
        for field in ("name", "notes", "last_verified"):
            if not country.get(field):
                errors.append(f"{path}:1: missing field {field}")
        for mission in country.get("missions") or []:
            missing = [name for name in CONTACT_FIELDS if not mission.get(name)]
            if missing:
                errors.append(f"{path}:{_line_of(path, str(mission.get('name')))}: mission lacks {', '.join(missing)}")
    return errors


def check_topic_menu(content: Content) -> list[str]:
    """Every topic sits in exactly one group of content/topic_menu.yml, and groups name real topics."""
    path = content.root / "topic_menu.yml"
    errors = []
    placed: dict[str, str] = {}
    for group in content.topic_menu:
        where = f"{path}:{_line_of(path, 'id: ' + str(group.get('id')))}"
        if not group.get("id") or not group.get("title") or not group.get("topics"):
            errors.append(f"{where}: a group needs id, title and topics")
            continue
        if len(group["topics"]) > MAX_GROUP_TOPICS:
            errors.append(f"{where}: {len(group['topics'])} topics, at most {MAX_GROUP_TOPICS}")
        for topic_id in group["topics"]:
            if topic_id not in content.topics:
                errors.append(f"{where}: topic {topic_id!r} does not exist")
            elif topic_id in placed:
                errors.append(f"{where}: topic {topic_id!r} is also in group {placed[topic_id]!r}")
            placed[topic_id] = group["id"]
    for topic_id in content.topics:
        if topic_id not in placed:
            errors.append(f"{path}:1: topic {topic_id!r} is in no group, so no button leads to it")
    return errors


def check_report_options(content: Content) -> list[str]:
    """content/report_options.yml: the keys the code and the database rely on must all be there."""
    from bot.reports.service import STATUSES

    path = content.root / "report_options.yml"
    options = content.report_options
    errors = [f"{path}:1: missing section {name}" for name in ("categories", "when", "statuses", "regencies")
              if not options.get(name)]
    missing = [status for status in STATUSES if status not in (options.get("statuses") or {})]
    if missing:
        errors.append(f"{path}:{_line_of(path, 'statuses:')}: statuses lacks {', '.join(missing)}")
    for section in ("categories", "when", "regencies"):
        for key in options.get(section) or {}:
            if not re.fullmatch(r"[a-z0-9_]{1,20}", str(key)):
                errors.append(f"{path}:{_line_of(path, str(key))}: key {key!r} must be 1-20 of a-z, 0-9, _")
    return errors


def check_templates(content: Content) -> list[str]:
    errors = []
    for path in sorted((content.root / "templates").glob("*.j2")):
        try:
            content.env.parse(path.read_text(encoding="utf-8"))
        except jinja2.TemplateSyntaxError as exc:
            errors.append(f"{path}:{exc.lineno}: {exc.message}")
    return errors


def training_is_stale(content: Content, var_dir: Path) -> bool:
    from bot.nlu.training import model_path

    return not model_path(var_dir, content).exists()


def check_content(root: Path, var_dir: Path, out=sys.stdout) -> int:
    """Print every problem; return 0 when there is no error (warnings allowed)."""
    try:
        content = Content(root)
    except ContentError as exc:
        print(f"ERROR {exc}", file=out)
        return 1
    errors = (
        check_templates(content)
        + check_duplicate_questions(content)
        + check_outdated_terms(content)
        + check_contacts_and_countries(content)
        + check_topic_menu(content)
        + check_report_options(content)
    )
    warnings: list[str] = []
    for topic in content.topics.values():
        topic_errors, topic_warnings = check_topic(content, topic)
        errors += topic_errors
        warnings += topic_warnings
    for warning in warnings:
        print(f"WARNING {warning}", file=out)
    for error in errors:
        print(f"ERROR {error}", file=out)
    if training_is_stale(content, var_dir):
        print("NOTE question examples or NLU data changed: run `python -m bot train` so the bot learns them.", file=out)
    status = "FAILED" if errors else "OK"
    print(f"content check {status}: {len(content.topics)} topics, {len(errors)} errors, {len(warnings)} warnings", file=out)
    return 1 if errors else 0
