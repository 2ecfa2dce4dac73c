"""What the app's PostgreSQL role may do: everything it needs, and nothing that rewrites history.

In production the migrations run as one role, the owner of every table, and the web, workers
and beat connect as another, the app's role. Only an owner can alter a table, disable or drop
its triggers: so the app's role, whatever a compromised process makes it run, cannot turn off
the trigger that keeps ``events`` append-only. :func:`grant_app_role` gives that role, after
every ``hotline db upgrade``, exactly:

- SELECT, INSERT, UPDATE and DELETE on every table of the models, except
- ``events``: SELECT and INSERT only (no UPDATE, DELETE or TRUNCATE: refused before the
  trigger is even reached);
- USAGE and SELECT on the schema's sequences (``nextval`` for new ids);
- SELECT only on ``alembic_version`` (the schema's version is the owner's to say).

Everything it held before is revoked first, so a grant made by hand does not linger. The
grants are made again on every upgrade rather than through ``ALTER DEFAULT PRIVILEGES``: a
default would hand a future append-only table UPDATE and DELETE before anyone had decided, and
every migration runs through the upgrade anyway.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from hotline.db.models import Base

APPEND_ONLY = frozenset({"events"})
WRITABLE = "SELECT, INSERT, UPDATE, DELETE"
APPEND = "SELECT, INSERT"
VERSION_TABLE = "alembic_version"


class AppRoleError(RuntimeError):
    """The app's role cannot be given its grants safely. Names the setting, never a password."""


def check_app_role(connection: Connection, role: str) -> None:
    """Refuse a role that would own, or act as the owner of, the tables.

    Raises :class:`AppRoleError` when ``role`` does not exist, is a superuser, is the role
    running the migrations or a member of it, or is (a member of) the owner of any table of the
    schema. Run before the migrations (nothing changed yet) and again before granting.
    """
    if connection.dialect.name != "postgresql":
        raise AppRoleError("HOTLINE_DATABASE_APP_ROLE needs PostgreSQL (SQLite has no roles)")
    found = connection.execute(
        text(
            "SELECT rolsuper, pg_has_role(:role, current_user, 'MEMBER') AS acts_as_migrator"
            " FROM pg_roles WHERE rolname = :role"
        ),
        {"role": role},
    ).first()
    if found is None:
        raise AppRoleError(
            "the app's database role (HOTLINE_DATABASE_APP_ROLE, or the user of "
            "HOTLINE_DATABASE_URL) does not exist: create it first (see docs/security.md)"
        )
    if found.rolsuper:
        raise AppRoleError("the app's database role is a superuser: it could do anything")
    if found.acts_as_migrator:
        raise AppRoleError(
            "the app's database role is the role running the migrations, or a member of it: "
            "set HOTLINE_MIGRATE_DATABASE_URL to the owner's URL and HOTLINE_DATABASE_URL to "
            "the app's"
        )
    owned = connection.scalars(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'S', 'v', 'm')"
            " AND pg_has_role(:role, c.relowner, 'MEMBER') ORDER BY c.relname"
        ),
        {"role": role},
    ).all()
    if owned:
        raise AppRoleError(
            f"the app's database role owns {len(owned)} tables or sequences (such as "
            f"{owned[0]}): as their owner it could drop the event log's trigger. Give them to "
            "the owner first: REASSIGN OWNED BY <app role> TO <owner> (see docs/security.md)"
        )


def grant_app_role(connection: Connection, role: str) -> list[str]:
    """Give ``role`` exactly the privileges the app needs (see the module's docstring).

    Runs :func:`check_app_role` first and raises :class:`AppRoleError` as it does. Returns the
    tables granted, in order. Run in a transaction as the owner, after the migrations.
    """
    check_app_role(connection, role)
    quote = connection.dialect.identifier_preparer.quote
    grantee = quote(role)
    schema = quote(str(connection.scalar(text("SELECT current_schema()"))))
    existing = set(
        connection.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        )
    )
    connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {grantee}"))
    connection.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {grantee}"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {grantee}"))
    privileges = {
        t.name: APPEND if t.name in APPEND_ONLY else WRITABLE for t in Base.metadata.sorted_tables
    }
    privileges[VERSION_TABLE] = "SELECT"
    granted = []
    for table, allowed in privileges.items():
        if table not in existing:
            continue  # not made yet at this revision
        connection.execute(text(f"GRANT {allowed} ON TABLE {schema}.{quote(table)} TO {grantee}"))
        granted.append(table)
    connection.execute(
        text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {grantee}")
    )
    return granted
