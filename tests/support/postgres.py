"""A PostgreSQL server of a test's own, to stop and start without touching anybody else's.

Fault tests stop the database under a running stack; the machine's shared server must stay up
for every other test, so this makes a throw-away cluster with ``initdb``, in a temporary
directory, listening on a free loopback port and on a socket in that directory, with trust
authentication and fsync off (nothing here has to survive a power cut).

PostgreSQL refuses to run as root. When the tests run as root (CI does), the server runs as the
``postgres`` account the Debian package creates, or as ``nobody`` without one, and the cluster's
directory belongs to that account.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import psycopg
from psycopg import sql

from tests.support.stack import free_port, wait_until

# The three ways ``pg_ctl stop -m`` can stop the postmaster, by the signal behind each.
STOP_SIGNALS = {
    "smart": signal.SIGTERM,  # wait for every client to go
    "fast": signal.SIGINT,  # roll back and disconnect every client, then a clean shutdown
    "immediate": signal.SIGQUIT,  # no shutdown checkpoint: recovery at the next start
}
SUPERUSER = "postgres"


class _Account(TypedDict):
    """Popen's arguments for the account a process runs as (None: the caller's)."""

    user: int | None
    group: int | None
    extra_groups: list[int] | None


def postgres_bin_dir() -> Path:
    """The directory holding ``initdb`` and ``postgres``: on the PATH, else the newest
    ``/usr/lib/postgresql/<version>/bin`` (Debian keeps them off the PATH).

    Raises FileNotFoundError when there is none.
    """
    on_path = shutil.which("initdb")
    if on_path is not None:
        found = Path(on_path).resolve().parent  # Debian's are links into their version's bin
        if (found / "postgres").is_file():
            return found

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))

    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=version)
    for initdb in reversed(installed):
        if (initdb.parent / "postgres").is_file():
            return initdb.parent
    raise FileNotFoundError("initdb")


def server_account() -> pwd.struct_passwd | None:
    """The account to run the server as: None for the current one, unless that is root.

    Raises LookupError when running as root and neither ``postgres`` nor ``nobody`` exists.
    """
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise LookupError("running as root, and no postgres or nobody account to run PostgreSQL as")


@dataclass
class PrivatePostgres:
    """One throw-away PostgreSQL cluster. :meth:`create` makes it; it starts stopped."""

    bin_dir: Path
    root: Path  # the cluster (``data``) and the socket directory live here
    port: int
    log_path: Path
    account: pwd.struct_passwd | None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def create(cls, log_dir: Path) -> PrivatePostgres:
        """``initdb`` a new cluster on a free port; the server logs to ``log_dir/postgres.log``.

        Raises FileNotFoundError without the PostgreSQL server binaries, LookupError as root
        without an account to run them as, CalledProcessError when ``initdb`` fails.
        """
        bin_dir = postgres_bin_dir()
        account = server_account()
        # Not under pytest's tmp_path: as root that is a 0700 directory the server cannot enter.
        root = Path(tempfile.mkdtemp(prefix="hotline-postgres-"))
        server = cls(bin_dir, root, free_port(), log_dir / "postgres.log", account)
        try:
            if account is not None:
                os.chown(root, account.pw_uid, account.pw_gid)
            (root / "run").mkdir()
            if account is not None:
                os.chown(root / "run", account.pw_uid, account.pw_gid)
            server._run(
                "initdb",
                "--pgdata",
                str(server.data_dir),
                "--auth",
                "trust",
                "--username",
                SUPERUSER,
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            )
        except BaseException:
            server.destroy()
            raise
        return server

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server, over TCP like production's."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it takes connections."""
        if self.running():
            return
        log = self.log_path.open("ab")
        try:
            self.popen = subprocess.Popen(
                [
                    str(self.bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.root / 'run'}",
                    "-c",
                    "fsync=off",
                    "-c",
                    "full_page_writes=off",
                ],
                env=self._env(),
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._as_account(),
            )
        finally:
            log.close()
        wait_until(lambda: self.accepting() or not self.running(), timeout, "PostgreSQL")
        if not self.accepting():
            raise RuntimeError(f"PostgreSQL did not start; see {self.log_path}")

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        """Stop the server the way ``pg_ctl stop -m mode`` would, and wait until it is gone.

        Only the postmaster is signalled: it stops its own processes in the mode's order.
        """
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.popen.send_signal(STOP_SIGNALS[mode])
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        self.popen = None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def accepting(self) -> bool:
        """The server answers a query now."""
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=SUPERUSER,
                dbname="postgres",
                connect_timeout=1,
            ) as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def create_database(self, name: str) -> str:
        """Create an empty database; its URL."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def destroy(self) -> None:
        """Stop the server if it runs, and delete the cluster."""
        self.stop("immediate", timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        with self.log_path.open("ab") as log:
            subprocess.run(
                [str(self.bin_dir / program), *args],
                env=self._env(),
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=120,
                **self._as_account(),
            )

    def _as_account(self) -> _Account:
        if self.account is None:
            return {"user": None, "group": None, "extra_groups": None}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}

    def _env(self) -> dict[str, str]:
        # No PG* variable of the caller's may point the tools at another server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self.account is not None:
            env["HOME"] = str(self.root)
            env["USER"] = env["LOGNAME"] = self.account.pw_name
        return env
