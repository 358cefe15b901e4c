"""Click -> DOM updated, measured inside Chromium, beside a bare-ASGI WebSocket echo.

Both run in the same browser in the same run, interleaved in rounds so a noisy moment
of the (shared) machine hits both alike:

- baseline: a WebSocket round trip to a bare ASGI echo app under the same uvicorn
  (``loadtest/echo_app.py``): the floor any framework on that transport stands on;
- reflex: a click on the demo counter's +1 until the morphed count shows in the DOM
  (client message building, WebSocket, Django's middleware and view, lxml, morphdom).

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
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RESULTS = Path(__file__).resolve().parent / "results"

ECHO_JS = """async ([url, n]) => {
  const ws = new WebSocket(url);
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
}"""

CLICK_JS = """async ([button, output, n]) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const before = document.querySelector(output).textContent;
    const changed = new Promise((ok) => {
      const observer = new MutationObserver(() => {
        if (document.querySelector(output).textContent !== before) { observer.disconnect(); ok(); }
      });
      observer.observe(document.body, {childList: true, subtree: true, characterData: true});
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


def measure(clicks: int, rounds: int) -> tuple[list[float], list[float]]:
    echo: list[float] = []
    reflex: list[float] = []
    per_round = max(1, clicks // rounds)
    with uvicorn("loadtest.echo_app:app") as echo_url, demo_server("websocket") as demo_url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(echo_url + "/")
        echo_ws = echo_url.replace("http", "ws") + "/echo"
        demo = browser.new_page()
        demo.goto(demo_url + "/")
        demo.wait_for_function("window.Sockpuppet && window.Sockpuppet.connected")
        page.evaluate(ECHO_JS, [echo_ws, 20])  # warm up both
        demo.evaluate(CLICK_JS, ["#increment", "#count", 20])
        for _ in range(rounds):
            echo += page.evaluate(ECHO_JS, [echo_ws, per_round])
            reflex += demo.evaluate(CLICK_JS, ["#increment", "#count", per_round])
        browser.close()
    return echo, reflex


def report(echo: list[float], reflex: list[float], command: str) -> str:
    versions = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    delta = percentile(reflex, 50) - percentile(echo, 50)
    return "\n".join(
        [
            f"# Browser latency, WebSocket, {datetime.date.today().isoformat()}",
            "",
            f"Command: `{command}`",
            "",
            f"Machine: {platform.machine()}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, "
            f"Python {platform.python_version()}, {versions}; uvicorn, one process, memory bus, DEBUG off, SQLite sessions.",
            "",
            "Milliseconds, measured with `performance.now()` inside Chromium.",
            "",
            "| what | samples | p50 | p90 | p99 | mean |",
            "|---|---|---|---|---|---|",
            summary("bare ASGI WebSocket echo (baseline)", echo),
            summary("reflex: click -> page morph in the DOM", reflex),
            "",
            f"Reflex p50 minus baseline p50: **{delta:.2f} ms** (goal: within 3 ms).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="write the table to loadtest/results/")
    options = parser.parse_args()
    echo, reflex = measure(options.clicks, options.rounds)
    text = report(echo, reflex, "python -m loadtest.browser_latency " + " ".join(sys.argv[1:]))
    print(text)
    if options.record:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{datetime.date.today().isoformat()}-browser-latency-websocket.md"
        path.write_text(text)
        print(f"written to {path}")


if __name__ == "__main__":
    main()
