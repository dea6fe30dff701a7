"""The inbox handler for Return Prime webhooks (Source.returnprime, registered in app.jobs.HANDLERS)."""

from __future__ import annotations

from app.models import InboxEvent, InboxState
from app.returns_portal.service import returnprime_client, sync_request
from app.services import Services


async def handle_returnprime_event(svc: Services, event: InboxEvent) -> tuple[str, str | None]:
    """The inbox job: the body only named the request; act on Return Prime's own copy of it."""
    if not event.subject:
        return InboxState.invalid, "no request id"
    request = await returnprime_client(svc).get_request(event.subject)
    return InboxState.done, await sync_request(svc, request)
