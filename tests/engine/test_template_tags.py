"""``{% sockpuppet_scripts %}`` renders the client's configuration from the settings."""

import json
import re

from django.template import Context, Template
from django.test import override_settings


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
