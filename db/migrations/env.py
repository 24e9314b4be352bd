"""Alembic environment: runs migrations online against the configured URL."""
from alembic import context

from db.models import Base
from db.session import make_engine

config = context.config
database_url = config.get_main_option("sqlalchemy.url")
if database_url is None:  # db.migrate.alembic_config always sets it
    raise RuntimeError("no sqlalchemy.url: run migrations with db.migrate.upgrade (python -m bot db upgrade)")
engine = make_engine(database_url)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
