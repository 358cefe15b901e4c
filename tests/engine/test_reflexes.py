"""Running reflexes through Django's handler, as ``sockpuppet.testing`` users do."""

from html import unescape
from typing import ClassVar

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import DisallowedRedirect
from django.http import HttpResponse
from django.test import Client

from sockpuppet import runner
from sockpuppet.connection import Connection
from sockpuppet.testing import ReflexClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def tab():
    return ReflexClient()


def test_page_morph_renders_the_view_with_the_changed_session(tab):
    result = tab.reflex("CounterReflex#increment", args=[2])
    assert (result.type, result.morph) == ("operations", "page")
    [operation] = result.operations
    assert (
        operation["op"] == "morph"
        and operation["selector"] == "body"
        and operation["childrenOnly"] is True
    )
    assert '<p id="count">2</p>' in result.html("body")
    assert '<p id="count">5</p>' in tab.reflex("CounterReflex#increment", args=[3]).html("body")


def test_class_based_views_render_too(tab):
    result = tab.reflex("CounterReflex#increment", url="/class/", args=[4])
    assert '<p id="count">4</p>' in result.html()


def test_morph_roots_are_cut_as_inner_html(tab):
    result = tab.reflex("CounterReflex#increment", selectors=["#count", "#footer"])
    assert [(o["selector"], o["html"]) for o in result.operations] == [
        ("#count", "1"),
        ("#footer", "footer"),
    ]


def test_a_morph_root_matching_nothing_is_a_clear_error(tab):
    result = tab.reflex("CounterReflex#increment", selectors=["#nowhere"])
    assert (
        result.type == "error"
        and "'#nowhere'" in result.error
        and "matches nothing" in result.error
    )


@pytest.mark.parametrize(
    ("selectors", "complaint"),
    [
        (["li ~ li"], "The morph root 'li ~ li' is not supported"),
        (["#count:first-child"], "is not supported"),
        (["a b c d e f g h i"], "at most 8 of them"),
        ([f"#r{n}" for n in range(11)], "at most 10 morph roots"),
        (["#a, #b, #c, #d, #e, #f", "#g, #h, #i, #j, #k"], "at most 10 morph roots"),
    ],
)
def test_a_morph_root_lxml_cannot_evaluate_quickly_is_refused_before_the_reflex_runs(
    tab, selectors, complaint
):
    """Regression (security audit). Bug: a client's morph roots (``data-reflex-root``)
    could be any CSS; ``li ~ li ~ …`` on a page with a long list held a reflex thread for
    minutes, beyond any timeout, and a few such reflexes stalled every other reflex."""
    result = tab.reflex("CounterReflex#increment", selectors=selectors)
    assert result.type == "error" and complaint in result.error
    assert '<p id="count">1</p>' in tab.reflex("CounterReflex#increment").html()  # it did not run


def test_morph_roots_may_be_tags_ids_classes_and_attributes_with_descendants(tab):
    selectors = ["body #count", "body > [id='footer']", "#count, #footer"]
    result = tab.reflex("CounterReflex#increment", selectors=selectors)
    assert [o["html"] for o in result.operations] == ["1", "footer", "1"]


def test_reflex_attributes_are_template_context_and_methods_are_not(tab):
    html = tab.reflex("CounterReflex#annotate").html()
    assert '<p id="note">annotated</p>' in html
    assert '<p id="leak">no-leak</p>' in html  # the method `increment` is not in the context


def test_selector_morph_skips_the_page(tab):
    result = tab.reflex("CounterReflex#selector")
    assert result.morph == "selector"
    assert result.operations == [
        {"op": "morph", "selector": "#note", "html": '<p id="note">selector</p>'}
    ]


def test_several_selector_morphs_do_not_share_state(tab):
    result = tab.reflex("CounterReflex#two_selectors")
    assert [o["selector"] for o in result.operations] == ["#note", "#footer"]
    assert result.html("#note") != result.html("#footer")


@pytest.mark.parametrize(
    ("target", "outcome"),
    [
        ("CounterReflex#nothing", "nothing"),
        ("CounterReflex#stop", "halted"),
        ("CounterReflex#deny", "forbidden"),
    ],
)
def test_outcomes(tab, target, outcome):
    assert tab.reflex(target).type == outcome


def test_halt_stops_before_the_action_and_keeps_state(tab):
    tab.reflex("CounterReflex#increment")
    tab.reflex("CounterReflex#stop")
    assert '<p id="count">1</p>' in tab.reflex(None).html()


