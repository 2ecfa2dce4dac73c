"""The case record's lists that admins and supervisors extend (``case_options``, issue 20):
kinds, types, venues, recruitment and means of control.

As for dispositions (:mod:`hotline.services.vocabulary`), an entry's code is its stable key:
earlier records and the reports keep it, so it is never renamed or deleted. Only its label
changes; an entry no longer wanted is retired (no longer offered, refused when newly chosen,
kept on the records that hold it) and may be restored. "unknown" is every list's, never an
entry. Every change is an event with who made it and the old and new values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import CaseOption, CaseRecord, CaseRecordCode, StaffUser
from hotline.domain.case_lists import MULTIPLE, UNKNOWN, CaseList
from hotline.services import events
from hotline.services.errors import Conflict, InvalidInput, NotFound
from hotline.services.vocabulary import MAX_CODE_CHARS, _active, _code, _label, _only


class CaseOptionEntry(TypedDict):
    list: str
    code: str
    label: str
    active: bool
    position: int
    uses: int  # case records that hold it


def _list(value: Any) -> CaseList:
    if not isinstance(value, str) or value not in {case_list.value for case_list in CaseList}:
        raise InvalidInput(f"list is one of {', '.join(case_list.value for case_list in CaseList)}")
    return CaseList(value)


def _uses(session: Session) -> dict[tuple[str, str], int]:
    uses: dict[tuple[str, str], int] = {
        (name, code): int(count)
        for name, code, count in session.execute(
            select(CaseRecordCode.list, CaseRecordCode.code, func.count()).group_by(
                CaseRecordCode.list, CaseRecordCode.code
            )
        )
    }
    for code, count in session.execute(
        select(CaseRecord.kind, func.count())
        .where(CaseRecord.kind.is_not(None))
        .group_by(CaseRecord.kind)
    ):
        if code is not None:
            uses[(CaseList.KIND.value, code)] = int(count)
    return uses


def entries(session: Session) -> list[CaseOptionEntry]:
    """Every entry of every list, in the lists' order and each list's, retired ones too, with
    how many case records hold each."""
    uses = _uses(session)
    order = {case_list.value: i for i, case_list in enumerate(CaseList)}
    rows = sorted(
        session.scalars(select(CaseOption)),
        key=lambda o: (order.get(o.list, len(order)), o.position, o.code),
    )
    return [
        {
            "list": o.list, "code": o.code, "label": o.label, "active": o.active,
            "position": o.position, "uses": uses.get((o.list, o.code), 0),
        }
        for o in rows
    ]  # fmt: skip


def held_anywhere(session: Session, case_list: CaseList, code: str) -> bool:
    """Whether any case record holds ``code`` of ``case_list``."""
    if case_list in MULTIPLE:
        query = select(CaseRecordCode.conversation_id).where(
            CaseRecordCode.list == case_list.value, CaseRecordCode.code == code
        )
    else:
        query = select(CaseRecord.conversation_id).where(CaseRecord.kind == code)
    return session.scalar(query.limit(1)) is not None


def do_add(
    session: Session, user: StaffUser, payload: dict[str, Any], now: datetime
) -> tuple[str, str]:
    """A new active entry ``{list, code, label}`` at the end of its list: its (list, code).

    A code on the list already (even retired) is refused: restore or relabel that one. So is
    "unknown", which every list offers already.
    """
    _only(payload, {"list", "code", "label"})
    case_list = _list(payload.get("list"))
    code, label = _code(payload.get("code")), _label(payload.get("label"))
    if code == UNKNOWN:
        raise InvalidInput("unknown is offered in every list already: choose another code")
    found = session.get(CaseOption, (case_list.value, code))
    if found is not None or held_anywhere(session, case_list, code):
        state = "" if found is None or found.active else " (retired: restore it instead)"
        raise Conflict(f"the {case_list.value} list has the code {code} already{state}")
    last = session.scalar(
        select(func.max(CaseOption.position)).where(CaseOption.list == case_list.value)
    )
    position = 0 if last is None else int(last) + 1
    session.add(
        CaseOption(list=case_list.value, code=code, label=label, active=True, position=position)
    )
    events.record(
        session, "case_option_added", now, actor_id=user.id,
        list=case_list.value, code=code, label=label,
    )  # fmt: skip
    return case_list.value, code


def do_change(
    session: Session,
    user: StaffUser,
    name: str,
    code: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Relabel (``label``), retire or restore (``active``) one entry; its code never changes.
    Audited with the old and new values. Returns False when nothing changed."""
    _only(payload, {"label", "active"})
    if not payload:
        raise InvalidInput('send {"label": ...} or {"active": true or false}')
    label = _label(payload["label"]) if "label" in payload else None
    active = _active(payload)
    row = session.get(CaseOption, (name[:24], code[:MAX_CODE_CHARS]), with_for_update=True)
    if row is None:
        raise NotFound(f"no {name[:24]} entry with code {code[:MAX_CODE_CHARS]}")
    changes: dict[str, Any] = {}
    if label is not None and label != row.label:
        changes["label"] = {"old": row.label, "new": label}
        row.label = label
    if active is not None and active != row.active:
        changes["active"] = {"old": row.active, "new": active}
        row.active = active
    if not changes:
        return False
    events.record(
        session, "case_option_changed", now, actor_id=user.id, list=row.list, code=row.code,
        **changes,
    )  # fmt: skip
    return True
