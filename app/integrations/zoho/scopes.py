"""The OAuth scopes Shipbridge's Zoho calls need, and which one a call needs.

Zoho's OpenAPI files give every operation one scope, `<Product>.<module>.<OP>` with the module the first
path segment and OP by method (every POST, status actions included, is CREATE). A call outside the
token's grant is refused with code 57, sometimes under HTTP 401 like an expired token (zoho facts §1.4,
§5.5), so the client needs the scope's name to tell ops what to add instead of refreshing again."""

from __future__ import annotations

OPERATIONS = {"GET": "READ", "POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}

# What the README tells the seller to grant the self client: every scope a call below needs.
# (tests/test_docs.py keeps the README's list and this one equal; the test simulator grants only these.)
REQUIRED_SCOPES = (
    "ZohoInventory.salesorders.ALL",           # read the order, write AWB/status/remittance id back
    "ZohoInventory.items.READ",                # package details for the parcel
    "ZohoInventory.packages.ALL",              # stock leaves at pickup: package ...
    "ZohoInventory.shipmentorders.ALL",        # ... and shipment order, marked delivered later
    "ZohoInventory.salesreturns.ALL",          # RTO / customer return
    "ZohoInventory.salesreturnreceives.CREATE",  # ... received back into stock
    "ZohoInventory.inventoryadjustments.CREATE",  # restock of a non-returnable item
    "ZohoInventory.inventoryadjustments.READ",    # ... found again after an interrupted run
    "ZohoInventory.settings.READ",             # GET /organizations: the org id, when setting up
    "ZohoBooks.customerpayments.ALL",          # COD remittance payments
    "ZohoBooks.invoices.READ",                 # the invoice a COD payment or credit note applies to
    "ZohoBooks.creditnotes.ALL",               # credit note for returned goods
)


def scope_for(method: str, path: str) -> str:
    """The scope a call to `path` (/inventory/v1/... or /books/v3/...) needs."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    product = "ZohoBooks" if parts and parts[0] == "books" else "ZohoInventory"
    module = parts[2] if len(parts) > 2 else ""
    if module == "organizations":
        return f"{product}.settings.READ"
    return f"{product}.{module}.{OPERATIONS.get(method.upper(), 'READ')}"
