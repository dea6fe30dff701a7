"""Zoho Books v3 behaviour of the simulator: invoices, customer payments and credit notes.

Books and Inventory are one organisation here (the integrated set-up: same organization_id), so an
invoice raised from an Inventory sales order is the same record under /books/v3 and /inventory/v1,
and payments/credits recorded through either API show on the sales order (`invoices[]`,
`paid_status`). Money is Decimal throughout; an invoice's `balance` is always
`total - payment_made - credits_applied`, and nothing may be applied beyond it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sandbox.zoho_common import (
    E_BAD_STATUS,
    E_EXISTS,
    E_OVER_APPLIED,
    ZohoError,
    dec,
    invalid,
    money,
    not_found,
    paginate,
    parse_time,
    search,
    sort_rows,
    text_match,
    zoho_date,
)
from sandbox.zoho_fulfilment import FulfilmentMixin
from sandbox.zoho_inventory import line_specs, required

ZERO = Decimal(0)
INVOICE_FILTERS = {"all": None, "sent": {"sent"}, "draft": {"draft"}, "overdue": {"overdue"},
                   "paid": {"paid"}, "void": {"void"}, "unpaid": {"sent", "overdue", "partially_paid"},
                   "partiallypaid": {"partially_paid"}, "partially_paid": {"partially_paid"}}


class BooksMixin(FulfilmentMixin):
    """Finance operations; state lives on ZohoSim (see ZohoSim.reset)."""

    # ---------------------------------------------------------------- invoices
    def _invoice(self, invoice_id: Any, status: int = 404) -> dict[str, Any]:
        inv = self.invoices.get(str(invoice_id))
        if inv is None:
            raise not_found("Invoice", status)
        return inv

    def _invoice_salesorder(self, salesorder_id: Any, status: int = 400) -> dict[str, Any]:
        so = self._so(salesorder_id, status)
        if so["status"] == "void":
            raise ZohoError(E_BAD_STATUS, "Void sales orders cannot be invoiced.")
        pending = [(ln, ln["quantity"] - ln["quantity_invoiced"]) for ln in so["line_items"]
                   if ln["quantity"] > ln["quantity_invoiced"]]
        if not pending:
            raise ZohoError(E_BAD_STATUS, "All the items in this sales order have already been invoiced.")
        first_invoice = not any(i["salesorder_id"] == so["salesorder_id"] for i in self.invoices.values())
        lines = []
        for order, (so_line, qty) in enumerate(pending):
            lines.append({k: so_line[k] for k in ("item_id", "sku", "name", "description", "bcy_rate", "rate",
                                                  "unit", "tax_id", "tax_name", "tax_type", "tax_percentage",
                                                  "location_id", "location_name", "hsn_or_sac")}
                         | {"line_item_id": self.ids.new_id(), "item_order": order, "quantity": qty,
                            "discount": 0, "item_total": money(so_line["rate"] * qty),
                            "salesorder_item_id": so_line["line_item_id"], "item_custom_fields": []})
            so_line["quantity_invoiced"] += qty
            so_line["is_invoiced"] = so_line["quantity_invoiced"] >= so_line["quantity"]
        sub_total = sum((ln["item_total"] for ln in lines), ZERO)
        tax_total = sum((money(ln["item_total"] * ln["tax_percentage"] / 100) for ln in lines), ZERO)
        shipping = so["shipping_charge"] if first_invoice else ZERO
        today = self.clock.today()
        inv = self._stamp({
            "invoice_id": self.ids.new_id(), "invoice_number": self.ids.number("INV-", 6),
            "date": zoho_date(today), "due_date": zoho_date(today + timedelta(days=so["payment_terms"])),
            "status": "sent", "payment_terms": so["payment_terms"],
            "payment_terms_label": so["payment_terms_label"], "reference_number": so["salesorder_number"],
            "customer_id": so["customer_id"], "customer_name": so["customer_name"],
            "contact_persons_associated": so["contact_persons_associated"],
            "salesorder_id": so["salesorder_id"], "salesorder_number": so["salesorder_number"],
            "salesorders": [{"salesorder_id": so["salesorder_id"],
                             "salesorder_number": so["salesorder_number"],
                             "reference_number": so["reference_number"]}],
            "currency_id": self.currency_id, "currency_code": "INR", "currency_symbol": "₹",
            "exchange_rate": 1, "discount": 0, "is_discount_before_tax": True,
            "discount_type": "entity_level", "is_inclusive_tax": False, "line_items": lines,
            "shipping_charge": shipping, "adjustment": ZERO,
            "adjustment_description": "", "sub_total": sub_total, "tax_total": tax_total,
            "total": sub_total + tax_total + shipping,
            "taxes": [{"tax_name": ln["tax_name"], "tax_amount": money(ln["item_total"] * ln["tax_percentage"]
                                                                       / 100)}
                      for ln in lines if ln["tax_percentage"]],
            "payment_made": ZERO, "credits_applied": ZERO, "tax_amount_withheld": ZERO,
            "write_off_amount": ZERO, "allow_partial_payments": True, "price_precision": 2,
            "is_emailed": False, "reminders_sent": 0, "last_payment_date": "", "payment_expected_date": "",
            "billing_address": dict(so["billing_address"]), "shipping_address": dict(so["shipping_address"]),
            "notes": "", "terms": "", "custom_fields": [],
            "template_id": self.template_id, "template_name": "Standard Template", "invoice_url": "",
            "location_id": so["location_id"], "location_name": so["location_name"], "payments": [],
            "credits": [], "is_viewed_by_client": False, "has_attachment": False, "gst_treatment": "consumer",
            "place_of_supply": so["place_of_supply"],
        })
        inv["balance"] = inv["total"]
        self.invoices[inv["invoice_id"]] = inv
        if so["status"] == "draft":  # invoicing a draft sales order confirms it
            so["status"] = "confirmed"
        self._touch(so)
        return inv

    def _refresh_invoice(self, inv: dict[str, Any]) -> None:
        inv["balance"] = inv["total"] - inv["payment_made"] - inv["credits_applied"] - inv["write_off_amount"]
        if inv["status"] not in ("void", "draft"):
            if inv["balance"] <= 0:
                inv["status"] = "paid"
            elif inv["payment_made"] or inv["credits_applied"]:
                inv["status"] = "partially_paid"
            else:
                inv["status"] = "sent"
        self._touch(inv)

    def _so_invoice_entries(self, salesorder_id: str) -> list[dict[str, Any]]:
        return [{k: inv[k] for k in ("invoice_id", "invoice_number", "status", "date", "due_date", "total",
                                     "balance")}
                for inv in self.invoices.values() if inv["salesorder_id"] == salesorder_id]

    def _so_paid_status(self, salesorder_id: str) -> str:
        invs = [i for i in self.invoices.values()
                if i["salesorder_id"] == salesorder_id and i["status"] != "void"]
        if invs and all(i["balance"] <= 0 for i in invs):
            return "paid"
        if any(i["payment_made"] or i["credits_applied"] for i in invs):
            return "partially_paid"
        return "unpaid"

    def _list_invoices(self, query: Mapping[str, str]) -> tuple[list[dict], dict]:
        applied = query.get("filter_by", "Status.All")
        wanted = INVOICE_FILTERS.get(applied.split(".", 1)[-1].lower())
        status_filter = INVOICE_FILTERS.get(query.get("status", "all").lower(), {query.get("status", "")})
        since = parse_time(query["last_modified_time"]) if query.get("last_modified_time") else None
        rows = [inv for inv in self.invoices.values()
                if (wanted is None or inv["status"] in wanted)
                and (status_filter is None or inv["status"] in status_filter)
                and (not query.get("customer_id") or inv["customer_id"] == query["customer_id"])
                and (not query.get("date") or inv["date"] == query["date"])
                and text_match(query, "reference_number", inv["reference_number"])
                and text_match(query, "invoice_number", inv["invoice_number"])
                and (since is None or inv["_last_modified_time"] >= since)
                and search(query.get("search_text"),
                           (inv["invoice_number"], inv["reference_number"], inv["customer_name"]))]
        column, order = sort_rows(rows, query, {"date", "due_date", "created_time", "last_modified_time",
                                                "total", "balance", "invoice_number", "customer_name"})
        page, context = paginate(rows, query, report_name="Invoices", applied_filter=applied,
                                 sort_column=column, sort_order=order)
        keys = ("invoice_id", "customer_name", "customer_id", "status", "invoice_number", "reference_number",
                "date", "due_date", "currency_id", "currency_code", "total", "balance", "created_time",
                "last_modified_time", "is_emailed", "reminders_sent", "payment_expected_date",
                "last_payment_date", "custom_fields", "is_viewed_by_client", "has_attachment")
        return [{k: inv[k] for k in keys} | {"due_days": ""} for inv in page], context

    # ---------------------------------------------------------------- customer payments
    def _payment(self, payment_id: Any, status: int = 404) -> dict[str, Any]:
        payment = self.payments.get(str(payment_id))
        if payment is None:
            raise not_found("Payment", status)
        return payment

    def _create_payment(self, body: Mapping[str, Any]) -> dict[str, Any]:
        contact = self._contact(required(body, "customer_id"))
        mode = str(required(body, "payment_mode"))
        if len(mode) > 100:
            raise invalid("payment_mode")
        amount = money(required(body, "amount"), "amount")
        if amount <= 0:
            raise invalid("amount")
        bank_charges = money(body.get("bank_charges") or 0, "bank_charges")
        account = self.accounts.get(str(body.get("account_id") or self.undeposited_account_id))
        if account is None:
            raise invalid("account_id")
        reference = str(body.get("reference_number") or "")
        if len(reference) > 100:
            raise invalid("reference_number")
        entries = body.get("invoices")
        if not isinstance(entries, list):
            raise invalid("invoices")
        applications: list[tuple[dict[str, Any], Decimal]] = []
        per_invoice: dict[str, Decimal] = {}
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise invalid("invoices")
            inv = self._invoice(required(entry, "invoice_id"), status=400)
            applied = money(required(entry, "amount_applied"), "amount_applied")
            if applied <= 0:
                raise invalid("amount_applied")
            if inv["customer_id"] != contact["contact_id"]:
                raise invalid("invoice_id")
            if inv["status"] in ("void", "draft"):
                raise ZohoError(E_BAD_STATUS, "Payments cannot be recorded for invoice "
                                              f"{inv['invoice_number']} in '{inv['status']}' status.")
            per_invoice[inv["invoice_id"]] = per_invoice.get(inv["invoice_id"], ZERO) + applied
            if per_invoice[inv["invoice_id"]] > inv["balance"]:
                raise ZohoError(E_OVER_APPLIED, f"The amount applied to invoice {inv['invoice_number']} "
                                                f"({per_invoice[inv['invoice_id']]}) is more than its "
                                                f"balance due ({inv['balance']}).")
            applications.append((inv, applied))
        total_applied = sum((a for _, a in applications), ZERO)
        if total_applied > amount:
            raise ZohoError(E_OVER_APPLIED, "The amount applied to invoices cannot be more than the payment "
                                            f"amount ({amount}).")
        date = str(body.get("date") or zoho_date(self.clock.today()))
        payment_id = self.ids.new_id()
        applied_rows = []
        for inv, applied in applications:
            inv["payment_made"] += applied
            inv["last_payment_date"] = date
            invoice_payment_id = self.ids.new_id()
            inv["payments"].append({"payment_id": payment_id, "invoice_payment_id": invoice_payment_id,
                                    "payment_mode": mode, "date": date, "reference_number": reference,
                                    "amount": applied, "bank_charges": bank_charges,
                                    "description": body.get("description", ""), "exchange_rate": 1})
            self._refresh_invoice(inv)
            applied_rows.append({"invoice_payment_id": invoice_payment_id, "invoice_id": inv["invoice_id"],
                                 "invoice_number": inv["invoice_number"], "date": inv["date"],
                                 "invoice_amount": inv["total"], "amount_applied": applied,
                                 "balance_amount": inv["balance"]})
            if inv["salesorder_id"] in self.salesorders:
                self._touch(self.salesorders[inv["salesorder_id"]])
        payment = self._stamp({
            "payment_id": payment_id, "payment_number": self.ids.number("", 1), "date": date,
            "payment_mode": mode, "amount": amount, "bcy_amount": amount, "amount_refunded": ZERO,
            "unused_amount": amount - total_applied, "bank_charges": bank_charges, "status": "success",
            "reference_number": reference, "description": body.get("description", ""),
            "customer_id": contact["contact_id"], "customer_name": contact["contact_name"],
            "email": contact["email"], "account_id": account["account_id"],
            "account_name": account["account_name"], "account_type": account["account_type"],
            "invoices": applied_rows, "currency_id": self.currency_id, "currency_code": "INR",
            "currency_symbol": "₹", "exchange_rate": 1, "tax_amount_withheld": ZERO,
            "location_id": body.get("location_id", self.primary_location_id),
            "custom_fields": body.get("custom_fields", []),
        })
        payment["updated_time"] = payment["last_modified_time"]
        self.payments[payment_id] = payment
        return payment

    def _list_payments(self, query: Mapping[str, str]) -> tuple[list[dict], dict]:
        applied = query.get("filter_by", "PaymentMode.All")
        mode_filter = applied.split(".", 1)[-1].lower()
        rows = [p for p in self.payments.values()
                if text_match(query, "reference_number", p["reference_number"])
                and text_match(query, "customer_name", p["customer_name"])
                and text_match(query, "payment_mode", p["payment_mode"])
                and (mode_filter == "all" or p["payment_mode"].lower().replace(" ", "") == mode_filter)
                and (not query.get("customer_id") or p["customer_id"] == query["customer_id"])
                and (not query.get("date") or p["date"] == query["date"])
                and (not query.get("amount") or p["amount"] == dec(query["amount"]))
                and search(query.get("search_text"), (p["reference_number"], p["customer_name"],
                                                      p["description"]))]
        column, order = sort_rows(rows, query, {"date", "created_time", "last_modified_time", "amount",
                                                "customer_name", "reference_number"})
        page, context = paginate(rows, query, report_name="Customer Payments", applied_filter=applied,
                                 sort_column=column, sort_order=order)
        keys = ("payment_id", "payment_number", "date", "payment_mode", "amount", "bcy_amount",
                "unused_amount", "bank_charges", "account_id", "account_name", "description",
                "reference_number", "customer_id", "customer_name", "location_id", "created_time",
                "last_modified_time")
        return [{k: p[k] for k in keys} | {"invoice_numbers": ",".join(i["invoice_number"]
                                                                      for i in p["invoices"])}
                for p in page], context

    # ---------------------------------------------------------------- credit notes
    def _creditnote(self, creditnote_id: Any, status: int = 404) -> dict[str, Any]:
        cn = self.creditnotes.get(str(creditnote_id))
        if cn is None:
            raise not_found("Credit Note", status)
        return cn

    def _create_creditnote(self, body: Mapping[str, Any], query: Mapping[str, str]) -> dict:
        contact = self._contact(required(body, "customer_id"))
        invoice_id = query.get("invoice_id") or body.get("invoice_id")
        inv = self._invoice(invoice_id, status=400) if invoice_id else None
        if inv is not None and inv["customer_id"] != contact["contact_id"]:
            raise invalid("invoice_id")
        ignore_auto = str(query.get("ignore_auto_number_generation",
                                    body.get("ignore_auto_number_generation", ""))).lower() == "true"
        number = body.get("creditnote_number") or None
        if ignore_auto and not number:
            raise invalid("creditnote_number")
        number = number or self.ids.number("CN-")
        if any(c["creditnote_number"] == number for c in self.creditnotes.values()):
            raise ZohoError(E_EXISTS, f"Credit Note \"{number}\" already exists.")
        specs = line_specs(body)
        lines = []
        for order, spec in enumerate(specs):
            item = self._item(spec["item_id"], status=400) if spec.get("item_id") else None
            if item is None and not (spec.get("name") or spec.get("description")):
                raise invalid("name")
            rate = money(spec["rate"], "rate") if spec.get("rate") not in (None, "") else (
                item["rate"] if item else money(required(spec, "rate"), "rate"))
            qty = dec(spec.get("quantity", 1), "quantity")
            pct = dec(spec.get("tax_percentage", 0), "tax_percentage")
            lines.append({"line_item_id": self.ids.new_id(), "item_id": item["item_id"] if item else "",
                          "sku": item["sku"] if item else "",
                          "name": spec.get("name") or (item or {}).get("name", ""),
                          "description": spec.get("description", ""), "item_order": order, "rate": rate,
                          "bcy_rate": rate, "quantity": qty, "unit": item["unit"] if item else "",
                          "tax_percentage": pct, "tax_name": f"GST{pct.normalize()}" if pct else "",
                          "item_total": money(rate * qty), "account_name": "Sales",
                          "account_id": spec.get("account_id", self.sales_account_id),
                          "invoice_id": spec.get("invoice_id", ""),
                          "invoice_item_id": spec.get("invoice_item_id", "")})
        sub_total = sum((ln["item_total"] for ln in lines), ZERO)
        tax_total = sum((money(ln["item_total"] * ln["tax_percentage"] / 100) for ln in lines), ZERO)
        if sub_total + tax_total <= 0:
            raise invalid("total")
        cn = self._stamp({
            "creditnote_id": self.ids.new_id(), "creditnote_number": number,
            "date": body.get("date") or zoho_date(self.clock.today()),
            "status": "draft" if body.get("is_draft") else "open", "customer_id": contact["contact_id"],
            "customer_name": contact["contact_name"], "email": contact["email"],
            "reference_number": body.get("reference_number", ""),
            "invoice_id": inv["invoice_id"] if inv else "",
            "invoice_number": inv["invoice_number"] if inv else "",
            "line_items": lines, "sub_total": sub_total,
            "tax_total": tax_total, "total": sub_total + tax_total, "balance": sub_total + tax_total,
            "taxes": [], "invoices": [], "invoices_credited": [], "currency_id": self.currency_id,
            "currency_code": "INR", "currency_symbol": "₹", "exchange_rate": 1,
            "billing_address": dict(contact["billing_address"]),
            "shipping_address": dict(contact["shipping_address"]), "notes": body.get("notes", ""),
            "terms": body.get("terms", ""), "custom_fields": body.get("custom_fields", []),
            "template_id": self.template_id, "template_name": "Standard Template",
            "location_id": body.get("location_id", self.primary_location_id),
        })
        cn["updated_time"] = cn["last_modified_time"]
        self.creditnotes[cn["creditnote_id"]] = cn
        return cn

    def _apply_credits(self, creditnote_id: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        cn = self._creditnote(creditnote_id)
        if cn["status"] != "open":
            raise ZohoError(E_BAD_STATUS, f"Credits cannot be applied from a credit note in '{cn['status']}' "
                                          "status.")
        entries = body.get("invoices")
        if entries is None and body.get("invoice_id"):
            entries = [{"invoice_id": body["invoice_id"], "amount_applied": body.get("amount_applied")}]
        if not isinstance(entries, list) or not entries:
            raise invalid("invoices")
        plan: list[tuple[dict[str, Any], Decimal]] = []
        per_invoice: dict[str, Decimal] = {}
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise invalid("invoices")
            inv = self._invoice(required(entry, "invoice_id"), status=400)
            amount = money(required(entry, "amount_applied"), "amount_applied")
            if amount <= 0:
                raise invalid("amount_applied")
            if inv["customer_id"] != cn["customer_id"]:
                raise invalid("invoice_id")
            per_invoice[inv["invoice_id"]] = per_invoice.get(inv["invoice_id"], ZERO) + amount
            if per_invoice[inv["invoice_id"]] > inv["balance"]:
                raise ZohoError(E_OVER_APPLIED, f"The amount applied to invoice {inv['invoice_number']} is "
                                                f"more than its balance due ({inv['balance']}).")
            plan.append((inv, amount))
        if sum((a for _, a in plan), ZERO) > cn["balance"]:
            raise ZohoError(E_OVER_APPLIED, "The amount to be credited is more than the available credits "
                                            f"({cn['balance']}).")
        today = zoho_date(self.clock.today())
        applied = []
        for inv, amount in plan:
            link_id = self.ids.new_id()
            inv["credits_applied"] += amount
            inv["credits"].append({"creditnote_id": cn["creditnote_id"],
                                   "creditnotes_number": cn["creditnote_number"],
                                   "creditnote_invoice_id": link_id, "credited_date": today,
                                   "amount": amount})
            self._refresh_invoice(inv)
            cn["balance"] -= amount
            cn["invoices"].append({"invoice_id": inv["invoice_id"], "invoice_number": inv["invoice_number"],
                                   "amount": amount})
            cn["invoices_credited"].append({"creditnote_id": cn["creditnote_id"],
                                            "invoice_id": inv["invoice_id"], "creditnote_invoice_id": link_id,
                                            "date": today, "invoice_number": inv["invoice_number"],
                                            "creditnote_number": cn["creditnote_number"],
                                            "credited_amount": amount})
            applied.append({"invoice_id": inv["invoice_id"], "amount_applied": amount})
            if inv["salesorder_id"] in self.salesorders:
                self._touch(self.salesorders[inv["salesorder_id"]])
        if cn["balance"] <= 0:
            cn["status"] = "closed"
        self._touch(cn)
        cn["updated_time"] = cn["last_modified_time"]
        return applied
