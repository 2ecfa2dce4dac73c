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


def served_over_https() -> bool:
    public_url = runtime().settings.public_url or ""
    return request.is_secure or public_url.startswith("https://")


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.path.startswith("/static/"):
            # Staff pages and their data must never sit in a shared or browser cache.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        if served_over_https():
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
