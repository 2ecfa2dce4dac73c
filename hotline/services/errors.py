"""Refusals: how a service says no to what a staff member asked.

A service refuses by raising one of the four kinds below, with a message for the person who
asked. It changes nothing: the refusal leaves the caller's transaction, which rolls back. The
message names no texter: no phone number and none of the words a texter wrote. The web app
answers every refusal in one place (:mod:`hotline.web.refusals`): ``{"error": message}`` with
the kind's status for the APIs, a page saying the same for a browser.

Each kind is one HTTP status, chosen by what the person can do about it:

- :class:`InvalidInput`, **400**: the request itself is malformed (a missing field, a value out
  of range, text where a number belongs). Sent again unchanged, it fails again; fix the input.
- :class:`NotAllowed`, **403**: this person may not do this, whatever the state of things (an
  advocate at a supervisor's action, a supervisor at an admin's account). Asking again won't help.
- :class:`NotFound`, **404**: no such record, *or one this person may not see*. The two are
  answered alike on purpose, so an id reveals nothing about what exists.
- :class:`Conflict`, **409**: the request is well formed and allowed, but the hotline's state
  does not allow it now: the texter was taken by someone else, the conversation is closed, the
  name is in use, somebody else got there first. Look again (reload) and decide again.

A race the database itself catches (two requests inserting the same tag at the same moment: an
``IntegrityError`` at the unique index) is the last case of a conflict. Services need not
catch it: the web app answers it 409 too, without repeating the value that clashed.

A service may subclass a kind to name its own refusals (``ClaimError``, ``TuningRefused``, the
accounts' ``AccountError`` family); the status stays the kind's.
"""

from __future__ import annotations

from typing import ClassVar


class Refusal(Exception):
    """A request the hotline will not carry out, and nothing was changed.

    ``str(refusal)`` is the message to show the person who asked; ``status`` is the HTTP status
    it is answered with. Raise one of the kinds below, not this class itself.
    """

    status: ClassVar[int]

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidInput(Refusal):
    """The request is malformed; the message says which field and why (400)."""

    status = 400


class NotAllowed(Refusal):
    """This person may not do this (403)."""

    status = 403


class NotFound(Refusal):
    """No such record, or not one this person may see (404); the message says what was looked
    for ("no such conversation"), never whether it exists."""

    status = 404


class Conflict(Refusal):
    """The hotline's state does not allow this now, or a concurrent request got there first
    (409); the message says what stands in the way."""

    status = 409
