"""The advocate console: one page, and the JSON API its script talks to.

Every API answer is JSON; texters' words travel only inside JSON strings and are put on the
page with ``textContent``, never as HTML.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal, TypedDict

from flask import Blueprint, Response, g, render_template, request

from hotline.db.models import Availability
from hotline.infra.live import QUEUE, conversation_topic
from hotline.services import attention, presence
from hotline.services.closing import Closed, Closing
from hotline.services.console import (
    AdvocateChoice,
    Console,
    ConversationSummary,
    ConversationView,
    DispositionChoice,
    Me,
    QuickReplyChoice,
    ReferralChoice,
)
from hotline.services.errors import Conflict, InvalidInput
from hotline.services.handling import Handling
from hotline.services.leave import do_leave
from hotline.services.supervision import Supervision
from hotline.services.transfers import Transfers
from hotline.web import runtime
from hotline.web.answers import Done, Items, answer, answers
from hotline.web.staff import COOKIE, SUPERVISORS, clear_session_cookie, current, staff_view

bp = Blueprint("console", __name__, url_prefix="/console")


class Queue(TypedDict):
    version: int  # the queue's live counter when it was read
    items: list[ConversationSummary]  # waiting, most urgent first
    mine: list[attention.MineItem]  # held by the caller, with what is new in each
    lost: list[attention.LostItem]  # taken from the caller, until they dismiss it


class ConversationAnswer(ConversationView):
    version: int  # the conversation's live counter when it was read


class Taken(TypedDict):
    conversation_id: int


class Sent(TypedDict):
    message_id: int


class Revealed(TypedDict):
    number: str


class Idle(TypedDict):
    """How long the session has left before it ends for idleness, and how long before that the
    pages ask "still there?" (whole seconds)."""

    idle_seconds_left: int
    idle_warning_seconds: int


class Poll(Idle):
    queue: int  # the queue's live counter
    conversations: dict[str, int]  # each visible conversation asked about: its live counter
    availability: Availability


class SignedOut(TypedDict):
    signed_out: Literal[True]
    returned: int  # conversations handed back to the queue
    transferred: int  # conversations handed to a colleague


def console() -> Console:
    """The console with the settings in force for this request (overrides read once per request)."""
    found = g.get("tuned_console")
    if not isinstance(found, Console):
        tuned = runtime().tuned(current().db)
        found = g.tuned_console = Console(
            tuned.triage,
            tuned.settings.capacity,
            timedelta(minutes=tuned.settings.presence_grace_minutes),
        )
    return found


def handling() -> Handling:
    """An advocate's actions, by the rules of :func:`console`."""
    return Handling(console())


def seen() -> None:
    """This request came from the console page: its advocate is there (see presence)."""
    staff = current()
    presence.do_touch(staff.user, staff.now, console().presence_grace)


def body() -> dict[str, Any]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise InvalidInput("send a JSON object")
    return payload


