"""`shipbridge` command: api, worker, migrate, sweep, check-config, and the ops/tracking/remittance tools.
(The sandbox demo is `python -m sandbox`, outside the production package.)"""

from __future__ import annotations

import argparse
import os
import sys


def _api(args: argparse.Namespace) -> int:
    from app.settings import load_settings_or_exit

    load_settings_or_exit()
    import uvicorn

    uvicorn.run("app.main:app", host=args.host, port=args.port, workers=args.workers, log_level="info",
                log_config=None,  # our one JSON handler (app.logging), not uvicorn's own
                proxy_headers=True)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from arq.worker import run_worker

    from workers.main import WorkerSettings

    run_worker(WorkerSettings)  # type: ignore[arg-type]
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from app.migrate import upgrade
    from app.settings import get_settings

    url = get_settings().DATABASE_URL
    if not url:
        print("shipbridge: cannot migrate: missing required settings: DATABASE_URL", file=sys.stderr)
        return 2
    upgrade(url)
    print("database is at the latest migration")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from app.jobs import sweep
    from app.services import run_once

    print(run_once(sweep))
    return 0


def _check_config(args: argparse.Namespace) -> int:
    from app.settings import get_settings

    missing = get_settings().missing()
    if missing:
        print("missing required settings: " + ", ".join(missing))
        return 2
    print("configuration complete")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="shipbridge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api", help="serve the HTTP API (webhooks, health, ops)")
    api.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    api.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    api.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    api.set_defaults(func=_api)
    sub.add_parser("worker", help="run the arq worker (jobs and the sweeper)").set_defaults(func=_worker)
    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)").set_defaults(func=_migrate)
    sub.add_parser("sweep", help="run the sweeper once: enqueue stored work left undone").set_defaults(func=_sweep)
    sub.add_parser("check-config", help="list missing required settings").set_defaults(func=_check_config)
    from app.tracking.cli import register as register_tracking

    register_tracking(sub)
    from app.remittance.cli import register as register_remittance

    register_remittance(sub)
    from app.ops.cli import register as register_ops

    register_ops(sub)
    args = parser.parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
