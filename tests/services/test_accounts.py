"""Administering staff accounts: who may change which account, what each change does, that a
refused change changes nothing, and that every change is audited without a password."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hotline import runtime_of
from hotline.db.models import (
    Availability,
    Event,
    StaffRole,
    StaffSession,
    StaffUser,
)
from hotline.domain.triage import State
from hotline.infra.live import QUEUE, conversation_topic
from hotline.services import accounts
from hotline.services.accounts import AccountError, Conflict, NoSuchAccount, NotAllowed
from hotline.services.auth import Refused, SignedIn, do_sign_in, load_session
from hotline.services.staff import MIN_PASSWORD_LENGTH, check_password, do_create_staff
from tests.conftest import new_phone
from tests.helpers import rigged_draws
from tests.texting import claim, conversation, text_in

PASSWORD = "a long enough password"


@pytest.fixture
def app(clocked_app: Flask) -> Flask:
    return clocked_app


def person(app: Flask, role: str = "advocate", *, active: bool = True) -> int:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        email = f"{role}-{new_phone()[2:]}@example.org"
        user = do_create_staff(session, email, PASSWORD, role, runtime.clock.now())
        user.active = active
        return user.id


def act(app: Flask, actor_id: int, change: Callable[..., Any], *args: Any) -> Any:
    """Run ``change(session, actor, *args, now)`` in one transaction, as the web layer does."""
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        actor = session.get(StaffUser, actor_id)
        assert actor is not None
        return change(session, actor, *args, runtime.clock.now())


def deactivate(app: Flask, actor_id: int, account_id: int) -> Any:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        actor = session.get(StaffUser, actor_id)
        assert actor is not None
        return accounts.do_deactivate_account(
            session, runtime.triage, actor, account_id, runtime.clock.now()
        )


def sign_in(app: Flask, user_id: int, password: str = PASSWORD) -> SignedIn | Refused:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, user_id)
        assert user is not None
        return do_sign_in(session, runtime.auth, user.email, password, runtime.clock.now())


def signed_in(app: Flask, user_id: int, password: str = PASSWORD) -> str:
    result = sign_in(app, user_id, password)
    assert isinstance(result, SignedIn)
    return result.token


def session_alive(app: Flask, token: str) -> bool:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return load_session(session, runtime.auth, token, runtime.clock.now()) is not None


def user(app: Flask, user_id: int) -> StaffUser:
    with runtime_of(app).sessions() as session:
        found = session.get(StaffUser, user_id)
        assert found is not None
        return found


def audit(app: Flask, kind: str) -> list[Event]:
    with runtime_of(app).sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def everything(app: Flask) -> tuple[Any, ...]:
    """Every account, session and event: what a refused change must leave as it was."""
    with runtime_of(app).sessions() as session:
        users = session.execute(
            select(
                StaffUser.id, StaffUser.email, StaffUser.role, StaffUser.active,
                StaffUser.password_hash, StaffUser.availability, StaffUser.totp_enabled,
                StaffUser.totp_secret_ciphertext,
            ).order_by(StaffUser.id)
        ).all()  # fmt: skip
        sessions = session.execute(
            select(StaffSession.id, StaffSession.ended_at).order_by(StaffSession.id)
        ).all()
        kinds = session.scalars(select(Event.kind).order_by(Event.id)).all()
    return tuple(users), tuple(sessions), tuple(kinds)


def refused(app: Flask, error: type[AccountError], message: str, change: Callable[[], Any]) -> None:
    """``change`` is refused with exactly ``error`` and ``message``, and changes nothing."""
    before = everything(app)
    with pytest.raises(AccountError) as raised:
        change()
    assert type(raised.value) is error and str(raised.value) == message
    assert everything(app) == before


# -- creating --------------------------------------------------------------------------------


def test_a_supervisor_creates_an_advocate_with_a_chosen_password(app: Flask) -> None:
    supervisor = person(app, "supervisor")
    created, generated = act(
        app, supervisor, accounts.do_create_account, " New.Advocate@Example.org ", "advocate",
        "a chosen temporary password",
    )  # fmt: skip
    assert generated is None
    account = user(app, created.id)
    assert (account.email, account.role, account.active) == (
        "new.advocate@example.org", StaffRole.ADVOCATE, True,
    )  # fmt: skip
    assert isinstance(sign_in(app, account.id, "a chosen temporary password"), SignedIn)
    [event] = [e for e in audit(app, "staff_created") if e.detail["staff_id"] == account.id]
    assert event.actor_id == supervisor
    assert event.detail == {
        "staff_id": account.id, "role": "advocate", "email": "new.advocate@example.org",
        "password": "set",
    }  # fmt: skip
    assert "chosen temporary" not in json.dumps(event.detail)


def test_a_generated_password_is_returned_once_and_never_stored_in_clear(app: Flask) -> None:
    supervisor = person(app, "supervisor")
    created, generated = act(
        app, supervisor, accounts.do_create_account, "gen@example.org", "supervisor", None
    )
    assert isinstance(generated, str) and len(generated) >= MIN_PASSWORD_LENGTH
    check_password(generated)
    assert isinstance(sign_in(app, created.id, generated), SignedIn)
    [event] = [e for e in audit(app, "staff_created") if e.detail["staff_id"] == created.id]
    assert event.detail["password"] == "generated"
    assert generated not in repr(everything(app)) and generated not in json.dumps(event.detail)
    _, empty = act(app, supervisor, accounts.do_create_account, "gen2@example.org", "advocate", "")
    assert empty is not None and empty != generated


def test_emails_are_unique_whatever_their_case(app: Flask) -> None:
    supervisor = person(app, "supervisor")
    act(app, supervisor, accounts.do_create_account, "Case@Example.org", "advocate", PASSWORD)
    for email in ("case@example.org", "CASE@EXAMPLE.ORG", "  case@Example.org "):
        refused(app, Conflict, "an account with that email exists already",
                lambda e=email: act(app, supervisor, accounts.do_create_account, e, "advocate",
                                    PASSWORD))  # fmt: skip


@pytest.mark.parametrize(
    ("email", "role", "password", "message"),
    [
        ("not-an-email", "advocate", PASSWORD, "that is not an email address"),
        ("a" * 250 + "@example.org", "advocate", PASSWORD, "that is not an email address"),
        (None, "advocate", PASSWORD, "that is not an email address"),
        (["a@example.org"], "advocate", PASSWORD, "that is not an email address"),
        ("a@example.org", "boss", PASSWORD, "role must be advocate, supervisor or admin"),
        ("a@example.org", None, PASSWORD, "role must be advocate, supervisor or admin"),
        ("a@example.org", "advocate", "short", "password must be at least 12 characters"),
        ("a@example.org", "advocate", "x" * 1025, "password must be at most 1024 characters"),
        ("a@example.org", "advocate", 123456789012345, "password must be text"),
    ],
)
def test_bad_input_creates_nothing(
    app: Flask, email: Any, role: Any, password: Any, message: str
) -> None:
    supervisor = person(app, "supervisor")
    create = accounts.do_create_account
    refused(app, AccountError, message, lambda: act(app, supervisor, create, email, role, password))


def test_only_an_admin_creates_an_admin(app: Flask) -> None:
    supervisor, admin = person(app, "supervisor"), person(app, "admin")
    refused(app, NotAllowed, "only an admin may create an admin",
            lambda: act(app, supervisor, accounts.do_create_account, "boss@example.org", "admin",
                        PASSWORD))  # fmt: skip
    created, _ = act(app, admin, accounts.do_create_account, "boss@example.org", "admin", None)
    assert user(app, created.id).role is StaffRole.ADMIN


def test_advocates_and_deactivated_staff_administer_nothing(app: Flask) -> None:
    advocate, colleague = person(app), person(app)
    gone = person(app, "admin", active=False)
    for actor, message in (
        (advocate, "only supervisors and admins administer staff accounts"),
        (gone, "your account is no longer active"),
    ):
        refused(app, NotAllowed, message,
                lambda a=actor: act(app, a, accounts.do_create_account, "x@example.org",
                                    "advocate", PASSWORD))  # fmt: skip
        refused(app, NotAllowed, message, lambda a=actor: deactivate(app, a, colleague))
        for change, args in (
            (accounts.do_reset_password, (colleague, None)),
            (accounts.do_change_role, (colleague, "supervisor")),
            (accounts.do_reset_two_factor, (colleague,)),
            (accounts.do_reactivate_account, (colleague,)),
        ):
            refused(app, NotAllowed, message,
                    lambda a=actor, c=change, r=args: act(app, a, c, *r))  # fmt: skip


def test_an_unknown_account_is_not_found(app: Flask) -> None:
    supervisor = person(app, "supervisor")
    refused(app, NoSuchAccount, "no such staff account", lambda: deactivate(app, supervisor, 99999))
    refused(app, NoSuchAccount, "no such staff account",
            lambda: act(app, supervisor, accounts.do_change_role, 99999, "advocate"))  # fmt: skip


# -- deactivating ------------------------------------------------------------------------------


def test_deactivating_ends_sessions_at_once_and_hands_held_texters_back(app: Flask) -> None:
    supervisor, advocate = person(app, "supervisor"), person(app)
    token = signed_in(app, advocate)
    other_token = signed_in(app, advocate)
    phone = new_phone()
    for body in ("hi", "no", "yes", "I need help", "TX"):
        text_in(app, phone, body)
    claim(app, phone, advocate)
    assert conversation(app, phone).state is State.WITH_ADVOCATE
    live = runtime_of(app).live
    topics = [QUEUE, conversation_topic(conversation(app, phone).id)]
    before = live.versions(topics)

    returned = deactivate(app, supervisor, advocate)

    assert not session_alive(app, token) and not session_alive(app, other_token)
    account = user(app, advocate)
    assert not account.active and account.availability is Availability.AWAY
    held = conversation(app, phone)
    assert held.state is State.QUEUED and held.advocate_id is None
    assert returned == [held.id]
    after = live.versions(topics)  # the queue, and consoles showing the conversation, told
    assert all(after[topic] > before[topic] for topic in topics)
    assert sign_in(app, advocate) == Refused("wrong email or password")
    [event] = audit(app, "staff_deactivated")
    assert event.actor_id == supervisor
    assert event.detail == {
        "staff_id": advocate, "email": account.email, "sessions_ended": 2,
        "conversations_returned": 1,
    }  # fmt: skip
    with runtime_of(app).sessions() as session:
        returned = session.scalars(
            select(Event).where(Event.kind == "returned_to_queue", Event.conversation_id == held.id)
        ).all()
    assert len(returned) == 1

    refused(app, Conflict, "that account is deactivated already",
            lambda: deactivate(app, supervisor, advocate))  # fmt: skip
    act(app, supervisor, accounts.do_reactivate_account, advocate)
    assert user(app, advocate).active
    assert isinstance(sign_in(app, advocate), SignedIn)
    [again] = audit(app, "staff_reactivated")
    assert again.actor_id == supervisor and again.detail["staff_id"] == advocate
    refused(app, Conflict, "that account is active already",
            lambda: act(app, supervisor, accounts.do_reactivate_account, advocate))  # fmt: skip


def test_nobody_deactivates_or_demotes_themselves(app: Flask) -> None:
    supervisor = person(app, "supervisor")
    admin, other_admin = person(app, "admin"), person(app, "admin")
    for actor in (supervisor, admin):
        refused(app, Conflict, "you cannot deactivate your own account",
                lambda a=actor: deactivate(app, a, a))  # fmt: skip
        refused(app, Conflict, "you cannot change your own role",
                lambda a=actor: act(app, a, accounts.do_change_role, a, "advocate"))  # fmt: skip
        refused(app, Conflict, "you cannot reset your own password here: ask another administrator",
                lambda a=actor: act(app, a, accounts.do_reset_password, a, None))  # fmt: skip
    assert user(app, other_admin).active


def test_the_last_active_admin_is_never_deactivated_or_demoted(app: Flask) -> None:
    admin = person(app, "admin")
    person(app, "admin", active=False)  # a deactivated admin does not count
    refused(app, Conflict, "the last active admin cannot be deactivated: make another admin first",
            lambda: deactivate(app, admin, admin))  # fmt: skip
    for role in ("supervisor", "advocate"):
        refused(app, Conflict, "the last active admin cannot be demoted: make another admin first",
                lambda r=role: act(app, admin, accounts.do_change_role, admin, r))  # fmt: skip
    assert user(app, admin).active and user(app, admin).role is StaffRole.ADMIN


def test_two_admins_deactivating_each_other_at_once_leave_one(app: Flask) -> None:
    """The second change waits for the first one's locks, then sees its actor deactivated."""
    first, second = person(app, "admin"), person(app, "admin")
    runtime = runtime_of(app)
    errors: list[BaseException] = []

    def second_deactivates_first() -> None:
        try:
            deactivate(app, second, first)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    with runtime.sessions.begin() as session:
        actor = session.get(StaffUser, first)
        assert actor is not None
        accounts.do_deactivate_account(session, runtime.triage, actor, second, clock_now(app))
        racer = threading.Thread(target=second_deactivates_first)
        racer.start()
        time.sleep(0.5)
        assert racer.is_alive()  # waiting on the first transaction's locks
    racer.join(10)
    assert not racer.is_alive()
    assert [(type(e), str(e)) for e in errors] == [(NotAllowed, "your account is no longer active")]
    assert user(app, first).active and not user(app, second).active


