"""Tables owned by COD remittance (filled in by the remittance issue)."""
