"""The composition root: ``sockpuppet.asgi.get_asgi_application``."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_project_module_named_transports_is_named_in_a_clear_error(tmp_path):
    """Sockpuppet installs a top-level ``transports`` package; a project's own module of
    that name, first on ``sys.path``, would hide it."""
    (tmp_path / "transports.py").write_text("# the project's own\n")
    loading = "from sockpuppet.asgi import get_asgi_application; get_asgi_application()"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    finished = subprocess.run(
        [sys.executable, "-c", loading],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: The module 'transports'")
    assert str(tmp_path / "transports.py") in last and "Rename yours." in last
