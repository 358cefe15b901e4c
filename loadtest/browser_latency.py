"""Click -> DOM updated, measured inside Chromium, beside a bare-ASGI round trip, per transport.

Both run in the same browser in the same run, interleaved in rounds so a noisy moment
of the (shared) machine hits both alike:

- baseline: the same round trip on the same transport against a bare ASGI app under the
  same uvicorn (``loadtest/echo_app.py``): the floor any framework on it stands on;
- reflex: a click on the demo counter's +1 until the morphed count shows in the DOM
  (client message building, transport, Django's middleware and view, lxml, morphdom).

    .venv/bin/python -m loadtest.browser_latency --clicks 300

prints a Markdown table and, with ``--record``, writes it to ``loadtest/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from loadtest.processes import demo_server, uvicorn

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = Path(__file__).resolve().parent / "results"

# The baselines: the same round trip, on each transport, against loadtest/echo_app.py.
BASELINE_JS = {
    "websocket": """async ([base, n]) => {
  const ws = new WebSocket(base.replace("http", "ws") + "/echo");
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const back = new Promise((ok) => { ws.onmessage = ok; });
    ws.send(JSON.stringify({type: "ping", id: String(i)}));
    await back;
    times.push(performance.now() - t0);
  }
  ws.close();
  return times;
}""",
    "sse": """async ([base, n]) => {
  const id = Math.random().toString(36).slice(2);
  const events = new EventSource(base + "/sse?id=" + id);
  let arrived = null;
  events.onmessage = () => { if (arrived) { const done = arrived; arrived = null; done(); } };
  await new Promise((ok) => { events.onopen = ok; });
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const back = new Promise((ok) => { arrived = ok; });
    await fetch(base + "/send?id=" + id, {method: "POST", body: JSON.stringify({type: "ping", id: String(i)})});
    await back;
    times.push(performance.now() - t0);
  }
  events.close();
  return times;
}""",
    "longpoll": """async ([base, n]) => {
  const id = Math.random().toString(36).slice(2);
  const times = [];
  // The last poll is aborted: left held, it would keep one of the browser's six
  // connections per host, and after a few rounds requests would queue behind them.
  const held = new AbortController();
  const poll = () => fetch(base + "/poll?id=" + id, {signal: held.signal}).then((r) => r.json());
  let polled = poll();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fetch(base + "/send?id=" + id, {method: "POST", body: JSON.stringify({type: "ping", id: String(i)})});
    await polled;
    times.push(performance.now() - t0);
    polled = poll();
  }
  held.abort();
  polled.catch(() => {});
  return times;
}""",
}

CLICK_JS = """async ([button, output, n]) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const before = document.querySelector(output).textContent;
    const changed = new Promise((ok, fail) => {
      const observer = new MutationObserver(() => {
        if (document.querySelector(output).textContent !== before) { observer.disconnect(); ok(); }
      });
      observer.observe(document.body, {childList: true, subtree: true, characterData: true});
      setTimeout(() => fail(new Error("click " + i + ": no morph within 10 s")), 10000);
    });
    const t0 = performance.now();
    document.querySelector(button).click();
    await changed;
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


def measure(transport: str, clicks: int, rounds: int) -> tuple[list[float], list[float]]:
    """Baseline and reflex round trips on one transport, interleaved in ``rounds``."""
    baseline: list[float] = []
    reflex: list[float] = []
    per_round = max(1, clicks // rounds)
    with (
        uvicorn("loadtest.echo_app:app") as echo_url,
        demo_server(transport) as demo_url,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        bare = browser.new_page()
        bare.goto(echo_url + "/")
        demo = browser.new_page()
        demo.goto(demo_url + "/")
        demo.wait_for_function(
            f"window.Sockpuppet && window.Sockpuppet.transport === {transport!r}"
        )
        bare.evaluate(BASELINE_JS[transport], [echo_url, 20])  # warm up both
        demo.evaluate(CLICK_JS, ["#increment", "#count", 20])
        for _ in range(rounds):
            baseline += bare.evaluate(BASELINE_JS[transport], [echo_url, per_round])
            reflex += demo.evaluate(CLICK_JS, ["#increment", "#count", per_round])
        browser.close()
    return baseline, reflex


def report(results: dict[str, tuple[list[float], list[float]]], command: str) -> str:
    chromium = subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True
    ).stdout.strip()
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"# Browser latency, {datetime.date.today().isoformat()}",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, {chromium}; "
        "uvicorn, one process, memory bus, DEBUG off, the demo's SQLite database sessions "
        f"(demo/settings.py). Code at `{_commit()}`.",
        "",
        "Milliseconds from `performance.now()` inside Chromium. Baseline: the same round trip on the "
        "same transport against a bare ASGI app (`loadtest/echo_app.py`) under the same uvicorn, "
        "interleaved with the reflex clicks in the same run. Reflex: a click on the demo counter's "
        "+1 until the morphed count is in the DOM (page morph: Django middleware, view, template, "
        "lxml, morphdom).",
        "",
        "| transport | what | samples | p50 | p90 | p99 | mean |",
        "|---|---|---|---|---|---|---|",
    ]
    for transport, (baseline, reflex) in results.items():
        lines.append(summary(f"{transport} | bare ASGI baseline", baseline))
        lines.append(summary(f"{transport} | reflex click -> DOM", reflex))
    lines += ["", "| transport | reflex p50 minus baseline p50 (goal: within 3 ms) |", "|---|---|"]
    for transport, (baseline, reflex) in results.items():
        lines.append(
            f"| {transport} | {percentile(reflex, 50) - percentile(baseline, 50):+.2f} ms |"
        )
    return "\n".join([*lines, ""])


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
        "--record", action="store_true", help="write the table to loadtest/results/"
    )
    options = parser.parse_args()
    results = {t: measure(t, options.clicks, options.rounds) for t in options.transports.split(",")}
    text = report(results, "python -m loadtest.browser_latency " + " ".join(sys.argv[1:]))
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
