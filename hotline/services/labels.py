"""Names, not numbers and codes (issue 18): how a staff member and a disposition are shown to
staff wherever they appear, looked up once per answer.

Staff are shown by :attr:`StaffUser.name` (their display name, or their email's local part);
dispositions by their label in the supervisors' catalogue (a retired disposition keeps its
label; a code missing from the catalogue is shown as it is). Log lines, which operators read and
which must never carry a name of anyone, keep ids and codes: see the README's Operations section.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import Disposition, StaffUser


def staff_names(session: Session, ids: Iterable[object]) -> dict[int, str]:
    """The name of each staff member among ``ids`` that exists, by id (values that are not
    ids, such as None or an old email, are passed over)."""
    wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if not wanted:
        return {}
    return {
        member.id: member.name
        for member in session.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)))
    }


def disposition_labels(session: Session) -> dict[str, str]:
    """Every disposition's label, by code, retired ones too (old conversations have them)."""
    return {
        code: label for code, label in session.execute(select(Disposition.code, Disposition.label))
    }


def disposition_label(labels: dict[str, str], code: str | None) -> str | None:
    return None if code is None else labels.get(code, code)
