"""Which origins may open connections and POST: the page's own host, ALLOWED_HOSTS, and
the origins listed in SOCKPUPPET["ALLOWED_ORIGINS"] or CSRF_TRUSTED_ORIGINS."""

from http.cookies import SimpleCookie

import pytest
from django.test import RequestFactory, override_settings

from sockpuppet import cookies
from sockpuppet.checks import check_settings
from sockpuppet.origins import origin_allowed
from transports.common import origin_ok

HOST = "app.example.com"


@override_settings(
    ALLOWED_HOSTS=[HOST], SOCKPUPPET={"ALLOWED_ORIGINS": ["https://admin.example.org"]}
)
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser
        ("https://app.example.com", True),
        ("https://admin.example.org", True),
        ("https://admin.example.org/", True),
        ("http://admin.example.org", False),  # another scheme is another origin
        ("https://admin.example.org.evil.test", False),
        ("https://evil.test", False),
        ("null", False),
    ],
)
def test_listed_origins_and_the_sites_own_hosts_are_allowed(origin, allowed):
    assert origin_allowed(origin, HOST) is allowed


@override_settings(ALLOWED_HOSTS=[HOST], CSRF_TRUSTED_ORIGINS=["https://*.example.net"])
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://shop.example.net", True),
        ("https://a.b.example.net", True),
        ("https://example.net", True),  # as Django's CSRF check: the domain itself too
        ("http://shop.example.net", False),
        ("https://shop.example.net.evil.test", False),
        ("https://evilexample.net", False),
    ],
)
def test_wildcard_trusted_origins_allow_subdomains_as_djangos_csrf_check_does(origin, allowed):
    assert origin_allowed(origin, HOST) is allowed


@pytest.mark.parametrize("setting", ["https://app.example.com", ("https://app.example.com",)])
def test_allowed_origins_must_be_a_list_and_a_string_allows_nothing(setting):
    # A string once matched any of its substrings ("https://a" was in it).
    with override_settings(ALLOWED_HOSTS=[HOST], SOCKPUPPET={"ALLOWED_ORIGINS": setting}):
        assert origin_allowed("https://a", HOST) is False
        assert origin_allowed("https://app.example.co", HOST) is False
        messages = check_settings()
    if isinstance(setting, str):
        assert [m.id for m in messages] == ["sockpuppet.E008"]
        assert 'SOCKPUPPET["ALLOWED_ORIGINS"]' in messages[0].msg
    else:
        assert messages == []


@override_settings(SOCKPUPPET={"ALLOWED_ORIGINS": ["app.example.com", "https://x.test/path", 3]})
def test_entries_that_are_not_origins_are_named():
    (message,) = check_settings()
    assert message.id == "sockpuppet.E008"
    assert "'app.example.com'" in message.msg and "'https://x.test/path'" in message.msg
    assert "3" in message.msg


@pytest.mark.parametrize("use_forwarded", [True, False])
def test_behind_a_proxy_the_forwarded_host_is_the_pages_host_when_django_says_so(use_forwarded):
    scope = {
        "type": "http",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"x-forwarded-host", b"www.example.com"),
            (b"origin", b"https://www.example.com"),
        ],
    }
    with override_settings(ALLOWED_HOSTS=["*"], USE_X_FORWARDED_HOST=use_forwarded):
        assert origin_ok(scope) is use_forwarded
        answer = cookies.set_cookies(
            RequestFactory().post(
                "/sockpuppet/cookies",
                data={"token": cookies.sign(SimpleCookie())},
                content_type="application/json",
                headers={
                    "Host": "127.0.0.1:8000",
                    "X-Forwarded-Host": "www.example.com",
                    "Origin": "https://www.example.com",
                },
            )
        )
    assert answer.status_code == (204 if use_forwarded else 403)
