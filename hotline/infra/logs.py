"""Logging that cannot leak a texter's phone number.

The hotline's own code never logs a number or a text: it logs ids. This is the net under
everything else (libraries, tracebacks): every record's message is scanned for anything shaped
like a phone number as it is created, and tracebacks are scanned as they are formatted.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import date
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_PHONE = re.compile(
    # "%2B" is "+" in a logged URL's query string (urllib3 logs such URLs at DEBUG).
    r"(?<![\w.])(?:(?:\+|%2[Bb])\d[\d\s().-]{6,18}\d|\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}|\d{10,15})(?![\w])"
)
REDACTED = "[redacted-number]"
_installed = False


def redact(text: str) -> str:
    return _PHONE.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # The whole line, not just the message: another handler may have cached an unredacted
        # traceback on the record (exc_text) first, and %(...)s fields from `extra` are raw.
        return redact(super().format(record))

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object a line (``HOTLINE_LOG_FORMAT=json``), for a log collector to parse:
    ``timestamp``, ``level``, ``logger``, ``message``, ``exc_info`` when there is a traceback,
    and any ``extra`` fields. Redacted as :class:`RedactingFormatter` is, value by value, so a
    number in a field of its own cannot survive as a bare JSON number."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: _redacted_value(value) for key, value in log_data.items()}

    def serialize_log_record(self, log_data: dict[str, Any]) -> str:
        # Objects the encoder turns into text on its own are only text here: scan it all.
        # REDACTED holds no quote or backslash, so the line stays valid JSON.
        return redact(super().serialize_log_record(log_data))


def _redacted_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redacted_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted_value(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, date):  # the timestamp: ISO 8601, as the encoder would have written it
        return value.isoformat()
    if isinstance(value, int | float) and redact(str(value)) == str(value):
        return value
    return redact(str(value))


def _install_record_factory() -> None:
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a library's malformed format string
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def configure_logging(level: int = logging.INFO, *, json_lines: bool = False) -> None:
    """Install the redaction for every logger, and a plain stderr handler if none exists;
    with ``json_lines`` every root handler writes JSON lines instead of plain text."""
    _install_record_factory()
    # twilio's HTTP client logs request parameters (the To number) at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
        root.setLevel(level)
    for existing in root.handlers:
        if json_lines and not isinstance(existing.formatter, RedactingJsonFormatter):
            existing.setFormatter(RedactingJsonFormatter())
        elif not json_lines and not isinstance(existing.formatter, RedactingFormatter):
            existing.setFormatter(
                RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
