"""What an idle browser WebSocket costs the server: RSS per connection, with and without
permessage-deflate.

Browsers offer permessage-deflate on every WebSocket, and uvicorn accepts it unless it
runs with ``--ws-per-message-deflate false``; the load test's WebSocket client
(websocket-client, under Locust) never offers it, so ``loadtest.run --scenario idle``
measures a connection without it. This measures both, on the same demo and the same
machine in one run:

- ``browser``: the client offers deflate as Chromium does (``websockets``' default
  offer), uvicorn as it starts by default, so the extension is on;
- ``browser, deflate off``: the same client, uvicorn with ``--ws-per-message-deflate
  false``;
- ``no offer``: a client that offers nothing (as the load test's), uvicorn by default.

For each, a fresh demo process (memory bus, SQLite sessions, DEBUG off): RSS after a
first page view, after ``--warm`` connections (the first ones load code and grow the
allocator's pools), and after ``--connections``; KiB per connection =
(RSS at N - RSS at warm) / (N - warm). Each connection is its own visitor: a page view,
``negotiate``, then the WebSocket, which gets its ``welcome`` and stays open, idle.

    .venv/bin/python -m loadtest.websocket_memory --connections 1000 [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import platform
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from loadtest import procstat, stack
from loadtest.browser_latency import _commit, publish
from loadtest.processes import demo_process

SETTLE = 2.0  # seconds for the last handshakes' garbage to go, before RSS is read

VARIANTS: list[tuple[str, str, list[str]]] = [
    ("browser", "deflate", []),
    ("browser, deflate off", "deflate", ["--ws-per-message-deflate", "false"]),
    ("no offer", "none", []),
]


async def open_connection(base: str, compression: str) -> ClientConnection:
    """A new visitor's WebSocket, proven by its ``welcome``."""
    async with httpx.AsyncClient(timeout=60) as http:
        (await http.get(base + "/")).raise_for_status()
        csrf = http.cookies["csrftoken"]
        answer = await http.post(
            base + "/sockpuppet/negotiate",
            headers={"X-CSRFToken": csrf, "Origin": base},
            json={},
        )
        answer.raise_for_status()
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    url = base.replace("http", "ws", 1) + "/sockpuppet/ws?token=" + quote(answer.json()["token"])
    connection = await websockets.connect(
        url,
        additional_headers={"Cookie": cookie},
        origin=base,  # type: ignore[arg-type]
        compression=None if compression == "none" else "deflate",
        open_timeout=60,
    )
    welcome = await asyncio.wait_for(connection.recv(), 60)
    assert '"heartbeat"' in str(welcome), welcome
    return connection


async def grow(
    held: list[ClientConnection],
    level: int,
    opener: Callable[[], Awaitable[ClientConnection]],
    parallel: int = 20,
) -> None:
    while len(held) < level:
        batch = min(parallel, level - len(held))
        held += await asyncio.gather(*(opener() for _ in range(batch)))


async def levels(base: str, pid: int, compression: str, warm: int, total: int) -> dict[str, Any]:
    held: list[ClientConnection] = []
    row: dict[str, Any] = {"rss0": procstat.rss_kb(pid), "warm": warm, "connections": total}
    try:
        await grow(held, warm, lambda: open_connection(base, compression))
        await asyncio.sleep(SETTLE)  # a fixed settling time, not a wait for an event
        row["rss_warm"] = procstat.rss_kb(pid)
        await grow(held, total, lambda: open_connection(base, compression))
        await asyncio.sleep(SETTLE)
        row["rss_all"] = procstat.rss_kb(pid)
        row["extensions"] = sorted(
            {
                str(c.response.headers.get("Sec-WebSocket-Extensions", ""))
                for c in held
                if c.response
            }
        )
    finally:
        await asyncio.gather(*(c.close() for c in held), return_exceptions=True)
    row["kib_per_connection"] = (row["rss_all"] - row["rss_warm"]) / (total - warm)
    return row


def measure(connections: int, warm: int) -> list[dict[str, Any]]:
    rows = []
    for name, compression, options in VARIANTS:
        with demo_process("websocket", uvicorn_options=options) as (base, pid):
            httpx.get(base + "/", timeout=10).raise_for_status()
            row = asyncio.run(levels(base, pid, compression, warm, connections))
            rows.append({"variant": name, "uvicorn": " ".join(options) or "(defaults)", **row})
    return rows


def report(rows: list[dict[str, Any]], command: str) -> str:
    lines = [
        f"# Memory per idle browser WebSocket, {datetime.date.today().isoformat()}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"uvicorn {_version('uvicorn')}, websockets {_version('websockets')}; one demo "
        f"process per variant (memory bus, SQLite sessions, DEBUG off, the demo's GC "
        f"thresholds). Code at `{_commit()}`.",
        "",
        "RSS of the demo process in KiB; per connection = (RSS at all - RSS at warm) / "
        "(all - warm). `extensions`: what the server's handshake answered.",
        "",
        "| variant | uvicorn | extensions | RSS, no connection | RSS at warm | RSS at all | connections | KiB per connection |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        extensions = ", ".join(e or "none" for e in row["extensions"])
        lines.append(
            f"| {row['variant']} | `{row['uvicorn']}` | {extensions} | {row['rss0']} | "
            f"{row['rss_warm']} ({row['warm']}) | {row['rss_all']} | {row['connections']} | "
            f"**{row['kib_per_connection']:.1f}** |"
        )
    return "\n".join([*lines, ""])


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--warm", type=int, default=100, help="connections before the baseline")
    parser.add_argument(
        "--record", action="store_true", help="write the table to loadtest/results/"
    )
    options = parser.parse_args()
    if not 0 < options.warm < options.connections:
        parser.error("--warm must be between 0 and --connections")
    stack.raise_open_files()
    rows = measure(options.connections, options.warm)
    text = report(rows, "python -m loadtest.websocket_memory " + " ".join(sys.argv[1:]))
    publish(text, "websocket-memory", options.record)


if __name__ == "__main__":
    main()
