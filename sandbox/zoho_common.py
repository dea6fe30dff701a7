"""Plumbing shared by the Zoho simulator modules: ids, clock, money, wire format, errors, paging.

Zoho's wire format has quirks a client must survive: 64-bit ids that do not fit a float (so they
travel as strings), money as bare JSON numbers, `+0530`-style offsets without a colon, and a
`code`/`message` envelope on every reply (0 = success, errors sometimes inside HTTP 200). Keeping
them in one place means every simulated endpoint is wrong in the same way Zoho is, not differently.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

IST = timezone(timedelta(hours=5, minutes=30), "IST")  # the simulated org is an Indian one
CENT = Decimal("0.01")

# Zoho's place_of_supply / state_code values for Indian states and union territories.
INDIAN_STATE_CODES = {
    "andaman and nicobar islands": "AN", "andhra pradesh": "AP", "arunachal pradesh": "AR", "assam": "AS",
    "bihar": "BR", "chandigarh": "CH", "chhattisgarh": "CG", "dadra and nagar haveli and daman and diu": "DN",
    "delhi": "DL", "goa": "GA", "gujarat": "GJ", "haryana": "HR", "himachal pradesh": "HP",
    "jammu and kashmir": "JK", "jharkhand": "JH", "karnataka": "KA", "kerala": "KL", "ladakh": "LA",
    "lakshadweep": "LD", "madhya pradesh": "MP", "maharashtra": "MH", "manipur": "MN", "meghalaya": "ML",
    "mizoram": "MZ", "nagaland": "NL", "odisha": "OD", "puducherry": "PY", "punjab": "PB", "rajasthan": "RJ",
    "sikkim": "SK", "tamil nadu": "TN", "telangana": "TS", "tripura": "TR", "uttar pradesh": "UP",
    "uttarakhand": "UK", "west bengal": "WB",
}

# --- error codes --------------------------------------------------------------------------------
# Documented or widely observed (see zoho-api-facts.md §5.5):
E_INVALID_URL = 5            # unknown path
E_INVALID_VALUE = 4          # "Invalid value passed for <field>"
E_INVALID_TOKEN = 14         # token never issued / not a Zoho-oauthtoken header (sim choice; 401 either way)
E_NOT_AUTHORIZED = 57        # expired or evicted token ("You are not authorized ...")
E_EXISTS = 1001              # duplicate document number
E_NOT_FOUND = 1002           # "<Entity> does not exist."
E_BAD_JSON = 1038            # "JSON is not well formed"
E_WRONG_ORG = 6041           # "This user is not associated with the CompanyID/CompanyName:<id>."
# The reference material names no code for these; they are plausible placeholders (kept distinct so
# a client can tell them apart) and all arrive as HTTP 400 with a Zoho-style message:
E_BAD_STATUS = 36014         # operation not allowed in the document's current status
E_QUANTITY = 36015           # quantity beyond what can be packed/shipped/returned/received
E_NON_RETURNABLE = 36016     # sales return for an item not marked returnable
E_NO_STOCK = 36017           # shipment/adjustment would take stock below zero
E_OVER_APPLIED = 24016       # payment/credit applied beyond the invoice balance or the amount


# --- OAuth scopes -----------------------------------------------------------------------------------
# Zoho's OAS files put one scope on every operation: `<Product>.<first path segment>.<OP>`, where GET
# reads, PUT updates, DELETE deletes and every POST (status actions such as /status/confirmed and
# /status/delivered included) needs CREATE; /organizations needs settings.READ.
FULL_ACCESS = {"ZohoInventory": "ZohoInventory.FullAccess.all", "ZohoBooks": "ZohoBooks.fullaccess.all"}
OPERATIONS = {"GET": "READ", "POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}


def required_scope(method: str, path: str) -> str:
    parts = [p for p in path.split("/") if p]  # inventory, v1, module, ...
    product = "ZohoBooks" if parts and parts[0] == "books" else "ZohoInventory"
    module = parts[2] if len(parts) > 2 else ""
    if module == "organizations":
        return f"{product}.settings.READ"
    return f"{product}.{module}.{OPERATIONS.get(method.upper(), 'READ')}"


def scope_allows(granted: Iterable[str], needed: str) -> bool:
    """`needed` is granted itself, by `<Product>.<module>.ALL`, or by the product's full access."""
    product, module, _ = needed.split(".", 2)
    wanted = {needed.lower(), f"{product}.{module}.all".lower(), FULL_ACCESS[product].lower()}
    return any(g.strip().lower() in wanted for g in granted)


class ZohoError(Exception):
    """A Zoho-style failure: rendered as {"code": ..., "message": ...} with `status`."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def not_found(entity: str, status: int = 404) -> ZohoError:
    """Unknown id in the URL -> 404; unknown id referenced from a request body -> 400."""
    return ZohoError(E_NOT_FOUND, f"{entity} does not exist.", status)


def invalid(field: str) -> ZohoError:
    return ZohoError(E_INVALID_VALUE, f"Invalid value passed for {field}")


# --- numbers ------------------------------------------------------------------------------------
def dec(value: Any, field: str = "amount") -> Decimal:
    """Parse a JSON number/string into Decimal without float artefacts; junk -> code 4."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None or value == "":
        raise invalid(field)
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise invalid(field) from exc


def money(value: Any, field: str = "amount") -> Decimal:
    return dec(value, field).quantize(CENT, rounding=ROUND_HALF_UP)


