"""Response headers every page gets, and the staff session cookie's flags."""

from __future__ import annotations

from flask import Flask, Response, request

from hotline.web import runtime

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline scripts, no eval
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def served_over_https() -> bool:
    return is_https(request.is_secure, runtime().settings.public_url)


def is_https(request_is_secure: bool, public_url: str | None) -> bool:
    """Whether a request was served over HTTPS: its own scheme, or the public URL's (TLS may
    end at a proxy in front)."""
    return request_is_secure or (public_url or "").startswith("https://")


def security_headers(path: str, https: bool) -> list[tuple[str, str]]:
    """The headers every response gets (unless it set its own first), for a request for
    ``path``: what :func:`init_app` adds in Flask, and what the inbound SMS webhook, which
    answers before Flask (:mod:`hotline.web.inbound_sms`), sends itself."""
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]
    if not path.startswith("/static/"):
        # Staff pages and their data must never sit in a shared or browser cache.
        headers += [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
    if https:
        headers.append(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
    return headers


_ALWAYS_SET = frozenset({"Cache-Control", "Pragma"})  # the rest only where a view set none


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        for name, value in security_headers(request.path, served_over_https()):
            if name in _ALWAYS_SET:
                headers[name] = value
            else:
                headers.setdefault(name, value)
        return response
