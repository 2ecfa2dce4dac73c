"""Where a staff member lands once signed in, and the ``next`` page that may send them elsewhere.

Supervisors and admins land on the supervisor's board, advocates on the console. A ``next``
(the page someone asked for before they were sent to sign in) wins when it is safe: a path on
this site only. It is carried through every step between the password and that page (the
two-factor code, a forced password change, two-factor enrolment) as a query parameter or a
hidden form field, and checked again each time it is read.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for

from hotline.db.models import StaffRole, StaffUser

NEXT_MAX_LENGTH = 2000  # longer is no page of ours


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None: never an open redirect.

    Refused: anything not starting with one ``/`` (``//host`` and ``/\\host`` are other hosts
    to a browser), any backslash (browsers read it as ``/``), a scheme or host, whitespace or
    control characters (stripped by browsers, so ``/\\t/host`` becomes ``//host``), and
    anything absurdly long.
    """
    if not target or len(target) > NEXT_MAX_LENGTH:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_of(user: StaffUser) -> str:
    """The page a staff member starts on: the board for supervisors and admins."""
    if user.role in (StaffRole.SUPERVISOR, StaffRole.ADMIN):
        return url_for("supervisor.page")
    return url_for("console.page")


def landing(user: StaffUser, target: str | None) -> str:
    """Where to send ``user`` now: a safe ``target``, else their home page."""
    return safe_next(target) or home_of(user)


def landing_name(path: str) -> str:
    """How a "go on" link names where it leads."""
    if path == url_for("console.page"):
        return "the console"
    if path == url_for("supervisor.page"):
        return "the supervisor's board"
    return "the page you asked for"
