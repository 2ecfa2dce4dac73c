"""Sign-in pages: password, then the two-factor code when it is on; sign-out; two-factor setup."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hotline.domain import totp
from hotline.services.auth import Refused, do_sign_in, do_verify_totp
from hotline.services.errors import InvalidInput
from hotline.services.leave import do_leave
from hotline.services.second_factor import recovery_codes_left
from hotline.services.two_factor import (
    do_confirm_totp,
    do_new_recovery_codes,
    do_start_totp,
    pending_secret,
)
from hotline.web import runtime
from hotline.web.console import console
from hotline.web.login_csrf import login_token_ok, new_login_token
from hotline.web.security import served_over_https
from hotline.web.staff import COOKIE, clear_session_cookie, current, set_session_cookie, staff_view

bp = Blueprint("auth", __name__)
LOGIN_CSRF_COOKIE = "hotline_login_csrf"
ISSUER = "Hotline"  # the name authenticator apps show next to the code


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
    cookie, token = new_login_token(runtime().settings.secret_key)
    response = Response(
        render_template(template, error=error, csrf_token=token, next=request.args.get("next", "")),
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        cookie,
        httponly=True,
        secure=served_over_https(),
        samesite="Strict",
        path="/",
    )
    return response


def _login_csrf_ok() -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    form = request.form.get("csrf_token", "")
    return login_token_ok(runtime().settings.secret_key, cookie, form)


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
            request.form.get("code", "")[:32], rt.clock.now(),
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
    do_leave(
        staff.db, console(), staff.user, request.cookies.get(COOKIE, ""), staff.now,
        choice=request.form.get("conversations") or None,
        to_advocate_id=int(raw_target) if raw_target else None,
    )  # fmt: skip
    response = redirect(url_for("auth.sign_in"))
    clear_session_cookie(response)
    return response


# -- two-factor setup (hotline.services.two_factor): GET only shows; every change is a POST --------


def _two_factor_page(error: str | None = None, status: int = 200) -> Response:
    """The setup page: the pending key with its QR code when setup is under way, else where the
    account stands and the buttons to start (or replace) and to renew recovery codes."""
    staff = current()
    rt = runtime()
    secret = pending_secret(rt.vault, staff.user)
    uri = totp.provisioning_uri(secret, staff.user.email, ISSUER) if secret else None
    return Response(render_template(
        "two_factor.html", error=error, csrf_token=staff.staff_session.csrf_token,
        enabled=staff.user.totp_enabled, secret=totp.grouped(secret) if secret else None,
        uri=uri, qr=_qr_data_uri(uri) if uri else None,
        recovery_codes_left=recovery_codes_left(staff.db, staff.user),
    ), status=status)  # fmt: skip


def _qr_data_uri(uri: str) -> str:
    """The otpauth URI as a QR code, an SVG ``data:`` URI for an ``<img>``: rendered here, so
    the page needs no script and the CSP (``img-src 'self' data:``) holds."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=4, border=4, omitsize=True))


def _recovery_codes_page(codes: list[str], replaced: bool | None) -> Response:
    return Response(render_template(
        "recovery_codes.html", codes=codes, replaced=replaced,
        csrf_token=current().staff_session.csrf_token,
    ))  # fmt: skip


@bp.get("/account/two-factor")
@staff_view(page=True)
def two_factor_setup() -> Response:
    return _two_factor_page()


@bp.post("/account/two-factor/start")
@staff_view(page=True)
def two_factor_start() -> BaseResponse:
    staff = current()
    do_start_totp(staff.db, runtime().vault, staff.user, staff.now)
    return redirect(url_for("auth.two_factor_setup"), 303)


@bp.post("/account/two-factor")
@staff_view(page=True)
def two_factor_confirm() -> Response:
    staff = current()
    rt = runtime()
    enabled = do_confirm_totp(
        staff.db, rt.auth, rt.vault, staff.user, request.form.get("code", "")[:12], staff.now,
        current=request.form.get("current", "")[:1024],
        keep_session_id=staff.staff_session.id,
    )  # fmt: skip
    if isinstance(enabled, Refused):
        return _two_factor_page(enabled.message, 400)
    return _recovery_codes_page(enabled.recovery_codes, enabled.replaced)


@bp.post("/account/two-factor/recovery-codes")
@staff_view(page=True)
def two_factor_recovery_codes() -> Response:
    staff = current()
    rt = runtime()
    codes = do_new_recovery_codes(
        staff.db, rt.auth, rt.vault, staff.user, request.form.get("current", "")[:1024], staff.now
    )
    if isinstance(codes, Refused):
        return _two_factor_page(codes.message, 400)
    return _recovery_codes_page(codes, None)
