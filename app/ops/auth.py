"""Bearer-token guard for ops endpoints (OPS_TOKEN), compared in constant time."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status


def require_ops_token(request: Request) -> None:
    expected = request.app.state.settings.OPS_TOKEN.get_secret_value()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not expected or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid ops token",
                            headers={"WWW-Authenticate": "Bearer"})


OpsAuth = Annotated[None, Depends(require_ops_token)]
