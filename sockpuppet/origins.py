"""Origin checking for the WebSocket and POST endpoints (the CSRF defence of both)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from sockpuppet.conf import settings


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """True for a missing Origin (non-browser clients), the page's own host, an
    ``ALLOWED_HOSTS`` match, or an entry of ``SOCKPUPPET["ALLOWED_ORIGINS"]`` or
    ``CSRF_TRUSTED_ORIGINS``."""
    if origin is None:
        return True
    origin = origin.rstrip("/")
    try:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
    except ValueError:  # not a URL ("http://[", an unclosed IPv6 address)
        return False
    if _listed(origin, parts.scheme, parts.netloc):
        return True
    if host and parts.netloc == host:
        return True
    domain, _port = split_domain_port(parts.netloc)
    # "*" in ALLOWED_HOSTS says nothing about which sites may script this one.
    allowed = [h for h in django_settings.ALLOWED_HOSTS if h != "*"]
    if django_settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def request_host(host: str | None, forwarded_host: str | None) -> str | None:
    """The host a browser addressed: ``X-Forwarded-Host`` when ``USE_X_FORWARDED_HOST``
    is on and the header came (as ``HttpRequest.get_host()`` reads it), else ``Host``."""
    if forwarded_host and django_settings.USE_X_FORWARDED_HOST:
        return forwarded_host
    return host


def _listed(origin: str, scheme: str, netloc: str) -> bool:
    """An entry of ``ALLOWED_ORIGINS`` or ``CSRF_TRUSTED_ORIGINS``: exact, or a wildcard
    (``https://*.example.com``: its subdomains) matched as Django's CSRF check does.
    A setting that is not a list or tuple allows nothing (``sockpuppet.E008`` names it)."""
    for entries in (settings.ALLOWED_ORIGINS, django_settings.CSRF_TRUSTED_ORIGINS):
        if not isinstance(entries, list | tuple):
            continue
        for entry in entries:
            if not isinstance(entry, str):
                continue
            if entry.rstrip("/") == origin:
                return True
            if "*" in entry:
                allowed = urlsplit(entry)
                if allowed.scheme == scheme and is_same_domain(netloc, allowed.netloc.lstrip("*")):
                    return True
    return False
