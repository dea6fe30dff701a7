"""Zoho Books I/O for remittance beyond ZohoClient's own methods: find the payments already recorded
for a remittance, and record a payment. (Reading the sales order and writing cf_cod_remittance_id are
ZohoClient.get_salesorder / update_salesorder_custom_fields.)"""

from __future__ import annotations

from typing import Any

from app.integrations.zoho.client import ZohoClient, zoho_record

PAYMENTS_PATH = "/books/v3/customerpayments"
PAGE_SIZE = 200  # Zoho's maximum per_page
MAX_PAGES = 50


async def payments_by_reference_prefix(zoho: ZohoClient, prefix: str) -> dict[str, dict[str, Any]]:
    """Every customer payment whose reference_number starts with `prefix`, by reference_number.
    One search per chunk of lines (not per line) keeps the exactly-once check cheap on Zoho's quota."""
    found: dict[str, dict[str, Any]] = {}
    for page in range(1, MAX_PAGES + 1):
        body = await zoho.call("GET", PAYMENTS_PATH, params={"reference_number_startswith": prefix,
                                                             "per_page": PAGE_SIZE, "page": page})
        # Books' spec names the list `customer_payments`; Inventory's (same org, same data) `customerpayments`.
        for payment in body.get("customer_payments") or body.get("customerpayments") or []:
            reference = str(payment.get("reference_number") or "")
            if reference.startswith(prefix):  # Zoho's filter is case-insensitive; ours is exact
                found.setdefault(reference, payment)
        if not (body.get("page_context") or {}).get("has_more_page"):
            break
    return found


async def create_payment(zoho: ZohoClient, payload: dict[str, Any]) -> dict[str, Any]:
    # Never re-sent by the HTTP layer after a timeout or 5xx: Books may have recorded it, and a partial
    # payment is not refused as a duplicate. The error reaches the job, whose retry finds the line
    # stamped `posting_at` and searches Books by reference number before posting again.
    body = await zoho.call("POST", PAYMENTS_PATH, json_body=payload, retry_uncertain=False)
    return zoho_record(body, "payment", optional=True)
