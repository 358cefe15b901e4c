import asyncio
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from sockpuppet.asgi import get_asgi_application

application = get_asgi_application()


def answering_sends_late(app, seconds: float):
    """As a slow proxy on the way would: every ``POST send``'s answer (the ``202`` and the
    cookies it sets) leaves ``seconds`` late; the streams are not held back."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or not scope["path"].endswith("/send"):
            return await app(scope, receive, send)

        async def late(message):
            if message["type"] == "http.response.start":
                await asyncio.sleep(seconds)
            await send(message)

        return await app(scope, receive, late)

    return wrapped


if os.environ.get("TESTS_SEND_ANSWERS_LATE"):
    application = answering_sends_late(application, float(os.environ["TESTS_SEND_ANSWERS_LATE"]))
