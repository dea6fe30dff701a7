"""Reconciliation rules, pure: which invoice a line pays, the Books payment body, a batch's expected
transfer, how the poller apportions a batch's deductions, and which COD orders expect a remittance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from app.money import PAISA, ZERO, strict_amount, to_json_number
from app.remittance.models import LineProblem

UNPAYABLE_INVOICE_STATUSES = {"void", "draft"}
REFERENCE_ID_CHARS = 40  # Books' reference_number holds 100 characters: remittance id + "/" + AWB


def payment_reference_prefix(remittance_id: str) -> str:
    return f"{remittance_id[:REFERENCE_ID_CHARS]}/"


def payment_reference(remittance_id: str, awb: str) -> str:
    """One Books payment per line, so the reference must be unique per line; it starts with the
    remittance id, so a Books search for the remittance id still finds every payment of the batch."""
    return f"{payment_reference_prefix(remittance_id)}{awb}"[:100]


def _balance(invoice: dict[str, Any]) -> Decimal:
    return strict_amount(invoice.get("balance"), f"invoice {invoice.get('invoice_number')} balance", default=ZERO)


@dataclass(frozen=True)
class InvoiceChoice:
    invoice_id: str | None  # the invoice to apply the payment to; None = do not pay
    invoice_number: str | None = None
    balance: Decimal | None = None
    problem: LineProblem | None = None  # set also when paying (a short payment is paid and listed)
    detail: str | None = None

    @property
    def pay(self) -> bool:
        return self.invoice_id is not None


def choose_invoice(invoices: Sequence[dict[str, Any]], amount: Decimal) -> InvoiceChoice:
    """The sales order's `invoices[]` -> the invoice this COD amount pays, in full.

    Never invents an invoice, never overpays one (Books refuses that, and the excess would sit as an
    unexplained customer credit), and never guesses between several open invoices. A payment short
    of the balance is still recorded (the cash did arrive) and listed as differing."""
    if amount <= 0:
        return InvoiceChoice(None, problem=LineProblem.zero_amount, detail="COD amount is zero")
    payable = [i for i in invoices if str(i.get("status", "")).lower() not in UNPAYABLE_INVOICE_STATUSES]
    if not payable:
        drafts = [str(i.get("invoice_number")) for i in invoices if str(i.get("status", "")).lower() == "draft"]
        detail = (f"only draft invoice(s) {', '.join(drafts)}: mark as sent" if drafts
                  else "the sales order has no invoice: create one in Zoho")
        return InvoiceChoice(None, problem=LineProblem.no_invoice, detail=detail)
    open_ = [i for i in payable if _balance(i) > 0]
    for inv in open_:
        if _balance(inv) == amount:
            return _choice(inv)
    if not open_:
        numbers = ", ".join(str(i.get("invoice_number")) for i in payable)
        return InvoiceChoice(None, problem=LineProblem.already_paid,
                             detail=f"invoice {numbers} has no balance left; ₹{amount} not applied")
    if len(open_) > 1:
        numbers = ", ".join(f"{i.get('invoice_number')} (₹{_balance(i)})" for i in open_)
        return InvoiceChoice(None, problem=LineProblem.ambiguous_invoice,
                             detail=f"₹{amount} matches none of the open invoices {numbers}")
    inv = open_[0]
    balance = _balance(inv)
    if amount < balance:
        return _choice(inv, LineProblem.amount_differs,
                       f"₹{amount} is ₹{balance - amount} short of invoice {inv.get('invoice_number')}'s "
                       f"balance ₹{balance}; paid, balance left open")
    return InvoiceChoice(None, str(inv.get("invoice_number")), balance, LineProblem.amount_differs,
                         f"₹{amount} exceeds invoice {inv.get('invoice_number')}'s balance ₹{balance} by "
                         f"₹{amount - balance}; not paid")


def _choice(inv: dict[str, Any], problem: LineProblem | None = None, detail: str | None = None) -> InvoiceChoice:
    return InvoiceChoice(str(inv["invoice_id"]), str(inv.get("invoice_number") or ""), _balance(inv),
                         problem, detail)


def payment_body(*, customer_id: str, amount: Decimal, bank_charges: Decimal, invoice_id: str, date: str,
                 reference: str, description: str, payment_mode: str, account_id: str) -> dict[str, Any]:
    """The customer payment: gross COD applied in full, Shiprocket's deductions as bank charges.
    Amounts leave as JSON numbers rounded (half up, to the paisa) in Decimal first, so no binary noise
    reaches Books."""
    body: dict[str, Any] = {
        "customer_id": customer_id, "payment_mode": payment_mode, "amount": to_json_number(amount),
        "bank_charges": to_json_number(bank_charges), "date": date, "reference_number": reference,
        "description": description[:500],
        "invoices": [{"invoice_id": invoice_id, "amount_applied": to_json_number(amount)}],
    }
    if account_id:
        body["account_id"] = account_id
    return body


@dataclass(frozen=True)
class BatchTotals:
    gross: Decimal
    deductions: Decimal
    expected_transfer: Decimal  # sum(cod_amount - deducted_charges)
    bank_transfer_amount: Decimal
    difference: Decimal  # bank_transfer_amount - expected_transfer: > 0 money we can't attribute, < 0 missing

    @property
    def mismatch(self) -> bool:
        return self.difference != 0


def batch_totals(bank_transfer_amount: Decimal, lines: Iterable[tuple[Decimal, Decimal]]) -> BatchTotals:
    """`lines` are (cod_amount, deducted_charges) pairs."""
    gross, deductions = ZERO, ZERO
    for cod_amount, deducted in lines:
        gross += cod_amount
        deductions += deducted
    expected = gross - deductions
    return BatchTotals(gross, deductions, expected, bank_transfer_amount, bank_transfer_amount - expected)


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` over lines in proportion to `weights`, in whole paise, summing exactly to `total`
    (largest remainders get the odd paise). Used for the batch deduction the API does not itemise."""
    if not weights:
        return []
    base = sum(weights, ZERO)
    if total <= 0:
        return [ZERO for _ in weights]
    if base <= 0:
        weights, base = [Decimal(1)] * len(weights), Decimal(len(weights))
    exact = [total * w / base for w in weights]
    shares = [e.quantize(PAISA, rounding=ROUND_DOWN) for e in exact]
    leftover = int((total - sum(shares, ZERO)) / PAISA)
    by_remainder = sorted(range(len(weights)), key=lambda i: (exact[i] - shares[i], -i), reverse=True)
    for i in by_remainder[:leftover]:
        shares[i] += PAISA
    return shares


def expects_remittance(payment_method: str, tracking_status: str | None) -> bool:
    """A COD order expects cash unless it went back to origin (RTO), was lost or was cancelled."""
    if payment_method.upper() != "COD":
        return False
    status = (tracking_status or "").lower()
    return not (status.startswith("rto") or status in {"lost", "cancelled", "canceled", "destroyed", "damaged"})


@dataclass(frozen=True)
class DeliveredCod:
    salesorder_id: str
    salesorder_number: str
    awb: str
    tracking_status: str | None
    delivered_at: datetime | None
    declared_value: Decimal

