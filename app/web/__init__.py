"""The HTTP edge every domain's endpoints share: operator auth (auth.py), path-id validation and the
safe 422 (validation.py), what an ops action answers and its record (outcome.py), and what an inbound
webhook delivery is (inbound.py). Foundation: it imports no domain, so fulfilment, tracking, remittance,
returns_portal, ops and the webhook table can all use it without importing one another."""
