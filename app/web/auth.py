"""Who may use the ops surface. JSON endpoints take `Authorization: Bearer <OPS_TOKEN>`; the dashboard
logs in once with the token and then carries a signed, HTTP-only, SameSite=Strict session cookie (never
the token itself, never the token in a URL). Forms carry a CSRF token bound to the session. Every
comparison is constant-time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "sb_ops_session"
# Declared so /docs shows an Authorize button; auto_error=False because a cookie may stand in for it.
bearer_scheme = HTTPBearer(auto_error=False, description="OPS_TOKEN")


@dataclass(frozen=True)
class Operator:
    actor: str  # recorded on every action: "api" (bearer) or "dashboard"
    session_id: str | None = None  # set for cookie sessions: binds the CSRF token


def _ops_token(request: Request) -> str:
    return str(request.app.state.settings.OPS_TOKEN.get_secret_value())


def token_matches(request: Request, presented: str) -> bool:
    expected = _ops_token(request)
    return bool(expected) and hmac.compare_digest(presented.strip().encode(), expected.encode())


def _serializer(request: Request) -> URLSafeTimedSerializer:
    # The signing key derives from the ops token: rotating the token logs every session out.
    key = hashlib.sha256(b"shipbridge-ops-session:" + _ops_token(request).encode()).hexdigest()
    return URLSafeTimedSerializer(key, salt="ops-session")


def new_session(request: Request) -> str:
    return _serializer(request).dumps({"sid": secrets.token_urlsafe(16), "iat": int(time.time())})


def session_of(request: Request) -> Operator | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or not _ops_token(request):
        return None
    max_age = int(request.app.state.settings.OPS_SESSION_HOURS) * 3600
    try:
        data = _serializer(request).loads(raw, max_age=max_age)
    except BadSignature:
        return None
    sid = data.get("sid") if isinstance(data, dict) else None
    return Operator("dashboard", str(sid)) if sid else None


def csrf_token(request: Request, operator: Operator) -> str:
    key = hashlib.sha256(b"shipbridge-ops-csrf:" + _ops_token(request).encode()).digest()
    return hmac.new(key, (operator.session_id or "").encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, operator: Operator, presented: str) -> None:
    if operator.session_id is None:
        return  # a bearer call is not driven by a browser's ambient cookie: nothing to forge
    if not hmac.compare_digest(presented.encode(), csrf_token(request, operator).encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token")


def require_operator(request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> Operator:
    if credentials is not None:
        if credentials.scheme.lower() == "bearer" and token_matches(request, credentials.credentials):
            return Operator("api")
    else:
        operator = session_of(request)
        if operator is not None:
            return operator
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid ops token",
                        headers={"WWW-Authenticate": "Bearer"})


def require_ops_token(operator: Annotated[Operator, Depends(require_operator)]) -> None:
    """For the older JSON endpoints that only need a yes/no."""


OpsAuth = Annotated[None, Depends(require_ops_token)]
OperatorDep = Annotated[Operator, Depends(require_operator)]
