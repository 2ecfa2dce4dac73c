"""The hotline command line: db upgrade, users create, purge, rotate-keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from hotline.cli import cli
from hotline.db.models import QuickReply, StaffUser
from hotline.db.session import make_engine
from hotline.infra.vault import Vault
from hotline.services.privacy import PurgeReport


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "HOTLINE_ENV": "test",
        "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "HOTLINE_DATA_KEYS": Fernet.generate_key().decode(),
        "HOTLINE_HASH_KEY": Fernet.generate_key().decode(),
    }


def run(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def staff_count(env: dict[str, str]) -> int:
    engine = make_engine(env["HOTLINE_DATABASE_URL"])
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(StaffUser))
    engine.dispose()
    return int(count or 0)


def test_db_upgrade_then_users_create_reads_the_password_from_stdin(env: dict[str, str]) -> None:
    code, output = run(env, "db", "upgrade")
    assert code == 0 and "newest schema" in output
    code, output = run(
        env,
        "users",
        "create",
        "Lead@Example.org",
        "--role",
        "supervisor",
        stdin="a long enough password\n",
    )
    assert code == 0 and "created supervisor account" in output
    assert "a long enough password" not in output
    engine = make_engine(env["HOTLINE_DATABASE_URL"])
    with engine.connect() as connection:
        row = connection.execute(
            select(StaffUser.email, StaffUser.password_hash, StaffUser.must_change_password)
        ).one()
    engine.dispose()
    assert row.must_change_password  # its owner chooses their own password at first sign-in
    assert row.email == "lead@example.org" and row.password_hash.startswith("$argon2")


@pytest.mark.parametrize(
    ("args", "stdin", "error"),
    [
        (["not-an-email", "--role", "advocate"], "a long enough password\n", "not an email"),
        (["a@example.org", "--role", "advocate"], "short\n", "at least 12 characters"),
        (["a@example.org", "--role", "advocate"], "qwerty123456\n", "most common ones"),
        (
            ["a@example.org", "--role", "boss"],
            "a long enough password\n",
            "Invalid value for '--role'",
        ),
    ],
)
def test_users_create_refuses_bad_input_and_creates_nothing(
    env: dict[str, str], args: list[str], stdin: str, error: str
) -> None:
    run(env, "db", "upgrade")
    code, output = run(env, "users", "create", *args, stdin=stdin)
    assert code != 0 and error in output
    assert staff_count(env) == 0


def test_users_create_refuses_a_duplicate(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    run(
        env,
        "users",
        "create",
        "a@example.org",
        "--role",
        "advocate",
        stdin="a long enough password\n",
    )
    code, output = run(
        env, "users", "create", "A@example.org", "--role", "admin", stdin="a long enough password\n"
    )
    assert code != 0 and "exists already" in output
    assert staff_count(env) == 1


def test_purge_and_rotate_keys(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    run(
        env,
        "users",
        "create",
        "a@example.org",
        "--role",
        "advocate",
        stdin="a long enough password\n",
    )
    code, output = run(env, "purge")
    assert code == 0 and output.splitlines() == PurgeReport().lines()
    assert "0 texts emptied" in output and "0 sign-in attempts deleted" in output

    old_key = env["HOTLINE_DATA_KEYS"]
    engine = make_engine(env["HOTLINE_DATABASE_URL"])
    with engine.begin() as connection:  # a secret under the old key, as two-factor set-up leaves it
        connection.execute(
            StaffUser.__table__.update().values(
                totp_secret_ciphertext=Vault((old_key,)).encrypt("S3CRET")
            )
        )
    new_key = Fernet.generate_key().decode()
    rotated_env = {**env, "HOTLINE_DATA_KEYS": f"{new_key},{old_key}"}
    code, output = run(rotated_env, "rotate-keys", "--batch-size", "1")
    assert code == 0 and "re-encrypted 1 values" in output
    with engine.connect() as connection:
        secret = connection.scalar(select(StaffUser.totp_secret_ciphertext))
    engine.dispose()
    assert Vault((new_key,)).decrypt(secret) == "S3CRET"


def test_a_production_start_without_settings_names_what_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"HOTLINE_ENV": "production"})
    assert result.exit_code != 0
    assert "HOTLINE_SECRET_KEY is required" in result.output


def test_db_upgrade_adds_the_introduction_quick_replies_on_the_first_run_only(
    env: dict[str, str],
) -> None:
    code, output = run(env, "db", "upgrade")
    assert code == 0 and "added the introduction quick replies" in output
    code, output = run(env, "db", "upgrade")
    assert code == 0 and "introduction" not in output
    engine = make_engine(env["HOTLINE_DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(QuickReply)) == 2
    engine.dispose()
