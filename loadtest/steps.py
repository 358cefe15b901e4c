"""Where an HTTP transport's round trip spends its time, step by step, inside Chromium.

``loadtest.browser_latency`` times click -> DOM; this splits the same round trips of the
SSE and long-poll transports with Chromium's Resource Timing of their requests, for the
bare-ASGI baseline (``loadtest/echo_app.py``), the playground's Ping and the demo
counter's +1 alike. Milliseconds after the click (the baseline: after its round trip
starts), p50 of each step:

- ``POST issued``: the page's script made the request (the client's work before it);
- ``POST sent``: Chromium's network stack wrote the request;
- ``POST answered``: the ``202`` (or the echo's answer) arrived;
- ``poll answered`` / ``poll read`` (long-poll): the held poll's answer began to arrive
  and was read in full (Sockpuppet's poll sends its headers as it begins to wait, so
  only ``poll read`` tells for it); an SSE event has no timing entry of its own;
- ``poll at page`` / ``poll ended at page`` (long-poll): the page's side of the same,
  from the poll's ``XMLHttpRequest``: its body reached the page's script (``readyState``
  3: a whole JSON body is answered there, by the client and the baseline alike) and the
  request ended there (4, which may come after ``done``);
- ``done``: the page saw the answer (the event, the morphed count).

Round trips are spaced (``--gap``, 30 ms) so each one's requests are told apart::

    .venv/bin/python -m loadtest.steps --clicks 200

prints a Markdown table; ``--record`` also writes it to ``loadtest/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys

from loadtest.browser_latency import REQUEST_JS, _commit, pages, percentile, publish

STEPS = ("issued", "sent", "posted", "polled", "read", "loading", "ended", "done")
HEADINGS = (
    "POST issued",
    "POST sent",
    "POST answered",
    "poll answered",
    "poll read",
    "poll at page",
    "poll ended at page",
    "done",
)

# What each side shares: the steps of one round trip from its Resource Timing entries.
TIMING_JS = (
    """
