"""Zoho Inventory v1 and Books v3 over one shared OAuth token.

The token comes from the refresh-token grant and is shared by every process (Zoho allows only 10 token
requests per 10 minutes). Every call carries `organization_id`; a body whose `code` is not 0 is an
error even under HTTP 200, and OAuth errors arrive as HTTP 200 with an `error` field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import raise_alert
from app.integrations.http import (
    PermanentUpstreamError,
    RetryableUpstreamError,
    RetryPolicy,
    UpstreamAuthError,
    parse_body,
    request_with_retries,
    upstream_message,
)
from app.integrations.paths import checked_path, numeric_id
from app.integrations.tokens import SharedToken
from app.integrations.zoho.budget import ZohoDailyBudget
from app.integrations.zoho.rate_limit import ZohoRateLimiter, ZohoWindowBusy
from app.integrations.zoho.scopes import scope_for
from app.models import Shipment
from app.money import to_int
from app.settings import Settings

SERVICE = "zoho"
NOT_AUTHORIZED = 57  # "You are not authorized to perform this operation": expired token or missing scope


class ZohoScopeMissing(UpstreamAuthError):
    """The token is valid but its grant lacks `scope`. Retryable (once ops re-grants, the work goes on),
    but never by refreshing the token."""

    def __init__(self, service: str, message: str, *, scope: str, **kw: Any) -> None:
        super().__init__(service, message, **kw)
        self.scope = scope

# Zoho codes that mean "slow down / try later" rather than "your request is wrong".
THROTTLE_CODES = {43, 44, 45, 1070}


class ZohoClient:
    def __init__(self, http: httpx.AsyncClient, settings: Settings,
                 sessionmaker: async_sessionmaker[AsyncSession], policy: RetryPolicy,
                 limiter: ZohoRateLimiter | None = None, budget: ZohoDailyBudget | None = None) -> None:
        self._http = http
        self._accounts = settings.ZOHO_ACCOUNTS_URL.rstrip("/")
        self._api = settings.ZOHO_API_URL.rstrip("/")
        self._client_id = settings.ZOHO_CLIENT_ID
        self._client_secret = settings.ZOHO_CLIENT_SECRET
        self._refresh_token = settings.ZOHO_REFRESH_TOKEN
        self._org = settings.ZOHO_ORGANIZATION_ID
        self._policy = policy
        self.limiter = limiter
        self._sessionmaker = sessionmaker
        # Scopes Zoho refused under a fresh token, kept for the process's life: a call needing one is
        # refused at once, never answered with another token refresh (10 per 10 minutes).
        self.missing_scopes: set[str] = set()
        self.budget = budget  # the day's quota, counted for every process (budget.py)
        self.token = SharedToken(SERVICE, sessionmaker, self._refresh,
                                 timedelta(seconds=settings.ZOHO_TOKEN_REFRESH_MARGIN_SECONDS))

    async def _refresh(self) -> tuple[str, datetime]:
        response = await request_with_retries(
            self._http, SERVICE, "POST", f"{self._accounts}/oauth/v2/token", policy=self._policy,
            data={"grant_type": "refresh_token", "client_id": self._client_id,
                  "client_secret": self._client_secret.get_secret_value(),
                  "refresh_token": self._refresh_token.get_secret_value()})
        body = parse_body(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            message = upstream_message(response)
            if isinstance(body, dict) and "too many requests" in str(body.get("error_description", "")).lower():
                # Blocked for the rest of Zoho's 10-minute window: worth retrying later, not now.
                raise RetryableUpstreamError(SERVICE, f"token refresh throttled: {message}",
                                             status=response.status_code)
            raise UpstreamAuthError(SERVICE, f"token refresh refused: {message}", status=response.status_code)
        expires_in = int(body.get("expires_in") or 3600)
        return str(body["access_token"]), datetime.now(UTC) + timedelta(seconds=expires_in)

    async def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                   json_body: Any = None, retry_uncertain: bool = True, cosmetic: bool = False) -> dict[str, Any]:
        """`path` starts with /inventory/v1 or /books/v3. Returns the decoded body when code == 0.
        `retry_uncertain=False` for writes Zoho cannot deduplicate (see request_with_retries).
        `cosmetic`: a status label, which yields to AWB and money writes: raises ZohoWindowBusy instead of
        waiting when the rate window has no room for it (rate_limit.py)."""
        checked_path(SERVICE, path)  # ids in it came from outside: never let one redirect the call
        query = {**(params or {}), "organization_id": self._org}
        scope = scope_for(method, path)
        token = await self.token.get()
        for attempt in range(2):
            if self.limiter is not None and self.limiter.on:
                # The limiter's script counts the call for the day's budget too: one Redis round trip.
                count = self.budget.counter() if self.budget is not None else None
                if not cosmetic:
                    await self.limiter.acquire(count)
                elif not await self.limiter.try_acquire_cosmetic(count):
                    raise ZohoWindowBusy(f"{method} {path.split('?')[0]}")
            elif self.budget is not None:
                await self.budget.spend()
            response = await request_with_retries(
                self._http, SERVICE, method, f"{self._api}{path}", policy=self._policy,
                headers={"Authorization": f"Zoho-oauthtoken {token}"}, params=query, json_body=json_body,
                retry_uncertain=retry_uncertain)
            if self.budget is not None:
                await self.budget.observe(response.headers)
            if response.status_code != 401:
                break
            if attempt == 0:
                if scope in self.missing_scopes:
                    break  # refused for this scope under a fresh token already: a refresh cannot help
                token = await self.token.invalidate(token)
        body = parse_body(response)
        code = body.get("code") if isinstance(body, dict) else None
        if to_int(code) == NOT_AUTHORIZED and (response.status_code != 401 or attempt == 1
                                               or scope in self.missing_scopes):
            # Code 57 again under a fresh token, or without a 401 at all: the grant lacks the scope.
            await self._scope_missing(scope, method, path)
            raise ZohoScopeMissing(SERVICE, f"{upstream_message(response)} (the token lacks {scope})",
                                   status=response.status_code, code=code, scope=scope)
        if response.status_code == 401:
            raise UpstreamAuthError(SERVICE, upstream_message(response), status=401, code=code)
        if response.status_code >= 400 or code not in (0, "0"):
            error_cls = RetryableUpstreamError if to_int(code) in THROTTLE_CODES else PermanentUpstreamError
            raise error_cls(SERVICE, upstream_message(response), status=response.status_code, code=code, body=body)
        assert isinstance(body, dict)
        return body

    async def _scope_missing(self, scope: str, method: str, path: str) -> None:
        first = scope not in self.missing_scopes
        self.missing_scopes.add(scope)
        if first:
            async with self._sessionmaker.begin() as session:
                await raise_alert(session, kind="zoho_scope_missing", key=scope,
                                  message=f"Zoho refused {method} {path.split('?')[0]}: the OAuth grant lacks "
                                          f"{scope}. Generate a new refresh token with the scopes the README "
                                          "lists; the work waiting on it is retried.")

    # --- Inventory: sales orders and items ---
    async def get_salesorder(self, salesorder_id: str, *, cosmetic: bool = False) -> dict[str, Any]:
        salesorder_id = numeric_id(SERVICE, salesorder_id, "salesorder_id")
        body = await self.call("GET", f"/inventory/v1/salesorders/{salesorder_id}", cosmetic=cosmetic)
        return zoho_record(body, "salesorder")

    async def update_salesorder_custom_fields(self, salesorder_id: str, values: dict[str, str],
                                             current: dict[str, Any] | None = None, *,
                                             cosmetic: bool = False) -> dict[str, Any]:
        """Write custom fields (by api_name). Zoho's spec requires salesorder_number, customer_id and
        line_items on this PUT, and line_items replace the order's lines, so the body carries the order
        as Zoho has it now (read first, unless the caller passes a `current` it just read): every line
        by its line_item_id with its own values, so nothing but the custom fields changes. `cosmetic`: a
        status label (see `call`)."""
        salesorder_id = numeric_id(SERVICE, salesorder_id, "salesorder_id")
        so = current if current is not None else await self._last_seen(salesorder_id)
        if so is None:
            so = await self.get_salesorder(salesorder_id, cosmetic=cosmetic)
            cosmetic = False  # the read is spent: a label that got this far is finished, not re-read later
        payload = {**salesorder_put_body(so),
                   "custom_fields": [{"api_name": k, "value": v} for k, v in values.items()]}
        body = await self.call("PUT", f"/inventory/v1/salesorders/{salesorder_id}", json_body=payload,
                               cosmetic=cosmetic)
        updated = zoho_record(body, "salesorder", optional=True)
        await remember_salesorder(self._sessionmaker, salesorder_id, updated)
        return updated

    async def _last_seen(self, salesorder_id: str) -> dict[str, Any] | None:
        """The order as Shipbridge last saw it (its webhook, a read, or a PUT's reply), so a write needs no
        read first. Every edit of a confirmed order sends its webhook, which refreshes this copy."""
        async with self._sessionmaker() as session:
            return await session.scalar(select(Shipment.zoho_put_base)
                                        .where(Shipment.salesorder_id == salesorder_id))

    async def get_item(self, item_id: str) -> dict[str, Any]:
        body = await self.call("GET", f"/inventory/v1/items/{numeric_id(SERVICE, item_id, 'item_id')}")
        return zoho_record(body, "item")


def zoho_record(body: dict[str, Any], *keys: str, optional: bool = False) -> dict[str, Any]:
    """The object a code-0 answer carries under the first of `keys` present. A reply without it (or with a
    list or text there) is Zoho's or a proxy's fault, not a reason to crash a job: a typed, permanent error
    that names what was missing (`optional`: an empty dict instead, for answers where Zoho may omit it)."""
    for key in keys:
        value = body.get(key)
        if isinstance(value, dict):
            return dict(value)
        if value not in (None, "", [], {}):
            break
    if optional:
        return {}
    raise PermanentUpstreamError(SERVICE, f"answer had no `{keys[0]}` object", status=200, code=body.get("code"))


# Line fields echoed on a sales-order PUT: what the spec's update line accepts and a GET returns, so each
# line is restated as it is (rate, quantity, discount, tax, location) and none is dropped or reset.
PUT_LINE_FIELDS = ("line_item_id", "item_id", "name", "description", "rate", "quantity", "unit", "discount",
                   "tax_id", "tax_percentage", "location_id", "hsn_or_sac", "item_custom_fields")


def put_base(so: dict[str, Any]) -> dict[str, Any] | None:
    """What a later PUT must restate, from an order as Zoho sent it; None when it lacks a required field."""
    try:
        base = salesorder_put_body(so) if so.get("line_items") else None
    except (KeyError, TypeError, AttributeError):
        return None
    if base is not None and isinstance(so.get("last_modified_time"), str):
        base["last_modified_time"] = so["last_modified_time"]  # kept to refuse an older copy; never sent
    return base


async def remember_salesorder(sessionmaker: async_sessionmaker[AsyncSession], salesorder_id: str,
                              so: dict[str, Any]) -> None:
    """Keep the order's PUT base (webhook bodies, reads, PUT replies) on its shipment, if it has one."""
    base = put_base(so)
    if base is None:
        return
    newer = Shipment.zoho_put_base.is_(None)
    if "last_modified_time" in base:  # a redelivered older webhook must not bring back lines since edited
        newer = newer | ~Shipment.zoho_put_base.has_key("last_modified_time") | (
            Shipment.zoho_put_base["last_modified_time"].astext <= base["last_modified_time"])
    async with sessionmaker.begin() as session:
        await session.execute(update(Shipment).where(Shipment.salesorder_id == salesorder_id, newer)
                              .values(zoho_put_base=base))


def salesorder_put_body(so: dict[str, Any]) -> dict[str, Any]:
    """The fields Zoho's spec requires on PUT /salesorders/{id}, restated from the order itself."""
    lines = [{k: line[k] for k in PUT_LINE_FIELDS if line.get(k) not in (None, "")}
             for line in so.get("line_items") or [] if isinstance(line, dict)]
    return {"salesorder_number": so["salesorder_number"], "customer_id": str(so["customer_id"]), "line_items": lines}
