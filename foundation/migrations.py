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
    (e.g. a PostgreSQL trigram index, which SQLite never gets), and the tables that only
    triggers write (`require_zero_sum` on SQLite), which no model declares."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table" and reflected and compare_to is None \
                and name.endswith(TRIGGER_TABLE_SUFFIXES):
            return False
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


# --- zero-sum groups of rows ---------------------------------------------------------

TRIGGER_TABLE_SUFFIXES = ("_unbalanced", "_balance_gate")


def require_zero_sum(table: str, group_column: str, amount_column: str) -> None:
    """Refuse, when the transaction commits, any group of `table`'s rows (the rows that
    share `group_column`) whose `amount_column` does not sum to zero (call inside a
    migration).  Rows are only ever inserted (the table is append-only), so checking
    each insert's group at commit covers every way a group can change.

    PostgreSQL: a DEFERRABLE INITIALLY DEFERRED constraint trigger sums the group of
    every inserted row at commit, after all of the transaction's rows are in.

    SQLite has no deferred triggers, and a posting inserts its entries one by one (or in
    one multi-row INSERT whose row triggers still fire row by row), so no trigger can tell
    the last entry of a group from an earlier one.  What SQLite does check at commit is a
    deferred foreign key.  So a row trigger keeps each group's running sum in
    `<table>_unbalanced` and deletes the group's row there when the sum comes back to zero;
    each row of `<table>_unbalanced` carries a deferred foreign key into
    `<table>_balance_gate`, a table that stays empty (a trigger refuses inserts).  A
    transaction that ends with any group off zero leaves a row whose key points nowhere,
    and its COMMIT fails with "FOREIGN KEY constraint failed"; a posting whose entries
    balance leaves nothing behind, whatever order or statements wrote them.  This relies
    on `PRAGMA foreign_keys=ON`, which every connection of the app sets
    (foundation.db)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION {table}_refuse_unbalanced() RETURNS trigger AS $$
            DECLARE total numeric;
            BEGIN
              SELECT COALESCE(SUM({amount_column}), 0) INTO total FROM {table}
                WHERE {group_column} = NEW.{group_column};
              IF total <> 0 THEN
                RAISE EXCEPTION '% % of % does not sum to zero (off by %)',
                  TG_TABLE_NAME, '{group_column}', NEW.{group_column}, total
                  USING ERRCODE = 'check_violation';
              END IF;
              RETURN NULL;
            END $$ LANGUAGE plpgsql""")
        op.execute(f"""
            CREATE CONSTRAINT TRIGGER {table}_zero_sum AFTER INSERT ON {table}
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
            EXECUTE FUNCTION {table}_refuse_unbalanced()""")
        return
    op.execute(f"CREATE TABLE {table}_balance_gate (id INTEGER PRIMARY KEY)")
    op.execute(f"""
        CREATE TRIGGER {table}_balance_gate_stays_empty BEFORE INSERT ON {table}_balance_gate
        BEGIN SELECT RAISE(ABORT, '{table}_balance_gate stays empty'); END""")
    op.execute(f"""
        CREATE TABLE {table}_unbalanced (
          group_id INTEGER PRIMARY KEY,
          imbalance BIGINT NOT NULL,
          must_balance INTEGER NOT NULL DEFAULT 0
            REFERENCES {table}_balance_gate (id) DEFERRABLE INITIALLY DEFERRED)""")
    op.execute(f"""
        CREATE TRIGGER {table}_zero_sum AFTER INSERT ON {table}
        BEGIN
          INSERT INTO {table}_unbalanced (group_id, imbalance)
            VALUES (NEW.{group_column}, NEW.{amount_column})
            ON CONFLICT (group_id) DO UPDATE SET imbalance = imbalance + excluded.imbalance;
          DELETE FROM {table}_unbalanced
            WHERE group_id = NEW.{group_column} AND imbalance = 0;
        END""")


def drop_zero_sum(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_zero_sum ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_unbalanced()")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_zero_sum")
    op.execute(f"DROP TABLE IF EXISTS {table}_unbalanced")
    op.execute(f"DROP TABLE IF EXISTS {table}_balance_gate")
