"""ASGI entry point of the demo: ``uvicorn demo.asgi:application``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

from sockpuppet.asgi import get_asgi_application

application = get_asgi_application()
