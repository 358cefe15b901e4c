"""How a long-poll answers on the wire (``transports/longpoll.py``, ``_Answer``).

A poll that has to wait sends its ``200`` and headers as it begins to wait, over HTTP/1.1
chunked, so only the body is written when a message comes; an HTTP/1.0 poll (nginx's
default towards upstreams) is answered whole, with its length, since HTTP/1.0 has no
chunks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.support.wire import Tab
from tests.transports.conftest import Deployment, serve_app

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    # A short hold, so the HTTP/1.0 poll below ends by itself.
    deployment = serve_app(tmp_path_factory, SOCKPUPPET_LONGPOLL_TIMEOUT="2")
    yield deployment
    deployment.stop()


def poll_path(tab: Tab) -> str:
    return f"/sockpuppet/poll?token={quote(tab.grant['token'])}"


async def test_a_waiting_poll_has_its_headers_at_once_and_its_answer_when_it_comes(
    app: Deployment,
) -> None:
    tab = Tab(app.url)
    await tab.negotiate()
    async with httpx.AsyncClient(base_url=app.url, cookies=tab.cookies, timeout=30) as client:
        # The hold is 2 s: headers a second before the answer were sent as it began to wait.
        async with client.stream("GET", poll_path(tab)) as response:
            started = asyncio.get_running_loop().time()
            assert response.status_code == 200
            assert response.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in response.headers
            answer = await response.aread()
        assert asyncio.get_running_loop().time() - started > 1, "the headers came with the answer"
        messages = json.loads(answer)
        assert [m["type"] for m in messages] == ["heartbeat"]

        # A message that comes during the hold ends it, as the body.
        async with client.stream("GET", poll_path(tab)) as response:
            sent = await client.post(
                f"/sockpuppet/send?token={quote(tab.grant['token'])}&transport=longpoll",
                content=json.dumps({"type": "ping", "id": "p1"}),
                headers={"Origin": app.url},
            )
            assert sent.status_code == 202
            messages = json.loads(await response.aread())
        assert [m["type"] for m in messages] == ["heartbeat", "pong"]
        assert messages[1]["id"] == "p1"


async def test_an_http_1_0_poll_is_answered_whole_with_its_length(app: Deployment) -> None:
    tab = Tab(app.url)
    await tab.negotiate()
    address = urlsplit(app.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write(
        f"GET {poll_path(tab)} HTTP/1.0\r\nHost: {address.netloc}\r\n"
        f"Cookie: {tab.cookie_header}\r\n\r\n".encode()
    )
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), timeout=20)  # HTTP/1.0: closed after it
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = head.decode("latin-1").lower()
    assert headers.startswith("http/1.1 200")
    assert "transfer-encoding" not in headers
    assert f"content-length: {len(body)}" in headers
    assert [m["type"] for m in json.loads(body)] == ["heartbeat"]
