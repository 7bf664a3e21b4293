import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from foundation import db
from foundation.migrations import alembic_config, check_schema, downgrade, upgrade
from foundation.staff.permissions import Role
from tests.builders.staff import make_staff


def test_migrations_build_exactly_what_the_models_declare(database_url):
    assert check_schema(database_url) == []


def test_migrations_go_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    downgrade(url, "base")
    with db.engine_for(url).connect() as connection:
        names = {row[0] for row in connection.execute(
            text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert names <= {"alembic_version"}
    upgrade(url)
    assert check_schema(url) == []
    db.dispose_all()


def test_the_database_itself_refuses_to_change_audit_rows(app, settings, database_url):
    make_staff(settings, Role.ADMIN)  # writes an audit row
    engine = db.engine_for(database_url)
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    with engine.connect() as connection:
        actions = connection.execute(text("SELECT action FROM audit_events")).scalars().all()
    assert actions == ["staff.create"]


def test_the_migrations_form_one_chain_that_flask_db_upgrade_can_follow():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"more than one head: {heads}"
