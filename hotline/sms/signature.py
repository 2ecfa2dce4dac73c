"""Twilio webhook signatures, checked with twilio's own RequestValidator."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlparse

from twilio.request_validator import RequestValidator, add_port, compare, remove_port


def webhook_url(public_url: str | None, request_url: str, path_with_query: str) -> str:
    """The URL Twilio signed: the configured public base plus the path, or the request's own.

    Behind a proxy or a tunnel the request URL the app sees is not the one Twilio called, so
    ``HOTLINE_PUBLIC_URL`` wins when set.
    """
    if public_url:
        return public_url.rstrip("/") + path_with_query
    return request_url


def is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Whether ``signature`` is Twilio's for ``url`` and ``params``, as twilio's
    ``RequestValidator.validate`` decides: over the URL with its port or without it (Twilio
    signs either way). The URL as given is tried first, and the other form only when that
    fails: one HMAC for a genuine request instead of validate's two, the same answer."""
    if not signature:
        return False
    validator = RequestValidator(auth_token)
    parsed = urlparse(url)
    with_port, without_port = add_port(parsed), remove_port(parsed)
    for candidate in (with_port, without_port) if parsed.port else (without_port, with_port):
        if compare(validator.compute_signature(candidate, params), signature):
            return True
    return False


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send; used by the simulator and the tests."""
    return str(RequestValidator(auth_token).compute_signature(url, params))
