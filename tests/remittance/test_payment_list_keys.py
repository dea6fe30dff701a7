"""Books names the payment list `customer_payments`, Inventory `customerpayments` (each spec): the
exactly-once search reads either."""

from __future__ import annotations

from app.integrations.zoho.scopes import REQUIRED_SCOPES
from app.remittance import books


async def test_payments_found_under_either_list_key(svc, zoho_sim, monkeypatch):
    # Reading Inventory's list needs its own scope (granted before the first token is issued).
    zoho_sim.scopes = (*REQUIRED_SCOPES, "ZohoInventory.customerpayments.READ")
    so = zoho_sim.create_salesorder(status="confirmed")
    invoice = zoho_sim.invoice_salesorder(so["salesorder_id"])
    payment = {"customer_id": so["customer_id"], "payment_mode": "banktransfer", "amount": 100,
               "date": so["date"], "reference_number": "R1/AWB1",
               "invoices": [{"invoice_id": invoice["invoice_id"], "amount_applied": 100}]}
    await books.create_payment(svc.zoho, payment)
    found_books = await books.payments_by_reference_prefix(svc.zoho, "R1/")
    monkeypatch.setattr(books, "PAYMENTS_PATH", "/inventory/v1/customerpayments")
    found_inventory = await books.payments_by_reference_prefix(svc.zoho, "R1/")
    assert list(found_books) == list(found_inventory) == ["R1/AWB1"]
