"""The texting simulator's carrier (demo and development only). Being built: see issue 5."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hotline.sms.sender import LocalSender


class SimulatedCarrier(LocalSender):
    def __init__(self, auth_token: str, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(clock)
        self.auth_token = auth_token
