"""The embedded default, really running: SQLite, tasks on the in-process thread, and the real
twilio client talking to the local fake Twilio API, with status callbacks over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from hotline import create_app, runtime_of
from hotline.db.migrate import upgrade
from hotline.domain.delivery import DeliveryStatus, Direction
from hotline.infra.taskqueue import InProcessQueue
from hotline.settings import Mode, Settings
from hotline.sms.signature import sign
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_DATA_KEY, new_phone
from tests.helpers import messages_of, sms_form
from tests.support.fake_twilio import FakeTwilio
from tests.support.stack import free_port, wait_until


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeTwilio, object]]:
    fake = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    fake.start()
    port = free_port()
    settings = Settings(
        mode=Mode.DEVELOPMENT,
        database_url=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        secret_key="embedded-secret",
        data_keys=(TEST_DATA_KEY,),
        public_url=f"http://127.0.0.1:{port}",
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_from="+15005550006",
        twilio_api_base=fake.base_url,
        twilio_timeout_seconds=3,
    )
    queue = InProcessQueue(start=True)
    app = create_app({"settings": settings, "tasks": queue})
    upgrade(runtime_of(app).engine)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield settings.public_url or "", fake, app
    finally:
        server.shutdown()
        thread.join(5)
        queue.stop()
        fake.stop()
        runtime_of(app).engine.dispose()


def test_embedded_stack_answers_through_twilio_and_records_delivery(
    served: tuple[str, FakeTwilio, object],
) -> None:
    public_url, fake, app = served
    phone = new_phone()
    form = sms_form(phone, "hello from the embedded default")
    signature = sign(TEST_AUTH_TOKEN, public_url + "/twilio/sms", form)
    with requests.post(
        public_url + "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}, timeout=5
    ) as response:
        assert response.status_code == 200

    wait_until(lambda: any(m.to == phone for m in fake.messages), 10, "the reply at the fake API")

    def delivered() -> bool:
        outbound = [m for m in messages_of(app, phone) if m.direction is Direction.OUTBOUND]  # type: ignore[arg-type]
        return bool(outbound) and outbound[0].status is DeliveryStatus.DELIVERED

    wait_until(delivered, 10, "the delivered callback")
    assert len([m for m in fake.messages if m.to == phone]) == 1
