"""The update processor: chats concurrently, each chat strictly in order, a flooding chat holds one slot."""
import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update

from bot.channels.telegram_updates import PerChatUpdateProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(id=chat_id, type="private")
    return Update(update_id=update_id, message=Message(message_id=update_id, date=datetime.now(UTC),
                                                       chat=chat, text="x"))


async def _run(plan: list[tuple[int, float]], slots: int = 4) -> list[tuple[int, int]]:
    """Feed updates (chat id, seconds the handler takes) like the Application does; return (chat, update) done."""
    processor = PerChatUpdateProcessor(slots)
    done: list[tuple[int, int]] = []

    async def handle(chat_id: int, update_id: int, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append((chat_id, update_id))

    tasks = [asyncio.create_task(processor.process_update(update(i, chat), handle(chat, i, seconds)))
             for i, (chat, seconds) in enumerate(plan)]
    await asyncio.gather(*tasks)
    while len(done) < len(plan):  # queued updates finish in their chat's task
        await asyncio.sleep(0.01)
    return done


def test_one_chat_is_handled_in_order_even_when_earlier_updates_are_slower() -> None:
    done = asyncio.run(_run([(1, 0.05), (1, 0.0), (1, 0.02), (1, 0.0)]))
    assert done == [(1, 0), (1, 1), (1, 2), (1, 3)]


def test_a_slow_chat_does_not_hold_up_another() -> None:
    done = asyncio.run(_run([(1, 0.3), (2, 0.0), (3, 0.01)]))
    assert done[:2] == [(2, 1), (3, 2)] and done[-1] == (1, 0)


def test_a_flooding_chat_takes_one_slot_only() -> None:
    # 50 slow updates from chat 1 and one slot left for everybody else: chat 2 is still answered at once.
    plan = [(1, 0.02)] * 50 + [(2, 0.0)]
    done = asyncio.run(_run(plan, slots=2))
    assert done.index((2, 50)) <= 1
    assert [u for c, u in done if c == 1] == list(range(50))
