"""The supervisor's side: the board, logs, export, metrics, the audit trail, stepping in.

Supervisors and admins only, for every page and API (advocates get 403). A conversation's
timeline comes from the console API, which lets supervisors read any conversation and records
each read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, TypedDict

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select

from hotline.db.models import Availability, StaffRole, StaffUser
from hotline.services import directory, presence
from hotline.services.alerts import Alerts, OpenAlerts, do_acknowledge
from hotline.services.audit_trail import AuditPage, audit_page
from hotline.services.board import Board, live_board
from hotline.services.conversation_log import LogFilter, LogPage, do_export, log_page
from hotline.services.directory import QuickReplyEntry, ReferralEntry
from hotline.services.errors import InvalidInput
from hotline.services.metrics import Metrics, metrics_for
from hotline.services.overdue import Thresholds
from hotline.services.supervision import Supervision
from hotline.web import runtime
from hotline.web.answers import Done, Items, answers
from hotline.web.console import body, console, text_field
from hotline.web.staff import SUPERVISORS, current, staff_view

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


class Acknowledged(TypedDict):
    ok: Literal[True]
    alert_id: int


class StaffMember(TypedDict):
    id: int
    email: str
    name: str  # how staff are shown (StaffUser.name)
    role: StaffRole
    active: bool
    availability: Availability
    connected: bool  # their console polled within the grace period


class Saved(TypedDict):
    id: int  # of the quick reply or referral saved


def supervision() -> Supervision:
    return Supervision(console())


def _date(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-11-23") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
        raise InvalidInput(f"{name} must be a whole number")
    return int(raw)


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if raw not in allowed:
        raise InvalidInput(f"{name} must be one of: {', '.join(allowed)}")
    return raw


def filters() -> LogFilter:
    returning = _choice("returning", ("yes", "no"))
    score = _int("survey_score")
    if score is not None and not 1 <= score <= 5:
        raise InvalidInput("survey_score must be 1 to 5")
    return LogFilter(
        opened_from=_date("opened_from"),
        opened_to=_date("opened_to"),
        status=_choice("status", ("open", "closed")),
        priority=_choice("priority", ("urgent", "high", "normal")),
        advocate_id=_int("advocate_id"),
        disposition=request.args.get("disposition", "").strip()[:48] or None,
        tag=request.args.get("tag", "").strip().lower()[:40] or None,
        language=_choice("language", ("en", "es")),
        returning=None if returning is None else returning == "yes",
        survey_score=score,
    )


@bp.get("")
@staff_view(SUPERVISORS, page=True)
def page() -> Response:
    staff = current()
    return Response(
        render_template(
            "supervisor.html", user=staff.user, csrf_token=staff.staff_session.csrf_token
        )
    )


@bp.get("/api/board")
@staff_view(SUPERVISORS)
@answers(Board)
def board() -> Board:
    staff = current()
    settings = runtime().tuned(staff.db).settings
    thresholds = Thresholds.minutes(
        settings.urgent_wait_alert_minutes, settings.unanswered_alert_minutes
    )
    return live_board(staff.db, console(), staff.now, thresholds)


@bp.get("/api/alerts")
@staff_view(SUPERVISORS)
@answers(OpenAlerts)
def alerts() -> OpenAlerts:
    """Open alerts, newest first; reading an opted-out texter's words is audited."""
    staff = current()
    return Alerts(console().vault).open_alerts(staff.db, staff.user, staff.now)


@bp.post("/api/alerts/<int:alert_id>/acknowledge")
@staff_view(SUPERVISORS)
@answers(Acknowledged)
def acknowledge_alert(alert_id: int) -> Acknowledged:
    staff = current()
    do_acknowledge(staff.db, staff.user, alert_id, staff.now)
    return {"ok": True, "alert_id": alert_id}


@bp.get("/api/logs")
@staff_view(SUPERVISORS)
@answers(LogPage)
def logs() -> LogPage:
    staff = current()
    return log_page(staff.db, filters(), before_id=_int("before_id"))


