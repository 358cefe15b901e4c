"""Click -> DOM updated, measured inside Chromium, beside a bare-ASGI round trip, per transport.

Both run in the same browser in the same run, interleaved in rounds so a noisy moment
of the (shared) machine hits both alike:

- baseline: the same round trip on the same transport against a bare ASGI app under the
  same uvicorn (``loadtest/echo_app.py``): the floor any framework on it stands on;
- ping: a click on the playground's Ping until its ``sockpuppet:nothing`` event: a reflex
  that changes nothing and answers nothing, so the framework's own cost per reflex on
  that transport (client message, token, dispatcher, middleware, the hop to a thread);
- reflex: a click on the demo counter's +1 until the morphed count shows in the DOM
  (all of the above plus the session's load and save, the view, lxml, morphdom).

    .venv/bin/python -m loadtest.browser_latency --clicks 300

starts each round trip as the last one ends (on SSE and long-poll, once the last POST
is answered, for the baseline and the client alike), in a task of its own as a person's
click always is (``--gap 50``: 50 ms of quiet before each, as between a person's clicks;
``--bus redis``: the demo on the Redis bus, as a deployment of several processes runs),
prints a Markdown table and, with ``--record``, writes it to
``loadtest/results/``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from loadtest.processes import demo_process, uvicorn_process
from tests.support.redis import RedisServer

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = Path(__file__).resolve().parent / "results"

# The HTTP baselines make their short requests (a poll, a POST) as the client does
# (client/src/transports/xhr.js): with XMLHttpRequest, whose whole body reaches the page a
# task sooner than fetch's, answered as soon as its body is a whole JSON array or object
# (readyState 3), before Chromium tells of the response's end; `body` makes a POST,
# `signal` aborts.
REQUEST_JS = """
const request = (url, body, signal) => new Promise((ok, fail) => {
  const xhr = new XMLHttpRequest();
  xhr.open(body === undefined ? "GET" : "POST", url);
  xhr.onreadystatechange = () => {
    const text = xhr.responseText;
    if (xhr.readyState !== 3 || !/[\\]}]\\s*$/.test(text)) return;
    try { JSON.parse(text); ok(text); } catch {}
  };
  xhr.onload = () => ok(xhr.responseText);
  xhr.onerror = xhr.onabort = () => fail(new Error("request failed: " + url));
  if (signal) signal.addEventListener("abort", () => xhr.abort(), {once: true});
  xhr.send(body === undefined ? null : body);
});
"""

# The baselines: the same round trip, on each transport, against loadtest/echo_app.py.
# Every script starts each round trip after a timer of `gap` ms, 0 included: in a task of
# its own, as a click's input event always is, never inside the task that handled the last
# answer (where a long-poll client has not started its next poll yet).
# A round trip ends when the echo arrives (on the stream, in the poll's answer); the
# POST's own answer is awaited after it, one POST at a time as the client's sender sends.
BASELINE_JS = {
    "websocket": """async ([base, n, gap]) => {
  const ws = new WebSocket(base.replace("http", "ws") + "/echo");
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  const times = [];
  for (let i = 0; i < n; i++) {
    await new Promise((ok) => setTimeout(ok, gap));
    const t0 = performance.now();
    const back = new Promise((ok) => { ws.onmessage = ok; });
    ws.send(JSON.stringify({type: "ping", id: String(i)}));
    await back;
    times.push(performance.now() - t0);
  }
  ws.close();
  return times;
}""",
    "sse": REQUEST_JS
    + """async ([base, n, gap]) => {
  const id = Math.random().toString(36).slice(2);
  const events = new EventSource(base + "/sse?id=" + id);
  let arrived = null;
  events.onmessage = () => { if (arrived) { const done = arrived; arrived = null; done(); } };
  await new Promise((ok) => { events.onopen = ok; });
  const times = [];
  for (let i = 0; i < n; i++) {
    await new Promise((ok) => setTimeout(ok, gap));
    const t0 = performance.now();
    const back = new Promise((ok) => { arrived = ok; });
    const sent = request(base + "/send?id=" + id, JSON.stringify({type: "ping", id: String(i)}));
    await back;
    times.push(performance.now() - t0);
    await sent;
  }
  events.close();
  return times;
}""",
    "longpoll": REQUEST_JS
    + """async ([base, n, gap]) => {
  const id = Math.random().toString(36).slice(2);
  const times = [];
  // The last poll is aborted: left held, it would keep one of the browser's six
  // connections per host, and after a few rounds requests would queue behind them.
  const held = new AbortController();
  const poll = () => request(base + "/poll?id=" + id, undefined, held.signal).then(JSON.parse);
  let polled = poll();
  for (let i = 0; i < n; i++) {
    await new Promise((ok) => setTimeout(ok, gap));
    const t0 = performance.now();
    const sent = request(base + "/send?id=" + id, JSON.stringify({type: "ping", id: String(i)}));
    await polled;
    times.push(performance.now() - t0);
    polled = poll();
    await sent;
  }
  held.abort();
  polled.catch(() => {});
  return times;
}""",
}

# The client's HTTP transports send a tab's POSTs one at a time, and the server writes a
# POST's own 202 right behind its reflex's answer: a click made as that answer arrives
# would wait for the 202 before its POST goes out. The bare baselines await their POST's
# answer before their next round trip starts; so does each click, on pages with this script
# (`watch_posts`). A person's clicks are far enough apart that the 202 is always in.
POSTS_JS = """(() => {
  let flying = 0;
  const waiting = [];
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, ...rest) {
    this.benchmarkPost = method === "POST";
    return open.call(this, method, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    if (this.benchmarkPost) {
      flying++;
      this.addEventListener("loadend", () => {
        if (--flying === 0) waiting.splice(0).forEach((ok) => ok());
      });
    }
    return send.call(this, body);
  };
  window.postsSettled = () => flying === 0 ? Promise.resolve() : new Promise((ok) => waiting.push(ok));
})();"""


def watch_posts(page: Page) -> None:
    """Let the click scripts on ``page`` await the client's POSTs on their way (before
    the page loads)."""
    page.add_init_script(POSTS_JS)


CLICK_JS = """async ([button, output, n, gap]) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    if (window.postsSettled) await window.postsSettled();
    const before = document.querySelector(output).textContent;
    const changed = new Promise((ok, fail) => {
      const observer = new MutationObserver(() => {
        if (document.querySelector(output).textContent !== before) { observer.disconnect(); ok(); }
      });
      observer.observe(document.body, {childList: true, subtree: true, characterData: true});
      setTimeout(() => fail(new Error("click " + i + ": no morph within 10 s")), 10000);
    });
    await new Promise((ok) => setTimeout(ok, gap));
    const t0 = performance.now();
    document.querySelector(button).click();
    await changed;
    times.push(performance.now() - t0);
  }
  return times;
}"""


PING_JS = """async ([button, n, gap]) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    if (window.postsSettled) await window.postsSettled();
    const answered = new Promise((ok, fail) => {
      const done = (event) => {
        if (event.detail && event.detail.target === "PlaygroundReflex#ping") {
          document.removeEventListener("sockpuppet:nothing", done);
          ok();
        }
      };
      document.addEventListener("sockpuppet:nothing", done);
      setTimeout(() => fail(new Error("ping " + i + ": no answer within 10 s")), 10000);
    });
    await new Promise((ok) => setTimeout(ok, gap));
    const t0 = performance.now();
    document.querySelector(button).click();
    await answered;
    times.push(performance.now() - t0);
  }
  return times;
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(name: str, values: list[float]) -> str:
    p50, p90, p99 = (percentile(values, q) for q in (50, 90, 99))
    return f"| {name} | {len(values)} | {p50:.2f} | {p90:.2f} | {p99:.2f} | {statistics.mean(values):.2f} |"


