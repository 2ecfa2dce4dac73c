"""Warm transfers at the console: the offers to and from the caller, accepting, declining and
withdrawing (offering is the console's transfer route with a named advocate)."""

from __future__ import annotations

from flask import Blueprint

from hotline.services.transfers import TransferOffers
from hotline.web.answers import Done, answers
from hotline.web.console import Taken, transfers
from hotline.web.staff import current, staff_view

bp = Blueprint("transfers", __name__, url_prefix="/console/api")


@bp.get("/transfer-offers")
@staff_view(background=True)
@answers(TransferOffers)
def offers() -> TransferOffers:
    """Offers to the caller (with the handover note), theirs still waiting, and theirs that
    came back lately (declined or not accepted in time)."""
    staff = current()
    return transfers().offers(staff.db, staff.user, staff.now)


@bp.post("/conversations/<int:conversation_id>/transfer/accept")
@staff_view()
@answers(Taken)
def accept(conversation_id: int) -> Taken:
    staff = current()
    transfers().accept(staff.db, staff.user, conversation_id, staff.now)
    return {"conversation_id": conversation_id}


@bp.post("/conversations/<int:conversation_id>/transfer/decline")
@staff_view()
@answers(Done)
def decline(conversation_id: int) -> Done:
    staff = current()
    transfers().decline(staff.db, staff.user, conversation_id, staff.now)
    return {"ok": True}


@bp.post("/conversations/<int:conversation_id>/transfer/withdraw")
@staff_view()
@answers(Done)
def withdraw(conversation_id: int) -> Done:
    staff = current()
    transfers().withdraw(staff.db, staff.user, conversation_id, staff.now)
    return {"ok": True}
