"""`content check` for content/offer_rules.yml: the file loads, every rule points at real countries and vocabulary,
every legal basis names its article, and every rule's examples (and none of its not_examples) show its sign."""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from bot.content_models import Country, CountryStatus
from bot.offers.analyse import analyse
from bot.offers.rules import RULES_FILE, OfferRules, RulesError, SignRule, load_rules
from bot.yaml_files import read_yaml


def check_offer_rules(root: Path, countries: Mapping[str, Country]) -> list[str]:
    """Every problem as "path:line: message" (empty when the rules are fine)."""
    path = root / RULES_FILE
    try:
        rules = load_rules(path)
    except RulesError as exc:
        return [str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"]
    lines = path.read_text(encoding="utf-8").splitlines()
    errors: list[str] = []
    needs_article, no_article = _legal_basis_lint(root)
    for rule in rules.signs:
        where = f"{path}:{_line(lines, f'id: {rule.id}')}"
        errors += _reference_problems(where, rule, rules, countries)
        errors += _legal_basis_problems(where, rule, needs_article, no_article)
        errors += _example_problems(where, path, lines, rule, rules, countries)
    return errors


def _reference_problems(where: str, rule: SignRule, rules: OfferRules, countries: Mapping[str, Country]) -> list[str]:
    """The country statuses and place codes the rule names exist."""
    errors = []
    for status in rule.statuses:
        if status not in set(CountryStatus):
            errors.append(f"{where}: rule {rule.id!r}: status {status!r} is not one of {', '.join(CountryStatus)}")
    for code in rule.also:
        if code not in countries and code not in rules.places:
            errors.append(f"{where}: rule {rule.id!r}: also: {code!r} is neither in countries/ nor in places")
    return errors


def _legal_basis_problems(where: str, rule: SignRule, needs_article: list[str], no_article: list[str]) -> list[str]:
    """Each item of the legal basis names a regulation, and its article unless it is a decree or circular."""
    errors = []
    for item in (part.strip() for part in rule.legal_basis.split(";")):
        if any(re.match(rf"{re.escape(p)}\b", item, re.I) for p in no_article):
            continue
        if not any(re.match(rf"{re.escape(p)}\b", item, re.I) for p in needs_article):
            errors.append(f"{where}: rule {rule.id!r}: legal basis {item!r} names no regulation")
        elif not re.search(r"\bPasal\s+\d+", item):
            errors.append(f"{where}: rule {rule.id!r}: legal basis {item!r} names no article (Pasal)")
    return errors


def _example_problems(where: str, path: Path, lines: list[str], rule: SignRule, rules: OfferRules,
                      countries: Mapping[str, Country]) -> list[str]:
    """The rule has examples, every example shows its sign and no not_example does."""
    errors = []
    if not rule.examples:
        errors.append(f"{where}: rule {rule.id!r}: give at least one example")
    for text in rule.examples:
        if not _shows(rule, text, rules, countries):
            errors.append(f"{path}:{_line(lines, text[:40])}: rule {rule.id!r}: example {text!r} does not "
                          f"show the sign")
    for text in rule.not_examples:
        if _shows(rule, text, rules, countries):
            errors.append(f"{path}:{_line(lines, text[:40])}: rule {rule.id!r}: not_example {text!r} shows "
                          f"the sign")
    return errors


def _shows(rule: SignRule, text: str, rules: OfferRules, countries: Mapping[str, Country]) -> bool:
    check = analyse(text, rules, None, countries)
    if rule.kind == "agency":  # needs the registry: the example must at least name a company
        return bool(check.agencies)
    return rule.id in check.sign_ids


def _legal_basis_lint(root: Path) -> tuple[list[str], list[str]]:
    try:
        lint = (read_yaml(root / "lint.yml") or {}).get("legal_basis") or {}
    except FileNotFoundError:
        lint = {}
    needs = [str(p) for p in lint.get("needs_article") or ["UU", "PP", "Perpres", "Permen", "Peraturan", "Perban"]]
    exempt = [str(p) for p in lint.get("no_article") or ["Kepmenaker", "Keputusan", "SK", "SE"]]
    return needs, exempt


def _line(lines: list[str], needle: str) -> int:
    for number, line in enumerate(lines, start=1):
        if needle in line:
            return number
    return 1
