"""Twilio webhook signatures: what sign() makes, is_valid() accepts, and only that."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from hotline.sms.signature import is_valid, sign, webhook_url

TOKEN = "test-auth-token-0123456789abcdef"
URL = "https://hotline.example.org/twilio/sms"
PARAMS = {
    "MessageSid": "SM" + "a" * 32,
    "From": "+15551230000",
    "To": "233733",
    "Body": "HELP me – ayúdame",
}


def test_round_trip() -> None:
    assert is_valid(TOKEN, URL, PARAMS, sign(TOKEN, URL, PARAMS))


def test_signature_is_twilios_hmac_sha1_in_base64() -> None:
    # The value from Twilio's documented example, so sign() is Twilio's algorithm, not ours.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675310",
        "Digits": "1234",
        "From": "+14158675310",
        "To": "+18005551212",
    }
    assert sign("12345", url, params) == "GvWf1cFY/Q7PnoempGyD5oXAezc="


def test_round_trip_with_no_params_and_a_query_string() -> None:
    url = URL + "?m=42"
    assert is_valid(TOKEN, url, {}, sign(TOKEN, url, {}))


def test_param_order_does_not_matter() -> None:
    shuffled = dict(reversed(list(PARAMS.items())))
    assert is_valid(TOKEN, URL, shuffled, sign(TOKEN, URL, PARAMS))


def test_wrong_token_fails() -> None:
    assert not is_valid(TOKEN, URL, PARAMS, sign("another-token", URL, PARAMS))


@pytest.mark.parametrize(
    "changed",
    [
        {**PARAMS, "Body": "HELP me – ayúdame!"},
        {**PARAMS, "From": "+15551230001"},
        {**PARAMS, "NumMedia": "0"},
        {k: v for k, v in PARAMS.items() if k != "Body"},
        {**PARAMS, "Body": ""},
    ],
    ids=["altered-body", "altered-from", "added", "removed", "emptied"],
)
def test_changed_params_fail(changed: dict[str, str]) -> None:
    assert not is_valid(TOKEN, URL, changed, sign(TOKEN, URL, PARAMS))


@pytest.mark.parametrize(
    "other_url",
    [
        "http://hotline.example.org/twilio/sms",
        "https://hotline.example.org/twilio/sms/",
        "https://hotline.example.org/twilio/status",
        "https://other.example.org/twilio/sms",
        "https://hotline.example.org/twilio/sms?m=1",
    ],
    ids=["http", "trailing-slash", "other-path", "other-host", "added-query"],
)
def test_another_url_fails(other_url: str) -> None:
    assert not is_valid(TOKEN, other_url, PARAMS, sign(TOKEN, URL, PARAMS))


def test_the_port_is_not_part_of_what_must_match() -> None:
    # twilio's validator tries the URL with its port and without any port, because Twilio
    # signs either form; so a port written out, default or not, still matches.
    assert is_valid(
        TOKEN, "https://hotline.example.org:443/twilio/sms", PARAMS, sign(TOKEN, URL, PARAMS)
    )
    assert is_valid(
        TOKEN, URL, PARAMS, sign(TOKEN, "https://hotline.example.org:443/twilio/sms", PARAMS)
    )
    assert is_valid(
        TOKEN, "https://hotline.example.org:8443/twilio/sms", PARAMS, sign(TOKEN, URL, PARAMS)
    )


@pytest.mark.parametrize("signature", ["", "not-a-signature", "GvWf1cFY/Q7PnoempGyD5oXAezc="])
def test_missing_or_foreign_signature_fails(signature: str) -> None:
    assert not is_valid(TOKEN, URL, PARAMS, signature)


def test_empty_signature_fails_even_with_an_empty_token() -> None:
    assert not is_valid("", URL, PARAMS, "")


# -- webhook_url ------------------------------------------------------------------------------


def test_webhook_url_prefers_the_public_url() -> None:
    assert (
        webhook_url("https://hotline.example.org", "http://10.0.0.5:8000/twilio/sms", "/twilio/sms")
        == "https://hotline.example.org/twilio/sms"
    )


def test_webhook_url_drops_the_public_urls_trailing_slash_and_keeps_the_query() -> None:
    assert (
        webhook_url("https://hotline.example.org/", "http://internal/x", "/twilio/status?m=7")
        == "https://hotline.example.org/twilio/status?m=7"
    )


@pytest.mark.parametrize("public_url", [None, ""])
def test_webhook_url_without_a_public_url_is_the_requests_own(public_url: str | None) -> None:
    request_url = "http://127.0.0.1:5000/twilio/status?m=7"
    assert webhook_url(public_url, request_url, "/twilio/status?m=7") == request_url


def test_signature_made_for_the_public_url_checks_out_behind_a_proxy() -> None:
    public = "https://hotline.example.org"
    signed_for = public + "/twilio/sms"
    url = webhook_url(public, "http://10.0.0.5:8000/twilio/sms", "/twilio/sms")
    assert is_valid(TOKEN, url, PARAMS, sign(TOKEN, signed_for, PARAMS))
    assert not is_valid(
        TOKEN, "http://10.0.0.5:8000/twilio/sms", PARAMS, sign(TOKEN, signed_for, PARAMS)
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://hotline.example.org/twilio/sms",
        "https://hotline.example.org:443/twilio/sms",
        "https://hotline.example.org:8443/twilio/sms?m=1",
        "http://10.0.0.5:8000/twilio/sms",
        "http://10.0.0.5/twilio/sms",
    ],
)
@pytest.mark.parametrize(
    "signed_for",
    [
        "https://hotline.example.org/twilio/sms",
        "https://hotline.example.org:443/twilio/sms",
        "https://hotline.example.org:8443/twilio/sms?m=1",
        "https://hotline.example.org/twilio/sms?m=1",
        "http://10.0.0.5:8000/twilio/sms",
        "http://10.0.0.5/twilio/sms",
        "http://10.0.0.5:80/twilio/sms",
    ],
)
def test_is_valid_answers_as_twilios_validator(url: str, signed_for: str) -> None:
    """is_valid tries the URL as given first and stops at a match: the same answers as
    RequestValidator.validate, which always computes both forms."""
    signature = sign(TOKEN, signed_for, PARAMS)
    expected = RequestValidator(TOKEN).validate(url, PARAMS, signature)
    assert is_valid(TOKEN, url, PARAMS, signature) is bool(expected)
