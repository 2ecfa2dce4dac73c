"""The lists advocates choose from, kept by supervisors: dispositions (to close a conversation)
and tags.

Nothing is ever deleted: a conversation keeps the code or tag it was given, so an entry that is
no longer wanted is retired (hidden from advocates, refused by the console) and may be restored.
A disposition's code is its stable key; only its label changes. Every change is an event with
who made it and the old and new value; the console reads the tables on every request, so a
change is in force at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import Conversation, ConversationTag, Disposition, StaffUser, Tag
from hotline.services import events
from hotline.services.errors import Conflict, InvalidInput, NotFound

MAX_CODE_CHARS = 48
MAX_LABEL_CHARS = 120
MAX_TAG_CHARS = 40


def _label(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("label must be text")
    label = " ".join(value.split())
    if not label:
        raise InvalidInput("label must not be empty")
    if len(label) > MAX_LABEL_CHARS:
        raise InvalidInput(f"label is at most {MAX_LABEL_CHARS} characters")
    if not label.isprintable():
        raise InvalidInput("label holds a character that cannot be shown")
    return label


def _code(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("code must be text")
    code = value.strip()
    if not (
        code
        and len(code) <= MAX_CODE_CHARS
        and code.isascii()
        and code[0].isalpha()
        and code.islower()
        and all(c.isalnum() or c == "_" for c in code)
    ):
        raise InvalidInput(
            f"code is 1 to {MAX_CODE_CHARS} lower-case letters, digits or _, starting with a "
            "letter (e.g. legal_referral)"
        )
    return code


def tag_name(value: Any) -> str:
    """A tag as stored: lower case, single spaces; :class:`InvalidInput` if it cannot be one."""
    if not isinstance(value, str):
        raise InvalidInput("name must be text")
    name = " ".join(value.strip().lower().split())
    if not name or len(name) > MAX_TAG_CHARS or not all(c.isalnum() or c in " -_" for c in name):
        raise InvalidInput(f"a tag is 1 to {MAX_TAG_CHARS} letters, digits, spaces, - or _")
    return name


def _active(payload: dict[str, Any]) -> bool | None:
    if "active" not in payload:
        return None
    if not isinstance(payload["active"], bool):
        raise InvalidInput("active must be true or false")
    return bool(payload["active"])


def _only(payload: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(unknown)}")


# -- dispositions ------------------------------------------------------------------------------


class DispositionEntry(TypedDict):
    code: str
    label: str
    active: bool
    uses: int  # conversations closed with it


def dispositions(session: Session) -> list[DispositionEntry]:
    """Every disposition, retired ones too, with how many conversations carry it."""
    uses: dict[str | None, int] = {
        code: count
        for code, count in session.execute(
            select(Conversation.disposition, func.count())
            .where(Conversation.disposition.is_not(None))
            .group_by(Conversation.disposition)
        )
    }
    rows = session.scalars(
        select(Disposition).order_by(Disposition.active.desc(), Disposition.label)
    )
    return [
        {"code": d.code, "label": d.label, "active": d.active, "uses": int(uses.get(d.code, 0))}
        for d in rows
    ]


def do_add_disposition(
    session: Session, user: StaffUser, payload: dict[str, Any], now: datetime
) -> str:
    """A new active disposition ``{code, label}``. A code in use (even retired) is refused."""
    _only(payload, {"code", "label"})
    code, label = _code(payload.get("code")), _label(payload.get("label"))
    if session.get(Disposition, code) is not None:
        raise Conflict(f"a disposition with code {code} exists already: change that one")
    session.add(Disposition(code=code, label=label, active=True))
    events.record(session, "disposition_added", now, actor_id=user.id, code=code, label=label)
    return code


def do_change_disposition(
    session: Session, user: StaffUser, code: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Relabel (``label``), retire or restore (``active``) one disposition. Audited.

    The last active disposition cannot be retired: advocates need one to close. Returns False
    when nothing changed.
    """
    _only(payload, {"label", "active"})
    label = _label(payload["label"]) if "label" in payload else None
    active = _active(payload)
    row = session.get(Disposition, code, with_for_update=True)
    if row is None:
        raise NotFound(f"no disposition with code {code[:MAX_CODE_CHARS]}")
    changes: dict[str, Any] = {}
    if label is not None and label != row.label:
        changes["label"] = {"old": row.label, "new": label}
        row.label = label
    if active is not None and active != row.active:
        if not active:
            others = session.scalar(
                select(func.count())
                .select_from(Disposition)
                .where(Disposition.active.is_(True), Disposition.code != code)
            )
            if not others:
                raise Conflict(
                    "this is the last active disposition: advocates need one to close. "
                    "Add another first."
                )
        changes["active"] = {"old": row.active, "new": active}
        row.active = active
    if not changes:
        return False
    events.record(session, "disposition_changed", now, actor_id=user.id, code=code, **changes)
    return True


# -- tags --------------------------------------------------------------------------------------


class TagEntry(TypedDict):
    name: str
    active: bool
    uses: int  # conversations carrying it


def tags(session: Session, *, active_only: bool = False) -> list[TagEntry]:
    """The tag list (active first, then by name), with how many conversations carry each."""
    uses = {
        tag: count
        for tag, count in session.execute(
            select(ConversationTag.tag, func.count()).group_by(ConversationTag.tag)
        )
    }
    statement = select(Tag).order_by(Tag.active.desc(), Tag.name)
    if active_only:
        statement = statement.where(Tag.active.is_(True))
    return [
        {"name": t.name, "active": t.active, "uses": int(uses.get(t.name, 0))}
        for t in session.scalars(statement)
    ]


def do_add_tag(session: Session, user: StaffUser, payload: dict[str, Any], now: datetime) -> str:
    """A new active tag ``{name}``. A name on the list already (even retired) is refused."""
    _only(payload, {"name"})
    name = tag_name(payload.get("name"))
    found = session.get(Tag, name)
    if found is not None:
        state = "" if found.active else " (retired: restore it instead)"
        raise Conflict(f"the tag \u201c{name}\u201d is on the list already{state}")
    session.add(Tag(name=name, active=True, created_at=now))
    events.record(session, "tag_added", now, actor_id=user.id, tag=name)
    return name


def do_change_tag(
    session: Session, user: StaffUser, name: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Retire or restore (``active``) one tag. Tags already on conversations stay there."""
    _only(payload, {"active"})
    active = _active(payload)
    if active is None:
        raise InvalidInput("active is required (true to restore, false to retire)")
    row = session.get(Tag, name, with_for_update=True)
    if row is None:
        raise NotFound(f"no tag named \u201c{name[:MAX_TAG_CHARS]}\u201d")
    if row.active == active:
        return False
    row.active = active
    events.record(
        session, "tag_changed", now, actor_id=user.id, tag=name,
        active={"old": not active, "new": active},
    )  # fmt: skip
    return True
