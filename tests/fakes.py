"""Hand-written fakes passed in where the real collaborator would be."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from hotline.sms.sender import Accepted, LocalSender, OutboundText, SendError


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class ScriptedSender(LocalSender):
    """A local carrier whose next answers are scripted errors.

    Each scripted error is raised once, in order. ``record_before_raising`` makes an error
    happen *after* the carrier took the text, as when the answer times out.
    """

    def __init__(
        self,
        script: Iterable[SendError | tuple[SendError, bool]] = (),
        clock: FakeClock | None = None,
    ) -> None:
        super().__init__(clock.now if clock else None)
        self._script: list[tuple[SendError, bool]] = [
            item if isinstance(item, tuple) else (item, False) for item in script
        ]
        self.calls = 0
        self._calls_lock = threading.Lock()

    def send(self, text: OutboundText) -> Accepted:
        with self._calls_lock:
            self.calls += 1
            step = self._script.pop(0) if self._script else None
        if step is None:
            return super().send(text)
        error, took_it = step
        if took_it:
            super().send(text)
        raise error