def clock_now(app: Flask) -> Any:
    return runtime_of(app).clock.now()


# -- admins' accounts, roles ---------------------------------------------------------------------


def test_only_an_admin_changes_an_admin(app: Flask) -> None:
    supervisor, admin, advocate = person(app, "supervisor"), person(app, "admin"), person(app)
    message = "only an admin may change an admin's account"
    refused(app, NotAllowed, message, lambda: deactivate(app, supervisor, admin))
    for change, args in (
        (accounts.do_reset_password, (admin, None)),
        (accounts.do_change_role, (admin, "supervisor")),
        (accounts.do_reset_two_factor, (admin,)),
    ):
        refused(app, NotAllowed, message,
                lambda c=change, r=args: act(app, supervisor, c, *r))  # fmt: skip
    refused(app, NotAllowed, "only an admin may make someone an admin",
            lambda: act(app, supervisor, accounts.do_change_role, advocate, "admin"))  # fmt: skip

    act(app, supervisor, accounts.do_change_role, advocate, "supervisor")
    assert user(app, advocate).role is StaffRole.SUPERVISOR
    act(app, admin, accounts.do_change_role, advocate, "admin")
    act(app, admin, accounts.do_change_role, advocate, "advocate")  # two admins: demotable
    changes = [(e.actor_id, e.detail) for e in audit(app, "staff_role_changed")]
    email = user(app, advocate).email
    assert changes == [
        (supervisor, {"staff_id": advocate, "email": email, "role_before": "advocate",
                      "role_after": "supervisor"}),
        (admin, {"staff_id": advocate, "email": email, "role_before": "supervisor",
                 "role_after": "admin"}),
        (admin, {"staff_id": advocate, "email": email, "role_before": "admin",
                 "role_after": "advocate"}),
    ]  # fmt: skip
    refused(app, Conflict, "that account is already an advocate",
            lambda: act(app, admin, accounts.do_change_role, advocate, "advocate"))  # fmt: skip
    refused(app, AccountError, "role must be advocate, supervisor or admin",
            lambda: act(app, admin, accounts.do_change_role, advocate, "root"))  # fmt: skip


