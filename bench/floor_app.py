"""A floor for ``bench/webhook_throughput.py --floor``: the webhook's unavoidable work, no more.

A plain WSGI function (no Flask, SQLAlchemy or Celery) that does what storing a text durably
takes: twilio's signature check, the number's keyed hash, two encryptions with the hotline's
own vault, the two inserts in one transaction with a durable commit (raw psycopg, one
connection per thread), and a hand-off to Redis (one ``LPUSH`` on a kept redis-py client, to
a list of its own). It answers with the same empty TwiML. Nothing here is the hotline: it
shows how fast any Python webhook doing this work could be on this machine, so the hotline's
ratio to the bare app can be read against the ratio this one reaches.

    gunicorn "bench.floor_app:create_app()"    (from the repository's root)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import psycopg
import redis
from sqlalchemy import make_url
from twilio.request_validator import RequestValidator

from hotline.infra.vault import Vault
from hotline.settings import Settings

QUEUE = "floor"  # not the hotline's queue: nothing consumes these
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
ADD_TEXTER = (
    "INSERT INTO texters (phone_hash, phone_ciphertext, language, created_at, last_seen_at)"
    " VALUES (%s, %s, 'en', now(), now()) ON CONFLICT (phone_hash) DO NOTHING RETURNING id"
)
ADD_MESSAGE = (
    "INSERT INTO messages (texter_id, direction, body_ciphertext, twilio_sid, status, num_media,"
    " compliance_notice, send_attempts, created_at, status_updated_at)"
    " VALUES (%s, 'INBOUND', %s, %s, 'RECEIVED', 0, false, 0, now(), now())"
    " ON CONFLICT (twilio_sid) DO NOTHING RETURNING id"
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def create_app() -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    settings = Settings.from_env()
    url = make_url(settings.database_url)
    database = url.set(drivername="postgresql").render_as_string(hide_password=False)
    validator = RequestValidator(settings.twilio_auth_token or "")
    vault = Vault(settings.data_keys, settings.hash_key)
    broker = redis.Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
    local = threading.local()

    def connection() -> psycopg.Connection[Any]:
        if getattr(local, "connection", None) is None:
            local.connection = psycopg.connect(database)
        return local.connection  # type: ignore[no-any-return]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        form = dict(parse_qsl(raw.decode("utf-8", errors="strict"), keep_blank_values=True))
        url = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
        if not validator.validate(url, form, environ.get("HTTP_X_TWILIO_SIGNATURE", "")):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"invalid Twilio signature\n"]
        phone = form["From"]
        db = connection()
        with db.transaction():
            added = db.execute(ADD_TEXTER, (vault.phone_hash(phone), vault.encrypt(phone)))
            texter = added.fetchone()
            if texter is None:
                raise RuntimeError("the floor takes first texts from new numbers only")
            body = vault.encrypt(form.get("Body", ""))
            stored = db.execute(ADD_MESSAGE, (texter[0], body, form["MessageSid"])).fetchone()
        if stored is not None:
            broker.lpush(QUEUE, json.dumps({"message_id": stored[0]}))
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [EMPTY_TWIML]

    return app
