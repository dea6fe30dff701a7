"""COD remittance batches: the guide's push shape and the real pull shape, from one record.

Shiprocket documents no remittance webhook; what exists is `GET /account/details/remittance`, which
lists batch totals only (crf_id, UTR, amounts as strings, misspelt `cod_payble`/`remitance_count`), and
per-order `remittance_date`/`remittance_utr`/`remittance_status` on `GET /orders/show/{id}`. Shipbridge
accepts both the guide's webhook and a poller, so each batch renders as both.

How a poller gets per-AWB lines in the simulator (the real API has no per-batch line listing):
  1. `GET /account/details/remittance?from=YYYY-Mon-DD&to=...` gives each batch's crf_id, utr and totals.
  2. For each delivered COD order awaiting money (known locally, or found with
     `GET /orders?filter_by=status&filter=7` / `?search=<awb>`), `GET /orders/show/{sr_order_id}`:
     `remittance_utr` equal to a batch's `utr` puts the order in that batch; `net_total` is its COD amount.
  3. Deductions exist only as the batch's `deduction_value` over HTTP (as far as the public facts show,
     Shiprocket never itemises them per AWB); per-AWB `deducted_charges` appear only in the webhook body.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from math import ceil
from typing import Any

from sandbox.shiprocket_format import IST, int_param, money, money_num, money_str, remittance_query_date


def new_batch(*, crf_id: int | str, remittance_id: str, utr: str, remittance_date: date,
              lines: list[dict[str, Any]]) -> dict[str, Any]:
    gross = money(sum((line["cod_amount"] for line in lines), Decimal(0)))
    deducted = money(sum((line["deducted_charges"] for line in lines), Decimal(0)))
    return {
        "crf_id": crf_id, "remittance_id": remittance_id, "utr": utr, "remittance_date": remittance_date,
        # The real sample's created_at falls on the UTR's date in IST; a fixed morning time keeps it there.
        "created_at": datetime.combine(remittance_date, time(10, 30), IST),
        "lines": lines, "gross": gross, "deductions": deducted, "net": gross - deducted,
    }


def webhook_body(batch: dict[str, Any]) -> dict[str, Any]:
    """The integration guide's COD_REMITTANCE payload. Amounts are strings ("998.00"), as in every real
    Shiprocket money field that must survive float rounding; parse them as Decimal."""
    return {
        "remittance_id": batch["remittance_id"],
        "remittance_date": batch["remittance_date"].isoformat(),
        "bank_transfer_amount": money_str(batch["net"]),
        "orders": [{"awb": line["awb"], "order_id": line["order_id"],
                    "cod_amount": money_str(line["cod_amount"]),
                    "deducted_charges": money_str(line["deducted_charges"])} for line in batch["lines"]],
    }


def listing_row(batch: dict[str, Any]) -> dict[str, Any]:
    """One `data[]` entry of the remittance listing (facts §2.9). UNCERTAIN: the real sample has zero
    deductions, so whether `cod_payble` is gross or net is unknown; the sim makes it gross and
    `remitted_value` = `cod_payble` - `deduction_value`."""
    net = batch["net"]
    return {
        "created_at": int(batch["created_at"].timestamp()), "crf_id": batch["crf_id"], "utr": batch["utr"],
        "utr_icod": None, "recharge_value": "0.00", "reversal_value": "0.00",
        "remitted_value": money_str(net),
        "deduction_value": money_str(batch["deductions"]), "cod_payble": money_str(batch["gross"]),
        "account_type": "Prepaid", "maintained_balance_limit": None, "status": "Remittance success",
        "remarks": "Remitted", "adjustment_data": {"adjusted_amount": 0, "details": []},
        "legal_penal_amount": "0.00", "legal_penal_invoices": [], "remitted_value_icod": "0.00",
        "remitted_value_std": money_num(net), "icod_vrf_id": None, "vrf_ids": "", "vrf_utr": "",
        "remittance_amount": [{"key": "Standard", "amount": money_num(net), "currency": "₹",
                               "utr": batch["utr"]}],
    }


def listing(batches: list[dict[str, Any]], params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    bounds: dict[str, date] = {}
    for key in ("from", "to"):
        if params.get(key):
            try:
                bounds[key] = remittance_query_date(params[key])
            except ValueError:
                errors[key] = [f"The {key} does not match the format Y-M-d."]
    if errors:
        return 422, {"message": "Oops! Invalid Data.", "errors": errors, "status_code": 422}
    chosen = [b for b in batches
              if bounds.get("from", date.min) <= b["remittance_date"] <= bounds.get("to", date.max)]
    chosen.sort(key=lambda b: b["created_at"], reverse=True)
    page = max(int_param(params.get("page"), 1), 1)
    per_page = max(int_param(params.get("per_page"), 15), 1)
    rows = [listing_row(b) for b in chosen[(page - 1) * per_page: page * per_page]]
    return 200, {"data": rows, "meta": {"remitance_count": len(rows), "pagination": {
        "total": len(chosen), "count": len(rows), "per_page": per_page, "current_page": page,
        "total_pages": max(ceil(len(chosen) / per_page), 1), "links": {}}}}
