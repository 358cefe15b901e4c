"""Pages in Jinja2 templates (Django's ``Jinja2`` backend): ``sockpuppet.jinja2``'s
functions render what the template tags render, and a page morph renders the Jinja2 page
with the reflex's attributes (Django audit: neither was there, nor documented)."""

import json
import re

import pytest
from django.test import Client

from sockpuppet import streams
from sockpuppet.testing import ReflexClient

pytestmark = pytest.mark.django_db


def test_a_jinja2_page_gets_the_client_and_its_streams():
    page = Client().get("/jinja/").content.decode()
    config = re.search(
        r'<script id="sockpuppet-config" type="application/json">(.*?)</script>', page
    )
    assert config, page
    assert json.loads(config.group(1))["url"] == "/sockpuppet/"
    assert json.loads(config.group(1))["csrfToken"]  # the page's, as the tag gives it
    assert re.search(r'<script src="/static/sockpuppet/sockpuppet\.js" defer></script>', page)
    token = re.search(r'data-sockpuppet-stream="([^"]+)"', page)
    assert token and streams.verify(token.group(1)) == "n.jinja-room"


def test_a_page_morph_renders_the_jinja2_page_with_the_reflex_s_attributes():
    tab = ReflexClient()
    assert '<p id="count">1</p>' in tab.reflex("CounterReflex#increment", url="/jinja/").html()
    assert '<p id="note">/class/</p>' in tab.reflex("CounterReflex#where", url="/jinja/").html()
