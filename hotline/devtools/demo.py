"""``hotline demo``: the whole hotline on one machine, with nothing to set up."""

from __future__ import annotations

import errno
import os
import re
import secrets
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path

import click
from sqlalchemy import make_url, select
from werkzeug.serving import WSGIRequestHandler, make_server

from hotline import create_app, runtime_of
from hotline.db.migrate import upgrade
from hotline.db.models import QuickReply, Referral, StaffUser
from hotline.infra.taskqueue import InProcessQueue
from hotline.runtime import Runtime
from hotline.services.quick_replies import seed_introductions
from hotline.services.staff import do_create_staff
from hotline.settings import Mode, Settings

# A database other than the demo's own, named by the environment: the demo never touches it.
IGNORED_VARIABLES = (
    "HOTLINE_DATABASE_URL",
    "HOTLINE_MIGRATE_DATABASE_URL",
    "HOTLINE_DATABASE_APP_ROLE",
)
DEMO_STAFF = (("advocate@demo.hotline", "advocate"), ("supervisor@demo.hotline", "supervisor"))


def run_demo(
    *, host: str, port: int, reset: bool, instance: Path | None = None, quiet: bool = False
) -> None:
    """Serve the demo; ``instance`` is the folder for its database, secrets and sign-ins.

    The port is taken first, so nothing says "running" that is not listening; a busy port is
    one line and exit status 1 (:class:`click.ClickException`). The pages' once-a-second polls
    are not logged; with ``quiet`` no successful request is.
    """
    listening = _listen(host, port)
    try:
        instance = instance or default_instance()
        ignored = [name for name in IGNORED_VARIABLES if os.environ.get(name, "").strip()]
        if ignored:
            click.echo(
                f"the demo ignores {', '.join(ignored)}: it only ever writes to its own "
                f"database in {instance}"
            )
        settings = demo_settings(instance)
        if reset:
            _remove_sqlite_database(settings)
        base = f"http://{host}:{port}"
        # Signatures and the simulator's delivery reports use this address.
        app = create_app({"settings": settings.with_overrides(public_url=base)})
        runtime = runtime_of(app)
        upgrade(runtime.engine, vault=runtime.vault)
        passwords = _seed_staff(runtime, instance)
        _seed_directory(runtime)
        _seed_cases(runtime)
        server = make_server(
            host,
            port,
            app,
            threaded=True,
            request_handler=QuietRequests if quiet else QuietPolls,
            fd=listening.fileno(),
        )
    finally:
        listening.close()  # the server holds its own copy of the socket
    click.echo(f"hotline demo running on {base}  (Ctrl-C to stop)")
    click.echo(f"  simulator:  {base}/simulator")
    click.echo(f"  console:    {base}/console")
    click.echo(f"  supervisor: {base}/supervisor")
    for email, password in passwords.items():
        click.echo(f"  sign-in:    {email} / {password}")
    click.echo(f"  passwords:  kept in {instance}{os.sep}demo-*.password")
    click.echo(f"  webhook:    {base}/twilio/sms")
    click.echo(f"  health:     {base}/healthz")
    click.echo(f"  database:   {runtime.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"  accounts:   hotline --instance {instance} users create EMAIL --role advocate")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if isinstance(runtime.tasks, InProcessQueue):
            runtime.tasks.stop()
        runtime.engine.dispose()
        click.echo("hotline demo stopped")


def _listen(host: str, port: int) -> socket.socket:
    """The demo's listening socket, bound before anything else happens."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listening = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host} ({exc.strerror})") from None
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart's TIME_WAIT
        listening.bind((host, port))
        listening.listen(128)
    except OSError as exc:
        listening.close()
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"port {port} is already in use on {host}: stop what is using it, "
                "or choose another with --port"
            ) from None
        raise click.ClickException(
            f"cannot listen on {host} port {port} ({exc.strerror}); choose another with --port"
        ) from None
    return listening


# What the pages ask about once a second: the console's (and supervisor's) version counters, and
# the simulator's phones. A line for each would bury every other line of the terminal.
POLLS = re.compile(r"^/(?:console/api/poll|simulator/api/phones(?:/\d+/messages)?)(?:\?|$)")


class QuietPolls(WSGIRequestHandler):
    """Logs requests as werkzeug does, but not the pages' polls that succeed."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        failed = str(code).startswith(("4", "5"))
        if not failed and self._is_poll():
            return
        super().log_request(code, size)

    def _is_poll(self) -> bool:
        return getattr(self, "command", "") == "GET" and bool(
            POLLS.match(getattr(self, "path", ""))
        )


class QuietRequests(QuietPolls):
    """``--quiet``: only requests that failed (4xx, 5xx) are logged."""

    def _is_poll(self) -> bool:
        return True


def default_instance() -> Path:
    """Where ``hotline demo`` keeps its database, keys and sign-ins without ``--instance``."""
    from flask import Flask

    return Path(Flask("hotline").instance_path)


def demo_settings(instance: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """The demo's settings: its own SQLite database and keys in ``instance``, whatever database
    the environment names (the demo creates accounts with printed passwords: it must never do
    that in a database it did not create)."""
    env = os.environ if environ is None else environ
    own = {name: value for name, value in env.items() if name not in IGNORED_VARIABLES}
    return Settings.from_env(own, mode=Mode.DEMO, instance_path=instance)


def _remove_sqlite_database(settings: Settings) -> None:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException("--reset only removes the demo's own SQLite database")
    for suffix in ("", "-wal", "-shm"):
        Path(url.database + suffix).unlink(missing_ok=True)


def _seed_directory(runtime: Runtime) -> None:
    """A few quick replies and (fictional) referral entries, once."""
    with (Path(__file__).with_name("demo_directory.toml")).open("rb") as handle:
        directory = tomllib.load(handle)
    with runtime.sessions.begin() as session:
        if session.scalar(select(QuickReply.id).limit(1)) is None:
            seed_introductions(session)
            for entry in directory["quick_replies"]:
                session.add(QuickReply(active=True, **entry))
        if session.scalar(select(Referral.id).limit(1)) is None:
            for entry in directory["referrals"]:
                session.add(Referral(active=True, **entry))


def _seed_cases(runtime: Runtime) -> None:
    """A fictional past year of closed conversations with case records, once, for the reports
    (:mod:`hotline.devtools.demo_cases`)."""
    from hotline.devtools.demo_cases import seed_demo_cases

    with runtime.sessions.begin() as session:
        seed_demo_cases(session, runtime.clock.now())


def _seed_staff(runtime: Runtime, secret_dir: Path) -> dict[str, str]:
    """Demo sign-ins; the passwords live in the instance folder so they survive a restart."""
    passwords: dict[str, str] = {}
    secret_dir.mkdir(parents=True, exist_ok=True)
    with runtime.sessions.begin() as session:
        for email, role in DEMO_STAFF:
            path = secret_dir / f"demo-{role}.password"
            exists = session.scalar(select(StaffUser.id).where(StaffUser.email == email))
            if exists is None or not path.exists():
                password = secrets.token_urlsafe(9)
                if exists is None:
                    do_create_staff(session, email, password, role, runtime.clock.now())
                else:
                    continue
                path.write_text(password)
                path.chmod(0o600)
            passwords[email] = path.read_text().strip()
    return passwords
