"""The supervisors' reports page (issue 20): counts from the case records, by month, quarter or
year, and their export for use outside the hotline.

Supervisors and admins only (advocates get 403). The page and its JSON API show the raw counts,
small ones included: supervisors can read the cases already. The export is another matter: a
file leaves the hotline, so it is always published with small-cell suppression and recorded in
the audit trail (:mod:`hotline.services.report_exports`).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

from flask import Blueprint, Response, render_template, request

from hotline.services.case_reports import Period, Report
from hotline.services.errors import InvalidInput
from hotline.services.report_exports import do_export_report, supervisors_report
from hotline.web import runtime
from hotline.web.answers import answers
from hotline.web.staff import SUPERVISORS, current, staff_view

bp = Blueprint("reports", __name__)

_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(name: str, default: date) -> date:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2026-01-01") from None


def _asked() -> tuple[date, date, Period]:
    """The range and period asked for; by default the calendar year to date, by month. ``to`` is
    exclusive, as in the service."""
    today = current().now.date()
    start = _day("from", date(today.year, 1, 1))
    end = _day("to", today + timedelta(days=1))
    raw_by = request.args.get("by", "").strip() or Period.MONTH.value
    try:
        by = Period(raw_by)
    except ValueError:
        allowed = ", ".join(p.value for p in Period)
        raise InvalidInput(f"by must be one of: {allowed}") from None
    return start, end, by


@bp.get("/supervisor/reports")
@staff_view(SUPERVISORS, page=True)
def page() -> Response:
    staff = current()
    threshold = runtime().tuned(staff.db).settings.report_suppress_below
    return Response(
        render_template(
            "reports.html",
            user=staff.user,
            csrf_token=staff.staff_session.csrf_token,
            suppress_below=threshold,
        )
    )


@bp.get("/supervisor/api/reports")
@staff_view(SUPERVISORS)
@answers(Report)
def report() -> Report:
    """The report with raw counts (``?from=&to=&by=``): for this page, never for publishing."""
    start, end, by = _asked()
    return supervisors_report(current().db, start, end, by)


@bp.get("/supervisor/api/reports/export")
@staff_view(SUPERVISORS)
def export() -> Response:
    """The report as a CSV or JSON download (``?from=&to=&by=&format=``), always with small
    counts suppressed; recorded in the audit trail."""
    staff = current()
    start, end, by = _asked()
    fmt = request.args.get("format", "").strip() or "csv"  # refused by the service if unknown
    content = do_export_report(
        staff.db,
        staff.user,
        start,
        end,
        by,
        fmt=fmt,
        threshold=runtime().tuned(staff.db).settings.report_suppress_below,
        now=staff.now,
    )
    name = f"case-report-{start.isoformat()}-to-{end.isoformat()}-by-{by.value}.{fmt}"
    return Response(
        content,
        content_type="text/csv; charset=utf-8" if fmt == "csv" else "application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
