"""The Shiplee client against the Shiplee simulator over real HTTP, with the shared token in real
Postgres: every call's happy path and each refusal the seed documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from app.integrations.aggregator import Address, OrderLine, Parcel, ShipOrder
from app.integrations.http import PermanentUpstreamError, RetryableUpstreamError, RetryPolicy, UpstreamAuthError
from app.integrations.shiplee.client import ShipleeClient
from app.integrations.shiplee.models import (
    ShipleeAgreementRequired,
    ShipleeInsufficientBalance,
    ShipleeNotServiceable,
)
from app.integrations.shipping import TrackingStatus, UnsupportedByAggregator
from app.models import Alert
from app.settings import Settings
from app.timeutil import ist_today
from sandbox.shiplee import ShipleeSim

POLICY = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01)


def ship_order(number: str = "SO-1", *, cod: bool = True, pincode: str = "560001",
               total: Decimal = Decimal("1299.00")) -> ShipOrder:
    return ShipOrder(
        salesorder_id="4600000000000000001", salesorder_number=number, order_date=date(2026, 3, 15),
        customer_id="4600000000000000100",
        address=Address(name="Rahul Sharma", line1="12 MG Road", line2="Apt 4B", city="Bengaluru",
                        state="Karnataka", pincode=pincode, country="India", phone="+91 98765 43210",
                        email="rahul@example.com"),
        lines=(OrderLine(line_item_id="1", item_id="9", sku="SKU001", name="Shoes", quantity=Decimal(1),
                         rate=total, hsn="6403", tax_percent=Decimal(18)),),
        total=total, payment_method="COD" if cod else "Prepaid",
        parcel=Parcel(weight_kg=Decimal("0.5"), length_cm=Decimal(30), breadth_cm=Decimal(20), height_cm=Decimal(15)))


@pytest.fixture
async def parts(shiplee_settings: Settings, clean: None) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    engine = make_engine(shiplee_settings.DATABASE_URL)
    async with httpx.AsyncClient(timeout=5) as http:
        yield http, make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def client(parts: tuple[httpx.AsyncClient, object], shiplee_settings: Settings) -> ShipleeClient:
    http, sessionmaker = parts
    return ShipleeClient(http, shiplee_settings, sessionmaker, POLICY)  # type: ignore[arg-type]


async def booked(client: ShipleeClient, number: str = "SO-1", **kw: object) -> tuple[str, str]:
    order = ship_order(number, **kw)  # type: ignore[arg-type]
    created = await client.create_order(order, number)
    quotes = await client.quotes(order, "110001")
    booking = await client.book(created.order_id, quotes[0])
    return created.order_id, booking.awb


async def test_login_once_shared_by_two_clients(parts: tuple[httpx.AsyncClient, object], shiplee_settings: Settings,
                                                shiplee_sim: ShipleeSim) -> None:
    http, sessionmaker = parts
    first = ShipleeClient(http, shiplee_settings, sessionmaker, POLICY)  # type: ignore[arg-type]
    second = ShipleeClient(http, shiplee_settings, sessionmaker, POLICY)  # type: ignore[arg-type]
    assert len(await first.warehouses()) == 2
    assert len(await second.warehouses()) == 2
    assert shiplee_sim.login_count == 1
    assert (first.token.fetches, second.token.fetches) == (1, 0)


async def test_expired_token_logs_in_again_once(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    await client.warehouses()
    shiplee_sim.expire_tokens()
    assert (await client.warehouses())[0].nickname == "Delhi HQ"
    assert shiplee_sim.login_count == 2


async def test_bad_login_and_blocked_account_are_credential_errors(
        parts: tuple[httpx.AsyncClient, object], shiplee_settings: Settings, shiplee_sim: ShipleeSim) -> None:
    http, sessionmaker = parts
    wrong = ShipleeClient(http, shiplee_settings.model_copy(update={"SHIPLEE_MOBILE": "9999999999"}),
                          sessionmaker, POLICY)  # type: ignore[arg-type]
    with pytest.raises(UpstreamAuthError, match="Invalid mobile number or password") as err:
        await wrong.warehouses()
    assert err.value.status == 401
    shiplee_sim.account_status = "blocked"
    right = ShipleeClient(http, shiplee_settings, sessionmaker, POLICY)  # type: ignore[arg-type]
    with pytest.raises(UpstreamAuthError) as err:
        await right.warehouses()
    assert err.value.status == 403


async def test_agreement_gate_alerts_once_and_never_retries(client: ShipleeClient, shiplee_sim: ShipleeSim,
                                                            shiplee_settings: Settings) -> None:
    await client.warehouses()
    shiplee_sim.publish_agreement(7)
    shiplee_sim.calls.clear()
    for _ in range(2):
        with pytest.raises(ShipleeAgreementRequired) as err:
            await client.quotes(ship_order(), "110001")
        assert not err.value.retryable and err.value.code == "AGREEMENT_REQUIRED"
    # one refused call and one look at the pending agreement per attempt; no retries, no re-login
    assert shiplee_sim.calls == [("POST", "/api/rates"), ("GET", "/api/agreement")] * 2
    engine = make_engine(shiplee_settings.DATABASE_URL)
    async with engine.connect() as conn:
        alerts = (await conn.execute(select(Alert.dedupe_key, Alert.message))).all()
    await engine.dispose()
    assert [a.dedupe_key for a in alerts] == ["shiplee_agreement_required:7"]
    assert "Terms and Conditions v6" in alerts[0].message
    assert (await client.agreement()).agreement_id == "7"
    await client.accept_agreement("7")
    assert (await client.quotes(ship_order(), "110001"))


async def test_a_gate_met_by_one_process_keeps_every_process_out_of_it(
        parts: tuple[httpx.AsyncClient, object], client: ShipleeClient, shiplee_sim: ShipleeSim,
        shiplee_settings: Settings) -> None:
    # Two clients over one database stand for two worker processes: what one learns at the gate, the
    # other reads from the open alert, so it looks at the exempt agreement instead of knocking.
    http, sessionmaker = parts
    other = ShipleeClient(http, shiplee_settings, sessionmaker, POLICY)  # type: ignore[arg-type]
    assert await other.blocked() is None and shiplee_sim.calls == []  # nothing known: no call at all
    await client.warehouses()
    shiplee_sim.publish_agreement(8)
    with pytest.raises(ShipleeAgreementRequired):
        await client.track(["143900012345"])
    shiplee_sim.calls.clear()
    waiting = await other.blocked()
    assert waiting is not None and "agreement 8" in waiting
    assert shiplee_sim.calls == [("GET", "/api/agreement")]  # the exempt look, never into the gate
    shiplee_sim.agreement_accepted = True  # a person accepted the terms in Shiplee's panel
    assert await other.blocked() is None
    async with sessionmaker() as session:  # type: ignore[operator]
        [alert] = (await session.execute(select(Alert))).scalars().all()
    assert alert.resolved and "terms are accepted" in (alert.resolved_by or "")
    shiplee_sim.calls.clear()
    assert await client.blocked() is None  # the first process's own mark: one look, accepted, back to work
    assert await other.blocked() is None  # the alert is resolved: no look at all
    assert shiplee_sim.calls == [("GET", "/api/agreement")]


async def test_quotes_cheapest_first_with_cod_formula(client: ShipleeClient) -> None:
    quotes = await client.quotes(ship_order(total=Decimal(2000)), "110001")
    # charge weight 1.8 kg (30×20×15/5000 beats 0.5 kg): four 500 g Xpressbees slabs cost more
    assert [q.carrier_id for q in quotes] == ["delhivery_2kg_surface", "xpressbees_air"]
    assert quotes[1].freight == Decimal(280)
    delhivery = quotes[0]
    # above the ₹1700 threshold: max(₹38, 2% of ₹2000) = ₹40 on top of one 2 kg slab of ₹124
    assert (delhivery.freight, delhivery.cod_charges, delhivery.cost) == (Decimal(124), Decimal(40), Decimal(164))
    assert delhivery.zone == "D" and delhivery.ratecard_id == 60
    prepaid = await client.quotes(ship_order(cod=False), "110001")
    assert all(q.cod_charges == 0 for q in prepaid)
    view = await client.check_serviceability(ship_order(total=Decimal(2000)), "110001")
    assert [(o.courier_id, o.name, o.rate, o.aggregator) for o in view.options][0] == (
            "delhivery_2kg_surface", "Delhivery 2kg Surface", Decimal(164), "shiplee")
    assert view.recommended_id == "delhivery_2kg_surface"


async def test_unserviceable_lane(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    shiplee_sim.unserviceable_pincodes.add("560001")
    assert await client.quotes(ship_order(), "110001") == ()
    assert (await client.check_serviceability(ship_order(), "110001")).options == ()


async def test_create_book_and_duplicate_booking(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    order = ship_order()
    created = await client.create_order(order, "SO-1")
    assert created.status == "new" and created.order_id == created.shipment_id
    stored = shiplee_sim.orders[int(created.order_id)]
    assert stored["mobile"] == "9876543210" and stored["payment_type"] == "cod"
    assert stored["total_price"] == Decimal("1299.00")
    assert (await client.find_order("SO-1")) is not None
    quote = (await client.quotes(order, "110001"))[0]
    wallet = shiplee_sim.wallet
    booking = await client.book(created.order_id, quote)
    assert booking.awb and not booking.already_booked and booking.cost == quote.cost
    assert shiplee_sim.wallet == wallet - quote.cost
    again = await client.book(created.order_id, quote)  # a retry after a lost reply
    assert again.already_booked and again.awb == booking.awb
    assert shiplee_sim.wallet == wallet - quote.cost  # charged once
    assert await client.find_order("SO-1") is None  # get_orders lists unbooked orders only


async def test_lost_booking_reply_is_retried_into_already_booked(client: ShipleeClient,
                                                                 shiplee_sim: ShipleeSim) -> None:
    order = ship_order()
    created = await client.create_order(order, "SO-1")
    quote = (await client.quotes(order, "110001"))[0]
    shiplee_sim.faults.server_error("/api/book_shipment", status=502).after = True
    booking = await client.book(created.order_id, quote)
    assert booking.already_booked and booking.awb == shiplee_sim.orders[int(created.order_id)]["awb_number"]


async def test_booking_refusals(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    order = ship_order()
    created = await client.create_order(order, "SO-1")
    quote = (await client.quotes(order, "110001"))[0]
    shiplee_sim.wallet = Decimal("499.99")
    with pytest.raises(ShipleeInsufficientBalance) as low:
        await client.book(created.order_id, quote)
    assert low.value.status == 402 and low.value.code == "INSUFFICIENT_BALANCE"
    shiplee_sim.wallet = Decimal(5000)
    shiplee_sim.unserviceable_pincodes.add("560001")
    with pytest.raises(ShipleeNotServiceable):
        await client.book(created.order_id, quote)
    with pytest.raises(PermanentUpstreamError) as missing:
        await client.book("999999", quote)
    assert missing.value.status == 404
    shiplee_sim.unserviceable_pincodes.clear()
    shiplee_sim.courier_failures = 5  # the courier API keeps failing: retried, then a retryable error
    with pytest.raises(Exception) as failed:
        await client.book(created.order_id, quote)
    assert getattr(failed.value, "retryable", False)


async def test_create_order_refused_with_shiplees_message(client: ShipleeClient) -> None:
    bad = ship_order(pincode="56001")
    with pytest.raises(PermanentUpstreamError, match="pincode") as err:
        await client.create_order(bad, "SO-2")
    assert err.value.status == 422


async def test_cancel_before_and_after_booking_and_after_pickup(client: ShipleeClient,
                                                               shiplee_sim: ShipleeSim) -> None:
    unbooked = await client.create_order(ship_order("SO-1"), "SO-1")
    await client.cancel([unbooked.order_id])
    assert shiplee_sim.orders[int(unbooked.order_id)]["status"] == "cancelled"

    oid, awb = await booked(client, "SO-2")
    wallet = shiplee_sim.wallet
    await client.cancel([oid])
    assert shiplee_sim.orders[int(oid)]["status"] == "cancelled"
    assert shiplee_sim.wallet > wallet  # refunded

    oid, awb = await booked(client, "SO-3")
    shiplee_sim.advance(awb, "in_transit")
    with pytest.raises(PermanentUpstreamError, match="in_transit"):
        await client.cancel([oid])
    rebook_id, _ = await booked(client, "SO-4")
    result = await client.cancel_shipments([rebook_id], rebook=True)
    assert result.wallet_balance == shiplee_sim.wallet
    assert shiplee_sim.orders[int(rebook_id)]["status"] == "new"


async def test_status_polling_maps_shiplee_words(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    _, awb = await booked(client)
    status = await client.shipment_status(awb)
    assert status is not None and (status.raw_status, status.status) == ("booked", TrackingStatus.awb_assigned)
    for raw, ours in (("manifested", TrackingStatus.pickup_scheduled), ("in_transit", TrackingStatus.in_transit),
                      ("delivered", TrackingStatus.delivered)):
        shiplee_sim.advance(awb, raw)
        polled = await client.shipment_status(awb)
        assert polled is not None and polled.status == ours and polled.raw_status == raw
    assert await client.shipment_status("000000000000") is None


async def test_manifest_pdf_only_for_manifested(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    oid, awb = await booked(client)
    with pytest.raises(PermanentUpstreamError) as err:
        await client.manifest([oid])
    assert err.value.status == 404
    shiplee_sim.advance(awb, "manifested")
    manifest = await client.manifest([oid])
    assert manifest.pdf.startswith(b"%PDF") and awb.encode() in manifest.pdf
    assert manifest.filename.startswith("Shiplee_Manifest_")
    with pytest.raises(ValueError):
        await client.manifest([str(i) for i in range(501)])


async def test_cod_remittance_and_weight_disputes(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    _, awb = await booked(client)
    shiplee_sim.advance(awb, "delivered")
    shiplee_sim.add_remittance(["AWB001", "AWB002"], Decimal(3500), status="completed", utr="UTR123",
                               remittance_date=ist_today() - timedelta(days=1))
    listing = await client.remittance_listing()
    pending = next(r for r in listing.rows if r.awbs == (awb,))
    assert pending.cod_amount == Decimal("1299") and pending.status == "pending" and pending.utr is None
    done = next(r for r in listing.rows if r.utr == "UTR123")
    assert done.awbs == ("AWB001", "AWB002") and len(done.remittance_ids) == 2
    assert done.net_remittance == Decimal(3500) - done.base_charge - done.gst
    assert listing.remitted_till_date == done.net_remittance

    fresh = shiplee_sim.add_dispute(awb, 500, 1000, Decimal(41))
    shiplee_sim.add_dispute(awb, 500, 1500, Decimal(80), created_at=shiplee_sim.clock() - timedelta(days=5))
    disputes = await client.weight_dispute_rows()
    assert {(d.dispute_id, d.status, d.auto_accepted) for d in disputes} >= {(str(fresh["id"]), "DISPUTE", False)}
    old = next(d for d in disputes if d.applied_grams == 1500)
    assert (old.status, old.auto_accepted) == ("CLOSED", True)  # closed after 4 days (seed §23)
    assert old.charges == Decimal(80) and old.created_at is not None and old.created_at.tzinfo is not None


async def test_wallet_and_warehouses_are_typed(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    shiplee_sim.wallet = Decimal("4836.50")
    assert await client.wallet_balance() == Decimal("4836.5")
    primary = [w for w in await client.warehouses() if w.primary]
    assert [(w.warehouse_id, w.pincode) for w in primary] == [("1", "110001")]


async def test_rate_limit_and_outage_are_retried(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    await client.warehouses()
    shiplee_sim.faults.rate_limit("/api/rates", retry_after=0)
    shiplee_sim.faults.server_error("/api/rates", status=503)
    assert await client.quotes(ship_order(), "110001")
    assert shiplee_sim.calls.count(("POST", "/api/rates")) == 3


async def test_create_order_is_not_retried_blind(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    """No duplicate guard on create (seed §29): a reply lost after the order was made must not make two."""
    shiplee_sim.faults.server_error("/api/create_order", status=502).after = True
    with pytest.raises(RetryableUpstreamError):
        await client.create_order(ship_order(), "SO-9")
    assert len(shiplee_sim.orders) == 1
    found = await client.find_order("SO-9")
    assert found is not None and found.reused_existing and int(found.order_id) in shiplee_sim.orders


async def test_cancel_copes_with_a_bare_422(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    oid, _ = await booked(client)
    shiplee_sim.faults.inject("/api/cancel_orders", status=422,
                              body={"status": "error", "message": "No cancellable orders found."})
    await client.cancel([oid])
    assert shiplee_sim.orders[int(oid)]["status"] == "cancelled"


async def test_typed_aggregator_methods(client: ShipleeClient, shiplee_sim: ShipleeSim) -> None:
    _, awb = await booked(client)
    shiplee_sim.advance(awb, "delivered")  # a pending D+7 row: announced, not paid
    shiplee_sim.add_remittance([awb], Decimal("1299"), status="completed", utr="UTR7", remittance_date=ist_today())
    tracked = await client.track([awb, "000000000000"])
    assert list(tracked) == [awb] and tracked[awb].status == TrackingStatus.delivered
    listing = await client.remittances(ist_today() - timedelta(days=1), ist_today() + timedelta(days=10))
    assert [(b.paid, b.utr) for b in listing.batches] == [(True, "UTR7"), (False, None)]  # by date
    assert (await client.remittances(ist_today() + timedelta(days=1), ist_today() + timedelta(days=2))).batches == ()
    assert await client.remittance_order("1") is None
    shiplee_sim.add_dispute(awb, 500, 1000, Decimal(41))
    [dispute] = await client.weight_disputes(ist_today() - timedelta(days=7), ist_today())
    assert dispute.awb == awb and dispute.charges == Decimal(41) and not dispute.closed
    with pytest.raises(ValueError):
        await client.track([str(n) for n in range(client.track_batch + 1)])


async def test_what_shiplee_has_no_api_for_is_refused_without_a_call(client: ShipleeClient,
                                                                     shiplee_sim: ShipleeSim) -> None:
    with pytest.raises(UnsupportedByAggregator, match="Shiplee has no API to book a customer return"):
        await client.pickup_location("Primary")
    with pytest.raises(UnsupportedByAggregator, match="NDR"):
        await client.ndr_action("1439", "re-attempt", "")
    assert shiplee_sim.calls == [] and await client.blocked() is None
