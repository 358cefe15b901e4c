"""``{% sockpuppet_scripts %}`` renders the client's configuration from the settings."""

import json
import re

from django.template import Context, Template
from django.test import override_settings
from django.urls import clear_script_prefix, set_script_prefix


def rendered_config() -> dict:
    html = Template("{% load sockpuppet %}{% sockpuppet_scripts %}").render(Context({}))
    found = re.search(
        r'<script id="sockpuppet-config" type="application/json">(.*?)</script>', html
    )
    assert found, html
    return json.loads(found.group(1))


@override_settings(SOCKPUPPET={"REFLEX_TIMEOUT": 90, "TRANSPORTS": ["sse", "longpoll"]})
def test_the_client_waits_for_an_answer_longer_than_the_server_lets_a_reflex_run():
    config = rendered_config()
    # The server's timeout error, naming the reflex, comes before the client gives up.
    assert config["reflexTimeout"] == 95_000
    assert config["transports"] == ["sse", "longpoll"]
    assert config["url"] == "/sockpuppet/"


def test_by_default_the_client_waits_35_seconds():
    assert rendered_config()["reflexTimeout"] == 35_000


def test_the_client_sends_the_csrf_token_in_the_header_django_reads():
    """Django audit: a project with its own ``CSRF_HEADER_NAME`` never connected (the
    client always sent ``X-CSRFToken``, and ``negotiate`` answered 403)."""
    assert rendered_config()["csrfHeader"] == "X-CSRFToken"
    with override_settings(CSRF_HEADER_NAME="HTTP_X_XSRF_TOKEN"):
        assert rendered_config()["csrfHeader"] == "X-Xsrf-Token"


def test_under_a_script_prefix_the_endpoints_are_under_it_too():
    set_script_prefix("/app/")
    try:
        assert rendered_config()["url"] == "/app/sockpuppet/"
    finally:
        clear_script_prefix()
    assert rendered_config()["url"] == "/sockpuppet/"