@contextlib.contextmanager
def pages(
    transport: str, bus: str = "memory", pids: dict[str, int] | None = None
) -> Iterator[tuple[str, Page, Page, Page]]:
    """The echo app and the demo served, and three Chromium pages on ``transport``: the
    echo app's, the demo counter's and the playground's; yields the echo app's URL and
    the pages. ``pids``, when given, gets the servers' process ids (``echo``, ``demo``)."""
    with (
        uvicorn_process("loadtest.echo_app:app") as (echo_url, echo_pid),
        demo_process(transport, bus) as (demo_url, demo_pid),
        sync_playwright() as pw,
    ):
        if pids is not None:
            pids.update(echo=echo_pid, demo=demo_pid)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        bare = browser.new_page()
        bare.goto(echo_url + "/")
        demo = browser.new_page()
        watch_posts(demo)
        demo.goto(demo_url + "/")
        playground = browser.new_page()
        watch_posts(playground)
        playground.goto(demo_url + "/playground/")
        for page in (demo, playground):
            page.wait_for_function(
                f"window.Sockpuppet && window.Sockpuppet.transport === {transport!r}"
            )
        yield echo_url, bare, demo, playground
        browser.close()


def measure(
    transport: str, clicks: int, rounds: int, gap: float = 0, bus: str = "memory"
) -> dict[str, list[float]]:
    """Baseline, ping and reflex round trips on one transport, interleaved in ``rounds``;
    each round trip starts ``gap`` ms after the last one ended (0: back to back, in the
    next task). ``bus``: the demo's ``SOCKPUPPET["BUS"]`` (``memory`` or a Redis URL)."""
    baseline: list[float] = []
    ping: list[float] = []
    reflex: list[float] = []
    per_round = max(1, clicks // rounds)
    with pages(transport, bus) as (echo_url, bare, demo, playground):
        bare.evaluate(BASELINE_JS[transport], [echo_url, 20, gap])  # warm up all three
        playground.evaluate(PING_JS, ["#ping-server", 20, gap])
        demo.evaluate(CLICK_JS, ["#increment", "#count", 20, gap])
        for _ in range(rounds):
            baseline += bare.evaluate(BASELINE_JS[transport], [echo_url, per_round, gap])
            ping += playground.evaluate(PING_JS, ["#ping-server", per_round, gap])
            reflex += demo.evaluate(CLICK_JS, ["#increment", "#count", per_round, gap])
    return {"baseline": baseline, "ping": ping, "reflex": reflex}


def report(
    results: dict[str, dict[str, list[float]]], command: str, gap: float = 0, bus: str = "memory"
) -> str:
    lines = [
        f"# Browser latency, {datetime.date.today().isoformat()}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine()}; uvicorn, one process, {bus} bus, DEBUG off, the demo's sessions: {_sessions(bus)}. "
        f"Code at `{_commit()}`.",
        "",
        "Milliseconds from `performance.now()` inside Chromium. Baseline: the same round trip on the "
        "same transport against a bare ASGI app (`loadtest/echo_app.py`) under the same uvicorn, "
        "interleaved with the reflex clicks in the same run. Ping: a click on the playground's Ping "
        "until its `sockpuppet:nothing` event (a reflex with no state and no morph: the framework's "
        "own cost). Reflex: a click on the demo counter's +1 until the morphed count is in the DOM "
        "(page morph: Django middleware, the session's load and save, view, template, lxml, "
        "morphdom). "
        + (
            f"Each round trip starts {gap:g} ms after the last one ended."
            if gap
            else "Each round trip starts as the last one ends (back to back), in a task of its own "
            "as a click always is."
        )
        + " On SSE and long-poll, a round trip starts once the last one's POST is answered, "
        "the baseline's and the client's alike.",
        "",
        "| transport | what | samples | p50 | p90 | p99 | mean |",
        "|---|---|---|---|---|---|---|",
    ]
    for transport, runs in results.items():
        lines.append(summary(f"{transport} | bare ASGI baseline", runs["baseline"]))
        lines.append(summary(f"{transport} | ping (no state, no morph)", runs["ping"]))
        lines.append(summary(f"{transport} | reflex click -> DOM", runs["reflex"]))
    lines += [
        "",
        "| transport | ping p50 minus baseline p50 | reflex p50 minus baseline p50 (goal: within 3 ms) |",
        "|---|---|---|",
    ]
    for transport, runs in results.items():
        floor = percentile(runs["baseline"], 50)
        lines.append(
            f"| {transport} | {percentile(runs['ping'], 50) - floor:+.2f} ms "
            f"| {percentile(runs['reflex'], 50) - floor:+.2f} ms |"
        )
    return "\n".join([*lines, ""])


def machine() -> str:
    """The machine a browser benchmark ran on, as its record says it."""
    chromium = subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True
    ).stdout.strip()
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, {chromium}"


