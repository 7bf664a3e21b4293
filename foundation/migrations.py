"""Alembic, driven from code: `flask db upgrade`, tests and the demo share this."""
from __future__ import annotations

from alembic import command, op
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from foundation.config import PROJECT_ROOT
from foundation.db import engine_for
from foundation.model_registry import load_all_models


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def make_revision(database_url: str, message: str) -> str:
    script = command.revision(alembic_config(database_url), message=message, autogenerate=True)
    return script.path if script else ""


def check_schema(database_url: str) -> list[str]:
    """Differences between the migrated database and the models (empty when equal)."""
    metadata = load_all_models()
    with engine_for(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "compare_server_default": False,
            "include_object": for_dialect(connection.dialect.name),
            "render_as_batch": connection.dialect.name == "sqlite"})
        return [repr(diff) for diff in compare_metadata(context, metadata)]


def for_dialect(dialect_name: str):
    """An Alembic include_object hook: skip objects declared for another dialect only
    (e.g. a PostgreSQL trigram index, which SQLite never gets)."""

    def include(obj, _name, _type, _reflected, _compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect_name)

    return include


def make_append_only(table: str) -> None:
    """Database triggers that refuse UPDATE and DELETE on `table` (call inside a migration).

    TRUNCATE stays possible for the owner of the database (test resets), but no
    application path issues it.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION refuse_change_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME;
            END $$ LANGUAGE plpgsql""")
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION refuse_change_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


def drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
