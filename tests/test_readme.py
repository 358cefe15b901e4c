"""The README's quickstart, followed as a new user would: ``startproject``, ``startapp``, the
README's own snippets pasted into their files, ``uvicorn project.asgi:application``, and a
click in Chromium. If the README drifts from the code, this fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import wait_connected
from tests.support.server import ROOT, Uvicorn

README = (ROOT / "README.md").read_text()

pytestmark = pytest.mark.browser


def snippet(language: str, *needles: str) -> str:
    """The one fenced block of ``language`` in the README that contains every needle."""
    blocks = [
        textwrap.dedent(body)
        for indent, body in re.findall(
            rf"^( *)```{language}\n(.*?)^\1```", README, flags=re.DOTALL | re.MULTILINE
        )
    ]
    found = [block for block in blocks if all(needle in block for needle in needles)]
    assert len(found) == 1, f"{len(found)} README {language} blocks contain {needles}"
    return found[0]


def run(*args: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, *args], cwd=cwd, env=env, check=True, timeout=120)


@pytest.fixture
def quickstart(tmp_path: Path) -> Iterator[Uvicorn]:
    """A project made from the README alone, served by uvicorn."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    run("-m", "django", "startproject", "project", str(tmp_path), cwd=tmp_path, env=env)
    run("manage.py", "startapp", "myapp", cwd=tmp_path, env=env)

    settings = tmp_path / "project" / "settings.py"
    settings.write_text(
        settings.read_text()
        + '\nINSTALLED_APPS += ["sockpuppet", "myapp"]\n'
        + 'TEMPLATES[0]["OPTIONS"]["context_processors"].append('
        + '"sockpuppet.context_processors.reflex")\n'
    )
    files = {
        "project/asgi.py": snippet("python", "application = get_asgi_application()"),
        "project/urls.py": snippet("python", "urlpatterns = [path("),
        "myapp/reflexes.py": snippet("python", "from sockpuppet import Reflex", "CounterReflex"),
        "myapp/views.py": snippet("python", "def counter(request)", "render("),
        "myapp/templates/myapp/counter.html": snippet("html", "{% sockpuppet_scripts %}"),
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    run("manage.py", "migrate", "--no-input", "-v", "0", cwd=tmp_path, env=env)
    server = Uvicorn(
        "project.asgi:application", cwd=tmp_path, env=env, log_path=tmp_path / "uvicorn.log"
    )
    server.start()
    yield server
    server.stop()
    print(server.log_tail())


def test_the_quickstart_project_counts_clicks(quickstart: Uvicorn, page: Page) -> None:
    page.goto(quickstart.url + "/")
    wait_connected(page)
    count = page.locator("#count")
    expect(count).to_have_text("0")
    button = page.get_by_role("button", name="+1")
    button.click()
    expect(count).to_have_text("1")
    button.click()
    expect(count).to_have_text("2")

    page.reload()
    expect(page.locator("#count")).to_have_text("2")
