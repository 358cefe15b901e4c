"""The docs' code samples: every Python block compiles, and the runnable ones run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def python_blocks() -> list[tuple[str, str]]:
    return [
        (f"{path.name}#{n}", block)
        for path in sorted(DOCS.glob("*.md"))
        for n, block in enumerate(BLOCK.findall(path.read_text()))
    ]


@pytest.mark.parametrize(("where", "source"), python_blocks(), ids=[w for w, _ in python_blocks()])
def test_every_python_sample_compiles(where, source):
    compile(source, where, "exec")


def sample(name: str, index: int = 0) -> str:
    return BLOCK.findall((DOCS / name).read_text())[index]


@pytest.mark.django_db
def test_the_testing_sample_runs_against_the_test_app():
    namespace: dict[str, object] = {}
    exec(compile(sample("testing.md"), "docs/testing.md", "exec"), namespace)
    namespace["test_increment"]()  # type: ignore[operator]


def test_the_fixture_sample_runs_with_the_plugin_fixture(reflex_client):
    namespace: dict[str, object] = {}
    exec(compile(sample("testing.md", 1), "docs/testing.md", "exec"), namespace)
    namespace["test_increment_twice"](reflex_client)  # type: ignore[operator]


def test_the_broadcasting_sample_runs(monkeypatch):
    from sockpuppet.bus.memory import MemoryBus

    bus = MemoryBus()
    monkeypatch.setattr("sockpuppet.channel.get_bus", lambda: bus)
    with pytest.warns(RuntimeWarning, match="no browser can receive it"):
        exec(compile(sample("broadcasting.md"), "docs/broadcasting.md", "exec"), {})
    assert bus._streams["n.chat:lobby"].position == 1
