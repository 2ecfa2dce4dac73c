"""The ``hotline`` command line: a Flask CLI group."""

from __future__ import annotations

import sys

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
    """Apply every migration not yet applied (safe to run on every release)."""
    from hotline.db.migrate import upgrade

    runtime = current_app.extensions["hotline"]
    upgrade(runtime.engine)
    click.echo(f"database is at the newest schema ({runtime.engine.dialect.name})")


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
@with_appcontext
def users_create(email: str, role: str) -> None:
    """Create a staff account. The password is read from a prompt, or from stdin when piped."""
    from hotline.services.staff import StaffError, do_create_staff

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    runtime = current_app.extensions["hotline"]
    try:
        with runtime.sessions.begin() as session:
            user = do_create_staff(session, email, password, role, runtime.clock.now())
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} account {user.id}")


@cli.command(with_appcontext=False)
@click.option("--port", default=5000, show_default=True, help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--reset", is_flag=True, help="Start from an empty database.")
def demo(port: int, host: str, reset: bool) -> None:
    """Run the whole hotline on this machine: SQLite, tasks in-process, no Twilio."""
    from hotline.demo import run_demo

    try:
        run_demo(host=host, port=port, reset=reset)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def init_app(app: Flask) -> None:
    """Make the same commands available as ``flask --app hotline ...``."""
    for command in (db, users):
        app.cli.add_command(command)


def main() -> None:
    cli(prog_name="hotline")


__all__ = ["Mode", "cli", "main"]
