"""Whatever Shiplee answers to the calls the pollers make (search_orders, cod_remittance,
weight_disputes), its mapping gives typed values or nothing: never an exception that would fail every
poll run. Pure, no network."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.integrations.shiplee import mapping
from tests.fuzz.bodies import JSON_VALUES

MONEYISH = st.one_of(JSON_VALUES, st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-5", "sNaN",
                                                   "1,299.00", Decimal("NaN"), 10**30]))
ROW = st.dictionaries(st.sampled_from(["remittance_ids", "awbs", "total_cod_amount", "total_net_remittance",
                                       "total_base_charge", "total_gst_component", "remittance_status",
                                       "remittance_date", "utr_number", "id", "awb_number", "status",
                                       "customer_info_id", "chargeable_booked_weight", "upcoming_charges",
                                       "chargeable_applied_weight", "created_at", "order_date"]), MONEYISH)


def _bodies() -> st.SearchStrategy[Any]:
    return st.one_of(
        JSON_VALUES,
        st.builds(lambda rows, extra: {"data": {"remittances": rows, "open_disputes": extra,
                                                "summary": {"remitted_till_date": extra}}},
                  st.one_of(st.lists(ROW, max_size=3), JSON_VALUES), MONEYISH),
        st.builds(lambda rows: {"orders": rows}, st.one_of(st.lists(ROW, max_size=3), JSON_VALUES)),
        st.builds(lambda rows: {"disputes": rows}, st.one_of(st.lists(ROW, max_size=3), JSON_VALUES)))


@settings(max_examples=300, deadline=None)
@given(body=_bodies())
def test_shiplee_poll_answers_map_or_are_left_out(body: Any) -> None:
    seen = datetime(2026, 3, 15, tzinfo=UTC)
    for row in mapping.remittances(body).rows:
        batch = mapping.remittance_batch(row)
        if batch is not None:
            assert batch.batch_id.startswith("SL-") and all(i.awb for i in batch.items)
            assert batch.gross.is_finite() and batch.deductions.is_finite() and batch.remitted.is_finite()
    for status in mapping.shipment_statuses(body):
        assert mapping.tracking_update(status, seen).event_at == seen
    for dispute in mapping.weight_disputes(body):
        assert mapping.weight_dispute(dispute).charges.is_finite()
