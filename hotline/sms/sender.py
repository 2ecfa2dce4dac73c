"""Sending texts: the interface, Twilio's REST implementation, and a local one for the demo.

Both implementations run through the same contract tests. Errors are sorted by what the caller
may do next, because a reply must never go out twice:

* :class:`RetryableSendError`: Twilio certainly did not take the text (429, 5xx, no
  connection). Safe to send again later.
* :class:`PermanentSendError`: Twilio refused it for good (bad number, opted out: 21610).
* :class:`AmbiguousSendError`: the request may have reached Twilio (the answer timed out or the
  connection broke after sending). Sending again could double it; reconcile with
  :meth:`Sender.find_sent` first.

No error message carries the number or the text.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

TWILIO_API = "https://api.twilio.com"
OPTED_OUT_ERROR = 21610  # "Attempt to send to unsubscribed recipient"
# twilio 9 raises TwilioServiceException for errors in the RFC 9457 format, the other otherwise.
_TWILIO_ERRORS = (TwilioRestException, TwilioServiceException)


@dataclass(frozen=True)
class OutboundText:
    to: str
    body: str
    status_callback: str | None = None


@dataclass(frozen=True)
class Accepted:
    sid: str
    status: str  # Twilio's status for it: usually "queued" or "accepted"


class SendError(Exception):
    pass


class RetryableSendError(SendError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    def __init__(self, reason: str, code: int | None) -> None:
        super().__init__(reason)
        self.code = code


class AmbiguousSendError(SendError):
    pass


class Sender(Protocol):
    def send(self, text: OutboundText) -> Accepted:
        """Hand one text to the carrier. Raises one of the :class:`SendError` kinds."""
        ...

    def find_sent(self, to: str, body: str, since: datetime) -> Accepted | None:
        """The text with this number and body accepted at or after ``since``, if any.

        Used after an ambiguous failure to learn whether the first attempt went through.
        Raises :class:`RetryableSendError` when the carrier cannot be asked right now.
        """
        ...


class _BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends what twilio's client addresses to api.twilio.com to another base URL instead."""

    def __init__(self, api_base: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._api_base = api_base.rstrip("/") if api_base else None
        if self.session is not None:
            self.session.merge_environment_settings = _settled(
                self.session.merge_environment_settings
            )

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self._api_base and url.startswith(TWILIO_API):
            url = self._api_base + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


def _settled(merge_once: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """requests' ``merge_environment_settings``, asked once per host and arguments.

    For every request requests reads the environment again (proxy variables, walking every
    variable of the process, and the CA bundle's): a third of the twilio client's time for a
    send in the worker's profile. The environment does not change under a running process, so
    the first answer for a scheme and host stands; each caller gets its own copy of it. Two
    threads asking at once both compute it, which is harmless.
    """
    settled: dict[Any, dict[str, Any]] = {}

    def merge(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, repr(proxies), stream, verify, repr(cert))
        found = settled.get(key)
        if found is None:
            found = settled[key] = merge_once(url, proxies, stream, verify, cert)
        return {**found, "proxies": dict(found.get("proxies") or {})}

    return merge


def _never_reached_twilio(exc: requests.exceptions.RequestException) -> bool:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


class TwilioSender:
    """Sends through twilio's REST client (``messages.create``)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("a sender needs a from number or a messaging service")
        self._client = Client(
            account_sid, auth_token, http_client=_BaseUrlHttpClient(api_base, timeout)
        )
        self._from = from_number
        self._service = messaging_service_sid

    def send(self, text: OutboundText) -> Accepted:
        sender: dict[str, str] = (
            {"messaging_service_sid": self._service}
            if self._service
            else {"from_": self._from or ""}
        )
        extra: dict[str, str] = (
            {"status_callback": text.status_callback} if text.status_callback else {}
        )
        try:
            message = self._client.messages.create(to=text.to, body=text.body, **sender, **extra)
        except _TWILIO_ERRORS as exc:
            raise _classify(exc) from None
        except requests.exceptions.RequestException as exc:
            if _never_reached_twilio(exc):
                raise RetryableSendError("could not connect to Twilio") from None
            raise AmbiguousSendError(f"no answer from Twilio ({type(exc).__name__})") from None
        return Accepted(sid=str(message.sid), status=str(message.status or "queued"))

    def find_sent(self, to: str, body: str, since: datetime) -> Accepted | None:
        since = since.astimezone(UTC).replace(microsecond=0)  # Twilio's stamps are whole seconds
        try:
            # No DateSent filter: Twilio applies it by whole days, and a queued text has no
            # date_sent yet. Filter on date_created here instead, newest first.
            candidates = self._client.messages.list(to=to, limit=100)
        except _TWILIO_ERRORS as exc:
            reason = f"Twilio could not list messages (HTTP {exc.status})"
            raise RetryableSendError(reason) from None
        except requests.exceptions.RequestException as exc:
            raise RetryableSendError(f"could not ask Twilio ({type(exc).__name__})") from None
        for message in candidates:
            if message.date_created is not None and message.date_created < since:
                continue
            if message.body == body and message.direction != "inbound":
                return Accepted(sid=str(message.sid), status=str(message.status or "queued"))
        return None


def _classify(exc: TwilioRestException | TwilioServiceException) -> SendError:
    status = int(exc.status or 0)
    code = int(exc.code) if isinstance(exc.code, int) or str(exc.code).isdigit() else None
    # Twilio's own message can quote the number; keep only the numbers.
    # 401: our credentials are wrong. That is fixed by an operator, not by the texter, so keep
    # the reply and retry (boundedly) rather than fail it for good.
    if status in (401, 429) or status >= 500:
        return RetryableSendError(f"Twilio answered HTTP {status} (error {code})")
    return PermanentSendError(f"Twilio refused the message: HTTP {status}, error {code}", code)


class LocalSender:
    """Keeps texts in memory instead of sending them: the demo's and the tests' carrier."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._now = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self.outbox: list[tuple[Accepted, OutboundText, datetime]] = []

    def send(self, text: OutboundText) -> Accepted:
        accepted = Accepted(sid="SM" + secrets.token_hex(16), status="sent")
        with self._lock:
            self.outbox.append((accepted, text, self._now()))
        return accepted

    def find_sent(self, to: str, body: str, since: datetime) -> Accepted | None:
        with self._lock:
            for accepted, text, at in self.outbox:
                if text.to == to and text.body == body and at >= since:
                    return accepted
        return None
