"""The patch of kombu's private ``Channel._connparams`` holds for one kombu release only."""

from __future__ import annotations

import inspect
import logging

import kombu
import pytest
from kombu.transport import redis as transport

from hotline.background import celery_app
from hotline.background.celery_app import PATCHED_KOMBU, _survive_broker_loss_with_tasks_in_hand


def test_the_installed_kombu_is_the_one_the_patch_was_written_for() -> None:
    assert kombu.__version__ == PATCHED_KOMBU, (
        f"kombu is now {kombu.__version__}, the patch of Channel._connparams in "
        f"hotline/background/celery_app.py was written for {PATCHED_KOMBU}: run "
        "tests/faults/test_worker_faults.py without the patch; if the worker survives, drop "
        "the patch, otherwise check the method's source and move PATCHED_KOMBU"
    )


def test_the_patched_method_still_reads_the_connection_it_guards() -> None:
    original = transport.Channel._connparams
    while hasattr(original, "__wrapped__"):
        original = original.__wrapped__
    source = inspect.getsource(original)
    assert "conninfo = self.connection.client" in source
    assert "conninfo.hostname" in source


def test_another_kombu_is_left_unpatched_and_said_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(transport.Channel, "_connparams", transport.Channel._connparams)
    unpatched = transport.Channel.__dict__["_connparams"]
    monkeypatch.setattr(kombu, "__version__", "9.9.9")
    with caplog.at_level(logging.WARNING, logger=celery_app.__name__):
        _survive_broker_loss_with_tasks_in_hand()
    assert transport.Channel.__dict__["_connparams"] is unpatched
    assert "kombu 9.9.9 is not the 5.7.0 this patch was written for" in caplog.text
