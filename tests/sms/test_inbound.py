"""Validation of Twilio's webhook forms: exact errors, and never the number or the text in them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.delivery import DeliveryStatus
from hotline.sms.inbound import (
    CUT_MARKER,
    MAX_MEDIA,
    InboundText,
    InvalidRequest,
    StatusReport,
    parse_inbound,
    parse_status,
)

SID = "SM" + "0123456789abcdef" * 2
MMS_SID = "MM" + "0123456789ABCDEF" * 2
PHONE = "+15551234567"
BODY = "my boyfriend took my passport"
MAX_BODY = 1600


def form(**fields: str) -> dict[str, str]:
    base = {"MessageSid": SID, "From": PHONE, "Body": BODY, "NumMedia": "0"}
    base.update(fields)
    return base


def without(name: str) -> dict[str, str]:
    fields = form()
    del fields[name]
    return fields


def rejected(fields: dict[str, str], max_body_chars: int = MAX_BODY) -> str:
    with pytest.raises(InvalidRequest) as excinfo:
        parse_inbound(fields, max_body_chars=max_body_chars)
    return str(excinfo.value)


# --- happy paths -----------------------------------------------------------------------------


def test_a_plain_sms() -> None:
    assert parse_inbound(form(), max_body_chars=MAX_BODY) == InboundText(
        message_sid=SID, phone=PHONE, body=BODY, media_types=()
    )


def test_the_number_is_normalised() -> None:
    text = parse_inbound(form(From="+1 (555) 123-4567"), max_body_chars=MAX_BODY)
    assert text.phone == PHONE


def test_sms_sid_is_accepted_when_message_sid_is_absent() -> None:
    fields = without("MessageSid")
    fields["SmsSid"] = SID
    assert parse_inbound(fields, max_body_chars=MAX_BODY).message_sid == SID


def test_an_mms_with_media() -> None:
    fields = form(
        MessageSid=MMS_SID,
        Body="",
        NumMedia="2",
        MediaContentType0="image/jpeg",
        MediaContentType1=" Video/MP4 ",
        MediaUrl0="https://api.twilio.com/media/0",
    )
    text = parse_inbound(fields, max_body_chars=MAX_BODY)
    assert text.message_sid == MMS_SID
    assert text.body == ""
    assert text.media_types == ("image/jpeg", "video/mp4")
    assert text.num_media == 2


def test_the_most_media_twilio_sends() -> None:
    types = {f"MediaContentType{i}": "image/png" for i in range(MAX_MEDIA)}
    text = parse_inbound(form(NumMedia=str(MAX_MEDIA), **types), max_body_chars=MAX_BODY)
    assert text.num_media == MAX_MEDIA == 10


@pytest.mark.parametrize("num_media", ["", " ", " 0 "])
def test_missing_or_blank_num_media_means_none(num_media: str) -> None:
    assert parse_inbound(form(NumMedia=num_media), max_body_chars=MAX_BODY).media_types == ()


def test_absent_body_and_num_media() -> None:
    text = parse_inbound({"MessageSid": SID, "From": PHONE}, max_body_chars=MAX_BODY)
    assert (text.body, text.media_types) == ("", ())


def test_body_is_kept_as_sent() -> None:
    body = "  <b>¿Ayuda?</b> 😀\n"
    assert parse_inbound(form(Body=body), max_body_chars=MAX_BODY).body == body


def test_body_at_the_maximum_length() -> None:
    assert parse_inbound(form(Body="a" * 20), max_body_chars=20).body == "a" * 20


# --- refusals ----------------------------------------------------------------------------------

BAD_MEDIA_0 = "MediaContentType0 is missing or not a media type"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (without("MessageSid"), "MessageSid is missing"),
        (form(MessageSid=""), "MessageSid is missing"),
        (form(MessageSid="SM123"), "MessageSid is not a Twilio message SID"),
        (form(MessageSid="XX" + "0" * 32), "MessageSid is not a Twilio message SID"),
        (form(MessageSid="SM" + "g" * 32), "MessageSid is not a Twilio message SID"),
        (form(MessageSid=SID + "0"), "MessageSid is not a Twilio message SID"),
        (form(MessageSid=" " + SID), "MessageSid is not a Twilio message SID"),
        (form(MessageSid="sm" + "0" * 32), "MessageSid is not a Twilio message SID"),
        (without("From"), "From is missing"),
        (form(From=""), "From is missing"),
        (form(From="5551234567"), "From is not an E.164 phone number"),
        (form(From="+1555CALLNOW"), "From is not an E.164 phone number"),
        (form(From=PHONE + "\x00"), "From contains a NUL character"),
        (form(From="+" + "1" * 70), "From is longer than 64 characters"),
        (form(NumMedia="abc"), "NumMedia is not a whole number"),
        (form(NumMedia="-1"), "NumMedia is not a whole number"),
        (form(NumMedia="1.5"), "NumMedia is not a whole number"),
        (form(NumMedia="１"), "NumMedia is not a whole number"),  # full-width digit one
        (form(NumMedia="²"), "NumMedia is not a whole number"),
        (form(NumMedia="0x1"), "NumMedia is not a whole number"),
        (form(NumMedia="11"), "NumMedia is more than 10"),
        (form(NumMedia="99999999999999999999"), "NumMedia is more than 10"),
        (form(NumMedia="1"), BAD_MEDIA_0),
        (form(NumMedia="1", MediaContentType0=""), BAD_MEDIA_0),
        (form(NumMedia="1", MediaContentType0="image"), BAD_MEDIA_0),
        (form(NumMedia="1", MediaContentType0="<script>/x"), BAD_MEDIA_0),
        (form(NumMedia="1", MediaContentType0="image/jpeg; charset=x"), BAD_MEDIA_0),
        (
            form(NumMedia="2", MediaContentType0="image/jpeg"),
            "MediaContentType1 is missing or not a media type",
        ),
        (
            form(NumMedia="2", MediaContentType0="image/jpeg", MediaContentType1="a/b/c"),
            "MediaContentType1 is missing or not a media type",
        ),
        (form(Body="hello\x00world"), "Body contains a NUL character"),
        (form(Body="broken \ud800 text"), "Body is not valid Unicode"),
        (form(Body="\udfff"), "Body is not valid Unicode"),
    ],
)
def test_refused_with_the_exact_reason(fields: dict[str, str], message: str) -> None:
    assert rejected(fields) == message


def test_a_long_body_is_kept_cut_at_the_limit_with_a_marker() -> None:
    """Twilio does not retry a 4xx: a long text refused would be a text lost."""
    kept = parse_inbound(form(Body="a" * 25), max_body_chars=20).body
    assert kept == "a" * 20 + CUT_MARKER.format(count=5)
    assert "5 more characters were cut" in kept


def test_a_long_body_is_still_checked_whole() -> None:
    assert rejected(form(Body="a" * 30 + "\x00"), max_body_chars=20) == (
        "Body contains a NUL character"
    )


SECRET_PHONE = "+15559876543"
SECRET_BODY = "he is at 42 Elm Street"
LEAKY_FORMS = [
    {"From": SECRET_PHONE, "Body": SECRET_BODY},
    {"MessageSid": "SM1", "From": SECRET_PHONE, "Body": SECRET_BODY},
    {"MessageSid": SID, "From": SECRET_PHONE + "x", "Body": SECRET_BODY},
    {"MessageSid": SID, "From": SECRET_PHONE + "\x00", "Body": SECRET_BODY},
    {"MessageSid": SID, "From": SECRET_PHONE, "Body": SECRET_BODY + "\x00"},
    {"MessageSid": SID, "From": SECRET_PHONE * 10, "Body": SECRET_BODY * 100},
    {"MessageSid": SID, "From": SECRET_PHONE, "Body": SECRET_BODY + "\ud800"},
    {"MessageSid": SID, "From": SECRET_PHONE, "Body": SECRET_BODY, "NumMedia": SECRET_BODY},
    {
        "MessageSid": SID,
        "From": SECRET_PHONE,
        "Body": SECRET_BODY,
        "NumMedia": "1",
        "MediaContentType0": SECRET_BODY,
    },
]


@pytest.mark.parametrize("fields", LEAKY_FORMS)
def test_no_error_repeats_the_number_or_the_text(fields: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest) as excinfo:
        parse_inbound(fields, max_body_chars=1000)
    message = str(excinfo.value)
    for secret in (SECRET_PHONE, SECRET_PHONE[2:], "9876543", SECRET_BODY, "Elm Street"):
        assert secret not in message
    assert excinfo.value.__cause__ is None


@given(
    st.dictionaries(
        st.one_of(
            st.sampled_from(
                [
                    "MessageSid",
                    "SmsSid",
                    "From",
                    "Body",
                    "NumMedia",
                    "MediaContentType0",
                    "MediaContentType1",
                ]
            ),
            st.text(max_size=20),
        ),
        st.one_of(
            st.text(),
            st.sampled_from(
                [SID, MMS_SID, PHONE, "0", "1", "2", "10", "11", "image/png", "\ud800"]
            ),
        ),
    )
)
def test_parse_inbound_raises_nothing_but_invalid_request(fields: dict[str, str]) -> None:
    try:
        text = parse_inbound(fields, max_body_chars=MAX_BODY)
    except InvalidRequest:
        return
    assert text.message_sid in (fields.get("MessageSid"), fields.get("SmsSid"))
    assert len(text.body) <= MAX_BODY


# --- status callbacks --------------------------------------------------------------------------

BAD_CODE = "ErrorCode is not a number"


def sent_with_error(code: str) -> dict[str, str]:
    return {"MessageSid": SID, "MessageStatus": "sent", "ErrorCode": code}


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("queued", DeliveryStatus.QUEUED),
        ("sending", DeliveryStatus.SENDING),
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("undelivered", DeliveryStatus.UNDELIVERED),
        ("failed", DeliveryStatus.FAILED),
        ("read", DeliveryStatus.READ),
        ("accepted", DeliveryStatus.ACCEPTED),
        ("scheduled", DeliveryStatus.SCHEDULED),
        ("canceled", DeliveryStatus.CANCELED),
        (" Delivered ", DeliveryStatus.DELIVERED),
    ],
)
def test_status_callback(raw: str, status: DeliveryStatus) -> None:
    report = parse_status({"MessageSid": SID, "MessageStatus": raw})
    assert report == StatusReport(message_sid=SID, status=status, error_code=None)


def test_status_callback_with_sms_fields_and_an_error_code() -> None:
    report = parse_status({"SmsSid": SID, "SmsStatus": "undelivered", "ErrorCode": "30003"})
    assert report == StatusReport(
        message_sid=SID, status=DeliveryStatus.UNDELIVERED, error_code=30003
    )


def test_blank_error_code_is_none() -> None:
    report = parse_status({"MessageSid": SID, "MessageStatus": "sent", "ErrorCode": " "})
    assert report.error_code is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"MessageStatus": "sent"}, "MessageSid is missing"),
        ({"MessageSid": "SM1", "MessageStatus": "sent"}, "MessageSid is not a Twilio message SID"),
        ({"MessageSid": SID}, "MessageStatus is not a Twilio message status"),
        ({"MessageSid": SID, "MessageStatus": ""}, "MessageStatus is not a Twilio message status"),
        (
            {"MessageSid": SID, "MessageStatus": "exploded"},
            "MessageStatus is not a Twilio message status",
        ),
        # Our own statuses are not Twilio's to set.
        (
            {"MessageSid": SID, "MessageStatus": "received"},
            "MessageStatus is not a Twilio message status",
        ),
        (
            {"MessageSid": SID, "MessageStatus": "pending"},
            "MessageStatus is not a Twilio message status",
        ),
        (
            {"MessageSid": SID, "MessageStatus": "submitting"},
            "MessageStatus is not a Twilio message status",
        ),
        (sent_with_error("abc"), BAD_CODE),
        (sent_with_error("-1"), BAD_CODE),
        (sent_with_error("1.5"), BAD_CODE),
        (sent_with_error("３"), BAD_CODE),  # full-width digit three
        (sent_with_error("1234567"), BAD_CODE),
    ],
)
def test_status_callback_refused_with_the_exact_reason(
    fields: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidRequest) as excinfo:
        parse_status(fields)
    assert str(excinfo.value) == message
