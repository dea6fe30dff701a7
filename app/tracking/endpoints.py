"""HTTP endpoints owned by tracking (filled in by the tracking issue)."""

from fastapi import APIRouter

router = APIRouter()
