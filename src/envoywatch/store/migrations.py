"""Schema version and migrations.

A new store gets every table of envoywatch.schema at SCHEMA_VERSION. An older store is brought up by
the steps in MIGRATIONS (version -> function taking the connection), in order, in one transaction.
Tables added to schema.py without other changes need no step: CREATE TABLE IF NOT EXISTS adds them.
"""

from __future__ import annotations

from datetime import datetime, timezone

from envoywatch.errors import StoreError
from envoywatch.schema import SCHEMA_VERSION, TABLES, ddl

# from_version -> callable(con) that brings the store to from_version + 1
MIGRATIONS: dict[int, callable] = {}


def _meta_version(con) -> int | None:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_meta'"
    ).fetchall()[0][0]
    if not exists:
        return None
    return con.execute("SELECT max(version) FROM schema_meta").fetchall()[0][0]


def check_version(con, path) -> int:
    version = _meta_version(con)
    if version is None:
        raise StoreError("this file is not an envoywatch store (no schema_meta table)", str(path),
                         "choose the right file with --db, or create a store with envoywatch import / demo")
    if version > SCHEMA_VERSION:
        raise StoreError(f"the store has schema version {version}, newer than this envoywatch ({SCHEMA_VERSION})",
                         str(path), "upgrade envoywatch (pip install -U envoywatch)")
    return version


def migrate(con) -> int:
    version = _meta_version(con)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if version is not None and version > SCHEMA_VERSION:
        check_version(con, "store")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("CREATE TABLE IF NOT EXISTS schema_meta (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)")
        if version is not None:
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](con)
                version += 1
                con.execute("INSERT INTO schema_meta VALUES (?, ?)", [version, now])
        for table in TABLES.values():
            con.execute(ddl(table))
        if version is None:
            con.execute("INSERT INTO schema_meta VALUES (?, ?)", [SCHEMA_VERSION, now])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
