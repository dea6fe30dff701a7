"""Putting goods back in stock and money back in order, when an RTO is delivered back to us or a
customer-return parcel reaches our warehouse (facts zoho §4.4, §5.3):

1. a sales return for what Zoho shows shipped (RTO: everything shipped; customer return: the chosen
   lines), received into the line's own location or the configured returns warehouse;
2. if Zoho refuses the return because an item is not returnable, an inventory adjustment with the AWB as
   reference instead, and an alert saying so;
3. if the order was invoiced, a credit note in Books applied to the invoice: an unpaid COD invoice is left
   with nothing owed; a paid one keeps the credit open and ops is told to refund.

Each step is an exactly-once effect (effects.once) and carries the marker "RTO <awb>" / "Return <awb>",
by which a run interrupted after Zoho answered finds what it created.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.alerts import raise_alert
from app.integrations.http import PermanentUpstreamError
from app.money import lenient_amount, rupees, to_json_number
from app.timeutil import zoho_date
from app.tracking import zoho_writes as zw
from app.tracking.effects import ZERO, Context, Result, effect_state, once
from app.tracking.models import CustomerReturn


def is_non_returnable(exc: PermanentUpstreamError) -> bool:
    """Zoho's refusal of a return for an item not marked returnable (its wording; the code is unpublished)."""
    return "returnable" in exc.upstream_message.lower() or str(exc.code) == "36016"


def returned_quantities(ctx: Context, so: dict[str, Any]) -> list[tuple[dict[str, Any], Decimal]]:
    """(sales-order line, quantity coming back), never more than Zoho shows shipped."""
    so_lines = {str(line.get("line_item_id")): line for line in so.get("line_items") or []}
    if isinstance(ctx.parcel, CustomerReturn):
        chosen = [(so_lines.get(str(c["line_item_id"])), lenient_amount(c["quantity"])) for c in ctx.parcel.lines]
        return [(line, min(qty, lenient_amount(line.get("quantity_shipped")))) for line, qty in chosen
                if line is not None and min(qty, lenient_amount(line.get("quantity_shipped"))) > 0]
    return [(line, lenient_amount(line.get("quantity_shipped"))) for line in so_lines.values()
            if lenient_amount(line.get("quantity_shipped")) > 0]


def credit_lines(ctx: Context, so: dict[str, Any]) -> list[dict[str, Any]]:
    """Books credit-note lines: what was invoiced of what comes back; an RTO also reverses shipping."""
    so_lines = {str(line.get("line_item_id")): line for line in so.get("line_items") or []}
    wanted: list[tuple[dict[str, Any], Decimal]]
    if isinstance(ctx.parcel, CustomerReturn):
        wanted = [(so_lines[str(c["line_item_id"])], lenient_amount(c["quantity"])) for c in ctx.parcel.lines
                  if str(c["line_item_id"]) in so_lines]
    else:
        wanted = [(line, lenient_amount(line.get("quantity"))) for line in so_lines.values()]
    out = []
    for line, qty in wanted:
        invoiced = lenient_amount(line.get("quantity_invoiced", line.get("quantity")))
        qty = min(qty, invoiced)
        if qty <= 0:
            continue
        percent = lenient_amount(line.get("tax_percentage"))
        tax = ({"tax_id": line["tax_id"]} if line.get("tax_id") else {"tax_percentage": float(percent)} if percent
               else {})
        out.append({"item_id": line.get("item_id"), "name": line.get("name"),
                    "rate": to_json_number(lenient_amount(line.get("rate"))), "quantity": float(qty),
                    "description": ctx.marker, **tax})
    shipping = lenient_amount(so.get("shipping_charge"))
    if out and not isinstance(ctx.parcel, CustomerReturn) and shipping > 0:
        out.append({"name": "Shipping charge", "description": ctx.marker, "rate": to_json_number(shipping),
                    "quantity": 1})
    return out


def open_invoices(so: dict[str, Any]) -> list[dict[str, Any]]:
    return [inv for inv in so.get("invoices") or []
            if str(inv.get("status", "")).lower() not in ("void", "draft")]


