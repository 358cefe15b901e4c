"""A django-sockpuppet app, ported, clicked through in Chromium on every transport.

Issue 5, "Done when" 1: an app written for django-sockpuppet (reflexes reading
``element.dataset``, ``params`` and ``request.user``, a form, ``data-reflex-root``,
``data-reflex-permanent``, lifecycle callbacks in a Stimulus controller) ports with only
import and settings changes and works on all three transports. The app is ``tests/ported``;
its README lists every line that differs from the django-sockpuppet original, and why.

Each transport gets its own server of the test app allowing only that transport
(``SOCKPUPPET_TRANSPORTS``); each test gets its own browser context, so its own session,
and logs in as a real user through Django's ``LoginView``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import PageProblems, wait_connected, wait_for_events
from tests.transports.conftest import ROOT, app_process

pytestmark = pytest.mark.browser

TRANSPORTS = ["websocket", "sse", "longpoll"]
USERNAME, PASSWORD = "ada", "analytical-engine-1843"


@dataclass
class Blog:
    url: str
    transport: str


@pytest.fixture(scope="module")
def blog_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with a user to log in as; each server gets a copy."""
    database = tmp_path_factory.mktemp("ported") / "db.sqlite3"
    code = (
        "import django; django.setup(); "
        "from django.core.management import call_command; "
        "from django.contrib.auth import get_user_model; "
        "call_command('migrate', verbosity=0); "
        f"get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r})"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "TESTS_DB": str(database)}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    return database


@pytest.fixture(scope="module", params=TRANSPORTS)
def blog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, blog_db: Path
) -> Iterator[Blog]:
    """The test app allowing only ``transport``, on its own copy of the database."""
    transport = str(request.param)
    folder = tmp_path_factory.mktemp(f"ported-{transport}")
    shutil.copyfile(blog_db, folder / "db.sqlite3")
    server = app_process(
        folder, {"TESTS_DB": str(folder / "db.sqlite3"), "SOCKPUPPET_TRANSPORTS": transport}
    )
    try:
        yield Blog(server.url, transport)
    finally:
        server.stop()


@pytest.fixture
def blog_page(blog: Blog, page: Page) -> Page:
    """The blog, logged in, once the client proved the server's only transport."""
    page.goto(blog.url + "/ported/")
    expect(page).to_have_url(blog.url + "/ported/login/?next=/ported/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(blog.url + "/ported/")
    wait_connected(page, blog.transport)
    page.evaluate("() => { window.__sameDocument = true }")  # a reload would drop it
    return page


def same_document(page: Page) -> bool:
    return bool(page.evaluate("() => window.__sameDocument === true"))


def activity(page: Page, target: str) -> list[str]:
    """The page's activity list (what the controller's callbacks and the page's
    ``sockpuppet:*`` listeners wrote) once the reflex ``target`` was finalized."""
    wait_for_events(page, "finalize", target=target)
    return page.locator("#activity li").all_inner_texts()


def callbacks(element: str, target: str, *, per_action: bool = True) -> list[str]:
    """What a successful reflex writes, in the documented order (docs/client.md): at each
    stage the per-action callback, then the generic one, then the DOM event."""
    action = target.partition("#")[2]
    capitalized = action[:1].upper() + action[1:]
    stages = [
        ("before", f"before{capitalized}", "beforeReflex"),
        ("success", f"{action}Success", "reflexSuccess"),
        ("after", f"after{capitalized}", "afterReflex"),
    ]
    entries = []
    for stage, specific, generic in stages:
        if per_action:
            entries.append(f"{specific} {element} {target}")
        entries += [f"{generic} {element} {target}", f"event:{stage} {element}"]
    return [*entries, f"finalizeReflex {element} {target}"]


def test_like_reads_the_post_id_and_the_user(blog_page: Page) -> None:
    page = blog_page
    expect(page.locator("#username")).to_have_text(USERNAME)

    page.locator("#like-2").click()
    expect(page.locator("#post-2 .likes")).to_have_text(USERNAME)
    assert activity(page, "BlogReflex#like") == callbacks("like-2", "BlogReflex#like")
    expect(page.locator("#post-1 .likes")).to_have_text("")
    assert same_document(page), "the page was reloaded instead of morphed"


def test_controller_stimulates_with_an_argument_for_its_own_element(blog_page: Page) -> None:
    page = blog_page
    page.locator("#rate-1").click()
    expect(page.locator("#post-1 .stars")).to_have_text("5")
    # No element given to stimulate(): the controller's <article data-post-id> is the element.
    assert activity(page, "BlogReflex#rate") == callbacks("post-1", "BlogReflex#rate")
    expect(page.locator("#post-2 .stars")).to_have_text("0")


def test_the_form_arrives_in_params(blog_page: Page) -> None:
    page = blog_page
    form = page.locator("#comment-1")
    body = form.locator("[name=body]")
    body.fill("First!")
    body.press("Enter")
    expect(page.locator("#post-1 .comments li")).to_have_text([f"{USERNAME}: First!"])
    expect(page.locator("#post-2 .comments li")).to_have_count(0)
    assert activity(page, "BlogReflex#comment") == callbacks(
        "comment-1", "BlogReflex#comment", per_action=False
    )

    # A blank field: the form's errors, set on the reflex, are template context.
    body.fill("")
    form.get_by_role("button", name="Comment").click()
    expect(form.locator(".errors")).to_have_text("This field is required.")
    expect(page.locator("#post-1 .comments li")).to_have_count(1)
    assert same_document(page), "the form was submitted instead of sent as a reflex"


def test_reflex_root_and_permanent_limit_what_a_morph_touches(blog_page: Page) -> None:
    page = blog_page
    expect(page.locator("#renders")).to_have_text("1")
    page.locator("#draft").fill("my notes")

    # count_view bumps views and shares; its data-reflex-root="#views" morphs only #views.
    page.locator("#count-view").click()
    expect(page.locator("#views strong")).to_have_text("1")
    activity(page, "BlogReflex#count_view")
    expect(page.locator("#shares strong")).to_have_text("0")
    expect(page.locator("#renders")).to_have_text("1")

    # A page morph brings the rest up to date, except the data-reflex-permanent sidebar.
    page.locator("#like-1").click()
    expect(page.locator("#shares strong")).to_have_text("1")
    expect(page.locator("#renders")).to_have_text("3")
    activity(page, "BlogReflex#like")
    expect(page.locator("#sidebar-renders")).to_have_text("1")
    expect(page.locator("#draft")).to_have_value("my notes")
    assert same_document(page)


@pytest.mark.allow_page_errors
def test_an_error_reaches_reflex_error(blog_page: Page, page_problems: PageProblems) -> None:
    page = blog_page
    page.locator("#report-1").click()
    entries = activity(page, "BlogReflex#report")
    assert entries[:2] == ["beforeReflex report-1 BlogReflex#report", "event:before report-1"]
    assert entries[2].startswith("reflexError report-1 BlogReflex#report ")
    assert "error happened" in entries[2]
    assert entries[3:] == [
        "event:error report-1",
        "afterReflex report-1 BlogReflex#report",
        "event:after report-1",
        "finalizeReflex report-1 BlogReflex#report",
    ]
    assert page_problems.errors, "a failed reflex is logged as a console error"
    assert all("BlogReflex#report" in error for error in page_problems.errors)
