"""The hotline's reports from its case records (issue 20): how many cases of each kind, type,
venue, recruitment, means of control, age group, state, law-enforcement answer and referral,
by month, quarter or year.

:func:`report` counts, for the supervisors, who may see small counts (they can read the cases
already). :func:`publish` makes a copy for anyone else: small counts are suppressed, with the
complementary cells that keep them from being worked out from the totals
(:mod:`hotline.domain.suppression`). :func:`to_csv` and :func:`to_html` render a published
report; JSON is ``json.dumps(published)``.

A case counts in the period its conversation opened (``conversations.opened_at``, UTC). Every
table is a count of case records by one field and period, nothing else: no table crosses two
fields of the case record, and none holds anything but counts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from html import escape
from typing import Any, Final, NotRequired, TypedDict

from sqlalchemy import Interval, func, literal, select
from sqlalchemy.orm import Session

from hotline.db.models import (
    CaseOption,
    CaseRecord,
    CaseRecordCode,
    CaseRecordReferral,
    Conversation,
    Referral,
)
from hotline.domain.case_lists import (
    AGE_LABELS,
    ANSWER_LABELS,
    STATES,
    UNKNOWN,
    UNKNOWN_LABEL,
    CaseList,
)
from hotline.domain.suppression import SUPPRESSED, Cell, fewer_than, suppress
from hotline.services.conversation_log import neutralise
from hotline.services.errors import InvalidInput

# A longer range is a question for several reports: a table this wide is unreadable, and
# suppressing it takes long.
MAX_PERIODS: Final = 120


class Period(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Row(TypedDict):
    code: str
    label: str
    # One per period; a published report has a marker (a str) in place of a suppressed count.
    counts: list[Cell]
    total: Cell


class Table(TypedDict):
    """The case records counted by one field, per period.

    ``column_totals[i]`` is the sum of the rows' ``counts[i]`` and ``total`` the sum of
    everything, so every published total adds up. For the lists a case may hold several
    entries of (type, venue, recruitment, control) and for referrals, a case counts once per
    entry: those totals count entries, not cases. Rows are the codes with a non-zero total
    (and "unknown", always, where a field may be unknown), in the lists' own order.
    """

    dimension: str
    title: str
    rows: list[Row]
    column_totals: list[Cell]
    total: Cell


# "from" is a Python keyword: the functional form.
Report = TypedDict(
    "Report",
    {
        "from": str,  # YYYY-MM-DD, the first day counted
        "to": str,  # YYYY-MM-DD, the first day not counted
        "by": str,  # a Period
        "periods": list[str],  # "2026-01", "2026-Q1", "2026"
        "cases": Cell,  # case records of conversations opened in the range
        "tables": list[Table],
        # Only in a published report: the threshold its small counts were suppressed below.
        "suppress_below": NotRequired[int],
    },
)

# (dimension, title) in the order the tables come.
DIMENSIONS: Final = (
    ("kind", "Kind of situation"),
    ("type", "Type of trafficking (Polaris typology)"),
    ("venue", "Industry or venue"),
    ("recruitment", "Recruitment"),
    ("control", "Means of control"),
    ("age_group", "Age group"),
    ("state", "State"),
    ("police_wanted", "Wanted contact with law enforcement"),
    ("police_report", "Report made to law enforcement"),
    ("referral", "Referrals made"),
)
SINGLE: Final = ("kind", "age_group", "state", "police_wanted", "police_report")


def check_range(start: date, end: date, by: Period | str) -> Period:
    """The period asked for; raises :class:`InvalidInput` for a range that is empty, backwards
    or too long for one table, or an unknown period."""
    try:
        period = Period(by)
    except ValueError:
        raise InvalidInput("the period must be one of: month, quarter, year") from None
    if not isinstance(start, date) or not isinstance(end, date):
        raise InvalidInput("from and to must be dates (YYYY-MM-DD)")
    if start >= end:
        raise InvalidInput("from must be before to (to is the first day not counted)")
    if len(periods_between(start, end, period)) > MAX_PERIODS:
        raise InvalidInput(f"a report covers at most {MAX_PERIODS} periods: choose a longer one")
    return period


def period_of(month: str, by: Period) -> str:
    """The key of the period a month ("2026-05") falls in: "2026-05", "2026-Q2" or "2026"."""
    year, number = month[:4], int(month[5:7])
    if by is Period.MONTH:
        return month
    if by is Period.QUARTER:
        return f"{year}-Q{(number - 1) // 3 + 1}"
    return year


def periods_between(start: date, end: date, by: Period) -> list[str]:
    """Every period with at least one day in [start, end), in order."""
    keys: list[str] = []
    year, month = start.year, start.month
    last = end - timedelta(days=1)
    while (year, month) <= (last.year, last.month):
        key = period_of(f"{year:04d}-{month:02d}", by)
        if not keys or keys[-1] != key:
            keys.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def report(session: Session, start: date, end: date, by: Period | str) -> Report:
    """The case records of conversations opened from ``start`` (included) to ``end`` (not
    included), UTC, counted by every field and by ``by``: exact counts, for supervisors.

    Three grouped scans, by the month the conversation opened: the records with their own
    fields (which also counts them), the lists they hold several entries of, their
    referrals. Raises :class:`InvalidInput` for a bad range
    or period (:func:`check_range`).
    """
    period = check_range(start, end, by)
    keys = periods_between(start, end, period)
    index = {key: i for i, key in enumerate(keys)}
    month = _month(session)
    opened = Conversation.opened_at
    in_range = (
        opened >= datetime(start.year, start.month, start.day, tzinfo=UTC),
        opened < datetime(end.year, end.month, end.day, tzinfo=UTC),
    )
    counts: dict[str, dict[str, list[int]]] = {name: {} for name, _ in DIMENSIONS}

    def add(dimension: str, code: str | None, at: str, number: int) -> None:
        if code is None:  # not recorded
            return
        row = counts[dimension].setdefault(code, [0] * len(keys))
        row[index[period_of(at, period)]] += number

    cases = 0
    fields = [getattr(CaseRecord, name) for name in SINGLE]
    for row in session.execute(
        select(month, *fields, func.count())
        .join(Conversation, Conversation.id == CaseRecord.conversation_id)
        .where(*in_range)
        .group_by(month, *fields)
    ):
        at, *values, number = row
        cases += number
        for name, value in zip(SINGLE, values, strict=True):
            add(name, value, at, number)
    for at, listed, code, number in session.execute(
        select(month, CaseRecordCode.list, CaseRecordCode.code, func.count())
        .join(Conversation, Conversation.id == CaseRecordCode.conversation_id)
        .join(CaseRecord, CaseRecord.conversation_id == CaseRecordCode.conversation_id)
        .where(*in_range)
        .group_by(month, CaseRecordCode.list, CaseRecordCode.code)
    ):
        if listed in counts:
            add(listed, code, at, number)
    for at, referral_id, number in session.execute(
        select(month, CaseRecordReferral.referral_id, func.count())
        .join(Conversation, Conversation.id == CaseRecordReferral.conversation_id)
        .join(CaseRecord, CaseRecord.conversation_id == CaseRecordReferral.conversation_id)
        .where(*in_range)
        .group_by(month, CaseRecordReferral.referral_id)
    ):
        add("referral", str(referral_id), at, number)

    orders = _orders(session)
    tables = [
        _table(name, title, counts[name], orders[name], len(keys), name != "referral")
        for name, title in DIMENSIONS
    ]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by": period.value,
        "periods": keys,
        "cases": cases,
        "tables": tables,
    }


def _month(session: Session) -> Any:
    """The month a conversation opened in, "YYYY-MM" (UTC), on either database."""
    if session.get_bind().dialect.name == "postgresql":
        # UTC as a zero offset, as hotline.services.metrics does.
        utc = func.timezone(literal(timedelta(0), Interval), Conversation.opened_at)
        return func.to_char(utc, "YYYY-MM")
    return func.strftime("%Y-%m", Conversation.opened_at)


def _orders(session: Session) -> dict[str, dict[str, str]]:
    """Per dimension, every code it may show and its label, in the order shown ("unknown"
    last). Retired list entries and referrals are kept: old records still hold them."""
    orders: dict[str, dict[str, str]] = {name: {} for name, _ in DIMENSIONS}
    for option in session.scalars(
        select(CaseOption).order_by(CaseOption.list, CaseOption.position, CaseOption.code)
    ):
        if option.list in {listed.value for listed in CaseList} and option.code != UNKNOWN:
            orders[option.list][option.code] = option.label
    orders["age_group"] = {code.value: label for code, label in AGE_LABELS.items()}
    orders["state"] = {code: label for code, label in STATES.items() if code != UNKNOWN}
    orders["police_wanted"] = orders["police_report"] = {
        code.value: label for code, label in ANSWER_LABELS.items()
    }
    for name in orders:
        if name != "referral":
            orders[name] = {**orders[name], UNKNOWN: UNKNOWN_LABEL}
    orders["referral"] = {
        str(referral_id): name
        for referral_id, name in session.execute(
            select(Referral.id, Referral.name).order_by(Referral.name, Referral.id)
        )
    }
    return orders


def _table(
    dimension: str,
    title: str,
    counts: Mapping[str, list[int]],
    order: Mapping[str, str],
    width: int,
    has_unknown: bool,
) -> Table:
    known = [code for code in order if code in counts or (has_unknown and code == UNKNOWN)]
    # A code no longer in any list (a referral deleted since): shown by its code, last.
    strays = sorted(code for code in counts if code not in order)
    rows: list[Row] = []
    for code in known + strays:
        row = counts.get(code, [0] * width)
        if sum(row) == 0 and code != UNKNOWN:
            continue
        rows.append(
            {"code": code, "label": order.get(code, code), "counts": list(row), "total": sum(row)}
        )
    column_totals = [sum(_number(row["counts"][i]) for row in rows) for i in range(width)]
    return {
        "dimension": dimension,
        "title": title,
        "rows": rows,
        "column_totals": list[Cell](column_totals),
        "total": sum(column_totals),
    }


def _number(cell: Cell) -> int:
    if isinstance(cell, str):
        raise ValueError("a published report cannot be published again")
    return cell


def publish(report: Report, threshold: int) -> Report:
    """A copy of ``report`` fit for anyone to read: every count, total and column total from 1
    to ``threshold - 1`` becomes ``"fewer than N"``, and the fewest further cells that keep
    them from being worked out become ``"suppressed"`` (:func:`suppress`); the number of
    cases too when small. Raises ValueError for a threshold below 3 (see
    :mod:`hotline.domain.suppression`) or a report already published."""
    tables: list[Table] = []
    for table in report["tables"]:
        counts = [[_number(cell) for cell in row["counts"]] for row in table["rows"]]
        listed = [row["code"] != UNKNOWN for row in table["rows"]]  # "unknown" is always there
        shown = suppress(counts, threshold, len(report["periods"]), listed)
        rows: list[Row] = [
            {**row, "counts": cells[:-1], "total": cells[-1]}
            for row, cells in zip(table["rows"], shown.rows, strict=True)
        ]
        tables.append(
            {**table, "rows": rows, "column_totals": shown.column_totals, "total": shown.total}
        )
    cases = _number(report["cases"])
    published: Report = {
        **report,
        "cases": _small(threshold) if 0 < cases < threshold else cases,
        "tables": tables,
        "suppress_below": threshold,
    }
    return published


def _small(threshold: int) -> str:
    # "fewer than 2" would say 1 (as hotline.domain.suppression knows).
    return fewer_than(threshold) if threshold > 2 else SUPPRESSED


def to_csv(published: Report) -> str:
    """One CSV for every table: ``dimension, code, label``, a column per period and ``total``;
    each table ends with its totals row (empty code, label "Total"). The first row after the
    header is the number of case records."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["dimension", "code", "label", *published["periods"], "total"])
    blanks = [""] * len(published["periods"])
    writer.writerow(["cases", "", "Case records", *blanks, published["cases"]])
    for table in published["tables"]:
        for row in table["rows"]:
            writer.writerow(
                # Labels are written by admins (and referral names by staff): never a formula.
                [
                    table["dimension"],
                    row["code"],
                    neutralise(row["label"]),
                    *row["counts"],
                    row["total"],
                ]
            )
        writer.writerow([table["dimension"], "", "Total", *table["column_totals"], table["total"]])
    return out.getvalue()


