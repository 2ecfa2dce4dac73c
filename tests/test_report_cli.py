"""``hotline report``: the public report from the command line, on either database and on a
demo's instance; always suppressed, audited, and one clear line for what it cannot do. And the
threshold's setting, HOTLINE_REPORT_SUPPRESS_BELOW."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from hotline.cli import cli
from hotline.db.models import CaseRecord, Event
from hotline.db.session import make_engine
from hotline.devtools.demo import demo_settings
from hotline.devtools.demo_cases import DEMO_CASES, seed_demo_cases
from hotline.settings import Mode, Settings, SettingsError
from tests.case_report_data import add_case


@pytest.fixture
def env(isolated_database_url: str) -> dict[str, str]:
    engine = make_engine(isolated_database_url)
    with sessionmaker(engine).begin() as session:
        for month, kind in ((1, "sex_trafficking"), (2, "sex_trafficking"), (5, "unclear")):
            add_case(session, datetime(2026, month, 3, tzinfo=UTC), kind=kind, state="TX")
        for day in range(1, 8):
            add_case(session, datetime(2026, 8, day, tzinfo=UTC), kind="labor_trafficking")
    engine.dispose()
    return {
        "HOTLINE_ENV": "test",
        "HOTLINE_DATABASE_URL": isolated_database_url,
        "HOTLINE_DATA_KEYS": Fernet.generate_key().decode(),
        "HOTLINE_HASH_KEY": Fernet.generate_key().decode(),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def made(env: dict[str, str]) -> list[dict[str, object]]:
    engine = make_engine(env["HOTLINE_DATABASE_URL"])
    with sessionmaker(engine)() as session:
        details = [
            dict(event.erasable.detail or {}) if event.erasable else {}
            for event in session.scalars(select(Event).where(Event.kind == "report_made"))
        ]
    engine.dispose()
    return details


YEAR = ("--from", "2026-01-01", "--to", "2027-01-01")


def test_a_csv_report_on_stdout_is_suppressed_and_audited(env: dict[str, str]) -> None:
    code, output = run(env, "report", *YEAR, "--format", "csv")
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "dimension,code,label,2026,total"
    assert "cases,,Case records,,10" in lines
    assert "kind,labor_trafficking,Labor trafficking,7,7" in lines
    # 2 and 1 are small; the small ones are hidden with a complement: nothing below 5 shows.
    assert "kind,sex_trafficking,Sex trafficking,fewer than 5,fewer than 5" in lines
    assert "kind,unclear,Unclear,fewer than 5,fewer than 5" in lines
    assert "kind,,Total,10,10" in lines
    assert made(env) == [
        {"who": "command line", "start": "2026-01-01", "end": "2027-01-01", "period": "year",
         "format": "csv", "suppress_below": 5}
    ]  # fmt: skip


def test_json_by_quarter_and_html_to_a_file(env: dict[str, str], tmp_path: Path) -> None:
    code, output = run(env, "report", *YEAR, "--format", "json", "--by", "quarter")
    assert code == 0, output
    published = json.loads(output)
    assert published["periods"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert published["suppress_below"] == 5
    (kind,) = [t for t in published["tables"] if t["dimension"] == "kind"]
    assert {r["code"]: r["counts"] for r in kind["rows"]}["labor_trafficking"] == [0, 0, 7, 0]
    for table in published["tables"]:
        for row in table["rows"]:
            for cell in [*row["counts"], row["total"]]:
                assert not (isinstance(cell, int) and 0 < cell < 5)

    out = tmp_path / "annual.html"
    code, output = run(env, "report", *YEAR, "--format", "html", "--out", str(out))
    assert code == 0 and output == f"wrote the html report to {out}\n"
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<caption>Kind of situation</caption>" in page
    assert "fewer than 5" in page and "<script" not in page
    assert [d["format"] for d in made(env)] == ["json", "html"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--from", "2026-13-01", "--to", "2027-01-01", "--format", "csv"],
         "Invalid value for '--from': '2026-13-01' does not match the format '%Y-%m-%d'"),
        (["--from", "2027-01-01", "--to", "2026-01-01", "--format", "csv"],
         "Error: from must be before to (to is the first day not counted)"),
        ([*YEAR, "--format", "pdf"], "Invalid value for '--format': 'pdf' is not one of"),
        ([*YEAR, "--format", "csv", "--by", "week"], "Invalid value for '--by'"),
        (["--to", "2027-01-01", "--format", "csv"], "Missing option '--from'"),
        (["--from", "1990-01-01", "--to", "2027-01-01", "--format", "csv", "--by", "month"],
         "Error: a report covers at most 120 periods"),
    ],
)  # fmt: skip
def test_bad_arguments_get_one_clear_line_and_nothing_is_recorded(
    env: dict[str, str], args: list[str], error: str
) -> None:
    code, output = run(env, "report", *args)
    assert code != 0
    assert error in output
    assert "Traceback" not in output
    assert made(env) == []


def test_a_file_that_cannot_be_written_records_nothing(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "missing-folder" / "report.csv"
    code, output = run(env, "report", *YEAR, "--format", "csv", "--out", str(out))
    assert code == 1
    assert output.startswith(f"Error: cannot write {out}")
    assert made(env) == []


def test_the_threshold_is_a_setting(env: dict[str, str]) -> None:
    code, output = run(
        {**env, "HOTLINE_REPORT_SUPPRESS_BELOW": "2"}, "report", *YEAR, "--format", "csv"
    )
    assert code == 0, output
    lines = output.splitlines()
    # Only the 1 is small; "fewer than 2" would say it is 1, so it reads "suppressed", and so
    # does the 2 beside it: the unknown row's 0 would not do, since a reader knows a listed
    # row is not zero.
    assert "kind,sex_trafficking,Sex trafficking,suppressed,suppressed" in lines
    assert "kind,unclear,Unclear,suppressed,suppressed" in lines
    assert "kind,unknown,Unknown,0,0" in lines
    assert "kind,labor_trafficking,Labor trafficking,7,7" in lines
    assert "fewer than" not in output
    code, output = run(
        {**env, "HOTLINE_REPORT_SUPPRESS_BELOW": "8"}, "report", *YEAR, "--format", "csv"
    )
    assert "kind,labor_trafficking,Labor trafficking,fewer than 8,fewer than 8" in output


@pytest.mark.parametrize("value", ["1", "0", "-3", "five", "2.5", "101"])
def test_a_threshold_below_two_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {"HOTLINE_REPORT_SUPPRESS_BELOW": value}, mode=Mode.TEST, instance_path=tmp_path
        )
    assert "HOTLINE_REPORT_SUPPRESS_BELOW must be a whole number from 2 to 100" in str(
        refused.value
    )


def test_the_default_threshold_is_five(tmp_path: Path) -> None:
    assert Settings.from_env({}, mode=Mode.TEST, instance_path=tmp_path).report_suppress_below == 5


def test_the_demo_seeds_its_past_year_once_and_reports_on_it(
    tmp_path: Path, sqlite_template: Path
) -> None:
    instance = tmp_path / "demo"
    instance.mkdir()
    shutil.copyfile(sqlite_template, instance / "hotline.sqlite3")
    settings = demo_settings(instance, {})
    engine = make_engine(settings.database_url)
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    with sessionmaker(engine).begin() as session:
        assert seed_demo_cases(session, now) == DEMO_CASES
    with sessionmaker(engine).begin() as session:
        assert seed_demo_cases(session, now) == 0  # once
        assert session.scalar(select(func.count()).select_from(CaseRecord)) == DEMO_CASES
    engine.dispose()

    code, output = run({}, "--instance", str(instance), "report", "--from", "2025-12-01",
                       "--to", "2026-12-01", "--format", "csv")  # fmt: skip
    assert code == 0, output
    assert "cases,,Case records,,,150" in output.splitlines()
