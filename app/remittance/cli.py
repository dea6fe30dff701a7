"""`shipbridge poll-remittances`: read Shiprocket's remittance API now (e.g. to back-fill from
REMITTANCE_START_DATE right after set-up) instead of waiting for the worker's next poll."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    sub.add_parser("poll-remittances", help="read Shiprocket's COD remittances now and queue new batches"
                   ).set_defaults(func=_poll_remittances)


def _poll_remittances(args: argparse.Namespace) -> int:
    from app.remittance.poller import poll_remittances
    from app.services import run_once

    print(run_once(poll_remittances))
    return 0
