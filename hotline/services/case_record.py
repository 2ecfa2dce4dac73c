"""The case record (issue 20): what an advocate records of a conversation's situation, in codes
from fixed lists, for the hotline's reports; and what the triage already suggests for it.

Every field is optional and says "not recorded" until set (``None``, or an empty list); any may
say "unknown". The record holds codes only: no free text, nothing that identifies anyone. The
lists are :mod:`hotline.domain.case_lists`' (five kept in ``case_options``, which admins extend
through :mod:`hotline.services.case_options`); a retired entry stays on the records that hold it
(shown by its label) and is refused when newly chosen.

Who may read and save a record: the advocate holding the conversation, anyone who handled it
(``conversation_handlers``) once it is closed, and supervisors and admins; nobody once the
texter was erased (the erasure deleted the record with everything else). Anyone else is told
there is no such conversation, as everywhere in the console.

Saving replaces the whole record under the texter's lock, the lock an erasure holds: a save
either lands before an erasure, which then deletes it, or sees the erasure and is refused. It is
audited as ``case_record_saved``, a conversation event whose details (the codes that changed,
never anything else) are erased with the conversation. Suggestions (risk reasons, the minor
flag, the state the texter named) are never saved by themselves: the advocate confirms them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NotRequired, TypedDict, cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hotline.catalogue.case_suggestions import table as suggestion_table
from hotline.db.models import (
    CaseOption,
    CaseRecord,
    CaseRecordCode,
    CaseRecordReferral,
    Conversation,
    ConversationHandler,
    ConversationStatus,
    Referral,
    StaffRole,
    StaffUser,
    Texter,
)
from hotline.db.session import lock_conversation
from hotline.domain.case_lists import (
    AGE_LABELS,
    ANSWER_LABELS,
    MULTIPLE,
    STATES,
    UNKNOWN,
    UNKNOWN_LABEL,
    AgeGroup,
    Answer,
    CaseList,
)
from hotline.domain.case_suggestions import key, suggest
from hotline.domain.places import state_of
from hotline.domain.triage import State
from hotline.infra.vault import Vault
from hotline.services import events
from hotline.services.answers import IsoTime, iso_time_or_none
from hotline.services.errors import Conflict, InvalidInput, NotFound

# Why the fields that no risk reason suggests were suggested (``because``).
MINOR_REASON = "the texter may be a minor"
LOCATION_REASON = "where the texter said they are"
MULTI_FIELDS = tuple(CaseList(name) for name in ("type", "venue", "recruitment", "control"))
ANSWER_FIELDS = ("police_wanted", "police_report")
FIELDS = ("kind", *MULTI_FIELDS, "age_group", "state", *ANSWER_FIELDS, "referrals")
_SHOWN_CHARS = 48  # of a code or key a staff member sent, repeated in an error


# -- what the console reads ----------------------------------------------------------------------


class Choice(TypedDict):
    code: str
    label: str


class ReferralChoice(TypedDict):
    id: int
    name: str


class ListsOfChoices(TypedDict):
    kind: list[Choice]
    type: list[Choice]
    venue: list[Choice]
    recruitment: list[Choice]
    control: list[Choice]


class CaseLists(TypedDict):
    """What the record's fields may hold: active entries in order, "unknown" last in each."""

    lists: ListsOfChoices
    age_groups: list[Choice]
    states: list[Choice]
    answers: list[Choice]
    referrals: list[ReferralChoice]


class RecordFields(TypedDict):
    """A case record: None or [] is "not recorded"; "unknown" is recorded as not known."""

    kind: str | None
    type: list[str]
    venue: list[str]
    recruitment: list[str]
    control: list[str]
    age_group: str | None
    state: str | None
    police_wanted: str | None
    police_report: str | None
    referrals: list[int]


class Suggested(TypedDict):
    """What the triage suggests and the record does not hold yet; a key only when there is."""

    kind: NotRequired[str]
    type: NotRequired[list[str]]
    venue: NotRequired[list[str]]
    recruitment: NotRequired[list[str]]
    control: NotRequired[list[str]]
    age_group: NotRequired[str]
    state: NotRequired[str]


class CaseRecordView(TypedDict):
    conversation_id: int
    record: RecordFields
    suggested: Suggested
    because: dict[str, list[str]]  # "list:code": the risk reasons (or flags) that suggested it
    updated_at: IsoTime | None
    updated_by: str | None  # the staff member's name
    editable: bool
    labels: dict[str, str]  # "list:code": label, for retired entries the record still holds


