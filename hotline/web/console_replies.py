"""The console's quick replies, the language check of a draft reply, a returning texter's
earlier conversations and the advocate's own case search (JSON).

The case search is a POST: what an advocate searches for may be a texter's words, and never
goes in a URL.
"""

from __future__ import annotations

from flask import Blueprint

from hotline.services import past_conversations, quick_replies
from hotline.services.errors import InvalidInput
from hotline.services.handling import MAX_REPLY_CHARS
from hotline.services.past_conversations import Case, PastConversation
from hotline.services.quick_replies import FilledQuickReply, ReplyCheck
from hotline.web import runtime
from hotline.web.answers import Items, answers
from hotline.web.console import body, console, text_field
from hotline.web.staff import current, staff_view

bp = Blueprint("console_replies", __name__, url_prefix="/console")


def retention_days() -> float:
    return runtime().tuned(current().db).settings.retention_days


@bp.get("/api/conversations/<int:conversation_id>/quick-replies")
@staff_view()
@answers(Items[FilledQuickReply])
def filled_quick_replies(conversation_id: int) -> Items[FilledQuickReply]:
    staff = current()
    items = quick_replies.for_conversation(staff.db, console(), staff.user, conversation_id)
    return {"items": items}


@bp.post("/api/conversations/<int:conversation_id>/reply-check")
@staff_view()
@answers(ReplyCheck)
def reply_check(conversation_id: int) -> ReplyCheck:
    staff = current()
    draft = text_field(body(), "body")
    if len(draft) > MAX_REPLY_CHARS:
        raise InvalidInput(f"a reply is at most {MAX_REPLY_CHARS} characters")
    return quick_replies.check_reply(staff.db, console(), staff.user, conversation_id, draft)


@bp.get("/api/past-conversations/<int:conversation_id>")
@staff_view()
@answers(PastConversation)
def past_conversation(conversation_id: int) -> PastConversation:
    staff = current()
    return past_conversations.past_conversation(
        staff.db, console(), staff.user, conversation_id, staff.now, retention_days()
    )


@bp.post("/api/cases")
@staff_view()
@answers(Items[Case])
def cases() -> Items[Case]:
    staff = current()
    query = body().get("query", "")
    found = past_conversations.search_cases(
        staff.db, console(), staff.user, query, staff.now, retention_days()
    )
    return {"items": found}
