"""How the web app answers a request it refuses or cannot serve: one mapping, for the whole app.

Views do not catch errors. What leaves a view is answered here:

- a :class:`~hotline.services.errors.Refusal` (400, 403, 404, 409): its status and its message;
- a database error: 503 "the database is unavailable";
- a body over ``MAX_CONTENT_LENGTH``: 413; anything else: 500, without the exception's text.

The answer is JSON ``{"error": message}`` for the APIs: a path with ``/api/`` in it, or any
request that does not prefer HTML over JSON (the pages' scripts ask for JSON; so do tests and
curl, which ask for nothing in particular). A browser asking for a page gets the same message on
a page (``refusal.html``). The Twilio webhooks answer their own errors, for Twilio.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy import exc as db_errors
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from hotline.services.errors import Refusal

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """Whether the answer to this request is JSON: always for an API path, otherwise unless the
    client prefers an HTML page to JSON (a browser navigating does; ``fetch`` does not)."""
    if "/api/" in request.path:
        return True
    preferred = request.accept_mimetypes.best_match(("application/json", "text/html"))
    return preferred != "text/html"


def refusal_response(message: str, status: int) -> Response:
    """``message`` with ``status``: JSON ``{"error": message}`` or a page (see :func:`wants_json`).
    ``message`` is shown as text, never as HTML."""
    if wants_json():
        response = jsonify(error=message)
    else:
        page = render_template(
            "refusal.html", title=HTTP_STATUS_CODES.get(status, "Error"), message=message
        )
        response = Response(page, content_type="text/html; charset=utf-8")
    response.status_code = status
    return response


def _refused(refusal: Refusal) -> Response:
    return refusal_response(str(refusal), refusal.status)


def _database_unavailable(error: db_errors.SQLAlchemyError) -> Response:
    kind = type(error).__name__
    log.error("%s %s: the database is unavailable (%s)", request.method, request.endpoint, kind)
    return refusal_response(f"the database is unavailable ({kind})", 503)


def _too_large(_error: RequestEntityTooLarge) -> Response:
    return refusal_response("request too large", 413)


def _server_error(_error: Exception) -> Response:
    # Never echo the exception: it may hold a texter's data.
    return refusal_response("internal error", 500)


def init_app(app: Flask) -> None:
    """Register the mapping on ``app``: once, for every blueprint."""
    app.register_error_handler(Refusal, _refused)
    app.register_error_handler(db_errors.SQLAlchemyError, _database_unavailable)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(500, _server_error)
