import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from sockpuppet.asgi import get_asgi_application

application = get_asgi_application()
