"""ASGI entry point of the demo: ``uvicorn demo.asgi:application``."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

from sockpuppet.asgi import get_asgi_application

# Hundreds of connections per process: fewer, later garbage collections, so that full
# collections (a pause of 0.1-1 s with thousands of connections) do not come every few
# seconds. See docs/deployment.md, "Thousands of connections per process".
gc.set_threshold(100_000, 50, 100)

# The demo serves its static files itself, also with DEBUG off (benchmarks run it so).
application = get_asgi_application(serve_static=True)
