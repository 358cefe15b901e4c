"""The Redis bus across processes: each RedisBus instance stands for a process.

What pub/sub alone cannot promise (a message dropped on the hop, a lost connection, a
restarted Redis) is recovered from history by position, or ends in resync.
"""

import asyncio
import logging
import os
import signal
import time

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings

from sockpuppet.bus import create_bus
from sockpuppet.bus.base import EPOCH, BusUnavailable
from sockpuppet.bus.redis import RedisBus, position_key
from sockpuppet.checks import check_bus, check_settings
from tests.bus.conftest import append_silently, drain, receive
from tests.support.processes import free_port
from tests.support.redis import RedisServer


async def test_a_subscriber_in_another_process_receives_in_order(redis_bus):
    publisher, subscriber = redis_bus(), redis_bus()
    subscription = await subscriber.subscribe(["room"])
    for n in range(1, 4):
        await publisher.publish("room", {"n": n})
    messages = await receive(subscription, 3)
    assert [(m["n"], m["position"], m["stream"]) for m in messages] == [
        (1, 1, "room"),
        (2, 2, "room"),
        (3, 3, "room"),
    ]


async def test_a_message_lost_on_the_pub_sub_hop_is_read_from_history(redis_bus, clean_redis):
    publisher, subscriber = redis_bus(), redis_bus()
    subscription = await subscriber.subscribe(["a"])
    append_silently(clean_redis, "a", {"n": 1})
    await publisher.publish("a", {"n": 2})
    assert [(m["n"], m["position"]) for m in await receive(subscription, 2)] == [(1, 1), (2, 2)]


async def test_a_gap_longer_than_history_ends_in_resync(redis_bus, clean_redis):
    publisher, subscriber = redis_bus(history_length=5), redis_bus(history_length=5)
    subscription = await subscriber.subscribe(["a"])
    for n in range(1, 8):
        append_silently(clean_redis, "a", {"n": n}, history_length=5)
    await publisher.publish("a", {"n": 8})
    [resync] = await receive(subscription)
    assert resync["type"] == "resync"
    await publisher.publish("a", {"n": 9})
    assert [m["n"] for m in await receive(subscription)] == [9]


async def test_a_thousand_messages_arrive_once_in_order(redis_bus):
    publisher, subscriber = redis_bus(), redis_bus(max_queue=2000)
    subscription = await subscriber.subscribe(["a"])

    async def publish() -> None:
        for n in range(1000):
            await publisher.publish("a", {"n": n})

    publishing = asyncio.create_task(publish())
    messages = await receive(subscription, 1000)
    await publishing
    assert [m["n"] for m in messages] == list(range(1000))
    assert [m["position"] for m in messages] == list(range(1, 1001))
    await publisher.publish("a", {"n": "last"})
    assert [m["n"] for m in await receive(subscription)] == ["last"]
    assert drain(subscription) == []


async def test_a_client_resumes_on_another_process(redis_bus):
    first, second = redis_bus(), redis_bus()
    for n in range(1, 5):
        await first.publish("c.1", {"n": n})
    subscription = await second.subscribe(["c.1"], {"c.1": 2})
    await first.publish("c.1", {"n": 5})
    assert [m["n"] for m in await receive(subscription, 3)] == [3, 4, 5]


async def test_a_cursor_older_than_history_on_another_process_resyncs(redis_bus):
    first, second = redis_bus(history_length=5), redis_bus(history_length=5)
    for n in range(1, 10):
        await first.publish("c.1", {"n": n})
    subscription = await second.subscribe(["c.1"], {"c.1": 1})
    assert [m["type"] for m in drain(subscription)] == ["resync"]


async def test_a_claim_holds_across_processes(redis_bus):
    first, second = redis_bus(), redis_bus()
    assert await first.claim("reflex:c.1:r1", 60)
    assert not await second.claim("reflex:c.1:r1", 60)