def text_field(payload: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = payload.get(name, "")
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    return value


@bp.get("")
@staff_view(page=True)
def page() -> Response:
    staff = current()
    return Response(
        render_template(
            "console.html",
            user=staff.user,
            csrf_token=staff.staff_session.csrf_token,
            max_reply_chars=1600,
        )
    )


@bp.get("/api/me")
@staff_view()
@answers(Me)
def me() -> Me:
    staff = current()
    seen()
    return console().me(staff.db, staff.user)


@bp.post("/api/availability")
@staff_view()
@answers(Me)
def availability() -> Me:
    staff = current()
    handling().set_availability(staff.db, staff.user, text_field(body(), "availability"), staff.now)
    seen()
    return console().me(staff.db, staff.user)


@bp.get("/api/queue")
@staff_view()
@answers(Queue)
def queue() -> Queue:
    staff = current()
    rt = runtime()
    version = rt.live.versions([QUEUE])[QUEUE]
    attended = attention.attend(staff.db, console(), staff.user, staff.now)
    return {
        "version": version,
        "items": console().queue(staff.db, staff.now),
        "mine": attended.mine,
        "lost": attended.lost,
    }


@bp.post("/api/queue/take-next")
@staff_view()
@answers(Taken)
def take_next() -> Taken:
    staff = current()
    conversation_id = handling().take_next(staff.db, staff.user, staff.now)
    return {"conversation_id": conversation_id}


@bp.post("/api/conversations/<int:conversation_id>/claim")
@staff_view()
@answers(Taken)
def claim(conversation_id: int) -> Taken:
    staff = current()
    handling().claim(staff.db, staff.user, conversation_id, staff.now)
    return {"conversation_id": conversation_id}


@bp.get("/api/conversations/<int:conversation_id>")
@staff_view()
@answers(ConversationAnswer)
def conversation(conversation_id: int) -> ConversationAnswer:
    staff = current()
    rt = runtime()
    # The counter first: a change committed while the view is read then bumps it past this
    # version, so the page fetches again. Read after, the page would keep a stale view.
    topic = conversation_topic(conversation_id)
    version = rt.live.versions([topic])[topic]
    view = console().conversation(staff.db, staff.user, conversation_id, staff.now)
    return {**view, "version": version}


@bp.post("/api/conversations/<int:conversation_id>/reply")
@staff_view()
@answers(Sent)
def reply(conversation_id: int) -> Sent:
    staff = current()
    message_id = handling().reply(
        staff.db, staff.user, conversation_id, text_field(body(), "body"), staff.now
    )
    return {"message_id": message_id}


@bp.post("/api/conversations/<int:conversation_id>/notes")
@staff_view()
@answers(Done)
def note(conversation_id: int) -> Done:
    staff = current()
    handling().add_note(
        staff.db, staff.user, conversation_id, text_field(body(), "body"), staff.now
    )
    return {"ok": True}


@bp.post("/api/conversations/<int:conversation_id>/tags")
@staff_view()
@answers(Done)
def tag(conversation_id: int) -> Done:
    staff = current()
    handling().tag(staff.db, staff.user, conversation_id, text_field(body(), "tag"), staff.now)
    return {"ok": True}


@bp.post("/api/conversations/<int:conversation_id>/transfer")
@staff_view()
@answers(Done)
def transfer(conversation_id: int) -> Done:
    staff = current()
    payload = body()
    target = payload.get("to_advocate_id")
    if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
        raise Conflict("to_advocate_id must be an advocate's id, or null for the queue")
    note = text_field(payload, "note", required=False)
    if target is None:  # back to the queue: at once
        handling().transfer(staff.db, staff.user, conversation_id, None, note, staff.now)
    else:  # to a colleague: offered, and theirs once they accept (hotline.services.transfers)
        transfers().offer(staff.db, staff.user, conversation_id, target, note, staff.now)
    return {"ok": True}


def transfers() -> Transfers:
    """Warm transfers, with the time to accept in force for this request."""
    minutes = runtime().tuned(current().db).settings.transfer_accept_minutes
    return Transfers(console(), timedelta(minutes=minutes))


def closing() -> Closing:
    """Closing and reopening, with the reopen window in force for this request."""
    minutes = runtime().tuned(current().db).settings.reopen_minutes
    return Closing(handling(), timedelta(minutes=minutes))


@bp.post("/api/conversations/<int:conversation_id>/close")
@staff_view()
@answers(Closed)
def close(conversation_id: int) -> Closed:
    """Close; 409 "confirm closing: <reasons>" unless ``confirmed`` is true when closing now
    deserves a second look (see :mod:`hotline.services.closing`)."""
    staff = current()
    payload = body()
    confirmed = payload.get("confirmed", False)
    if not isinstance(confirmed, bool):
        raise InvalidInput("confirmed must be true or false")
    return closing().close(
        staff.db, staff.user, conversation_id, text_field(payload, "disposition"),
        text_field(payload, "summary", required=False), staff.now, confirmed=confirmed,
    )  # fmt: skip


@bp.post("/api/conversations/<int:conversation_id>/reopen")
@staff_view()
@answers(Done)
def reopen(conversation_id: int) -> Done:
    """Take back a conversation the caller closed a moment ago."""
    staff = current()
    closing().reopen(staff.db, staff.user, conversation_id, staff.now)
    return {"ok": True}


@bp.post("/api/conversations/<int:conversation_id>/reveal-number")
@staff_view(SUPERVISORS)
@answers(Revealed)
def reveal_number(conversation_id: int) -> Revealed:
    staff = current()
    number = Supervision(console()).reveal_number(
        staff.db, staff.user, conversation_id, text_field(body(), "reason"), staff.now
    )
    return {"number": number}


@bp.post("/api/conversations/<int:conversation_id>/erase-texter")
@staff_view(SUPERVISORS)
@answers(Done)
def erase_texter(conversation_id: int) -> Done:
    staff = current()
    Supervision(console()).erase_texter(
        staff.db, staff.user, conversation_id, text_field(body(), "reason"), staff.now
    )
    return {"ok": True}


@bp.get("/api/quick-replies")
@staff_view()
@answers(Items[QuickReplyChoice])
def quick_replies() -> Items[QuickReplyChoice]:
    staff = current()
    language = request.args.get("language", "en")[:8]
    return {"items": console().quick_replies(staff.db, language)}


@bp.get("/api/referrals")
@staff_view()
@answers(Items[ReferralChoice])
def referrals() -> Items[ReferralChoice]:
    staff = current()
    query = request.args.get("q", "")[:100]
    language = request.args.get("language", "")[:20] or None
    return {"items": console().referrals(staff.db, query, language)}


@bp.get("/api/dispositions")
@staff_view()
@answers(Items[DispositionChoice])
def dispositions() -> Items[DispositionChoice]:
    staff = current()
    return {"items": console().dispositions(staff.db)}


@bp.get("/api/tags")
@staff_view()
@answers(Items[str])
def tags() -> Items[str]:
    """The tags advocates may use: supervisors keep the list (/supervisor/settings)."""
    staff = current()
    return {"items": console().tags(staff.db)}


@bp.get("/api/advocates")
@staff_view()
@answers(Items[AdvocateChoice])
def advocates() -> Items[AdvocateChoice]:
    staff = current()
    return {"items": console().advocates(staff.db, staff.user.id, staff.now)}


def idle_answer() -> Idle:
    """How long this session has before it ends for idleness, and when the pages should ask
    "still there?" (whole seconds)."""
    staff = current()
    policy = runtime().auth
    return {
        "idle_seconds_left": int(policy.idle_left(staff.staff_session, staff.now).total_seconds()),
        "idle_warning_seconds": int(policy.warn_before().total_seconds()),
    }


@bp.get("/api/poll")
@staff_view(background=True)
@answers(Poll)
def poll() -> Poll:
    """The live counters: the page refetches whatever changed since it last looked.

    Each poll is also how the hotline knows the console is still open (see presence), and the
    answer says whether they are available, since the hotline sets away someone it lost. A poll
    is not a person's action: it moves the idle clock only when the page says it saw input
    (``X-Hotline-Input: 1``); the answer says how long the session has left.

    Counters come only for conversations the caller may see (:meth:`Console.visible_ids`);
    other ids are left out, as if they did not exist.
    """
    staff = current()
    seen()
    asked = [int(i) for i in request.args.get("conversations", "").split(",") if i.isdigit()]
    ids = console().visible_ids(staff.db, staff.user, list(dict.fromkeys(asked))[:20])
    topics = [QUEUE, *(conversation_topic(i) for i in ids)]
    versions = runtime().live.versions(topics)
    return {
        "queue": versions[QUEUE],
        "conversations": {str(i): versions[conversation_topic(i)] for i in ids},
        "availability": staff.user.availability,
        **idle_answer(),
    }


@bp.get("/api/idle")
@staff_view(background=True)
@answers(Idle)
def idle() -> Idle:
    """How long the session has left, for pages that do not poll; a background request, so
    asking does not count as activity (input reported with it does)."""
    return idle_answer()


@bp.post("/api/still-here")
@staff_view()
@answers(Idle)
def still_here() -> Idle:
    """The "still there?" prompt's answer: a person's action, so the idle clock starts again."""
    return idle_answer()


@bp.post("/api/sign-out")
@staff_view()
@answers(SignedOut)
def sign_out() -> Response:
    """Sign out, first handing any held conversations on: ``{"conversations": "queue"}`` (the
    default) or ``{"conversations": "transfer", "to_advocate_id": id}``."""
    staff = current()
    payload = body()
    choice = payload.get("conversations")
    if choice is not None and not isinstance(choice, str):
        raise InvalidInput('conversations must be "queue" or "transfer"')
    target = payload.get("to_advocate_id")
    if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
        raise InvalidInput("to_advocate_id must be an advocate's id")
    left = do_leave(
        staff.db, console(), staff.user, request.cookies.get(COOKIE, ""), staff.now,
        choice=choice, to_advocate_id=target,
    )  # fmt: skip
    signed_out: SignedOut = {
        "signed_out": True,
        "returned": left.returned,
        "transferred": left.transferred,
    }
    response = answer(signed_out)
    clear_session_cookie(response)  # a header too: the one answer built here, not returned
    return response
