"""Heartbeats paced by one timer per loop (``transports/heartbeat.py``): an idle stream
gets one after 1 to 1.5 x HEARTBEAT of silence, a busy one none, and the timer runs only
while some stream waits."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.test import override_settings

from sockpuppet.bus.memory import MemoryBus
from transports.heartbeat import BEAT, TICKS, next_message, pacemaker

HEARTBEAT = 0.2


@pytest.fixture
async def bus():
    bus = MemoryBus()
    yield bus
    await bus.close()


async def waiting(bus: MemoryBus, stream: str) -> tuple[object, asyncio.Task]:
    subscription = await bus.subscribe([stream])
    task = asyncio.create_task(next_message(subscription))
    await asyncio.sleep(0)  # lets it start waiting: one turn of the loop, not a delay
    return subscription, task


async def test_a_stream_gets_its_heartbeat_at_the_third_tick(bus):
    """Ticks driven by hand: the first may come right after the stream began to wait,
    so only the third is sure to come a whole HEARTBEAT later."""
    subscription, task = await waiting(bus, "c.a")
    pacer = pacemaker()
    for _ in range(TICKS - 1):
        pacer._tick()
        await asyncio.sleep(0)
        assert not task.done()
    pacer._tick()
    assert await asyncio.wait_for(task, 5) is BEAT
    await subscription.close()


async def test_a_message_comes_instead_and_the_wait_starts_again(bus):
    subscription, task = await waiting(bus, "c.b")
    pacer = pacemaker()
    pacer._tick()
    pacer._tick()
    await bus.publish("c.b", {"type": "pong", "id": "1"})
    assert (await asyncio.wait_for(task, 5))["type"] == "pong"
    task = asyncio.create_task(next_message(subscription))
    await asyncio.sleep(0)
    pacer._tick()  # the third tick since the first wait, the first of this one
    await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    await subscription.close()


@override_settings(SOCKPUPPET={"HEARTBEAT": HEARTBEAT})
async def test_idle_streams_share_one_timer_that_stops_when_none_waits(bus):
    pairs = [await waiting(bus, f"c.{n}") for n in range(50)]
    pacer = pacemaker()
    timer = pacer._timer
    assert timer is not None
    began = time.monotonic()
    beats = await asyncio.wait_for(asyncio.gather(*(task for _, task in pairs)), 10)
    waited = time.monotonic() - began
    assert all(beat is BEAT for beat in beats)
    assert waited >= HEARTBEAT * 0.95, waited  # never early (clock granularity aside)
    assert pacer._waiting == {}
    await asyncio.sleep(0)
    assert pacer._timer is None  # nobody waits: no timer left running
    for subscription, _ in pairs:
        await subscription.close()


async def test_the_timer_stops_when_the_last_waiting_stream_stops_waiting(bus):
    """A connection that closes while idle leaves no timer behind (nor its loop held)."""
    first, one = await waiting(bus, "c.x")
    second, two = await waiting(bus, "c.y")
    pacer = pacemaker()
    one.cancel()
    await asyncio.gather(one, return_exceptions=True)
    assert pacer._timer is not None  # the other still waits
    two.cancel()
    await asyncio.gather(two, return_exceptions=True)
    assert pacer._timer is None
    await first.close()
    await second.close()
