"""One Settings object, read from the environment (and `.env`). Secrets are SecretStr so they never
print; a missing required setting stops every process at start-up with the full list of what is missing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Settings without which no process can do its job. Named so the error lists every one at once.
REQUIRED = (
    "DATABASE_URL",
    "REDIS_URL",
    "SHIPROCKET_EMAIL",
    "SHIPROCKET_PASSWORD",
    "SHIPROCKET_WEBHOOK_TOKEN",
    "SHIPROCKET_PICKUP_LOCATION",
    "SHIPROCKET_PICKUP_PINCODE",
    "ZOHO_CLIENT_ID",
    "ZOHO_CLIENT_SECRET",
    "ZOHO_REFRESH_TOKEN",
    "ZOHO_ORGANIZATION_ID",
    "ZOHO_WEBHOOK_SECRET",
    "OPS_TOKEN",
)


class MissingSettings(RuntimeError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__("missing required settings: " + ", ".join(names))


KNOWN_AGGREGATORS = ("shiprocket", "shiplee")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=True)

    # Storage and queue
    DATABASE_URL: str = ""
    REDIS_URL: str = ""

    # Shiprocket
    SHIPROCKET_BASE_URL: str = "https://apiv2.shiprocket.in/v1/external"
    SHIPROCKET_EMAIL: str = ""
    SHIPROCKET_PASSWORD: SecretStr = SecretStr("")
    SHIPROCKET_WEBHOOK_TOKEN: SecretStr = SecretStr("")
    SHIPROCKET_PICKUP_LOCATION: str = ""
    SHIPROCKET_PICKUP_PINCODE: str = ""
    # Shiprocket tokens live 10 days; refresh this long before `exp` so no call meets an expired token.
    SHIPROCKET_TOKEN_REFRESH_MARGIN_SECONDS: int = 86400

    # Shiplee, the optional second aggregator (docs/shiplee.md): empty mobile = not used.
    SHIPLEE_BASE_URL: str = "https://api4.shiplee.in"  # the client appends /api/...
    SHIPLEE_MOBILE: str = ""
    SHIPLEE_PASSWORD: SecretStr = SecretStr("")
    SHIPLEE_WAREHOUSE_ID: str = ""  # the warehouse parcels leave from (GET /api/warehouse lists them)
    SHIPLEE_TOKEN_REFRESH_MARGIN_SECONDS: int = 600  # Shiplee tokens live 3 hours
    # Aggregators in order of preference, comma-separated (shiprocket, shiplee). Empty: `shiprocket`, and
    # `shiprocket,shiplee` when the Shiplee login is set.
    AGGREGATORS: str = ""
    # An aggregator failing every call (5xx, timeouts) for this long is "down": new orders go to the next
    # one, and a booking stuck on it hops there (app/fulfilment/routing.py). 0 = down at the first failure.
    AGGREGATOR_DOWN_AFTER_SECONDS: float = 300.0
    # An aggregator that refused a booking until the seller acts (terms, e-mail, wallet) gets no new orders
    # for this long; then its account is checked again (Shiplee: agreement and wallet, no order made).
    AGGREGATOR_BLOCKED_RECHECK_SECONDS: float = 600.0

    # Zoho
    ZOHO_ACCOUNTS_URL: str = "https://accounts.zoho.in"
    ZOHO_API_URL: str = "https://www.zohoapis.in"
    ZOHO_CLIENT_ID: str = ""
    ZOHO_CLIENT_SECRET: SecretStr = SecretStr("")
    ZOHO_REFRESH_TOKEN: SecretStr = SecretStr("")
    ZOHO_ORGANIZATION_ID: str = ""
    ZOHO_WEBHOOK_SECRET: SecretStr = SecretStr("")
    ZOHO_TOKEN_REFRESH_MARGIN_SECONDS: int = 300
    # Zoho allows about 100 API calls a minute per organisation, shared with every other app on it.
    # All Shipbridge processes share this budget through Redis; 0 turns the limiter off.
    ZOHO_MAX_CALLS_PER_WINDOW: int = 80
    ZOHO_RATE_WINDOW_SECONDS: float = 60.0
    # Zoho's daily call quota per organisation (docs/BENCHMARKS.md). Budget: ZOHO_DAILY_BUDGET, or 0 = the
    # plan's (free 1000, standard 2000, professional 5000, premium/elite/ultimate 10000). In the last
    # RESERVE_FRACTION of it, status labels wait for the reset; money, AWB and stock writes always go.
    ZOHO_PLAN: str = "professional"
    ZOHO_DAILY_BUDGET: int = 0
    ZOHO_BUDGET_RESERVE_FRACTION: float = 0.1
    ZOHO_QUOTA_TIMEZONE: str = "Asia/Kolkata"  # Zoho's day for an Indian organisation

    # Ops
    OPS_TOKEN: SecretStr = SecretStr("")
    ALERT_WEBHOOK_URL: str = ""  # optional: alerts are also POSTed here as JSON (Slack/Cliq-style incoming hook)
    # Webhook secret rotation (SECURITY.md): while the senders switch over, the previous value is accepted too.
    # Empty = only the current one. Remove it once no delivery has used it for a day.
    ZOHO_WEBHOOK_SECRET_PREVIOUS: SecretStr = SecretStr("")
    SHIPROCKET_WEBHOOK_TOKEN_PREVIOUS: SecretStr = SecretStr("")

    # Sales-order custom fields (api_name) written back by Shipbridge
    CF_AWB_NUMBER: str = "cf_awb_number"
    CF_SHIPROCKET_ORDER_ID: str = "cf_shiprocket_order_id"
    CF_COURIER_PARTNER: str = "cf_courier_partner"
    CF_SHIPMENT_STATUS: str = "cf_shipment_status"
    CF_PAYMENT_METHOD: str = "cf_payment_method"
    CF_COD_REMITTANCE_ID: str = "cf_cod_remittance_id"
    # An order saying neither COD nor prepaid (no cf_payment_method, no payment terms) is held with an
    # alert, never guessed; "COD" or "Prepaid" here ships such orders that way instead.
    DEFAULT_PAYMENT_METHOD: Literal["", "COD", "Prepaid"] = ""

    # Parcel defaults when items carry no package details
    DEFAULT_WEIGHT_KG: Decimal = Decimal("0.5")
    DEFAULT_LENGTH_CM: Decimal = Decimal("20")
    DEFAULT_BREADTH_CM: Decimal = Decimal("15")
    DEFAULT_HEIGHT_CM: Decimal = Decimal("10")

    # Courier choice: a TOML rules file the seller edits; empty = the bundled default rules.
    COURIER_RULES_FILE: str = ""

    # Fulfilment behaviour
    AWB_RETRY_DELAY_SECONDS: float = 300.0
    AWB_MAX_ATTEMPTS: int = 2
    # Couriers tried on one aggregator (AWB_MAX_ATTEMPTS each) before the booking moves to the next aggregator.
    AWB_COURIERS_PER_AGGREGATOR: int = 2
    # Create the Shiprocket order while serviceability is checked (one round trip less per order); an
    # unserviceable order then leaves an unshipped Shiprocket order, named in its alert.
    FULFIL_OVERLAP_ORDER_CREATION: bool = True
    # Failed runs of one fulfilment step (any error but refused credentials) before the shipment is
    # parked as `stalled` with a `fulfilment_stalled` alert: nothing the sweeper re-enqueues loops forever.
    FULFIL_MAX_ATTEMPTS: int = 30

    # Tracking (docs/tracking.md). Label overrides are JSON: {"delivered": "Delivered", "return:delivered": ...}.
    TRACKING_STATUS_LABELS: dict[str, str] = {}
    # Which cf_shipment_status labels are worth a Zoho call: a JSON list of labels or status keys
    # ("Delivered", "rto_initiated", "return:delivered"), ["*"] = all; unset = the exceptions and AWB only,
    # plus Picked Up / Delivered when ZOHO_RECORD_DELIVERY is off (else Zoho's shipment shows them).
    TRACKING_WRITE_LABELS: list[str] | None = None
    ZOHO_RECORD_DELIVERY: bool = True  # package + shipment order (AWB as tracking number), marked delivered
    TRACKING_RETURNS_LOCATION_ID: str = ""  # Zoho location receiving RTO/returns; empty = the order line's own
    TRACKING_POLL_INTERVAL_SECONDS: int = 900  # how often the missed-webhook poller runs
    TRACKING_POLL_AGE_SECONDS: int = 10800  # poll a parcel not heard of for this long
    TRACKING_LOOKBACK_DAYS: int = 30  # ...if it was booked within this many days
    RETURNS_PICKUP_LOCATION: str = ""  # Shiprocket pickup location receiving customer returns; empty = ours

    # COD remittance (app/remittance): the poller reads Shiprocket's remittance API from this date
    # (YYYY-MM-DD; empty = 30 days back, not before the first shipment) every interval (0 = off); payments are
    # recorded in Books with this mode, into this deposit account (empty = Books' default, Undeposited
    # Funds); a delivered COD order with no remittance after this many days is listed for ops.
    REMITTANCE_START_DATE: date | None = None
    REMITTANCE_POLL_INTERVAL_SECONDS: int = 3600
    REMITTANCE_PAYMENT_MODE: str = "banktransfer"
    REMITTANCE_DEPOSIT_ACCOUNT_ID: str = ""
    REMITTANCE_OVERDUE_DAYS: int = 12
    # Also write the remittance id onto the sales order (cf_cod_remittance_id): one more Zoho call per COD order.
    REMITTANCE_WRITE_SALESORDER: bool = False

    @field_validator("AGGREGATORS")
    @classmethod
    def _known_aggregators(cls, value: str) -> str:
        unknown = [n.strip() for n in value.split(",") if n.strip() and n.strip().lower() not in KNOWN_AGGREGATORS]
        if unknown:
            raise ValueError(f"unknown aggregator(s) {', '.join(unknown)}; known: {', '.join(KNOWN_AGGREGATORS)}")
        return value

    @field_validator("REMITTANCE_START_DATE", mode="before")
    @classmethod
    def _empty_date_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # Housekeeping: the sweeper re-enqueues inbox rows and stalled shipments older than this.
    SWEEP_INTERVAL_SECONDS: int = 60
    SWEEP_STALE_SECONDS: int = 120

    # HTTP behaviour towards upstreams
    # Concurrency: jobs one worker process runs at once. Each fulfilment job holds one Postgres
    # connection for its per-order lock and uses a second for its steps, so the worker's pool is
    # sized from this (2 per job + headroom); keep Postgres' max_connections above the sum.
    WORKER_MAX_JOBS: int = 10
    WORKER_POLL_DELAY_SECONDS: float = 0.01  # how often an idle worker asks Redis for due jobs
    DB_POOL_SIZE: int = 10  # the API process's pool

    HTTP_TIMEOUT_SECONDS: float = 20.0
    HTTP_MAX_RETRIES: int = 3
    HTTP_BACKOFF_BASE_SECONDS: float = 0.5
    HTTP_BACKOFF_MAX_SECONDS: float = 30.0

    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: str = "json"  # "json": one JSON object a line; "console": key=value lines for people (the demo)

    # Ops (app/ops, docs/operations.md): the dashboard's stuck threshold and session, readiness, alert
    # e-mail (sent when ALERT_EMAIL_TO and SMTP_HOST are set) and the storm summary.
    OPS_STUCK_MINUTES: int = 60  # an order in a non-final fulfilment state this long needs attention
    OPS_SESSION_HOURS: int = 12  # dashboard login lifetime
    OPS_COOKIE_SECURE: bool = True  # False only for the demo on http://127.0.0.1
    WORKER_HEARTBEAT_STALE_SECONDS: int = 120  # /readyz fails naming "worker" past this
    WORKER_METRICS_PORT: int = 9100  # the worker's Prometheus endpoint (jobs, upstream calls); 0 = off
    ALERT_EMAIL_TO: str = ""  # comma-separated recipients
    SMTP_HOST: str = ""
    SMTP_PORT: int = 587
    SMTP_USER: str = ""
    SMTP_PASSWORD: SecretStr = SecretStr("")
    SMTP_FROM: str = "shipbridge@localhost"
    SMTP_STARTTLS: bool = True
    PUBLIC_BASE_URL: str = ""  # the API's public HTTPS address: `doctor` prints the webhook URLs from it
    ALERT_STORM_THRESHOLD: int = 5  # more new alerts than this in one delivery round: one summary message

    # GoKwik RTO risk (docs/gokwik.md): all four set = COD orders are risk-checked before booking.
    GOKWIK_API_URL: str = ""  # https://api.gokwik.co (sandbox: https://sandbox.gokwik.co)
    GOKWIK_APP_ID: str = ""
    GOKWIK_APP_SECRET: SecretStr = SecretStr("")
    GOKWIK_MID: str = ""
    GOKWIK_HOLD_RISK: str = "High"  # comma-separated risk categories held for a person instead of shipped
    GOKWIK_TIMEOUT_SECONDS: float = 3.0  # GoKwik must never delay shipping by much
    GOKWIK_ALERT_AFTER_FAILURES: int = 5  # this many failed checks in a row: one alert a day

    @property
    def gokwik_configured(self) -> bool:
        return bool(self.GOKWIK_API_URL and self.GOKWIK_APP_ID and self.GOKWIK_APP_SECRET.get_secret_value()
                    and self.GOKWIK_MID)

    @property
    def gokwik_hold_risks(self) -> frozenset[str]:
        return frozenset(c.strip().lower() for c in self.GOKWIK_HOLD_RISK.split(",") if c.strip())
    # Return Prime (app/returns_portal, docs/returnprime.md): its API, the app token (x-rp-token), the key
    # in the webhook URL (Return Prime signs nothing), how its Shopify order name finds the Zoho sales order
    # (`reference_number` | `salesorder_number`), whether Shipbridge books the reverse pickup when Return
    # Prime has none, and the list poller (0 = off) over requests created in the last RETURNPRIME_LOOKBACK_DAYS.
    RETURNPRIME_API_URL: str = "https://admin.returnprime.com"
    RETURNPRIME_TOKEN: SecretStr = SecretStr("")
    RETURNPRIME_WEBHOOK_KEY: SecretStr = SecretStr("")
    RETURNPRIME_ORDER_MATCH: Literal["reference_number", "salesorder_number"] = "reference_number"
    RETURNPRIME_BOOK_PICKUPS: bool = True
    RETURNPRIME_POLL_INTERVAL_SECONDS: int = 1800
    RETURNPRIME_LOOKBACK_DAYS: int = 30

    @property
    def shiplee_configured(self) -> bool:
        return bool(self.SHIPLEE_MOBILE.strip() and self.SHIPLEE_PASSWORD.get_secret_value())

    @property
    def aggregator_order(self) -> tuple[str, ...]:
        """AGGREGATORS as names, in order of preference, each once."""
        if not self.AGGREGATORS.strip():
            return ("shiprocket", "shiplee") if self.shiplee_configured else ("shiprocket",)
        names = [n.strip().lower() for n in self.AGGREGATORS.split(",") if n.strip()]
        return tuple(dict.fromkeys(names))

    def missing(self) -> list[str]:
        out = []
        for name in REQUIRED:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if not str(value).strip():
                out.append(name)
        return out

    def require_complete(self) -> Settings:
        missing = self.missing()
        if missing:
            raise MissingSettings(missing)
        return self

    @property
    def courier_rules_path(self) -> Path:
        if self.COURIER_RULES_FILE:
            return Path(self.COURIER_RULES_FILE)
        return Path(__file__).parent / "fulfilment" / "courier_rules.toml"


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:  # a malformed value: say which variable, never echo its value
        names = ", ".join(str(e["loc"][0]) for e in exc.errors())
        raise RuntimeError(f"invalid settings: {names}") from None


def sqlalchemy_url(url: str) -> str:
    """Accept a plain postgresql:// URL (as operators write it) and select the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def load_settings_or_exit() -> Settings:
    """For process entry points: refuse to start, naming every missing variable, rather than fail later."""
    import sys

    try:
        return get_settings().require_complete()
    except (MissingSettings, RuntimeError) as exc:
        print(f"shipbridge: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