async def restock(ctx: Context) -> None:
    returned = await once(ctx, "sales_return", lambda: _create_return(ctx), lambda: _find_return(ctx))
    if returned.get("salesreturn_id"):
        await once(ctx, "return_receive", lambda: _receive(ctx, returned), lambda: _find_receive(ctx, returned))
    elif returned.get("refused"):
        adjusted = await once(ctx, "restock_adjustment", lambda: _adjust(ctx, returned),
                              lambda: _find_adjustment(ctx))
        if adjusted.get("adjustment_id"):
            async with ctx.svc.sessionmaker.begin() as session:
                await raise_alert(session, kind="restock_by_adjustment", key=ctx.ref.awb,
                                  salesorder_id=ctx.ref.salesorder_id,
                                  message=f"{ctx.number}: Zoho refused the sales return for {ctx.marker} "
                                          f"({returned['refused']}); restocked {adjusted.get('units')} unit(s) by "
                                          f"inventory adjustment (reference {ctx.ref.awb}) instead. It is not "
                                          "linked to the sales order: check it in Zoho.")
    await _credit(ctx)


def _location(ctx: Context, line: dict[str, Any]) -> str | None:
    return ctx.svc.settings.TRACKING_RETURNS_LOCATION_ID or line.get("location_id") or None


async def _create_return(ctx: Context) -> Result:
    so = await ctx.salesorder()
    wanted = returned_quantities(ctx, so)
    if not wanted:
        return {"skipped": "Zoho shows nothing shipped for this order, so no stock left: nothing to restock"}
    lines = [{"item_id": line.get("item_id"), "salesorder_item_id": str(line["line_item_id"]),
              "quantity": float(qty), "non_receive_quantity": 0,
              **({"location_id": loc} if (loc := _location(ctx, line)) else {})} for line, qty in wanted]
    why = "returned to origin (undelivered)" if not ctx.ref.is_return else "customer return"
    try:
        created = await zw.create_sales_return(ctx.svc.zoho, ctx.ref.salesorder_id, lines=lines,
                                               date=zoho_date(ctx.parcel.last_event_at), reason=f"{ctx.marker}: {why}",
                                               location_id=ctx.svc.settings.TRACKING_RETURNS_LOCATION_ID or None)
    except PermanentUpstreamError as exc:
        if not is_non_returnable(exc):
            raise
        return {"refused": exc.upstream_message,
                "lines": [{"item_id": line.get("item_id"), "quantity": str(qty), "location_id": _location(ctx, line)}
                          for line, qty in wanted]}
    return _return_result(created)


def _return_result(created: dict[str, Any]) -> Result:
    return {"salesreturn_id": str(created["salesreturn_id"]),
            "salesreturn_number": str(created.get("salesreturn_number") or ""),
            "lines": [{"line_item_id": str(line["line_item_id"]), "quantity": str(line.get("quantity")),
                       "location_id": line.get("location_id")} for line in created.get("line_items") or []]}


async def _find_return(ctx: Context) -> Result | None:
    # Fresh: the copy this settle read before creating the return cannot list it yet.
    found = await zw.find_sales_return(ctx.svc.zoho, await ctx.salesorder(fresh=True), ctx.marker)
    return None if found is None else _return_result(found)


async def _receive(ctx: Context, returned: Result) -> Result:
    lines = [{"line_item_id": line["line_item_id"], "quantity": float(lenient_amount(line["quantity"])),
              **({"location_id": line["location_id"]} if line.get("location_id") else {})}
             for line in returned["lines"] if lenient_amount(line["quantity"]) > 0]
    await zw.receive_sales_return(ctx.svc.zoho, returned["salesreturn_id"], lines=lines,
                                  date=zoho_date(ctx.parcel.last_event_at), notes=f"{ctx.marker}: received back")
    return {"salesreturn_id": returned["salesreturn_id"],
            "units": str(sum(lenient_amount(ln["quantity"]) for ln in lines))}


async def _find_receive(ctx: Context, returned: Result) -> Result | None:
    current = await zw.get_sales_return(ctx.svc.zoho, returned["salesreturn_id"])
    if str(current.get("receive_status")) != "received":
        return None
    return {"salesreturn_id": returned["salesreturn_id"]}


