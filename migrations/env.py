"""Alembic environment: runs against the engine ``hotline db upgrade`` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from hotline.db.models import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations with `hotline db upgrade`, which supplies the database")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
