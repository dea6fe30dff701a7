"""Fixtures for the booking tests that need both aggregators configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.services import Services, build_services
from app.settings import Settings


@pytest.fixture
async def make_svc(shiplee_settings: Settings, clean: None) -> AsyncIterator[Any]:
    """Services with Shiplee configured: make(AGGREGATORS, **other settings), closed after the test."""
    built: list[Services] = []

    def make(aggregators: str = "shiprocket,shiplee", **settings: Any) -> Services:
        built.append(build_services(shiplee_settings.model_copy(update={"AGGREGATORS": aggregators, **settings})))
        return built[-1]

    yield make
    for svc in built:
        await svc.close()
