"""The case record (issue 20) through its service, on SQLite and PostgreSQL: every list and
field, "unknown", the consent rule, retired entries, bad input changing nothing, who may, and
the suggestions of texts sent through the real webhook and worker (``process_pending``).

The database is shared by the test session: each test makes its own texters, staff, referrals
and list entries, and never assumes a table is empty.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hotline import runtime_of
from hotline.db.models import (
    CaseRecord,
    CaseRecordCode,
    CaseRecordReferral,
    Event,
    Referral,
    StaffUser,
)
from hotline.services import case_options, case_record
from hotline.services.case_record import CaseRecordView
from hotline.services.console import Console
from hotline.services.errors import Conflict, InvalidInput, NotFound
from hotline.services.privacy import erase_texter
from hotline.services.supervision import Supervision
from tests.conftest import new_phone
from tests.texting import advocate, claim, close, conversation, text_in

TRIAGE = ("hi", "no", "yes")  # to the question of needs


def referral(app: Flask, *, active: bool = True) -> int:
    with runtime_of(app).sessions.begin() as session:
        row = Referral(
            name=f"Legal aid {new_phone()[-6:]}", services="immigration law", area="Houston",
            phone="555-0100", hours="9-5", language="English", active=active,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def supervisor(app: Flask) -> int:
    from hotline.services.staff import do_create_staff

    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        return do_create_staff(
            session, f"supervisor-{new_phone()[2:]}@example.org", "a long password!",
            "supervisor", runtime.clock.now(),
        ).id  # fmt: skip


def held(app: Flask, needs: str = "I need help", location: str = "skip") -> tuple[str, int, int]:
    """A texter through triage (their needs and location as given), held by a new advocate:
    their phone, the conversation's id and the advocate's."""
    phone = new_phone()
    for body in (*TRIAGE, needs, location):
        text_in(app, phone, body)
    advocate_id = advocate(app)
    claim(app, phone, advocate_id)
    return phone, conversation(app, phone).id, advocate_id


def view(app: Flask, user_id: int, conversation_id: int) -> CaseRecordView:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, user_id)
        assert user is not None
        return case_record.read(session, runtime.vault, user, conversation_id)


def save(app: Flask, user_id: int, conversation_id: int, record: Any) -> CaseRecordView:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, user_id)
        assert user is not None
        return case_record.do_save(
            session, runtime.vault, user, conversation_id, record, runtime.clock.now()
        )


def rows(app: Flask, conversation_id: int) -> tuple[Any, ...]:
    """Everything stored of one record, to show that a refusal changed nothing."""
    with runtime_of(app).sessions() as session:
        record = session.get(CaseRecord, conversation_id)
        return (
            None
            if record is None
            else (record.kind, record.age_group, record.state, record.police_wanted,
                  record.police_report, record.updated_at),
            sorted(
                session.execute(
                    select(CaseRecordCode.list, CaseRecordCode.code).where(
                        CaseRecordCode.conversation_id == conversation_id
                    )
                ).all()
            ),
            sorted(
                session.scalars(
                    select(CaseRecordReferral.referral_id).where(
                        CaseRecordReferral.conversation_id == conversation_id
                    )
                )
            ),
            session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.conversation_id == conversation_id, Event.kind == "case_record_saved")
            ),
        )  # fmt: skip


def saved_events(app: Flask, conversation_id: int) -> list[Event]:
    with runtime_of(app).sessions() as session:
        found = session.scalars(
            select(Event)
            .where(Event.conversation_id == conversation_id, Event.kind == "case_record_saved")
            .order_by(Event.id)
        ).all()
        for event in found:
            _ = event.detail  # loaded while the session is open
        return list(found)


def add_option(app: Flask, name: str, label: str) -> str:
    runtime = runtime_of(app)
    code = f"test_{new_phone()[-8:]}"
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, supervisor(app))
        assert user is not None
        case_options.do_add(
            session, user, {"list": name, "code": code, "label": label}, runtime.clock.now()
        )
    return code


def change_option(app: Flask, name: str, code: str, payload: dict[str, Any]) -> None:
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, supervisor(app))
        assert user is not None
        case_options.do_change(session, user, name, code, payload, runtime.clock.now())


def full_record(referral_id: int) -> dict[str, Any]:
    return {
        "kind": "labor_trafficking",
        "type": ["construction", "agriculture"],
        "venue": ["farm", "construction_site"],
        "recruitment": ["job_offer"],
        "control": ["withholding_pay", "document_confiscation", "debt"],
        "age_group": "adult",
        "state": "TX",
        "police_wanted": "yes",
        "police_report": "yes",
        "referrals": [referral_id],
    }


# -- every list and field ------------------------------------------------------------------------


def test_a_full_record_is_kept_in_the_lists_order_and_audited_with_codes_only(app: Flask) -> None:
    _, conversation_id, advocate_id = held(app)
    referral_id = referral(app)
    assert view(app, advocate_id, conversation_id)["record"] == case_record.empty_record()

    answer = save(app, advocate_id, conversation_id, full_record(referral_id))

    assert answer["record"] == {
        **full_record(referral_id),
        # Each list in its own order (the seeded positions), whatever the order sent.
        "type": ["agriculture", "construction"],
        "venue": ["farm", "construction_site"],
        "control": ["document_confiscation", "debt", "withholding_pay"],
    }
    assert answer == view(app, advocate_id, conversation_id)
    assert answer["editable"] is True and answer["labels"] == {}
    assert answer["updated_by"] is not None and answer["updated_at"] is not None
    [event] = saved_events(app, conversation_id)
    assert event.actor_id == advocate_id
    changed = event.detail["changed"]
    assert set(changed) == set(case_record.FIELDS)
    assert changed["kind"] == {"old": None, "new": "labor_trafficking"}
    assert changed["referrals"] == {"old": [], "new": [referral_id]}

    # The same record again changes nothing and records nothing.
    save(app, advocate_id, conversation_id, full_record(referral_id))
    assert len(saved_events(app, conversation_id)) == 1
    # One change: only it is in the event.
    save(app, advocate_id, conversation_id, {**full_record(referral_id), "state": "outside"})
    assert saved_events(app, conversation_id)[-1].detail["changed"] == {
        "state": {"old": "TX", "new": "outside"}
    }


def test_unknown_is_an_answer_in_every_field(app: Flask) -> None:
    _, conversation_id, advocate_id = held(app)
    unknown = {
        "kind": "unknown", "type": ["unknown"], "venue": ["unknown"],
        "recruitment": ["unknown"], "control": ["unknown"], "age_group": "unknown",
        "state": "unknown", "police_wanted": "unknown", "police_report": "unknown",
    }  # fmt: skip
    answer = save(app, advocate_id, conversation_id, unknown)
    assert answer["record"] == {**unknown, "referrals": []}
    with runtime_of(app).sessions() as session:
        assert (
            session.scalars(
                select(CaseRecordCode.code).where(CaseRecordCode.conversation_id == conversation_id)
            ).all()
            == ["unknown"] * 4
        )


def test_the_whole_record_is_replaced_and_a_missing_key_is_not_recorded(app: Flask) -> None:
    _, conversation_id, advocate_id = held(app)
    save(app, advocate_id, conversation_id, full_record(referral(app)))

    answer = save(app, advocate_id, conversation_id, {"kind": "unclear", "control": ["debt"]})
    assert answer["record"] == {
        **case_record.empty_record(), "kind": "unclear", "control": ["debt"]
    }  # fmt: skip
    assert rows(app, conversation_id)[1:3] == ([("control", "debt")], [])

    # Nothing recorded is no record at all.
    answer = save(app, advocate_id, conversation_id, {})
    assert answer["record"] == case_record.empty_record() and answer["updated_at"] is None
    assert rows(app, conversation_id)[:3] == (None, [], [])


def test_the_lists_offer_active_entries_in_order_and_unknown_last(app: Flask) -> None:
    with runtime_of(app).sessions() as session:
        lists = case_record.case_lists(session)
    types = [choice["code"] for choice in lists["lists"]["type"]]
    assert types[:3] == ["escort_services", "illicit_massage", "outdoor_solicitation"]
    assert len([t for t in types if not t.startswith("test_")]) == 25 + 1
    for choices in lists["lists"].values():
        assert choices[-1] == {"code": "unknown", "label": "Unknown"}
        assert [c["code"] for c in choices].count("unknown") == 1
    assert [c["code"] for c in lists["age_groups"]] == ["minor", "adult", "unknown"]
    assert [c["code"] for c in lists["answers"]] == ["yes", "no", "unknown"]
    assert {"code": "TX", "label": "Texas"} in lists["states"]
    assert lists["states"][-2:] == [
        {"code": "outside", "label": "Outside the United States"},
        {"code": "unknown", "label": "Unknown"},
    ]
    retired = referral(app, active=False)
    with runtime_of(app).sessions() as session:
        offered = [r["id"] for r in case_record.case_lists(session)["referrals"]]
    assert retired not in offered


# -- bad input changes nothing -----------------------------------------------------------------


BAD: list[tuple[dict[str, Any], str]] = [
    ({"kind": "smuggling"}, "kind: 'smuggling' is not one of the list's codes"),
    ({"kind": ["sex_trafficking"]}, "kind must be one code"),
    ({"type": "construction"}, "type must be a list of codes"),
    ({"type": ["construction", "unknown"]}, "type: unknown cannot be chosen with other codes"),
    ({"control": ["debt", "debt"]}, "control holds a code twice"),
    ({"control": ["escort_services"]}, "control: 'escort_services' is not one of the list's codes"),
    ({"venue": [3]}, "venue must be a list of codes"),
    ({"age_group": "teen"}, "age_group: 'teen' is not one of the list's codes"),
    ({"state": "tx"}, "state: 'tx' is not one of the list's codes"),
    ({"police_wanted": True}, "police_wanted: 'True' is not one of the list's codes"),
    (
        {"police_wanted": "no", "police_report": "yes"},
        "police_report may be yes only when the texter wanted contact with law enforcement "
        "(police_wanted yes): a report is made with their consent only",
    ),
    (
        {"police_wanted": None, "police_report": "yes"},
        "police_report may be yes only when the texter wanted contact with law enforcement "
        "(police_wanted yes): a report is made with their consent only",
    ),
    ({"notes": "he said"}, "unknown fields: notes"),
    ({"referrals": [True]}, "referrals must be a list of referral ids"),
    ({"referrals": "1"}, "referrals must be a list of referral ids"),
    ({"referrals": [2_000_000_000]}, "referrals: 2000000000 is not in the referral directory"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "message"), BAD)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(
    app: Flask, payload: dict[str, Any], message: str
) -> None:
    _, conversation_id, advocate_id = held(app)
    save(app, advocate_id, conversation_id, full_record(referral(app)))
    before = rows(app, conversation_id)
    with pytest.raises(InvalidInput) as refused:
        save(app, advocate_id, conversation_id, {**full_record(referral(app)), **payload})
    assert str(refused.value) == message
    assert rows(app, conversation_id) == before


def test_a_record_that_is_not_an_object_is_refused(app: Flask) -> None:
    _, conversation_id, advocate_id = held(app)
    with pytest.raises(InvalidInput, match="send the record as a JSON object"):
        save(app, advocate_id, conversation_id, ["kind"])
    assert rows(app, conversation_id) == (None, [], [], 0)


def test_a_referral_retired_from_the_directory_stays_but_cannot_be_newly_chosen(
    app: Flask,
) -> None:
    _, conversation_id, advocate_id = held(app)
    referral_id = referral(app)
    save(app, advocate_id, conversation_id, {"referrals": [referral_id]})
    with runtime_of(app).sessions.begin() as session:
        row = session.get(Referral, referral_id)
        assert row is not None
        row.active = False
        name = row.name
    save(app, advocate_id, conversation_id, {"referrals": [referral_id], "kind": "unclear"})
    _, other_id, other_advocate = held(app)
    with pytest.raises(InvalidInput) as refused:
        save(app, other_advocate, other_id, {"referrals": [referral_id]})
    assert str(refused.value) == (
        f"referrals: {name!r} is retired from the directory: choose another"
    )


# -- retired entries ----------------------------------------------------------------------------


def test_a_retired_entry_stays_on_records_shown_by_label_and_cannot_be_newly_chosen(
    app: Flask,
) -> None:
    venue = add_option(app, "venue", "Nail salon")
    kind = add_option(app, "kind", "Forced criminality")
    _, conversation_id, advocate_id = held(app)
    save(app, advocate_id, conversation_id, {"kind": kind, "venue": ["farm", venue]})
    change_option(app, "venue", venue, {"active": False})
    change_option(app, "kind", kind, {"active": False, "label": "Forced crime"})

    answer = view(app, advocate_id, conversation_id)
    assert answer["record"]["venue"] == ["farm", venue] and answer["record"]["kind"] == kind
    assert answer["labels"] == {f"venue:{venue}": "Nail salon", f"kind:{kind}": "Forced crime"}
    with runtime_of(app).sessions() as session:
        lists = case_record.case_lists(session)["lists"]
    assert venue not in [c["code"] for c in lists["venue"]]
    assert kind not in [c["code"] for c in lists["kind"]]
    # Saved again, the record keeps them; another change beside them is fine.
    answer = save(
        app, advocate_id, conversation_id, {"kind": kind, "venue": [venue], "state": "CA"}
    )
    assert answer["record"]["venue"] == [venue] and answer["record"]["kind"] == kind

    _, other_id, other_advocate = held(app)
    before = rows(app, other_id)
    with pytest.raises(InvalidInput) as refused:
        save(app, other_advocate, other_id, {"venue": [venue]})
    assert str(refused.value) == (
        "venue: 'Nail salon' is retired: it stays on the records that hold it, but cannot be "
        "chosen again"
    )
    with pytest.raises(InvalidInput, match="'Forced crime' is retired"):
        save(app, other_advocate, other_id, {"kind": kind})
    assert rows(app, other_id) == before
    # Dropped from the first record, it cannot come back there either.
    save(app, advocate_id, conversation_id, {"kind": kind})
    with pytest.raises(InvalidInput, match="retired"):
        save(app, advocate_id, conversation_id, {"kind": kind, "venue": [venue]})

    change_option(app, "venue", venue, {"active": True})  # restored: offered again
    assert save(app, other_advocate, other_id, {"venue": [venue]})["record"]["venue"] == [venue]


# -- who may -------------------------------------------------------------------------------------


def test_who_may_read_and_save(app: Flask) -> None:
    phone, conversation_id, advocate_id = held(app)
    other = advocate(app)
    boss = supervisor(app)
    record = {"kind": "unclear"}

    for refused_call in (
        lambda: view(app, other, conversation_id),
        lambda: save(app, other, conversation_id, record),
    ):
        with pytest.raises(NotFound, match="no such conversation"):
            refused_call()
    with pytest.raises(NotFound):
        view(app, advocate_id, 2_000_000_000)
    assert rows(app, conversation_id) == (None, [], [], 0)

    save(app, advocate_id, conversation_id, record)  # the advocate holding it
    save(app, boss, conversation_id, {**record, "state": "NY"})  # a supervisor, at any time
    close(app, phone, advocate_id)
    # Once closed, whoever handled it (and only they, of the advocates).
    assert save(app, advocate_id, conversation_id, {"kind": "not_trafficking"})["editable"]
    with pytest.raises(NotFound):
        save(app, other, conversation_id, record)
    assert view(app, boss, conversation_id)["record"]["kind"] == "not_trafficking"


def test_after_an_erasure_the_record_is_gone_and_nothing_more_is_recorded(app: Flask) -> None:
    phone, conversation_id, advocate_id = held(app, "my boss took my passport")
    boss = supervisor(app)
    save(app, advocate_id, conversation_id, full_record(referral(app)))
    runtime = runtime_of(app)
    with runtime.sessions.begin() as session:
        user = session.get(StaffUser, boss)
        assert user is not None
        Supervision(Console(runtime.triage, 3)).erase_texter(
            session, user, conversation_id, "the texter asked us to", runtime.clock.now()
        )
    assert rows(app, conversation_id)[:3] == (None, [], [])
    for who in (boss, advocate_id):  # the advocate handled it, and it is closed now
        answer = view(app, who, conversation_id)
        assert answer["record"] == case_record.empty_record()
        assert answer["suggested"] == {} and answer["because"] == {}
        assert answer["editable"] is False
        with pytest.raises(Conflict, match="this texter was erased: nothing more can be recorded"):
            save(app, who, conversation_id, {"kind": "unclear"})
    assert rows(app, conversation_id)[:3] == (None, [], [])
    assert phone  # the texter's number is nowhere in what was asserted on


# -- suggestions, from texts through the webhook and the worker ------------------------------------


def test_risk_words_minor_and_location_are_suggested_until_recorded(app: Flask) -> None:
    phone, conversation_id, advocate_id = held(
        app, "I am 16, my pimp took my passport and says I owe him", "Houston TX"
    )
    text_in(app, phone, "he locked me in a room")
    answer = view(app, advocate_id, conversation_id)
    suggested = answer["suggested"]
    assert suggested.get("kind") == "sex_trafficking"
    assert {"document_confiscation", "debt", "confinement"} <= set(suggested.get("control", []))
    assert suggested.get("age_group") == "minor"
    assert suggested.get("state") == "TX"
    because = answer["because"]
    assert because["kind:sex_trafficking"] == ["pimp (+60)"]
    assert because["control:document_confiscation"] == ["took ... passport (+40)"]
    assert "emergency: locked me in" in because["control:confinement"]
    assert because["age_group:minor"] == ["the texter may be a minor"]
    assert because["state:TX"] == ["where the texter said they are"]
    assert set(because) == {
        *(f"control:{code}" for code in suggested.get("control", [])),
        "kind:sex_trafficking", "age_group:minor", "state:TX",
    }  # fmt: skip
    assert rows(app, conversation_id) == (None, [], [], 0)  # reading saved nothing

    # Confirmed (some of them), they are no longer suggested; what was not confirmed still is.
    answer = save(
        app, advocate_id, conversation_id,
        {"kind": "labor_trafficking", "control": ["debt"], "age_group": "minor"},
    )  # fmt: skip
    assert "kind" not in answer["suggested"] and "age_group" not in answer["suggested"]
    assert "debt" not in answer["suggested"].get("control", [])
    assert "document_confiscation" in answer["suggested"].get("control", [])
    assert answer["suggested"].get("state") == "TX"
    assert "control:debt" not in answer["because"]


def test_spanish_texts_suggest_too(app: Flask) -> None:
    _, conversation_id, advocate_id = held(
        app, "me quitaron el pasaporte, no me pagan y le debo al patron", "estoy en nueva york"
    )
    suggested = view(app, advocate_id, conversation_id)["suggested"]
    assert {"document_confiscation", "withholding_pay", "debt"} <= set(suggested.get("control", []))
    assert suggested.get("state") == "NY"


def test_a_retired_entry_is_not_suggested(clocked_app: Flask) -> None:
    """On a database of its own: retiring a seeded entry would change the other tests'."""
    app = clocked_app
    change_option(app, "control", "debt", {"active": False})
    _, conversation_id, advocate_id = held(app, "they took my passport and I owe them")
    answer = view(app, advocate_id, conversation_id)
    assert answer["suggested"].get("control") == ["document_confiscation"]
    assert "control:debt" not in answer["because"]


