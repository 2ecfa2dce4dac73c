"""What each column holds, declared once on the column itself, and what follows from it.

Key rotation, the retention purge and erasure all read their columns from these declarations
(:mod:`hotline.services.privacy`, :mod:`hotline.services.erasure`), so a new column of texter
content is covered by all three as soon as it says what it holds, and a test
(``tests/db/test_content.py``) fails on any encrypted or text column that does not say.

A column declares itself with ``info=holds(Holds.X)`` (and the value it is emptied to, when
that is not NULL); a table whose rows as a whole describe a conversation (its tags) declares
itself in ``__table_args__`` the same way, and its rows are deleted instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, MetaData, String, Table
from sqlalchemy import Enum as SqlEnum

INFO_KEY = "holds"


class Holds(Enum):
    """What a column holds, and so which of rotation, purge and erasure touch it."""

    # What a texter wrote or was written, and what staff wrote about them (notes, summaries,
    # feedback, stated reasons). Encrypted; emptied at the end of retention and on erasure.
    TEXTER_WORDS = ("encrypted", "purged", "erased")
    # The texter's phone number. Encrypted; dropped once nothing is left to send them, after
    # an erasure or once they have been away longer than the retention period.
    TEXTER_NUMBER = ("encrypted",)
    # What links a row to a number: the keyed hash (replaced by a random value) and Twilio's
    # message SID (Twilio's own logs map it to the number). Emptied with the number.
    TEXTER_LINK = ("purged", "erased")
    # Plain values that describe the texter or what they said: yes/no answers, danger and
    # minor flags, risk reasons, media kinds, alert details. Emptied like their words.
    TEXTER_FACT = ("purged", "erased")
    # Figures and staff classifications kept after retention for the metrics (anonymous by
    # then: the number and its hash are gone), but erased on request: priority, scores,
    # disposition, tags.
    TEXTER_FIGURE = ("erased",)
    # On purpose kept through erasure: the hash of a number that opted out, so STOP holds.
    OPT_OUT = ()
    # Staff two-factor secrets: encrypted, rotated, never a texter's.
    STAFF_SECRET = ("encrypted",)
    # One-way hashes and random tokens (passwords, sessions, recovery codes).
    CREDENTIAL = ()
    # Staff accounts and the lists staff keep (quick replies, referrals, dispositions, tags,
    # settings): no texter's data.
    STAFF_RECORD = ()
    # Codes from a fixed set: states, languages, event kinds, timer names.
    CODE = ()

    @property
    def encrypted(self) -> bool:
        return "encrypted" in self.value

    @property
    def purged(self) -> bool:
        return "purged" in self.value

    @property
    def erased(self) -> bool:
        return "erased" in self.value


@dataclass(frozen=True)
class Held:
    what: Holds
    empty: Any = None  # the value it is emptied to


def holds(what: Holds, empty: Any = None) -> dict[str, Held]:
    """The ``info`` of a column (or table) that holds ``what``."""
    return {INFO_KEY: Held(what, empty)}


def held(item: Column[Any] | Table) -> Held | None:
    found = item.info.get(INFO_KEY)
    return found if isinstance(found, Held) else None


def must_declare(column: Column[Any]) -> bool:
    """Whether a column could hold words or a number: every one of these must say what it holds.

    Enums are codes by construction; every other string, JSON and binary column is text that
    could hold anything.
    """
    if isinstance(column.type, SqlEnum):
        return False
    return isinstance(column.type, String | JSON | LargeBinary)


def undeclared(metadata: MetaData) -> list[str]:
    """``table.column`` of every column that must declare what it holds and does not, and of
    every ``*_ciphertext`` column that declares an unencrypted kind (or the reverse)."""
    wrong = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            declared = held(column)
            name = f"{table.name}.{column.name}"
            if declared is None:
                if must_declare(column) or column.name.endswith("_ciphertext"):
                    wrong.append(name)
            elif declared.what.encrypted != column.name.endswith("_ciphertext"):
                wrong.append(name)
    return wrong


def columns(metadata: MetaData, *, where: str) -> Iterator[tuple[Table, Column[Any], Held]]:
    """Every declared column whose kind is ``where`` ("encrypted", "purged" or "erased")."""
    for table in metadata.sorted_tables:
        for column in table.columns:
            declared = held(column)
            if declared is not None and where in declared.what.value:
                yield table, column, declared


def tables(metadata: MetaData, *, where: str) -> Iterator[Table]:
    """Every table whose rows as a whole are ``where`` ("purged" or "erased")."""
    for table in metadata.sorted_tables:
        declared = held(table)
        if declared is not None and where in declared.what.value:
            yield table
