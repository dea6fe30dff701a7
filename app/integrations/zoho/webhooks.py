"""Zoho's sales-order webhook: the order inside the body, its id, its redelivery key and its status.
Pure: a malformed body raises Malformed with a reason a person can act on; the endpoint keeps such
bodies raw for inspection. Zoho's own format and vocabulary, so it lives with the Zoho client; the
generic half of a delivery (Delivery) is app.web.inbound."""

from __future__ import annotations

from typing import Any

from app.parsing import Malformed, body_digest, decode_json_body

MAX_SALESORDER_ID_CHARS = 40  # shipments.salesorder_id; Zoho's ids are 19 digits


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
    so["salesorder_id"] = salesorder_id(so.get("salesorder_id"))
    return so


def salesorder_id(value: Any) -> str:
    """Zoho ids are 19-digit strings (or integers from a raw template): never a float, which loses digits,
    nor an object, a list or a boolean."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        if value is None:
            raise Malformed("salesorder has no salesorder_id")
        raise Malformed(f"salesorder_id is a {type(value).__name__}, not an id")
    text = str(value).strip()
    if not text:
        raise Malformed("salesorder has no salesorder_id")
    if len(text) > MAX_SALESORDER_ID_CHARS:
        raise Malformed(f"salesorder_id is longer than {MAX_SALESORDER_ID_CHARS} characters")
    if not (text.isascii() and text.isdigit()):
        # It goes into Zoho's URL path later (GET /salesorders/{id}): kept as data, never sent.
        raise Malformed(f"salesorder_id {text[:40]!r} is not a Zoho id (digits only)")
    return text


def zoho_dedupe_key(so: dict[str, Any], raw: bytes) -> str:
    """A redelivery of the same event repeats the order's last_modified_time; a new edit does not."""
    modified = so.get("last_modified_time")
    if modified:
        key = f"so:{so['salesorder_id']}:{modified}:{so.get('status', '')}"
        if len(key) <= 200:  # the column's width: a longer key would be cut and could collide
            return key
    return f"sha256:{body_digest(raw)}"


# A sales order leaving "confirmed" this way after booking means "do not ship" (app/fulfilment/cancel.py).
CANCEL_STATUSES = frozenset({"void", "draft"})
WORK_STATUSES = CANCEL_STATUSES | {"confirmed"}


def salesorder_status(so: dict[str, Any]) -> str:
    return str(so.get("order_status") or so.get("status") or "").strip().lower()
