"""Tables owned by tracking (filled in by the tracking issue)."""
