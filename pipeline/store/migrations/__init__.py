"""Alembic migrations for the bwv database (SQLite and PostgreSQL alike)."""
