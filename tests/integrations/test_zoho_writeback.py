"""The sales-order write-back satisfies the spec's PUT (salesorder_number, customer_id, line_items) and
changes nothing but the custom fields: lines, discounts, tax and totals stay exactly as they were."""

from __future__ import annotations


async def test_custom_field_write_leaves_the_order_as_it_was(svc, zoho_sim):
    kurta = zoho_sim.item_by_sku("KURTA-IND-M")["item_id"]
    bottle = zoho_sim.item_by_sku("BOTTLE-STL-1L")["item_id"]
    so = zoho_sim.create_salesorder(
        lines=[{"item_id": kurta, "quantity": 2, "rate": "1199", "tax_percentage": 5, "discount": "5%"},
               {"item_id": bottle, "quantity": 3, "rate": "649", "tax_percentage": 18}],
        discount="10%", shipping_charge=60, status="confirmed")
    so_id = so["salesorder_id"]
    await svc.zoho.update_salesorder_custom_fields(so_id, {"cf_awb_number": "AWB42"})
    after = zoho_sim.salesorder(so_id)
    assert zoho_sim.custom_field(so_id, "cf_awb_number") == "AWB42"
    keep = ("line_items", "sub_total", "tax_total", "discount", "discount_amount", "shipping_charge", "total",
            "customer_id", "salesorder_number")
    assert {k: after[k] for k in keep} == {k: so[k] for k in keep}
    puts = [c for c in zoho_sim.calls if c == ("PUT", f"/inventory/v1/salesorders/{so_id}")]
    assert len(puts) == 1
