"""A protocol client that negotiates and talks like the browser client (docs/protocol.md).

Used by the integration tests; small on purpose: it reads and writes raw messages so
tests can assert on exactly what crosses the wire.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import websockets


@dataclass
class Tab:
    """One negotiated browser tab: cookies, token, and the cursor of what it applied."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    grant: dict[str, Any] = field(default_factory=dict)
    cursor: dict[str, int] = field(default_factory=dict)

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def negotiate(self, page: str = "/") -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url, cookies=self.cookies) as client:
            (await client.get(page)).raise_for_status()
            csrf = client.cookies["csrftoken"]
            answer = await client.post(
                "/sockpuppet/negotiate", headers={"X-CSRFToken": csrf}, json={}
            )
            answer.raise_for_status()
            self.cookies = dict(client.cookies.items())
        self.grant = answer.json()
        return self.grant

    def ws_url(self, token: str | None = None, since: dict[str, int] | None = None) -> str:
        url = (
            self.base_url.replace("http", "ws", 1)
            + f"/sockpuppet/ws?token={quote(token or self.grant['token'])}"
        )
        if since:
            url += "&since=" + quote(json.dumps(since))
        return url

    def connect(
        self,
        *,
        origin: str | None = None,
        token: str | None = None,
        since: dict[str, int] | None = None,
    ) -> Any:
        headers = {"Cookie": self.cookie_header, "Origin": origin or self.base_url}
        return websockets.connect(self.ws_url(token, since), additional_headers=headers)

    def reflex(self, target: str | None, *, url: str = "/", **fields: Any) -> dict[str, Any]:
        return {
            "type": "reflex",
            "id": fields.pop("id", uuid.uuid4().hex),
            "target": target,
            "args": fields.pop("args", []),
            "url": self.base_url + url,
            **fields,
        }

    def applied(self, message: dict[str, Any]) -> dict[str, Any]:
        """Record a received message in the cursor, as the client does; returns it."""
        if "position" in message:
            self.cursor[message["stream"]] = message["position"]
        return message


async def receive(ws: Any, tab: Tab, *, skip: tuple[str, ...] = ("heartbeat",)) -> dict[str, Any]:
    """The next message that is not one of ``skip``."""
    while True:
        message = json.loads(await ws.recv())
        if message["type"] not in skip:
            return tab.applied(message)
