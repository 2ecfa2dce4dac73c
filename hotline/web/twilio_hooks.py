"""Twilio's webhooks: inbound texts and delivery status callbacks.

Both check the signature before anything else and answer 403 without touching anything when it
fails. The inbound webhook (:mod:`hotline.web.inbound_sms`, a WSGI function in front of Flask)
stores the text, commits, hands its id over, and answers at once; everything slow happens in
the workers.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from hotline.infra.live import conversation_topic
from hotline.services.status import apply_status
from hotline.sms.inbound import InvalidRequest, parse_status
from hotline.sms.signature import is_valid, webhook_url
from hotline.web import inbound_sms, runtime

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")


def _plain(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _signed_form() -> MultiDict[str, str]:
    """The posted form, once its Twilio signature checks out; 403 or 400 otherwise."""
    rt = runtime()
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(_plain("expected a form-encoded Twilio request", 415))
    raw = request.get_data(cache=True)  # read before .form, so both see the same bytes
    form = request.form
    query = request.query_string.decode("latin-1")
    path = request.path + (f"?{query}" if query else "")
    url = webhook_url(rt.settings.public_url, request.url, path)
    token = rt.settings.twilio_auth_token or ""
    if not is_valid(token, url, form, request.headers.get("X-Twilio-Signature", "")):
        log.warning("refused %s: missing or invalid Twilio signature", request.path)
        abort(_plain("invalid Twilio signature", 403))
    try:
        # werkzeug quietly replaces bytes that are not UTF-8; refuse them instead.
        parse_qsl(raw.decode("ascii"), keep_blank_values=True, errors="strict")
    except (UnicodeError, ValueError):
        abort(_plain("request is not valid UTF-8 form data", 400))
    return form


# POST /twilio/sms is answered before Flask, by hotline.web.inbound_sms; the route keeps the URL
# in Flask's routing.
bp.add_url_rule("/sms", "inbound_sms", inbound_sms.flask_view, methods=["POST"])


@bp.post("/status")
def status_callback() -> Response:
    form = _signed_form()
    rt = runtime()
    try:
        report = parse_status(form)
    except InvalidRequest as exc:
        log.warning("refused status callback: %s", exc)
        return _plain(str(exc), 400)
    hint = request.args.get("m", "")
    message_id = int(hint) if hint.isascii() and hint.isdigit() and len(hint) < 19 else None
    try:
        with rt.sessions.begin() as session:
            recorded = apply_status(session, report, rt.clock.now(), message_id)
    except SQLAlchemyError as exc:
        log.error("status not recorded, database unavailable (%s)", type(exc).__name__)
        return _plain("temporarily unavailable", 503)
    if recorded is None:
        log.info("status callback for an unknown message %s", report.message_sid)
    elif recorded.conversation_id is not None:
        rt.live.bump([conversation_topic(recorded.conversation_id)])
    return _plain("ok", 200)
