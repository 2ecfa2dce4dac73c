"""Changing run-time settings, as a supervisor does, through the service and through the API,
and reading back what was stored and recorded. Shared by the tests of tuning, the settings API
and the lexicon trial."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from hotline import runtime_of
from hotline.catalogue import lexicon
from hotline.db.models import Disposition, Event, SettingOverride, StaffUser, Tag
from hotline.domain.tuning import lexicon_value
from hotline.services import tuning
from hotline.services.tuning import HISTORY_KINDS
from tests.console_client import sign_in, staff


def english_lexicon(**changes: Any) -> dict[str, Any]:
    """The shipped English lexicon in the API's shape, with ``changes``."""
    return {**lexicon_value(lexicon("en")), **changes}


def change(app: Flask, user: StaffUser, key: str, value: Any) -> bool:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return tuning.do_set(session, user, key, value, runtime.clock.now(), runtime.settings)


def reset(app: Flask, user: StaffUser, key: str) -> bool:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return tuning.do_reset(session, user, key, runtime.clock.now(), runtime.settings)


def events(app: Flask, *kinds: str) -> list[Event]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind.in_(kinds)).order_by(Event.id)))


def stored(app: Flask) -> dict[str, Any]:
    with runtime_of(app).sessions() as session:
        return tuning.read_overrides(session)


def call(client: FlaskClient, method: str, path: str, payload: Any = None, *,
         csrf: str | None = None) -> TestResponse:  # fmt: skip
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    if method == "get":
        return client.get(path)
    return client.open(path, method=method.upper(), json=payload or {}, headers=headers)


def snapshot(app: Flask) -> dict[str, Any]:
    """Everything an admin change could touch."""
    with runtime_of(app).sessions() as session:
        dispositions = session.scalars(select(Disposition))
        return {
            "overrides": {o.key: o.value for o in session.scalars(select(SettingOverride))},
            "dispositions": {d.code: (d.label, d.active) for d in dispositions},
            "tags": {t.name: t.active for t in session.scalars(select(Tag))},
            "admin_events": session.scalar(
                select(func.count()).select_from(Event).where(Event.kind.in_(HISTORY_KINDS))
            ),
        }


def supervisor_client(app: Flask) -> tuple[FlaskClient, str]:
    return sign_in(app, staff(app, "supervisor"))


def setting(client: FlaskClient, key: str) -> dict[str, Any]:
    items = client.get("/supervisor/api/settings").get_json()["items"]
    found = next(item for item in items if item["key"] == key)
    assert isinstance(found, dict)
    return found
