"""Reading inbound bodies safely, whoever sent them (a webhook, an upstream's API answer). Pure: what
cannot be read or stored raises Malformed with a reason a person can act on. The foundation under both
the webhook endpoints and the aggregator parsers, so neither has to import the other."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

MAX_DEPTH = 32  # real bodies nest 4-5 levels; deeper is an attack or a bug, never an order
# Postgres text and JSONB cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8 at all: a body
# carrying either anywhere could be stored raw but never handled, so it is refused as a whole.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Malformed(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise Malformed(f"body contains {name}, which is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as inf: no amount, weight or id is that
        raise Malformed(f"body contains a number out of range ({text[:40]})")
    return value


def check_storable(data: Any, *, strings: bool = True, depth: bool = True) -> None:
    """Malformed if any string holds NUL or a lone surrogate (`strings`) or anything nests deeper than
    MAX_DEPTH (`depth`). Iterative: the body decides the depth, so recursion here would be the body's to
    crash."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise Malformed("body contains a NUL character or a lone surrogate")
            continue
        if depth and level > MAX_DEPTH:
            raise Malformed(f"body nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            if strings and any(_UNSTORABLE.search(key) for key in value):
                raise Malformed("body contains a NUL character or a lone surrogate")
            items = value.values()
        else:
            items = value
        stack.extend((item, level + 1) for item in items
                     if isinstance(item, (dict, list)) or (strings and isinstance(item, str)))


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def decode_json_body(raw: bytes, content_type: str, empty_hint: str = "", *,
                     parse_float: Callable[[str], Any] | None = None) -> Any:
    """JSON as sent, or Zoho's form-encoded `JSONString=<json>` variant. `empty_hint` explains an empty body;
    `parse_float=Decimal` keeps JSON numbers exact (money)."""
    if not raw.strip():
        raise Malformed(f"empty body ({empty_hint})" if empty_hint else "empty body")
    if "x-www-form-urlencoded" in content_type.lower():
        try:
            form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise Malformed("form body is not UTF-8") from None
        values = form.get("JSONString")
        if not values:
            raise Malformed("form body has no JSONString field")
        text = values[0]
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("body is not UTF-8") from None
    try:
        data = json.loads(text, parse_float=parse_float or _finite_float, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise Malformed(f"body is not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise Malformed("body nests too deeply to parse") from None
    except ValueError as exc:  # Python's 4,300-digit limit on integers, or a refused NaN / Infinity
        raise Malformed(str(exc) if isinstance(exc, Malformed) else "body has a number too long to read") from None
    # Only a backslash-u escape can put NUL or a surrogate in a string (strict JSON and UTF-8 refuse them raw), and
    # only as many brackets as MAX_DEPTH can nest that deep: the common body is not walked at all.
    strings = "\\u" in text
    depth = text.count("[") + text.count("{") > MAX_DEPTH
    if strings or depth:
        check_storable(data, strings=strings, depth=depth)
    return data
