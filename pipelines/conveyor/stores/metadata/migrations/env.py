"""Alembic environment for the metadata store.

Run only programmatically by `conveyor.stores.metadata.migrate`, which passes an open connection
(already inside a locked transaction) in `config.attributes["connection"]`; there is no alembic.ini.
"""

from alembic import context

from conveyor.stores.metadata.schema import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs need table rebuilds
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
