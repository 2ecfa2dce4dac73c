"""Staff display names (:mod:`hotline.services.staff_names`): an administrator's **Rename** on
the administration page, and ``/account``, where every staff member sets their own name.

The API answers like the other account changes (CSRF token, ``{"error": ...}`` on a refusal,
nothing changed); the page is a plain form that posts the session's CSRF token.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from hotline.services.accounts import AccountError
from hotline.services.staff_names import MAX_NAME_CHARS, do_name_myself, do_rename
from hotline.web.answers import answers
from hotline.web.console import body
from hotline.web.staff import SUPERVISORS, current, staff_view

bp = Blueprint("staff_names", __name__)


class Renamed(TypedDict):
    ok: Literal[True]
    name: str  # how the account is shown now (its email's local part when the name was cleared)
    display_name: str | None


@bp.post("/supervisor/api/staff-accounts/<int:account_id>/name")
@staff_view(SUPERVISORS)
@answers(Renamed)
def rename(account_id: int) -> Renamed:
    """``{"name": "Maria Lopez"}``; an empty name clears it."""
    staff = current()
    payload = body()
    unknown = set(payload) - {"name"}
    if unknown:
        raise AccountError(f"unknown fields: {', '.join(sorted(unknown))}")
    if "name" not in payload:
        raise AccountError("name is required (empty to clear it)")
    account = do_rename(staff.db, staff.user, account_id, payload["name"], staff.now)
    return {"ok": True, "name": account.name, "display_name": account.display_name}


def _page(error: str | None = None, status: int = 200, saved: bool = False) -> Response:
    staff = current()
    return Response(
        render_template(
            "account.html",
            user=staff.user,
            csrf_token=staff.staff_session.csrf_token,
            error=error,
            saved=saved,
            max_chars=MAX_NAME_CHARS,
        ),
        status=status,
    )


@bp.get("/account")
@staff_view(page=True)
def account_page() -> Response:
    return _page(saved=request.args.get("saved") == "1")


@bp.post("/account/name")
@staff_view(page=True)
def name_myself() -> BaseResponse:
    staff = current()
    try:
        do_name_myself(staff.db, staff.user, request.form.get("name", ""), staff.now)
    except AccountError as refused:  # raised before anything changed
        return _page(str(refused), 400)
    return redirect(url_for("staff_names.account_page", saved="1"))
