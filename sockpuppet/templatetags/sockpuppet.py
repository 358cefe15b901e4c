"""``{% sockpuppet_scripts %}``: the client bundle and its configuration."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import get_script_prefix
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from sockpuppet import csrf, streams
from sockpuppet.conf import settings
from sockpuppet.protocol import PROTOCOL_VERSION

register = template.Library()

# Seconds the client waits for an answer beyond ``REFLEX_TIMEOUT``.
REFLEX_TIMEOUT_MARGIN = 5

_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def sockpuppet_scripts(
    context: template.Context, *, autostart: bool = True, debug: bool = False
) -> SafeString:
    """Render the client's config and ``<script>`` tag. Put it in ``<head>``.

    ``autostart=False`` leaves connecting to the page's own ``Sockpuppet.start(...)``.
    """
    request = context.get("request")
    if getattr(request, "sockpuppet_reflex", None) is not None:
        # A reflex's render: the page already runs the client, and <head> is not morphed.
        # (get_token would also mask a new token and re-set the CSRF cookie, every reflex.)
        token = ""
    elif request is not None:
        token = get_token(request)
    else:
        token = str(context.get("csrf_token", ""))
    config: dict[str, Any] = {
        # Under the script prefix a site served under a sub-path has, as {% url %} is.
        "url": get_script_prefix().rstrip("/") + settings.URL_PREFIX,
        "csrfToken": token,
        "csrfCookieName": csrf.readable_cookie_name(),
        "csrfHeader": csrf.header_name(),
        "transports": list(settings.TRANSPORTS),
        "debug": bool(debug),
        "autostart": autostart,
        "protocol": PROTOCOL_VERSION,
        # The client waits for an answer a little longer than the server lets a reflex run,
        # so the server's timeout error (naming the reflex) is what the page gets.
        "reflexTimeout": round((float(settings.REFLEX_TIMEOUT) + REFLEX_TIMEOUT_MARGIN) * 1000),
    }
    data = json.dumps(config).translate(_ESCAPES)
    config_tag = mark_safe(
        f'<script id="sockpuppet-config" type="application/json">{data}</script>'
    )
    return format_html(
        '{}\n<script src="{}" defer></script>', config_tag, static("sockpuppet/sockpuppet.js")
    )


@register.simple_tag
def sockpuppet_stream(name: str) -> SafeString:
    """Follow the named stream ``name`` on this page: ``Channel(name)`` reaches it.

    The name is signed; a browser cannot follow a stream it was not given.
    """
    return format_html('<span hidden data-sockpuppet-stream="{}"></span>', streams.sign(str(name)))
