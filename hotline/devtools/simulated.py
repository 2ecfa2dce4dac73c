"""The texting simulator's carrier (demo and development only).

It keeps every text the hotline "sends", like :class:`LocalSender`, and then plays Twilio's part
after a send: from one background thread it moves each text to ``sent`` and then ``delivered``,
and posts each step, signed as Twilio signs it, to the text's status callback URL. The simulator
page shows the kept texts with the status reported for each.

The thread never raises and never logs a number, a text or a callback URL (the URL holds the
message id only, but the host may be private); it logs the kind of failure only.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import requests

from hotline.sms.sender import Accepted, LocalSender, OutboundText
from hotline.sms.signature import sign

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
SIMULATED_ACCOUNT_SID = "AC" + "5" * 32  # stands in for an account when there is none
SIMULATED_SHORT_CODE = "233733"
CALLBACK_TIMEOUT = 3.0
# Each status and the seconds after the send at which it is reported, in order.
TWILIO_TIMELINE: tuple[tuple[str, float], ...] = (("sent", 0.2), ("delivered", 0.5))


@dataclass(frozen=True)
class CarriedText:
    """A text the hotline sent through the simulated carrier, with its latest reported status."""

    sid: str
    to: str
    body: str
    at: datetime
    status: str


@dataclass(order=True, frozen=True)
class _Report:
    due: float  # time.monotonic()
    seq: int
    sid: str
    status: str


class SimulatedCarrier(LocalSender):
    """A carrier for the simulator: keeps texts and reports their delivery like Twilio.

    :meth:`close` stops the reporting thread; reports still due are dropped.
    """

    def __init__(
        self,
        auth_token: str,
        clock: Callable[[], datetime] | None = None,
        *,
        account_sid: str = SIMULATED_ACCOUNT_SID,
        from_number: str = SIMULATED_SHORT_CODE,
        timeline: Sequence[tuple[str, float]] = TWILIO_TIMELINE,
    ) -> None:
        super().__init__(clock)
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.from_number = from_number
        self.timeline = tuple(timeline)
        self._wake = threading.Condition()
        self._due: list[_Report] = []
        self._seq = itertools.count()
        self._status: dict[str, str] = {}
        self._callbacks: dict[str, tuple[str, str]] = {}  # sid -> (callback URL, to)
        self._thread: threading.Thread | None = None
        self._closed = False
        self.callback_failures = 0  # callbacks the hotline did not answer with 2xx

    def send(self, text: OutboundText) -> Accepted:
        accepted = Accepted(sid="SM" + secrets.token_hex(16), status="queued")
        start = time.monotonic()
        with self._lock:
            self.outbox.append((accepted, text, self._now()))
        with self._wake:
            self._status[accepted.sid] = accepted.status
            if text.status_callback:
                self._callbacks[accepted.sid] = (text.status_callback, text.to)
            if not self._closed:
                for status, after in self.timeline:
                    heapq.heappush(
                        self._due, _Report(start + after, next(self._seq), accepted.sid, status)
                    )
                self._ensure_thread()
                self._wake.notify()
        return accepted

    def status_of(self, sid: str) -> str | None:
        """The latest status reported for ``sid`` (``queued`` until the first report)."""
        with self._wake:
            return self._status.get(sid)

    def texts_to(self, number: str) -> list[CarriedText]:
        """Every text sent to ``number``, oldest first, each with its reported status."""
        with self._lock:
            kept = [(a.sid, t, at) for a, t, at in self.outbox if t.to == number]
        with self._wake:
            return [
                CarriedText(sid, text.to, text.body, at, self._status.get(sid, "queued"))
                for sid, text, at in kept
            ]

    def close(self, timeout: float = 5.0) -> None:
        """Stop reporting: drop what is still due and wait for the thread to finish."""
        with self._wake:
            self._closed = True
            self._due.clear()
            self._wake.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    # -- the reporting thread -------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="simulated-carrier", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with requests.Session() as http:
            while True:
                with self._wake:
                    report = self._next_due()
                    if report is None:
                        return
                    self._status[report.sid] = report.status
                    callback = self._callbacks.get(report.sid)
                    if callback is not None and report.status == self.timeline[-1][0]:
                        del self._callbacks[report.sid]  # the last report: nothing more to send
                if callback is not None:
                    self._post(http, report, *callback)

    def _next_due(self) -> _Report | None:
        """Wait (holding ``_wake``) for the next report; None once closed."""
        while not self._closed:
            if not self._due:
                self._wake.wait()
                continue
            delay = self._due[0].due - time.monotonic()
            if delay > 0:
                self._wake.wait(delay)
                continue
            return heapq.heappop(self._due)
        return None

    def _post(self, http: requests.Session, report: _Report, url: str, to: str) -> None:
        params = {
            "MessageSid": report.sid,
            "SmsSid": report.sid,
            "MessageStatus": report.status,
            "SmsStatus": report.status,
            "To": to,
            "From": self.from_number,
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
        }
        try:
            headers = {"X-Twilio-Signature": sign(self.auth_token, url, params)}
            with http.post(url, data=params, headers=headers, timeout=CALLBACK_TIMEOUT) as answer:
                ok = 200 <= answer.status_code < 300
                answered = f"HTTP {answer.status_code}"
        # Anything at all: a dead reporting thread would silently stop every later report.
        except Exception as exc:
            ok, answered = False, type(exc).__name__
        if not ok:
            with self._wake:
                self.callback_failures += 1
            log.warning("simulated status callback %s not taken (%s)", report.status, answered)
