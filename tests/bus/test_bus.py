"""Streams with positions and history: resume exactly, or resync (DESIGN §6), on every bus."""

import asyncio
import contextlib

import pytest

from sockpuppet.bus import SlowConsumer
from sockpuppet.bus.base import EPOCH
from tests.bus.conftest import drain, receive, settled


async def test_positions_grow_per_stream(bus):
    assert (await bus.publish("a", {"n": 1}))["position"] == 1
    assert (await bus.publish("a", {"n": 2}))["position"] == 2
    assert (await bus.publish("b", {"n": 1}))["position"] == 1


async def test_a_message_arrives_as_published(bus):
    subscription = await bus.subscribe(["a"])
    message = {"type": "operations", "operations": [], "detail": {"x": None, "y": [1, "é"]}}
    published = await bus.publish("a", message)
    assert published == {**message, "stream": "a", "position": 1}
    assert await receive(subscription) == [published]


async def test_a_new_subscription_starts_from_now(bus):
    await bus.publish("a", {"n": 1})
    subscription = await bus.subscribe(["a"])
    await bus.publish("a", {"n": 2})
    assert [m["n"] for m in await receive(subscription)] == [2]
    await settled(bus)
    assert drain(subscription) == []


async def test_resume_from_a_cursor_delivers_exactly_what_was_missed(bus):
    for n in range(1, 5):
        await bus.publish("a", {"n": n})
    subscription = await bus.subscribe(["a"], {"a": 2})
    await bus.publish("a", {"n": 5})
    assert [m["n"] for m in await receive(subscription, 3)] == [3, 4, 5]
    await settled(bus)
    assert drain(subscription) == []


async def test_a_gap_history_cannot_fill_ends_in_resync(bus):
    for n in range(1, 10):
        await bus.publish("a", {"n": n})
    subscription = await bus.subscribe(["a"], {"a": 1})
    [message] = drain(subscription)
    assert message["type"] == "resync"
    await bus.publish("a", {"n": 10})
    assert [m["n"] for m in await receive(subscription)] == [10]


async def test_a_cursor_ahead_of_the_stream_resyncs(bus):
    """A server restart with the memory bus forgets every stream."""
    subscription = await bus.subscribe(["a"], {"a": 7})
    assert [m["type"] for m in drain(subscription)] == ["resync"]


async def test_non_durable_messages_have_no_position_and_no_history(bus):
    subscription = await bus.subscribe(["a"])
    await bus.publish("a", {"type": "pong"}, durable=False)
    assert await receive(subscription) == [{"type": "pong"}]
    await settled(bus)
    assert drain(subscription) == []  # once, though the Redis bus hears its own publish
    later = await bus.subscribe(["a"], {"a": 0})
    assert drain(later) == []


async def test_a_slow_subscription_is_cut_not_grown(bus):
    subscription = await bus.subscribe(["a"])
    for n in range(20):
        await bus.publish("a", {"n": n})
    await settled(bus)
    with pytest.raises(SlowConsumer):
        for _ in range(20):
            await asyncio.wait_for(subscription.get(), 1)
    assert subscription.overflowed


async def waiting_reader(subscription) -> asyncio.Future:
    """A ``get`` of ``subscription`` that is waiting for a message now."""
    reader = asyncio.ensure_future(subscription.get())
    await asyncio.sleep(0)
    assert not reader.done()
    return reader


async def stopped(reader: asyncio.Future) -> None:
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)


async def test_a_waiting_reader_wakes_for_the_next_message(bus):
    subscription = await bus.subscribe(["a"])
    reader = await waiting_reader(subscription)
    published = await bus.publish("a", {"n": 1})
    assert await asyncio.wait_for(reader, 5) == published


async def test_a_reader_cancelled_while_waiting_loses_nothing(bus):
    subscription = await bus.subscribe(["a"])
    await stopped(await waiting_reader(subscription))
    another = await waiting_reader(subscription)
    published = await bus.publish("a", {"n": 1})
    assert await asyncio.wait_for(another, 5) == published


async def test_a_subscription_has_one_reader_at_a_time(bus):
    subscription = await bus.subscribe(["a"])
    first = await waiting_reader(subscription)
    with pytest.raises(RuntimeError, match="one reader at a time"):
        await subscription.get()
    await stopped(first)


async def test_a_drained_subscription_keeps_no_queue(bus):
    """Thousands of idle connections per process: an empty queue is not kept (~0.7 KB)."""
    subscription = await bus.subscribe(["a"])
    await bus.publish("a", {"n": 1})
    assert [m["n"] for m in await receive(subscription)] == [1]
    assert subscription._queue is None


