"""Persistence: SQLAlchemy models, engine/session, repositories and Alembic migrations.

Only this package imports SQLAlchemy; it never imports `bot`.
"""
