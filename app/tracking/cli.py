"""`shipbridge create-return` and `shipbridge poll-tracking`: the ops actions of tracking from a shell."""

from __future__ import annotations

import argparse
import asyncio
import json
from decimal import Decimal, InvalidOperation
from typing import Any


def _line(text: str) -> tuple[str, Decimal]:
    line_id, _, qty = text.partition("=")
    try:
        quantity = Decimal(qty or "1")
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LINE_ITEM_ID=QUANTITY") from None
    if not line_id or quantity <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LINE_ITEM_ID=QUANTITY")
    return line_id, quantity


def register(sub: Any) -> None:
    ret = sub.add_parser("create-return", help="book a customer return of a delivered sales order with its aggregator")
    ret.add_argument("salesorder_id", nargs="?", help="Zoho salesorder_id of the delivered order")
    ret.add_argument("--line", action="append", type=_line, metavar="LINE_ITEM_ID=QTY",
                     help="a sales-order line and quantity to take back (repeatable; default: everything)")
    ret.add_argument("--reason", default="", help="why the customer returns it (kept on the return)")
    ret.add_argument("--retry", type=int, metavar="RETURN_ID", help="resume a return whose booking or AWB failed")
    ret.set_defaults(func=_create_return)
    sub.add_parser("poll-tracking", help="re-read tracking of parcels with no recent update (missed webhooks)"
                   ).set_defaults(func=_poll_tracking)


def _create_return(args: argparse.Namespace) -> int:
    from app.services import build_services
    from app.settings import load_settings_or_exit
    from app.tracking.endpoints import return_view
    from app.tracking.returns import ReturnLine, ReturnRefused, advance_return, request_return

    async def run() -> int:
        svc = build_services(load_settings_or_exit())
        try:
            if args.retry:
                ret = await advance_return(svc, args.retry)
            elif not args.salesorder_id:
                print("give a salesorder_id, or --retry RETURN_ID")
                return 2
            else:
                lines = [ReturnLine(line_id, qty) for line_id, qty in args.line] if args.line else None
                ret = await request_return(svc, args.salesorder_id, lines, args.reason)
        except ReturnRefused as exc:
            print(f"refused: {exc}")
            return 1
        finally:
            await svc.close()
        print(json.dumps(return_view(ret).model_dump(mode="json"), indent=2, default=str))
        return 0 if ret.state == "awb_assigned" else 1

    return asyncio.run(run())


def _poll_tracking(args: argparse.Namespace) -> int:
    from app.services import run_once
    from app.tracking.poller import poll_tracking

    print(run_once(poll_tracking))
    return 0
