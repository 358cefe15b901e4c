"""ASGI entry point of the demo: ``uvicorn demo.asgi:application``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

from sockpuppet.asgi import get_asgi_application

# The demo serves its static files itself, also with DEBUG off (benchmarks run it so).
application = get_asgi_application(serve_static=True)
