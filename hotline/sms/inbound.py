"""Validation of what Twilio posts to the webhooks, before anything is stored.

Errors name the field and the rule, never the value: a rejected request may still carry a
phone number or a text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hotline.domain.delivery import CALLBACK_STATUSES, DeliveryStatus
from hotline.domain.phone import InvalidPhoneNumber, normalise

MAX_MEDIA = 10  # Twilio delivers at most ten media items with one message
_MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
_CONTENT_TYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}"
)
_ERROR_CODE = re.compile(r"[0-9]{1,6}")
_SURROGATE = re.compile("[\ud800-\udfff]")


# What stands where a text too long to keep was cut: staff see that something is missing.
CUT_MARKER = " [… {count} more characters were cut: the text was too long to keep]"


class InvalidRequest(ValueError):
    """A webhook request that must be refused with 400 and change nothing."""


@dataclass(frozen=True)
class InboundText:
    message_sid: str
    phone: str  # E.164
    body: str
    media_types: tuple[str, ...]

    @property
    def num_media(self) -> int:
        return len(self.media_types)


@dataclass(frozen=True)
class StatusReport:
    message_sid: str
    status: DeliveryStatus
    error_code: int | None


def _check_text(name: str, value: str, max_chars: int) -> str:
    _check_characters(name, value)
    if len(value) > max_chars:
        raise InvalidRequest(f"{name} is longer than {max_chars} characters")
    return value


def _check_characters(name: str, value: str) -> None:
    if "\x00" in value:
        raise InvalidRequest(f"{name} contains a NUL character")
    if _SURROGATE.search(value):  # one C scan: a text is up to 10,000 characters
        raise InvalidRequest(f"{name} is not valid Unicode")


def keep_body(body: str, max_chars: int) -> str:
    """The body to store: whole up to ``max_chars``, else cut there with :data:`CUT_MARKER`.

    A text is never refused for its length: Twilio does not retry a 4xx, so a refused text
    would be lost, and a long one may be the most important the texter sends.
    """
    if len(body) <= max_chars:
        return body
    return body[:max_chars] + CUT_MARKER.format(count=len(body) - max_chars)


def _message_sid(form: Mapping[str, str]) -> str:
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid:
        raise InvalidRequest("MessageSid is missing")
    if not _MESSAGE_SID.fullmatch(sid):
        raise InvalidRequest("MessageSid is not a Twilio message SID")
    return sid


def parse_inbound(form: Mapping[str, str], *, max_body_chars: int) -> InboundText:
    """Turn an inbound-SMS webhook form into an :class:`InboundText`, or raise InvalidRequest."""
    sid = _message_sid(form)
    raw_from = form.get("From", "")
    if not raw_from:
        raise InvalidRequest("From is missing")
    _check_text("From", raw_from, 64)
    try:
        phone = normalise(raw_from)
    except InvalidPhoneNumber:
        raise InvalidRequest("From is not an E.164 phone number") from None
    body = form.get("Body", "")
    _check_characters("Body", body)
    body = keep_body(body, max_body_chars)

    raw_count = form.get("NumMedia", "0").strip() or "0"
    if not raw_count.isascii() or not raw_count.isdigit():
        raise InvalidRequest("NumMedia is not a whole number")
    if len(raw_count) > 3 or int(raw_count) > MAX_MEDIA:
        raise InvalidRequest(f"NumMedia is more than {MAX_MEDIA}")
    media_types: list[str] = []
    for index in range(int(raw_count)):
        content_type = form.get(f"MediaContentType{index}", "").strip().lower()
        if not _CONTENT_TYPE.fullmatch(content_type):
            raise InvalidRequest(f"MediaContentType{index} is missing or not a media type")
        media_types.append(content_type)
    return InboundText(message_sid=sid, phone=phone, body=body, media_types=tuple(media_types))


def parse_status(form: Mapping[str, str]) -> StatusReport:
    """Turn a status-callback form into a :class:`StatusReport`, or raise InvalidRequest."""
    sid = _message_sid(form)
    raw_status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    try:
        status = DeliveryStatus(raw_status)
    except ValueError:
        raise InvalidRequest("MessageStatus is not a Twilio message status") from None
    if status not in CALLBACK_STATUSES:
        raise InvalidRequest("MessageStatus is not a Twilio message status")
    raw_code = form.get("ErrorCode", "").strip()
    error_code: int | None = None
    if raw_code:
        if not _ERROR_CODE.fullmatch(raw_code):
            raise InvalidRequest("ErrorCode is not a number")
        error_code = int(raw_code)
    return StatusReport(message_sid=sid, status=status, error_code=error_code)