# --- time ---------------------------------------------------------------------------------------
class SimClock:
    """Wall clock in IST plus a monotonic clock, both shiftable so tests can 'wait' an hour."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def now(self) -> datetime:
        return datetime.now(IST) + timedelta(seconds=self.offset)

    def today(self) -> date:
        return self.now().date()


def zoho_time(when: datetime) -> str:
    """Zoho writes times like 2026-11-23T10:15:30+0530 (no colon in the offset)."""
    return when.astimezone(IST).strftime("%Y-%m-%dT%H:%M:%S%z")


def zoho_date(when: date | datetime) -> str:
    return when.strftime("%Y-%m-%d")


def parse_time(text: str, field: str = "last_modified_time") -> datetime:
    """Accept what clients send as a time filter: 2026-11-23T10:15:30+0530 / +05:30 / Z / naive (IST)."""
    raw = text.strip().replace(" ", "+") if "T" in text else text.strip()  # '+' often arrives as ' '
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=IST)
    raise invalid(field)


def parse_date(text: Any, field: str = "date") -> date:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d").date()
    except ValueError as exc:
        raise invalid(field) from exc


# --- ids and document numbers -----------------------------------------------------------------
class IdFactory:
    """19-digit string ids (above 2**53, like real Zoho ids) and per-series document numbers."""

    BASE = 4_815_000_000_000_000_000

    def __init__(self) -> None:
        self._n = 0
        self._series: dict[str, int] = {}

    def new_id(self) -> str:
        self._n += 1
        return str(self.BASE + 10_000 + self._n * 7)  # stride keeps neighbouring ids visibly distinct

    def number(self, prefix: str, width: int = 5) -> str:
        self._series[prefix] = self._series.get(prefix, 0) + 1
        return f"{prefix}{self._series[prefix]:0{width}d}"


# --- wire format --------------------------------------------------------------------------------
def wire(obj: Any) -> Any:
    """Deep copy for the wire: Decimal -> JSON number, keys starting with '_' (sim-internal) dropped."""
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, Mapping):
        return {k: wire(v) for k, v in obj.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(obj, (list, tuple)):
        return [wire(v) for v in obj]
    if isinstance(obj, (datetime, date)):
        return zoho_time(obj) if isinstance(obj, datetime) else zoho_date(obj)
    return copy.copy(obj)


def paginate(rows: list[dict[str, Any]], query: Mapping[str, str], *, report_name: str,
             applied_filter: str = "Status.All", sort_column: str = "created_time",
             sort_order: str = "D") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Slice a list the way Zoho does: page (1-based), per_page (<=200); page_context without totals."""
    try:
        page = max(int(query.get("page", 1)), 1)
        per_page = min(max(int(query.get("per_page", 200)), 1), 200)
    except ValueError as exc:
        raise invalid("page") from exc
    start = (page - 1) * per_page
    context = {"page": page, "per_page": per_page, "has_more_page": len(rows) > start + per_page,
               "report_name": report_name, "applied_filter": applied_filter, "custom_fields": [],
               "sort_column": sort_column, "sort_order": sort_order, "search_criteria": []}
    return rows[start:start + per_page], context


def text_match(query: Mapping[str, str], field: str, value: str | None) -> bool:
    """Zoho's `<field>`, `<field>_startswith`, `<field>_contains` filter family (case-insensitive)."""
    value = (value or "").lower()
    if field in query and value != query[field].lower():
        return False
    if f"{field}_startswith" in query and not value.startswith(query[f"{field}_startswith"].lower()):
        return False
    if f"{field}_contains" in query and query[f"{field}_contains"].lower() not in value:
        return False
    return True


def search(text: str | None, values: Iterable[str | None]) -> bool:
    if not text:
        return True
    needle = text.lower()
    return any(needle in (v or "").lower() for v in values)


def sort_rows(rows: list[dict[str, Any]], query: Mapping[str, str], allowed: set[str],
              default: str = "created_time", default_order: str = "D") -> tuple[str, str]:
    """Sort in place by `sort_column`/`sort_order` (A|D); ties keep creation order."""
    column = query.get("sort_column", default)
    if column not in allowed:
        column = default
    order = "A" if query.get("sort_order", default_order).upper() == "A" else "D"
    rows.sort(key=lambda r: (r.get(f"_{column}", r.get(column)) or "", r.get("_seq", 0)),
              reverse=(order == "D"))
    return column, order


class SimState:
    """The state every layer of the simulator shares, assigned in ZohoSim.reset().

    The layers stack as SimState <- InventoryMixin <- SalesOrderMixin <- FulfilmentMixin <- BooksMixin <- ZohoSim; the
    three hooks below are implemented by later layers and used by the sales-order view.
    """

    organization_id: str
    allow_negative_stock: bool
    so_lists_salesreturns: bool
    ids: IdFactory
    clock: SimClock
    _lock: threading.RLock
    _seq: int
    currency_id: str
    template_id: str
    primary_location_id: str
    undeposited_account_id: str
    bank_account_id: str
    sales_account_id: str
    cogs_account_id: str
    locations: dict[str, dict[str, Any]]
    items: dict[str, dict[str, Any]]
    contacts: dict[str, dict[str, Any]]
    accounts: dict[str, dict[str, Any]]
    so_custom_fields: dict[str, dict[str, Any]]
    salesorders: dict[str, dict[str, Any]]
    packages: dict[str, dict[str, Any]]
    shipments: dict[str, dict[str, Any]]
    salesreturns: dict[str, dict[str, Any]]
    receives: dict[str, dict[str, Any]]
    adjustments: dict[str, dict[str, Any]]
    invoices: dict[str, dict[str, Any]]
    payments: dict[str, dict[str, Any]]
    creditnotes: dict[str, dict[str, Any]]

    def _so_package_entry(self, pkg: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # FulfilmentMixin

    def _so_invoice_entries(self, salesorder_id: str) -> list[dict[str, Any]]:
        raise NotImplementedError  # BooksMixin

    def _so_paid_status(self, salesorder_id: str) -> str:
        raise NotImplementedError  # BooksMixin
