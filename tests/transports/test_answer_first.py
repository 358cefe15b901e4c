"""A reflex's answer reaches the stream before its ``POST send`` is answered.

When the SSE stream (or held long-poll) is in the process that ran the reflex, the
answer is written to it before the ``202``: the browser reads the answer first instead of
handling the ``202`` first. Raw sockets, so the test sees what the server wrote and in
which order, with nothing buffered by a client library.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest

from tests.support.wire import Tab
from tests.transports.conftest import Deployment, serve_app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment = serve_app(tmp_path_factory)
    yield deployment
    deployment.stop()


def _request(address: tuple[str, int], head: str, body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(address, timeout=10)
    sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
    return sock


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before {marker!r}: {data!r}"
        data += chunk
    return data


async def test_the_answer_is_on_the_stream_before_the_post_is_answered(server: Deployment) -> None:
    tab = Tab(server.url)
    await tab.negotiate()
    url = urlsplit(server.url)
    address = (url.hostname or "127.0.0.1", url.port or 80)
    token = quote(tab.grant["token"])
    common = f"Host: {url.netloc}\r\nCookie: {tab.cookie_header}"

    stream = _request(
        address,
        f"GET /sockpuppet/sse?token={token} HTTP/1.1\r\n{common}\r\nAccept: text/event-stream",
    )
    try:
        # The first event (the welcome: subscribed), to the end of its chunk.
        assert b'"heartbeat"' in _read_until(stream, b"\r\n\r\n\r\n")
        reflex = tab.reflex("CounterReflex#increment", selectors=["#count"])
        body = json.dumps([reflex]).encode()
        post = _request(
            address,
            f"POST /sockpuppet/send?token={token}&transport=sse HTTP/1.1\r\n{common}\r\n"
            f"Origin: {server.url}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}",
            body,
        )
        try:
            assert _read_until(post, b"\r\n\r\n").startswith(b"HTTP/1.1 202")
        finally:
            post.close()
        stream.setblocking(False)
        try:
            written = stream.recv(65536)
        except BlockingIOError:
            pytest.fail("the 202 came before the answer was written to the stream")
        assert reflex["id"].encode() in written, written
    finally:
        stream.close()
