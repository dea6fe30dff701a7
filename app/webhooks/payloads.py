"""Parsing inbound webhook bodies. Pure: a malformed body raises Malformed with a reason a person can
act on; the endpoint keeps such bodies raw for inspection."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs


class Malformed(ValueError):
    pass


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def decode_json_body(raw: bytes, content_type: str, empty_hint: str = "", *,
                     parse_float: Callable[[str], Any] | None = None) -> Any:
    """JSON as sent, or Zoho's form-encoded `JSONString=<json>` variant. `empty_hint` explains an empty body;
    `parse_float=Decimal` keeps JSON numbers exact (money)."""
    if not raw.strip():
        raise Malformed(f"empty body ({empty_hint})" if empty_hint else "empty body")
    if "x-www-form-urlencoded" in content_type.lower():
        try:
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise Malformed("form body is not UTF-8") from None
        values = form.get("JSONString")
        if not values:
            raise Malformed("form body has no JSONString field")
        text = values[0]
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("body is not UTF-8") from None
    try:
        return json.loads(text, parse_float=parse_float)
    except json.JSONDecodeError as exc:
        raise Malformed(f"body is not valid JSON ({exc.msg} at position {exc.pos})") from None


def zoho_salesorder(raw: bytes, content_type: str) -> dict[str, Any]:
    """The sales order inside a Zoho workflow webhook (`{"salesorder": {...}}`)."""
    data = decode_json_body(raw, content_type)
    if not isinstance(data, dict):
        raise Malformed("body is not a JSON object")
    so = data.get("salesorder")
    if so is None and "salesorder_id" in data:
        so = data  # a raw-template webhook that sends the order's fields at the top level
    if not isinstance(so, dict):
        raise Malformed("no `salesorder` object in the body")
    if not so.get("salesorder_id"):
        raise Malformed("salesorder has no salesorder_id")
    so["salesorder_id"] = str(so["salesorder_id"])  # 19-digit ids: never let them become floats
    return so


def zoho_dedupe_key(so: dict[str, Any], raw: bytes) -> str:
    """A redelivery of the same event repeats the order's last_modified_time; a new edit does not."""
    modified = so.get("last_modified_time")
    if modified:
        return f"so:{so['salesorder_id']}:{modified}:{so.get('status', '')}"
    return f"sha256:{body_digest(raw)}"


# A sales order leaving "confirmed" this way after booking means "do not ship" (app/fulfilment/cancel.py).
CANCEL_STATUSES = frozenset({"void", "draft"})
WORK_STATUSES = CANCEL_STATUSES | {"confirmed"}


def salesorder_status(so: dict[str, Any]) -> str:
    return str(so.get("order_status") or so.get("status") or "").strip().lower()
