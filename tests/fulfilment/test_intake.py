"""Item package details: read from Zoho once, then from the Redis cache; no Redis or no item still ships."""

from app.fulfilment.handler import item_packages
from app.services import build_services
from sandbox.server import free_port
from tests.spine_helpers import seed_item


async def test_package_details_are_cached_across_orders(svc, zoho_sim):
    bottle = seed_item(zoho_sim, sku="PKG-1", weight_g=420)
    first = await item_packages(svc, [bottle, bottle])
    second = await item_packages(svc, [bottle])
    assert first[bottle]["weight"] == 420 and second == first
    assert zoho_sim.calls.count(("GET", f"/inventory/v1/items/{bottle}")) == 1


async def test_unknown_item_falls_back_and_redis_down_still_reads_zoho(svc, zoho_sim):
    bottle = seed_item(zoho_sim, sku="PKG-2")
    assert await item_packages(svc, ["4815000000000000001"]) == {}  # Zoho: item does not exist
    no_redis = build_services(svc.settings.model_copy(update={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}),
                              engine=svc.engine)
    try:
        found = await item_packages(no_redis, [bottle])
    finally:
        await no_redis.queue.close()
        await no_redis.http.aclose()
    assert found[bottle]["length"] == 28