def to_html(published: Report) -> str:
    """A standalone page (no script, no outside resource): every table with its caption, and
    what the markers mean. Every label is escaped (admins write them)."""
    threshold = published.get("suppress_below")
    periods = published["periods"]
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Hotline report {_e(published['from'])} to {_e(_last_day(published))}</title>",
        f"<style>{_STYLE}</style></head>",
        "<body><main>",
        f"<h1>Hotline report, {_e(published['from'])} to {_e(_last_day(published))}</h1>",
        f"<p>Case records of conversations that opened in this time (UTC), counted by "
        f"{_e(published['by'])}: <strong>{_e(published['cases'])}</strong>. Only counts are "
        "published: nothing that identifies anyone, and no words anyone wrote.</p>",
    ]
    if threshold is not None:
        parts.append(
            f"<p>To keep any one person from being pointed at, a count from 1 to "
            f"{threshold - 1} is shown as <em>{_e(fewer_than(threshold))}</em>, and a few "
            f"other counts as <em>{SUPPRESSED}</em>, so that the hidden ones cannot be worked "
            "out from the totals. A case may have several types, venues, recruitments, means "
            "of control and referrals: those totals count entries, not cases.</p>"
        )
    for table in published["tables"]:
        heads = "".join(f'<th scope="col">{_e(p)}</th>' for p in periods)
        parts.append(
            # Scrolls on a narrow screen: a region reachable from the keyboard.
            f'<div class="scroll" role="region" tabindex="0" aria-label="{_e(table["title"])}">'
            f"<table><caption>{_e(table['title'])}</caption>"
            f'<thead><tr><th scope="col">Value</th>{heads}<th scope="col">Total</th></tr>'
            "</thead><tbody>"
        )
        for row in table["rows"]:
            parts.append(_html_row(row["label"], [*row["counts"], row["total"]]))
        parts.append("</tbody><tfoot>")
        parts.append(_html_row("Total", [*table["column_totals"], table["total"]]))
        parts.append("</tfoot></table></div>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;color:#1a1a1a;margin:2rem auto;max-width:72rem;"
    "padding:0 1rem}.scroll{overflow-x:auto;margin:1.5rem 0}table{border-collapse:collapse}"
    "caption{text-align:left;font-weight:600;font-size:1.1rem;padding:.25rem 0}"
    "th,td{border:1px solid #999;padding:.25rem .5rem}td{text-align:right}"
    "th[scope=row]{text-align:left;font-weight:normal}tfoot th,tfoot td{font-weight:600}"
)


def _html_row(label: str, cells: Iterable[Cell]) -> str:
    tds = "".join(f"<td>{_e(cell)}</td>" for cell in cells)
    return f'<tr><th scope="row">{_e(label)}</th>{tds}</tr>'


def _e(value: object) -> str:
    return escape(str(value))


def _last_day(published: Report) -> str:
    return (date.fromisoformat(published["to"]) - timedelta(days=1)).isoformat()


def totals_by_code(table: Table) -> dict[str, int]:
    """A table's row totals by code (exact counts only): for tests and charts."""
    return {row["code"]: _number(row["total"]) for row in table["rows"]}


__all__ = [
    "DIMENSIONS",
    "Period",
    "Report",
    "Row",
    "Table",
    "check_range",
    "publish",
    "report",
    "to_csv",
    "to_html",
]
