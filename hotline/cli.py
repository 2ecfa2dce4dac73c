"""The ``hotline`` command line: a plain click group.

Not Flask's CLI group: listing the commands, ``--help`` and ``--version`` need no environment
and load no app, and Flask's own options (``--app``, ``--env-file``, ``--debug``) and ``.env``
loading do not apply. A command that works on the hotline's data builds the app when it runs
(:func:`_runtime`): from the environment, or a demo's instance folder with ``--instance``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask

from hotline.settings import Mode, SettingsError

if TYPE_CHECKING:
    from hotline.runtime import Runtime


@dataclass
class _Target:
    """Which hotline the admin commands work on: the environment's, or a demo's folder."""

    instance: Path | None
    demo: bool
    _app: Flask | None = field(default=None, init=False)

    def app(self) -> Flask:
        if self._app is None:
            self._app = self._build()
        return self._app

    def _build(self) -> Flask:
        from hotline import create_app

        try:
            if self.instance is None and not self.demo:
                return create_app({"command_line": True})
            from hotline.devtools.demo import default_instance, demo_settings

            instance = self.instance or default_instance()
            if not (instance / "hotline.sqlite3").is_file():
                raise click.ClickException(
                    f"no demo database in {instance}: start `hotline demo` there first"
                )
            return create_app({"settings": demo_settings(instance)})
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None


def _runtime() -> Runtime:
    """The runtime of the hotline this command works on, inside its app context (for as long
    as the command runs)."""
    from flask import current_app, has_app_context

    from hotline import runtime_of

    if has_app_context():  # run as `flask --app hotline ...`: that app is the one
        return runtime_of(current_app._get_current_object())  # type: ignore[attr-defined]
    context = click.get_current_context()
    target = context.find_object(_Target) or _Target(None, demo=False)
    app = target.app()
    context.with_resource(app.app_context())
    return runtime_of(app)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hotline", prog_name="hotline", message="%(prog)s %(version)s")
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Work on the demo started with `hotline demo --instance DIR` (its database and keys) "
    "instead of the hotline the environment describes.",
)
@click.option(
    "--demo",
    "use_demo",
    is_flag=True,
    help="Work on the demo started with plain `hotline demo` (its default instance folder).",
)
@click.pass_context
def cli(context: click.Context, instance: Path | None, use_demo: bool) -> None:
    """The hotline's command line.

    Without --instance or --demo, the commands work on the hotline the environment describes
    (HOTLINE_ENV, HOTLINE_DATABASE_URL, ...: see the README's Deploying section).
    """
    context.obj = _Target(instance, demo=use_demo)


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied (safe to run on every release).

    With HOTLINE_MIGRATE_DATABASE_URL the migrations run as that URL's role, the owner of the
    tables, and the app's role (HOTLINE_DATABASE_APP_ROLE, or HOTLINE_DATABASE_URL's user) is
    granted what the app needs and no more: on the event log, only reading and adding.
    """
    from hotline.db.grants import AppRoleError
    from hotline.db.migrate import upgrade
    from hotline.db.session import make_engine

    runtime = _runtime()
    settings = runtime.settings
    owner_url = settings.migrate_database_url
    engine = make_engine(owner_url) if owner_url else runtime.engine
    try:
        upgrade(engine, app_role=settings.database_app_role, vault=runtime.vault)
    except AppRoleError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if owner_url:
            engine.dispose()
    click.echo(f"database is at the newest schema ({engine.dialect.name})")
    from hotline.services.quick_replies import seed_introductions

    with runtime.sessions.begin() as session:
        if seed_introductions(session):
            click.echo("first run: added the introduction quick replies (English, Spanish)")
    if settings.database_app_role:
        click.echo("the app's database role holds what it needs; it owns nothing")


@cli.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["advocate", "supervisor", "admin"]),
    required=True,
    help="What the account may do.",
)
@click.option("--name", default=None, help='How colleagues see them, e.g. "Maria Lopez".')
def users_create(email: str, role: str, name: str | None) -> None:
    """Create a staff account. The password is read from a prompt, or from stdin when piped; its
    owner chooses their own at their first sign-in."""
    from hotline.services.accounts import AccountError
    from hotline.services.staff import StaffError, do_create_staff
    from hotline.services.staff_names import check_display_name

    try:
        display_name = None if name is None else check_display_name(name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None

    runtime = _runtime()  # a setup that cannot start is said before the password is asked
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with runtime.sessions.begin() as session:
            user = do_create_staff(
                session, email, password, role, runtime.clock.now(),
                audit={"display_name": display_name} if display_name else None,
                must_change_password=True,
            )  # fmt: skip
            user.display_name = display_name
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} account {user.id}")


@cli.command()
def purge() -> None:
    """Erase what is past the retention period (HOTLINE_RETENTION_DAYS) and staff records
    past HOTLINE_STAFF_RECORD_DAYS, and print what was removed."""
    from hotline.background import jobs

    report = jobs.purge(_runtime())
    for line in report.lines():
        click.echo(line)


