"""``POST /twilio/sms``, Twilio's inbound texts: a plain WSGI function in front of Flask.

Every text a texter sends arrives here, and the whole job is to store it and say so: check
the signature, read the form, store and commit, hand the id over, answer. Going through Flask
cost that path about as much CPU as the work itself (request and response objects, the
contexts, routing, the hooks), so :func:`init_app` puts :class:`InboundSms` in front of
``app.wsgi_app``: it takes ``POST /twilio/sms`` and passes every other request on. Anything
that wraps ``app.wsgi_app`` later (the trusted proxies' ``ProxyFix``,
:mod:`hotline.web.throttle`) wraps this too, and the Flask test client goes through it as
gunicorn does.

What the webhook promises, in the order it checks:

- a body that is not form-encoded: 415, before anything is read;
- a body over ``MAX_CONTENT_LENGTH``: 413 (``{"error": "request too large"}``, as the rest of
  the app answers it);
- a missing or invalid Twilio signature: 403, before anything is validated or stored. The
  signature is checked over the form as werkzeug reads it, whatever the bytes;
- bytes that are not UTF-8 form data, or a field :func:`hotline.sms.inbound.parse_inbound`
  refuses: 400, the message naming the field, never its value;
- the database unavailable: 503 "temporarily unavailable", never 500;
- otherwise the text is committed before the 200 (empty TwiML); a repeated ``MessageSid``
  stores nothing and gets the same 200; the hand-off comes after the commit, and a failed one
  is logged and left to the sweep.

Every answer carries the headers the rest of the app puts on every response
(:func:`hotline.web.security.security_headers`), and is timed in
``metrics.WEBHOOK_SECONDS``. Nothing here logs a number or a text.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_content_length, get_current_url, get_input_stream

from hotline.infra import metrics
from hotline.infra.taskqueue import HandOffError
from hotline.services.receive import store_inbound
from hotline.sms.inbound import InvalidRequest, parse_inbound
from hotline.sms.signature import is_valid, webhook_url
from hotline.web import runtime_of_app
from hotline.web.security import is_https, security_headers

log = logging.getLogger("hotline.web.twilio_hooks")  # the webhooks' log lines, as before

PATH = "/twilio/sms"
FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
TWIML = "text/xml; charset=utf-8"
PLAIN = "text/plain; charset=utf-8"
JSON = "application/json"

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApplication = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]
Answer = tuple[int, bytes, str]  # status, body, content type

# The same for every answer but for HSTS: built once for each case.
_HEADERS = {https: tuple(security_headers(PATH, https)) for https in (False, True)}


class InboundSms:
    """The WSGI app in front of ``app``'s own: ``POST /twilio/sms`` is answered here, every
    other request goes on to ``wrapped``. The runtime and config are read from ``app`` on
    every request, so what a test swaps in (a task queue, settings) is what is used."""

    def __init__(self, app: Flask, wrapped: WSGIApplication) -> None:
        self.app = app
        self.wrapped = wrapped

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wrapped(environ, start_response)
        return serve(self.app, environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = InboundSms(app, app.wsgi_app)  # type: ignore[method-assign]


def serve(app: Flask, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """Answer one ``POST /twilio/sms`` (see the module's docstring)."""
    rt = runtime_of_app(app)
    with metrics.WEBHOOK_SECONDS.time():
        try:
            status, body, content_type = _receive(app, environ)
        except HTTPException as refused:  # a Host header TRUSTED_HOSTS does not list
            status, body, content_type = _plain(refused.name, refused.code or 400)
        except Exception:
            propagate = app.config["PROPAGATE_EXCEPTIONS"]
            if propagate or (propagate is None and (app.testing or app.debug)):
                raise
            # As Flask logs and answers an error it did not expect (hotline.web.refusals):
            # the traceback in the log (redacted), never the exception's text in the answer.
            app.logger.error("Exception on %s [POST]", PATH, exc_info=True)
            status, body, content_type = _json_error("internal error", 500)
    https = is_https(environ.get("wsgi.url_scheme") == "https", rt.settings.public_url)
    start_response(
        f"{status} {HTTP_STATUS_CODES[status].upper()}",
        [("Content-Type", content_type), ("Content-Length", str(len(body))), *_HEADERS[https]],
    )
    return [body]


def _plain(message: str, status: int) -> Answer:
    return status, (message + "\n").encode(), PLAIN


def _json_error(message: str, status: int) -> Answer:
    return status, (json.dumps({"error": message}, separators=(",", ":")) + "\n").encode(), JSON


def _receive(app: Flask, environ: WSGIEnvironment) -> Answer:
    rt = runtime_of_app(app)
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type != FORM and parse_options_header(content_type)[0].lower() != FORM:
        return _plain("expected a form-encoded Twilio request", 415)
    limit = app.config["MAX_CONTENT_LENGTH"]
    length = get_content_length(environ)
    try:
        if length is not None and (limit is None or length <= limit):
            raw = environ["wsgi.input"].read(length)  # what werkzeug's limited stream reads
        else:  # over the limit, or streamed without a length (werkzeug decides, as before)
            raw = get_input_stream(environ, max_content_length=limit).read()
    except HTTPException as refused:  # over MAX_CONTENT_LENGTH
        if refused.code == 413:
            return _json_error("request too large", 413)
        raise
    try:
        # werkzeug quietly replaces bytes that are not UTF-8; such a request is refused below.
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, errors="strict")
        utf8 = True
    except (UnicodeError, ValueError):
        pairs, utf8 = _as_werkzeug_reads(raw), False
    form = _Form(pairs)

    settings = rt.settings
    query = environ.get("QUERY_STRING", "")
    path = PATH + (f"?{query}" if query else "")
    request_url = "" if settings.public_url else _request_url(app, environ)
    url = webhook_url(settings.public_url, request_url, path)
    signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not is_valid(settings.twilio_auth_token or "", url, form, signature):
        log.warning("refused %s: missing or invalid Twilio signature", PATH)
        return _plain("invalid Twilio signature", 403)
    if not utf8:
        return _plain("request is not valid UTF-8 form data", 400)

    try:
        text = parse_inbound(form, max_body_chars=settings.max_body_chars)
    except InvalidRequest as exc:
        log.warning("refused inbound text: %s", exc)
        return _plain(str(exc), 400)
    try:
        message_id = store_inbound(rt.engine, rt.vault, text, rt.clock.now())
    except SQLAlchemyError as exc:
        log.error("inbound text not stored, database unavailable (%s)", type(exc).__name__)
        return _plain("temporarily unavailable", 503)
    if message_id is None:
        log.info("duplicate delivery of a stored text ignored")
        return 200, EMPTY_TWIML, TWIML
    metrics.TEXTS_STORED.inc()
    try:
        rt.tasks.process_inbound(message_id)
    except HandOffError as exc:
        log.warning("text %s stored but not handed over (%s); the sweep will", message_id, exc)
    return 200, EMPTY_TWIML, TWIML


class _Form(MultiDict[str, str]):
    """The posted form. twilio's validator asks a form for ``getall`` before ``getlist``, and
    pays an exception for every parameter of one that has only ``getlist``."""

    getall = MultiDict.getlist


def _as_werkzeug_reads(raw: bytes) -> list[tuple[str, str]]:
    """The form werkzeug makes of a body that is not strict UTF-8 form data: what Twilio (or
    whoever holds the token) signed, for the signature check that comes before the 400."""
    _stream, form, _files = FormDataParser().parse(io.BytesIO(raw), FORM, len(raw))
    return list(form.items(multi=True))


def _request_url(app: Flask, environ: WSGIEnvironment) -> str:
    """The URL as this request reached the app (Flask's ``request.url``), used for the
    signature only when no public URL is configured."""
    return get_current_url(environ, trusted_hosts=app.config.get("TRUSTED_HOSTS"))


def flask_view() -> Response:
    """The Flask route's view: it keeps the URL in Flask's routing (a GET is 405, as for any
    route that takes only POST), and would answer as :func:`serve` does should a request
    ever reach it without passing :class:`InboundSms`."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return Response.from_app(lambda e, s: serve(app, e, s), request.environ)
