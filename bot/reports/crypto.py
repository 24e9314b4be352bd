"""Encryption at rest for what reporters write and who they are (Fernet, key from REPORT_ENCRYPTION_KEY)."""
from __future__ import annotations

import hashlib
import hmac
import json

from cryptography.fernet import Fernet, InvalidToken


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def is_valid_key(key: str) -> bool:
    try:
        Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False
    return True


class ReportCipher:
    def __init__(self, key: str):
        self._fernet = Fernet(key.encode("ascii"))
        self._hash_key = hashlib.sha256(b"report-chat-key:" + key.encode("ascii")).digest()

    def seal(self, data: dict) -> str:
        return self._fernet.encrypt(json.dumps(data, ensure_ascii=False).encode("utf-8")).decode("ascii")

    def open(self, token: str) -> dict:
        """Decrypt a sealed value; raises ValueError when it was sealed with another key or altered."""
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except InvalidToken:
            raise ValueError("cannot decrypt: wrong REPORT_ENCRYPTION_KEY or altered data") from None

    def chat_key(self, chat_id: int) -> str:
        """A keyed hash of a chat id: finds a chat's reports without storing the id in the clear."""
        return hmac.new(self._hash_key, str(chat_id).encode("ascii"), hashlib.sha256).hexdigest()
