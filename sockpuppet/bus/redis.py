"""The Redis bus: any process publishes, the process holding the connection delivers.

Each stream has three names sharing one hash tag, so they live on one Redis Cluster slot:
``sockpuppet:{<stream>}:pos`` (its last position, a counter), ``sockpuppet:{<stream>}:log``
(its history, a Redis Stream whose entry ids are ``<position>-0``) and the pub/sub
channel ``sockpuppet:{<stream>}``. A durable publish is one Lua script, so a position,
its history entry and its announcement cannot part: a subscriber that sees position 7
after 5 knows 6 is in the log and reads it (the routing in ``base.py`` does that).

Pub/sub is the only way a message reaches a subscriber, including one in the publishing
process (``hears_itself``): one order for everyone, and non-durable messages (which have
no position to deduplicate by) arrive once. One pub/sub connection per process; its
reader task reconnects with backoff, resubscribes, and asks the routing to recover what
was announced meanwhile (``Bus._missed``: fill from history, or resync).

A process that never subscribes (a Celery worker) never opens the pub/sub connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable
from contextlib import suppress
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

from redis import exceptions as errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff

from sockpuppet.bus.base import Bus, BusUnavailable, Message
from sockpuppet.tasks import stop

logger = logging.getLogger("sockpuppet.bus")

T = TypeVar("T")

# KEYS: position, log. ARGV: the message's JSON up to its position, history length, TTL
# in ms, channel. The position is spliced into the JSON rather than decoded and encoded
# with cjson, which would turn empty lists into objects.
APPEND = """
local position = redis.call('INCR', KEYS[1])
local message = ARGV[1] .. position .. '}'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], position .. '-0', 'm', message)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], message)
return position
"""
APPEND_SHA = hashlib.sha1(APPEND.encode()).hexdigest()

# KEYS: the epoch. The Redis's lifetime, made on first use: its clock in microseconds,
# so a Redis restarted empty gets a larger one (the client's cursor keeps the largest).
EPOCH_SCRIPT = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  local now = redis.call('TIME')
  epoch = now[1] .. string.format('%06d', tonumber(now[2]))
  redis.call('SET', KEYS[1], epoch)
end
return epoch
"""
EPOCH_KEY = "sockpuppet:epoch"

# KEYS: the claim. ARGV: TTL in ms, deadline in Redis's clock (ms; 0: none). A claim Redis
# runs after its deadline is refused (-1): by then the bus stopped waiting for the answer
# (a Redis paused, or a network that held the command, runs it when it wakes), and a
# claim nobody knew was made would refuse the reflex's every retry without running it.
CLAIM = """
if tonumber(ARGV[2]) > 0 then
  local now = redis.call('TIME')
  if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[2]) then
    return -1
  end
end
if redis.call('SET', KEYS[1], 1, 'NX', 'PX', ARGV[1]) then return 1 end
return 0
"""
CLAIM_SHA = hashlib.sha1(CLAIM.encode()).hexdigest()
# Seconds, of the wait for an answer, a claim may take to reach Redis and run: the rest
# is margin for the error of the clock offset and the answer's way back.
CLAIM_MARGIN = 1.0
# Seconds a measure of Redis's clock against this process's is used.
CLOCK_CHECK_EVERY = 60.0

# Connections per process and event loop, and how long a command waits for a free one.
POOL_SIZE = 200
POOL_WAIT = 10.0
PREFIX = "sockpuppet:{"
UNREACHABLE = (errors.ConnectionError, errors.TimeoutError, OSError)
REFUSED = (errors.OutOfMemoryError, errors.ReadOnlyError)
LOG_EVERY = 10.0  # seconds between log lines of one outage
RECONNECT_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)  # then 2 s until Redis is back
SUBSCRIBE_TIMEOUT = 10.0
# Seconds a command (or a connection attempt) waits for a Redis that stopped answering
# (paused, or a network that drops packets) before it is a BusUnavailable, not a hang.
# redis-py's own default before 6 was to wait forever; a URL's ?socket_timeout= wins.
SOCKET_TIMEOUT = 5.0
# Seconds a stream stays subscribed after its last follower in this process left.
LINGER = 2.0


