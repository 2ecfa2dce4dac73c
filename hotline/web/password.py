"""``/account/password``: a signed-in staff member changes their own password.

Every staff member may; one whose password was set by someone else (a new account, a reset) must
before anything else (see the forced-change block of :func:`hotline.web.staff.staff_view`). The
form posts the session's CSRF token like every staff form. What is checked and what a change
does is :func:`hotline.services.passwords.do_change_password`.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hotline.services.passwords import do_change_password
from hotline.services.staff import MIN_PASSWORD_LENGTH
from hotline.web import runtime
from hotline.web.landing import landing, landing_name, safe_next
from hotline.web.staff import current, staff_view

bp = Blueprint("password", __name__)


def _next() -> str | None:
    """The page asked for before the change was required (see :mod:`hotline.web.landing`)."""
    return safe_next(request.form.get("next") or request.args.get("next"))


def _form(error: str | None = None, status: int = 200, changed: bool = False) -> Response:
    staff = current()
    go_on = landing(staff.user, _next())
    return Response(
        render_template(
            "password.html",
            user=staff.user,
            csrf_token=staff.staff_session.csrf_token,
            error=error,
            changed=changed,
            required=staff.user.must_change_password,
            min_length=MIN_PASSWORD_LENGTH,
            next=_next() or "",
            go_on=go_on,
            go_on_name=landing_name(go_on),
        ),
        status=status,
    )


@bp.get("/account/password")
@staff_view(page=True)
def page() -> Response:
    return _form(changed=request.args.get("changed") == "1")


@bp.post("/account/password")
@staff_view(page=True)
def change() -> BaseResponse:
    staff = current()
    refused = do_change_password(
        staff.db, runtime().auth, staff.user, staff.staff_session.id,
        request.form.get("current_password", ""), request.form.get("new_password", ""),
        request.form.get("repeat_password", ""), staff.now,
    )  # fmt: skip
    if refused is not None:
        return _form(refused.message, 400)
    return redirect(url_for("password.page", changed="1", next=_next()))
