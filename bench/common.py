"""What the benchmarks share: a fresh PostgreSQL database of their own."""
from __future__ import annotations

from sqlalchemy import create_engine, text


def recreate_database(url: str) -> None:
    """Drop and create the database named at the end of ``url`` (never a test database)."""
    base, name = url.rsplit("/", 1)
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
