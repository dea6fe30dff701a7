"""Logs: one JSON line per event, each once (arq's own handler removed), ids carried from the context,
and every configured secret scrubbed from message, arguments, tracebacks and fields (issue 10)."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import structlog
from arq.logs import default_log_config

from app.logging import configure_logging, log_context

SECRET = "s3cr3t-zoho-refresh"


def _lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_arq_lines_print_once_and_secrets_never_print() -> None:
    # What `arq workers.main.WorkerSettings` does before our startup runs: its own handler on "arq".
    logging.config.dictConfig(default_log_config(verbose=False))
    buf = io.StringIO()
    configure_logging("INFO", stream=buf, secrets=[SECRET])
    try:
        logging.getLogger("arq.worker").info("job failed: refresh_token=%s", SECRET)
        with log_context(salesorder_id="460000000012345", awb="AWB1", event_id=7, job_id="fulfil:1"):
            logging.getLogger("shipbridge.jobs").info("step %s", "done")
            try:
                raise RuntimeError(f"upstream said {SECRET}")
            except RuntimeError:
                logging.getLogger("shipbridge.jobs").exception("job crashed")
        structlog.get_logger("shipbridge.ops").warning("alert", detail={"token": SECRET}, note=[SECRET])
        lines = _lines(buf)
    finally:
        logging.getLogger().handlers.clear()
    assert SECRET not in buf.getvalue()
    arq_lines = [ln for ln in lines if ln.get("logger") == "arq.worker"]
    assert len(arq_lines) == 1 and arq_lines[0]["event"] == "job failed: refresh_token=***"
    step = next(ln for ln in lines if ln["event"] == "step done")
    assert (step["salesorder_id"], step["awb"], step["event_id"], step["job_id"]) == (
        "460000000012345", "AWB1", 7, "fulfil:1")
    crash = next(ln for ln in lines if ln["event"] == "job crashed")
    assert "RuntimeError: upstream said ***" in str(crash["exception"])
    alert = next(ln for ln in lines if ln["event"] == "alert")
    assert alert["detail"] == {"token": "***"} and alert["note"] == ["***"] and alert["level"] == "warning"
    assert "timestamp" in alert and "salesorder_id" not in alert  # the context ended with its block


def test_console_format_for_people() -> None:
    buf = io.StringIO()
    configure_logging("INFO", stream=buf, json=False, secrets=[SECRET])
    try:
        logging.getLogger("shipbridge.demo").info("hello %s", SECRET)
    finally:
        logging.getLogger().handlers.clear()
    text = buf.getvalue()
    assert "hello ***" in text and SECRET not in text and not text.lstrip().startswith("{")
