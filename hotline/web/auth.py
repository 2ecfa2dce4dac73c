"""Sign-in pages: password, then the two-factor code when it is on; sign-out; two-factor setup."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hotline.domain import totp
from hotline.services.auth import (
    AuthError,
    Refused,
    do_confirm_totp,
    do_sign_in,
    do_start_totp,
    do_verify_totp,
)
from hotline.services.console import InvalidInput
from hotline.services.leave import do_leave
from hotline.web import runtime
from hotline.web.console import console
from hotline.web.security import served_over_https
from hotline.web.staff import COOKIE, clear_session_cookie, current, set_session_cookie, staff_view

bp = Blueprint("auth", __name__)
LOGIN_CSRF_COOKIE = "hotline_login_csrf"


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("console.page")


def _login_form(
    error: str | None = None, status: int = 200, template: str = "login.html"
) -> Response:
    token = secrets.token_urlsafe(24)
    response = Response(
        render_template(template, error=error, csrf_token=token, next=request.args.get("next", "")),
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=served_over_https(),
        samesite="Strict",
        path="/",
    )
    return response


def _login_csrf_ok() -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    form = request.form.get("csrf_token", "")
    return bool(cookie) and hmac.compare_digest(cookie, form)


@bp.get("/login")
def sign_in() -> Response:
    return _login_form()


@bp.post("/login")
def sign_in_submit() -> BaseResponse:
    if not _login_csrf_ok():
        return _login_form("the form expired: please try again", 400)
    rt = runtime()
    email = request.form.get("email", "")[:254]
    password = request.form.get("password", "")[:1024]
    with rt.sessions.begin() as db:
        signed_in = do_sign_in(db, rt.auth, email, password, rt.clock.now())
    if isinstance(signed_in, Refused):
        return _login_form(signed_in.message, 401)
    target = (
        url_for("auth.code") if signed_in.awaiting_totp else _safe_next(request.form.get("next"))
    )
    response = redirect(target)
    set_session_cookie(response, signed_in.token)
    return response


@bp.get("/login/code")
def code() -> Response:
    return _login_form(template="code.html")


@bp.post("/login/code")
def code_submit() -> BaseResponse:
    if not _login_csrf_ok():
        return _login_form("the form expired: please try again", 400, "code.html")
    rt = runtime()
    with rt.sessions.begin() as db:
        signed_in = do_verify_totp(
            db, rt.auth, rt.vault, request.cookies.get(COOKIE, ""),
            request.form.get("code", "")[:12], rt.clock.now(),
        )  # fmt: skip
    if isinstance(signed_in, Refused):
        return _login_form(signed_in.message, 401, "code.html")
    response = redirect(url_for("console.page"))
    set_session_cookie(response, signed_in.token)
    return response


@bp.post("/logout")
@staff_view(page=True)
def sign_out() -> BaseResponse:
    """The sign-out form of every staff page: held conversations are handed on first (see
    :func:`do_leave`); the console's dialog asks where, other pages hand them back."""
    staff = current()
    raw_target = request.form.get("to_advocate_id", "").strip()
    if raw_target and not raw_target.isdigit():
        raise InvalidInput("to_advocate_id must be an advocate's id")
    left = do_leave(
        staff.db, console(), staff.user, request.cookies.get(COOKIE, ""), staff.now,
        choice=request.form.get("conversations") or None,
        to_advocate_id=int(raw_target) if raw_target else None,
    )  # fmt: skip
    staff.outcomes.append(left.outcome)
    response = redirect(url_for("auth.sign_in"))
    clear_session_cookie(response)
    return response


@bp.get("/account/two-factor")
@staff_view(page=True)
def two_factor_setup() -> Response:
    staff = current()
    rt = runtime()
    secret = do_start_totp(staff.db, rt.vault, staff.user, staff.now)
    uri = totp.provisioning_uri(secret, staff.user.email, "Hotline")
    return Response(render_template(
        "two_factor.html", secret=secret, uri=uri, error=None,
        csrf_token=staff.staff_session.csrf_token,
    ))  # fmt: skip


@bp.post("/account/two-factor")
@staff_view(page=True)
def two_factor_confirm() -> BaseResponse:
    staff = current()
    rt = runtime()
    try:
        do_confirm_totp(
            staff.db, rt.vault, staff.user, request.form.get("code", "")[:12], staff.now
        )
    except AuthError as error:
        return Response(render_template(
            "two_factor.html", secret=None, uri=None, error=str(error),
            csrf_token=staff.staff_session.csrf_token,
        ), status=400)  # fmt: skip
    return redirect(url_for("console.page"))
