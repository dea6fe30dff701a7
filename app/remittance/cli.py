"""`shipbridge poll-remittances [--since YYYY-MM-DD]`: read every aggregator's remittance API now instead of
waiting for the worker's next poll. Each poll starts a week before the last one, so a start date
configured (or moved earlier) after the first poll is not read again by itself: `--since` reads from
that day whatever earlier polls read (a back-fill); batches already stored are skipped."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("poll-remittances", help="read each aggregator's COD remittances now, queue new batches")
    parser.add_argument("--since", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="read batches from this remittance date (a back-fill), not from the last poll")
    parser.set_defaults(func=_poll_remittances)


def _poll_remittances(args: argparse.Namespace) -> int:
    from app.remittance.poller import poll_remittances
    from app.services import Services, run_once

    async def poll(svc: Services) -> Any:
        return await poll_remittances(svc, since=args.since)

    print(run_once(poll))
    return 0
