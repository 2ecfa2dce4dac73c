"""POST /twilio/status: signed, never backwards, duplicates harmless."""

from __future__ import annotations

from flask import Flask

from hotline import runtime_of
from hotline.db.models import Message
from hotline.domain.delivery import DeliveryStatus
from tests.conftest import TEST_ACCOUNT_SID, new_phone, new_sid
from tests.helpers import post_signed, texter_of
from tests.texting import reply


def status_form(sid: str, status: str, **extra: str) -> dict[str, str]:
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": TEST_ACCOUNT_SID}
    form.update(extra)
    return form


def sent_reply(app: Flask, phone: str) -> Message:
    message_id = reply(app, phone)
    runtime_of(app).dispatcher.send(message_id)
    with runtime_of(app).sessions() as session:
        found = session.get(Message, message_id)
        assert found is not None and found.twilio_sid is not None
        return found


def status_of(app: Flask, message_id: int) -> Message:
    with runtime_of(app).sessions() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def test_status_moves_forward_and_never_back(app: Flask) -> None:
    message = sent_reply(app, new_phone())
    client = app.test_client()
    sid = message.twilio_sid or ""
    for status in ("delivered", "sent", "queued", "delivered", "failed"):
        response = post_signed(client, "/twilio/status", status_form(sid, status))
        assert response.status_code == 200
    assert status_of(app, message.id).status is DeliveryStatus.DELIVERED


def test_out_of_order_callbacks_end_on_the_latest_status(app: Flask) -> None:
    message = sent_reply(app, new_phone())
    client = app.test_client()
    sid = message.twilio_sid or ""
    post_signed(client, "/twilio/status", status_form(sid, "sent"))
    assert status_of(app, message.id).status is DeliveryStatus.SENT
    post_signed(client, "/twilio/status", status_form(sid, "undelivered", ErrorCode="30003"))
    post_signed(client, "/twilio/status", status_form(sid, "sending"))
    final = status_of(app, message.id)
    assert final.status is DeliveryStatus.UNDELIVERED
    assert final.error_code == 30003


def test_callback_before_the_sid_is_recorded_finds_the_message_by_id(app: Flask) -> None:
    message_id = reply(app, new_phone())
    sid = new_sid()
    response = post_signed(
        app.test_client(), f"/twilio/status?m={message_id}", status_form(sid, "sent")
    )
    assert response.status_code == 200
    early = status_of(app, message_id)
    assert early.twilio_sid == sid and early.status is DeliveryStatus.SENT


def test_opted_out_error_marks_the_texter(app: Flask) -> None:
    phone = new_phone()
    message = sent_reply(app, phone)
    post_signed(
        app.test_client(),
        "/twilio/status",
        status_form(message.twilio_sid or "", "failed", ErrorCode="21610"),
    )
    texter = texter_of(app, phone)
    assert texter is not None and texter.opted_out


def test_unsigned_callback_is_refused_and_changes_nothing(app: Flask) -> None:
    message = sent_reply(app, new_phone())
    response = app.test_client().post(
        "/twilio/status", data=status_form(message.twilio_sid or "", "delivered")
    )
    assert response.status_code == 403
    assert status_of(app, message.id).status is DeliveryStatus.SENT


def test_bad_status_is_refused_and_changes_nothing(app: Flask) -> None:
    message = sent_reply(app, new_phone())
    client = app.test_client()
    sid = message.twilio_sid or ""
    bad_status = post_signed(client, "/twilio/status", status_form(sid, "exploded"))
    bad_code = post_signed(client, "/twilio/status", status_form(sid, "failed", ErrorCode="x1"))
    assert bad_status.status_code == bad_code.status_code == 400
    assert (
        bad_status.get_data(as_text=True).strip() == "MessageStatus is not a Twilio message status"
    )
    assert status_of(app, message.id).status is DeliveryStatus.SENT


def test_unknown_message_is_acknowledged_without_effect(app: Flask) -> None:
    response = post_signed(app.test_client(), "/twilio/status", status_form(new_sid(), "delivered"))
    assert response.status_code == 200


def test_healthz_reports_database_and_broker(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "broker": "in-process"}
