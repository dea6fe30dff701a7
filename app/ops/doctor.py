"""`shipbridge doctor`: checks a deployment before go-live, in the spirit of the integration guide's
pre-launch checklist. Each check prints one PASS/FAIL line with the reason; any FAIL exits non-zero.
It makes real but harmless calls: a Shiprocket login and pickup list, a Shiplee login and warehouse list
(when Shiplee is configured), a Zoho token refresh, reads of each
module the token needs, and a no-op write of each custom field's current value on the newest order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text

from app.integrations.http import UpstreamAuthError, UpstreamError, parse_body
from app.ops.health import migration_heads
from app.services import Services, build_services
from app.settings import Settings

# Shiprocket refuses webhook URLs containing these anywhere, host included (reference: the real APIs win).
BANNED_WEBHOOK_WORDS = ("shiprocket", "kartrocket", "sr", "kr")
# One cheap read per module whose scope Shipbridge needs (README: the scopes to grant). Modules that can
# only be probed by writing (packages, shipment orders) are not probed.
SCOPE_PROBES = {
    "ZohoInventory.salesorders": "/inventory/v1/salesorders",
    "ZohoInventory.items": "/inventory/v1/items",
    "ZohoInventory.salesreturns": "/inventory/v1/salesreturns",
    "ZohoInventory.inventoryadjustments": "/inventory/v1/inventoryadjustments",
    "ZohoBooks.invoices": "/books/v3/invoices",
    "ZohoBooks.customerpayments": "/books/v3/customerpayments",
    "ZohoBooks.creditnotes": "/books/v3/creditnotes",
}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def webhook_checks(public_url: str) -> list[Check]:
    if not public_url:
        return [Check("webhook URLs", False, "set PUBLIC_BASE_URL (or --public-url) to the HTTPS address of the API")]
    base = public_url.rstrip("/")
    zoho_url, tracking_url = f"{base}/webhooks/zoho/salesorders", f"{base}/webhooks/tracking"
    out = [Check("webhook URL for Zoho", base.startswith("https://"),
                 f"paste {zoho_url}" + ("" if base.startswith("https://") else " (Zoho requires HTTPS)"))]
    banned = [w for w in BANNED_WEBHOOK_WORDS if w in tracking_url.lower()]
    detail = f"paste {tracking_url}"
    if banned:
        detail += f" - Shiprocket refuses it: contains {', '.join(repr(w) for w in banned)}; use another host or path"
    elif not base.startswith("https://"):
        detail += " (Shiprocket requires HTTPS)"
    out.append(Check("webhook URL for Shiprocket tracking", not banned and base.startswith("https://"), detail))
    return out


async def _storage(svc: Services) -> list[Check]:
    out = []
    try:
        async with svc.sessionmaker() as session:
            versions = set((await session.execute(text("SELECT version_num FROM alembic_version"))).scalars())
        out.append(Check("postgres", True, "reachable"))
        heads = migration_heads()
        out.append(Check("migrations", versions == heads, "at head" if versions == heads else
                         f"database at {','.join(sorted(versions)) or 'nothing'}, code at {','.join(sorted(heads))}: "
                         "run `shipbridge migrate`"))
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        reason = "never migrated: run `shipbridge migrate`" if "alembic_version" in str(exc) else type(exc).__name__
        out.append(Check("postgres", "alembic_version" in str(exc), "reachable" if "alembic_version" in str(exc)
                         else f"unreachable ({reason})"))
        out.append(Check("migrations", False, reason))
    try:
        await (await svc.queue.pool()).ping()
        out.append(Check("redis", True, "reachable"))
    except (RedisError, OSError, ConnectionError) as exc:
        out.append(Check("redis", False, f"unreachable ({type(exc).__name__})"))
    return out


async def _shiprocket(svc: Services) -> list[Check]:
    s = svc.settings
    client: Any = svc.aggregator_for("shiprocket")
    try:
        await client._login()  # the credentials themselves, not the token other processes share
        response = await client.call("GET", "/settings/company/pickup")
    except UpstreamAuthError as exc:
        return [Check("shiprocket login", False, f"refused: {exc.upstream_message} (SHIPROCKET_EMAIL / PASSWORD)")]
    except UpstreamError as exc:
        return [Check("shiprocket login", False, f"unreachable: {exc}")]
    rows = ((parse_body(response) or {}).get("data") or {}).get("shipping_address") or []
    names = [str(r.get("pickup_location")) for r in rows if isinstance(r, dict)]
    out = [Check("shiprocket login", True, "API user logged in")]
    wanted = s.SHIPROCKET_PICKUP_LOCATION
    match = next((r for r in rows if isinstance(r, dict) and str(r.get("pickup_location")) == wanted), None)
    if match is None:
        near = [n for n in names if n.strip().lower() == s.SHIPROCKET_PICKUP_LOCATION.strip().lower()]
        hint = f" (did you mean {near[0]!r}? case and spaces matter)" if near else ""
        out.append(Check("shiprocket pickup location", False, f"{s.SHIPROCKET_PICKUP_LOCATION!r} not found{hint}; "
                         f"Shiprocket has: {', '.join(repr(n) for n in names) or 'none'}"))
    elif str(match.get("pin_code") or "") != s.SHIPROCKET_PICKUP_PINCODE:
        out.append(Check("shiprocket pickup location", False, f"{s.SHIPROCKET_PICKUP_LOCATION!r} has pincode "
                         f"{match.get('pin_code')}, SHIPROCKET_PICKUP_PINCODE is {s.SHIPROCKET_PICKUP_PINCODE}"))
    else:
        out.append(Check("shiprocket pickup location", True, f"{wanted!r} ({match.get('pin_code')})"))
    return out


async def _shiplee(svc: Services) -> list[Check]:
    """Only when Shiplee is configured: the login itself, and that SHIPLEE_WAREHOUSE_ID is one of the
    account's warehouses (a wrong id fails every booking with a 404)."""
    s = svc.settings
    if not (s.shiplee_configured or "shiplee" in s.aggregator_order):
        return []
    if not s.shiplee_configured:
        return [Check("shiplee login", False, "AGGREGATORS names shiplee but SHIPLEE_MOBILE / SHIPLEE_PASSWORD "
                                              "are not set")]
    client: Any = svc.aggregator_for("shiplee")
    try:
        await client._login()  # the credentials themselves, not the token other processes share
        warehouses = await client.warehouses()
    except UpstreamAuthError as exc:
        return [Check("shiplee login", False, f"refused: {exc.upstream_message} (SHIPLEE_MOBILE / PASSWORD)")]
    except UpstreamError as exc:
        # The agreement gate lands here too: the client has raised its alert, the message says what to do.
        return [Check("shiplee login", False, f"{exc.upstream_message or exc}")]
    out = [Check("shiplee login", True, "logged in")]
    valid = ", ".join(f"{w.warehouse_id} ({w.nickname}, {w.pincode})" for w in warehouses) or "none"
    wanted = s.SHIPLEE_WAREHOUSE_ID.strip()
    match = next((w for w in warehouses if w.warehouse_id == wanted), None)
    if match is None:
        what = f"{wanted!r} is not one of them" if wanted else "SHIPLEE_WAREHOUSE_ID is not set"
        out.append(Check("shiplee warehouse", False, f"{what}; Shiplee has: {valid}"))
    else:
        out.append(Check("shiplee warehouse", True, f"{match.warehouse_id} ({match.nickname}, {match.pincode})"))
    return out


