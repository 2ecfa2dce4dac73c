"""Per-client limits on the sign-in forms, and whose address counts as the client's.

``POST /login`` and ``POST /login/code`` share one limit per client address
(``HOTLINE_SIGN_IN_PER_CLIENT_PER_MINUTE``, a moving window). Past it a client gets 429 and a
plain sentence, before the form is read: no password or code is checked and nothing is
recorded. This sits in front of the per-email lockout (:func:`hotline.services.auth.do_sign_in`),
which no address can get round. Counts live in Redis when the hotline has one, so every web
process counts together (and falls back to counting in memory while Redis is away); in the demo
and the tests, in memory.

The client address is the connection's own unless ``HOTLINE_TRUSTED_PROXIES`` says how many
proxies in front of the app append to X-Forwarded-For: only then is that header read, and only
as many entries from its end as there are proxies (werkzeug's ``ProxyFix``), so a client cannot
pick its own address by writing the header itself.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, Response, request
from flask.typing import RouteCallable
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from hotline.settings import Settings

SIGN_IN_FORMS = ("auth.sign_in_submit", "auth.code_submit")
TOO_MANY_FROM_HERE = "too many sign-in attempts from this address: wait a minute, then try again"


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Limit the sign-in forms of ``app`` (registered already). Returns its limiter: one per
    app, so apps in one process (the tests) never share counts in memory."""
    if settings.trusted_proxies:
        # Only the client's address: the scheme and host stay what HOTLINE_PUBLIC_URL says.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=0, x_host=0, x_port=0
        )
    redis_url = settings.redis_url
    limiter = Limiter(
        get_remote_address,
        storage_uri=redis_url or "memory://",
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 2} if redis_url else {},
        strategy="moving-window",
        key_prefix="hotline-sign-in",
        in_memory_fallback_enabled=redis_url is not None,
        headers_enabled=False,
    )
    # Nothing is limited but the sign-in forms: Twilio's webhooks skip the limiter's work
    # (a tenth of the Flask side of the inbound webhook's CPU).
    limiter.request_filter(_twilio_webhook)
    limiter.init_app(app)
    shared = limiter.shared_limit(
        f"{settings.sign_in_per_client_per_minute} per minute", scope="sign-in", on_breach=_refuse
    )
    for endpoint in SIGN_IN_FORMS:
        app.view_functions[endpoint] = cast(RouteCallable, shared(app.view_functions[endpoint]))
    return limiter


def _twilio_webhook() -> bool:
    return request.blueprint == "twilio"


def _refuse(_limit: RequestLimit) -> Response:
    return Response(
        TOO_MANY_FROM_HERE, status=429, mimetype="text/plain", headers={"Retry-After": "60"}
    )