@bp.route("/api/export", methods=["GET", "POST"])
@staff_view(SUPERVISORS)
def export() -> Response:
    """The filtered conversations as a file. With ``include_text=1`` the texters' words are in
    it, so a reason is required, sent as ``{"reason": ...}`` in a POST (never in the URL); a
    GET, or a POST without one, is refused with 400 and exports nothing."""
    staff = current()
    fmt = _choice("format", ("csv", "json")) or "csv"
    include_text = request.args.get("include_text", "") in ("1", "yes", "true")
    reason = text_field(body(), "reason", required=False) if request.method == "POST" else ""
    content = do_export(
        staff.db, console().vault, staff.user, filters(), fmt=fmt, include_text=include_text,
        now=staff.now, reason=reason,
    )  # fmt: skip
    stamp = staff.now.strftime("%Y%m%d-%H%M")
    return Response(
        content,
        content_type="text/csv; charset=utf-8" if fmt == "csv" else "application/json",
        headers={"Content-Disposition": f'attachment; filename="conversations-{stamp}.{fmt}"'},
    )


@bp.get("/api/metrics")
@staff_view(SUPERVISORS)
@answers(Metrics)
def metrics() -> Metrics:
    staff = current()
    return metrics_for(staff.db, filters())


@bp.get("/api/audit")
@staff_view(SUPERVISORS)
@answers(AuditPage)
def audit() -> AuditPage:
    staff = current()
    return audit_page(
        staff.db,
        console().vault,
        kind=request.args.get("kind", "").strip()[:48] or None,
        actor_id=_int("actor_id"),
        conversation_id=_int("conversation_id"),
        since=_date("since"),
        until=_date("until"),
        before_id=_int("before_id"),
    )


@bp.get("/api/staff")
@staff_view(SUPERVISORS)
@answers(Items[StaffMember])
def staff_list() -> Items[StaffMember]:
    staff = current()
    rows = staff.db.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    grace = console().presence_grace
    items: list[StaffMember] = [
        {
            "id": u.id,
            "email": u.email,
            "name": u.name,
            "role": u.role,
            "active": u.active,
            "availability": u.availability,
            "connected": presence.connected(u, staff.now, grace),
        }
        for u in rows
    ]
    return {"items": items}


@bp.post("/api/conversations/<int:conversation_id>/note")
@staff_view(SUPERVISORS)
@answers(Done)
def note(conversation_id: int) -> Done:
    staff = current()
    supervision().note_to_advocate(
        staff.db, staff.user, conversation_id, text_field(body(), "body"), staff.now
    )
    return {"ok": True}


@bp.post("/api/conversations/<int:conversation_id>/reassign")
@staff_view(SUPERVISORS)
@answers(Done)
def reassign(conversation_id: int) -> Done:
    staff = current()
    target = body().get("to_staff_id")
    if not isinstance(target, int) or isinstance(target, bool):
        raise InvalidInput("to_staff_id must be a staff member's id")
    supervision().reassign(staff.db, staff.user, conversation_id, target, staff.now)
    return {"ok": True}


@bp.post("/api/conversations/<int:conversation_id>/take-over")
@staff_view(SUPERVISORS)
@answers(Done)
def take_over(conversation_id: int) -> Done:
    staff = current()
    supervision().reassign(
        staff.db, staff.user, conversation_id, staff.user.id, staff.now, take_over=True
    )
    return {"ok": True}


@bp.get("/api/quick-replies")
@staff_view(SUPERVISORS)
@answers(Items[QuickReplyEntry])
def quick_replies() -> Items[QuickReplyEntry]:
    return {"items": directory.quick_replies(current().db)}


@bp.post("/api/quick-replies")
@staff_view(SUPERVISORS)
@answers(Saved)
def add_quick_reply() -> Saved:
    staff = current()
    return {"id": directory.do_save_quick_reply(staff.db, staff.user, body(), staff.now)}


@bp.post("/api/quick-replies/<int:quick_reply_id>")
@staff_view(SUPERVISORS)
@answers(Saved)
def change_quick_reply(quick_reply_id: int) -> Saved:
    staff = current()
    saved = directory.do_save_quick_reply(staff.db, staff.user, body(), staff.now, quick_reply_id)
    return {"id": saved}


@bp.get("/api/referrals")
@staff_view(SUPERVISORS)
@answers(Items[ReferralEntry])
def referrals() -> Items[ReferralEntry]:
    return {"items": directory.referrals(current().db)}


@bp.post("/api/referrals")
@staff_view(SUPERVISORS)
@answers(Saved)
def add_referral() -> Saved:
    staff = current()
    return {"id": directory.do_save_referral(staff.db, staff.user, body(), staff.now)}


@bp.post("/api/referrals/<int:referral_id>")
@staff_view(SUPERVISORS)
@answers(Saved)
def change_referral(referral_id: int) -> Saved:
    staff = current()
    return {"id": directory.do_save_referral(staff.db, staff.user, body(), staff.now, referral_id)}
