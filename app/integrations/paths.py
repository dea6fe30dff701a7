"""Ids that go into upstream URL paths. Salesorder ids, AWBs and shipment ids come from webhooks and from
upstream answers, i.e. from outside: one holding `/`, `?`, `..` or `%` would call another endpoint than
the one meant (path traversal on the upstream, with our token). Each client checks the whole path
before sending, and the ids the upstream defines as numeric are checked as such where they are used."""

from __future__ import annotations

import re

from app.integrations.http import PermanentUpstreamError

# One path segment as our clients build them: letters, digits and - _ . (never `.` or `..` alone).
_SEGMENT = re.compile(r"[A-Za-z0-9_.\-]*")
_DIGITS = re.compile(r"[0-9]{1,40}")
_AWB = re.compile(r"[A-Za-z0-9_\-]{1,60}")


class UnsafePathError(PermanentUpstreamError):
    """An id unfit for a URL path: refused before any request, never retried (it will not change)."""


def checked_path(service: str, path: str) -> str:
    """`path` (no query string) if every segment is plain; UnsafePathError otherwise."""
    for segment in path.split("/"):
        if segment in (".", "..") or not _SEGMENT.fullmatch(segment):
            raise UnsafePathError(service, f"refused to call a path with an unsafe segment: {segment[:60]!r}")
    return path


def numeric_id(service: str, value: object, what: str) -> str:
    """Zoho's ids and Shiprocket's order/shipment ids are digit strings: anything else is refused."""
    text = str(value).strip()
    if not _DIGITS.fullmatch(text):
        raise UnsafePathError(service, f"{what} {text[:60]!r} is not a numeric id")
    return text


def awb_id(service: str, value: object) -> str:
    text = str(value).strip()
    if not _AWB.fullmatch(text):
        raise UnsafePathError(service, f"AWB {text[:60]!r} has characters an AWB never has")
    return text
