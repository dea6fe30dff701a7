"""Return Prime (returns/exchange portal for Shopify stores): client and typed request models."""
