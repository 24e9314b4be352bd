"""A local fake of the Telegram Bot API for end-to-end tests.

It accepts python-telegram-bot's form-encoded (and JSON) requests at /bot<token>/<method>, implements the
methods the bot uses with their real response shapes, feeds updates to getUpdates (long polling), and
records every call so tests can assert on what the bot sent.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Migrasi Aman", "username": "migrasi_aman_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


class FakeTelegram:
    def __init__(self, token: str):
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self._updates: list[dict] = []
        self._cond = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # ---- what tests do as a user -------------------------------------------------------------

    def _push(self, update: dict) -> None:
        with self._cond:
            update["update_id"] = next(self._update_ids)
            self._updates.append(update)
            self._cond.notify_all()

    def _message(self, chat_id: int, user_id: int, **fields) -> dict:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Ina"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ina", "language_code": "id"},
            **fields,
        }

    def send_text(self, chat_id: int, text: str, user_id: int | None = None) -> None:
        fields: dict = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self._push({"message": self._message(chat_id, user_id or chat_id, **fields)})

    def send_sticker(self, chat_id: int) -> None:
        sticker = {"file_id": "CAACAgIAAxk", "file_unique_id": "AgAD", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "😀"}
        self._push({"message": self._message(chat_id, chat_id, sticker=sticker)})

    def send_photo(self, chat_id: int) -> None:
        photo = [{"file_id": "AgACAgIAAxk", "file_unique_id": "AQAD", "width": 90, "height": 90, "file_size": 1200}]
        self._push({"message": self._message(chat_id, chat_id, photo=photo)})

    def press(self, chat_id: int, data: str, user_id: int | None = None) -> None:
        message = self._message(chat_id, BOT_USER["id"], text="(pesan bot)")
        message["from"] = BOT_USER
        self._push({"callback_query": {
            "id": str(next(self._update_ids)),
            "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Ina"},
            "message": message,
            "chat_instance": "ci-1",
            "data": data,
        }})

    # ---- what tests read ---------------------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[dict]:
        with self._cond:
            return [params for method, params in self.calls
                    if method == "sendMessage" and (chat_id is None or int(params["chat_id"]) == chat_id)]

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 30.0) -> list[dict]:
        """Wait until the bot has sent at least `count` messages to the chat in total; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.sent_messages(chat_id)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} messages to chat {chat_id}, got {self.sent_messages(chat_id)}"
                    )
                self._cond.wait(remaining)
            return self.sent_messages(chat_id)

    def wait_for_turn(self, chat_id: int, before: int, quiet: float = 0.5, timeout: float = 30.0) -> list[dict]:
        """The messages the bot sent to the chat after the first `before`, once it has been quiet for a moment."""
        self.wait_for_messages(chat_id, before + 1, timeout)
        with self._cond:
            while True:
                count = len(self.sent_messages(chat_id))
                self._cond.wait(quiet)
                if len(self.sent_messages(chat_id)) == count:
                    return self.sent_messages(chat_id)[before:]

    def calls_to(self, method: str) -> list[dict]:
        with self._cond:
            return [params for name, params in self.calls if name == method]

    # ---- the HTTP side -----------------------------------------------------------------------

    def _api(self, method: str, params: dict):
        if method == "getMe":
            return BOT_USER
        if method in ("deleteWebhook", "setMyCommands", "answerCallbackQuery", "setWebhook"):
            return True
        if method == "getUpdates":
            return self._get_updates(params)
        if method == "sendMessage":
            message = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "Ina"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            return message
        return None

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return list(self._updates)

    def _record(self, method: str, params: dict) -> None:
        with self._cond:
            self.calls.append((method, params))
            self._cond.notify_all()

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                method = self.path[len(prefix):]
                params = self._params()
                if method != "getUpdates":
                    fake._record(method, params)
                result = fake._api(method, params)
                if result is None:
                    return self._reply(400, {"ok": False, "error_code": 400,
                                             "description": f"Bad Request: method {method} not in the fake"})
                return self._reply(200, {"ok": True, "result": result})

            do_GET = do_POST  # noqa: N815

            def _params(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                if "application/json" in (self.headers.get("Content-Type") or ""):
                    return json.loads(body or "{}")
                params = {}
                for key, values in parse_qs(body, keep_blank_values=True).items():
                    # PTB JSON-encodes objects and lists (reply_markup, commands); plain values stay strings.
                    value = values[0]
                    params[key] = json.loads(value) if value[:1] in ("{", "[") else value
                return params

            def _reply(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