def test_a_role_change_takes_effect_on_the_live_session(app: Flask) -> None:
    supervisor, advocate = person(app, "supervisor"), person(app)
    token = signed_in(app, advocate)
    act(app, supervisor, accounts.do_change_role, advocate, "supervisor")
    assert session_alive(app, token) and user(app, advocate).role is StaffRole.SUPERVISOR


# -- passwords and two-factor ---------------------------------------------------------------------


def test_resetting_a_password_ends_sessions_and_only_the_new_one_works(app: Flask) -> None:
    supervisor, advocate = person(app, "supervisor"), person(app)
    token = signed_in(app, advocate)
    generated = act(app, supervisor, accounts.do_reset_password, advocate, None)
    assert isinstance(generated, str)
    assert not session_alive(app, token)
    assert isinstance(sign_in(app, advocate, PASSWORD), Refused)
    assert isinstance(sign_in(app, advocate, generated), SignedIn)

    assert act(app, supervisor, accounts.do_reset_password, advocate, "chosen by the lead") is None
    assert isinstance(sign_in(app, advocate, "chosen by the lead"), SignedIn)
    events = audit(app, "staff_password_reset")
    assert [(e.actor_id, e.detail["password"], e.detail["sessions_ended"]) for e in events] == [
        (supervisor, "generated", 1), (supervisor, "set", 1),  # the sign-in just above
    ]  # fmt: skip
    assert generated not in json.dumps([e.detail for e in events])
    assert "chosen by the lead" not in json.dumps([e.detail for e in events])
    reset = accounts.do_reset_password
    refused(app, AccountError, "password must be at least 12 characters",
            lambda: act(app, supervisor, reset, advocate, "too short"))  # fmt: skip
    refused(app, AccountError, "password must be text",
            lambda: act(app, supervisor, accounts.do_reset_password, advocate, 5))  # fmt: skip


