"""Applying the Alembic migrations in ``migrations/`` (``hotline db upgrade``).

The migrations ship as the ``migrations`` package, found where it is installed (the checkout
with ``pip install -e``, site-packages from the wheel), never in the working directory.

With an app role, the engine is the owner's and the app's role is given its privileges after
the migrations, on every upgrade (see :mod:`hotline.db.grants`).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

import migrations
from hotline.db.grants import check_app_role, grant_app_role
from hotline.infra.vault import Vault

MIGRATIONS = Path(migrations.__file__).resolve().parent


def alembic_config(engine: Engine, vault: Vault | None = None) -> Config:
    """Alembic's configuration for ``engine``. A migration that must encrypt what it moves
    (0013: staff members' stated reasons) finds ``vault`` in ``config.attributes``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    config.attributes["vault"] = vault
    return config


def upgrade(
    engine: Engine,
    revision: str = "head",
    *,
    app_role: str | None = None,
    vault: Vault | None = None,
) -> None:
    """Migrate to ``revision`` as ``engine``'s role, then grant ``app_role`` what the app needs.

    Raises :class:`hotline.db.grants.AppRoleError` before migrating when ``app_role`` could act
    as the owner (or does not exist), and after migrating when it owns a table.
    """
    if app_role is not None:
        with engine.connect() as connection:
            check_app_role(connection, app_role)
    command.upgrade(alembic_config(engine, vault), revision)
    if app_role is not None:
        with engine.begin() as connection:
            grant_app_role(connection, app_role)
