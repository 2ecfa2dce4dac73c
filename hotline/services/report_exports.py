"""The case reports as supervisors ask for them: the range they may ask for, and the export.

The supervisors' page shows raw counts (supervisors can read the cases already); what leaves the
hotline as a file does not: :func:`do_export_report` always publishes with small-cell
suppression (:func:`hotline.services.case_reports.publish`), whatever the caller asks, and
records who exported which range, as the conversation export is recorded. The file holds
aggregates only, so no reason is asked for, as for a conversation export without message text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy.orm import Session

from hotline.db.models import StaffUser
from hotline.services import case_reports
from hotline.services.case_reports import Period, Report
from hotline.services.errors import InvalidInput
from hotline.services.public_report import make_public_report

# The longest range one report covers: enough for year-on-year figures, small enough that a
# request cannot make the server count decades by month.
MAX_YEARS: Final = 5
FORMATS: Final = ("csv", "json")


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 1 March in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def check_range(start: date, end: date) -> None:
    """Refuse (:class:`InvalidInput`) a range that is empty, backwards or over five years.
    ``end`` is exclusive: 2026-01-01 to 2027-01-01 is the year 2026."""
    if start >= end:
        raise InvalidInput("from must be before to (to is not included)")
    if end > years_after(start, MAX_YEARS):
        raise InvalidInput(f"a report covers at most {MAX_YEARS} years")


def supervisors_report(session: Session, start: date, end: date, by: Period) -> Report:
    """The report with its raw counts, small ones included: for the supervisors' page only."""
    check_range(start, end)
    return case_reports.report(session, start, end, by)


def do_export_report(
    session: Session,
    user: StaffUser,
    start: date,
    end: date,
    by: Period,
    *,
    fmt: str,
    threshold: int,
    now: datetime,
) -> str:
    """The report for use outside the hotline, as CSV or JSON text: always published with
    small-cell suppression below ``threshold``, never the raw counts, and audited as the
    command line's report is (``report_made``, with the actor, the range, the period, the
    format and the threshold). Raises :class:`InvalidInput` for a bad range or format, and then
    records nothing."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of: {', '.join(FORMATS)}")
    check_range(start, end)
    return make_public_report(
        session, start, end, by, fmt, threshold, now, who="reports page", actor_id=user.id
    )