def test_resetting_two_factor_switches_it_off_and_ends_sessions(app: Flask) -> None:
    admin, supervisor = person(app, "admin"), person(app, "supervisor")
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        lead = session.get(StaffUser, supervisor)
        assert lead is not None
        lead.totp_secret_ciphertext = runtime.vault.encrypt("JBSWY3DPEHPK3PXP")
        lead.totp_enabled = True
    password_only = sign_in(app, supervisor)
    assert isinstance(password_only, SignedIn) and password_only.awaiting_totp

    act(app, admin, accounts.do_reset_two_factor, supervisor)

    lead_now = user(app, supervisor)
    assert not lead_now.totp_enabled and lead_now.totp_secret_ciphertext is None
    with runtime.sessions() as session:
        record = session.get(StaffSession, password_only.session_id)
        assert record is not None and record.ended_at is not None
    signed = sign_in(app, supervisor)
    assert isinstance(signed, SignedIn) and not signed.awaiting_totp
    [event] = audit(app, "staff_two_factor_reset")
    assert event.actor_id == admin
    assert event.detail == {
        "staff_id": supervisor, "email": lead_now.email, "was_enabled": True, "sessions_ended": 1,
    }  # fmt: skip
    refused(app, Conflict, "that account has no two-factor sign-in to reset",
            lambda: act(app, admin, accounts.do_reset_two_factor, supervisor))  # fmt: skip
    refused(app, Conflict, "you cannot reset your own two-factor here: ask another administrator",
            lambda: act(app, admin, accounts.do_reset_two_factor, admin))  # fmt: skip


