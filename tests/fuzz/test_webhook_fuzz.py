"""Property-based fuzzing of the three webhook endpoints with raw bytes (tests/fuzz/bodies.py): whatever an
authenticated sender posts is answered 200 and kept, byte for byte, in the inbox (as `invalid` with a
reason when it cannot be used); no body makes a parser raise; wrong credentials store nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.main import create_app
from app.models import InboxEvent, InboxState
from app.services import Services
from tests.fuzz.bodies import BASES, CONTENT_TYPES, bodies
from tests.harness import api_client
from tests.webhooks.test_ingest import auth_for, signed

pytestmark = pytest.mark.fuzz
PATHS = sorted(BASES)
ZOHO = "/webhooks/zoho/salesorders"


@pytest.fixture
async def client(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(create_app(svc.settings, svc)) as c:
        yield c


async def inbox_row(svc: Services, event_id: int) -> InboxEvent | None:
    async with svc.sessionmaker() as s:
        return await s.get(InboxEvent, event_id)


async def inbox_count(svc: Services) -> int:
    async with svc.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(InboxEvent)) or 0)


@pytest.mark.parametrize("path", PATHS)
@given(data=st.data())
async def test_every_authenticated_body_is_answered_200_and_kept(svc: Services, client: httpx.AsyncClient,
                                                                  caplog: pytest.LogCaptureFixture,
                                                                  path: str, data: st.DataObject) -> None:
    raw = data.draw(bodies(path), label="body")
    content_type = data.draw(CONTENT_TYPES, label="content_type")
    headers = {k: v for k, v in auth_for(path, raw).items() if k != "Content-Type"}
    if content_type:
        headers["Content-Type"] = content_type
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["state"] in set(InboxState), answer
    assert answer["accepted"] == (answer["state"] != InboxState.invalid)
    if answer["state"] == InboxState.invalid:
        assert answer.get("reason"), answer  # a person must be able to tell why it was not used
    row = await inbox_row(svc, answer["event_id"])
    assert row is not None and row.state == answer["state"]
    if not answer["duplicate"]:
        assert bytes(row.body) == raw  # kept as it came, for inspection and replay
    # `_safely` catches what a parser raises; none should: each refusal has its own reason.
    assert not [r for r in caplog.records if "could not be classified" in r.getMessage()]


@pytest.mark.parametrize("path", PATHS)
@given(data=st.data())
async def test_wrong_credentials_are_refused_and_store_nothing(svc: Services, client: httpx.AsyncClient,
                                                               path: str, data: st.DataObject) -> None:
    raw = data.draw(bodies(path), label="body")
    good = auth_for(path, raw)
    name = "X-Zoho-Webhook-Signature" if path == ZOHO else "x-api-key"
    forged = data.draw(st.one_of(
        st.none(), st.just(""), st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
        st.just(good[name][:-1]), st.just(good[name] + "0"), st.just(good[name].upper() + " x"),
        st.just(signed(raw + b" ")[name] if path == ZOHO else "sr-hook-token-ab"),
    ), label="credential")
    headers = {"Content-Type": "application/json"}
    if forged is not None:
        headers[name] = forged
    before = await inbox_count(svc)
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 401, (forged, response.text)
    assert "detail" in response.json()
    assert await inbox_count(svc) == before
