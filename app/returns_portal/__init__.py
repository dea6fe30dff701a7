"""Returns arriving from a returns portal (Return Prime): mapped onto Zoho sales orders and handed to the
customer-return path (app/tracking/returns.py), which books or tracks, restocks and credits."""