async def test_a_lost_pub_sub_connection_is_recovered_from_history(redis_bus, clean_redis):
    publisher, subscriber = redis_bus(), redis_bus()
    subscription = await subscriber.subscribe(["a"])
    await publisher.publish("a", {"n": 1})
    await receive(subscription)
    # Without yielding to the event loop: the subscriber is cut off before it can
    # reconnect, and message 2 is published (silently) while it is away.
    with clean_redis.client() as client:
        client.client_kill_filter(_type="pubsub")
    append_silently(clean_redis, "a", {"n": 2})
    assert [m["n"] for m in await receive(subscription)] == [2]
    await publisher.publish("a", {"n": 3})
    assert [m["n"] for m in await receive(subscription)] == [3]


async def test_a_cursor_from_before_redis_lost_its_data_is_resynced_though_passed(
    redis_bus, clean_redis
):
    """Regression. Bug: after a Redis restarted empty, a stream's positions start over; a
    client resuming once the new ones passed its cursor silently missed the messages in
    between (and got the new ones as if they followed). Its cursor's epoch tells."""
    before = redis_bus()
    for n in range(1, 4):
        await before.publish("a", {"n": n})
    cursor = {"a": 3, EPOCH: await before.epoch()}
    clean_redis.flushall()  # as a restart without persistence
    after = redis_bus()
    for n in range(1, 6):
        await after.publish("a", {"n": n})
    subscription = await after.subscribe(["a"], cursor)
    [resync] = await receive(subscription)
    assert (resync["type"], resync["position"]) == ("resync", 5)
    assert subscription.origin[EPOCH] > cursor[EPOCH]


async def test_a_process_that_followed_nothing_while_redis_restarted_knows_the_new_epoch(
    redis_bus, redis_server
):
    """Regression. Bug: the process's epoch was read once; one whose connections had all
    gone when Redis restarted empty took a client's old cursor for a current one."""
    bus = redis_bus()
    subscription = await bus.subscribe(["a"])
    for n in range(1, 4):
        await bus.publish("a", {"n": n})
    await receive(subscription, 3)
    cursor = {"a": 3, EPOCH: await bus.epoch()}
    await subscription.close()
    await asyncio.to_thread(redis_server.restart)
    for n in range(1, 6):
        await bus.publish("a", {"n": n})
    resumed = await bus.subscribe(["a"], cursor)
    [resync] = await receive(resumed)
    assert (resync["type"], resync["position"]) == ("resync", 5)


async def test_a_restarted_redis_ends_in_resync_then_delivers_again(redis_bus, redis_server):
    """The test Redis keeps nothing on disk: after a restart every stream starts over."""
    publisher, subscriber = redis_bus(), redis_bus()
    subscription = await subscriber.subscribe(["a"])
    for n in range(1, 4):
        await publisher.publish("a", {"n": n})
    await receive(subscription, 3)
    epoch = await subscriber.epoch()
    await asyncio.to_thread(redis_server.restart)
    resync, heartbeat = await receive(subscription, 2)
    assert resync["type"] == "resync"
    # The new epoch, for the client's cursor: its next resume is not refused again.
    assert heartbeat == {"type": "heartbeat", "since": {EPOCH: await subscriber.epoch()}}
    assert heartbeat["since"][EPOCH] > epoch
    await publisher.publish("a", {"n": 4})
    [message] = await receive(subscription)
    assert (message["n"], message["position"]) == (4, 1)
    assert subscriber._reader is not None and not subscriber._reader.done()


async def test_an_idle_followed_stream_keeps_its_position(redis_bus):
    """Its position key would expire with the history TTL and the stream would start
    again at 1, a position its followers drop as already seen."""
    publisher, subscriber = redis_bus(history_ttl=0.3), redis_bus(history_ttl=0.3)
    subscription = await subscriber.subscribe(["a"])
    await publisher.publish("a", {"n": 1})
    await receive(subscription)
    await asyncio.sleep(1)  # idle for three TTLs: time passing is what is tested
    await publisher.publish("a", {"n": 2})
    assert [(m["n"], m["position"]) for m in await receive(subscription)] == [(2, 2)]


