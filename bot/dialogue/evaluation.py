"""Right first reply: each message of a labelled set goes through the whole engine as a new conversation, and
the meaning it acted on (`Turn.meaning`) is compared with the expected one.

Labels (`expect`): `faq/<topic>`, `agency:<registry name>[|<name>...]`, `agency:?` (not in the registry),
`emergency`, `report`, `status`, `country:<code>`, `greet`, `goodbye`, `thanks`, `menu`, `bot_challenge`,
`affirm`, `deny`, `out_of_scope`; the older held-out file's intent names are mapped onto these.

- right: the first reply answers the expected meaning (for out_of_scope: the out-of-scope or not-understood reply;
  for `country:<code>`: that country's card or an FAQ topic about that country, such as the Korea and Japan topic
  for Korea);
- confident wrong: the bot acted on a wrong meaning (an answer, not a question or "not understood").
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from bot.content import Content
from bot.dialogue.messages import Turn, after_emergency
from bot.yaml_files import read_yaml

SETS_DIR = Path(__file__).resolve().parents[2] / "tests" / "nlu"
# Sets kept blind: every file named blind*.yml, wherever it lies (a new one is blind from the moment it is written).
# Their mistakes are never printed, so nobody tunes on them; only their figures are reported.
BLIND_PATTERN = "blind*.yml"


def is_blind(path: Path) -> bool:
    return fnmatch(path.name, BLIND_PATTERN)


# Regression guards for `nlu eval --check` (and so `make test`): the old held-out file has been tuned on, so its
# figures only tell when something broke; they are not what users get (that is blind.yml, reported, not gated).
GUARDS = {"heldout.yml": {"right first reply": (0.85, ">="), "confident wrong": (0.10, "<=")}}
EVAL_CHAT_ID = -42  # a chat id no channel uses: each message is a new conversation there
EVAL_TASKFORCE_CHAT_ID = -43  # the task force group of the evaluation's scratch database (nothing is sent)
NOT_ACTED = ("clarify", "not_understood", "no_words", "empty")
OLD_LABELS = {"check_agency": "agency", "report_trafficking": "report", "report_status": "status",
              "country_info": "country"}
KINDS = ("faq", "agency", "emergency", "report", "status", "country", "small_talk", "out_of_scope")
SMALL_TALK = ("greet", "goodbye", "thanks", "menu", "bot_challenge", "affirm", "deny")


@dataclass(frozen=True)
class Outcome:
    text: str
    expected: str
    meaning: str
    right: bool
    confident_wrong: bool

    @property
    def kind(self) -> str:
        return kind_of(self.expected)


def default_sets() -> list[Path]:
    return sorted(SETS_DIR.glob("*.yml"))


def kind_of(label: str) -> str:
    base = label.split("/")[0].split(":")[0]
    return "small_talk" if base in SMALL_TALK else base


def load_set(path: Path) -> list[tuple[str, str]]:
    items = read_yaml(path) or []
    return [(str(item["text"]), _label(item)) for item in items]


def _label(item: dict[str, object]) -> str:
    label = str(item.get("expect") or item.get("intent"))
    return OLD_LABELS.get(label, label)


def country_topics(content: Content) -> dict[str, frozenset[str]]:
    """For each country code, the labels of the FAQ topics about it (their `countries:`)."""
    return {code: frozenset(f"faq/{t}" for t, topic in content.topics.items() if code in topic.countries)
            for code in content.countries}


def is_right(expected: str, meaning: str, agency_ids: Callable[[str], int | None],
             country_topics: Mapping[str, frozenset[str]]) -> bool:
    """`country_topics`: for each country code, the labels of the FAQ topics about it (`faq/korea_jepang` for kr)."""
    if expected == "out_of_scope":
        return meaning in ("out_of_scope", "not_understood", "no_words")
    if expected == "agency":  # the older file: any agency answer or the agency prompt
        return meaning.startswith("agency:") or meaning == "check_agency"
    if expected == "country":
        return meaning.startswith("country:")
    if expected.startswith("agency:"):
        wanted = expected.split(":", 1)[1].split("|")
        ids = sorted("?" if name == "?" else str(agency_ids(name)) for name in wanted)
        got = meaning.split(":", 1)[1].split("|") if meaning.startswith("agency:") else []
        return sorted(got) == ids
    if expected.startswith("country:") and meaning in country_topics.get(expected.split(":", 1)[1], frozenset()):
        return True
    if meaning == "emergency_report":  # the emergency contacts first, then the report begun: both
        return expected in ("emergency", "report")
    if (asked := after_emergency(meaning)) is not None:  # the emergency contacts first, then the topic asked: both
        return expected in ("emergency", asked)
    return meaning == {"report": "report_trafficking", "status": "report_status"}.get(expected, expected)


def evaluate_set(handle: Callable[[str], Turn], examples: list[tuple[str, str]],
                 agency_ids: Callable[[str], int | None], country_topics: Mapping[str, frozenset[str]]
                 ) -> list[Outcome]:
    outcomes = []
    for text, expected in examples:
        meaning = handle(text).meaning or "none"
        right = is_right(expected, meaning, agency_ids, country_topics)
        outcomes.append(Outcome(text, expected, meaning, right, not right and meaning not in NOT_ACTED))
    return outcomes


def summary(outcomes: list[Outcome]) -> dict[str, float]:
    total = max(1, len(outcomes))
    figures = {"right first reply": sum(o.right for o in outcomes) / total,
               "confident wrong": sum(o.confident_wrong for o in outcomes) / total}
    for kind in KINDS:
        of_kind = [o for o in outcomes if o.kind == kind]
        if of_kind:
            figures[f"{kind} (n={len(of_kind)})"] = sum(o.right for o in of_kind) / len(of_kind)
    return figures


def render(name: str, outcomes: list[Outcome], show_errors: bool) -> str:
    lines = [f"## {name}: {len(outcomes)} messages", "", "| figure | value |", "|---|---|"]
    lines += [f"| {key} | {value:.1%} |" for key, value in summary(outcomes).items()]
    wrong = Counter(o.meaning for o in outcomes if not o.right)
    lines += ["", "Wrong first replies by what the bot did: "
              + ", ".join(f"{meaning} {count}" for meaning, count in wrong.most_common(12))]
    if show_errors:
        lines += ["", "| text | expected | bot did |", "|---|---|---|"]
        lines += [f"| {o.text[:120]} | {o.expected} | {o.meaning} |" for o in outcomes if not o.right]
    return "\n".join(lines) + "\n"


def guard_failures(set_name: str, outcomes: list[Outcome]) -> list[str]:
    figures = summary(outcomes)
    failed = []
    for name, (limit, op) in GUARDS.get(set_name, {}).items():
        value = figures[name]
        if (op == ">=" and value < limit) or (op == "<=" and value > limit):
            failed.append(f"{set_name}: {name} {value:.1%} (guard {op} {limit:.0%})")
    return failed
