"""YAML as the bot reads and writes it: safe, with libyaml's C parser and emitter (about 13x and 30x faster on
content/ and the training data) when PyYAML has them.

Content, NLU data and rules are parsed at start-up, on every hot reload and in every test: the parser's speed is
felt everywhere. Both parsers accept the same documents and give the same values.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: type[yaml.SafeDumper] | type[yaml.CSafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def parse_yaml(text: str) -> Any:
    """The document in `text` (Any, like yaml.safe_load: callers check its shape); raises yaml.YAMLError."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, the C or the Python one


def dump_yaml(data: object) -> str:
    """`data` as YAML, keys in their order, non-ASCII letters as they are (the same text from either dumper)."""
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False)


def read_yaml(path: Path) -> Any:
    """The document in the file (UTF-8); raises OSError or yaml.YAMLError."""
    return parse_yaml(path.read_text(encoding="utf-8"))
