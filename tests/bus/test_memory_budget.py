"""The memory bus keeps the histories of all its streams under ``HISTORY_MAX_BYTES``:
past it the oldest messages of the least lately written streams go first, and a client
resuming from before them is told to re-render. (Security audit: one anonymous session
at the rate limit, negotiating a new connection each second, kept every answer for five
minutes, hundreds of megabytes of them.)"""

from sockpuppet.bus.memory import MemoryBus
from sockpuppet.protocol import encode
from tests.bus.conftest import drain

PAGE = {"type": "operations", "html": "x" * 200}


def kept(bus: MemoryBus) -> int:
    """What the histories hold, in characters of JSON, counted afresh."""
    return sum(len(encode(entry)) for h in bus._streams.values() for entry in h.entries)


async def test_the_least_lately_written_streams_give_their_oldest_messages_first():
    bus = MemoryBus(history_length=100, history_bytes=2_000)
    for _ in range(5):
        await bus.publish("c.idle", PAGE)
    for _ in range(30):
        await bus.publish("c.busy", PAGE)
    assert kept(bus) == bus._size <= 2_000
    assert bus._streams["c.idle"].entries == []
    last = [m["position"] for m in bus._streams["c.busy"].entries]
    assert last == list(range(31 - len(last), 31)) and len(last) >= 5
    resumed = await bus.subscribe(["c.idle"], {"c.idle": 2})
    assert [m["type"] for m in drain(resumed)] == ["resync"]
    resumed = await bus.subscribe(["c.busy"], {"c.busy": 27})
    assert [m["position"] for m in drain(resumed)] == [28, 29, 30]
    assert (await bus.publish("c.idle", PAGE))["position"] == 6  # its place kept


async def test_the_newest_message_is_kept_whatever_its_size():
    bus = MemoryBus(history_bytes=100)
    await bus.publish("a", PAGE)
    published = await bus.publish("b", PAGE)
    assert bus._streams["b"].entries == [published] and bus._streams["a"].entries == []
    assert bus._size == kept(bus)


async def test_the_count_keeps_true_as_histories_shorten_and_expire():
    bus = MemoryBus(history_length=3, history_ttl=0)
    for _ in range(10):
        await bus.publish("a", PAGE)
        await bus.publish("b", {"type": "pong", "id": "x"})
    assert bus._size == kept(bus) and len(bus._streams["a"].entries) == 3
    bus._expire()  # nobody follows them, and they are older than a TTL of 0
    assert bus._streams == {} and bus._size == 0