// Each XMLHttpRequest's readyState changes as the page's script sees them (the client's
// and the baseline's polls alike), recorded before their own handlers run: this listener
// is added as the request opens, before they set theirs.
if (!window.__requests) {
  window.__requests = [];
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (...args) {
    const seen = {};
    window.__requests.push(seen);
    this.addEventListener("readystatechange", () => {
      if (this.readyState === 3 && seen.loading === undefined) Object.assign(seen, {loading: performance.now(), url: this.responseURL});
      if (this.readyState === 4) Object.assign(seen, {ended: performance.now(), url: this.responseURL});
    });
    return open.apply(this, args);
  };
}
const pause = (ms) => new Promise((ok) => setTimeout(ok, ms));
const stepsOf = async (t0, t1) => {
  // Its body reached the page by t1 (a whole JSON body is answered then, before the end).
  const polled = window.__requests.filter((r) => r.url && r.url.includes("/poll") && r.loading >= t0 && r.loading <= t1 + 0.01).pop();
  // The poll that answered was sent before the click and ended after it, maybe after t1:
  // its entry is made as it ends, so it is waited for (a poll's end is not bounded by t1).
  const heldOver = () => performance.getEntriesByType("resource").filter((e) => e.name.includes("/poll") && e.startTime < t0 && e.responseEnd >= t0).pop();
  for (let waited = 0; polled && !(polled.ended !== undefined && heldOver()) && waited < 2000; waited += 5) await pause(5);
  const entries = performance.getEntriesByType("resource");
  const post = entries.find((e) => e.name.includes("/send") && e.startTime >= t0 - 1);
  const poll = heldOver();
  window.__requests = window.__requests.filter((r) => r.ended === undefined);
  return {
    issued: post ? post.startTime - t0 : null,
    sent: post ? post.requestStart - t0 : null,
    posted: post ? post.responseStart - t0 : null,
    // A poll that waited had its headers before the click: its answer's start is unknown.
    polled: poll && poll.responseStart >= t0 ? poll.responseStart - t0 : null,
    read: poll ? poll.responseEnd - t0 : null,
    loading: polled && polled.loading !== undefined ? polled.loading - t0 : null,
    ended: polled && polled.ended !== undefined ? polled.ended - t0 : null,
    done: t1 - t0,
  };
};
"""
    + REQUEST_JS
)

BASELINE_JS = {
    "longpoll": TIMING_JS
    + """async ([base, n, gap]) => {
  performance.setResourceTimingBufferSize(10000);
  const id = Math.random().toString(36).slice(2);
  const held = new AbortController();
  const poll = () => request(base + "/poll?id=" + id, undefined, held.signal).then(JSON.parse);
  let polled = poll();
  const rows = [];
  for (let i = 0; i < n; i++) {
    await pause(gap);
    performance.clearResourceTimings();
    const t0 = performance.now();
    const sent = request(base + "/send?id=" + id, JSON.stringify({type: "ping", id: String(i)}));
    await polled;
    const t1 = performance.now();
    await sent;
    polled = poll();
    await pause(gap);
    rows.push(await stepsOf(t0, t1));
  }
  held.abort();
  polled.catch(() => {});
  return rows;
}""",
    "sse": TIMING_JS
    + """async ([base, n, gap]) => {
  performance.setResourceTimingBufferSize(10000);
  const id = Math.random().toString(36).slice(2);
  const events = new EventSource(base + "/sse?id=" + id);
  let arrived = null;
  events.onmessage = () => { if (arrived) { const done = arrived; arrived = null; done(performance.now()); } };
  await new Promise((ok) => { events.onopen = ok; });
  const rows = [];
  for (let i = 0; i < n; i++) {
    await pause(gap);
    performance.clearResourceTimings();
    const back = new Promise((ok) => { arrived = ok; });
    const t0 = performance.now();
    const sent = request(base + "/send?id=" + id, JSON.stringify({type: "ping", id: String(i)}));
    const t1 = await back;
    await sent;
    await pause(gap);
    rows.push(await stepsOf(t0, t1));
  }
  events.close();
  return rows;
}""",
}

# A click on the demo page until its answer shows: the Ping's event, or the new count.
CLICK_JS = (
    TIMING_JS
    + """async ([button, output, n, gap]) => {
  performance.setResourceTimingBufferSize(10000);
  const rows = [];
  for (let i = 0; i < n; i++) {
    await pause(gap);
    const before = output && document.querySelector(output).textContent;
    const done = new Promise((ok) => {
      if (!output) {
        const heard = (event) => {
          if (event.detail && event.detail.target === "PlaygroundReflex#ping") {
            document.removeEventListener("sockpuppet:nothing", heard);
            ok(performance.now());
          }
        };
        document.addEventListener("sockpuppet:nothing", heard);
        return;
      }
      const observer = new MutationObserver(() => {
        if (document.querySelector(output).textContent !== before) { observer.disconnect(); ok(performance.now()); }
      });
      observer.observe(document.body, {childList: true, subtree: true, characterData: true});
    });
    performance.clearResourceTimings();
    const t0 = performance.now();
    document.querySelector(button).click();
    const t1 = await done;
    // Its POST's own answer comes behind the reflex's: awaited before its timings are read
    // (an entry is made as its request ends) and before the next click, as the baseline's.
    await window.postsSettled();
    await pause(gap);
    rows.push(await stepsOf(t0, t1));
  }
  return rows;
}"""
)


def measure(transport: str, clicks: int, gap: float) -> dict[str, list[dict[str, float | None]]]:
    """The steps of ``clicks`` round trips of each side on ``transport``."""
    with pages(transport) as (echo_url, bare, demo, playground):
        sides = {
            "bare ASGI baseline": lambda n: bare.evaluate(
                BASELINE_JS[transport], [echo_url, n, gap]
            ),
            "ping": lambda n: playground.evaluate(CLICK_JS, ["#ping-server", None, n, gap]),
            "counter click -> DOM": lambda n: demo.evaluate(
                CLICK_JS, ["#increment", "#count", n, gap]
            ),
        }
        results: dict[str, list[dict[str, float | None]]] = {side: [] for side in sides}
        rounds = min(5, clicks)
        for run in sides.values():
            run(rounds)  # warm up
        for _ in range(rounds):  # interleaved, as the machine's moods come and go
            for side, run in sides.items():
                results[side] += run(clicks // rounds)
    return results


def report(results: dict[str, dict[str, list[dict[str, float | None]]]], gap: float) -> str:
    lines = [
        f"# Steps of a round trip, {datetime.date.today().isoformat()}",
        "",
        f"Command: `python -m loadtest.steps {' '.join(sys.argv[1:])}`".rstrip(),
        "",
        f"Code at `{_commit()}`. p50 in ms after the click (the baseline: after its round "
        f"trip starts); round trips {gap:g} ms apart; Chromium's Resource Timing "
        "(0.1 ms resolution).",
        "",
        "| transport | what | samples | " + " | ".join(HEADINGS) + " |",
        "|---|---|---|" + "---|" * len(HEADINGS),
    ]
    for transport, sides in results.items():
        for side, rows in sides.items():
            cells = []
            for step in STEPS:
                values = [v for row in rows if (v := row[step]) is not None]
                cells.append(f"{percentile(values, 50):.2f}" if values else "-")
            lines.append(f"| {transport} | {side} | {len(rows)} | " + " | ".join(cells) + " |")
    lines += ["", "Mean of `done`, for comparison with p50s of the steps:", ""]
    for transport, sides in results.items():
        means = ", ".join(
            f"{side} {statistics.mean(row['done'] or 0 for row in rows):.2f}"
            for side, rows in sides.items()
        )
        lines.append(f"- {transport}: {means}")
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=200, help="round trips per side")
    parser.add_argument("--transports", default="sse,longpoll")
    parser.add_argument("--gap", type=float, default=30, help="ms between round trips")
    parser.add_argument("--record", action="store_true", help="write to loadtest/results/")
    options = parser.parse_args()
    transports = options.transports.split(",")
    unknown = set(transports) - set(BASELINE_JS)
    if unknown:
        parser.error(f"only the HTTP transports have steps to time: not {', '.join(unknown)}")
    results = {t: measure(t, options.clicks, options.gap) for t in transports}
    publish(report(results, options.gap), "steps", options.record)


if __name__ == "__main__":
    main()
