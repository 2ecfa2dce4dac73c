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

import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import _basic_auth_str
from requests.utils import get_encoding_from_headers
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.request import Request as TwilioRequest
from twilio.http.response import Response
from twilio.rest import Client
from urllib3 import BaseHTTPResponse, HTTPConnectionPool, Timeout
from urllib3 import exceptions as urllib3_exceptions
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)

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
    """twilio's HTTP client, sending through urllib3's pool instead of a requests session.

    It sends what twilio's client addresses to api.twilio.com to another base URL if given.

    requests' session and adapter still decide where a request goes and how it is checked:
    the proxy of the environment (HTTPS_PROXY, NO_PROXY), the CA bundle (certifi's, or
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE), the pool of kept-alive connections. Only the layers
    around each request are skipped: preparing it (merging cookies, hooks and settings),
    the session's redirect and cookie handling, and building requests' response. They were
    about half of the client's CPU per send. Thread CPU per ``TwilioSender.send``, the
    requests session against this, alternating rounds of 400: 1.15 vs 0.73 ms against the
    fake Twilio (which makes a new connection for every text), 1.52 vs 1.00 ms against a
    server that keeps them alive; in ``bench/worker_cpu.py --profile`` the send went from
    15% of the job's CPU to 9%.

    Errors are raised as the requests exceptions the adapter would raise, so callers sort
    them exactly as before. A request that may follow redirects (twilio's REST client never
    asks) takes requests' whole path.
    """

    def __init__(self, api_base: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._api_base = api_base.rstrip("/") if api_base else None
        self._routes: dict[str, _Route] = {}
        self._timeouts = {timeout: Timeout(connect=timeout, read=timeout)}
        if self.session is not None:
            self.session.merge_environment_settings = _settled(
                self.session.merge_environment_settings
            )
            # As a session sends them, with twilio's own (User-Agent, Accept) on top.
            self._default_headers = dict(self.session.headers)

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self._api_base and url.startswith(TWILIO_API):
            url = self._api_base + url[len(TWILIO_API) :]
        if allow_redirects or self.session is None:
            return super().request(
                method, url, params, data, headers, auth, timeout, allow_redirects
            )
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        method = method.upper()
        if self.logger.isEnabledFor(logging.INFO):
            self.log_request({"method": method, "url": url, "params": params, "headers": headers})
        self._test_only_last_response = None
        self._test_only_last_request = TwilioRequest(
            method=method, url=url, auth=auth, params=params, data=data, headers=headers
        )
        if params:
            query = _form(params)
            if query:
                url = f"{url}{'&' if '?' in url else '?'}{query}"
        sent = {**self._default_headers, **(headers or {})}
        body: bytes | None = None
        content_type = sent.get("Content-Type")
        if content_type in ("application/json", "application/scim+json"):
            if data is not None:
                body = json.dumps(data, allow_nan=False).encode()
        elif data:
            body = _form(data).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth is not None:
            sent["Authorization"] = _basic_auth_str(*auth)

        answer = self._send(method, url, body, sent, timeout)

        encoding = get_encoding_from_headers(answer.headers) or "utf-8"
        response = Response(
            int(answer.status), str(answer.data, encoding, "replace"), answer.headers
        )
        if self.logger.isEnabledFor(logging.INFO):
            self.log_response(response.status_code, response)
        self._test_only_last_response = response
        return response

    def _send(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float
    ) -> BaseHTTPResponse:
        """One request through the pool of its host, errors raised as requests would raise them."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        route = self._routes.get(origin)
        if route is None:
            route = self._routes[origin] = self._route(origin)
        pool = cast(
            HTTPConnectionPool,
            route.adapter.get_connection_with_tls_context(
                route.probe, route.verify, proxies=route.proxies, cert=route.cert
            ),
        )
        route.adapter.cert_verify(pool, url, route.verify, route.cert)  # type: ignore[no-untyped-call]
        target = url if route.whole_url else url[len(origin) :] or "/"
        limit = self._timeouts.get(timeout) or Timeout(connect=timeout, read=timeout)
        try:
            return pool.urlopen(
                method=method,
                url=target,
                body=body,
                headers=headers,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
                decode_content=True,
                retries=route.adapter.max_retries,
                timeout=limit,
            )
        except (urllib3_exceptions.HTTPError, OSError) as exc:
            translated = _as_requests_error(exc)
            if translated is exc:
                raise
            raise translated from exc

    def _route(self, origin: str) -> _Route:
        """How requests would reach this scheme and host: asked once, as ``_settled`` does."""
        assert self.session is not None
        settings = self.session.merge_environment_settings(origin, self.proxy, None, None, None)
        probe = requests.Request("GET", origin + "/").prepare()
        adapter = self.session.get_adapter(origin)
        if not isinstance(adapter, HTTPAdapter):
            raise TypeError("the twilio client's session needs requests' HTTPAdapter")
        proxies = settings["proxies"]
        return _Route(
            adapter=adapter,
            probe=probe,
            verify=settings["verify"],
            cert=settings["cert"],
            proxies=proxies,
            whole_url=adapter.request_url(probe, proxies) != probe.path_url,
        )


@dataclass(frozen=True)
class _Route:
    adapter: HTTPAdapter
    probe: requests.PreparedRequest  # stands for any URL of the host when asking the adapter
    verify: Any
    cert: Any
    proxies: dict[str, str]
    whole_url: bool  # through an HTTP proxy the request line carries the whole URL


def _form(fields: Mapping[str, object]) -> str:
    """Form encoding as requests does it: a list gives one pair per item, ``None`` none."""
    pairs: list[tuple[str, object]] = []
    for key, value in fields.items():
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            value = [value]
        pairs.extend((key, item) for item in value if item is not None)
    return urlencode(pairs)


def _as_requests_error(exc: urllib3_exceptions.HTTPError | OSError) -> Exception:
    """The exception requests' ``HTTPAdapter.send`` raises for what urllib3 raised."""
    if isinstance(exc, MaxRetryError):
        reason = exc.reason
        if isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError):
            return requests.exceptions.ConnectTimeout(exc)
        if isinstance(reason, ResponseError):
            return requests.exceptions.RetryError(exc)
        if isinstance(reason, urllib3_exceptions.ProxyError):
            return requests.exceptions.ProxyError(exc)
        if isinstance(reason, urllib3_exceptions.SSLError):
            return requests.exceptions.SSLError(exc)
        return requests.exceptions.ConnectionError(exc)
    if isinstance(exc, ProtocolError | OSError | ClosedPoolError):
        return requests.exceptions.ConnectionError(exc)
    if isinstance(exc, urllib3_exceptions.ProxyError):
        return requests.exceptions.ProxyError(exc)
    if isinstance(exc, urllib3_exceptions.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, ReadTimeoutError):
        return requests.exceptions.ReadTimeout(exc)
    if isinstance(exc, urllib3_exceptions.InvalidHeader):
        return requests.exceptions.InvalidHeader(exc)
    return exc


def _settled(merge_once: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """requests' ``merge_environment_settings``, asked once per host and arguments.

    For every request requests reads the environment again (proxy variables, walking every
    variable of the process, and the CA bundle's): a third of the twilio client's time for a
    send in the worker's profile. The environment does not change under a running process, so
    the first answer for a scheme and host stands; each caller gets its own copy of it. Two
    threads asking at once both compute it, which is harmless. (Texts now ask it once per host,
    in ``_BaseUrlHttpClient._route``; requests that follow redirects ask it each time.)
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
        # twilio imports its API's modules on first use (about 150 ms): here, so that a celery
        # worker does it once before its pool forks rather than in each process's first reply.
        self._messages = self._client.messages
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
            message = self._messages.create(to=text.to, body=text.body, **sender, **extra)
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
            candidates = self._messages.list(to=to, limit=100)
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
