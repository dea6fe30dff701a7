"""HTTP endpoints owned by remittance (filled in by the remittance issue)."""

from fastapi import APIRouter

router = APIRouter()