async def test_closing_ends_a_reader_whose_cancel_was_lost(redis_bus, monkeypatch):
    """Regression. Bug: on Python 3.11, ``asyncio.wait_for`` (redis-py wraps each command
    it sends in one once ``socket_timeout`` is set) loses a cancel that arrives as its
    command completes: the reader went on delivering and ``close()`` waited forever (a
    test's teardown hung on CI). Here the reader waits on ``wait_for`` and ``close()``
    cancels it in the very step its awaited future completes."""
    bus = redis_bus()
    loop = asyncio.get_running_loop()
    commands: list[asyncio.Future[None]] = []
    waiting = asyncio.Event()

    async def deliver(pubsub: object) -> None:
        await bus._handle(await pubsub.get_message(timeout=1))  # the SUBSCRIBE's confirmation
        while True:
            commands.append(loop.create_future())
            waiting.set()
            await asyncio.wait_for(commands[-1], 60)

    monkeypatch.setattr(bus, "_deliver", deliver)
    await bus.subscribe(["a"])
    await waiting.wait()
    commands[-1].set_result(None)
    await asyncio.wait_for(bus.close(), 10)
    assert bus._reader is None


async def test_a_stream_nobody_follows_expires(redis_bus, clean_redis):
    bus = redis_bus(history_ttl=60)
    await bus.publish("a", {"n": 1})
    with clean_redis.client() as client:
        assert 0 < client.pttl(position_key("a")) <= 60_000


async def test_unreachable_redis_is_a_clear_error(caplog):
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    bus = RedisBus(url)
    try:
        with pytest.raises(BusUnavailable, match=r"Redis at redis://:\*\*\*@127\.0\.0\.1:\d+/0"):
            await bus.publish("a", {"n": 1})
        with pytest.raises(BusUnavailable):
            await bus.claim("r1", 60)
        with pytest.raises(BusUnavailable):
            await bus.subscribe(["a"])
        assert bus._followers == {}  # the failed subscription was not left behind
    finally:
        await bus.close()
    assert "unreachable" in caplog.text
    assert "secret" not in caplog.text


