"""Who is asking: the staff session behind a request, roles, and CSRF.

:func:`staff_view` wraps a view in one transaction with the signed-in user loaded. A request
without a live session gets 401 (API) or a redirect to sign-in (pages); a user without the role
gets 403; a state-changing request without the session's CSRF token gets 400. A user whose
password was set by someone else is sent to ``/account/password`` (pages) or answered 403
"change your password first" (API) until they change it. What the view's transaction registers
to follow it (replies to send, live updates: :mod:`hotline.db.after_commit`) runs only once it
has committed.

A refusal the view raises (:mod:`hotline.services.errors`), or a database error, leaves the
transaction, which rolls back, and is answered by the app's one mapping
(:mod:`hotline.web.refusals`). The 403s and the 400 above are refusals too, raised once the
session's own bookkeeping (its idle clock, or its end) is committed.

Only a person's actions keep a session from going idle (:func:`person_acted`): the pages mark
what they fetch on their own with ``X-Hotline-Background: 1``, and add ``X-Hotline-Input: 1``
when someone typed, clicked or scrolled since their last such request.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import g, jsonify, redirect, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import StaffRole, StaffSession, StaffUser
from hotline.services.auth import AuthPolicy, load_session
from hotline.services.errors import InvalidInput, NotAllowed, Refusal
from hotline.web import runtime
from hotline.web.landing import home_of, safe_next
from hotline.web.security import served_over_https

COOKIE = "hotline_session"
CSRF_HEADER = "X-CSRF-Token"
BACKGROUND_HEADER = "X-Hotline-Background"
INPUT_HEADER = "X-Hotline-Input"
ALL_STAFF = (StaffRole.ADVOCATE, StaffRole.SUPERVISOR, StaffRole.ADMIN)
SUPERVISORS = (StaffRole.SUPERVISOR, StaffRole.ADMIN)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Staff:
    user: StaffUser
    staff_session: StaffSession
    db: Session
    now: datetime


def current() -> Staff:
    staff = g.get("staff")
    assert isinstance(staff, Staff), "only inside a staff_view"
    return staff


def _csrf_ok(expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token") or ""
    return bool(given) and hmac.compare_digest(given, expected)


def person_acted(background: bool) -> bool:
    """Whether this request is a person's action, which moves the idle clock: anything but a
    background request (a ``background`` view such as the poll, or one the page marked so),
    unless the page says it saw input since its last one."""
    if request.headers.get(INPUT_HEADER) == "1":
        return True
    return not background and request.headers.get(BACKGROUND_HEADER) != "1"


def staff_view(
    roles: tuple[StaffRole, ...] = ALL_STAFF, *, page: bool = False, background: bool = False
) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    def decorate(view: Callable[P, Any]) -> Callable[P, Any]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            rt = runtime()
            now = rt.clock.now()
            token = request.cookies.get(COOKIE, "")
            with rt.sessions.begin() as db:
                staff_session = load_session(
                    db, rt.auth, token, now, activity=person_acted(background)
                )
                user = None if staff_session is None else db.get(StaffUser, staff_session.user_id)
                turned_away = _turned_away(rt.auth, user, staff_session, roles, page)
                if turned_away is None:
                    assert user is not None and staff_session is not None
                    g.staff = Staff(user, staff_session, db, now)
                    result = view(*args, **kwargs)
            if isinstance(turned_away, Refusal):
                raise turned_away
            if turned_away is not None:
                return turned_away
            return result

        return wrapper

    return decorate


def _turned_away(
    policy: AuthPolicy,
    user: StaffUser | None,
    staff_session: StaffSession | None,
    roles: tuple[StaffRole, ...],
    page: bool,
) -> BaseResponse | Refusal | None:
    """Why this request goes no further than the session check, if it does not: a redirect (a
    page), a 401 (an API), or a refusal to raise. None lets the view run."""
    if user is None or staff_session is None:
        if page:
            return redirect(url_for("auth.sign_in", next=request.path))
        response = jsonify(error="sign in first")
        response.status_code = 401
        return response
    if user.role not in roles:
        return NotAllowed("you may not see this")
    if request.method not in ("GET", "HEAD") and not _csrf_ok(staff_session.csrf_token):
        return InvalidInput("missing or wrong CSRF token: reload the page")
    if policy.needs_2fa_setup(user) and request.endpoint not in (
        "auth.two_factor_setup",
        # issue 15: the POSTs the enrolment itself needs
        "auth.two_factor_start",
        "auth.two_factor_confirm",
        "auth.sign_out",
    ):
        if page:
            return redirect(url_for("auth.two_factor_setup", next=_page_asked_for(user)))
        return NotAllowed("set up two-factor sign-in first")
    # -- forced password change (issue 15, item 8) ------------------------------------------
    if user.must_change_password and not _reachable_before_password_change():
        if page:
            return redirect(url_for("password.page", next=_page_asked_for(user)))
        return NotAllowed("change your password first")
    # -- end of forced password change ------------------------------------------------------
    return None


def _page_asked_for(user: StaffUser) -> str | None:
    """The page to go on to once a step in the way (a password change, two-factor enrolment) is
    done: this one, unless it is a form's POST or the user's home page anyway."""
    if request.method != "GET" or request.path == home_of(user):
        return None
    return safe_next(request.full_path.rstrip("?"))


def _reachable_before_password_change() -> bool:
    """While a password set by someone else awaits its change, only the change page and the
    sign-in blueprint's own pages (sign-out, two-factor setup) answer."""
    return request.blueprint in ("password", "auth")


def set_session_cookie(response: BaseResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        secure=served_over_https(),
        samesite="Strict",
        path="/",
    )


def clear_session_cookie(response: BaseResponse) -> None:
    response.delete_cookie(COOKIE, path="/", samesite="Strict")
