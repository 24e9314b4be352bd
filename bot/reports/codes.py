"""Report codes like TPPO-2026-7K3Q9M: the year and six random characters (31^6, about 887 million)."""
from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L: easy to read aloud and to copy from a phone screen.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RANDOM_LENGTH = 6
_SEPARATOR = r"[\s_.\-\u2013\u2014]*"
_CODE_RE = re.compile(
    rf"(?<![A-Z0-9])TPPO{_SEPARATOR}(\d{{4}}){_SEPARATOR}([{ALPHABET}]{{{RANDOM_LENGTH}}})(?![A-Z0-9])"
)


def new_code(year: int) -> str:
    return f"TPPO-{year}-" + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def find_code(text: str) -> str | None:
    """The code in what the user typed ("tppo 2026 7k3q9m", "TPPO-2026-7K3Q9M."), in its canonical form."""
    match = _CODE_RE.search(text.upper())
    return f"TPPO-{match.group(1)}-{match.group(2)}" if match else None

