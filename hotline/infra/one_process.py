"""Production on SQLite (``HOTLINE_ALLOW_SQLITE=true``) is a one-process install.

Its task queue, timers and live counters live in the process that serves the web: a second web
process on the same database would run every timer twice and see half the live updates. The
first process to serve takes an exclusive lock on a file next to the database and keeps it
while it lives; another one is refused at start, whoever started it (gunicorn's ``--workers``,
``WEB_CONCURRENCY``, a second gunicorn).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from hotline.settings import SettingsError

_held: dict[Path, int] = {}  # lock file -> descriptor, open for the life of the process


def lock_path(database_url: str) -> Path | None:
    """The lock file of a SQLite database; None for an in-memory one (nothing to share)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + ".web-lock")


def claim_the_only_web_process(database_url: str) -> None:
    """Hold the database's web lock from now until this process ends.

    Raises :class:`SettingsError` when another process holds it. Claiming again in the process
    that holds it changes nothing.
    """
    path = lock_path(database_url)
    if path is None or path in _held:
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise SettingsError(
            "hotline cannot start: HOTLINE_ALLOW_SQLITE allows one web process, and another "
            "already serves this database (run gunicorn with --workers 1, or use PostgreSQL "
            "and Redis)"
        ) from None
    _held[path] = descriptor
