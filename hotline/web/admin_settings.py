"""The settings page: what supervisors change without a restart, and its JSON API.

Supervisors and admins only (advocates get 403), CSRF on every change, every change audited.
Trying a text against a lexicon (:mod:`hotline.services.lexicon_trial`) changes nothing; that a
supervisor tried one is audited, never the text.
Timers, discreet mode, capacity and the risk lexicons live in :mod:`hotline.services.tuning`;
dispositions and tags in :mod:`hotline.services.vocabulary`.
"""

from __future__ import annotations

from typing import TypedDict

from flask import Blueprint, Response, render_template

from hotline.services import lexicon_trial, tuning, vocabulary
from hotline.services.errors import InvalidInput
from hotline.services.lexicon_trial import Trial
from hotline.services.tuning import SettingChange, SettingEntry
from hotline.services.vocabulary import DispositionEntry, TagEntry
from hotline.web import runtime
from hotline.web.answers import Items, answers
from hotline.web.console import body
from hotline.web.staff import SUPERVISORS, current, staff_view

bp = Blueprint("admin_settings", __name__, url_prefix="/supervisor")


class SettingsPage(TypedDict):
    items: list[SettingEntry]
    history: list[SettingChange]  # the latest changes, newest first


class DispositionSaved(TypedDict):
    code: str  # the disposition added or changed
    items: list[DispositionEntry]


class TagSaved(TypedDict):
    name: str  # the tag added or changed
    items: list[TagEntry]


@bp.get("/settings")
@staff_view(SUPERVISORS, page=True)
def page() -> Response:
    staff = current()
    return Response(
        render_template("settings.html", user=staff.user, csrf_token=staff.staff_session.csrf_token)
    )


def _settings_answer() -> SettingsPage:
    staff = current()
    return {
        "items": tuning.describe(staff.db, runtime().settings),
        "history": tuning.history(staff.db),
    }


@bp.get("/api/settings")
@staff_view(SUPERVISORS)
@answers(SettingsPage)
def settings() -> SettingsPage:
    """Every setting: in force, default, who changed it when; and the latest changes."""
    return _settings_answer()


@bp.put("/api/settings/<key>")
@staff_view(SUPERVISORS)
@answers(SettingsPage)
def change_setting(key: str) -> SettingsPage:
    """``{"value": ...}`` overrides the environment's value from the next text on."""
    staff = current()
    payload = body()
    if set(payload) != {"value"}:
        raise InvalidInput('send {"value": ...}')
    tuning.do_set(staff.db, staff.user, key, payload["value"], staff.now, runtime().settings)
    staff.db.flush()
    return _settings_answer()


@bp.delete("/api/settings/<key>")
@staff_view(SUPERVISORS)
@answers(SettingsPage)
def reset_setting(key: str) -> SettingsPage:
    """Back to the environment's value."""
    staff = current()
    tuning.do_reset(staff.db, staff.user, key, staff.now, runtime().settings)
    staff.db.flush()
    return _settings_answer()


@bp.post("/api/settings/lexicon/try")
@staff_view(SUPERVISORS)
@answers(Trial)
def try_lexicon() -> Trial:
    """``{"text": ..., "language": "en", "draft": {lexicon}}`` (language and draft optional):
    the score, priority, reasons, emergency phrases and minor flag triage would give the text as
    a first text, with the draft in place of that language's lexicon. Nothing is saved."""
    staff = current()
    payload = body()
    if not set(payload) <= {"text", "language", "draft"}:
        raise InvalidInput('send {"text": ...}, and optionally "language" and "draft"')
    answer = lexicon_trial.try_text(
        staff.db,
        staff.user,
        runtime().tuned(staff.db).triage.policy.lexicons,
        payload.get("text"),
        staff.now,
        language=payload.get("language"),
        draft=payload.get("draft"),
    )
    staff.db.flush()
    return answer


@bp.get("/api/dispositions")
@staff_view(SUPERVISORS)
@answers(Items[DispositionEntry])
def dispositions() -> Items[DispositionEntry]:
    return {"items": vocabulary.dispositions(current().db)}


@bp.post("/api/dispositions")
@staff_view(SUPERVISORS)
@answers(DispositionSaved)
def add_disposition() -> DispositionSaved:
    staff = current()
    code = vocabulary.do_add_disposition(staff.db, staff.user, body(), staff.now)
    staff.db.flush()
    return {"code": code, "items": vocabulary.dispositions(staff.db)}


@bp.post("/api/dispositions/<code>")
@staff_view(SUPERVISORS)
@answers(DispositionSaved)
def change_disposition(code: str) -> DispositionSaved:
    """``{"label": ...}`` relabels, ``{"active": false}`` retires, ``{"active": true}`` restores."""
    staff = current()
    vocabulary.do_change_disposition(staff.db, staff.user, code, body(), staff.now)
    staff.db.flush()
    return {"code": code, "items": vocabulary.dispositions(staff.db)}


@bp.get("/api/tags")
@staff_view(SUPERVISORS)
@answers(Items[TagEntry])
def tags() -> Items[TagEntry]:
    return {"items": vocabulary.tags(current().db)}


@bp.post("/api/tags")
@staff_view(SUPERVISORS)
@answers(TagSaved)
def add_tag() -> TagSaved:
    staff = current()
    name = vocabulary.do_add_tag(staff.db, staff.user, body(), staff.now)
    staff.db.flush()
    return {"name": name, "items": vocabulary.tags(staff.db)}


@bp.post("/api/tags/<name>")
@staff_view(SUPERVISORS)
@answers(TagSaved)
def change_tag(name: str) -> TagSaved:
    """``{"active": false}`` retires the tag, ``{"active": true}`` restores it."""
    staff = current()
    vocabulary.do_change_tag(staff.db, staff.user, name, body(), staff.now)
    staff.db.flush()
    return {"name": name, "items": vocabulary.tags(staff.db)}
