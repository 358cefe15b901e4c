"""What a page morph costs in Chromium: the client's ``morph`` beside plain morphdom.

A page morph sends the whole ``<body>`` and the client morphs it into the page. The client
skips subtrees whose markup did not change (``client/src/morph.js``); the baseline is
morphdom alone on the same markup, in the same page, interleaved in rounds. Two pages:
the demo counter (~3 KB of body) and the same page with ~50 KB of unchanged content
added. Each sample is the mean of a batch of morphs (Chromium's clock ticks in 0.1 ms).

    .venv/bin/python -m loadtest.morph_cost [--samples 60] [--record]

Needs the client's node_modules (``scripts/install``): both sides are bundled with esbuild.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from loadtest.browser_latency import ARGS, CHROMIUM, _commit, percentile, publish
from loadtest.processes import demo_server

CLIENT = Path(__file__).resolve().parent.parent / "client"

ENTRY = """
import morphdom from "morphdom"
import { morph } from "./src/morph.js"

window.morphers = {
  morphdom(target, html) {
    const template = document.createElement("template")
    template.innerHTML = html
    const wrapper = target.cloneNode(false)
    wrapper.append(...template.content.childNodes)
    morphdom(target, wrapper, { childrenOnly: true })
  },
  sockpuppet(target, html) {
    morph(target, html, { childrenOnly: true })
  },
}
"""

# Builds the pages' markup once; a sample morphs `batch` times, the count changing each time.
SAMPLE_JS = """([name, extra, batch, start]) => {
  if (!window.pages) {
    const body = document.body.innerHTML
    const copies = Array.from({length: 16}, () => document.querySelector("main").outerHTML)
      .join("").replace(/ id="[^"]*"/g, "")
    window.pages = {small: body, large: body + "<div>" + copies + "</div>"}
  }
  const base = window.pages[extra]
  const t0 = performance.now()
  for (let i = 0; i < batch; i++) {
    const html = base.replace(/(<output[^>]*>)[^<]*</, `$1${start + i}<`)
    window.morphers[name](document.body, html)
  }
  return [(performance.now() - t0) / batch, window.pages[extra].length]
}"""

VARIANTS = ("morphdom", "sockpuppet")
PAGES = ("small", "large")


def bundle(directory: Path) -> Path:
    """The two morphers in one script, built with the client's esbuild."""
    out = directory / "morphers.js"
    subprocess.run(
        [
            str(CLIENT / "node_modules" / ".bin" / "esbuild"),
            "--bundle",
            "--format=iife",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        input=ENTRY,
        text=True,
        cwd=CLIENT,
        check=True,
    )
    return out


def measure(samples: int, batch: int) -> dict[tuple[str, str], tuple[list[float], int]]:
    results: dict[tuple[str, str], tuple[list[float], int]] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        demo_server("websocket") as url,
        sync_playwright() as pw,
    ):
        script = bundle(Path(tmp))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for page_size in PAGES:
            page = browser.new_page()
            page.goto(url + "/")
            page.wait_for_function("window.Sockpuppet && window.Sockpuppet.transport")
            page.add_script_tag(path=str(script))
            for name in VARIANTS:  # warm up
                page.evaluate(SAMPLE_JS, [name, page_size, batch, 0])
            for n in range(samples):  # interleaved: a noisy moment hits both alike
                for name in VARIANTS:
                    took, size = page.evaluate(SAMPLE_JS, [name, page_size, batch, n * batch])
                    times, _ = results.setdefault((page_size, name), ([], size))
                    times.append(took)
            page.close()
        browser.close()
    return results


def report(results: dict[tuple[str, str], tuple[list[float], int]], command: str) -> str:
    lines = [
        f"# Page morph in Chromium, {datetime.date.today().isoformat()}",
        "",
        f"Command: `{command}`",
        "",
        f"Code at `{_commit()}`. Milliseconds per morph of the whole body (mean of a batch), "
        "Sockpuppet's client beside morphdom alone on the same markup, interleaved.",
        "",
        "| page | body bytes | morpher | samples | p50 ms | p90 ms |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for (page_size, name), (times, size) in results.items():
        lines.append(
            f"| {page_size} | {size:,} | {name} | {len(times)} | "
            f"{percentile(times, 50):.3f} | {percentile(times, 90):.3f} |"
        )
    return "\n".join([*lines, ""])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=60, help="samples per page and morpher")
    parser.add_argument("--batch", type=int, default=20, help="morphs per sample")
    parser.add_argument("--record", action="store_true", help="write it to loadtest/results/")
    args = parser.parse_args()
    command = "python -m loadtest.morph_cost " + " ".join(sys.argv[1:])
    text = report(measure(args.samples, args.batch), command.strip())
    publish(text, "morph-cost", args.record)


if __name__ == "__main__":
    main()
