"""The console's "who needs me now": marking a conversation read, and what an advocate may still
do with one taken from them (record how it went, dismiss it). The list itself comes with the
queue (``GET /console/api/queue``: ``mine`` and ``lost``)."""

from __future__ import annotations

from flask import Blueprint

from hotline.services import attention
from hotline.services.errors import InvalidInput
from hotline.web.answers import Done, answers
from hotline.web.console import body, console, text_field
from hotline.web.staff import current, staff_view

bp = Blueprint("attention", __name__, url_prefix="/console")


@bp.post("/api/conversations/<int:conversation_id>/read")
@staff_view()
@answers(Done)
def read(conversation_id: int) -> Done:
    """``{"through": message_id}`` (optional): the newest texter text the page showed."""
    staff = current()
    through = body().get("through")
    if through is not None and (isinstance(through, bool) or not isinstance(through, int)):
        raise InvalidInput("through must be a message id")
    attention.do_mark_read(staff.db, console(), staff.user, conversation_id, through, staff.now)
    return {"ok": True}


@bp.post("/api/conversations/<int:conversation_id>/wrap-up")
@staff_view()
@answers(Done)
def wrap_up(conversation_id: int) -> Done:
    """``{"disposition": code, "note": text}`` (either may be empty, not both)."""
    staff = current()
    payload = body()
    attention.do_wrap_up(
        staff.db, console(), staff.user, conversation_id,
        text_field(payload, "disposition", required=False),
        text_field(payload, "note", required=False), staff.now,
    )  # fmt: skip
    return {"ok": True}


@bp.post("/api/conversations/<int:conversation_id>/dismiss")
@staff_view()
@answers(Done)
def dismiss(conversation_id: int) -> Done:
    staff = current()
    attention.do_dismiss(staff.db, staff.user, conversation_id, staff.now)
    return {"ok": True}
