"""A local fake of the Telegram Bot API for end-to-end tests.

It accepts python-telegram-bot's form-encoded (and JSON) requests at /bot<token>/<method>, implements the
methods the bot uses with their real response shapes, feeds updates to getUpdates (long polling), and
records every call so tests can assert on what the bot sent.
"""
from __future__ import annotations

import copy
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs

from bot.textformat import html_to_text, utf16_len

TOKEN = "123456:TEST-token-for-the-fake-bot-api-0000"
T = TypeVar("T")
Json = dict[str, Any]  # a Bot API object, or the parameters of a call
BOT_USER: Json = {"id": 999000, "is_bot": True, "first_name": "Migrasi Aman", "username": "migrasi_aman_test_bot",
                  "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendAudio", "sendVideo")
MEDIA_FIELDS = {"sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice", "sendAudio": "audio",
                "sendVideo": "video"}


def describe(messages: list[Json]) -> str:
    """The messages as a reader sees them, one a line (text or caption, and the buttons), for failure messages."""
    if not messages:
        return "  (none)"
    lines = []
    for message in messages:
        shown = html_to_text(str(message.get("text") or message.get("caption") or "")).replace("\n", " ")
        keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [button.get("callback_data") for row in keyboard for button in row]
        lines.append(f"  - {shown[:300]}" + (f"  {buttons}" if buttons else ""))
    return "\n".join(lines)


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, Json]] = []
        self._texts_to: dict[int, list[Json]] = {}  # sendMessage calls by chat id, so lookups stay cheap
        self.failed_calls: list[tuple[str, Json]] = []
        self.members: dict[int, set[int]] = {}  # chat id -> user ids that getChatMember reports as members
        self.admins: dict[int, set[int]] = {}  # chat id -> user ids that getChatMember reports as administrators
        self.migrated: dict[int, int] = {}  # old group id -> the supergroup's id (sends to the old one fail)
        self._failures: dict[int, list[tuple[int, int | None]]] = {}  # chat id -> [(status, retry_after)]
        self._failure_ratio: dict[int, tuple[float, random.Random]] = {}
        self._pushed: dict[int, Json] = {}
        self._updates: list[Json] = []
        self._cond = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # ---- what tests do as a user -------------------------------------------------------------

    def _push(self, update: Json) -> int:
        with self._cond:
            update_id = update["update_id"] = next(self._update_ids)
            self._pushed[update_id] = copy.deepcopy(update)
            self._updates.append(update)
            self._cond.notify_all()
            return update_id

    def redeliver(self, update_id: int) -> None:
        """Send an update again with its original id, as Telegram does when it is unsure the bot got it."""
        with self._cond:
            update = copy.deepcopy(self._pushed[update_id])
            update["_redelivered"] = True
            self._updates.append(update)
            self._cond.notify_all()

    def _message(self, chat_id: int, user_id: int, chat_type: str = "private", **fields: Any) -> Json:
        chat = {"id": chat_id, "type": chat_type, "first_name": "Ina"}
        if chat_type != "private":
            chat = {"id": chat_id, "type": chat_type, "title": "Gugus Tugas TPPO NTT"}
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": f"Petugas {user_id}" if chat_type != "private"
                     else "Ina", "language_code": "id"},
            **fields,
        }

    def send_text(self, chat_id: int, text: str, user_id: int | None = None, chat_type: str = "private") -> int:
        fields: Json = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._push({"message": self._message(chat_id, user_id or chat_id, chat_type, **fields)})

    def send_document(self, chat_id: int, file_id: str = "BQACAgIAAxk-doc") -> int:
        document = {"file_id": file_id, "file_unique_id": file_id[-8:], "file_name": "kontrak.pdf",
                    "mime_type": "application/pdf", "file_size": 20480}
        return self._push({"message": self._message(chat_id, chat_id, document=document)})

    def send_voice(self, chat_id: int, file_id: str = "AwACAgIAAxk-voice") -> int:
        voice = {"file_id": file_id, "file_unique_id": file_id[-8:], "duration": 7, "mime_type": "audio/ogg"}
        return self._push({"message": self._message(chat_id, chat_id, voice=voice)})

    def send_contact(self, chat_id: int, phone: str) -> int:
        contact = {"phone_number": phone, "first_name": "Ina", "user_id": chat_id}
        return self._push({"message": self._message(chat_id, chat_id, contact=contact)})

    # ---- failure injection -------------------------------------------------------------------

    def fail(self, chat_id: int, times: int, status: int = 500, retry_after: int | None = None) -> None:
        """The next `times` sends to the chat fail with `status` (429 with retry_after: flood control)."""
        with self._cond:
            self._failures.setdefault(chat_id, []).extend([(status, retry_after)] * times)

    def fail_ratio(self, chat_id: int, ratio: float, seed: int = 7) -> None:
        """From now on a share `ratio` of the sends to the chat fail with 500."""
        self._failure_ratio[chat_id] = (ratio, random.Random(seed))

    def _failure_for(self, method: str, params: Json) -> tuple[int, int | None] | None:
        if method not in SEND_METHODS + ("editMessageText",) or "chat_id" not in params:
            return None
        chat_id = int(params["chat_id"])
        with self._cond:
            queued = self._failures.get(chat_id)
            if queued:
                return queued.pop(0)
            if chat_id in self._failure_ratio:
                ratio, rng = self._failure_ratio[chat_id]
                if rng.random() < ratio:
                    return 500, None
        return None

    def _refusal_for(self, method: str, params: Json) -> Json | None:
        """What Telegram itself refuses: a message over 4096 UTF-16 units after entity parsing, a caption over
        1024, a send to a group that became a supergroup (with the new id, like Telegram)."""
        if method not in SEND_METHODS + ("editMessageText",) or "chat_id" not in params:
            return None
        chat_id = int(params["chat_id"])
        if chat_id in self.migrated:
            return {"error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": self.migrated[chat_id]}}
        if utf16_len(html_to_text(str(params.get("text") or ""))) > 4096:
            return {"error_code": 400, "description": "Bad Request: message is too long"}
        if utf16_len(html_to_text(str(params.get("caption") or ""))) > 1024:
            return {"error_code": 400, "description": "Bad Request: message caption is too long"}
        return None

    def send_sticker(self, chat_id: int) -> None:
        sticker = {"file_id": "CAACAgIAAxk", "file_unique_id": "AgAD", "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "😀"}
        self._push({"message": self._message(chat_id, chat_id, sticker=sticker)})

    def send_photo(self, chat_id: int, file_id: str = "AgACAgIAAxk", media_group_id: str | None = None) -> int:
        photo = [{"file_id": f"{file_id}-small", "file_unique_id": "AQAD-s", "width": 90, "height": 90,
                  "file_size": 1200},
                 {"file_id": file_id, "file_unique_id": "AQAD", "width": 800, "height": 800, "file_size": 64000}]
        album = {"media_group_id": media_group_id} if media_group_id is not None else {}
        return self._push({"message": self._message(chat_id, chat_id, photo=photo, **album)})

    def send_album(self, chat_id: int, file_ids: list[str]) -> list[int]:
        """Photos sent together: one update per photo sharing a media_group_id, as Telegram sends an album."""
        group = f"album-{next(self._message_ids)}"
        return [self.send_photo(chat_id, file_id, media_group_id=group) for file_id in file_ids]

    def take(self, update_id: int) -> Json:
        """An update as Telegram sends it, taken off the getUpdates queue: for a test that delivers it to the bot
        itself (to webhook workers)."""
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] != update_id]
            return copy.deepcopy(self._pushed[update_id])

    def press(self, chat_id: int, data: str, user_id: int | None = None, chat_type: str = "private",
              message_id: int | None = None) -> int:
        message = self._message(chat_id, BOT_USER["id"], chat_type, text="(pesan bot)")
        message["from"] = BOT_USER
        if message_id is not None:
            message["message_id"] = message_id
        return self._push({"callback_query": {
            "id": str(next(self._update_ids)),
            "from": {"id": user_id or chat_id, "is_bot": False,
                     "first_name": "Ina" if chat_type == "private" else f"Petugas {user_id}"},
            "message": message,
            "chat_instance": "ci-1",
            "data": data,
        }})

    # ---- what tests read ---------------------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[Json]:
        with self._cond:
            if chat_id is not None:
                return list(self._texts_to.get(chat_id, ()))
            return [params for method, params in self.calls if method == "sendMessage"]

    def sent_to(self, chat_id: int) -> list[tuple[str, Json]]:
        """Every message (text or file) successfully sent to the chat, as (method, params)."""
        with self._cond:
            return [(method, params) for method, params in self.calls
                    if method in SEND_METHODS and int(params["chat_id"]) == chat_id]

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 30.0) -> T:
        """Wait until predicate() (called under the lock after every API call) is truthy; return its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (value := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("condition not met in time")
                self._cond.wait(remaining)
            return value

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 30.0) -> list[Json]:
        """Wait until the bot has sent at least `count` messages to the chat in total; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(sent := self.sent_messages(chat_id)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} messages to chat {chat_id} within {timeout} s, got "
                                         f"{len(sent)}:\n{describe(sent)}")
                self._cond.wait(remaining)
            return sent

    def wait_for_turn(self, chat_id: int, before: int, count: int = 1, timeout: float = 30.0) -> list[Json]:
        """The bot's reply to one user action: the `count` messages it sent to the chat after its first `before`.

        Returns as soon as they are there, without waiting for silence. Fails, showing what did arrive, after
        `timeout` seconds, or when more than `count` arrived (the turn is longer than the test says)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(new := self.sent_messages(chat_id)[before:]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} new messages to chat {chat_id} within {timeout} s, got "
                                         f"{len(new)}:\n{describe(new)}")
                self._cond.wait(remaining)
        if len(new) > count:
            raise AssertionError(f"expected a turn of {count} messages to chat {chat_id}, got {len(new)}:\n"
                                 f"{describe(new)}")
        return new

    def calls_to(self, method: str) -> list[Json]:
        with self._cond:
            return [params for name, params in self.calls if name == method]

    # ---- the HTTP side -----------------------------------------------------------------------

    def _api(self, method: str, params: Json) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("deleteWebhook", "setMyCommands", "answerCallbackQuery", "setWebhook"):
            return True
        if method == "getUpdates":
            return self._get_updates(params)
        if method == "getChatMember":
            user = {"id": int(params["user_id"]), "is_bot": False, "first_name": "Seseorang"}
            user_id, chat_id = int(params["user_id"]), int(params["chat_id"])
            if user_id in self.admins.get(chat_id, set()):
                return {"status": "administrator", "user": user, "can_be_edited": False, "is_anonymous": False,
                        "can_manage_chat": True, "can_delete_messages": True, "can_manage_video_chats": True,
                        "can_restrict_members": True, "can_promote_members": False, "can_change_info": True,
                        "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
                        "can_delete_stories": False}
            is_member = user_id in self.members.get(chat_id, set())
            return {"status": "member" if is_member else "left", "user": user}
        if method in SEND_METHODS or method == "editMessageText":
            chat_id = int(params["chat_id"])
            message = {
                "message_id": int(params["message_id"]) if "message_id" in params else next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Ina"} if chat_id > 0
                else {"id": chat_id, "type": "supergroup", "title": "Gugus Tugas TPPO NTT"},
                "from": BOT_USER,
            }
            if method in MEDIA_FIELDS:
                message["caption"] = params.get("caption", "")
                file = {"file_id": params[MEDIA_FIELDS[method]], "file_unique_id": "u" + str(message["message_id"])}
                message[MEDIA_FIELDS[method]] = [{**file, "width": 800, "height": 800}] if method == "sendPhoto" \
                    else {**file, "duration": 7} if method in ("sendVoice", "sendAudio") else file
            else:
                message["text"] = params.get("text", "")
            if "inline_keyboard" in (params.get("reply_markup") or {}):  # Telegram echoes inline keyboards only
                message["reply_markup"] = params["reply_markup"]
            return message
        return None

    def _answer(self, method: str, params: Json) -> tuple[int, Json]:
        """The HTTP status and body the Bot API answers a call with (a refusal, an injected failure, or the result)."""
        refusal = self._refusal_for(method, params)
        if refusal is not None:
            with self._cond:
                self.failed_calls.append((method, params))
            return refusal["error_code"], {"ok": False, **refusal}
        failure = self._failure_for(method, params)
        if failure is not None:
            status, retry_after = failure
            with self._cond:
                self.failed_calls.append((method, params))
            if status == 429:
                return 429, {"ok": False, "error_code": 429, "parameters": {"retry_after": retry_after},
                             "description": f"Too Many Requests: retry after {retry_after}"}
            return status, {"ok": False, "error_code": status, "description": "Internal Server Error"}
        result = self._api(method, params)
        if method != "getUpdates":
            if isinstance(result, dict) and "message_id" in result:
                params["_message_id"] = result["message_id"]  # what the bot got back, for assertions
            self._record(method, params)
        if result is None:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: method {method} not in the fake"}
        return 200, {"ok": True, "result": result}

    def _get_updates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset or u.get("_redelivered")]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            batch = [{k: v for k, v in u.items() if k != "_redelivered"} for u in self._updates]
            self._updates = [u for u in self._updates if not u.get("_redelivered")]  # redelivered once
            return batch

    def _record(self, method: str, params: Json) -> None:
        params["_at"] = time.monotonic()  # when the bot's call arrived, for latency measurements
        with self._cond:
            self.calls.append((method, params))
            if method == "sendMessage":
                self._texts_to.setdefault(int(params["chat_id"]), []).append(params)
            self._cond.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return self._reply(*fake._answer(self.path[len(prefix):], self._params()))

            do_GET = do_POST  # noqa: N815

            def _params(self) -> Json:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                if "application/json" in (self.headers.get("Content-Type") or ""):
                    sent: Json = json.loads(body or "{}")
                    return sent
                params: Json = {}
                for key, values in parse_qs(body, keep_blank_values=True).items():
                    # PTB JSON-encodes objects and lists (reply_markup, commands); plain values stay strings.
                    value = values[0]
                    params[key] = json.loads(value) if value[:1] in ("{", "[") else value
                return params

            def _reply(self, status: int, payload: Json) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                try:
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot stopped while a long poll waited: Telegram drops such answers too

        return Handler