def empty_record() -> dict[str, Any]:
    return {
        "kind": None, "type": [], "venue": [], "recruitment": [], "control": [],
        "age_group": None, "state": None, "police_wanted": None, "police_report": None,
        "referrals": [],
    }  # fmt: skip


def case_lists(session: Session) -> CaseLists:
    """Every list a record's fields choose from, as the console offers them."""
    by_list: dict[str, list[Choice]] = {case_list.value: [] for case_list in CaseList}
    for option in session.scalars(
        select(CaseOption)
        .where(CaseOption.active.is_(True))
        .order_by(CaseOption.list, CaseOption.position, CaseOption.code)
    ):
        if option.list in by_list and option.code != UNKNOWN:
            by_list[option.list].append({"code": option.code, "label": option.label})
    unknown: Choice = {"code": UNKNOWN, "label": UNKNOWN_LABEL}
    lists: ListsOfChoices = {
        "kind": [*by_list["kind"], unknown],
        "type": [*by_list["type"], unknown],
        "venue": [*by_list["venue"], unknown],
        "recruitment": [*by_list["recruitment"], unknown],
        "control": [*by_list["control"], unknown],
    }
    return {
        "lists": lists,
        "age_groups": [{"code": group.value, "label": AGE_LABELS[group]} for group in AgeGroup],
        "states": [{"code": code, "label": label} for code, label in STATES.items()],
        "answers": [{"code": answer.value, "label": ANSWER_LABELS[answer]} for answer in Answer],
        "referrals": [
            {"id": referral.id, "name": referral.name}
            for referral in session.scalars(
                select(Referral).where(Referral.active.is_(True)).order_by(Referral.name)
            )
        ],
    }


# -- who may -------------------------------------------------------------------------------------


def _may(session: Session, user: StaffUser, conversation: Conversation) -> bool:
    if user.role in (StaffRole.SUPERVISOR, StaffRole.ADMIN):
        return True
    if conversation.advocate_id == user.id and conversation.state is State.WITH_ADVOCATE:
        return True
    if conversation.status is not ConversationStatus.CLOSED:
        return False
    handled = session.get(ConversationHandler, (conversation.id, user.id))
    return handled is not None


def _erased(session: Session, conversation: Conversation) -> bool:
    erased_at = session.scalar(
        select(Texter.erasure_requested_at).where(Texter.id == conversation.texter_id)
    )
    return erased_at is not None


