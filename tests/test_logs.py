"""Logging cannot leak a texter's phone number: not in messages, arguments or tracebacks."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hotline.infra.logs import (
    REDACTED,
    RedactingFormatter,
    RedactingJsonFormatter,
    configure_logging,
    redact,
)
from hotline.settings import Mode, Settings, SettingsError

PHONE = "+15551234567"
DIGITS = re.compile(r"\d{3}\D?\d{4}")  # what is left of any phone-shaped run


class Capture(logging.Handler):
    """Keeps the records themselves, to look at what a handler is really given."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, Capture]]:
    configure_logging()
    logger = logging.getLogger("tests.test_logs")
    handler = Capture()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


# --- redact() ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+15551234567",
        "+1 555 123 4567",
        "+1 (555) 123-4567",
        "+1-555-123-4567",
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "555 123 4567",
        "5551234567",
        "+44 20 7946 0958",
        "+442079460958",
        "+52 55 1234 5678",
    ],
)
def test_redact_removes_phone_numbers(number: str) -> None:
    for text in (number, f"From={number}", f"texter {number} wrote", f"call {number}."):
        cleaned = redact(text)
        assert REDACTED in cleaned
        assert not DIGITS.search(cleaned), cleaned


def test_redact_removes_every_number_in_a_line() -> None:
    cleaned = redact("To=+15551234567 From=(555) 987-6543 Body=hi")
    assert cleaned == f"To={REDACTED} From={REDACTED} Body=hi"


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23 09:45:12",
        "2026-11-23 09:45:12,123 INFO hotline.background.jobs: sweep",
        "2026-11-23T09:45:12+01:00",
        "2026-11-23T09:45:12.123456Z",
        "conversation 12345 claimed by advocate 7",
        "message 42 sent in 0.153s",
        "retry 3 of 8 after 2.0 s",
        "SM0123456789abcdef0123456789abcdef",
        "MessageSid=SM12345678901234567890123456789012",
        "status 429, error code 30003",
        "version 1.2.3",
        "",
    ],
)
def test_redact_leaves_dates_ids_and_small_numbers_alone(text: str) -> None:
    assert redact(text) == text


# --- records -----------------------------------------------------------------------------------


def test_a_number_passed_as_an_argument_never_reaches_a_handler(
    capture: tuple[logging.Logger, Capture],
) -> None:
    logger, handler = capture
    logger.info("texter %s wrote to %s", PHONE, "233733")
    (record,) = handler.records
    assert record.getMessage() == f"texter {REDACTED} wrote to 233733"
    assert PHONE not in str(record.msg)
    assert not record.args


def test_a_number_in_the_message_itself(capture: tuple[logging.Logger, Capture]) -> None:
    logger, handler = capture
    logger.warning(f"twilio said: invalid To {PHONE}")
    assert handler.records[0].getMessage() == f"twilio said: invalid To {REDACTED}"


def test_mapping_arguments(capture: tuple[logging.Logger, Capture]) -> None:
    logger, handler = capture
    logger.info("%(who)s texted", {"who": "(555) 123-4567"})
    assert handler.records[0].getMessage() == f"{REDACTED} texted"


def test_an_object_as_the_message(capture: tuple[logging.Logger, Capture]) -> None:
    logger, handler = capture
    logger.error(ValueError(f"bad number {PHONE}"))
    assert handler.records[0].getMessage() == f"bad number {REDACTED}"


def test_a_malformed_format_string_neither_leaks_nor_breaks(
    capture: tuple[logging.Logger, Capture],
) -> None:
    logger, handler = capture
    logger.info("%s and %s", PHONE)  # one argument short, as a buggy library might log
    message = handler.records[0].getMessage()
    assert PHONE not in message
    assert "555" not in message


def test_messages_without_numbers_are_unchanged(capture: tuple[logging.Logger, Capture]) -> None:
    logger, handler = capture
    logger.info("conversation %d claimed by advocate %d", 12345, 7)
    assert handler.records[0].getMessage() == "conversation 12345 claimed by advocate 7"


# --- tracebacks --------------------------------------------------------------------------------


def _log_failure(logger: logging.Logger) -> None:
    try:
        raise RuntimeError(f"Twilio rejected To={PHONE}")
    except RuntimeError:
        logger.exception("sending message %d failed", 42)


def test_the_formatter_redacts_a_traceback(capture: tuple[logging.Logger, Capture]) -> None:
    logger, handler = capture
    _log_failure(logger)
    output = RedactingFormatter("%(levelname)s %(message)s").format(handler.records[0])
    assert output.startswith("ERROR sending message 42 failed")
    assert "Traceback" in output
    assert f"RuntimeError: Twilio rejected To={REDACTED}" in output
    assert "555" not in output


