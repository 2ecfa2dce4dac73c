"""Who is asking: the staff session behind a request, roles, and CSRF.

:func:`staff_view` wraps a view in one transaction with the signed-in user loaded. A request
without a live session gets 401 (API) or a redirect to sign-in (pages); a user without the role
gets 403; a state-changing request without the session's CSRF token gets 400. A user whose
password was set by someone else is sent to ``/account/password`` (pages) or answered 403
"change your password first" (API) until they change it. Work a view hands over (replies to
send, live updates) runs only after the transaction commits.

Only a person's actions keep a session from going idle (:func:`person_acted`): the pages mark
what they fetch on their own with ``X-Hotline-Background: 1``, and add ``X-Hotline-Input: 1``
when someone typed, clicked or scrolled since their last such request.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Response, g, jsonify, redirect, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline import jobs
from hotline.db.models import StaffRole, StaffSession, StaffUser
from hotline.services.auth import load_session
from hotline.services.console import ConsoleError, InvalidInput, NotFound
from hotline.services.triage import Outcome
from hotline.web import runtime
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
    outcomes: list[Outcome] = field(default_factory=list)


def current() -> Staff:
    staff = g.get("staff")
    assert isinstance(staff, Staff), "only inside a staff_view"
    return staff


def api_error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


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
            try:
                with rt.sessions.begin() as db:
                    staff_session = load_session(
                        db, rt.auth, token, now, activity=person_acted(background)
                    )
                    if staff_session is None:
                        result: Any = None
                    else:
                        user = db.get(StaffUser, staff_session.user_id)
                        assert user is not None
                        if user.role not in roles:
                            return _refuse("you may not see this", 403, page)
                        if request.method not in ("GET", "HEAD") and not _csrf_ok(
                            staff_session.csrf_token
                        ):
                            return _refuse(
                                "missing or wrong CSRF token: reload the page", 400, page
                            )
                        if rt.auth.needs_2fa_setup(user) and request.endpoint not in (
                            "auth.two_factor_setup",
                            # issue 15: the POSTs the enrolment itself needs
                            "auth.two_factor_start",
                            "auth.two_factor_confirm",
                            "auth.sign_out",
                        ):
                            if page:
                                return redirect(url_for("auth.two_factor_setup"))
                            return api_error("set up two-factor sign-in first", 403)
                        # -- forced password change (issue 15, item 8) --------------------------
                        if user.must_change_password and not _reachable_before_password_change():
                            if page:
                                return redirect(url_for("password.page"))
                            return api_error("change your password first", 403)
                        # -- end of forced password change --------------------------------------
                        g.staff = Staff(user, staff_session, db, now)
                        result = view(*args, **kwargs)
            except NotFound as error:
                return _refuse(f"no such {error.what}", 404, page)
            except InvalidInput as error:
                return api_error(str(error), 400)
            except ConsoleError as error:
                return api_error(str(error), 409)
            except SQLAlchemyError as error:
                return api_error(f"the database is unavailable ({type(error).__name__})", 503)
            if result is None:
                if page:
                    return redirect(url_for("auth.sign_in", next=request.path))
                return api_error("sign in first", 401)
            for outcome in g.staff.outcomes:
                jobs.hand_over(rt, outcome)
            return result

        return wrapper

    return decorate


def _reachable_before_password_change() -> bool:
    """While a password set by someone else awaits its change, only the change page and the
    sign-in blueprint's own pages (sign-out, two-factor setup) answer."""
    return request.blueprint in ("password", "auth")


def _refuse(message: str, status: int, page: bool) -> Response:
    if page:
        return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    return api_error(message, status)


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
