"""Logging set-up. A filter scrubs every configured secret from every record, as a last line of
defence behind SecretStr: no token, password or webhook secret may reach a log line."""

from __future__ import annotations

import logging
import sys

from pydantic import SecretStr

from app.settings import get_settings


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configured_secrets() -> list[str]:
    try:
        settings = get_settings()
    except RuntimeError:
        return []
    return [v.get_secret_value() for v in settings.__dict__.values() if isinstance(v, SecretStr)]


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(configured_secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines would carry query strings