def test_a_traceback_cached_by_a_plain_handler_first_is_still_redacted() -> None:
    try:
        raise RuntimeError(f"Twilio rejected To={PHONE}")
    except RuntimeError:
        exc_info = sys.exc_info()
    # Built directly, so that no handler (pytest's included) has formatted it yet.
    record = logging.LogRecord("twilio", logging.ERROR, __file__, 1, "send failed", None, exc_info)
    logging.Formatter().format(record)  # caches record.exc_text, unredacted
    assert PHONE in (record.exc_text or "")
    output = RedactingFormatter().format(record)
    assert "RuntimeError" in output
    assert PHONE not in output


def test_fields_from_extra_are_redacted_by_the_formatter(
    capture: tuple[logging.Logger, Capture],
) -> None:
    logger, handler = capture
    logger.info("inbound", extra={"sender": PHONE})
    output = RedactingFormatter("%(message)s from %(sender)s").format(handler.records[0])
    assert output == f"inbound from {REDACTED}"


def test_configure_logging_makes_every_root_handler_redact() -> None:
    stream = io.StringIO()
    plain = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(plain)
    logger = logging.getLogger("tests.test_logs.root")
    logger.setLevel(logging.INFO)
    try:
        configure_logging()
        configure_logging()  # idempotent
        assert isinstance(plain.formatter, RedactingFormatter)
        logger.info("texter %s", PHONE)
        _log_failure(logger)
    finally:
        root.removeHandler(plain)
    output = stream.getvalue()
    assert output.count(REDACTED) >= 2
    assert "Traceback" in output
    assert "555" not in output
    assert logging.getLogger("twilio.http_client").getEffectiveLevel() >= logging.WARNING


# --- JSON lines (HOTLINE_LOG_FORMAT=json) ------------------------------------------------------


@pytest.fixture
def json_root() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A root handler writing to a string, turned to JSON lines; plain text again after."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    logger = logging.getLogger("tests.test_logs.json")
    logger.setLevel(logging.INFO)
    try:
        configure_logging(json_lines=True)
        configure_logging(json_lines=True)  # idempotent
        assert isinstance(handler.formatter, RedactingJsonFormatter)
        yield logger, stream
    finally:
        root.removeHandler(handler)
        configure_logging()  # the other root handlers (pytest's) back to plain text


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_level_logger_message_and_time(
    json_root: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_root
    logger.info("conversation %d claimed by advocate %d", 12345, 7)
    [line] = lines(stream)
    assert line["level"] == "INFO"
    assert line["logger"] == "tests.test_logs.json"
    assert line["message"] == "conversation 12345 claimed by advocate 7"
    assert "T" in line["timestamp"]  # ISO 8601, as collectors parse it
    assert datetime.fromisoformat(line["timestamp"]).tzinfo is not None


def test_a_number_in_a_json_line_is_redacted_wherever_it_is(
    json_root: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_root
    logger.warning("texter %s wrote", PHONE)
    logger.info("inbound", extra={"sender": PHONE, "digits": 5551234567, "count": 3})
    _log_failure(logger)
    first, second, third = lines(stream)  # each line is still valid JSON
    assert first["message"] == f"texter {REDACTED} wrote"
    assert second["sender"] == REDACTED
    assert second["digits"] == REDACTED  # a bare JSON number would have kept it
    assert second["count"] == 3
    assert third["level"] == "ERROR"
    assert f"RuntimeError: Twilio rejected To={REDACTED}" in third["exc_info"]
    assert "555" not in stream.getvalue()


def test_the_app_logs_json_lines_when_told(
    make_app: Callable[..., Flask], sqlite_url: str, tmp_path: Path
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        make_app(sqlite_url, settings_overrides={"log_format": "json"})
        logging.getLogger("hotline.test").warning("text %s from %s", 42, PHONE)
    finally:
        root.removeHandler(handler)
        configure_logging()
    [line] = lines(stream)
    assert line["message"] == f"text 42 from {REDACTED}"

    with pytest.raises(SettingsError, match="HOTLINE_LOG_FORMAT must be text or json"):
        Settings.from_env({"HOTLINE_LOG_FORMAT": "yaml"}, mode=Mode.TEST, instance_path=tmp_path)
    env = {"HOTLINE_LOG_FORMAT": "JSON"}
    assert Settings.from_env(env, mode=Mode.TEST, instance_path=tmp_path).log_format == "json"
