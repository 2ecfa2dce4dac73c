"""A throwaway PostgreSQL database, for benchmarks: made, migrated, and dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from hotline.db.migrate import upgrade
from hotline.db.session import make_engine
from hotline.settings import Mode, Settings

ADMIN_URL = os.environ.get(
    "HOTLINE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_database(admin_url: str = ADMIN_URL) -> Iterator[str]:
    """Yield the URL of a new, migrated database; drop it on the way out, whatever happened."""
    name = f"hotline_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_settings(database_url: str, **overrides: Any) -> Settings:
    """Test-mode settings for a benchmark's app on ``database_url``, with keys made fresh for
    the run; ``overrides`` set anything else (``public_url``, ``twilio_auth_token``)."""
    values: dict[str, Any] = {
        "mode": Mode.TEST,
        "database_url": database_url,
        "secret_key": "bench",
        "data_keys": (Fernet.generate_key().decode(),),
        "hash_key": Fernet.generate_key().decode(),
        "twilio_auth_token": "bench",
        **overrides,
    }
    return Settings(**values)
