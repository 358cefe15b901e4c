"""ASGI entry point of the demo: ``uvicorn demo.asgi:application``."""

import gc
import os
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

from django.core.signals import request_finished
from django.db import connections

from sockpuppet.asgi import get_asgi_application

# Hundreds of connections per process: fewer, later garbage collections, so that full
# collections (a pause of 0.1-1 s with thousands of connections) do not come every few
# seconds. See docs/deployment.md, "Thousands of connections per process".
gc.set_threshold(100_000, 50, 100)


def close_page_connections(**kwargs: object) -> None:
    """``CONN_MAX_AGE`` keeps the database connections of the reflexes' fixed threads; a
    page request runs on a thread of its own, whose kept connection (a SQLite file handle)
    would live until the garbage collector found the thread's state."""
    if not threading.current_thread().name.startswith("sockpuppet-reflex"):
        connections.close_all()


request_finished.connect(close_page_connections)

# The demo serves its static files itself, also with DEBUG off (benchmarks run it so).
application = get_asgi_application(serve_static=True)
