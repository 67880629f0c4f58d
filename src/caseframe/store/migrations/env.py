"""Alembic environment: runs migrations on the connection caseframe hands over."""

from alembic import context

from caseframe.store.schema import metadata
from caseframe.store.schema_extra import include_name

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when alembic is run by hand
    raise SystemExit("run migrations through caseframe (caseframe.store.migrate.upgrade)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    include_name=include_name,  # full-text search objects are not in metadata
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds for ALTER
)
with context.begin_transaction():
    context.run_migrations()
