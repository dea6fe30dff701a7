"""The Zoho Inventory / Books calls tracking makes, one function per call (I/O only, no decisions); the
sales order itself is read and labelled through ZohoClient directly.

Finders (`find_*`) exist so a side effect interrupted between Zoho's answer and our commit can be
recognised on the next run instead of repeated. Where Zoho documents no filter (sales returns and
inventory adjustments list only by page), every page is read and the rows are filtered here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from app.integrations.zoho.client import ZohoClient, zoho_record
from app.money import to_json_number

INV, BOOKS = "/inventory/v1", "/books/v3"
PAGE_SIZE = 200  # Zoho's maximum per_page
MAX_PAGES = 50   # 10,000 rows: a finder that reads more is looking in the wrong place


# --- packages and shipment orders (Zoho deducts stock when the shipment order is created) ---------------

async def create_package(zoho: ZohoClient, salesorder_id: str, lines: list[dict[str, Any]], date: str,
                         notes: str) -> dict[str, Any]:
    """lines: [{"so_line_item_id", "quantity"}]."""
    body = await zoho.call("POST", f"{INV}/packages", params={"salesorder_id": salesorder_id},
                           json_body={"date": date, "line_items": lines, "notes": notes})
    return zoho_record(body, "package")


async def create_shipment_order(zoho: ZohoClient, salesorder_id: str, package_id: str, *, awb: str,
                                courier: str, date: str, reference: str, source: str) -> dict[str, Any]:
    """`source`: the aggregator whose tracking saw the parcel leave, named in the record's notes."""
    body = await zoho.call("POST", f"{INV}/shipmentorders",
                           params={"salesorder_id": salesorder_id, "package_ids": package_id},
                           json_body={"shipment_number": awb, "date": date, "delivery_method": courier,
                                      "tracking_number": awb, "reference_number": reference,
                                      "notes": f"Recorded by Shipbridge from {source} tracking"})
    return zoho_record(body, "shipment_order", "shipmentorder", optional=True)


async def mark_shipment_delivered(zoho: ZohoClient, shipment_order_id: str) -> None:
    await zoho.call("POST", f"{INV}/shipmentorders/{shipment_order_id}/status/delivered")


# --- sales returns, receives, adjustments ---------------------------------------------------------------

async def create_sales_return(zoho: ZohoClient, salesorder_id: str, *, lines: list[dict[str, Any]], date: str,
                              reason: str, location_id: str | None) -> dict[str, Any]:
    """lines: [{"item_id", "salesorder_item_id", "quantity", "location_id"?}]."""
    payload: dict[str, Any] = {"date": date, "reason": reason, "line_items": lines}
    if location_id:
        payload["location_id"] = location_id
    body = await zoho.call("POST", f"{INV}/salesreturns", params={"salesorder_id": salesorder_id},
                           json_body=payload)
    return zoho_record(body, "salesreturn")


async def find_sales_return(zoho: ZohoClient, so: dict[str, Any], marker: str) -> dict[str, Any] | None:
    """The sales return of this order whose reason carries `marker` (our AWB), in full. Its ids come from
    the order's own `salesreturns[]` when Zoho sends it, else from every page of the list (documented with
    page/per_page only, rows without `reason`); the reason is read from each candidate's detail."""
    salesorder_id = str(so["salesorder_id"])
    if isinstance(so.get("salesreturns"), list):
        candidates = [str(r["salesreturn_id"]) for r in so["salesreturns"] if r.get("salesreturn_id")]
    else:
        candidates = [str(row["salesreturn_id"]) async for row in _every_row(zoho, "salesreturns", "salesreturns")
                      if str(row.get("salesorder_id")) == salesorder_id]
    for salesreturn_id in reversed(sorted(set(candidates), key=candidates.index)):  # newest first
        detail = await get_sales_return(zoho, salesreturn_id)
        if str(detail.get("salesorder_id")) == salesorder_id and marker in str(detail.get("reason") or ""):
            return detail
    return None


async def _every_row(zoho: ZohoClient, path: str, key: str) -> AsyncIterator[dict[str, Any]]:
    """Rows of an Inventory list, page by page while `page_context.has_more_page` (bounded)."""
    for page in range(1, MAX_PAGES + 1):
        body = await zoho.call("GET", f"{INV}/{path}", params={"page": page, "per_page": PAGE_SIZE})
        for row in body.get(key) or []:
            if isinstance(row, dict):
                yield row
        if not (body.get("page_context") or {}).get("has_more_page"):
            return


