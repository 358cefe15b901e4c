"""A real nginx in front of the app, in one of three configurations (DESIGN §8).

- ``"passes"``: the configuration ``docs/deployment.md`` recommends, read from that page
  (the block between ``# sockpuppet-locations`` markers), so the docs stay true;
- ``"no-websocket"``: a proxy that does not pass the WebSocket upgrade (the handshake
  fails; SSE still streams, since nginx honours ``X-Accel-Buffering: no``);
- ``"buffering"``: no upgrade either, ``X-Accel-Buffering`` ignored and responses
  compressed in large blocks (gzip buffers a stream until a block fills, as many
  corporate proxies and CDNs do): an SSE stream delivers nothing; only long-poll works.

Several upstream ports are balanced round-robin, with no affinity. ``tls=True`` terminates
HTTPS (a self-signed certificate for 127.0.0.1, made with ``openssl``) and passes plain HTTP
on, as most deployments do.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.support.processes import free_port, stop, wait_until

ROOT = Path(__file__).resolve().parents[2]
MODES = ("passes", "no-websocket", "buffering")

PLAIN = """
    location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        %s
    }
"""
BUFFERING = (
    "proxy_buffering on; proxy_ignore_headers X-Accel-Buffering; proxy_buffers 8 64k;"
    " gzip on; gzip_types text/event-stream application/json; gzip_min_length 0; gzip_buffers 16 64k;"
)


def documented_locations(block: str = "sockpuppet-locations") -> str:
    """The location blocks of one of docs/deployment.md's configurations (between
    ``# <block>`` and ``# end <block>``)."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    match = re.search(rf"# {block}\n(.*?)# end {block}", text, re.S)
    if match is None:
        raise AssertionError(f"docs/deployment.md lost its '# {block}' block")
    return match.group(1)


class Nginx:
    def __init__(
        self,
        folder: Path,
        upstreams: list[int],
        mode: str = "passes",
        *,
        tls: bool = False,
        locations: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.mode = mode
        self.tls = tls
        self.upstreams = upstreams
        self.locations = locations  # in place of the mode's location blocks
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def config(self) -> str:
        if self.locations is not None:
            locations = self.locations
        elif self.mode == "passes":
            locations = documented_locations()
        else:
            locations = PLAIN % (BUFFERING if self.mode == "buffering" else "")
        # As docs/deployment.md's upstream: no process shut out after one failure.
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=0;" for port in self.upstreams
        )
        folder = self.folder
        listen = f"listen 127.0.0.1:{self.port}"
        if self.tls:
            listen += (
                f" ssl;\n        ssl_certificate {folder}/cert.pem;"
                f"\n        ssl_certificate_key {folder}/key.pem"
            )
        return f"""
worker_processes 1;
daemon off;
user root;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream app {{
{servers}
    }}
    server {{
        {listen};
{locations}
    }}
}}
"""

    def start(self, timeout: float = 15) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = self.folder / "nginx.conf"
        if self.tls:
            self._make_certificate()
        conf.write_text(self.config())
        log = self.folder / "stderr.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [binary, "-p", str(self.folder), "-c", str(conf)], stdout=out, stderr=out
            )
        wait_until(
            self._answers, self.process, timeout=timeout, what=f"nginx ({self.mode})", log=log
        )
        return self

    def stop(self) -> None:
        stop(self.process)

    def _make_certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self.folder / "key.pem"), "-out", str(self.folder / "cert.pem")],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def _answers(self) -> bool:
        try:
            httpx.get(self.url + "/", timeout=1, verify=False)
            return True
        except httpx.HTTPError:
            return False
