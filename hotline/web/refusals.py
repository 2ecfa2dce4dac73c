"""How the web app answers a request it refuses or cannot serve: one mapping, for the whole app.

Views do not catch errors. What leaves a view is answered here:

- a :class:`~hotline.services.errors.Refusal` (400, 403, 404, 409): its status and its message;
- an ``IntegrityError``: 409, "another change made at the same moment came first". Two requests
  inserting the same unique thing at once (a tag, a disposition, a tag on a conversation) both
  pass the services' checks, and the database lets one in and refuses the other: that loser is
  a conflict like any other, not an outage. Its transaction was rolled back as the error left
  the view's ``with sessions.begin()`` block (there is no other session to roll back: none
  outlives that block), so nothing of it remains. The answer and the log line name the
  constraint at most, never the value that clashed (a staff member's email, or worse);
- a database that cannot be reached (connection refused or lost, a connection pool exhausted,
  SQLite's file locked past its timeout): 503, so the client tries again later;
- a body over ``MAX_CONTENT_LENGTH``: 413; anything else: 500, without the exception's text.

Any other database error is a bug and answered 500 like one, not blamed on the database.

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

LOST_RACE = (
    "another change made at the same moment came first: nothing was saved. Reload and try again."
)
# Errors that mean "the database is not there", not "the request was wrong".
DATABASE_UNAVAILABLE = (
    db_errors.OperationalError,
    db_errors.InterfaceError,
    db_errors.TimeoutError,
    db_errors.DisconnectionError,
)


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


def _lost_race(error: db_errors.IntegrityError) -> Response:
    log.warning(
        "%s %s refused with 409: it lost a race at %s; rolled back",
        request.method,
        request.endpoint or "an unknown endpoint",
        _constraint(error),
    )
    return refusal_response(LOST_RACE, 409)


def _constraint(error: db_errors.IntegrityError) -> str:
    """The constraint's name when the driver gives it (PostgreSQL does); never the value."""
    diag = getattr(error.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return f"constraint {name}" if isinstance(name, str) and name else "a constraint"


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
    app.register_error_handler(db_errors.IntegrityError, _lost_race)
    for unavailable in DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, _database_unavailable)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(500, _server_error)
