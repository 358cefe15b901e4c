"""Test your reflexes without a browser or a server.

``ReflexClient`` runs a reflex exactly as the dispatcher does (the page's middleware,
your view for a page morph) and returns what the browser would receive::

    from sockpuppet.testing import ReflexClient

    def test_increment(django_user_model):
        client = ReflexClient()
        client.force_login(django_user_model.objects.create(username="ada"))
        result = client.reflex("CounterReflex#increment", url="/counter/", args=[2])
        assert result.type == "operations"
        assert result.morph == "page"
        assert "2" in result.html("#count")

It keeps cookies between reflexes like a browser tab (a login inside a reflex holds for
the next one), and shares them with Django's test ``Client`` it wraps.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin

from django.test import Client

from sockpuppet import runner
from sockpuppet.bus.memory import EXPECTING_NO_LISTENERS
from sockpuppet.channel import Broadcast, recorded
from sockpuppet.connection import Connection
from sockpuppet.protocol import ReflexMessage


@dataclass
class ReflexResult:
    """The server's answer to one reflex."""

    message: dict[str, Any]
    # What the reflex broadcast with ``Channel`` (in its own thread), in order.
    broadcasts: list[Broadcast] = field(default_factory=list)
    # What the reflex raised, when it failed (whatever DEBUG says, unlike ``error``).
    exception: BaseException | None = None
    type: str = field(init=False)
    morph: str | None = field(init=False)
    operations: list[dict[str, Any]] = field(init=False)
    error: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.type = self.message["type"]
        self.morph = self.message.get("morph")
        self.operations = list(self.message.get("operations", []))
        self.error = self.message.get("message") if self.type == "error" else None

    def html(self, selector: str = "body") -> str:
        """The HTML the operation for ``selector`` carries. Raises ``AssertionError`` if
        the reflex answered no operations (chained to what it raised, if it failed) and
        ``KeyError`` if none of them is for ``selector``."""
        if self.type != "operations":
            said = f": {self.error}" if self.error else ""
            raise AssertionError(
                f"The reflex answered {self.type!r}, not operations{said}"
            ) from self.exception
        for operation in self.operations:
            if operation.get("selector") == selector and "html" in operation:
                return str(operation["html"])
        raise KeyError(
            f"no operation with HTML for {selector!r}; selectors: {[o.get('selector') for o in self.operations]}"
        )


class ReflexClient:
    """Runs reflexes as one browser tab would; wraps a ``django.test.Client``."""

    def __init__(self, client: Client | None = None, host: str = "testserver") -> None:
        self.client = client or Client()
        self.host = host
        self.id = uuid.uuid4().hex

    def force_login(self, user: Any) -> None:
        self.client.force_login(user)

    def reflex(
        self,
        target: str | None,
        *,
        url: str = "/",
        args: list[Any] | None = None,
        dataset: dict[str, Any] | None = None,
        attrs: dict[str, Any] | None = None,
        form: dict[str, Any] | str | None = None,
        selectors: list[str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> ReflexResult:
        """Run ``target`` ("Class#method"; None re-renders the page) for the page at ``url``."""
        connection = Connection(
            id=self.id,
            transport="test",
            headers=[(b"host", self.host.encode())],
            cookies={name: morsel.value for name, morsel in self.client.cookies.items()},
        )
        form_data = form if isinstance(form, str) else urlencode(form or {}, doseq=True)
        message: ReflexMessage = {
            "type": "reflex",
            "id": uuid.uuid4().hex,
            "target": target,
            "args": list(args or []),
            "url": urljoin(f"http://{self.host}/", url),
            "attrs": {**(attrs or {}), **{f"data-{k}": v for k, v in (dataset or {}).items()}},
            "dataset": dict(dataset or {}),
            "selectors": list(selectors or []),
            "formData": form_data,
            "params": dict(params or {}),
            "permanentAttributeName": "data-reflex-permanent",
        }
        broadcasts: list[Broadcast] = []
        recording, quiet = recorded.set(broadcasts), EXPECTING_NO_LISTENERS.set(True)
        try:
            with _failures() as raised:
                answer = runner.run(connection, message)
        finally:
            recorded.reset(recording)
            EXPECTING_NO_LISTENERS.reset(quiet)
        for name in set(self.client.cookies) - set(connection.cookies):
            del self.client.cookies[name]
        for name, value in connection.cookies.items():
            self.client.cookies[name] = value
        return ReflexResult(answer, broadcasts, raised[-1] if raised else None)


class _Raised(logging.Handler):
    """Keeps the exceptions of the error records logged while a reflex runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.exceptions: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.exceptions.append(record.exc_info[1])


@contextmanager
def _failures() -> Iterator[list[BaseException]]:
    """What the runner logged as a reflex's failure (it answers only a message)."""
    handler = _Raised()
    logger = logging.getLogger("sockpuppet")
    logger.addHandler(handler)
    try:
        yield handler.exceptions
    finally:
        logger.removeHandler(handler)