def _sessions(bus: str) -> str:
    """The demo's session backend for ``bus`` (``demo/settings.py``), as the record says it."""
    engine = os.environ.get("DEMO_SESSION_ENGINE", "")
    if engine:
        return f"`{engine}` (`DEMO_SESSION_ENGINE`)"
    if bus == "memory":
        return "`cached_db` (read from the process's memory, written to SQLite)"
    return "`db` (SQLite)"


def _commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "sockpuppet", "transports", "demo", "client"],
        capture_output=True,
        text=True,
    )
    return head.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=300, help="samples per transport and side")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--transports", default="websocket,sse,longpoll")
    parser.add_argument(
        "--gap",
        type=float,
        default=0,
        help="ms of quiet before each round trip (a person's clicks are never back to back; "
        "0 starts each one as the last ends, in the next task)",
    )
    parser.add_argument(
        "--bus",
        choices=["memory", "redis"],
        default="memory",
        help="the demo's bus (redis: a redis-server of its own on a free port, one process)",
    )
    parser.add_argument(
        "--record", action="store_true", help="write the table to loadtest/results/"
    )
    options = parser.parse_args()
    with contextlib.ExitStack() as stops:
        bus = "memory"
        if options.bus == "redis":
            folder = stops.enter_context(tempfile.TemporaryDirectory(prefix="sockpuppet-bench-"))
            redis = RedisServer(Path(folder) / "redis").start()
            stops.callback(redis.stop)
            bus = redis.url
        results = {
            t: measure(t, options.clicks, options.rounds, options.gap, bus)
            for t in options.transports.split(",")
        }
    command = "python -m loadtest.browser_latency " + " ".join(sys.argv[1:])
    text = report(results, command, options.gap, options.bus)
    publish(text, "browser-latency", options.record)


def publish(text: str, name: str, record: bool) -> None:
    """Print a benchmark's table; with ``record``, also write it to
    ``loadtest/results/<date>-<name>.md`` (``-2``, ``-3``… after a record of the day)."""
    print(text)
    if not record:
        return
    RESULTS.mkdir(exist_ok=True)
    today = datetime.date.today().isoformat()
    path = RESULTS / f"{today}-{name}.md"
    runs = 1
    while path.exists():  # never over an earlier record of the day
        runs += 1
        path = RESULTS / f"{today}-{name}-{runs}.md"
    path.write_text(text)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
