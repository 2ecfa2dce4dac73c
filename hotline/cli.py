"""The ``hotline`` command line: a Flask CLI group."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from hotline.settings import Mode, SettingsError


def _create_app() -> Flask:
    from hotline import create_app

    try:
        return create_app()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def cli() -> None:
    """The hotline's command line."""


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply every migration not yet applied (safe to run on every release).

    With HOTLINE_MIGRATE_DATABASE_URL the migrations run as that URL's role, the owner of the
    tables, and the app's role (HOTLINE_DATABASE_APP_ROLE, or HOTLINE_DATABASE_URL's user) is
    granted what the app needs and no more: on the event log, only reading and adding.
    """
    from hotline.db.grants import AppRoleError
    from hotline.db.migrate import upgrade
    from hotline.db.session import make_engine

    runtime = current_app.extensions["hotline"]
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
@with_appcontext
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

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    runtime = current_app.extensions["hotline"]
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

    report = jobs.purge(current_app.extensions["hotline"])
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
@with_appcontext
def review_draw(week: datetime | None) -> None:
    """Draw a week's random sample of closed conversations for review. Drawing again adds none."""
    from hotline.background import jobs
    from hotline.domain.review import week_of
    from hotline.services.errors import Refusal

    runtime = current_app.extensions["hotline"]
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


@cli.command("rotate-keys")
@click.option("--batch-size", default=500, show_default=True, help="Rows per transaction.")
def rotate_keys(batch_size: int) -> None:
    """Re-encrypt everything under the newest key in HOTLINE_DATA_KEYS.

    Safe to interrupt and run again, and to run while the hotline serves texters. Once it
    reports done, the older keys can be removed from HOTLINE_DATA_KEYS.
    """
    from hotline.services.privacy import rotate_keys as rotate

    runtime = current_app.extensions["hotline"]
    report = rotate(runtime.sessions, runtime.vault, batch_size=batch_size)
    click.echo(
        f"re-encrypted {report.rotated} values ({report.already_current} were current already); "
        "every value is now under the newest key"
    )


@cli.command(with_appcontext=False)
@click.option("--port", default=5000, show_default=True, help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--reset", is_flag=True, help="Start from an empty database.")
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the demo's database, secrets and sign-ins (default: ./instance of the app).",
)
def demo(port: int, host: str, reset: bool, instance: Path | None) -> None:
    """Run the whole hotline on this machine: SQLite, tasks in-process, no Twilio."""
    from hotline.devtools.demo import run_demo

    try:
        run_demo(host=host, port=port, reset=reset, instance=instance)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@cli.command(with_appcontext=False)
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