def channel(stream: str) -> str:
    return f"{PREFIX}{stream}}}"


def position_key(stream: str) -> str:
    return f"{PREFIX}{stream}}}:pos"


def log_key(stream: str) -> str:
    return f"{PREFIX}{stream}}}:log"


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


class RedisBus(Bus):
    """Streams in Redis: history in Redis Streams, announcements over pub/sub."""

    hears_itself = True

    def __init__(self, url: str, *, write_only: bool = False, **options: Any) -> None:
        super().__init__(url, **options)
        self.write_only = write_only
        self._where = redacted(url)
        self._quiet_until = 0.0  # no log line of an outage before (monotonic)
        self._epoch: int | None = None  # as last read from Redis
        # False once the pub/sub connection was lost or let go: Redis may have restarted
        # meanwhile, so the epoch is read again before it is used.
        self._epoch_current = False
        self._unlogged = 0
        self._clients: dict[
            asyncio.AbstractEventLoop, tuple[Redis, AsyncGenerator[None, None]]
        ] = {}
        self._reader: asyncio.Task[None] | None = None
        self._pubsub: PubSub | None = None
        self._followed: set[str] = set()  # streams this process listens to
        self._live: set[str] = set()  # ... whose SUBSCRIBE Redis confirmed on this connection
        self._confirming: dict[str, asyncio.Future[None]] = {}
        # Streams no follower here needs any more, still subscribed for LINGER seconds.
        self._lingering: dict[str, asyncio.TimerHandle] = {}
        self._unsubscribing: set[asyncio.Task[None]] = set()
        # The last position of live streams, as announcements and reads told it (a poll
        # resuming from there needs no read); forgotten whenever the connection drops.
        self._heard: dict[str, int] = {}
        self._connection = 0  # counts pub/sub connections: a read spanning two tells nothing
        # When Redis's clock was last compared with this process's (monotonic), and how far
        # ahead it was (seconds).
        self._clock: tuple[float, float] = (-CLOCK_CHECK_EVERY, 0.0)
        # Failed pub/sub connections since the last that worked: one outage is one warning
        # however often readers start and stop meanwhile (followers giving up, coming back).
        self._failures = 0

    # Publishing and reading: the connection pool of the running loop.

    async def _append(self, stream: str, message: Message, durable: bool) -> Message:
        client = await self._client()
        if not durable:
            await self._call(client.publish(channel(stream), json.dumps(message)))
            return message
        fields = {k: v for k, v in message.items() if k != "position"}
        head = json.dumps({**fields, "stream": stream}, separators=(",", ":"))[:-1]
        keys_and_args = (
            position_key(stream),
            log_key(stream),
            head + ',"position":',
            self.history_length,
            int(self.history_ttl * 1000),
            channel(stream),
        )
        try:
            position = await self._call(client.evalsha(APPEND_SHA, 2, *keys_and_args))
        except errors.NoScriptError:  # first use on this server, or Redis restarted
            position = await self._call(client.eval(APPEND, 2, *keys_and_args))
        return {**fields, "stream": stream, "position": int(position)}

    async def _read(self, stream: str, after: int) -> tuple[list[Message] | None, int]:
        client = await self._client()
        heard_from = self._connection if stream in self._live else None
        async with client.pipeline(transaction=True) as pipe:
            pipe.get(position_key(stream))
            pipe.xrange(log_key(stream), min=f"{after + 1}-0", count=self.history_length)
            raw_last, entries = await self._call(pipe.execute())
        last = int(raw_last or 0)
        if heard_from == self._connection and stream in self._live:
            self._hear(stream, last)
        if last == 0:
            return ([] if after == 0 else None), 0
        if after >= last:
            return [], last
        # MAXLEN ~ keeps at least history_length entries; serve exactly that many, as the
        # memory bus does, so a client gets the same answer from either.
        if after + 1 <= last - self.history_length or not entries:
            return None, last
        if int(entries[0][0].split(b"-")[0]) != after + 1:
            return None, last
        return [json.loads(fields[b"m"]) for _, fields in entries], last

    async def claim(self, key: str, ttl: float) -> bool:
        client = await self._client()
        claimed = await self._claim(client, key, ttl)
        if claimed == -1:  # late, or a clock stepped since they were compared: compare again
            self._clock = (-CLOCK_CHECK_EVERY, 0.0)
            claimed = await self._claim(client, key, ttl)  # -1 set nothing: safe to retry
        if claimed == -1:
            self._unreachable(TimeoutError("the claim reached Redis after its deadline"))
        return bool(claimed == 1)

    async def _claim(self, client: Redis, key: str, ttl: float) -> int:
        """1 claimed, 0 claimed before, -1 too late (nothing set)."""
        deadline = 0
        waits = client.connection_pool.connection_kwargs.get("socket_timeout")
        if waits:  # redis-py gives up on the answer then: the claim must not run later
            offset = await self._clock_offset(client)
            deadline = int((time.time() + offset + max(waits - CLAIM_MARGIN, 0.1)) * 1000)
        keys_and_args = (f"sockpuppet:claim:{key}", int(ttl * 1000), deadline)
        try:
            return int(await self._call(client.evalsha(CLAIM_SHA, 1, *keys_and_args)))
        except errors.NoScriptError:
            return int(await self._call(client.eval(CLAIM, 1, *keys_and_args)))

    async def _clock_offset(self, client: Redis) -> float:
        """Seconds Redis's clock is ahead of this process's, measured once a minute (to
        within half a round trip)."""
        measured_at, offset = self._clock
        if time.monotonic() - measured_at < CLOCK_CHECK_EVERY:
            return offset
        before = time.time()
        seconds, microseconds = await self._call(client.time())
        offset = seconds + microseconds / 1e6 - (before + time.time()) / 2
        self._clock = (time.monotonic(), offset)
        return offset

    async def epoch(self) -> int:
        if self._epoch is None or not self._epoch_current:
            await self._check_epoch()
        assert self._epoch is not None
        return self._epoch

    async def _read_epoch(self) -> int:
        client = await self._client()
        return int(await self._call(client.eval(EPOCH_SCRIPT, 1, EPOCH_KEY)))

    async def _check_epoch(self) -> None:
        """After a reconnect, and now and then: a Redis that lost its data (restarted
        empty, flushed) has a new epoch, and every open subscription is resynced."""
        epoch = await self._read_epoch()
        self._epoch_current = True
        known, self._epoch = self._epoch, epoch
        if known is not None and epoch != known:
            logger.warning("Redis bus: Redis at %s lost its streams: resync", self._where)
            await self._lost_everything(epoch)

    async def release(self, key: str) -> None:
        client = await self._client()
        await self._call(client.delete(f"sockpuppet:claim:{key}"))

    async def _client(self) -> Redis:
        """This event loop's client. ``async_to_sync`` (a Celery task's ``broadcast()``)
        runs each call in a new loop, and connections cannot cross loops."""
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            # Retried briefly: a pooled connection may be stale after a Redis restart.
            # Not on timeouts, where the script may have run already.
            retry = Retry(ExponentialBackoff(cap=0.2, base=0.02), 2, (errors.ConnectionError,))
            # A blocking pool: a burst (hundreds of long-polls answering at once after a
            # broadcast) waits for a free connection instead of failing "Too many connections".
            pool = BlockingConnectionPool.from_url(
                self.url,
                max_connections=POOL_SIZE,
                timeout=POOL_WAIT,
                retry=retry,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=SOCKET_TIMEOUT,
            )
            client = Redis(connection_pool=pool)
            client.auto_close_connection_pool = True
            closer = self._close_with_loop(loop, client)
            self._clients[loop] = (client, closer)
            await anext(closer)
        return self._clients[loop][0]

    async def _close_with_loop(
        self, loop: asyncio.AbstractEventLoop, client: Redis
    ) -> AsyncGenerator[None, None]:
        # An async generator left suspended is closed by the loop's shutdown_asyncgens(),
        # which asyncio.run() awaits before closing the loop: the client closes in its loop.
        try:
            yield
        finally:
            self._clients.pop(loop, None)
            await client.aclose()

    async def _call(self, command: Awaitable[T]) -> T:
        try:
            return await command
        except UNREACHABLE as exc:
            self._unreachable(exc)
        except REFUSED as exc:  # a full Redis (maxmemory), a replica after a failover
            self._unreachable(exc, "refused the write")

    def _unreachable(self, exc: BaseException, what: str = "is unreachable") -> NoReturn:
        """Raise ``BusUnavailable``; logged once per ``LOG_EVERY`` seconds of an outage,
        not once per connection and command (a thousand tabs would flood the log)."""
        now = time.monotonic()
        if now >= self._quiet_until:
            self._quiet_until = now + LOG_EVERY
            more = f" ({self._unlogged} more failures since)" if self._unlogged else ""
            logger.error("Redis bus: Redis at %s %s (%s)%s", self._where, what, exc, more)
            self._unlogged = 0
        else:
            self._unlogged += 1
        raise BusUnavailable(f"Redis at {self._where} {what}: {exc}") from exc

    # Listening: one pub/sub connection and one reader task per process.

    async def _listen(self, stream: str) -> None:
        if self.write_only:
            raise RuntimeError("This RedisBus is write-only: it publishes, it cannot subscribe.")
        lingering = self._lingering.pop(stream, None)
        if lingering is not None:
            lingering.cancel()
        self._followed.add(stream)
        if stream in self._live:
            return
        confirmed = self._confirming.get(stream)
        if confirmed is None:
            confirmed = self._confirming[stream] = asyncio.get_running_loop().create_future()
            if self._pubsub is not None:
                # Not connected: the reader subscribes every followed stream on (re)connect.
                # Failed: the reader notices the lost connection and does the same.
                with suppress(*UNREACHABLE):
                    await self._pubsub.subscribe(channel(stream))
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_announcements(), name="redis-bus")
        try:
            await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            self._unreachable(TimeoutError(f"SUBSCRIBE not confirmed in {SUBSCRIBE_TIMEOUT} s"))

    async def _unlisten(self, stream: str) -> None:
        """Keep the subscription LINGER seconds more: a long-poll's next poll, an SSE
        stream's reconnect, comes back for it at once (a SUBSCRIBE and an UNSUBSCRIBE
        saved each time: hundreds of polls renew together after a broadcast)."""
        if stream not in self._lingering:
            loop = asyncio.get_running_loop()
            self._lingering[stream] = loop.call_later(LINGER, self._linger_over, stream)

    def _linger_over(self, stream: str) -> None:
        self._lingering.pop(stream, None)
        if self._followers.get(stream):
            return  # followed again meanwhile
        task = asyncio.ensure_future(self._unsubscribe(stream))
        self._unsubscribing.add(task)
        task.add_done_callback(self._unsubscribing.discard)

    def _last_heard(self, stream: str) -> int | None:
        return self._heard.get(stream) if stream in self._live else None

    def _hear(self, stream: str, last: int) -> None:
        """A read while listening: from here on, announcements keep ``last`` up to date.
        A read older than an announcement heard meanwhile (or a stream gone back) leaves
        the stream unknown until the next read."""
        if last >= self._heard.get(stream, 0):
            self._heard[stream] = last
        else:
            del self._heard[stream]

    async def _unsubscribe(self, stream: str) -> None:
        self._followed.discard(stream)
        self._live.discard(stream)
        self._heard.pop(stream, None)
        confirmed = self._confirming.pop(stream, None)
        if confirmed is not None:
            confirmed.cancel()  # its follower is gone; a later _listen subscribes afresh
        if self._pubsub is not None:
            with suppress(*UNREACHABLE):
                await self._pubsub.unsubscribe(channel(stream))

    async def _read_announcements(self) -> None:
        """The reader task: connect, subscribe every followed stream, deliver; on a lost
        connection, back off and start again; give up once nothing is followed."""
        # No retries inside redis-py: a lost connection surfaces here, where resubscribing
        # is followed by recovering what was missed.
        listener = Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0, supported_errors=()),
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
        )
        try:
            while True:
                pubsub = listener.pubsub()
                try:
                    await pubsub.connect()
                    self._pubsub = pubsub  # from here on, _listen subscribes by itself
                    if self._followed:
                        await pubsub.subscribe(*map(channel, self._followed))
                    if self._failures:
                        logger.info("Redis bus: reconnected to %s", self._where)
                        await self._check_epoch()  # before the resubscriptions' _missed
                    self._failures = 0
                    await self._deliver(pubsub)
                except (*UNREACHABLE, BusUnavailable) as exc:
                    self._disconnected(exc)
                finally:
                    self._pubsub = None
                    self._epoch_current = False
                    self._live.clear()
                    self._heard.clear()
                    self._connection += 1
                    await pubsub.aclose()
                await asyncio.sleep(
                    RECONNECT_DELAYS[min(self._failures, len(RECONNECT_DELAYS) - 1)]
                )
                self._failures += 1
                if not self._followed:  # every follower gave up while Redis was away
                    self._reader = None  # the next _listen starts a new reader
                    return
        finally:
            await listener.aclose()

    async def _deliver(self, pubsub: PubSub) -> NoReturn:
        """Hand each announcement to the routing, in order. Every third of the history TTL,
        renew the position keys of followed streams: an idle stream whose counter expired
        would start again at 1, and its followers would drop that as already seen."""
        loop = asyncio.get_running_loop()
        every = max(self.history_ttl / 3, 0.1)
        renew_at = loop.time() + every
        while True:
            message = await pubsub.get_message(timeout=max(renew_at - loop.time(), 0))
            try:
                await self._handle(message)
            except BusUnavailable:
                raise
            except Exception:
                logger.exception("Redis bus: could not deliver %r", message)
            if loop.time() >= renew_at:
                client = await self._client()
                async with client.pipeline(transaction=False) as pipe:
                    for stream in self._followed:
                        pipe.pexpire(position_key(stream), int(self.history_ttl * 1000))
                    await self._call(pipe.execute())
                await self._check_epoch()  # flushed without a restart: found within this
                renew_at = loop.time() + every

    async def _handle(self, message: dict[str, Any] | None) -> None:
        if message is None or message["type"] not in ("message", "subscribe"):
            return
        stream = message["channel"].decode()[len(PREFIX) : -1]
        if message["type"] == "message":
            announced = json.loads(message["data"])
            if stream in self._heard and isinstance(announced.get("position"), int):
                self._heard[stream] = announced["position"]
            await self._arrived(stream, announced)
            return
        if stream not in self._followed:
            return
        self._live.add(stream)
        confirmed = self._confirming.pop(stream, None)
        if confirmed is not None and not confirmed.done():
            confirmed.set_result(None)
        # A resubscription: what was announced while the connection was down is in history.
        await self._missed(stream)

    def _disconnected(self, exc: BaseException) -> None:
        log = logger.warning if self._failures == 0 else logger.debug
        log("Redis bus: no pub/sub connection to %s (%s); retrying", self._where, exc)
        error = BusUnavailable(f"Redis at {self._where} is unreachable: {exc}")
        for stream, confirmed in list(self._confirming.items()):
            del self._confirming[stream]
            if not confirmed.done():
                confirmed.set_exception(error)

    async def close(self) -> None:
        """Stop the reader and close this loop's connections."""
        for handle in self._lingering.values():
            handle.cancel()
        self._lingering.clear()
        if self._reader is not None:
            await stop(self._reader)
            self._reader = None
        entry = self._clients.get(asyncio.get_running_loop())
        if entry is not None:
            await entry[1].aclose()