@cli.group()
def review() -> None:
    """The weekly quality review."""


@review.command("draw")
@click.option(
    "--week",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Any day of the week to draw (default: the last week that ended). Weeks start on "
    "Monday, UTC.",
)
def review_draw(week: datetime | None) -> None:
    """Draw a week's random sample of closed conversations for review. Drawing again adds none."""
    from hotline.background import jobs
    from hotline.domain.review import week_of
    from hotline.services.errors import Refusal

    runtime = _runtime()
    try:
        drawn = jobs.draw_reviews(runtime, week_of(week.date()) if week else None)
    except Refusal as exc:
        raise click.ClickException(str(exc)) from None
    monday = drawn.week_start.isoformat()
    if drawn.already_drawn:
        click.echo(f"the week of Monday {monday} was drawn already; nothing added")
    else:
        click.echo(
            f"drew {len(drawn.sampled)} of {drawn.candidates} conversations closed in the week "
            f"of Monday {monday}"
        )


@cli.command("report")
@click.option(
    "--from",
    "start",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The first day counted (YYYY-MM-DD, UTC).",
)
@click.option(
    "--to",
    "end",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The first day not counted (YYYY-MM-DD): --from 2026-01-01 --to 2027-01-01 is 2026.",
)
@click.option(
    "--format",
    "output",
    required=True,
    type=click.Choice(["csv", "json", "html"]),
    help="csv or json (the same figures), or html: a standalone page to publish.",
)
@click.option(
    "--by",
    default="year",
    show_default=True,
    type=click.Choice(["month", "quarter", "year"]),
    help="The period each column counts.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the report to this file instead of printing it.",
)
def report_command(start: datetime, end: datetime, output: str, by: str, out: Path | None) -> None:
    """The public report of the case records: counts only, every count below
    HOTLINE_REPORT_SUPPRESS_BELOW (5) suppressed so that none can be worked out. Audited."""
    from hotline.infra.taskqueue import InProcessQueue
    from hotline.services.errors import Refusal
    from hotline.services.public_report import make_public_report

    runtime = _runtime()
    if isinstance(runtime.tasks, InProcessQueue):
        # A report needs no background job: none runs against the database meanwhile.
        runtime.tasks.stop()
    try:
        with runtime.sessions.begin() as session:
            text = make_public_report(
                session, start.date(), end.date(), by, output,
                runtime.settings.report_suppress_below, runtime.clock.now(),
            )  # fmt: skip
            if out is not None:  # before the event is committed: no report, no event
                try:
                    out.write_text(text, encoding="utf-8")
                except OSError as exc:
                    raise click.ClickException(f"cannot write {out} ({exc.strerror})") from None
    except Refusal as exc:
        raise click.ClickException(str(exc)) from None
    if out is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote the {output} report to {out}")


@cli.command("rotate-keys")
@click.option("--batch-size", default=500, show_default=True, help="Rows per transaction.")
def rotate_keys(batch_size: int) -> None:
    """Re-encrypt everything under the newest key in HOTLINE_DATA_KEYS.

    Safe to interrupt and run again, and to run while the hotline serves texters. Once it
    reports done, the older keys can be removed from HOTLINE_DATA_KEYS.
    """
    from hotline.services.privacy import rotate_keys as rotate

    runtime = _runtime()
    report = rotate(runtime.sessions, runtime.vault, batch_size=batch_size)
    click.echo(
        f"re-encrypted {report.rotated} values ({report.already_current} were current already); "
        "every value is now under the newest key"
    )


@cli.command()
@click.option("--port", default=5000, show_default=True, help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--reset", is_flag=True, help="Start from an empty database.")
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the demo's database, secrets and sign-ins (default: the app's instance "
    "folder, which `hotline --demo ...` reaches too).",
)
@click.option("--quiet", is_flag=True, help="Log only the requests that fail.")
def demo(port: int, host: str, reset: bool, instance: Path | None, quiet: bool) -> None:
    """Run the whole hotline on this machine: SQLite, tasks in-process, no Twilio."""
    from hotline.devtools.demo import run_demo

    target = click.get_current_context().find_object(_Target)
    instance = instance or (target.instance if target else None)
    try:
        run_demo(host=host, port=port, reset=reset, instance=instance, quiet=quiet)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command()
@click.argument("text")
@click.option("--from", "from_number", required=True, help="The texter's (fake) number.")
@click.option(
    "--url", default="http://127.0.0.1:5000", show_default=True, help="The running hotline."
)
@click.option("--wait", default=5.0, show_default=True, help="Seconds to wait for replies.")
def simulate(text: str, from_number: str, url: str, wait: float) -> None:
    """Text the running demo hotline as a texter would, and print its replies."""
    from hotline.devtools.simulator_client import simulate as send_simulated

    send_simulated(text, from_number, url, wait)


def init_app(app: Flask) -> None:
    """Make the same commands available as ``flask --app hotline ...``."""
    for command in (db, users):
        app.cli.add_command(command)


def main() -> None:
    cli(prog_name="hotline")


__all__ = ["Mode", "cli", "main"]
