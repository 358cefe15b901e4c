"""The harness's own promises: real processes on loopback ports, stopped by pid."""

from __future__ import annotations

import httpx
import pytest

from tests.support.redis import RedisServer
from tests.support.server import DemoServer


def test_redis_server_answers_on_loopback(clean_redis: RedisServer) -> None:
    with clean_redis.client() as client:
        assert client.ping()
        client.set("k", "v")
        assert client.get("k") == b"v"
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("bind")["bind"] == "127.0.0.1"
    assert clean_redis.url == f"redis://127.0.0.1:{clean_redis.port}/0"


def test_server_restarts_on_the_same_port_with_the_same_database(server: DemoServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/").status_code == 200
        first_pid, port = server.pid, server.port
        server.restart()
        assert server.pid != first_pid and server.port == port
        assert client.get("/").status_code == 200


def test_server_stop_frees_the_port(server: DemoServer) -> None:
    server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/", timeout=2)