async def get_sales_return(zoho: ZohoClient, salesreturn_id: str) -> dict[str, Any]:
    body = await zoho.call("GET", f"{INV}/salesreturns/{salesreturn_id}")
    return zoho_record(body, "salesreturn")


async def receive_sales_return(zoho: ZohoClient, salesreturn_id: str, *, lines: list[dict[str, Any]],
                               date: str, notes: str) -> dict[str, Any]:
    """lines: [{"line_item_id" (of the sales return), "quantity", "location_id"?}]."""
    body = await zoho.call("POST", f"{INV}/salesreturnreceives", params={"salesreturn_id": salesreturn_id},
                           json_body={"date": date, "notes": notes, "line_items": lines})
    return zoho_record(body, "salesreturn", "salesreturnreceive", optional=True)


async def create_adjustment(zoho: ZohoClient, *, lines: list[dict[str, Any]], date: str, reason: str,
                            reference: str, location_id: str | None) -> dict[str, Any]:
    """A quantity adjustment; lines: [{"item_id", "quantity_adjusted", "location_id"}]."""
    payload: dict[str, Any] = {"date": date, "reason": reason, "adjustment_type": "quantity",
                               "reference_number": reference, "line_items": lines,
                               "description": "Restock by Shipbridge: Zoho refused a sales return"}
    if location_id:
        payload["location_id"] = location_id
    # Zoho has no duplicate guard for adjustments: never resend one whose fate is unknown; the effect's
    # reconcile (find_adjustment) decides on the next run.
    body = await zoho.call("POST", f"{INV}/inventoryadjustments", json_body=payload, retry_uncertain=False)
    return zoho_record(body, "inventory_adjustment")


async def find_adjustment(zoho: ZohoClient, reference: str) -> dict[str, Any] | None:
    """The adjustment whose reference_number is `reference`: the list documents no filter, so every page
    is read (its rows do carry reference_number)."""
    async for row in _every_row(zoho, "inventoryadjustments", "inventory_adjustments"):
        if str(row.get("reference_number")) == reference:
            return dict(row)
    return None


# --- Books: credit notes ------------------------------------------------------------------------------

async def create_credit_note(zoho: ZohoClient, *, customer_id: str, invoice_id: str, number: str, date: str,
                             reference: str, lines: list[dict[str, Any]], notes: str) -> dict[str, Any]:
    """Our own number (facts zoho §5.4): Zoho refuses a second credit note under it, so a retried request
    can never book the refund twice."""
    body = await zoho.call("POST", f"{BOOKS}/creditnotes",
                           params={"invoice_id": invoice_id, "ignore_auto_number_generation": "true"},
                           json_body={"customer_id": customer_id, "creditnote_number": number, "date": date,
                                      "reference_number": reference, "line_items": lines, "notes": notes})
    return zoho_record(body, "creditnote")


async def find_credit_note(zoho: ZohoClient, reference: str, customer_id: str) -> dict[str, Any] | None:
    body = await zoho.call("GET", f"{BOOKS}/creditnotes",
                           params={"reference_number": reference, "customer_id": customer_id})
    for row in body.get("creditnotes") or []:
        if str(row.get("reference_number")) == reference:
            return dict(row)
    return None


async def get_credit_note(zoho: ZohoClient, creditnote_id: str) -> dict[str, Any]:
    body = await zoho.call("GET", f"{BOOKS}/creditnotes/{creditnote_id}")
    return zoho_record(body, "creditnote")


async def apply_credit_note(zoho: ZohoClient, creditnote_id: str, amounts: dict[str, Decimal]) -> None:
    invoices = [{"invoice_id": invoice_id, "amount_applied": to_json_number(amount)}
                for invoice_id, amount in amounts.items()]
    # A second application could over-credit a part-paid invoice: never resend on an unknown outcome.
    await zoho.call("POST", f"{BOOKS}/creditnotes/{creditnote_id}/invoices", json_body={"invoices": invoices},
                    retry_uncertain=False)