def test_no_target_re_renders_the_page(tab):
    result = tab.reflex(None)
    assert result.morph == "page" and '<p id="count">0</p>' in result.html()


def test_an_exception_becomes_an_error_with_traceback_in_debug(tab, settings):
    settings.DEBUG = True
    result = tab.reflex("CounterReflex#explode")
    assert result.error == "CounterReflex#explode raised ValueError: boom"
    assert "Traceback" in result.message["traceback"]


def test_no_traceback_without_debug(tab, settings):
    settings.DEBUG = False
    result = tab.reflex("CounterReflex#explode")
    assert "boom" not in result.error and "traceback" not in result.message
    assert "server log" in result.error


def test_a_failed_reflex_in_a_test_carries_what_it_raised_whatever_debug_says(tab, settings):
    """Regression (newcomer audit). Bug: with DEBUG off (Django's test runner), a test
    saw only "the details are in the server log", and ``html()`` raised a KeyError that
    hid why the reflex failed."""
    settings.DEBUG = False
    result = tab.reflex("CounterReflex#explode")
    assert isinstance(result.exception, ValueError) and str(result.exception) == "boom"
    with pytest.raises(
        AssertionError, match=r"answered 'error', not operations: .*server log"
    ) as failed:
        result.html()
    assert failed.value.__cause__ is result.exception
    assert tab.reflex("CounterReflex#increment").exception is None


def test_a_refused_target_is_logged_as_a_warning(tab, caplog):
    """Regression (newcomer audit). Bug: a typo in a template's ``data-reflex`` showed
    in the browser's console only; the server's log said nothing of it."""
    tab.reflex("CounterReflx#increment")
    [record] = [r for r in caplog.records if r.name == "sockpuppet"]
    assert record.levelname == "WARNING"
    assert record.getMessage().startswith("Reflex CounterReflx#increment refused: No reflex class")


def test_errors_are_logged_on_the_sockpuppet_logger(tab, caplog):
    tab.reflex("CounterReflex#explode")
    assert any(r.name == "sockpuppet" and r.exc_info for r in caplog.records)


def test_async_actions_run(tab):
    assert '<p id="note">async</p>' in tab.reflex("CounterReflex#async_action").html()


def test_params_keep_blank_fields_and_repeated_keys(tab):
    html = tab.reflex("CounterReflex#echo_params", form="a=1&a=2&b=&c=x").html()
    assert "[('a', ['1', '2']), ('b', ['']), ('c', ['x'])]" in unescape(html)


def test_a_form_of_too_many_fields_is_a_clear_error(tab, settings, caplog):
    """Regression. Bug: a form over ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` failed the reflex
    "on the server", with a traceback in the log; it is the browser's input at fault."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    result = tab.reflex("CounterReflex#increment", form="a=1&b=2&c=3&d=4")
    assert result.type == "error" and result.error.startswith("The reflex's form has too many")
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in result.error
    assert not any(r.exc_info for r in caplog.records)
    assert any(r.name == "django.security.TooManyFieldsSent" for r in caplog.records)
    assert tab.reflex("CounterReflex#increment", form="a=1&b=2&c=3").type == "operations"


@pytest.mark.parametrize(
    ("middleware", "header"),
    [
        ("django.middleware.gzip.GZipMiddleware", (b"accept-encoding", b"gzip, deflate, br")),
        ("django.middleware.http.ConditionalGetMiddleware", (b"if-none-match", b"*")),
    ],
)
def test_a_page_morph_is_plain_html_whatever_the_handshake_asked(settings, middleware, header):
    """Regression. Bug: with GZipMiddleware every page morph failed (UnicodeDecodeError):
    the handshake's ``Accept-Encoding`` reached the page's render, which came gzipped
    (and an ``If-None-Match`` would make it a 304 under ConditionalGetMiddleware)."""
    settings.MIDDLEWARE = [middleware, *settings.MIDDLEWARE]
    connection = Connection(
        id="gzip", transport="websocket", headers=[(b"host", b"testserver"), header]
    )
    message = {
        "type": "reflex",
        "id": "r1",
        "target": "CounterReflex#increment",
        "args": [2],
        "url": "http://testserver/",
        "attrs": {},
        "dataset": {},
        "selectors": [],
        "formData": "",
        "params": {},
        "permanentAttributeName": "data-reflex-permanent",
    }
    answer = runner.run(connection, message)
    assert answer["type"] == "operations", answer
    assert '<p id="count">2</p>' in answer["operations"][0]["html"]


def test_a_page_the_visitor_may_not_see_is_a_clear_error_and_the_action_holds(tab, caplog):
    """Regression. Bug: a view raising PermissionDenied (``@permission_required(...,
    raise_exception=True)``) during a page morph failed the reflex "on the server" with a
    traceback, and its 500 dropped what the action saved in the session."""
    result = tab.reflex("CounterReflex#increment", url="/guarded/")
    assert (
        result.error
        == "Re-rendering http://testserver/guarded/ answered with HTTP 403, not a page."
    )
    assert not any(r.exc_info for r in caplog.records if r.name == "sockpuppet")
    assert '<p id="count">2</p>' in tab.reflex("CounterReflex#increment").html()


class AnsweringFirst:
    """A middleware answering every request itself, as Django's site-wide
    ``FetchFromCacheMiddleware`` does for a cached page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return HttpResponse("from the cache")


