"""The administration page, and the API for staff accounts behind it.

Supervisors and admins only (advocates get 403); every change needs the session's CSRF token.
The page's other two sections, quick replies and referrals, use the supervisor API. The rules
on who may change which account live in :mod:`hotline.services.accounts`; a refused change
(:class:`~hotline.services.accounts.AccountError`) is rolled back whole and answered like every
refusal (:mod:`hotline.web.refusals`): its status (400, 403, 404 or 409) and a message to show.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from flask import Blueprint, Response, render_template

from hotline.catalogue import LANGUAGES
from hotline.services import accounts
from hotline.services.accounts import Account, AccountError
from hotline.web import runtime
from hotline.web.answers import Done, answers
from hotline.web.console import body
from hotline.web.staff import SUPERVISORS, current, staff_view

bp = Blueprint("admin_staff", __name__, url_prefix="/supervisor")


class Accounts(TypedDict):
    items: list[Account]
    me: int  # the caller's own account


class Created(TypedDict):
    id: int
    email: str
    password: str | None  # the generated password, shown once; None when one was given


class PasswordReset(TypedDict):
    ok: Literal[True]
    password: str | None  # the generated password, shown once; None when one was given


def _known(payload: dict[str, Any], *allowed: str) -> dict[str, Any]:
    unknown = set(payload) - set(allowed)
    if unknown:
        raise AccountError(f"unknown fields: {', '.join(sorted(unknown))}")
    return payload


@bp.get("/admin")
@staff_view(SUPERVISORS, page=True)
def page() -> Response:
    staff = current()
    return Response(
        render_template(
            "admin.html",
            user=staff.user,
            csrf_token=staff.staff_session.csrf_token,
            languages=LANGUAGES,
        )
    )


@bp.get("/api/staff-accounts")
@staff_view(SUPERVISORS)
@answers(Accounts)
def staff_accounts() -> Accounts:
    staff = current()
    return {"items": accounts.accounts(staff.db), "me": staff.user.id}


@bp.post("/api/staff-accounts")
@staff_view(SUPERVISORS)
@answers(Created)
def create() -> Created:
    staff = current()
    payload = _known(body(), "email", "role", "password")
    user, generated = accounts.do_create_account(
        staff.db,
        staff.user,
        payload.get("email"),
        payload.get("role"),
        payload.get("password"),
        staff.now,
    )
    return {"id": user.id, "email": user.email, "password": generated}


@bp.post("/api/staff-accounts/<int:account_id>/deactivate")
@staff_view(SUPERVISORS)
@answers(Done)
def deactivate(account_id: int) -> Done:
    staff = current()
    accounts.do_deactivate_account(staff.db, runtime().triage, staff.user, account_id, staff.now)
    return {"ok": True}


@bp.post("/api/staff-accounts/<int:account_id>/reactivate")
@staff_view(SUPERVISORS)
@answers(Done)
def reactivate(account_id: int) -> Done:
    staff = current()
    accounts.do_reactivate_account(staff.db, staff.user, account_id, staff.now)
    return {"ok": True}


@bp.post("/api/staff-accounts/<int:account_id>/reset-password")
@staff_view(SUPERVISORS)
@answers(PasswordReset)
def reset_password(account_id: int) -> PasswordReset:
    staff = current()
    payload = _known(body(), "password")
    generated = accounts.do_reset_password(
        staff.db, staff.user, account_id, payload.get("password"), staff.now
    )
    return {"ok": True, "password": generated}


@bp.post("/api/staff-accounts/<int:account_id>/role")
@staff_view(SUPERVISORS)
@answers(Done)
def change_role(account_id: int) -> Done:
    staff = current()
    payload = _known(body(), "role")
    accounts.do_change_role(staff.db, staff.user, account_id, payload.get("role"), staff.now)
    return {"ok": True}


@bp.post("/api/staff-accounts/<int:account_id>/reset-two-factor")
@staff_view(SUPERVISORS)
@answers(Done)
def reset_two_factor(account_id: int) -> Done:
    staff = current()
    accounts.do_reset_two_factor(staff.db, staff.user, account_id, staff.now)
    return {"ok": True}
