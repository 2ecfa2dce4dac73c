"""Asking a supervisor: the console's button, and the supervisor's answer from the board."""

from __future__ import annotations

from typing import TypedDict

from flask import Blueprint

from hotline.services.asking import Asking
from hotline.services.supervision import Supervision
from hotline.web.answers import answers
from hotline.web.console import body, console, text_field
from hotline.web.staff import SUPERVISORS, current, staff_view

bp = Blueprint("asking", __name__)


class Asked(TypedDict):
    alert_id: int  # the alert the supervisors see on their board


class HelpAnswered(TypedDict):
    alert_id: int
    conversation_id: int  # where the answer was added as a note


def asking() -> Asking:
    return Asking(Supervision(console()))


@bp.post("/console/api/conversations/<int:conversation_id>/ask-supervisor")
@staff_view()
@answers(Asked)
def ask(conversation_id: int) -> Asked:
    """Alert the supervisors about this conversation, with a short reason (``reason``)."""
    staff = current()
    reason = text_field(body(), "reason")
    alert_id = asking().ask(staff.db, staff.user, conversation_id, reason, staff.now)
    return {"alert_id": alert_id}


@bp.post("/supervisor/api/alerts/<int:alert_id>/answer")
@staff_view(SUPERVISORS)
@answers(HelpAnswered)
def answer(alert_id: int) -> HelpAnswered:
    """Answer an advocate's request for help: a note in the conversation (``answer``), and the
    alert acknowledged."""
    staff = current()
    text = text_field(body(), "answer")
    conversation_id = asking().answer(staff.db, staff.user, alert_id, text, staff.now)
    return {"alert_id": alert_id, "conversation_id": conversation_id}
