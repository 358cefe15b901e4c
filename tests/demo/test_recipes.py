"""The Celery recipe in docs/broadcasting.md is the demo's working code.

Each Python block of the docs that opens with a ``# demo/...`` comment must appear, as
written, in that file of the demo (which ``tests/browser/test_celery.py`` runs with a real
worker). Editing one without the other fails here.
"""

from __future__ import annotations

import re

import pytest

from tests.support.server import ROOT

DOC = ROOT / "docs" / "broadcasting.md"


def demo_blocks() -> list[tuple[str, str]]:
    blocks = re.findall(r"^```python\n# (demo/\S+)\n(.*?)^```", DOC.read_text(), re.S | re.M)
    return [(path, body) for path, body in blocks]


def test_the_docs_show_the_celery_recipe_from_the_demo() -> None:
    paths = {path for path, _ in demo_blocks()}
    assert {"demo/celery.py", "demo/jobs/tasks.py", "demo/jobs/reflexes.py"} <= paths
    assert "`demo/jobs`" in DOC.read_text()


@pytest.mark.parametrize(("path", "body"), demo_blocks(), ids=lambda v: v if "/" in v else "")
def test_each_recipe_block_is_in_the_demo(path: str, body: str) -> None:
    assert body in (ROOT / path).read_text(), f"docs/broadcasting.md's {path} drifted from {path}"
