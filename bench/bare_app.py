"""The comparison for ``bench/webhook_throughput.py``: a bare Flask app on the webhook's path.

It answers every POST to ``/twilio/sms`` with the same empty TwiML the hotline answers, and does
nothing else: no signature check, no database, no broker. It imports only Flask, so the
comparison measures the hotline's own work, not a heavier import.

    gunicorn "bench.bare_app:create_app()"    (from the repository's root)
"""

from __future__ import annotations

from flask import Flask, Response

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def create_app() -> Flask:
    app = Flask("bare")

    @app.post("/twilio/sms")
    def inbound_sms() -> Response:
        return Response(EMPTY_TWIML, status=200, content_type="text/xml; charset=utf-8")

    return app
