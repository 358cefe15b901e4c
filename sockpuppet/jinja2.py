"""The template tags for Jinja2 templates (Django's ``Jinja2`` backend).

``{% sockpuppet_scripts %}`` and ``{% sockpuppet_stream %}`` are Django template tags; in
a Jinja2 template the same come as functions, added to the environment's globals::

    # myproject/jinja2.py, named by TEMPLATES' OPTIONS["environment"]
    from jinja2 import Environment
    from sockpuppet.jinja2 import GLOBALS

    def environment(**options):
        env = Environment(**options)
        env.globals.update(GLOBALS)
        return env

    {{ sockpuppet_scripts(request) }}        {# in <head> #}
    {{ sockpuppet_stream("room:42") }}
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString

from sockpuppet.templatetags import sockpuppet as tags


def sockpuppet_scripts(
    request: HttpRequest | None, *, autostart: bool = True, debug: bool = False
) -> SafeString:
    """The client's config and ``<script>`` tag, as ``{% sockpuppet_scripts %}``."""
    context: Any = {"request": request}
    return tags.sockpuppet_scripts(context, autostart=autostart, debug=debug)


def sockpuppet_stream(name: str) -> SafeString:
    """Follow the named stream ``name`` on this page, as ``{% sockpuppet_stream %}``."""
    return tags.sockpuppet_stream(name)


GLOBALS = {"sockpuppet_scripts": sockpuppet_scripts, "sockpuppet_stream": sockpuppet_stream}