async def test_unsubscribed_streams_stop_delivering(bus):
    subscription = await bus.subscribe(["a"])
    await subscription.close()
    await bus.publish("a", {"n": 1})
    await settled(bus)
    assert drain(subscription) == []


async def test_a_stream_removed_stops_delivering_and_can_be_followed_again(bus):
    subscription = await bus.subscribe(["c.1", "n.room"])
    await subscription.remove_streams(["n.room"])
    await bus.publish("n.room", {"n": 1})
    await bus.publish("c.1", {"n": 2})
    assert [m["n"] for m in await receive(subscription)] == [2]
    await settled(bus)
    assert drain(subscription) == []  # nothing of the stream removed
    await subscription.add_streams(["n.room"])  # from now, as for a new follower
    await bus.publish("n.room", {"n": 3})
    assert [(m["n"], m["position"]) for m in await receive(subscription)] == [(3, 2)]
    await subscription.close()


async def test_a_cursor_of_another_lifetime_of_the_store_resumes_nothing(bus):
    """Positions restart when the store does (a Redis restarted empty, a memory bus's
    process): a cursor of before, even one the new positions passed, is answered with
    ``resync`` for each stream, never with the new messages as if they followed."""
    for n in range(1, 4):
        await bus.publish("a", {"n": n})
    epoch = await bus.epoch()
    resumed = await bus.subscribe(["a"], {"a": 1, EPOCH: epoch})
    assert [m["n"] for m in await receive(resumed, 2)] == [2, 3]
    assert resumed.origin[EPOCH] == epoch  # the welcome tells it
    other_life = await bus.subscribe(["a", "b"], {"a": 1, "b": 0, EPOCH: epoch - 1})
    resyncs = await receive(other_life, 2)
    assert [(m["type"], m["stream"], m["position"]) for m in resyncs] == [
        ("resync", "a", 3),
        ("resync", "b", 0),
    ]
    await bus.publish("a", {"n": 4})
    assert [m["n"] for m in await receive(other_life)] == [4]
    assert drain(other_life) == []


async def test_claims_are_granted_once(bus):
    assert await bus.claim("r1", 60)
    assert not await bus.claim("r1", 60)
    assert await bus.claim("r2", 60)


async def test_a_released_claim_is_granted_again(bus):
    """A reflex that did not run (its WebSocket's session cookie was stale) is claimed
    again when the client re-sends it."""
    assert await bus.claim("r1", 60)
    await bus.release("r1")
    assert await bus.claim("r1", 60)
    assert not await bus.claim("r1", 60)
    await bus.release("never-claimed")  # nothing to forget: no error


async def test_a_subscribe_cancelled_half_way_leaves_no_follower_behind(bus):
    """A long-poll whose client leaves cancels its subscribe wherever it is: the streams
    followed so far must be let go too (the soak test found them left behind)."""
    for steps in range(40):  # cancelled after 0, 1, 2, ... suspensions: every stage
        subscribing = asyncio.create_task(bus.subscribe([f"c.{steps}", f"s.{steps}", "n.room"]))
        for _ in range(steps):
            await asyncio.sleep(0)  # let it run one step further: nothing to await
        subscribing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await (await subscribing).close()
    assert {stream: len(f) for stream, f in bus._followers.items() if f} == {}


async def test_expired_claims_are_forgotten_as_new_ones_come(monkeypatch):
    """Every reflex of the last HISTORY_TTL seconds holds a claim: the memory bus lets
    the expired ones go oldest first, one or two per claim, never all at once."""
    from sockpuppet.bus import memory

    now = [1000.0]
    monkeypatch.setattr(memory.time, "monotonic", lambda: now[0])
    bus = memory.MemoryBus()
    for n in range(100):
        assert await bus.claim(f"r{n}", 10)
        now[0] += 1
    assert len(bus._claims) == 10  # those of the last ten seconds
    assert not await bus.claim("r95", 10)
    now[0] += 100
    assert await bus.claim("r95", 10)  # expired long ago: claimed afresh
    assert list(bus._claims) == ["r95"]


async def test_claims_kept_are_bounded(monkeypatch):
    from sockpuppet.bus import memory

    monkeypatch.setattr(memory, "CLAIMS_KEPT", 5)
    bus = memory.MemoryBus()
    for n in range(20):
        assert await bus.claim(f"r{n}", 3600)
    assert list(bus._claims) == ["r15", "r16", "r17", "r18", "r19"]
