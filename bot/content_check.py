"""`python -m bot content check`: validate everything in content/ the way the running bot will use it."""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import jinja2

from bot.content import Content, ContentError, FaqTopic
from bot.nlu.normalise import normalise

MAX_ANSWER_CHARS = 3500
MIN_QUESTIONS = 15
STALE_AFTER = timedelta(days=180)


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
        if related not in content.topics:
            errors.append(f"{where('related:')}: related topic {related!r} does not exist")
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
    errors = check_templates(content) + check_duplicate_questions(content)
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
