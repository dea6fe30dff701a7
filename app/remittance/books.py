"""Zoho Books I/O for remittance: read the sales order (its invoices and customer), find the payments
already recorded for a remittance, record a payment, write cf_cod_remittance_id. Nothing else."""

from __future__ import annotations

from typing import Any

from app.integrations.zoho.client import ZohoClient

PAYMENTS_PATH = "/books/v3/customerpayments"
PAGE_SIZE = 200  # Zoho's maximum per_page
MAX_PAGES = 50


async def salesorder(zoho: ZohoClient, salesorder_id: str) -> dict[str, Any]:
    return await zoho.get_salesorder(salesorder_id)


async def payments_by_reference_prefix(zoho: ZohoClient, prefix: str) -> dict[str, dict[str, Any]]:
    """Every customer payment whose reference_number starts with `prefix`, by reference_number.
    One search per batch (not per line) keeps the exactly-once check cheap on Zoho's daily quota."""
    found: dict[str, dict[str, Any]] = {}
    for page in range(1, MAX_PAGES + 1):
        body = await zoho.call("GET", PAYMENTS_PATH, params={"reference_number_startswith": prefix,
                                                             "per_page": PAGE_SIZE, "page": page})
        for payment in body.get("customerpayments") or []:
            reference = str(payment.get("reference_number") or "")
            if reference.startswith(prefix):  # Zoho's filter is case-insensitive; ours is exact
                found.setdefault(reference, payment)
        if not (body.get("page_context") or {}).get("has_more_page"):
            break
    return found


async def payment_by_reference(zoho: ZohoClient, reference: str) -> dict[str, Any] | None:
    body = await zoho.call("GET", PAYMENTS_PATH, params={"reference_number": reference})
    for payment in body.get("customerpayments") or []:
        if str(payment.get("reference_number") or "") == reference:
            return dict(payment)
    return None


async def create_payment(zoho: ZohoClient, payload: dict[str, Any]) -> dict[str, Any]:
    # Not retried on a timeout or 5xx: Books may have recorded it, and a partial payment is not refused
    # as a duplicate. The job's retry searches by reference number before posting again.
    body = await zoho.call("POST", PAYMENTS_PATH, json_body=payload, retry_uncertain=False)
    return dict(body.get("payment") or {})


async def write_remittance_id(zoho: ZohoClient, salesorder_id: str, api_name: str, remittance_id: str) -> None:
    await zoho.update_salesorder_custom_fields(salesorder_id, {api_name: remittance_id})