@pytest.mark.parametrize("first", ["erasure", "save"])
def test_a_save_racing_an_erasure_never_leaves_a_record_behind(
    clocked_app: Flask, first: str
) -> None:
    """The save and the erasure take the texter's lock: whichever comes second waits for the
    first to commit. An erasure first: the save is refused. A save first: the erasure deletes
    what it saved. Either way nothing of the record is left."""
    app = clocked_app
    runtime = runtime_of(app)
    phone, conversation_id, advocate_id = held(app)
    with runtime.sessions() as session:
        texter_id = conversation_of_id(session, conversation_id)
    wanted = full_record(referral(app))
    holding, done = threading.Event(), threading.Event()
    refused: list[Exception] = []

    def erase() -> None:
        if first == "save":
            holding.wait(5)
        with runtime.sessions.begin() as session:
            erase_texter(
                session, runtime.triage, texter_id, runtime.clock.now(), actor_id=None, by="test"
            )
            if first == "erasure":
                holding.set()
                done.wait(0.5)  # the save is blocked on our lock meanwhile

    def record() -> None:
        if first == "erasure":
            holding.wait(5)
        try:
            with runtime.sessions.begin() as session:
                user = session.get(StaffUser, advocate_id)
                assert user is not None
                case_record.do_save(
                    session, runtime.vault, user, conversation_id, wanted, runtime.clock.now()
                )
                if first == "save":
                    holding.set()
                    done.wait(0.5)  # the erasure is blocked on our lock meanwhile
        except Conflict as refusal:
            refused.append(refusal)

    threads = [threading.Thread(target=erase), threading.Thread(target=record)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert rows(app, conversation_id)[:3] == (None, [], [])
    assert [str(r) for r in refused] == (
        ["this texter was erased: nothing more can be recorded"] if first == "erasure" else []
    )
    assert phone


def conversation_of_id(session: Any, conversation_id: int) -> int:
    from hotline.db.models import Conversation

    found = session.get(Conversation, conversation_id)
    assert found is not None
    return int(found.texter_id)
