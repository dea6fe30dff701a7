"""Zoho Inventory v1 behaviour of the simulator, part 2: sales orders.

Sales orders are stored with Decimal money and rendered on demand (`_so_view`), so derived fields —
`packages[]`, `invoices[]`, `salesreturns[]`, shipped/invoiced/paid status — can never drift from the
documents they summarise. Totals follow Zoho's arithmetic (line and entity discounts, tax exclusive or
inclusive); a PUT needs the OAS-required fields and its line_items replace the lines.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sandbox.zoho_common import (
    E_BAD_STATUS,
    E_EXISTS,
    E_INVALID_VALUE,
    E_QUANTITY,
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
from sandbox.zoho_inventory import ZERO, InventoryMixin, line_specs, positive, required, terms_days


class SalesOrderMixin(InventoryMixin):
    """Sales-order operations; state lives on ZohoSim (see ZohoSim.reset)."""

    def _so(self, salesorder_id: Any, status: int = 404) -> dict[str, Any]:
        so = self.salesorders.get(str(salesorder_id))
        if so is None:
            raise not_found("Sales Order", status)
        return so

    def _make_line(self, spec: Mapping[str, Any], order: int, location_id: str,
                   existing: dict[str, Any] | None = None) -> dict[str, Any]:
        if existing is None:
            item = self._item(required(spec, "item_id"), status=400)
        else:
            item = self.items[existing["item_id"]]
        loc = self._location(spec.get("location_id") or (existing or {}).get("location_id") or location_id)
        rate = money(spec["rate"], "rate") if spec.get("rate") not in (None, "") else (
            existing["rate"] if existing else item["rate"])
        quantity = positive(spec["quantity"]) if "quantity" in spec else (
            existing["quantity"] if existing else positive(None))
        pct = dec(spec.get("tax_percentage", (existing or {}).get("tax_percentage", 0)), "tax_percentage")
        line = existing if existing is not None else {
            "line_item_id": self.ids.new_id(), "item_id": item["item_id"], "sku": item["sku"],
            "name": item["name"], "quantity_invoiced": ZERO, "quantity_packed": ZERO,
            "quantity_shipped": ZERO, "unit": item["unit"], "hsn_or_sac": item["hsn_or_sac"],
            "item_custom_fields": [], "is_combo_product": False, "is_invoiced": False, "discount": 0,
            "tax_id": "", "tax_type": "tax", "image_name": "", "image_type": ""}
        if quantity < line["quantity_packed"] or quantity < line["quantity_shipped"]:
            raise ZohoError(E_QUANTITY, f"The quantity of '{line['name']}' cannot be less than the "
                                        "quantity already packed or shipped.")
        discount = spec.get("discount", (existing or {}).get("discount", 0)) or 0
        line.update(item_order=order, rate=rate, bcy_rate=rate, quantity=quantity, discount=discount,
                    discount_amount=_discount_amount(discount, money(rate * quantity), "discount"),
                    description=spec.get("description", line.get("description", item["description"])),
                    tax_percentage=pct, tax_name=f"GST{pct.normalize()}" if pct else "",
                    item_total=money(rate * quantity) - _discount_amount(discount, money(rate * quantity), "discount"),
                    location_id=loc["location_id"],
                    location_name=loc["location_name"], warehouse_id=loc["location_id"],
                    warehouse_name=loc["location_name"])
        return line

    def _recompute_totals(self, so: dict[str, Any]) -> None:
        """Zoho's arithmetic: an entity-level discount comes off before tax (is_discount_before_tax), each
        line's tax is on its share of the discounted amount; with is_inclusive_tax the rates already hold
        the tax, which is then only extracted for the tax lines."""
        sub_total = sum((line["item_total"] for line in so["line_items"]), ZERO)
        discount = _discount_amount(so.get("discount") or 0, sub_total, "discount")
        share = (sub_total - discount) / sub_total if sub_total else ZERO
        inclusive = bool(so.get("is_inclusive_tax"))
        tax_total = ZERO
        taxes: dict[str, Decimal] = {}
        for line in so["line_items"]:
            if line["tax_percentage"]:
                taxable = line["item_total"] * share
                pct = line["tax_percentage"]
                tax = money(taxable - taxable * 100 / (100 + pct) if inclusive else taxable * pct / 100)
                tax_total += tax
                taxes[line["tax_name"]] = taxes.get(line["tax_name"], ZERO) + tax
        so["sub_total"], so["tax_total"], so["discount_amount"] = sub_total, tax_total, discount
        so["taxes"] = [{"tax_name": name, "tax_amount": amount} for name, amount in taxes.items()]
        so["total"] = so["bcy_total"] = (sub_total - discount + (ZERO if inclusive else tax_total)
                                         + so["shipping_charge"] + so["adjustment"])

    def _new_salesorder(self, contact: dict[str, Any], lines: Sequence[Mapping[str, Any]], *,
                        number: str | None = None, status: str = "draft", reference_number: str = "",
                        date: str | None = None, location_id: str | None = None,
                        shipping_address: Mapping[str, Any] | None = None,
                        billing_address: Mapping[str, Any] | None = None,
                        payment_terms_label: str | None = None, shipping_charge: Any = 0,
                        custom_fields: list[Mapping[str, Any]] | None = None,
                        extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if not lines:
            raise invalid("line_items")
        if number and any(s["salesorder_number"] == number for s in self.salesorders.values()):
            raise ZohoError(E_EXISTS, f"Sales Order \"{number}\" already exists.")
        loc = self._location(location_id)
        built = [self._make_line(spec, i, loc["location_id"]) for i, spec in enumerate(lines)]
        for entry in custom_fields or []:  # validate before an SO number is used up
            self._resolve_custom_field(entry)
        person = contact["contact_persons"][0]
        terms_label = payment_terms_label or contact["payment_terms_label"]
        so: dict[str, Any] = {
            "salesorder_id": self.ids.new_id(), "salesorder_number": number or self.ids.number("SO-"),
            "date": date or zoho_date(self.clock.today()), "shipment_date": "",
            "reference_number": reference_number, "status": status, "customer_id": contact["contact_id"],
            "customer_name": contact["contact_name"], "contact_persons": [person["contact_person_id"]],
            "contact_persons_associated": [{
                "contact_person_id": person["contact_person_id"],
                "contact_person_name": contact["contact_name"], "first_name": person["first_name"],
                "last_name": person["last_name"], "contact_person_email": person["email"],
                "phone": person["phone"], "mobile": person["mobile"],
                "communication_preference": {"is_email_enabled": True, "is_whatsapp_enabled": False}}],
            "currency_id": self.currency_id, "currency_code": "INR", "currency_symbol": "₹",
            "exchange_rate": 1, "discount_amount": 0, "discount": 0, "discount_type": "entity_level",
            "is_discount_before_tax": True, "estimate_id": "", "delivery_method": "",
            "delivery_method_id": "", "is_inclusive_tax": False, "sales_channel": "direct_sales",
            "is_dropshipped": False, "is_backordered": False, "is_backorder_allowed": False,
            "location_id": loc["location_id"], "location_name": loc["location_name"],
            "shipping_charge": money(shipping_charge or 0, "shipping_charge"), "adjustment": ZERO,
            "adjustment_description": "", "price_precision": 2, "pricebook_id": "",
            "payment_terms": terms_days(terms_label), "payment_terms_label": terms_label,
            "billing_address": {**contact["billing_address"], **(billing_address or shipping_address or {})},
            "shipping_address": {**contact["shipping_address"], **(shipping_address or {})},
            "notes": "", "terms": "", "template_id": self.template_id, "template_name": "Standard Template",
            "template_type": "standard", "salesperson_id": "", "salesperson_name": "",
            "gst_no": "", "gst_treatment": "consumer", "is_pre_gst": False, "documents": [],
            "place_of_supply": contact["shipping_address"].get("state_code", ""), "is_emailed": False,
            "has_unconfirmed_line_item": False, "purchaseorders": [], "_cf": {},
        }
        so["line_items"] = built
        for key, value in (extra or {}).items():
            so[key] = value
        self._stamp(so)
        self._recompute_totals(so)
        so["_cf"] = {}
        self._render_custom_fields(so)
        if custom_fields:
            self._apply_custom_fields(so, list(custom_fields))
        self.salesorders[so["salesorder_id"]] = so
        return so

    def _so_view(self, so: dict[str, Any]) -> dict[str, Any]:
        view = dict(so)
        packages = [p for p in self.packages.values() if p["salesorder_id"] == so["salesorder_id"]]
        view["packages"] = [self._so_package_entry(p) for p in packages]
        view["invoices"] = self._so_invoice_entries(so["salesorder_id"])
        if self.so_lists_salesreturns:
            # Not in the Inventory OAS; real sales orders are seen carrying their returns (UNCERTAIN).
            view["salesreturns"] = [
                {k: sr[k] for k in ("salesreturn_id", "salesreturn_number", "date", "salesreturn_status",
                                    "receive_status")}
                for sr in self.salesreturns.values() if sr["salesorder_id"] == so["salesorder_id"]]
        ordered = sum((ln["quantity"] for ln in so["line_items"]), ZERO)
        shipped = sum((ln["quantity_shipped"] for ln in so["line_items"]), ZERO)
        invoiced = sum((ln["quantity_invoiced"] for ln in so["line_items"]), ZERO)
        if shipped == 0:
            shipped_status = "pending"
        elif shipped < ordered:
            shipped_status = "partially_shipped"
        elif all(p["status"] == "delivered" for p in packages if p["shipment_id"]):
            shipped_status = "fulfilled"
        else:
            shipped_status = "shipped"
        status = so["status"]
        if status == "confirmed" and shipped_status == "fulfilled":
            status = "fulfilled"
        view.update(status=status, order_status=status, current_sub_status=status,
                    shipped_status=shipped_status,
                    invoiced_status=("not_invoiced" if invoiced == 0 else
                                     "partially_invoiced" if invoiced < ordered else "invoiced"),
                    paid_status=self._so_paid_status(so["salesorder_id"]))
        return view

    def _so_list_row(self, so: dict[str, Any]) -> dict[str, Any]:
        view = self._so_view(so)
        keys = ("salesorder_id", "customer_name", "customer_id", "status", "order_status",
                "invoiced_status", "paid_status", "shipped_status", "current_sub_status",
                "salesorder_number", "reference_number", "date", "shipment_date", "currency_id",
                "currency_code", "total", "bcy_total", "created_time", "last_modified_time", "is_emailed",
                "sales_channel", "location_id", "location_name", "delivery_method", "custom_fields",
                "payment_terms_label")
        row = {k: view[k] for k in keys}
        row.update(quantity=sum((ln["quantity"] for ln in so["line_items"]), ZERO),
                   quantity_invoiced=sum((ln["quantity_invoiced"] for ln in so["line_items"]), ZERO),
                   quantity_packed=sum((ln["quantity_packed"] for ln in so["line_items"]), ZERO),
                   quantity_shipped=sum((ln["quantity_shipped"] for ln in so["line_items"]), ZERO),
                   is_drop_shipment=False, is_backorder=False, shipment_days="")
        row.update(so["custom_field_hash"])  # list rows carry cf_* keys at top level
        return row

    def _list_salesorders(self, query: Mapping[str, str]) -> tuple[list[dict], dict]:
        applied = query.get("filter_by", "Status.All")
        wanted = applied.split(".", 1)[-1].lower()
        since = parse_time(query["last_modified_time"]) if query.get("last_modified_time") else None
        rows = []
        for so in self.salesorders.values():
            view = self._so_view(so)
            if wanted != "all" and wanted not in (view["status"], so["status"], view["shipped_status"]):
                continue
            if query.get("customer_id") and so["customer_id"] != query["customer_id"]:
                continue
            if not (text_match(query, "salesorder_number", so["salesorder_number"])
                    and text_match(query, "reference_number", so["reference_number"])):
                continue
            if since and so["_last_modified_time"] < since:
                continue
            if not search(query.get("search_text"),
                          (so["salesorder_number"], so["reference_number"], so["customer_name"])):
                continue
            rows.append(so)
        column, order = sort_rows(rows, query, {"date", "created_time", "last_modified_time", "total",
                                                "salesorder_number", "customer_name"})
        page, context = paginate(rows, query, report_name="Sales Orders", applied_filter=applied,
                                 sort_column=column, sort_order=order)
        return [self._so_list_row(so) for so in page], context

    def _create_salesorder_api(self, body: Mapping[str, Any],
                               query: Mapping[str, str]) -> dict[str, Any]:
        contact = self._contact(required(body, "customer_id"))
        number = body.get("salesorder_number") or None
        if query.get("ignore_auto_number_generation", "").lower() == "true" and not number:
            raise invalid("salesorder_number")
        lines = line_specs(body)
        extra = {k: body[k] for k in ("notes", "terms", "shipment_date", "delivery_method",
                                      "place_of_supply", "gst_no", "gst_treatment", "discount",
                                      "is_inclusive_tax") if k in body}
        return self._new_salesorder(
            contact, lines, number=number, reference_number=body.get("reference_number", ""),
            date=body.get("date"), location_id=body.get("location_id"),
            shipping_address=body.get("shipping_address"), billing_address=body.get("billing_address"),
            payment_terms_label=body.get("payment_terms_label"),
            shipping_charge=body.get("shipping_charge", 0), custom_fields=body.get("custom_fields"),
            extra=extra)

    def _update_salesorder(self, salesorder_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT semantics: the OAS requires salesorder_number, customer_id and line_items (whether Zoho
        accepts less is UNCERTAIN, so this refuses it); line_items replace the lines (a line named by its
        line_item_id is updated, an omitted one removed); other fields merge. All-or-nothing."""
        so = self._so(salesorder_id)
        for field in ("salesorder_number", "customer_id", "line_items"):
            if body.get(field) in (None, "", []):
                raise ZohoError(E_INVALID_VALUE, f"Invalid value passed for {field}")
        snapshot = copy.deepcopy(so)
        try:
            return self._merge_salesorder(so, body)
        except ZohoError:
            so.clear()
            so.update(snapshot)
            raise

    def _merge_salesorder(self, so: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        if so["status"] == "void":
            raise ZohoError(E_BAD_STATUS, "Void sales orders cannot be edited.")
        if "customer_id" in body and str(body["customer_id"]) != so["customer_id"]:
            contact = self._contact(body["customer_id"])
            so.update(customer_id=contact["contact_id"], customer_name=contact["contact_name"])
        number = body.get("salesorder_number")
        if number and number != so["salesorder_number"]:
            if any(s["salesorder_number"] == number for s in self.salesorders.values()):
                raise ZohoError(E_EXISTS, f"Sales Order \"{number}\" already exists.")
            so["salesorder_number"] = number
        for key in ("reference_number", "date", "shipment_date", "notes", "terms", "delivery_method",
                    "salesperson_name", "adjustment_description", "payment_terms_label", "place_of_supply",
                    "gst_no", "gst_treatment"):
            if key in body:
                so[key] = body[key]
        for key in ("shipping_charge", "adjustment"):
            if key in body:
                so[key] = money(body[key], key)
        for key in ("discount", "is_inclusive_tax"):
            if key in body:
                so[key] = body[key]
        for key in ("shipping_address", "billing_address"):
            if isinstance(body.get(key), Mapping):
                so[key] = {**so[key], **body[key]}
        if "line_items" in body:  # present -> replaces the lines; absent -> lines are kept
            specs = body["line_items"]
            if not isinstance(specs, list) or not specs or not all(isinstance(s, Mapping) for s in specs):
                raise invalid("line_items")
            current = {ln["line_item_id"]: ln for ln in so["line_items"]}
            new_lines = []
            for i, spec in enumerate(specs):
                existing = current.pop(str(spec.get("line_item_id", "")), None)
                new_lines.append(self._make_line(spec, i, so["location_id"], existing))
            for dropped in current.values():
                if dropped["quantity_packed"] or dropped["quantity_invoiced"]:
                    raise ZohoError(E_QUANTITY, f"'{dropped['name']}' has been packed or invoiced and "
                                                "cannot be removed from the sales order.")
            so["line_items"] = new_lines
        self._recompute_totals(so)
        if "custom_fields" in body:
            self._apply_custom_fields(so, body["custom_fields"])
        self._touch(so)
        return so

    def _set_so_status(self, salesorder_id: str, status: str, http_status: int = 404) -> dict:
        so = self._so(salesorder_id, http_status)
        if status == "confirmed" and so["status"] == "void":
            raise ZohoError(E_BAD_STATUS, "Void sales orders cannot be confirmed.")
        if status == "void" and any(ln["quantity_shipped"] for ln in so["line_items"]):
            raise ZohoError(E_BAD_STATUS, "Sales orders with shipped items cannot be voided.")
        if status == "void" and any(inv["salesorder_id"] == so["salesorder_id"] and inv["status"] != "void"
                                    for inv in self.invoices.values()):
            raise ZohoError(E_BAD_STATUS, "Sales orders that have been invoiced cannot be voided.")
        if so["status"] != status:
            so["status"] = status
            self._touch(so)
        return so

def _discount_amount(discount: Any, base: Decimal, field: str) -> Decimal:
    """Zoho's discount notation: "10%" of `base`, or an amount."""
    if isinstance(discount, str) and discount.strip().endswith("%"):
        return money(base * dec(discount.strip()[:-1], field) / 100)
    return money(discount or 0, field)
