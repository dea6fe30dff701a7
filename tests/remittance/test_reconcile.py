"""Pure remittance rules: payload and money parsing, invoice choice, the Books payment body, batch
totals, deduction apportioning, and the poller's dates, schedule and Shiprocket mapping. (The overdue
list is a query: tests/remittance/test_overdue.py.)"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from app.integrations.shiprocket.client import remittance_day
from app.integrations.shiprocket.remittance import parse_batch, parse_order_remittance, windows
from app.money import strict_amount as money
from app.parsing import Malformed
from app.remittance.models import LineProblem
from app.remittance.payloads import parse_remittance, remittance_to_json
from app.remittance.poller import poll_window
from app.remittance.reconcile import (
    allocate,
    batch_totals,
    choose_invoice,
    expects_remittance,
    payment_body,
    payment_reference,
)
from app.schedule import every

D = Decimal


def _body(**over: object) -> bytes:
    body = {"remittance_id": 10816241, "remittance_date": "2026-05-05", "bank_transfer_amount": "1943.50",
            "orders": [{"awb": "1904", "order_id": "SO-1", "cod_amount": "998.00", "deducted_charges": "45.50"},
                       {"awb": 1905, "order_id": "SO-2", "cod_amount": 1049.1, "deducted_charges": 58.1}]}
    body.update(over)
    return json.dumps(body).encode()


def test_guide_shape_parses_to_decimal_and_string_ids():
    r = parse_remittance(_body())
    assert r.remittance_id == "10816241" and r.remittance_date == date(2026, 5, 5)
    assert r.bank_transfer_amount == D("1943.50")
    assert [(ln.awb, ln.cod_amount, ln.deducted_charges) for ln in r.lines] == [
        ("1904", D("998.00"), D("45.50")), ("1905", D("1049.10"), D("58.10"))]
    assert parse_remittance(json.dumps(remittance_to_json(r)).encode()) == r  # the poller's rendering round-trips


@pytest.mark.parametrize(("raw", "reason"), [
    (b'{"remittance_id": "1", "orders": [', "not valid JSON"),
    (b"[]", "not a JSON object"),
    (_body(remittance_id=None), "remittance_id is missing"),
    (_body(orders=None), "orders is missing"),
    (_body(remittance_date="next tuesday"), "not a date"),
    (_body(bank_transfer_amount="-5"), "non-negative"),
    (_body(orders=[{"awb": "1", "cod_amount": "abc", "deducted_charges": "0"}]), "not an amount"),
    (_body(orders=[{"awb": "1", "cod_amount": "1", "deducted_charges": "0"},
                   {"awb": "1", "cod_amount": "2", "deducted_charges": "0"}]), "appears twice"),
])
def test_malformed_bodies_say_why(raw, reason):
    with pytest.raises(Malformed, match=reason):
        parse_remittance(raw)


def test_json_numbers_are_read_as_decimal_not_through_float():
    # 17 significant digits: a float would round this to ...9999.995 and then up to 10000000000.00.
    raw = (b'{"remittance_id": "1", "remittance_date": "2026-05-05", "bank_transfer_amount": 9999999999.9949999,'
           b' "orders": [{"awb": "1", "cod_amount": 1234.565, "deducted_charges": 0.30000000000000004}]}')
    r = parse_remittance(raw)
    assert r.bank_transfer_amount == D("9999999999.99")
    assert (r.lines[0].cod_amount, r.lines[0].deducted_charges) == (D("1234.57"), D("0.30"))  # half up


@pytest.mark.parametrize(("value", "expected"), [
    ("998.005", D("998.01")), (1049.1, D("1049.10")), (D("0.125"), D("0.13")), (7, D("7.00")),
    (" 12.5 ", D("12.50")), (0.1 + 0.2, D("0.30")),
])
def test_one_money_parser_rounds_half_up_to_the_paisa(value, expected):
    assert money(value, "x") == expected


@pytest.mark.parametrize("value", ["abc", "-1", "NaN", "Infinity", True, [], {"a": 1}, None, ""])
def test_one_money_parser_refuses_what_is_not_an_amount(value):
    with pytest.raises(Malformed):
        money(value, "x")
    if value in (None, ""):
        assert money(value, "x", default=D(0)) == D(0)


def _inv(number: str, balance: str, status: str = "sent") -> dict:
    return {"invoice_id": f"id-{number}", "invoice_number": number, "status": status, "balance": float(balance),
            "total": float(balance)}


def test_invoice_choice_pays_the_invoice_whose_balance_matches():
    choice = choose_invoice([_inv("INV-1", "0", "paid"), _inv("INV-2", "998")], D("998.00"))
    assert choice.pay and choice.invoice_id == "id-INV-2" and choice.problem is None


def test_invoice_choice_never_invents_or_guesses():
    assert choose_invoice([], D("10")).problem == LineProblem.no_invoice
    draft = choose_invoice([_inv("INV-9", "10", "draft")], D("10"))
    assert not draft.pay and draft.problem == LineProblem.no_invoice and "draft" in (draft.detail or "")
    assert choose_invoice([_inv("INV-1", "10", "void")], D("10")).problem == LineProblem.no_invoice
    two = choose_invoice([_inv("INV-1", "400"), _inv("INV-2", "600")], D("998"))
    assert not two.pay and two.problem == LineProblem.ambiguous_invoice
    paid = choose_invoice([_inv("INV-1", "0", "paid")], D("998"))
    assert not paid.pay and paid.problem == LineProblem.already_paid
    assert choose_invoice([_inv("INV-1", "10")], D("0")).problem == LineProblem.zero_amount


def test_short_amount_is_paid_and_listed_but_excess_is_not_paid():
    short = choose_invoice([_inv("INV-1", "1000")], D("950.00"))
    assert short.pay and short.problem == LineProblem.amount_differs and "₹50.00 short" in (short.detail or "")
    over = choose_invoice([_inv("INV-1", "1000")], D("1050.00"))
    assert not over.pay and over.problem == LineProblem.amount_differs and over.balance == D("1000.00")


def test_payment_body_is_gross_with_deductions_as_bank_charges():
    body = payment_body(customer_id="c1", amount=D("998.00"), bank_charges=D("45.50"), invoice_id="i1",
                        date="2026-05-05", reference=payment_reference("10816241", "1904"), description="x",
                        payment_mode="banktransfer", account_id="")
    assert body["amount"] == 998.0 and body["bank_charges"] == 45.5
    assert body["invoices"] == [{"invoice_id": "i1", "amount_applied": 998.0}]
    assert body["reference_number"] == "10816241/1904" and "account_id" not in body
    assert json.dumps(body["bank_charges"]) == "45.5"  # exact on the wire, no binary noise


def test_payment_body_amounts_are_exact_on_the_wire_even_for_awkward_values():
    body = payment_body(customer_id="c1", amount=D("1234.565"), bank_charges=D("0.1") + D("0.2") + D("1E-17"),
                        invoice_id="i1", date="2026-05-05", reference="r", description="x",
                        payment_mode="banktransfer", account_id="acc")
    wire = json.loads(json.dumps(body), parse_float=D)
    assert wire["amount"] == D("1234.57") and wire["invoices"][0]["amount_applied"] == D("1234.57")
    assert wire["bank_charges"] == D("0.3") and wire["account_id"] == "acc"
    assert '"amount": 1234.57' in json.dumps(body) and '"bank_charges": 0.3' in json.dumps(body)


def test_batch_totals_flag_a_difference():
    lines = [(D("998.00"), D("45.50")), (D("1049.10"), D("58.10"))]
    ok = batch_totals(D("1943.50"), lines)
    assert not ok.mismatch and ok.expected_transfer == D("1943.50") and ok.gross == D("2047.10")
    short = batch_totals(D("1843.50"), lines)
    assert short.mismatch and short.difference == D("-100.00")


def test_allocation_is_proportional_to_the_paisa_and_sums_exactly():
    shares = allocate(D("100.00"), [D("1"), D("1"), D("1")])
    assert sum(shares) == D("100.00") and sorted(shares) == [D("33.33"), D("33.33"), D("33.34")]
    weighted = allocate(D("45.00"), [D("998"), D("1996"), D("0")])
    assert weighted == [D("15.00"), D("30.00"), D("0.00")]
    assert allocate(D("0"), [D("5"), D("6")]) == [D("0"), D("0")] and allocate(D("5"), []) == []


def test_rto_lost_and_prepaid_orders_expect_no_remittance():
    assert expects_remittance("COD", "delivered") and expects_remittance("COD", None)
    for status in ("rto_initiated", "rto_in_transit", "rto_delivered", "lost", "cancelled"):
        assert not expects_remittance("COD", status)
    assert not expects_remittance("Prepaid", "delivered")


def test_poll_window_starts_at_the_start_date_then_overlaps_the_last_poll():
    today = date(2026, 6, 30)
    assert poll_window(today, None, None) == date(2026, 5, 31)
    assert poll_window(today, date(2026, 1, 1), None) == date(2026, 1, 1)
    assert poll_window(today, date(2026, 1, 1), date(2026, 6, 29)) == date(2026, 6, 22)
    # no start date: not before the first shipment Shipbridge booked, and at most 30 days back
    assert poll_window(today, None, None, first_shipment=date(2026, 6, 10)) == date(2026, 6, 10)
    assert poll_window(today, None, None, first_shipment=date(2025, 1, 1)) == date(2026, 5, 31)


def test_poll_schedule():
    assert every(3600, minute_offset=7) == {"hour": set(range(24)), "minute": {7}, "second": {0}}
    assert every(6 * 3600, minute_offset=7)["hour"] == {0, 6, 12, 18}
    assert every(900, minute_offset=7) == {"minute": {7, 22, 37, 52}, "second": {0}}
    assert every(15) == {"second": {0, 15, 30, 45}}


def test_shiprocket_listing_rows_and_order_fields():
    assert remittance_day(date(2025, 5, 1)) == "2025-May-01"
    assert list(windows(date(2025, 1, 1), date(2025, 2, 28))) == [
        (date(2025, 1, 1), date(2025, 1, 28)), (date(2025, 1, 29), date(2025, 2, 25)),
        (date(2025, 2, 26), date(2025, 2, 28))]
    row = {"created_at": 1746394233, "crf_id": 10816241, "utr": "ICICN22025050532591126",
           "remitted_value": "186895.00", "deduction_value": "0.00", "cod_payble": "186895.00",
           "status": "Remittance success"}
    batch = parse_batch(row)
    assert batch is not None and batch.batch_id == "10816241" and batch.remittance_date == date(2025, 5, 5)
    assert batch.remitted == D("186895.00")
    assert parse_batch({**row, "utr": None}) is None  # no bank transfer yet
    with pytest.raises(Malformed, match="remittance 10816241 cod_payble is not an amount"):
        parse_batch({**row, "cod_payble": "1,86,895.00"})
    info = parse_order_remittance({"id": 348456385, "channel_order_id": "SO-1", "net_total": "998.00",
                                   "remittance_utr": "U1", "shipments": {"awb": "1904"}})
    assert (info.channel_order_id, info.utr, info.cod_amount) == ("SO-1", "U1", D("998.00"))
