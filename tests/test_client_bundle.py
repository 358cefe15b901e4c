"""The committed client bundle matches its sources, and the client's own tests pass.

``sockpuppet/static/sockpuppet/sockpuppet.js`` is built from ``client/`` and committed so
that users need no Node.js. A change to ``client/src`` without a rebuild would ship a stale
client; the freshness test rebuilds into a temporary folder and compares bytes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "client"
BUNDLE = ROOT / "sockpuppet" / "static" / "sockpuppet" / "sockpuppet.js"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=280, check=False)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail(
            "Node.js and npm are needed to check the client (scripts/install installs them)"
        )
    modules = CLIENT / "node_modules"
    if not modules.is_dir():
        result = _run(["npm", "ci", "--no-audit", "--no-fund"], CLIENT)
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return modules


@pytest.mark.timeout(300)
def test_committed_bundle_is_built_from_the_sources(node_modules: Path, tmp_path: Path) -> None:
    outfile = tmp_path / "sockpuppet.js"
    result = _run(["node", "build.mjs", "--outfile", str(outfile)], CLIENT)
    assert result.returncode == 0, f"the client build failed:\n{result.stdout}\n{result.stderr}"
    assert outfile.read_bytes() == BUNDLE.read_bytes(), (
        "sockpuppet/static/sockpuppet/sockpuppet.js is stale: "
        "run `npm run build --prefix client` and commit the result"
    )


@pytest.mark.timeout(300)
def test_client_unit_tests_pass(node_modules: Path) -> None:
    result = _run(["node", "--test", "client/test/"], ROOT)
    assert result.returncode == 0, (
        f"node --test client/test/ failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    )