async def test_a_redis_that_stops_answering_is_a_clear_error_not_a_hang(tmp_path):
    """Regression. Bug: on redis-py before 6 (``redis>=5`` is allowed) a command waited
    forever for a Redis that stopped answering (paused, or behind a network that drops
    packets): reflexes hung instead of being re-sent, a Celery broadcast never returned."""
    server = RedisServer(tmp_path).start()
    bus = RedisBus(server.url)
    try:
        await bus.publish("a", {"n": 1})  # connected
        os.kill(server.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(BusUnavailable, match="unreachable"):
            async with asyncio.timeout(20):
                await bus.publish("a", {"n": 2})
        assert time.monotonic() - started < 10  # the bus's 5 s, not the guard's 20
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        await bus.close()
        server.stop()


async def test_a_claim_that_runs_after_the_bus_gave_up_on_it_does_not_hold(tmp_path, monkeypatch):
    """Regression (operations audit). Bug: a reflex's claim sent to a paused Redis timed
    out (``BusUnavailable``: the reflex did not run, the client would send it again) but
    ran when Redis woke: the id stayed claimed, and every retry was dropped unanswered."""
    monkeypatch.setattr("sockpuppet.bus.redis.SOCKET_TIMEOUT", 2.0)  # a shorter pause
    server = RedisServer(tmp_path).start()
    bus = RedisBus(server.url)
    try:
        assert await bus.claim("warm", 60)  # connected, clocks compared
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(BusUnavailable, match="unreachable"):
                await bus.claim("r1", 60)
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        with server.client() as client:
            client.ping()  # Redis ran what it had received before this
            assert client.exists("sockpuppet:claim:r1") == 0
        assert await bus.claim("r1", 60) is True  # the retry runs
        assert await bus.claim("r1", 60) is False
    finally:
        await bus.close()
        server.stop()


async def test_a_clock_that_stepped_since_it_was_compared_does_not_refuse_claims(redis_bus):
    """A claim found late because a clock stepped (NTP) after the last comparison is sent
    again with the clocks compared afresh, not refused for a minute."""
    bus = redis_bus()
    assert await bus.claim("r1", 60)
    bus._clock = (time.monotonic(), -30.0)  # as if this host's clock jumped 30 s ahead
    assert await bus.claim("r2", 60) is True
    assert abs(bus._clock[1]) < 1


async def test_one_outage_is_one_warning_however_often_followers_come_back(tmp_path, caplog):
    """Regression (operations audit). Bug: each reader the bus started counted failures
    from 0, and one starts whenever a stream is followed after every follower gave up (a
    connection following a named stream): one Redis restart logged "no pub/sub
    connection" seven times."""
    server = RedisServer(tmp_path).start()
    bus = RedisBus(server.url)
    try:
        connection = await bus.subscribe([])  # it follows streams as the page asks
        subscription = await bus.subscribe(["a"])
        server.stop()
        await subscription.close()
        async with asyncio.timeout(20):  # the stream lingers, then the reader gives up
            while bus._reader is not None:
                await asyncio.sleep(0.05)  # the reader's own backoff: no event to await
        for _ in range(2):
            with pytest.raises(BusUnavailable):
                await connection.add_streams(["n.room"])
    finally:
        await bus.close()
    assert caplog.text.count("no pub/sub connection") == 1


async def test_a_full_redis_is_a_clear_error_logged_once(redis_bus, clean_redis, caplog):
    """Regression. Bug: with Redis at ``maxmemory`` (``noeviction``) publishes raised
    redis-py's OutOfMemoryError, not ``BusUnavailable``: a WebSocket's reflexes vanished
    unlogged, ``POST send`` answered 500, a Celery task's ``except BusUnavailable`` missed
    it. And every failure of an outage was logged, once per tab and command."""
    bus = redis_bus()
    with clean_redis.client() as client:
        client.config_set("maxmemory", "1")
        try:
            for _ in range(3):
                with pytest.raises(BusUnavailable, match=r"refused the write: .*maxmemory"):
                    await bus.publish("a", {"n": 1})
        finally:
            client.config_set("maxmemory", "0")
    assert caplog.text.count("refused the write") == 1
    assert (await bus.publish("a", {"n": 1}))["position"] == 1


async def test_a_write_only_bus_publishes_without_listening(redis_bus):
    worker, server = redis_bus(write_only=True), redis_bus()
    subscription = await server.subscribe(["a"])
    await worker.publish("a", {"n": 1})
    assert [m["n"] for m in await receive(subscription)] == [1]
    assert worker._reader is None
    with pytest.raises(RuntimeError, match="write-only"):
        await worker.subscribe(["b"])


def test_publishing_from_sync_code_uses_each_event_loop(clean_redis):
    """async_to_sync (a Celery task's broadcast) runs each call in a new event loop;
    connections of a closed loop cannot be reused, nor left open."""
    bus = RedisBus(clean_redis.url, write_only=True)
    publish = async_to_sync(bus.publish)
    assert publish("a", {"n": 1})["position"] == 1
    assert publish("a", {"n": 2})["position"] == 2
    assert bus._clients == {}


async def test_the_log_says_when_the_pub_sub_connection_is_lost(redis_bus, clean_redis, caplog):
    subscriber = redis_bus()
    subscription = await subscriber.subscribe(["a"])
    with caplog.at_level(logging.INFO, logger="sockpuppet.bus"):
        with clean_redis.client() as client:
            client.client_kill_filter(_type="pubsub")
        append_silently(clean_redis, "a", {"n": 1})
        await receive(subscription)
    assert "no pub/sub connection" in caplog.text
    assert "reconnected" in caplog.text


async def test_a_burst_beyond_the_pool_waits_instead_of_failing(redis_bus):
    """Regression: after a broadcast, hundreds of long-polls answered and came back at once,
    each reading history; redis-py's pool stopped at 100 connections and raised "Too many
    connections", which reached the polls as 503s. The pool now blocks until one is free."""
    bus = redis_bus()
    await asyncio.gather(*(bus.publish("burst", {"n": n}) for n in range(250)))
    reads = await asyncio.gather(*(bus._read("burst", 0) for _ in range(250)))
    assert all(last == 250 for _, last in reads)


async def test_a_stream_left_stays_subscribed_a_moment_for_its_next_follower(
    redis_bus, clean_redis, monkeypatch
):
    """A long-poll's next poll follows the same streams again at once: the process keeps
    the Redis subscription LINGER seconds, then lets it go if nobody came back."""
    from sockpuppet.bus import redis as bus_redis
    from sockpuppet.bus.redis import channel

    monkeypatch.setattr(bus_redis, "LINGER", 0.3)
    bus = redis_bus()

    def subscribers() -> int:
        with clean_redis.client() as client:
            return int(dict(client.pubsub_numsub(channel("c.poll")))[channel("c.poll").encode()])

    first = await bus.subscribe(["c.poll"])
    await first.close()
    assert subscribers() == 1  # lingering
    second = await bus.subscribe(["c.poll"])  # the next poll: no new SUBSCRIBE needed
    await bus.publish("c.poll", {"n": 1})
    assert [m["n"] for m in await receive(second)] == [1]
    await second.close()
    deadline = asyncio.get_running_loop().time() + 5
    while subscribers() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)  # Redis's own view, polled: nothing to await
    assert subscribers() == 0