async def _zoho(svc: Services) -> list[Check]:
    s = svc.settings
    zoho: Any = svc.zoho
    try:
        await zoho._refresh()  # the refresh token itself, not a cached access token
    except UpstreamError as exc:
        return [Check("zoho token refresh", False,
                      f"{exc} (ZOHO_CLIENT_ID / SECRET / REFRESH_TOKEN, ZOHO_ACCOUNTS_URL)")]
    out = [Check("zoho token refresh", True, "refresh token accepted")]
    try:
        orgs = (await zoho.call("GET", "/inventory/v1/organizations")).get("organizations") or []
        ids = [str(o.get("organization_id")) for o in orgs]
        found = s.ZOHO_ORGANIZATION_ID in ids
        out.append(Check("zoho organisation", found, f"{s.ZOHO_ORGANIZATION_ID} found" if found else
                         f"{s.ZOHO_ORGANIZATION_ID} not among this user's organisations ({', '.join(ids) or 'none'})"))
    except UpstreamError as exc:
        out.append(Check("zoho organisation", False, f"{exc} (needs ZohoInventory.settings.READ)"))
    missing = []
    for scope, path in SCOPE_PROBES.items():
        try:
            await zoho.call("GET", path, params={"per_page": 1})
        except UpstreamError as exc:
            missing.append(f"{scope} ({exc.upstream_message or exc})")
    out.append(Check("zoho scopes", not missing, "every probed module readable" if not missing
                     else "token lacks: " + "; ".join(missing)))
    out.append(await _custom_fields(svc))
    return out


async def _custom_fields(svc: Services) -> Check:
    s = svc.settings
    zoho: Any = svc.zoho
    wanted = [s.CF_AWB_NUMBER, s.CF_SHIPROCKET_ORDER_ID, s.CF_COURIER_PARTNER, s.CF_SHIPMENT_STATUS,
              s.CF_COD_REMITTANCE_ID]
    try:
        orders = (await zoho.call("GET", "/inventory/v1/salesorders", params={"per_page": 1})).get("salesorders") or []
        if not orders:
            return Check("zoho custom fields", True, "no sales order yet to check them on: re-run after the first one")
        so = await zoho.get_salesorder(str(orders[0]["salesorder_id"]))
    except UpstreamError as exc:
        return Check("zoho custom fields", False, f"could not read a sales order: {exc}")
    current = {str(f.get("api_name")): str(f.get("value") or "") for f in so.get("custom_fields") or []}
    missing = []
    # Zoho has no documented listing of sales-order fields and only shows fields that hold a value, so each
    # field is written back with its current value: a no-op where it exists, a refusal where it does not.
    for api_name in wanted:
        try:
            await zoho.update_salesorder_custom_fields(str(so["salesorder_id"]), {api_name: current.get(api_name, "")})
        except UpstreamError as exc:
            missing.append(f"{api_name} ({exc.upstream_message or exc})")
    return Check("zoho custom fields", not missing, f"{', '.join(wanted)} exist on sales orders" if not missing
                 else "missing on sales orders: " + "; ".join(missing) + " - add them (README, Zoho custom fields)")


CHECKS: list[Callable[[Services], Awaitable[list[Check]]]] = [_storage, _shiprocket, _shiplee, _zoho]


async def run_doctor(settings: Settings, public_url: str = "") -> list[Check]:
    missing = settings.missing()
    checks = [Check("settings", not missing, "complete" if not missing else "missing: " + ", ".join(missing))]
    if "DATABASE_URL" in missing or "REDIS_URL" in missing:
        return checks + webhook_checks(public_url)
    svc = build_services(settings, pool_size=2)
    try:
        for check in CHECKS:
            try:
                checks.extend(await check(svc))
            except Exception as exc:  # noqa: BLE001 - e.g. Postgres down: the shared token lives there
                name = check.__name__.strip("_")
                checks.append(Check(name, False, f"could not check: {type(exc).__name__}: {exc}"[:300]))
    finally:
        await svc.close()
    return checks + webhook_checks(public_url)
