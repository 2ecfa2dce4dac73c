"""The case record's JSON API (issue 20): the lists a record chooses from, one conversation's
record with its suggestions (read and replace), and the lists admins and supervisors extend.

The console's routes follow the console's rules (:mod:`hotline.services.case_record` says who
may); the lists' routes are the settings page's, supervisors and admins only. CSRF on every
change, as everywhere.
"""

from __future__ import annotations

from typing import TypedDict

from flask import Blueprint

from hotline.services import case_options, case_record
from hotline.services.case_options import CaseOptionEntry
from hotline.services.case_record import CaseLists, CaseRecordView
from hotline.services.errors import InvalidInput
from hotline.web.answers import Items, answers
from hotline.web.console import body, console
from hotline.web.staff import SUPERVISORS, current, staff_view

bp = Blueprint("case_record", __name__)


class CaseOptionSaved(TypedDict):
    list: str
    code: str  # the entry added or changed
    items: list[CaseOptionEntry]


@bp.get("/console/api/case-lists")
@staff_view()
@answers(CaseLists)
def case_lists() -> CaseLists:
    return case_record.case_lists(current().db)


@bp.get("/console/api/conversations/<int:conversation_id>/case-record")
@staff_view()
@answers(CaseRecordView)
def read(conversation_id: int) -> CaseRecordView:
    staff = current()
    return case_record.read(staff.db, console().vault, staff.user, conversation_id)


@bp.put("/console/api/conversations/<int:conversation_id>/case-record")
@staff_view()
@answers(CaseRecordView)
def save(conversation_id: int) -> CaseRecordView:
    """``{"record": {...}}``: the whole record, replaced (a missing key is "not recorded")."""
    staff = current()
    payload = body()
    if set(payload) != {"record"}:
        raise InvalidInput('send {"record": {...}}')
    return case_record.do_save(
        staff.db, console().vault, staff.user, conversation_id, payload["record"], staff.now
    )


@bp.get("/supervisor/api/case-options")
@staff_view(SUPERVISORS)
@answers(Items[CaseOptionEntry])
def options() -> Items[CaseOptionEntry]:
    """Every entry of every list, retired ones too, with how many records hold each."""
    return {"items": case_options.entries(current().db)}


@bp.post("/supervisor/api/case-options")
@staff_view(SUPERVISORS)
@answers(CaseOptionSaved)
def add_option() -> CaseOptionSaved:
    """``{"list", "code", "label"}``: a new active entry at the end of its list."""
    staff = current()
    name, code = case_options.do_add(staff.db, staff.user, body(), staff.now)
    staff.db.flush()
    return {"list": name, "code": code, "items": case_options.entries(staff.db)}


@bp.patch("/supervisor/api/case-options/<name>/<code>")
@staff_view(SUPERVISORS)
@answers(CaseOptionSaved)
def change_option(name: str, code: str) -> CaseOptionSaved:
    """``{"label": ...}`` relabels, ``{"active": false}`` retires, ``{"active": true}``
    restores; a code never changes."""
    staff = current()
    case_options.do_change(staff.db, staff.user, name, code, body(), staff.now)
    staff.db.flush()
    return {"list": name, "code": code, "items": case_options.entries(staff.db)}
