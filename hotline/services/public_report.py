"""``hotline report``: the public report of the case records, always suppressed, and audited.

Aggregates only (:mod:`hotline.services.case_reports`), with every small count suppressed below
the threshold (``HOTLINE_REPORT_SUPPRESS_BELOW``). The ``report_made`` event says who made it,
for which range, by which period and in which format; it holds no count.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Final

from sqlalchemy.orm import Session

from hotline.services import events
from hotline.services.case_reports import check_range, publish, report, to_csv, to_html
from hotline.services.errors import InvalidInput

FORMATS: Final = ("csv", "json", "html")


def make_public_report(
    session: Session,
    start: date,
    end: date,
    by: str,
    output: str,
    threshold: int,
    now: datetime,
    *,
    who: str = "command line",
    actor_id: int | None = None,
) -> str:
    """The published report of case records of conversations opened in [start, end), by
    ``by``, rendered as ``output`` (csv, json or html); a ``report_made`` event is recorded
    in the caller's transaction. Raises :class:`InvalidInput` for a bad range, period or
    format, and records nothing then."""
    if output not in FORMATS:
        raise InvalidInput(f"the format must be one of: {', '.join(FORMATS)}")
    period = check_range(start, end, by)
    published = publish(report(session, start, end, period), threshold)
    if output == "csv":
        text = to_csv(published)
    elif output == "html":
        text = to_html(published)
    else:
        text = json.dumps(published, indent=2) + "\n"
    events.record(
        session,
        "report_made",
        now,
        actor_id=actor_id,
        who=who,
        start=start.isoformat(),
        end=end.isoformat(),
        period=period.value,
        format=output,
        suppress_below=threshold,
    )
    return text
