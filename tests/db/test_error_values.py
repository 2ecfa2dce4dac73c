"""A failing statement never puts the values it carried into a log line or an exception's text.

The engine is the app's own (built by ``create_app`` through ``make_engine``), the failure runs
in a real request, and is logged through the app's logging set-up (``hotline.infra.logs``) as
it would be in production: by Flask with its traceback (a 500), or in one line (a unique
violation, which is a request that lost a race: 409, see ``hotline.web.refusals``). What a
person typed (here a recognisable marker) must not be in that log.
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from hotline import runtime_of
from hotline.db.models import StaffRole, StaffUser
from hotline.infra.logs import RedactingFormatter, configure_logging

MARKER = "kestrel-marker-q"  # what a person typed; no digits, so no redaction hides it


@pytest.fixture
def error_log() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, formatted as the app's handlers format it."""
    configure_logging()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def staff_user(email: str) -> StaffUser:
    return StaffUser(
        email=email,
        password_hash="not-a-hash",
        role=StaffRole.ADVOCATE,
        created_at=datetime.now(UTC),
    )


def add_twice(session: Session, email: str = f"{MARKER}@example.org") -> None:
    """A unique violation: PostgreSQL's DETAIL would repeat the email."""
    session.add(staff_user(email))
    session.commit()
    session.add(staff_user(email))
    session.commit()


def look_up_nul(session: Session) -> None:
    """A NUL byte, which PostgreSQL refuses in text (the sign-in form once passed one through)."""
    session.scalars(select(StaffUser).where(StaffUser.email == f"\x00{MARKER}@example.org")).all()


def fail_in_a_request(app: Flask, failing: Callable[[Session], None]) -> int:
    """Run ``failing`` inside a request that lets Flask log the exception, as in production."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only/failing-statement")
    def failing_statement() -> str:
        with runtime_of(app).sessions() as session:
            failing(session)
        return "not reached"

    return app.test_client().get("/test-only/failing-statement").status_code


# A bug: Flask logs the failure with its SQL, and the values are left out.
AS_A_BUG = (500, ("Exception on /test-only/failing-statement", "staff_users", "parameters hidden"))
# A lost race: one line naming the request (and, at most, the constraint).
AS_A_LOST_RACE = (409, ("GET failing_statement refused with 409: it lost a race",))


def assert_no_value(
    app: Flask,
    failing: Callable[[Session], None],
    log: io.StringIO,
    answered: tuple[int, tuple[str, ...]],
) -> None:
    with runtime_of(app).sessions() as session, pytest.raises(StatementError) as raised:
        failing(session)
    assert MARKER not in str(raised.value)
    status, lines = answered
    assert fail_in_a_request(app, failing) == status
    logged = log.getvalue()
    assert all(line in logged for line in lines), logged
    assert MARKER not in logged


def test_a_unique_violation_logs_no_value(
    make_app: Callable[..., Flask], isolated_database_url: str, error_log: io.StringIO
) -> None:
    assert_no_value(make_app(isolated_database_url), add_twice, error_log, AS_A_LOST_RACE)


def test_a_nul_byte_on_postgresql_logs_no_value(
    make_app: Callable[..., Flask], postgres_url: str, error_log: io.StringIO
) -> None:
    assert_no_value(make_app(postgres_url), look_up_nul, error_log, AS_A_BUG)


def test_postgresql_details_stay_on_the_driver_error(
    make_app: Callable[..., Flask], postgres_url: str
) -> None:
    """Only the printed text is cut: the constraint's name is still there for code that asks."""
    app = make_app(postgres_url)
    email = f"{secrets.token_hex(4)}-{MARKER}@example.org"
    with runtime_of(app).sessions() as session, pytest.raises(DBAPIError) as raised:
        add_twice(session, email)
    assert str(raised.value.orig) == (
        'duplicate key value violates unique constraint "uq_staff_users_email"'
    )
    assert raised.value.orig.diag.constraint_name == "uq_staff_users_email"
    assert raised.value.orig.diag.message_detail == f"Key (email)=({email}) already exists."
