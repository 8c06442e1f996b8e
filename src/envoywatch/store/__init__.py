"""The store: embedded DuckDB file, migrations, Parquet exchange."""

from envoywatch.store.db import Store, default_db_path, table_exists

__all__ = ["Store", "default_db_path", "table_exists"]
