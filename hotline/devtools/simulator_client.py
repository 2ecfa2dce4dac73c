"""``hotline simulate``: text a running demo hotline from the command line.

It drives the texting simulator's JSON API, so the text reaches the hotline as a signed Twilio
webhook, exactly as the simulator page sends it; then it prints the hotline's replies as the
simulated carrier delivers them. The number travels only in JSON bodies, never in a URL.
"""

from __future__ import annotations

import time
from typing import Any

import click
import requests

TIMEOUT = 15.0  # one request; sending waits for the webhook, which answers in milliseconds
POLL_SECONDS = 0.25
QUIET_SECONDS = 1.0  # after the last reply, with every reply delivered, stop waiting
DELIVERED = frozenset({"delivered", "read"})


class _Simulator:
    def __init__(self, base_url: str, http: requests.Session) -> None:
        self.base = base_url.rstrip("/")
        self.http = http

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.base}/simulator/api{path}"
        try:
            with self.http.request(method, url, json=body, timeout=TIMEOUT) as answer:
                status = answer.status_code
                try:
                    payload = answer.json()
                except ValueError:
                    payload = None
        except requests.ConnectionError:
            raise click.ClickException(
                f"could not reach the hotline at {self.base}: is it running (`hotline demo`)?"
            ) from None
        except requests.RequestException as exc:
            raise click.ClickException(
                f"the hotline at {self.base} did not answer ({type(exc).__name__})"
            ) from None
        if status == 404 and path == "/csrf":
            raise click.ClickException(
                f"there is no texting simulator at {self.base}: is it running with `hotline demo`?"
            )
        if not 200 <= status < 300 or not isinstance(payload, dict):
            reason = payload.get("error") if isinstance(payload, dict) else None
            raise click.ClickException(
                f"the simulator refused the request: {reason or f'HTTP {status}'}"
            )
        return payload


def simulate(text: str, from_number: str, url: str, wait: float) -> None:
    """Send ``text`` from ``from_number`` and print each reply delivered within ``wait`` s.

    Returns early once every reply is delivered and nothing new came for a second. Raises
    :class:`click.ClickException` when the hotline or its simulator cannot be reached, or
    when the text was refused.
    """
    with requests.Session() as http:
        simulator = _Simulator(url, http)
        session = simulator.call("GET", "/csrf")
        http.headers["X-CSRF-Token"] = str(session.get("csrf_token", ""))
        phone = simulator.call("POST", "/phones", {"number": from_number})
        messages_path = f"/phones/{int(phone['id'])}/messages"
        seen = {m["id"] for m in simulator.call("GET", messages_path)["messages"]}
        sent = simulator.call("POST", f"/phones/{int(phone['id'])}/texts", {"body": text})
        seen.add(sent["id"])
        if sent.get("status") != "received":
            answers = sent.get("answers") or ["no answer"]
            raise click.ClickException(f"the hotline did not take the text ({answers[-1]})")
        click.echo(f"> {text}")
        if not session.get("carrier", True):
            click.echo("(this hotline sends replies through Twilio: they cannot be shown here)")
            return
        _print_replies(simulator, messages_path, seen, wait)


def _print_replies(simulator: _Simulator, path: str, seen: set[str], wait: float) -> None:
    deadline = time.monotonic() + max(wait, 0.0)
    last_news: float | None = None
    while True:
        now = time.monotonic()
        pending = False
        for message in simulator.call("GET", path)["messages"]:
            if message["author"] != "hotline" or message["id"] in seen:
                continue
            if message.get("status") in DELIVERED:
                seen.add(message["id"])
                click.echo(f"< {message['body']}")
                last_news = now
            else:
                pending = True
        if now >= deadline:
            return
        if last_news is not None and not pending and now - last_news >= QUIET_SECONDS:
            return
        time.sleep(min(POLL_SECONDS, max(deadline - now, 0.0)))
