"""Zoho Inventory v1 behaviour of the simulator, part 1: items and stock levels, contacts and sales-order
custom fields (sales orders: zoho_salesorders.py; packages, shipments, returns and adjustments:
zoho_fulfilment.py).

Custom fields are kept as {api_name: value} and rendered into both `custom_fields[]` and
`custom_field_hash` the way Zoho returns them (only fields holding a value are listed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sandbox.zoho_common import (
    E_NO_STOCK,
    SimState,
    ZohoError,
    dec,
    invalid,
    not_found,
    paginate,
    search,
    sort_rows,
    text_match,
    zoho_time,
)

ZERO = Decimal(0)


def required(body: Mapping[str, Any], field: str) -> Any:
    value = body.get(field)
    if value is None or value == "" or value == []:
        raise invalid(field)
    return value


def line_specs(body: Mapping[str, Any], field: str = "line_items") -> list[Mapping[str, Any]]:
    """A required, non-empty list of JSON objects (anything else is Zoho's code 4 for the field)."""
    specs = required(body, field)
    if not isinstance(specs, list) or not all(isinstance(spec, Mapping) for spec in specs):
        raise invalid(field)
    return specs


def positive(value: Any, field: str = "quantity") -> Decimal:
    qty = dec(value, field)
    if qty <= 0:
        raise invalid(field)
    return qty


class InventoryMixin(SimState):
    """Inventory operations; state lives on ZohoSim (see ZohoSim.reset)."""

    # ---------------------------------------------------------------- bookkeeping helpers
    def _stamp(self, doc: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now().replace(microsecond=0)
        self._seq += 1
        doc.update(_seq=self._seq, _created_time=now, created_time=zoho_time(now))
        doc.update(_last_modified_time=now, last_modified_time=zoho_time(now))
        return doc

    def _touch(self, doc: dict[str, Any]) -> None:
        """Bump last_modified_time; always strictly later, so (id, last_modified_time) dedupe works."""
        now = self.clock.now().replace(microsecond=0)
        prev = doc.get("_last_modified_time")
        if prev is not None and now <= prev:
            now = prev + timedelta(seconds=1)
        doc.update(_last_modified_time=now, last_modified_time=zoho_time(now))

    def _location(self, location_id: str | None, status: int = 400) -> dict[str, Any]:
        loc = self.locations.get(str(location_id or self.primary_location_id))
        if loc is None:
            raise not_found("Location", status)
        return loc

    # ---------------------------------------------------------------- items and stock
    def _item(self, item_id: Any, status: int = 404) -> dict[str, Any]:
        item = self.items.get(str(item_id))
        if item is None:
            raise not_found("Item", status)
        return item

    def _committed(self, item_id: str) -> Decimal:
        total = ZERO
        for so in self.salesorders.values():
            if so["status"] in ("confirmed", "onhold"):
                for line in so["line_items"]:
                    if line["item_id"] == item_id:
                        total += max(line["quantity"] - line["quantity_shipped"], ZERO)
        return total

    def _item_view(self, item: dict[str, Any]) -> dict[str, Any]:
        on_hand = sum(item["_stock"].values(), ZERO)
        committed = self._committed(item["item_id"])
        view = dict(item)
        view.update(stock_on_hand=on_hand, available_stock=on_hand,
                    actual_available_stock=on_hand - committed,
                    available_for_sale_stock=on_hand - committed)
        view["locations"] = [
            {"location_id": loc_id, "location_name": loc["location_name"], "status": "active",
             "is_primary": loc["is_primary"], "location_stock_on_hand": item["_stock"].get(loc_id, ZERO),
             "location_available_stock": item["_stock"].get(loc_id, ZERO),
             "location_actual_available_stock": item["_stock"].get(loc_id, ZERO)}
            for loc_id, loc in self.locations.items()]
        return view

    def _list_items(self, query: Mapping[str, str]) -> tuple[list[dict], dict]:
        rows = [i for i in self.items.values()
                if text_match(query, "sku", i["sku"]) and text_match(query, "name", i["name"])
                and search(query.get("search_text"), (i["name"], i["sku"], i["description"]))]
        column, order = sort_rows(rows, query, {"name", "sku", "rate", "created_time", "last_modified_time"},
                                  default="name", default_order="A")
        page, context = paginate(rows, query, report_name="Items", sort_column=column, sort_order=order)
        return [self._item_view(i) for i in page], context

    def _apply_stock_moves(self, moves: list[tuple[str, str, Decimal]]) -> None:
        """Check every (item, location, delta) first, then apply them all: all-or-nothing."""
        totals: dict[tuple[str, str], Decimal] = {}
        for item_id, loc_id, delta in moves:
            totals[(item_id, loc_id)] = totals.get((item_id, loc_id), ZERO) + delta
        if not self.allow_negative_stock:
            for (item_id, loc_id), delta in totals.items():
                item = self.items[item_id]
                have = item["_stock"].get(loc_id, ZERO)
                if have + delta < 0:
                    raise ZohoError(E_NO_STOCK, f"The stock on hand for '{item['name']}' in "
                                    f"{self.locations[loc_id]['location_name']} is {have}, which is "
                                    f"insufficient for this transaction.")
        for (item_id, loc_id), delta in totals.items():
            stock = self.items[item_id]["_stock"]
            stock[loc_id] = stock.get(loc_id, ZERO) + delta

    # ---------------------------------------------------------------- contacts
    def _contact(self, contact_id: Any, status: int = 400) -> dict[str, Any]:
        contact = self.contacts.get(str(contact_id))
        if contact is None:
            raise not_found("Contact", status)
        return contact

    def _ensure_contact(self, name: str, email: str, phone: str,
                        address: dict[str, Any], payment_terms_label: str) -> dict[str, Any]:
        for contact in self.contacts.values():
            if contact["contact_name"] == name and contact["email"] == email:
                return contact
        first, _, last = name.partition(" ")
        cid, person_id = self.ids.new_id(), self.ids.new_id()
        contact = self._stamp({
            "contact_id": cid, "contact_name": name, "customer_name": name, "company_name": "",
            "contact_type": "customer", "customer_sub_type": "individual", "status": "active",
            "email": email, "phone": phone, "mobile": phone, "currency_code": "INR",
            "payment_terms": terms_days(payment_terms_label), "payment_terms_label": payment_terms_label,
            "gst_treatment": "consumer", "place_of_supply": address.get("state_code", ""),
            "billing_address": dict(address), "shipping_address": dict(address),
            "contact_persons": [{"contact_person_id": person_id, "first_name": first, "last_name": last,
                                 "email": email, "phone": phone, "mobile": phone,
                                 "is_primary_contact": True}],
        })
        self.contacts[cid] = contact
        return contact

    # ---------------------------------------------------------------- custom fields
    def add_custom_field(self, api_name: str, label: str | None = None, *,
                         data_type: str = "string") -> dict[str, Any]:
        """Define a sales-order custom field (Settings -> Preferences -> Sales Orders -> Fields)."""
        with self._lock:
            if api_name in self.so_custom_fields:
                return dict(self.so_custom_fields[api_name])
            label = label or api_name.removeprefix("cf_").replace("_", " ").title()
            definition = {"customfield_id": self.ids.new_id(), "label": label, "api_name": api_name,
                          "placeholder": api_name, "data_type": data_type,
                          "index": len(self.so_custom_fields) + 1}
            self.so_custom_fields[api_name] = definition
            return dict(definition)

    def _resolve_custom_field(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        for definition in self.so_custom_fields.values():
            if (entry.get("api_name") in (definition["api_name"],)
                    or str(entry.get("customfield_id", "")) == definition["customfield_id"]
                    or entry.get("placeholder") == definition["placeholder"]
                    or (entry.get("label") and entry.get("label") == definition["label"])):
                return definition
        raise invalid("custom_fields")

    def _apply_custom_fields(self, so: dict[str, Any], entries: Any) -> None:
        if not isinstance(entries, list):
            raise invalid("custom_fields")
        updates = {}
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise invalid("custom_fields")
            definition = self._resolve_custom_field(entry)
            value = entry.get("value")
            updates[definition["api_name"]] = "" if value is None else str(value)
        for api_name, value in updates.items():
            if value == "":
                so["_cf"].pop(api_name, None)  # Zoho only lists fields that hold a value
            else:
                so["_cf"][api_name] = value
        self._render_custom_fields(so)

    def _render_custom_fields(self, so: dict[str, Any]) -> None:
        fields, hashed = [], {}
        for api_name, value in so["_cf"].items():
            d = self.so_custom_fields[api_name]
            fields.append({
                "field_id": d["customfield_id"], "customfield_id": d["customfield_id"], "index": d["index"],
                "label": d["label"], "api_name": api_name, "placeholder": d["placeholder"],
                "data_type": d["data_type"], "value": value, "value_formatted": value, "is_active": True,
                "show_on_pdf": False, "show_in_all_pdf": False, "edit_on_portal": False,
                "edit_on_store": False, "show_in_portal": False, "search_entity": "salesorder"})
            hashed[api_name] = value
            hashed[f"{api_name}_unformatted"] = value
        so["custom_fields"], so["custom_field_hash"] = fields, hashed

    # ---------------------------------------------------------------- sales orders


def terms_days(label: str) -> int:
    digits = "".join(ch for ch in label if ch.isdigit())
    return int(digits) if digits else 0
