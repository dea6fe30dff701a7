"""workers/main.py collects what each domain's tasks.py registers: the same arq function and cron names
as when it listed them by hand (arq keys job ids and cron uniqueness on them), each cron switched by its
own setting."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from pydantic import SecretStr

from app.settings import Settings


def _worker(settings: Settings, monkeypatch) -> Any:
    """workers.main as it is built under `settings` (it reads them at import); the module other tests
    use is put back afterwards."""
    import app.settings as settings_module
    import workers

    monkeypatch.setattr(settings_module, "load_settings_or_exit", lambda: settings)
    original = sys.modules.pop("workers.main", None)
    try:
        return importlib.import_module("workers.main").WorkerSettings
    finally:
        sys.modules.pop("workers.main", None)
        if original is not None:
            sys.modules["workers.main"] = original
            workers.main = original  # type: ignore[attr-defined]
        elif hasattr(workers, "main"):
            delattr(workers, "main")


def test_functions_and_crons_keep_their_names(settings: Settings, monkeypatch) -> None:
    on = settings.model_copy(update={
        "RETURNPRIME_TOKEN": SecretStr("rp-token"), "TRACKING_POLL_INTERVAL_SECONDS": 900,
        "REMITTANCE_POLL_INTERVAL_SECONDS": 3600, "RETURNPRIME_POLL_INTERVAL_SECONDS": 1800})
    worker = _worker(on, monkeypatch)
    assert sorted(f.name for f in worker.functions) == ["fulfil_order", "process_inbox_event", "settle_cod_remittance"]
    assert sorted(c.name for c in worker.cron_jobs) == [
        "cron:poll_cod_remittances", "cron:poll_returnprime", "cron:poll_tracking", "cron:sweep", "cron:zoho_labels"]
    sweep = next(c for c in worker.cron_jobs if c.name == "cron:sweep")
    assert sweep.run_at_startup and sweep.unique


def test_each_poller_is_off_by_its_own_switch(settings: Settings, monkeypatch) -> None:
    off = settings.model_copy(update={
        "RETURNPRIME_TOKEN": SecretStr(""), "TRACKING_POLL_INTERVAL_SECONDS": 0,
        "REMITTANCE_POLL_INTERVAL_SECONDS": 0, "RETURNPRIME_POLL_INTERVAL_SECONDS": 1800})
    assert [c.name for c in _worker(off, monkeypatch).cron_jobs] == ["cron:sweep", "cron:zoho_labels"]