def test_generated_passwords_meet_the_policy_and_differ() -> None:
    made = {accounts.generate_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        check_password(password)
        assert not set(password) & set("0O1lI")


def test_a_generated_password_never_holds_the_emails_local_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rigged_draws(monkeypatch, "xnewx-aaaaa-bbbbb-ccccc", "qnewq-ddddd-eeeee-fffff")
    password = accounts.generate_password("new@example.org")
    assert "new" not in password and password.count("-") == 3
    check_password(password, "new@example.org")


# -- resets of supervisors are the admins'; a reset or a creation forces a change ------------------


def test_a_supervisor_resets_advocates_only_and_an_admin_anyone(app: Flask) -> None:
    supervisor, other, admin = (
        person(app, "supervisor"),
        person(app, "supervisor"),
        person(app, "admin"),
    )
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        lead = session.get(StaffUser, other)
        assert lead is not None
        lead.totp_secret_ciphertext = runtime.vault.encrypt("JBSWY3DPEHPK3PXP")
        lead.totp_enabled = True
    refused(app, NotAllowed, "only an admin may reset a supervisor's password",
            lambda: act(app, supervisor, accounts.do_reset_password, other, None))  # fmt: skip
    reset = accounts.do_reset_password
    refused(app, NotAllowed, "only an admin may reset a supervisor's password",
            lambda: act(app, supervisor, reset, other, "a chosen password"))  # fmt: skip
    refused(app, NotAllowed, "only an admin may reset a supervisor's two-factor",
            lambda: act(app, supervisor, accounts.do_reset_two_factor, other))  # fmt: skip
    # Not by the back door either: demote, reset, promote back.
    refused(app, NotAllowed, "only an admin may change a supervisor's role",
            lambda: act(app, supervisor, accounts.do_change_role, other, "advocate"))  # fmt: skip
    assert not user(app, other).must_change_password and user(app, other).totp_enabled

    assert isinstance(act(app, admin, accounts.do_reset_password, other, None), str)
    act(app, admin, accounts.do_reset_two_factor, other)
    assert user(app, other).must_change_password and not user(app, other).totp_enabled
    assert [e.actor_id for e in audit(app, "staff_password_reset")] == [admin]
    assert [e.actor_id for e in audit(app, "staff_two_factor_reset")] == [admin]


def test_accounts_created_or_reset_by_someone_else_must_change_their_password(app: Flask) -> None:
    supervisor, advocate = person(app, "supervisor"), person(app)
    assert not user(app, advocate).must_change_password  # made by its owner, as the tests do
    created, _ = act(app, supervisor, accounts.do_create_account, "made@example.org", "advocate",
                     "a temporary password")  # fmt: skip
    assert user(app, created.id).must_change_password
    act(app, supervisor, accounts.do_reset_password, advocate, None)
    assert user(app, advocate).must_change_password


@pytest.mark.parametrize(
    ("password", "error"),
    [
        ("qwerty123456", "that password is one of the most common ones: choose another"),
        ("Dragon!!2024!", "that password is one of the most common ones: choose another"),
        ("I am Made.Here today", "password must not contain the part of the email before the @"),
    ],
)
def test_a_chosen_password_meets_the_whole_policy(app: Flask, password: str, error: str) -> None:
    supervisor, advocate = person(app, "supervisor"), person(app)
    refused(app, AccountError, error,
            lambda: act(app, supervisor, accounts.do_create_account, "made.here@example.org",
                        "advocate", password))  # fmt: skip
    if "email" not in error:
        reset = accounts.do_reset_password
        refused(app, AccountError, error,
                lambda: act(app, supervisor, reset, advocate, password))  # fmt: skip
