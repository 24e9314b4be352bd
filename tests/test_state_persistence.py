"""Conversation state lives in the database (SQLite and PostgreSQL): a new process continues the conversation."""
import pytest
from sqlalchemy import inspect

from bot.app import build_app
from db.chat_state import ChatStateRepository
from db.migrate import upgrade
from db.session import make_engine, make_session_factory
from tests.conftest import settings_for
from tests.helpers import buttons_of, press, say, text_of, vague_message


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, sqlite_url):
    return sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def test_migrations_create_the_chat_state_table(database_url):
    upgrade(database_url)
    upgrade(database_url)  # idempotent
    engine = make_engine(database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("chat_state")}
    engine.dispose()
    assert {"chat_id", "flow", "step", "data", "updated_at"} <= columns


def test_state_round_trips_and_clears(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    states = ChatStateRepository(make_session_factory(engine))
    chat = -1001234567890123  # Telegram group ids do not fit 32 bits
    with states.turn(chat) as state:
        state.enter("faq", "clarify", {"options": ["faq:syarat"], "teks": "ñ ✓"})
    loaded = states.load(chat)
    assert (loaded.flow, loaded.step, loaded.data) == ("faq", "clarify", {"options": ["faq:syarat"], "teks": "ñ ✓"})
    states.clear(chat)
    assert states.load(chat).flow is None
    engine.dispose()


def test_a_new_app_continues_the_conversation(database_url):
    settings = settings_for(database_url=database_url)
    with build_app(settings, fallback_only=True) as first:
        _word, turn = vague_message(first, chat=77)
        options = [data for _label, data in buttons_of(turn) if data.startswith("faq:")]
        assert len(options) >= 2
    with build_app(settings, fallback_only=True) as second:
        answer = say(second, "1", chat=77)
        assert text_of(answer) == text_of(press(second, options[0], chat=78))


def test_an_update_saved_but_perhaps_not_answered_gets_the_same_replies_again(database_url):
    """A worker killed between saving a turn and sending its replies leaves the update to another worker: that one
    sends the saved replies, without a second turn; an older update seen again gets nothing."""
    from bot.dialogue.messages import Incoming

    with build_app(settings_for(database_url=database_url), fallback_only=True) as app:
        first = app.engine.handle(Incoming(2001, 2001, text="/cek", update_id=500))
        saved = app.chat_states.load(2001)
        again = app.engine.handle(Incoming(2001, 2001, text="/cek", update_id=500))
        assert again.meaning == "replayed" and again.replies == first.replies and first.replies
        after = app.chat_states.load(2001)
        assert (after.flow, after.step, after.recent_updates) == (saved.flow, saved.step, [500])  # one turn
        app.engine.handle(Incoming(2001, 2001, text="PT Sinar Jaya", update_id=501))
        assert app.engine.handle(Incoming(2001, 2001, text="/cek", update_id=500)).replies == []
