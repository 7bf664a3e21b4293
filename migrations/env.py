"""Alembic environment: the models' metadata, one engine per URL, batch mode on SQLite."""
from __future__ import annotations

from alembic import context

from foundation.db import engine_for
from foundation.migrations import for_dialect
from foundation.model_registry import load_all_models

config = context.config
target_metadata = load_all_models()
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"), compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with engine_for(url).connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          include_object=for_dialect(connection.dialect.name),
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