async def _adjust(ctx: Context, returned: Result) -> Result:
    lines = [{"item_id": line["item_id"], "quantity_adjusted": float(lenient_amount(line["quantity"])),
              **({"location_id": line["location_id"]} if line.get("location_id") else {})}
             for line in returned["lines"]]
    first_location = next((line["location_id"] for line in returned["lines"] if line.get("location_id")), None)
    created = await zw.create_adjustment(ctx.svc.zoho, lines=lines, date=zoho_date(ctx.parcel.last_event_at),
                                         reason=f"{ctx.marker}: sales return refused", reference=ctx.ref.awb,
                                         location_id=first_location)
    return {"adjustment_id": str(created["inventory_adjustment_id"]),
            "units": str(sum(lenient_amount(line["quantity"]) for line in returned["lines"]))}


async def _find_adjustment(ctx: Context) -> Result | None:
    found = await zw.find_adjustment(ctx.svc.zoho, ctx.ref.awb)
    return {"adjustment_id": str(found["inventory_adjustment_id"])} if found else None


# --- Books --------------------------------------------------------------------------------------------

async def _credit(ctx: Context) -> None:
    # Stored results first: a re-settle of a finished parcel must cost no Zoho call. The sales order is
    # read (once per settle, cached on ctx) only when there is something left to do.
    if await effect_state(ctx, "credit_note") is None and not open_invoices(await ctx.salesorder()):
        return  # not invoiced: nothing to reverse
    note = await once(ctx, "credit_note", lambda: _create_credit_note(ctx), lambda: _find_credit_note(ctx))
    if not note.get("creditnote_id"):
        return
    applied = await once(ctx, "credit_apply", lambda: _apply(ctx, note), lambda: _find_applied(ctx, note))
    if lenient_amount(applied.get("open")) > 0:
        async with ctx.svc.sessionmaker.begin() as session:
            number = note.get("creditnote_number") or note["creditnote_id"]
            await raise_alert(session, kind="refund_due", key=ctx.ref.subject, salesorder_id=ctx.ref.salesorder_id,
                              message=f"{ctx.number}: credit note {number} has Rs {applied['open']} open because the "
                                      "invoice was already paid. Refund the customer from Zoho Books (or keep it as "
                                      "their credit).")


async def _create_credit_note(ctx: Context) -> Result:
    so = await ctx.salesorder()
    invoices, lines = open_invoices(so), credit_lines(ctx, so)
    if not invoices or not lines:
        return {"skipped": "nothing invoiced of what came back"}
    created = await zw.create_credit_note(
        ctx.svc.zoho, customer_id=str(so["customer_id"]), invoice_id=str(invoices[0]["invoice_id"]),
        number=f"CN-{ctx.ref.awb}"[:30], date=zoho_date(ctx.parcel.last_event_at), reference=ctx.marker, lines=lines,
        notes=f"Shipbridge: {ctx.marker} for {ctx.number}")
    return {"creditnote_id": str(created["creditnote_id"]),
            "creditnote_number": str(created.get("creditnote_number") or ""),
            "total": rupees(lenient_amount(created.get("total")))}


async def _find_credit_note(ctx: Context) -> Result | None:
    so = await ctx.salesorder()
    found = await zw.find_credit_note(ctx.svc.zoho, ctx.marker, str(so["customer_id"]))
    if found is None:
        return None
    return {"creditnote_id": str(found["creditnote_id"]),
            "creditnote_number": str(found.get("creditnote_number") or ""),
            "total": rupees(lenient_amount(found.get("total")))}


async def _apply(ctx: Context, note: Result) -> Result:
    remaining = lenient_amount(note["total"])
    amounts: dict[str, Decimal] = {}
    for invoice in open_invoices(await ctx.salesorder()):
        take = min(lenient_amount(invoice.get("balance")), remaining)
        if take > 0:
            amounts[str(invoice["invoice_id"])] = take
            remaining -= take
    if amounts:
        await zw.apply_credit_note(ctx.svc.zoho, note["creditnote_id"], amounts)
    return {"applied": rupees(sum(amounts.values(), ZERO)), "open": rupees(remaining),
            "invoices": ",".join(amounts)}


async def _find_applied(ctx: Context, note: Result) -> Result | None:
    current = await zw.get_credit_note(ctx.svc.zoho, note["creditnote_id"])
    applied = lenient_amount(current.get("total")) - lenient_amount(current.get("balance"))
    if applied <= 0:
        return None
    return {"applied": rupees(applied), "open": rupees(lenient_amount(current.get("balance")))}
