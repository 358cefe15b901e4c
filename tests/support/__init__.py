"""Helpers that start and drive the real parts the tests use.

- ``processes``: free loopback ports, waiting while watching a process, stopping by pid.
- ``server``: ``Uvicorn`` (any ASGI app in a subprocess) and ``DemoServer`` (the demo project).
- ``redis``: ``RedisServer``, a throwaway ``redis-server``.
- ``browser``: Chromium launch options, the ``sockpuppet:*`` event recorder, waits on it.
- ``nginx``: a real nginx in front of the app, passing, refusing or buffering.
- ``wire``: a protocol client that negotiates and talks like the browser client.
"""
