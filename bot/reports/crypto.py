"""Encryption at rest for what reporters write and who they are.

Fernet keys from REPORT_ENCRYPTION_KEYS, newest first (MultiFernet): the newest encrypts, every listed key decrypts,
so a new key can be put in front and `reports rotate-key` re-encrypts everything with it before the old one is
dropped. A key check (a known value sealed with the newest key) is stored in the database, so a wrong or lost key
stops start-up with a clear error instead of failing on every report later.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_CHECK_PLAINTEXT = {"check": "ntt-safe-migration-bot report key"}
Sealed = dict[str, Any]  # what a token holds: a JSON object


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def is_valid_key(key: str) -> bool:
    try:
        Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False
    return True


def _hash_key(key: str) -> bytes:
    return hashlib.sha256(b"report-chat-key:" + key.encode("ascii")).digest()


class ReportCipher:
    def __init__(self, keys: str | Sequence[str]):
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        if not keys:
            raise ValueError("at least one REPORT_ENCRYPTION_KEYS key is needed")
        self._fernets = [Fernet(key.encode("ascii")) for key in keys]
        self._fernet = MultiFernet(self._fernets)
        self._hash_keys = [_hash_key(key) for key in keys]

    def seal(self, data: Mapping[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, ensure_ascii=False).encode("utf-8")).decode("ascii")

    def open(self, token: str) -> Sealed:
        """Decrypt a sealed value; raises ValueError when it was sealed with another key or altered."""
        try:
            opened: Sealed = json.loads(self._fernet.decrypt(token.encode("ascii")))
            return opened
        except InvalidToken:
            raise ValueError("cannot decrypt: wrong REPORT_ENCRYPTION_KEY or altered data") from None

    def rotate(self, token: str) -> str:
        """The same value sealed with the newest key (raises ValueError when no listed key opens it)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise ValueError("cannot decrypt: wrong REPORT_ENCRYPTION_KEY or altered data") from None

    def sealed_with_newest(self, token: str) -> bool:
        try:
            self._fernets[0].decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def chat_key(self, chat_id: int) -> str:
        """A keyed hash of a chat id (with the newest key): finds a chat's reports without storing the id."""
        return self.chat_keys(chat_id)[0]

    def chat_keys(self, chat_id: int) -> list[str]:
        """The chat's hash under every listed key, newest first (reports not yet rotated carry an older one)."""
        return [hmac.new(key, str(chat_id).encode("ascii"), hashlib.sha256).hexdigest() for key in self._hash_keys]

    def key_check(self) -> str:
        return self.seal(KEY_CHECK_PLAINTEXT)

    def opens_key_check(self, token: str) -> bool:
        try:
            return self.open(token) == KEY_CHECK_PLAINTEXT
        except ValueError:
            return False
