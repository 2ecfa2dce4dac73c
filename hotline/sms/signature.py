"""Twilio webhook signatures, checked with twilio's own RequestValidator."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def webhook_url(public_url: str | None, request_url: str, path_with_query: str) -> str:
    """The URL Twilio signed: the configured public base plus the path, or the request's own.

    Behind a proxy or a tunnel the request URL the app sees is not the one Twilio called, so
    ``HOTLINE_PUBLIC_URL`` wins when set.
    """
    if public_url:
        return public_url.rstrip("/") + path_with_query
    return request_url


def is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The signature Twilio would send; used by the simulator and the tests."""
    return str(RequestValidator(auth_token).compute_signature(url, params))