def test_a_reflex_a_middleware_answered_before_is_a_clear_error(tab, settings):
    """Regression. Bug: it failed "on the server" with a KeyError in the log."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.AnsweringFirst"]
    result = tab.reflex("CounterReflex#increment")
    assert result.error == (
        "CounterReflex#increment did not run: a middleware answered the page's request with "
        "HTTP 200 before it (Django's cache middleware, from its cache?)."
    )


def test_a_reflex_runs_only_where_the_page_s_view_middleware_lets_the_visitor_in(tab, settings):
    """Security audit: under ``LoginRequiredMiddleware`` an anonymous visitor's reflex on
    a page that needs a login ran, and its change was saved, before the middleware's
    ``process_view`` (which ran only for the page's render) turned the visitor away. It
    runs before the reflex now, as before a page's view: the reflex does not run, and the
    browser goes to log in, as a load of the page would."""
    login_required = "django.contrib.auth.middleware.LoginRequiredMiddleware"
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, login_required]
    result = tab.reflex("CounterReflex#increment")
    assert result.operations == [
        {"op": "redirect_to", "selector": None, "url": "/accounts/login/?next=/"}
    ]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != login_required]
    assert '<p id="count">1</p>' in tab.reflex("CounterReflex#increment").html()


class CountingViews:
    """A middleware counting its ``process_view`` calls."""

    calls: ClassVar[list[str]] = []

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        CountingViews.calls.append(request.path)


def test_process_view_runs_once_per_reflex_before_it(tab, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.CountingViews"]
    CountingViews.calls = []
    tab.reflex("CounterReflex#increment", url="/class/")  # and the page's render
    tab.reflex("CounterReflex#nothing")
    assert CountingViews.calls == ["/class/", "/"]


def test_a_reflex_from_a_host_django_refuses_says_so(settings):
    """Regression (security audit): the error blamed Django's cache middleware."""
    settings.ALLOWED_HOSTS = ["testserver"]
    result = ReflexClient(host="rebound.example").reflex("CounterReflex#increment")
    assert result.error == (
        "CounterReflex#increment did not run: a middleware answered the page's request with "
        "HTTP 400 before it (a Host not in ALLOWED_HOSTS? The server's log says why)."
    )


def test_element_dataset_uses_full_names(tab):
    html = tab.reflex("CounterReflex#by_dataset", dataset={"step-size": "5"}).html()
    assert '<p id="count">5</p>' in html


def test_the_request_has_the_real_host():
    tab = ReflexClient(host="localhost")
    assert '<p id="note">localhost</p>' in tab.reflex("CounterReflex#host").html()


def test_messages_added_in_a_reflex_show_in_the_render(tab):
    assert "<li>flashed</li>" in tab.reflex("CounterReflex#flash").html()


def test_login_inside_a_reflex_holds_for_later_reflexes(tab):
    tab.reflex("CounterReflex#sign_in")
    assert '<p id="user">alice</p>' in tab.reflex(None).html()
    tab.reflex("CounterReflex#sign_out")
    assert '<p id="user">anonymous</p>' in tab.reflex(None).html()


def test_user_of_the_session(tab):
    tab.force_login(get_user_model().objects.create(username="bob"))
    assert '<p id="user">bob</p>' in tab.reflex(None).html()


def test_a_failed_render_leaves_no_state_behind(tab, settings):
    """Regression: django-sockpuppet patched the view class and, when the render raised,
    left the patch in place, so later ordinary requests saw the reflex's context."""
    settings.DEBUG = True
    result = tab.reflex("CounterReflex#annotate", url="/broken/")
    assert result.type == "error" and "the view broke" in result.error
    page = Client().get("/broken/").content.decode()
    assert '<p id="count">-1</p>' in page and '<p id="note"></p>' in page


def test_a_redirecting_page_becomes_a_redirect_operation(tab):
    result = tab.reflex("CounterReflex#increment", url="/redirect/")
    assert result.operations == [{"op": "redirect_to", "selector": None, "url": "/class/"}]


def test_a_reflex_can_redirect_by_view_name(tab):
    result = tab.reflex("CounterReflex#leave")
    assert result.operations == [{"op": "redirect_to", "selector": None, "url": "/class/"}]


def test_a_reflex_redirects_only_where_django_s_redirect_would(tab):
    """A ``javascript:`` URL taken from a ``?next=`` would run in the page: refused with
    ``DisallowedRedirect``, as Django's ``redirect()`` refuses it, whatever its spelling."""
    for url in ("/class/?a=1", "https://elsewhere.example/", "//elsewhere.example/x"):
        result = tab.reflex("CounterReflex#go_next", form={"next": url})
        assert result.operations == [{"op": "redirect_to", "selector": None, "url": url}]
    for url in (
        "javascript:alert(document.domain)",
        " JavaScript:alert(document.domain)",
        "java\tscript:alert(document.cookie)",
        "data:text/html,<script>alert(document.domain)</script>",
    ):
        result = tab.reflex("CounterReflex#go_next", form={"next": url})
        assert result.type == "error", url
        assert isinstance(result.exception, DisallowedRedirect), url


def test_unknown_targets_are_errors_not_exceptions(tab):
    assert "No reflex class named 'Nope'" in tab.reflex("Nope#x").error
    assert "cannot take 3 argument" in tab.reflex("CounterReflex#increment", args=[1, 2, 3]).error


def test_over_a_class_based_view_the_reflex_attributes_win_over_its_context(tab):
    """As django-sockpuppet merged them over ``get_context_data`` (docs/reflexes.md)."""
    assert (
        '<p id="count">99</p>'
        in tab.reflex("CounterReflex#show_count", url="/class/", args=[99]).html()
    )


def test_over_a_function_view_the_context_it_renders_with_wins(tab):
    assert (
        '<p id="count">0</p>' in tab.reflex("CounterReflex#show_count", url="/", args=[99]).html()
    )


def test_reload_is_a_built_in_action_that_re_renders_the_page(tab):
    tab.reflex("CounterReflex#increment", args=[3])
    result = tab.reflex("CounterReflex#reload")
    assert (result.type, result.morph) == ("operations", "page")
    assert '<p id="count">3</p>' in result.html()


def test_django_sockpuppet_names_still_work(rf):
    from sockpuppet.context_processors import reflex as context
    from sockpuppet.element import Element

    element = Element({"id": "a", "data-post-id": "7"}, {"post-id": "7"})
    assert element.attributes is element.attrs and element.attributes["id"] == "a"
    assert context(rf.get("/"))["stimulus_reflex"] is False


@pytest.mark.parametrize("action", ["create_then_fail", "acreate_then_fail"])
@pytest.mark.parametrize("atomic", [True, False])
def test_with_atomic_requests_a_failing_reflex_writes_nothing(tab, monkeypatch, atomic, action):
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic)
    result = tab.reflex(f"CounterReflex#{action}")
    assert result.type == "error"
    written = get_user_model().objects.filter(username="half-done").exists()
    assert written is not atomic  # without ATOMIC_REQUESTS, as in a view, the write stays


def test_what_a_reflex_broadcasts_is_recorded_without_a_warning(tab, caplog):
    """A test process holds no connections: the memory bus's warning for such a process
    (a Celery worker on it reaches no browser) is not for ``ReflexClient``'s reflexes."""
    from asgiref.sync import async_to_sync

    from sockpuppet import Channel
    from sockpuppet.bus import reset_bus

    async_to_sync(
        reset_bus
    )()  # a bus no connection of this process has used, as a test run's first
    result = tab.reflex("BroadcastReflex#shout", args=["hello"])
    assert result.type == "nothing"
    [sent] = result.broadcasts
    assert sent.stream == Channel("room").stream
    assert sent.operations == [{"op": "inner_html", "selector": "#note", "html": "hello"}]
    assert tab.reflex("CounterReflex#increment").broadcasts == []
    assert [r for r in caplog.records if "memory bus" in r.getMessage()] == []
