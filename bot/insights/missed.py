"""What the bot missed, for editors: kept messages grouped by their nearest topic, with counts (`insights missed`)."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.content import Content
from bot.nlu.local_classifier import local_classifier
from bot.nlu.training_data import matcher_examples
from db.insights import MissedRow

NO_TOPIC = "-"
MIN_MATCH = 0.3  # the local classifier's probability from which a label counts as the nearest topic


@dataclass
class MissedMessage:
    text: str
    count: int
    outcomes: set[str] = field(default_factory=set)
    last_day: date | None = None


@dataclass
class MissedGroup:
    label: str  # "faq/biaya", "check_agency", ... or "-"
    title: str
    messages: list[MissedMessage]

    @property
    def count(self) -> int:
        return sum(m.count for m in self.messages)


def group_missed(rows: list[MissedRow], content: Content, nlu_data_dir: Path) -> list[MissedGroup]:
    """Group by the label NLU guessed when it guessed a topic, else by the local classifier's best guess now."""
    classifier = local_classifier(matcher_examples(content, nlu_data_dir))
    groups: dict[str, dict[str, MissedMessage]] = {}
    for row in rows:
        label = row.guess if _is_topic(row.guess, content) else ""
        if not label:
            understanding = classifier.parse(row.text)
            best = next((pair for pair in understanding.candidates if pair[0] != "nlu_fallback"), None)
            label = best[0] if best and best[1] >= MIN_MATCH else NO_TOPIC
        message = groups.setdefault(label, {}).setdefault(row.text, MissedMessage(row.text, 0))
        message.count += row.count
        message.outcomes.add(row.outcome)
        message.last_day = max(filter(None, (message.last_day, row.last_day)), default=None)
    result = [MissedGroup(label, title_of(content, label),
                          sorted(messages.values(), key=lambda m: (-m.count, m.text)))
              for label, messages in groups.items()]
    return sorted(result, key=lambda g: (g.label == NO_TOPIC, -g.count, g.label))


def _is_topic(label: str, content: Content) -> bool:
    if not label or label == "nlu_fallback":
        return False
    if label.startswith("faq/"):
        return label[4:] in content.topics
    return not label.startswith(("agency:", "country:"))


def title_of(content: Content, label: str) -> str:
    if label.startswith("faq/") and label[4:] in content.topics:
        return content.topics[label[4:]].title
    return {NO_TOPIC: "no topic near"}.get(label, label)


def print_groups(groups: list[MissedGroup], out: TextIO, per_group: int = 15) -> None:
    if not groups:
        print("No missed messages in this period.", file=out)
        return
    total = sum(g.count for g in groups)
    print(f"{total} missed messages in {len(groups)} groups (nearest topic; count = times asked)\n", file=out)
    for group in groups:
        print(f"{group.label}  {group.title}  ({group.count} times, {len(group.messages)} different)", file=out)
        for message in group.messages[:per_group]:
            print(f"  {message.count:5d}  {'/'.join(sorted(message.outcomes)):<28} {message.text}", file=out)
        if len(group.messages) > per_group:
            print(f"  ... {len(group.messages) - per_group} more (use --csv for all)", file=out)
        print(file=out)


def write_csv(groups: list[MissedGroup], path: Path) -> int:
    """One line per message: topic, topic title, count, outcomes, last day, text. Returns the number of lines."""
    lines = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["topic", "topic_title", "count", "outcomes", "last_day", "text"])
        for group in groups:
            for message in group.messages:
                writer.writerow([group.label, group.title, message.count, "/".join(sorted(message.outcomes)),
                                 message.last_day.isoformat() if message.last_day else "", message.text])
                lines += 1
    return lines
