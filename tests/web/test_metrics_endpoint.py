"""``GET /metrics``: off unless a token is set, then only for that bearer token; what it counts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from hotline import runtime_of
from hotline.infra.taskqueue import InProcessQueue
from hotline.settings import Mode, Settings, SettingsError
from hotline.sms.sender import LocalSender
from tests.conftest import new_phone, new_sid
from tests.console_client import queued_texter
from tests.fakes import FakeClock
from tests.helpers import post_signed, sms_form

TOKEN = "scrape-" + "k" * 30


@pytest.fixture
def metered(make_app: Callable[..., Flask], isolated_database_url: str, clock: FakeClock) -> Flask:
    """An app with /metrics on, its own database, and a clock the test moves."""
    return make_app(
        isolated_database_url,
        clock=clock,
        sender=LocalSender(clock.now),
        settings_overrides={"metrics_token": TOKEN},
    )


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def run(app: Flask) -> None:
    tasks = runtime_of(app).tasks
    assert isinstance(tasks, InProcessQueue)
    tasks.run_due()


# --- who may scrape -----------------------------------------------------------------------------


def test_off_by_default_it_is_not_found(app: Flask) -> None:
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert b"hotline_" not in response.data


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        f"Basic {TOKEN}",
        "Bearer ",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN.upper()}",
        "Bearer ünïcødé-but-wrong-and-long-enough",
    ],
)
def test_without_the_token_it_is_refused(metered: Flask, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = metered.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_data(as_text=True) == "a valid bearer token is required\n"
    assert b"hotline_" not in response.data


def test_the_token_is_required_to_be_long(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {"HOTLINE_METRICS_TOKEN": "short-token"}, mode=Mode.TEST, instance_path=tmp_path
        )
    assert "HOTLINE_METRICS_TOKEN must be at least 24 ASCII characters" in str(refused.value)
    assert "short-token" not in str(refused.value)  # a secret is never quoted
    read = Settings.from_env(
        {"HOTLINE_METRICS_TOKEN": TOKEN}, mode=Mode.TEST, instance_path=tmp_path
    )
    assert read.metrics_token == TOKEN
    assert TOKEN not in repr(read)


# --- what it counts -----------------------------------------------------------------------------


def test_a_stored_text_is_counted_and_timed_once(metered: Flask) -> None:
    client = metered.test_client()
    before = scrape(client)
    sid = new_sid()
    phone = new_phone()
    assert post_signed(client, "/twilio/sms", sms_form(phone, "hi", sid=sid)).status_code == 200
    assert post_signed(client, "/twilio/sms", sms_form(phone, "hi", sid=sid)).status_code == 200
    after = scrape(client)

    assert (
        after[("hotline_texts_stored_total", ())] == before[("hotline_texts_stored_total", ())] + 1
    )
    timed = ("hotline_webhook_seconds_count", ())
    assert after[timed] == before[timed] + 2  # the duplicate is answered too, and timed


def test_the_backlog_is_what_the_sweep_would_find(metered: Flask, clock: FakeClock) -> None:
    client = metered.test_client()
    texts = ("hotline_sweep_backlog", (("kind", "texts"),))
    assert scrape(client)[texts] == 0

    for _ in range(2):  # stored, and no worker runs: handed over and lost, as far as it shows
        assert post_signed(client, "/twilio/sms", sms_form(new_phone(), "hi")).status_code == 200
    assert scrape(client)[texts] == 0  # within the grace period: still on its way

    clock.advance(runtime_of(metered).settings.sweep_grace_seconds + 1)
    assert scrape(client)[texts] == 2
    assert scrape(client)[("hotline_sweep_backlog", (("kind", "replies"),))] == 0

    run(metered)
    assert scrape(client)[texts] == 0


def test_the_queue_length_by_priority(metered: Flask) -> None:
    client = metered.test_client()
    sent = ("hotline_sends_total", (("result", "sent"),))
    before = scrape(client)
    bands = {"emergency", "urgent", "high", "normal"}
    queue = {
        labels[0][1]: value
        for (name, labels), value in before.items()
        if name == "hotline_queue_length"
    }
    assert set(queue) == bands and sum(queue.values()) == 0

    phone = queued_texter(metered)
    after = scrape(client)
    queue = {
        labels[0][1]: value
        for (name, labels), value in after.items()
        if name == "hotline_queue_length"
    }
    assert sum(queue.values()) == 1
    assert after[sent] > before.get(sent, 0.0)  # the triage's replies went out

    # Counts and fixed words only: nothing a texter wrote or their number.
    body = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    assert phone[2:] not in body and "I need help" not in body


def test_failed_hand_offs_have_a_series_from_the_start(metered: Flask) -> None:
    samples = scrape(metered.test_client())
    for reason in ("error", "paused"):
        assert ("hotline_hand_offs_failed_total", (("reason", reason),)) in samples


COUNT_ONE_TEXT = (
    "from hotline.infra import metrics; metrics.TEXTS_STORED.inc(); "
    "metrics.SENDS.labels(result='sent').inc()"
)
SCRAPE = (
    "import sys; from hotline.infra import metrics; sys.stdout.write(metrics.exposition("
    "multiprocess_dir=sys.argv[1]).decode())"
)


def test_with_a_multiprocess_folder_every_process_counts_into_one_total(tmp_path: Path) -> None:
    """Gunicorn's workers (and Celery's) each count in the folder; any one scrape adds them up.
    The library picks its storage when imported, so each process here is a fresh interpreter."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two worker processes, each storing a text and sending a reply
        subprocess.run([sys.executable, "-c", COUNT_ONE_TEXT], env=env, check=True, timeout=60)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE, str(tmp_path)],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert samples[("hotline_texts_stored_total", ())] == 2
    assert samples[("hotline_sends_total", (("result", "sent"),))] == 2
