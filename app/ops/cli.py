"""`shipbridge doctor` and the repair actions from a shell (the same as the dashboard's buttons, recorded
with the shell user as the actor)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check a deployment before go-live: settings, storage, Shiprocket, Zoho")
    doctor.add_argument("--public-url", default=None,
                        help="the API's public HTTPS address, for the webhook URLs (default: PUBLIC_BASE_URL)")
    doctor.set_defaults(func=_doctor)
    for name, help_text in (("retry", "retry a failed or stuck order"),
                            ("resync", "re-read the aggregator's tracking and rewrite the Zoho fields of an order"),
                            ("ndr-reattempt", "ask the courier to re-attempt delivery of an undelivered order"),
                            ("ndr-return", "ask the courier to return an undelivered order to origin"),
                            ("release-cod", "ship an order held for RTO risk as COD"),
                            ("ship-prepaid", "ship an order held for RTO risk as prepaid (the customer paid online)"),
                            ("cancel", "cancel an order (before pickup); --comments gives the reason")):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("salesorder_id")
        cmd.add_argument("--comments", default="", help="sent with NDR actions, kept on the record")
        cmd.set_defaults(func=_action, action=name.replace("-", "_"))
    replay = sub.add_parser("replay-event", help="replay a failed or invalid inbox event after fixing its cause")
    replay.add_argument("event_id", type=int)
    replay.set_defaults(func=_action, action="replay")
    resolve = sub.add_parser("resolve-alert", help="mark an alert resolved")
    resolve.add_argument("alert_id", type=int)
    resolve.set_defaults(func=_action, action="resolve_alert")


def _doctor(args: argparse.Namespace) -> int:
    from app.ops.doctor import run_doctor
    from app.settings import get_settings

    settings = get_settings()
    checks = asyncio.run(run_doctor(settings, args.public_url if args.public_url is not None
                                    else settings.PUBLIC_BASE_URL))
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _action(args: argparse.Namespace) -> int:
    from app.ops.actions import run_action
    from app.services import run_once

    actor = f"cli:{getpass.getuser()}"
    result = run_once(lambda svc: run_action(
        svc, args.action, actor=actor, salesorder_id=getattr(args, "salesorder_id", None),
        event_id=getattr(args, "event_id", None), alert_id=getattr(args, "alert_id", None),
        comments=getattr(args, "comments", "")))
    print(json.dumps(result.view()))
    if result.outcome in ("done", "noop"):
        return 0
    print(f"shipbridge: {result.detail}", file=sys.stderr)
    return 1