def _visible(session: Session, user: StaffUser, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or not _may(session, user, conversation):
        raise NotFound("no such conversation")
    return conversation


# -- reading ---------------------------------------------------------------------------------------


def recorded(session: Session, conversation_id: int) -> tuple[dict[str, Any], CaseRecord | None]:
    """The record as saved (empty when there is none), and its row."""
    fields = empty_record()
    row = session.get(CaseRecord, conversation_id)
    if row is not None:
        fields["kind"] = row.kind
        fields["age_group"] = row.age_group
        fields["state"] = row.state
        fields["police_wanted"] = row.police_wanted
        fields["police_report"] = row.police_report
    codes = session.execute(
        select(CaseRecordCode.list, CaseRecordCode.code)
        .where(CaseRecordCode.conversation_id == conversation_id)
        .order_by(CaseRecordCode.list, CaseRecordCode.code)
    )
    options = {(o.list, o.code): o for o in session.scalars(select(CaseOption))}
    for name, code in codes:
        if name in MULTIPLE:
            fields[CaseList(name).value].append(code)
    for case_list in MULTI_FIELDS:
        name = case_list.value
        fields[name] = _in_order(options, name, fields[name])
    fields["referrals"] = sorted(
        session.scalars(
            select(CaseRecordReferral.referral_id).where(
                CaseRecordReferral.conversation_id == conversation_id
            )
        )
    )
    return fields, row


def _in_order(options: dict[tuple[str, str], CaseOption], name: str, codes: list[str]) -> list[str]:
    return sorted(codes, key=lambda code: _position(options, name, code))


def _position(options: dict[tuple[str, str], CaseOption], name: str, code: str) -> tuple[int, str]:
    """Where ``code`` stands in its list; "unknown" (no entry) last."""
    option = options.get((name, code))
    return (option.position, code) if option is not None else (1 << 30, code)


def read(session: Session, vault: Vault, user: StaffUser, conversation_id: int) -> CaseRecordView:
    """A conversation's record, with the suggestions it does not hold yet.

    :class:`NotFound` unless ``user`` may see it (see the module's docstring). Once the texter
    was erased the record is empty, suggests nothing and cannot be edited.
    """
    conversation = _visible(session, user, conversation_id)
    erased = _erased(session, conversation)
    fields, row = recorded(session, conversation_id)
    options = {(o.list, o.code): o for o in session.scalars(select(CaseOption))}
    labels: dict[str, str] = {}
    held = [("kind", fields["kind"])] if fields["kind"] else []
    for case_list in MULTI_FIELDS:
        held += [(case_list.value, code) for code in fields[case_list.value]]
    for name, code in held:
        option = options.get((name, code))
        if option is not None and not option.active:
            labels[key(name, code)] = option.label
    suggested, because = (
        (Suggested(), {}) if erased else _suggestions(vault, conversation, fields, options)
    )
    updated_by = None
    if row is not None and row.updated_by_id is not None:
        staff = session.get(StaffUser, row.updated_by_id)
        updated_by = staff.name if staff is not None else None
    return {
        "conversation_id": conversation.id,
        "record": cast(RecordFields, fields),
        "suggested": suggested,
        "because": because,
        "updated_at": iso_time_or_none(row.updated_at if row is not None else None),
        "updated_by": updated_by,
        "editable": not erased,
        "labels": labels,
    }


def _suggestions(
    vault: Vault,
    conversation: Conversation,
    fields: dict[str, Any],
    options: dict[tuple[str, str], CaseOption],
) -> tuple[Suggested, dict[str, list[str]]]:
    """What the risk reasons, the minor flag and the location answer suggest, less what the
    record holds already (a field of one value only when it is not recorded) and less entries
    an admin retired."""
    found = suggest(conversation.risk_reasons or [], suggestion_table())
    suggested: dict[str, Any] = {}
    because: dict[str, list[str]] = {}
    for case_list, codes in found.codes.items():
        fresh = [
            code
            for code in codes
            if (option := options.get((case_list.value, code))) is not None and option.active
        ]
        if case_list is CaseList.KIND:
            if fresh and fields["kind"] is None:
                suggested["kind"] = fresh[0]
                fresh = fresh[:1]
            else:
                fresh = []
        else:
            held = fields[case_list.value]
            fresh = [code for code in fresh if code not in held]
            if fresh:
                suggested[case_list.value] = fresh
        for code in fresh:
            because[key(case_list, code)] = found.because[key(case_list, code)]
    if conversation.minor and fields["age_group"] is None:
        suggested["age_group"] = AgeGroup.MINOR.value
        because[key("age_group", AgeGroup.MINOR)] = [MINOR_REASON]
    if conversation.location_ciphertext is not None and fields["state"] is None:
        state = state_of(vault.decrypt(conversation.location_ciphertext))
        if state is not None and state in STATES:
            suggested["state"] = state
            because[key("state", state)] = [LOCATION_REASON]
    return cast(Suggested, suggested), because


# -- saving --------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    return str(value)[:_SHOWN_CHARS]


def _one_of(name: str, value: Any, allowed: dict[str, Any] | set[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(f"{name}: {_shown(value)!r} is not one of the list's codes")
    return value


def _listed(
    name: str,
    value: Any,
    options: dict[tuple[str, str], CaseOption],
    held: list[str] | set[str],
) -> list[str]:
    """Codes of one of the lists in ``case_options`` (a list of them for a multiple one)."""
    if value is None:
        return []
    codes = value if isinstance(value, list) else [value]
    if not all(isinstance(code, str) for code in codes):
        raise InvalidInput(f"{name} must be a list of codes")
    if len(set(codes)) != len(codes):
        raise InvalidInput(f"{name} holds a code twice")
    if UNKNOWN in codes and len(codes) > 1:
        raise InvalidInput(f"{name}: unknown cannot be chosen with other codes")
    for code in codes:
        if code == UNKNOWN:
            continue
        option = options.get((name, code))
        if option is None:
            raise InvalidInput(f"{name}: {_shown(code)!r} is not one of the list's codes")
        if not option.active and code not in held:
            raise InvalidInput(
                f"{name}: {option.label!r} is retired: it stays on the records that hold it, "
                "but cannot be chosen again"
            )
    return list(codes)


def check_record(session: Session, payload: Any, held: dict[str, Any]) -> dict[str, Any]:
    """The record ``payload`` asks for, every field checked against the lists; ``held`` is
    the record saved now, whose retired entries may stay. :class:`InvalidInput` otherwise."""
    if not isinstance(payload, dict):
        raise InvalidInput("send the record as a JSON object")
    unknown = sorted(set(payload) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(_shown(name) for name in unknown)}")
    options = {(o.list, o.code): o for o in session.scalars(select(CaseOption))}
    record = empty_record()
    kind = payload.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise InvalidInput("kind must be one code")
    kept_kind = {held["kind"]} if held["kind"] else set()
    kinds = _listed("kind", kind, options, kept_kind)
    record["kind"] = kinds[0] if kinds else None
    for case_list in MULTI_FIELDS:
        value = payload.get(case_list.value)
        if value is not None and not isinstance(value, list):
            raise InvalidInput(f"{case_list.value} must be a list of codes")
        codes = _listed(case_list.value, value, options, held[case_list.value])
        # In the list's order, as read back: the same codes sent in another order are no change.
        record[case_list.value] = _in_order(options, case_list.value, codes)
    record["age_group"] = _one_of("age_group", payload.get("age_group"), set(AgeGroup))
    record["state"] = _one_of("state", payload.get("state"), STATES)
    for name in ANSWER_FIELDS:
        record[name] = _one_of(name, payload.get(name), set(Answer))
    if record["police_report"] == Answer.YES and record["police_wanted"] != Answer.YES:
        raise InvalidInput(
            "police_report may be yes only when the texter wanted contact with law enforcement "
            "(police_wanted yes): a report is made with their consent only"
        )
    record["referrals"] = _referrals(session, payload.get("referrals"), held["referrals"])
    return record


def _referrals(session: Session, value: Any, held: list[int]) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(type(referral_id) is int for referral_id in value):
        raise InvalidInput("referrals must be a list of referral ids")
    if len(set(value)) != len(value):
        raise InvalidInput("referrals holds a referral twice")
    found = {
        referral.id: referral
        for referral in session.scalars(select(Referral).where(Referral.id.in_(value)))
    }
    for referral_id in value:
        referral = found.get(referral_id)
        if referral is None:
            raise InvalidInput(f"referrals: {referral_id} is not in the referral directory")
        if not referral.active and referral_id not in held:
            raise InvalidInput(
                f"referrals: {referral.name!r} is retired from the directory: choose another"
            )
    return sorted(value)


def _locked(session: Session, user: StaffUser, conversation_id: int) -> Conversation:
    """The conversation, read again under its texter's lock (the erasure's), if ``user`` may
    save its record: :class:`NotFound` otherwise, :class:`Conflict` once its texter was erased."""
    conversation = lock_conversation(session, conversation_id)
    if conversation is None or not _may(session, user, conversation):
        raise NotFound("no such conversation")
    if _erased(session, conversation):
        raise Conflict("this texter was erased: nothing more can be recorded")
    return conversation


def do_save(
    session: Session,
    vault: Vault,
    user: StaffUser,
    conversation_id: int,
    payload: Any,
    now: datetime,
) -> CaseRecordView:
    """Replace a conversation's record with ``payload`` (every key optional: a missing key is
    "not recorded"), and answer it as :func:`read` does.

    Takes the texter's lock. Refuses (and changes nothing) with :class:`NotFound` when ``user``
    may not, :class:`Conflict` once the texter was erased, :class:`InvalidInput` for anything
    not in the lists (see :func:`check_record`). A record with nothing recorded is no record.
    Audited as ``case_record_saved`` with the codes that changed, when some did.
    """
    conversation = _locked(session, user, conversation_id)
    held, row = recorded(session, conversation_id)
    record = check_record(session, payload, held)
    changes = {
        name: {"old": held[name], "new": record[name]}
        for name in FIELDS
        if held[name] != record[name]
    }
    if not changes:
        return read(session, vault, user, conversation_id)
    session.execute(delete(CaseRecordCode).where(CaseRecordCode.conversation_id == conversation.id))
    session.execute(
        delete(CaseRecordReferral).where(CaseRecordReferral.conversation_id == conversation.id)
    )
    if record == empty_record():
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = CaseRecord(conversation_id=conversation.id)
            session.add(row)
        row.kind = record["kind"]
        row.age_group = record["age_group"]
        row.state = record["state"]
        row.police_wanted = record["police_wanted"]
        row.police_report = record["police_report"]
        row.updated_at = now
        row.updated_by_id = user.id
        for case_list in MULTI_FIELDS:
            for code in record[case_list.value]:
                session.add(
                    CaseRecordCode(conversation_id=conversation.id, list=case_list.value, code=code)
                )
        for referral_id in record["referrals"]:
            session.add(
                CaseRecordReferral(conversation_id=conversation.id, referral_id=referral_id)
            )
    events.record(
        session, "case_record_saved", now, conversation_id=conversation.id,
        texter_id=conversation.texter_id, actor_id=user.id, changed=changes,
    )  # fmt: skip
    session.flush()
    return read(session, vault, user, conversation_id)
