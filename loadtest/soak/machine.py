"""The machine and versions a run ran on, for the summary."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from tests.support.server import ROOT


def describe() -> list[str]:
    """One line each: hardware, load, Python and packages, Redis and nginx, commit."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    packages = ("django", "channels", "uvicorn", "redis", "websockets", "httpx", "sse-starlette")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in packages)
    programs = []
    for command in (["redis-server", "--version"], ["nginx", "-v"]):
        with contextlib.suppress(OSError):
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
            programs.append((done.stdout + done.stderr).strip().split(" sha=")[0])
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = (
        " (with uncommitted changes)"
        if _git("status", "--porcelain", "--", "sockpuppet", "transports", "demo")
        else ""
    )
    return [
        f"{os.cpu_count()} x {cpu}, {int(memory) // 1024} MiB, {platform.platform()}",
        f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"Python {platform.python_version()}, {versions}",
        "; ".join(programs),
        f"commit {commit}{dirty}",
    ]


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        return "?"