async def _counting_reads(bus: RedisBus, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    read = bus._read

    async def counted(stream: str, after: int):  # type: ignore[no-untyped-def]
        reads.append(stream)
        return await read(stream, after)

    monkeypatch.setattr(bus, "_read", counted)
    return reads


async def test_a_poll_resuming_from_the_position_last_heard_reads_no_history(
    redis_bus, monkeypatch
):
    """Hundreds of long-polls renew after each broadcast: each would read the history of
    every stream it follows, to find what it already has."""
    publisher, subscriber = redis_bus(), redis_bus()
    reads = await _counting_reads(subscriber, monkeypatch)
    await publisher.publish("a", {"n": 1})
    first = await subscriber.subscribe(["a"], {"a": 0})
    assert [m["n"] for m in await receive(first)] == [1]
    await publisher.publish("a", {"n": 2})  # heard: the position follows announcements
    assert [m["n"] for m in await receive(first)] == [2]
    await first.close()
    assert reads == ["a"]

    renewed = await subscriber.subscribe(["a"], {"a": 2})
    assert reads == ["a"]
    await publisher.publish("a", {"n": 3})
    assert [m["n"] for m in await receive(renewed)] == [3]
    await renewed.close()

    behind = await subscriber.subscribe(["a"], {"a": 1})  # it missed one: read
    assert [m["n"] for m in await receive(behind, 2)] == [2, 3]
    assert reads == ["a", "a"]


async def test_what_was_heard_is_forgotten_with_the_pub_sub_connection(
    redis_bus, clean_redis, monkeypatch
):
    """While the connection was down, announcements went unheard: a poll resuming from
    the last position heard must read history again."""
    publisher, subscriber = redis_bus(), redis_bus()
    first = await subscriber.subscribe(["a"], {"a": 0})
    await publisher.publish("a", {"n": 1})
    await receive(first)
    await first.close()  # lingering: nobody follows "a" here when the connection drops
    with clean_redis.client() as client:
        client.client_kill_filter(_type="pubsub")
    append_silently(clean_redis, "a", {"n": 2})
    deadline = asyncio.get_running_loop().time() + 5
    while (
        subscriber._connection == 0 or "a" not in subscriber._live
    ) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)  # the reader reconnects by itself: nothing to await
    renewed = await subscriber.subscribe(["a"], {"a": 1})
    assert [m["n"] for m in await receive(renewed)] == [2]


async def test_the_bus_reaches_redis_through_its_unix_socket(clean_redis):
    url = clean_redis.unix_url
    assert create_bus(url).url == url and check_bus_of(url) == []
    publisher, subscriber = create_bus(url), create_bus(url)
    try:
        subscription = await subscriber.subscribe(["room"])
        await publisher.publish("room", {"n": 1})
        (message,) = await receive(subscription)
        assert (message["n"], message["position"]) == (1, 1)
    finally:
        await publisher.close()
        await subscriber.close()


def check_bus_of(url):
    with override_settings(SOCKPUPPET={"BUS": url}):
        return check_settings() + check_bus()
