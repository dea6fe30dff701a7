"""Zoho Inventory v1 behaviour of the simulator, part 2: packages, shipment orders, sales returns +
receives and inventory adjustments — everything that moves goods and therefore stock.

Stock model (Zoho documents none of this precisely; these are the simulator's rules):
* stock on hand is kept per (item, location); `stock_on_hand` on an item is the sum over locations;
* creating a **shipment order** deducts the shipped package quantities from the SO line's location
  (Zoho Inventory deducts when goods are shipped, not when a package is created or delivered);
* a **sales return** changes nothing; its **receive** puts the received quantity back, into the
  location of the return line (or the receive line's `location_id` if one is sent);
* a `quantity` **inventory adjustment** adds `quantity_adjusted` (may be negative);
* stock may not go below zero unless `allow_negative_stock` is set (Zoho's org preference);
* `actual_available_stock` = on hand minus what confirmed, unshipped SO lines have committed.
* returns are limited to shipped quantities: quantity + non_receive_quantity over all returns of a
  line may not exceed its quantity_shipped; only items marked `is_returnable` can be returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sandbox.zoho_common import (
    E_BAD_STATUS,
    E_EXISTS,
    E_NON_RETURNABLE,
    E_QUANTITY,
    ZohoError,
    dec,
    invalid,
    money,
    not_found,
    zoho_date,
)
from sandbox.zoho_inventory import ZERO, line_specs, positive, required
from sandbox.zoho_salesorders import SalesOrderMixin


class FulfilmentMixin(SalesOrderMixin):
    """Goods-moving operations; state lives on ZohoSim (see ZohoSim.reset)."""

    # ---------------------------------------------------------------- packages and shipments
    def _package(self, package_id: Any, status: int = 404) -> dict[str, Any]:
        pkg = self.packages.get(str(package_id))
        if pkg is None:
            raise not_found("Package", status)
        return pkg

    def _create_package(self, salesorder_id: str | None, body: Mapping[str, Any]) -> dict:
        so = self._so(salesorder_id or required({}, "salesorder_id"), status=400)
        if so["status"] in ("draft", "void"):
            raise ZohoError(E_BAD_STATUS, f"Packages cannot be created for a sales order in "
                                          f"'{so['status']}' status. Confirm the sales order first.")
        specs = line_specs(body)
        lines: list[dict[str, Any]] = []
        packed: dict[str, Decimal] = {}
        so_lines = {ln["line_item_id"]: ln for ln in so["line_items"]}
        for i, spec in enumerate(specs):
            so_line = so_lines.get(str(spec.get("so_line_item_id", "")))
            if so_line is None:
                raise invalid("so_line_item_id")
            qty = positive(spec.get("quantity"))
            packed[so_line["line_item_id"]] = packed.get(so_line["line_item_id"], ZERO) + qty
            if so_line["quantity_packed"] + packed[so_line["line_item_id"]] > so_line["quantity"]:
                raise ZohoError(E_QUANTITY, f"The quantity packed for '{so_line['name']}' cannot be more "
                                            "than the quantity ordered.")
            lines.append({"line_item_id": self.ids.new_id(), "so_line_item_id": so_line["line_item_id"],
                          "item_id": so_line["item_id"], "name": so_line["name"], "sku": so_line["sku"],
                          "description": so_line["description"], "item_order": i, "quantity": qty,
                          "unit": so_line["unit"], "is_invoiced": so_line["is_invoiced"],
                          "item_custom_fields": [], "is_combo_product": False, "serial_numbers": [],
                          "_location_id": so_line["location_id"]})
        number = body.get("package_number") or self.ids.number("PKG-")
        if any(p["package_number"] == number for p in self.packages.values()):
            raise ZohoError(E_EXISTS, f"Package \"{number}\" already exists.")
        for line_id, qty in packed.items():
            so_lines[line_id]["quantity_packed"] += qty
        person = so["contact_persons_associated"][0]
        pkg = self._stamp({
            "package_id": self.ids.new_id(), "package_number": number,
            "salesorder_id": so["salesorder_id"], "salesorder_number": so["salesorder_number"],
            "date": body.get("date") or zoho_date(self.clock.today()), "status": "not_shipped",
            "detailed_status": "", "status_message": "", "shipment_id": "", "shipment_number": "",
            "customer_id": so["customer_id"], "customer_name": so["customer_name"],
            "contact_persons": [{"contact_person_id": person["contact_person_id"]}],
            "email": person["contact_person_email"], "phone": person["phone"], "mobile": person["mobile"],
            "billing_address": dict(so["billing_address"]), "shipping_address": dict(so["shipping_address"]),
            "line_items": lines, "total_quantity": sum(packed.values(), ZERO), "notes": body.get("notes", ""),
            "custom_fields": [], "is_emailed": False, "template_id": self.template_id,
            "template_name": "Standard Template", "template_type": "standard", "shipment_order": {},
        })
        self.packages[pkg["package_id"]] = pkg
        self._touch(so)
        return pkg

    def _so_package_entry(self, pkg: dict[str, Any]) -> dict[str, Any]:
        shipment = self.shipments.get(pkg["shipment_id"]) if pkg["shipment_id"] else None
        return {"package_id": pkg["package_id"], "package_number": pkg["package_number"], "date": pkg["date"],
                "status": pkg["status"], "detailed_status": pkg["detailed_status"],
                "status_message": pkg["status_message"], "shipment_id": pkg["shipment_id"],
                "shipment_number": pkg["shipment_number"],
                "shipment_status": shipment["status"] if shipment else "",
                "carrier": shipment["carrier"] if shipment else "", "service": "",
                "delivery_method": shipment["delivery_method"] if shipment else "",
                "tracking_number": shipment["tracking_number"] if shipment else "",
                "shipment_date": shipment["date"] if shipment else "",
                "delivery_date": shipment["delivery_date"] if shipment else "",
                "delivery_days": "", "delivery_guarantee": False, "quantity": pkg["total_quantity"]}

    def _shipment(self, shipment_id: Any, status: int = 404) -> dict[str, Any]:
        shipment = self.shipments.get(str(shipment_id))
        if shipment is None:
            raise not_found("Shipment Order", status)
        return shipment

    def _create_shipment(self, salesorder_id: str | None, package_ids: list[str],
                         body: Mapping[str, Any]) -> dict[str, Any]:
        so = self._so(salesorder_id or required({}, "salesorder_id"), status=400)
        if so["status"] == "void":
            raise ZohoError(E_BAD_STATUS, "Shipments cannot be created for a void sales order.")
        if not package_ids:
            raise invalid("package_ids")
        packages = [self._package(pid, status=400) for pid in dict.fromkeys(package_ids)]
        for pkg in packages:
            if pkg["salesorder_id"] != so["salesorder_id"]:
                raise invalid("package_ids")
            if pkg["shipment_id"]:
                raise ZohoError(E_BAD_STATUS, f"Package {pkg['package_number']} has already been shipped.")
        fields = {f: str(required(body, f)) for f in ("shipment_number", "date", "delivery_method",
                                                       "tracking_number")}
        if any(s["shipment_number"] == fields["shipment_number"] for s in self.shipments.values()):
            raise ZohoError(E_EXISTS, f"Shipment Order \"{fields['shipment_number']}\" already exists.")
        lines = [ln for pkg in packages for ln in pkg["line_items"]]
        self._apply_stock_moves([(ln["item_id"], ln["_location_id"], -ln["quantity"]) for ln in lines])
        so_lines = {ln["line_item_id"]: ln for ln in so["line_items"]}
        for ln in lines:
            so_lines[ln["so_line_item_id"]]["quantity_shipped"] += ln["quantity"]
        view_lines = [{**{k: so_lines[ln["so_line_item_id"]][k] for k in
                          ("item_id", "name", "description", "sku", "bcy_rate", "rate", "unit", "tax_id",
                           "tax_name", "tax_type", "tax_percentage", "is_invoiced")},
                       "line_item_id": ln["line_item_id"], "so_line_item_id": ln["so_line_item_id"],
                       "item_order": i, "quantity": ln["quantity"],
                       "item_total": money(so_lines[ln["so_line_item_id"]]["rate"] * ln["quantity"])}
                      for i, ln in enumerate(lines)]
        shipment = self._stamp({
            "shipment_id": self.ids.new_id(), **fields, "salesorder_id": so["salesorder_id"],
            "salesorder_number": so["salesorder_number"], "status": "shipped", "detailed_status": "",
            "status_message": "Shipped", "carrier": fields["delivery_method"], "service": "",
            "delivery_days": "", "delivery_guarantee": False, "delivery_date": "",
            "reference_number": body.get("reference_number", ""), "customer_id": so["customer_id"],
            "customer_name": so["customer_name"], "contact_persons": list(so["contact_persons"]),
            "currency_id": self.currency_id, "currency_code": "INR", "currency_symbol": "₹",
            "exchange_rate": 1, "delivery_method_id": "", "tracking_url": body.get("tracking_url", ""),
            "line_items": view_lines, "shipping_charge": money(body.get("shipping_charge", 0) or 0),
            "sub_total": sum((ln["item_total"] for ln in view_lines), ZERO), "tax_total": ZERO,
            "total": sum((ln["item_total"] for ln in view_lines), ZERO), "taxes": [], "price_precision": 2,
            "is_emailed": False, "billing_address": dict(so["billing_address"]),
            "shipping_address": dict(so["shipping_address"]), "template_id": self.template_id,
            "template_name": "Standard Template", "template_type": "standard", "notes": body.get("notes", ""),
            "shipmentorder_custom_fields": body.get("shipmentorder_custom_fields", []),
            "packages": [{"package_id": p["package_id"], "package_number": p["package_number"]}
                         for p in packages],
        })
        self.shipments[shipment["shipment_id"]] = shipment
        for pkg in packages:
            pkg.update(status="shipped", status_message="Shipped", shipment_id=shipment["shipment_id"],
                       shipment_number=shipment["shipment_number"])
            self._touch(pkg)
        if not so["shipment_date"]:
            so["shipment_date"] = fields["date"]
        self._touch(so)
        return shipment

    def _package_view(self, pkg: dict[str, Any]) -> dict[str, Any]:
        view = dict(pkg)
        shipment = self.shipments.get(pkg["shipment_id"]) if pkg["shipment_id"] else None
        if shipment:
            view["shipment_order"] = {k: shipment[k] for k in (
                "shipment_id", "shipment_number", "status", "detailed_status", "carrier", "service",
                "delivery_method", "delivery_method_id", "tracking_number", "delivery_days",
                "delivery_guarantee", "notes", "delivery_date")}
            view["shipment_order"].update(shipping_date=shipment["date"],
                                          shipment_rate=shipment["shipping_charge"])
        return view

    def _mark_delivered(self, shipment_id: str) -> dict[str, Any]:
        shipment = self._shipment(shipment_id)
        if shipment["status"] != "delivered":  # repeating the call is harmless (sim choice)
            shipment.update(status="delivered", detailed_status="Delivered", status_message="Delivered",
                            delivery_date=zoho_date(self.clock.today()))
            self._touch(shipment)
            for pkg in self.packages.values():
                if pkg["shipment_id"] == shipment["shipment_id"]:
                    pkg.update(status="delivered", detailed_status="Delivered", status_message="Delivered")
                    self._touch(pkg)
            self._touch(self.salesorders[shipment["salesorder_id"]])
        return shipment

    # ---------------------------------------------------------------- sales returns
    def _salesreturn(self, salesreturn_id: Any, status: int = 404) -> dict[str, Any]:
        sr = self.salesreturns.get(str(salesreturn_id))
        if sr is None:
            raise not_found("Sales Return", status)
        return sr

    def _returned_quantity(self, so_line_id: str) -> Decimal:
        return sum((ln["quantity"] + ln["non_receive_quantity"] for sr in self.salesreturns.values()
                    for ln in sr["line_items"] if ln["salesorder_item_id"] == so_line_id), ZERO)

    def _create_salesreturn(self, salesorder_id: str | None, body: Mapping[str, Any]) -> dict:
        so = self._so(salesorder_id or required(body, "salesorder_id"), status=400)
        specs = line_specs(body)
        lines: list[dict[str, Any]] = []
        asked: dict[str, Decimal] = {}
        for spec in specs:
            so_line = next((ln for ln in so["line_items"]
                            if ln["line_item_id"] == str(spec.get("salesorder_item_id", ""))), None)
            if so_line is None and spec.get("item_id"):
                so_line = next((ln for ln in so["line_items"] if ln["item_id"] == str(spec["item_id"])), None)
            if so_line is None:
                raise invalid("salesorder_item_id")
            item = self.items[so_line["item_id"]]
            if not item["is_returnable"]:
                raise ZohoError(E_NON_RETURNABLE, f"'{item['name']}' is a non-returnable item. Sales "
                                                  "returns can be created only for returnable items.")
            qty = dec(spec.get("quantity", 0), "quantity")
            non_receive = dec(spec.get("non_receive_quantity", 0) or 0, "non_receive_quantity")
            if qty < 0 or non_receive < 0 or qty + non_receive <= 0:
                raise invalid("quantity")
            key = so_line["line_item_id"]
            asked[key] = asked.get(key, ZERO) + qty + non_receive
            if self._returned_quantity(key) + asked[key] > so_line["quantity_shipped"]:
                raise ZohoError(E_QUANTITY, f"The quantity returned for '{so_line['name']}' cannot be more "
                                            "than the quantity shipped.")
            loc = self._location(spec.get("location_id") or body.get("location_id") or so_line["location_id"])
            lines.append({"line_item_id": self.ids.new_id(), "item_id": item["item_id"], "name": item["name"],
                          "sku": item["sku"], "description": so_line["description"], "unit": item["unit"],
                          "rate": so_line["rate"], "salesorder_item_id": key, "quantity": qty,
                          "non_receive_quantity": non_receive, "quantity_received": ZERO,
                          "location_id": loc["location_id"], "location_name": loc["location_name"],
                          "is_combo_product": False})
        number = body.get("salesreturn_number") or self.ids.number("RMA-")
        if any(s["salesreturn_number"] == number for s in self.salesreturns.values()):
            raise ZohoError(E_EXISTS, f"Sales Return \"{number}\" already exists.")
        loc = self._location(body.get("location_id") or lines[0]["location_id"])
        sr = self._stamp({
            "salesreturn_id": self.ids.new_id(), "salesreturn_number": number,
            "date": body.get("date") or zoho_date(self.clock.today()), "reason": body.get("reason", ""),
            "salesorder_id": so["salesorder_id"], "salesorder_number": so["salesorder_number"],
            "customer_id": so["customer_id"], "customer_name": so["customer_name"],
            "location_id": loc["location_id"], "location_name": loc["location_name"],
            "salesreturn_status": "approved", "refund_status": "not_refunded", "refunded_amount": ZERO,
            "line_items": lines, "salesreturnreceives": [], "creditnotes": [], "comments": [],
            "custom_fields": body.get("custom_fields", []),
        })
        sr["receive_status"] = _receive_status(sr)
        self.salesreturns[sr["salesreturn_id"]] = sr
        return sr

    def _create_receive(self, salesreturn_id: str | None, body: Mapping[str, Any]) -> dict:
        sr = self._salesreturn(salesreturn_id or required(body, "salesreturn_id"), status=400)
        specs = line_specs(body)
        moves: list[tuple[str, str, Decimal]] = []
        received: dict[str, Decimal] = {}
        out_lines: list[dict[str, Any]] = []
        sr_lines = {ln["line_item_id"]: ln for ln in sr["line_items"]}
        for spec in specs:
            line = sr_lines.get(str(spec.get("line_item_id", "")))
            if line is None:
                raise invalid("line_item_id")
            qty = positive(spec.get("quantity"))
            received[line["line_item_id"]] = received.get(line["line_item_id"], ZERO) + qty
            if line["quantity_received"] + received[line["line_item_id"]] > line["quantity"]:
                raise ZohoError(E_QUANTITY, f"The quantity received for '{line['name']}' cannot be more than "
                                            "the quantity to be received.")
            loc = self._location(spec.get("location_id") or body.get("location_id") or line["location_id"])
            moves.append((line["item_id"], loc["location_id"], qty))
            out_lines.append({"line_item_id": line["line_item_id"], "item_id": line["item_id"],
                              "name": line["name"], "sku": line["sku"], "description": line["description"],
                              "unit": line["unit"], "quantity": qty, "location_id": loc["location_id"],
                              "location_name": loc["location_name"], "is_combo_product": False,
                              "serial_numbers": [], "batches": [], "storages": []})
        self._apply_stock_moves(moves)
        for line_id, qty in received.items():
            sr_lines[line_id]["quantity_received"] += qty
        receive = self._stamp({
            "receive_id": self.ids.new_id(), "receive_number": self.ids.number("RR-"),
            "salesreturn_id": sr["salesreturn_id"], "salesreturn_number": sr["salesreturn_number"],
            "date": body.get("date") or zoho_date(self.clock.today()), "notes": body.get("notes", ""),
            "line_items": out_lines})
        self.receives[receive["receive_id"]] = receive
        sr["salesreturnreceives"].append({k: receive[k] for k in ("receive_id", "receive_number", "date",
                                                                  "notes", "line_items")})
        sr["receive_status"] = _receive_status(sr)
        self._touch(sr)
        return receive

    # ---------------------------------------------------------------- inventory adjustments
    def _create_adjustment(self, body: Mapping[str, Any]) -> dict[str, Any]:
        reason = str(required(body, "reason"))
        kind = required(body, "adjustment_type")
        if kind not in ("quantity", "value"):
            raise invalid("adjustment_type")
        specs = line_specs(body)
        lines, moves = [], []
        for spec in specs:
            item = self._item(required(spec, "item_id"), status=400)
            loc = self._location(spec.get("location_id") or body.get("location_id"))
            line = {"line_item_id": self.ids.new_id(), "item_id": item["item_id"], "name": item["name"],
                    "sku": item["sku"], "description": spec.get("description", ""), "unit": item["unit"],
                    "is_combo_product": False, "adjustment_account_id": self.cogs_account_id,
                    "adjustment_account_name": "Cost of Goods Sold", "location_id": loc["location_id"],
                    "location_name": loc["location_name"]}
            if kind == "quantity":
                delta = dec(required(spec, "quantity_adjusted"), "quantity_adjusted")
                if delta == 0:
                    raise invalid("quantity_adjusted")
                moves.append((item["item_id"], loc["location_id"], delta))
                line.update(quantity_adjusted=delta, item_total=money(delta * item["purchase_rate"]))
            else:
                value = money(required(spec, "value_adjusted"), "value_adjusted")
                line.update(value_adjusted=value, item_total=value)
            lines.append(line)
        self._apply_stock_moves(moves)
        loc = self._location(body.get("location_id"))
        adjustment = self._stamp({
            "inventory_adjustment_id": self.ids.new_id(),
            "date": body.get("date") or zoho_date(self.clock.today()), "reason": reason, "reason_id": "",
            "description": body.get("description", ""), "reference_number": body.get("reference_number", ""),
            "adjustment_type": kind, "status": "adjusted", "line_items": lines,
            "location_id": loc["location_id"], "location_name": loc["location_name"],
            "total": sum((ln["item_total"] for ln in lines), ZERO),
            "custom_fields": body.get("custom_fields", [])})
        self.adjustments[adjustment["inventory_adjustment_id"]] = adjustment
        return adjustment


def _receive_status(sr: dict[str, Any]) -> str:
    expected = sum((ln["quantity"] for ln in sr["line_items"]), ZERO)
    got = sum((ln["quantity_received"] for ln in sr["line_items"]), ZERO)
    if expected == 0:
        return "received"  # nothing physically coming back (all non_receive_quantity)
    return "to_be_received" if got == 0 else "partially_received" if got < expected else "received"
