"""Alembic environment: migrations run on the engine handed over by ``archive.db``."""

from __future__ import annotations

from alembic import context

from archive.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    if engine.dialect.name == "sqlite":
        # SQLite alters a table by copying it; a foreign key pointing at the old copy would
        # refuse its drop. The pragma only takes effect outside a transaction.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if engine.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
