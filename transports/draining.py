"""Held long-polls answer at once when uvicorn shuts down, instead of holding it up.

On SIGTERM or SIGINT (a deploy, each reload of ``--reload``), uvicorn stops accepting
connections and waits for the requests in progress to end, up to
``--timeout-graceful-shutdown`` (forever by default): a poll held for
``LONGPOLL_TIMEOUT`` seconds held the shutdown as long. uvicorn tells the application
nothing before those requests end (lifespan's shutdown comes after them), so its
``Server.should_exit`` is read, every ``CHECK_EVERY`` seconds while some poll is held,
from the server that installed the SIGTERM handler (as sse-starlette finds it to end
its streams). A poll so released answers what it has, as at the end of its hold; the
client polls again, on another process once this one stopped listening. Under another
server none is found, and polls hold as before.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from transports.loops import PerLoop

CHECK_EVERY = 0.5


def server_exiting() -> bool:
    """Whether the uvicorn server running this process was told to exit."""
    handler = signal.getsignal(signal.SIGTERM)
    server = getattr(handler, "__self__", None)
    return getattr(server, "should_exit", False) is True


class Drain:
    """The held polls of one event loop, and the timer that checks for the server's
    exit (it runs only while some poll is held)."""

    def __init__(self) -> None:
        self._held: set[Callable[[], None]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def hold(self, release: Callable[[], None]) -> None:
        """``release()`` is called once, if the server exits before ``let_go``."""
        self._held.add(release)
        if self._timer is None:
            self._schedule()

    def let_go(self, release: Callable[[], None]) -> None:
        self._held.discard(release)
        if not self._held and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(CHECK_EVERY, self._check)

    def _check(self) -> None:
        self._timer = None
        if server_exiting():
            held, self._held = self._held, set()
            for release in held:
                release()
        elif self._held:
            self._schedule()


drain = PerLoop(Drain)  # the running event loop's
