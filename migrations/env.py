from alembic import context
from sqlalchemy import create_engine

from engine.adapters.tables import metadata, postgresql_predicates

config = context.config
postgresql_predicates(metadata)     # the metadata whole, as autogenerate compares it with a database


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
