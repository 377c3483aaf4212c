"""Alembic environment: bwv runs migrations on a connection it passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pipeline.store.schema import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic -x url=...` from a shell, for operators
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass the database URL: alembic -x url=sqlite:///path/bwv.sqlite3 upgrade head")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
