"""Hand-written generators for webhook bodies, which arrive as raw bytes: valid bodies with one field
given every wrong type, JSON with NUL bytes, lone surrogates, huge and non-finite numbers and deep nesting,
broken UTF-8 and plain noise."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.webhooks.test_ingest import remittance_body, so_body, tracking_body

HOSTILE_TEXT = st.sampled_from(["\x00", "\ud800", "\udfff", "<script>alert(1)</script>", "'; DROP TABLE x; --",
                                "../../etc/passwd", "%00", "\u202e", "9" * 400, "", " ", "null", "{{7*7}}"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63 - 10, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30), HOSTILE_TEXT,
)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
# Numbers whose text json.dumps would never write: past float range, past any integer column, NaN.
RAW_NUMBERS = st.sampled_from([b"1e400", b"-1e400", b"NaN", b"Infinity", b"-Infinity", b"9" * 5000,
                               b"1" + b"0" * 400, b"-0", b"1e-400", b"0x10", b"01"])


def _encode(value: Any) -> bytes:
    # surrogatepass: a lone surrogate goes out as the bytes a broken sender would write (invalid UTF-8).
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


BASES = {
    "/webhooks/zoho/salesorders": (so_body(), "salesorder"),
    "/webhooks/tracking": (tracking_body(), None),
    "/webhooks/cod-remittance": (remittance_body(), None),
}


@st.composite
def wrong_field(draw: st.DrawFn, path: str) -> bytes:
    """A valid body with one field (top level or the sales order's) replaced by anything at all."""
    base, inner = BASES[path]
    body = json.loads(json.dumps(base))
    target = body[inner] if inner else body
    key = draw(st.sampled_from(sorted(target)))
    target[key] = draw(JSON_VALUES)
    if draw(st.booleans()):
        del target[key]
    return _encode(body)


@st.composite
def raw_number(draw: st.DrawFn, path: str) -> bytes:
    base, inner = BASES[path]
    body = json.loads(json.dumps(base))
    target = body[inner] if inner else body
    key = draw(st.sampled_from(sorted(target)))
    target[key] = "__NUMBER__"
    return _encode(body).replace(b'"__NUMBER__"', draw(RAW_NUMBERS))


@st.composite
def deep(draw: st.DrawFn, path: str) -> bytes:
    depth = draw(st.integers(min_value=20, max_value=50_000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
    return b'{"salesorder": ' + opener * depth + b"1" + closer * depth + b"}"


@st.composite
def broken_utf8(draw: st.DrawFn, path: str) -> bytes:
    good = _encode(BASES[path][0])
    cut = draw(st.integers(min_value=0, max_value=len(good)))
    junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf", b"\xc0\xaf"]))
    return good[:cut] + junk + good[cut:]


def bodies(path: str) -> st.SearchStrategy[bytes]:
    return st.one_of(
        wrong_field(path), raw_number(path), deep(path), broken_utf8(path),
        JSON_VALUES.map(_encode),
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from([b"", b"null", b"[]", b"{}", b'""', b"0", b"true", b"salesorder=1&x", b"JSONString={",
                         b"<html>hi</html>", b"\x00" * 64]),
    )


CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain",
                                 "application/x-www-form-urlencoded", "", "multipart/form-data; boundary=x",
                                 "application/json; charset=latin-1"])
