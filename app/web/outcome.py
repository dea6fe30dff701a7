"""What an ops action answers (done, noop, refused, failed, with the HTTP status to give) and the record
of each press in ops_actions. Here, below the domains, so that every action module (app/ops/actions.py,
app/ops/rto_actions.py, the hand cancel in app/fulfilment/endpoints.py) can use it without importing
the others; it takes the sessionmaker, not Services, to stay below app.services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import OpsAction

log = logging.getLogger("shipbridge.ops.actions")


@dataclass
class Outcome:
    outcome: str  # done | noop | refused | failed
    detail: str
    status: int = 200  # for HTTP answers: 404 unknown target, 409 wrong state, 502 upstream refused

    def view(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "detail": self.detail}


async def record(sessionmaker: async_sessionmaker[AsyncSession], *, actor: str, action: str, target: str,
                 params: dict[str, Any], result: Outcome) -> Outcome:
    async with sessionmaker.begin() as session:
        session.add(OpsAction(actor=actor, action=action, target=target, params=params, outcome=result.outcome,
                              detail=result.detail[:2000]))
    log.info("ops action %s on %s by %s: %s (%s)", action, target, actor, result.outcome, result.detail)
    return result
