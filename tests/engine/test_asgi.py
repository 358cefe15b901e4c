"""The composition root: ``sockpuppet.asgi.get_asgi_application``."""

import asyncio
import os
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest

from sockpuppet.cookies import sign

ROOT = Path(__file__).resolve().parents[2]


def beside_a_transports_module(folder: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python *arguments`` run in ``folder``, which holds a project's own ``transports.py``."""
    (folder / "transports.py").write_text("# the project's own\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_project_module_named_transports_is_named_in_a_clear_error(tmp_path):
    """Sockpuppet installs a top-level ``transports`` package; a project's own module of
    that name, first on ``sys.path``, would hide it."""
    loading = "from sockpuppet.asgi import get_asgi_application; get_asgi_application()"
    finished = beside_a_transports_module(tmp_path, "-c", loading)
    assert finished.returncode != 0
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: The module 'transports'")
    assert str(tmp_path / "transports.py") in last and "Rename yours." in last


def test_a_project_module_named_transports_fails_the_system_checks(tmp_path):
    """Regression (newcomer audit). Bug: ``manage.py check`` said "no issues", and only
    the ASGI server refused to start."""
    finished = beside_a_transports_module(tmp_path, "-m", "django", "check")
    assert finished.returncode != 0
    assert "(sockpuppet.E009) The module 'transports' imported from" in finished.stderr
    assert str(tmp_path / "transports.py") in finished.stderr


def test_a_redis_bus_that_does_not_answer_is_logged_as_the_application_starts(settings, caplog):
    """Regression (operations audit). Bug: a server started against a Redis that was down
    logged nothing and served pages: only ``manage.py check`` said so (W003)."""
    from sockpuppet.asgi import get_asgi_application
    from tests.support.processes import free_port

    settings.SOCKPUPPET = {"BUS": f"redis://127.0.0.1:{free_port()}/0"}
    get_asgi_application()
    [record] = [r for r in caplog.records if "sockpuppet.W003" in r.getMessage()]
    assert record.levelname == "WARNING" and "does not answer" in record.getMessage()


def post(path: str, cookies: dict[str, str] | None = None, **request: Any) -> httpx.Response:
    """A request to a fresh ``get_asgi_application()`` (made under the test's settings)."""
    from sockpuppet.asgi import get_asgi_application

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=get_asgi_application())
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        ) as client:
            return await client.post(path, headers={"Origin": "http://testserver"}, **request)

    return asyncio.run(go())


@pytest.mark.django_db(transaction=True)
def test_the_cookies_of_a_login_reach_the_browser_whatever_the_middleware(settings):
    """Regression. Bug: over WebSocket, a login in a reflex logged the browser out when a
    middleware reads the session (``CSRF_USE_SESSIONS``, a timezone middleware): ``POST
    cookies`` ran through the project's middleware with the old session cookie, whose
    session the login had deleted, and ``SessionMiddleware`` deleted the new one."""
    settings.CSRF_USE_SESSIONS = True
    jar: SimpleCookie = SimpleCookie()
    jar["sessionid"] = "the-new-session"
    answer = post(
        "/sockpuppet/cookies",
        json={"token": sign(jar)},
        cookies={"sessionid": "a-session-the-login-deleted"},
    )
    assert answer.status_code == 204
    assert answer.headers.get_list("set-cookie") == [jar["sessionid"].OutputString()]


@pytest.mark.django_db(transaction=True)
def test_pages_open_to_anonymous_visitors_connect_under_login_required_middleware(settings):
    """Regression. Bug: under Django's ``LoginRequiredMiddleware`` ``negotiate`` answered
    a redirect to the login page, so no page connected, the login page included."""
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    answer = post("/sockpuppet/negotiate", json={})  # no CSRF token: refused, not redirected
    assert answer.status_code == 403 and "CSRF" in answer.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_under_force_script_name_the_endpoints_are_found_under_the_prefix(settings):
    """A site under a sub-path whose proxy passes the path whole (``/app/sockpuppet/…``)
    and names the prefix in ``FORCE_SCRIPT_NAME``: Django reads its pages off the path
    without it, and the endpoints are found the same way (they were Django's 404)."""
    settings.FORCE_SCRIPT_NAME = "/app"
    for path in ("/app/sockpuppet/negotiate", "/sockpuppet/negotiate"):  # passed whole, stripped
        answer = post(path, json={})
        assert answer.status_code == 403 and "CSRF" in answer.json()["message"], path
    assert post("/application/sockpuppet/negotiate", json={}).status_code == 404
