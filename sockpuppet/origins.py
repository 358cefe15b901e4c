"""Origin checking for the WebSocket and POST endpoints (the CSRF defence of both)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.http.request import split_domain_port, validate_host

from sockpuppet.conf import settings


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """True for a missing Origin (non-browser clients), the page's own host, an
    ``ALLOWED_HOSTS`` match, or an entry of ``SOCKPUPPET["ALLOWED_ORIGINS"]`` or
    ``CSRF_TRUSTED_ORIGINS``."""
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in settings.ALLOWED_ORIGINS or origin in django_settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if host and parts.netloc == host:
        return True
    domain, _port = split_domain_port(parts.netloc)
    # "*" in ALLOWED_HOSTS says nothing about which sites may script this one.
    allowed = [h for h in django_settings.ALLOWED_HOSTS if h != "*"]
    if django_settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)
