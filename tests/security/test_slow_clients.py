"""Slow senders do not starve the rest: with real uvicorn serving the app, clients that send half their
headers, or a keyed webhook's body a few bytes at a time, and hold their connections open do not delay
an ordinary request (rate limits and read timeouts per sender belong to the reverse proxy: SECURITY.md)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from sandbox.server import ThreadedServer
from tests.harness import SHIPROCKET_WEBHOOK_TOKEN


@pytest.fixture
def server(settings: Settings) -> Iterator[ThreadedServer]:
    running = ThreadedServer(create_app(settings)).start()  # its own services, on its own event loop
    yield running
    running.stop()


def test_slow_senders_holding_connections_do_not_block_others(server: ThreadedServer) -> None:
    held: list[socket.socket] = []
    try:
        for i in range(20):
            sock = socket.create_connection((server.host, server.port))
            if i % 2:  # slowloris: headers never finished
                sock.sendall(b"GET /ops/summary HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            else:  # an authenticated webhook whose body trickles in and never ends
                sock.sendall(b"POST /webhooks/tracking HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"x-api-key: " + SHIPROCKET_WEBHOOK_TOKEN.encode() + b"\r\n"
                             b"Content-Length: 500000\r\n\r\n{\"awb\": \"1")
            held.append(sock)
        started = time.monotonic()
        with httpx.Client(base_url=server.url, timeout=5) as client:
            for _ in range(5):
                assert client.get("/healthz").status_code == 200
        assert time.monotonic() - started < 2.0
    finally:
        for sock in held:
            sock.close()
