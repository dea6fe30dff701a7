"""Logging: one structured line per event (JSON for machines, key=value for people in the demo), carrying
`salesorder_id`, `awb`, `event_id` and `job_id` wherever the code bound them. Every line, whoever logged
it (our code, arq, uvicorn), passes through one formatter on one root handler, and that formatter scrubs
every configured secret from the message, its arguments, the exception text and every field: SecretStr
is the first line of defence, this is the last."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from pydantic import SecretStr
from structlog.contextvars import bind_contextvars, reset_contextvars
from structlog.types import EventDict, Processor, WrappedLogger

from app.settings import get_settings

# Loggers that install handlers of their own (arq's CLI does): stripped so each line prints once.
OWN_HANDLER_LOGGERS = ("arq", "arq.worker", "arq.jobs", "arq.connections", "arq.cron", "uvicorn",
                       "uvicorn.error", "uvicorn.access")


class RedactSecrets:
    """A structlog processor: replaces each secret by *** in every string of the event, nested ones too."""

    def __init__(self, secrets: list[str]) -> None:
        # Longest first, so a secret containing another is replaced whole. Very short values would
        # blank out ordinary words, and no real secret is that short.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, "***")
            return value
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub(v) for v in value)
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.scrub(str(value))  # anything else is rendered as text anyway: scrub that text

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        if not self.secrets:
            return event
        return {k: (v if k.startswith("_") else self.scrub(v)) for k, v in event.items()}


def configured_secrets() -> list[str]:
    try:
        settings = get_settings()
    except RuntimeError:
        return []
    return [v.get_secret_value() for v in settings.__dict__.values() if isinstance(v, SecretStr)]


def _add_logger_name(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    record = event.get("_record")
    if record is not None:
        event.setdefault("logger", record.name)
    return event


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        _add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def build_formatter(secrets: list[str], *, json: bool = True) -> structlog.stdlib.ProcessorFormatter:
    renderer: Processor = (structlog.processors.JSONRenderer() if json
                           else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text here, before redaction: a secret in an exception message or a
            # local repr must not survive into the line.
            structlog.processors.format_exc_info,
            RedactSecrets(secrets),
            renderer,
        ],
    )


def configure_logging(level: str = "INFO", *, json: bool = True, stream: Any = None,
                      secrets: list[str] | None = None) -> logging.Handler:
    """One handler on the root logger; structlog loggers render through the same formatter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(build_formatter(configured_secrets() if secrets is None else secrets, json=json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in OWN_HANDLER_LOGGERS:
        other = logging.getLogger(name)
        other.handlers[:] = []
        other.propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines would carry query strings
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, structlog.contextvars.merge_contextvars,
                    structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return handler


@contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Bind ids (salesorder_id, awb, event_id, job_id) to every log line inside the block."""
    tokens = bind_contextvars(**{k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        reset_contextvars(**tokens)
