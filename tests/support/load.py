"""The benchmarks' load: signed Twilio requests, posted over keep-alive connections."""

from __future__ import annotations

import http.client
from dataclasses import dataclass


@dataclass(frozen=True)
class Signed:
    """One request body, form-encoded, with the signature Twilio would send with it."""

    body: bytes
    signature: str


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1, as one thread of the load uses it."""

    def __init__(self, port: int, path: str = "/twilio/sms") -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.path = path

    def post(self, text: Signed) -> int:
        """POST one text; its HTTP status, or 0 when the connection failed twice."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": text.signature,
        }
        for _ in range(2):  # the server may have closed an idle keep-alive connection
            try:
                self.connection.request("POST", self.path, body=text.body, headers=headers)
                with self.connection.getresponse() as response:
                    response.read()
                    return response.status
            except (http.client.HTTPException, OSError):
                self.connection.close()
        return 0

    def close(self) -> None:
        self.connection.close()
