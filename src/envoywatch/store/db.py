"""The embedded DuckDB store: open, migrate, write idempotently, expose tables to Ibis."""

from __future__ import annotations

import contextlib
import os
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterable, Iterator

import duckdb
import pyarrow as pa

from envoywatch.errors import StoreError
from envoywatch.schema import TABLES, Table
from envoywatch.store import migrations

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
    "VARCHAR[]": pa.list_(pa.string()),
}

# Per-table special rules for re-imports on top of the generic "coalesce" policy.
_CONFLICT_OVERRIDES = {
    # a post first seen embedded in another post becomes 'primary' once its own timeline is imported
    ("posts", "observed"): "CASE WHEN EXCLUDED.observed = 'primary' THEN 'primary' ELSE {t}.observed END",
    # keep the first batch that brought a row
    ("posts", "batch_id"): "{t}.batch_id",
    ("accounts", "first_batch_id"): "{t}.first_batch_id",
}


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type]) for c in table.columns])


def rows_to_arrow(table: Table, rows: list[dict]) -> pa.Table:
    """Dict rows -> Arrow table in one C-level pass (a struct array; missing keys become NULL).

    About five times faster than column-by-column Python lists, and keys that are not columns are ignored.
    """
    schema = arrow_schema(table)
    try:
        arr = pa.array(rows, type=pa.struct(list(schema)))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise StoreError(f"a value of the wrong type for table {table.name} ({exc})", table.name,
                         "this is a bug in a normalizer: report it with the file that caused it") from None
    return pa.Table.from_struct_array(arr)


def conform(table: Table, data: pa.Table) -> pa.Table:
    """An Arrow table with exactly the schema's columns and types (missing columns become NULL)."""
    schema = arrow_schema(table)
    if data.schema.equals(schema):
        return data
    cols = []
    for f in schema:
        if f.name in data.column_names:
            col = data.column(f.name)
            cols.append(col if col.type == f.type else col.cast(f.type))
        else:
            cols.append(pa.nulls(data.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def table_exists(con, name: str, temporary: bool | None = None) -> bool:
    """Whether a table `name` exists on the connection (temporary: True = only TEMP tables, False = only
    stored ones, None = either)."""
    sql = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?"
    if temporary is not None:
        sql += " AND temporary" if temporary else " AND NOT temporary"
    return bool(con.execute(sql, [name]).fetchall()[0][0])


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("envoywatch", appauthor=False)) / "envoywatch.duckdb"


class Store:
    """One DuckDB file. Use as a context manager, or call close()."""

    def __init__(self, path: str | os.PathLike | None = None, read_only: bool = False, migrate: bool = True):
        self.path = Path(path) if path else default_db_path()
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StoreError(
                "the store does not exist yet", str(self.path),
                "import data first (envoywatch import PATH, or envoywatch demo), or point --db / ENVOYWATCH_DB at an existing store",
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:  # locked by another process, not a DuckDB file, newer format...
            raise StoreError(
                f"cannot open the store ({str(exc).splitlines()[0]})", str(self.path),
                "close other envoywatch processes using this store, or choose another file with --db",
            ) from None
        self._ibis = None
        # our own progress bars are the ones users see; DuckDB's would print over them
        self.con.execute("SET enable_progress_bar = false")
        if migrate and not read_only:
            migrations.migrate(self.con)
        elif read_only:
            migrations.check_version(self.con, self.path)

    # --- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: on any exception (or a killed process) nothing of the block remains."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    @contextlib.contextmanager
    def memory_limit(self, limit: str | None) -> Iterator[None]:
        """DuckDB's memory_limit for the block (restored after); None: leave it as it is.

        Bounds what DuckDB holds: its buffer pool keeps every block a long import writes or reads until the
        limit (by default 80% of RAM), so without it an import's memory grows with the file; beyond the
        limit DuckDB evicts blocks and spills to disk."""
        if not limit:
            yield
            return
        old = self.scalar("SELECT current_setting('memory_limit')")
        try:
            self.con.execute(f"SET memory_limit = '{str(limit).replace(chr(39), '')}'")
        except duckdb.Error as exc:
            raise StoreError(f"invalid memory limit '{limit}' ({str(exc).splitlines()[0][:120]})", None,
                             "give a size such as 512MB or 2GB (--memory-limit, ENVOYWATCH_IMPORT_MEMORY)") from None
        try:
            yield
        finally:
            if self.con is not None:   # back to the default, or to the value set before (as DuckDB prints it)
                self.con.execute("RESET memory_limit")
                if self.scalar("SELECT current_setting('memory_limit')") != old:
                    self.con.execute(f"SET memory_limit = '{old}'")

    # --- writing ---------------------------------------------------------------------------------
    def write(self, table_name: str, rows: Iterable[dict[str, Any]] | pa.Table, unique: bool = False) -> int:
        """Insert rows with the table's re-import policy. Returns the number of rows offered.

        unique: the rows' keys are known to be distinct (a fast reader's ArrowBatch): no de-duplication."""
        table = TABLES[table_name]
        data = self._to_arrow(table, rows)
        if data is None:
            return 0
        if table.name == "posts":
            self._write_posts(data, unique)
        elif not table.constraint:
            self._insert_new_only(table, data, unique)
        else:
            self._exec(_insert_sql(table), _ew_stage=data)
        return data.num_rows

    def write_many(self, buffer: dict[str, list[dict]], unique: bool = False) -> None:
        """Write rows for several tables from whole bundles (a post together with its links, tags...).

        Posts go first and tell which of them are new to the store; child rows (post_urls, post_hashtags,
        post_mentions, post_media) land only for those, de-duplicated, so a re-import adds nothing.
        unique: every table's keys are distinct within `buffer` (a fast reader's ArrowBatch guarantees it):
        the DISTINCT ON that de-duplicates them is left out (about a quarter of the writing time).
        """
        posts = buffer.pop("posts", None)
        children = {t: buffer.pop(t) for t in list(buffer) if TABLES[t].parent == "posts"}
        for name, rows in buffer.items():
            if rows:
                self.write(name, rows, unique)
        data = self._to_arrow(TABLES["posts"], posts or [])
        if data is None:
            if any(children.values()):
                raise StoreError("child rows of posts without their posts", ", ".join(children),
                                 "a normalizer must add each post together with its links, tags and media")
            return
        new = self._write_posts(data, unique)
        if not new.num_rows:
            return
        for name, rows in children.items():
            if not rows:
                continue
            child = TABLES[name]
            cols = _cols(child)
            data = conform(child, rows) if isinstance(rows, pa.Table) else rows_to_arrow(child, rows)
            self._exec(f'INSERT INTO "{name}" ({cols}) SELECT {_distinct(child, unique)}{cols} FROM _ew_child '
                       "SEMI JOIN _ew_new USING (platform, post_id)", _ew_child=data, _ew_new=new)

    def _to_arrow(self, table: Table, rows) -> pa.Table | None:
        if isinstance(rows, pa.Table):
            return conform(table, rows) if rows.num_rows else None
        rows = _dedupe(table, rows)
        return rows_to_arrow(table, rows) if rows else None

    def _exec(self, sql: str, _ew_stage=None, _ew_new=None, _ew_child=None, fetch: bool = False):
        """Run `sql`, which reads the Arrow tables passed here by the names _ew_stage / _ew_new / _ew_child.

        DuckDB finds them as local variables of this frame (a replacement scan). Not con.register(): a view
        dropped inside a transaction stays in DuckDB's catalog until the commit, and with it the Arrow data
        it points to -- an import (one transaction) then held every batch it wrote in memory (measured:
        peak RSS 1.2 GB at 1M rows, growing with the file)."""
        if fetch:
            return self.con.sql(sql).to_arrow_table()
        self.con.execute(sql)
        return None

    def _write_posts(self, data: pa.Table, unique: bool = False) -> pa.Table:
        """Insert posts new to the store; fill NULL columns of known ones. Returns the new (platform, post_id).

        The key is kept here by an anti-join (DuckDB builds the hash table on the batch and scans the
        stored keys), not by a PRIMARY KEY index: see schema.Table.constraint.
        """
        table = TABLES["posts"]
        cols = _cols(table)
        new = self._exec(f"SELECT {'' if unique else 'DISTINCT '}platform, post_id FROM _ew_stage "
                         f"ANTI JOIN ({_known_sql(table)}) k USING (platform, post_id)", _ew_stage=data, fetch=True)
        if new.num_rows:
            self._exec(f"INSERT INTO posts ({cols}) SELECT {_distinct(table, unique)}{cols} "
                       "FROM _ew_stage SEMI JOIN _ew_new USING (platform, post_id)", _ew_stage=data, _ew_new=new)
        if new.num_rows < data.num_rows:  # known posts: fill their NULLs, never overwrite
            self._exec(_fill_posts_sql(), _ew_stage=data, _ew_new=new)
        return new

    def _insert_new_only(self, table: Table, data: pa.Table, unique: bool = False) -> None:
        """Insert rows whose key is not in the table yet (tables whose key the writer keeps)."""
        cols = _cols(table)
        self._exec(f'INSERT INTO "{table.name}" ({cols}) SELECT {_distinct(table, unique)}{cols} '
                   f'FROM _ew_child ANTI JOIN ({_known_sql(table, "_ew_child")}) k USING ({_keys(table)})', _ew_child=data)

    def count(self, table_name: str) -> int:
        return self.scalar(f'SELECT count(*) FROM "{table_name}"')

    def next_id(self, table_name: str, column: str) -> int:
        return self.scalar(f'SELECT coalesce(max("{column}"), 0) + 1 FROM "{table_name}"')

    def scalar(self, sql: str, params: list | None = None):
        """First value of the first row, or None. Fetches the whole result: DuckDB 2.0 refuses further work
        on a connection whose last result was only partly fetched (fetchone() leaves it open)."""
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    # --- reading ---------------------------------------------------------------------------------
    def ibis(self):
        """An Ibis DuckDB backend on this store's connection: the table accessors analyses build on."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
            # Ibis turns DuckDB's replacement scans off on the connection; _exec's writes need them
            self.con.execute("SET python_enable_replacements = true")
        return self._ibis

    def table(self, name: str):
        """Ibis table expression for a store table (see docs/schema.md)."""
        if name not in TABLES:
            raise StoreError(f"unknown table '{name}'", str(self.path), f"use one of: {', '.join(TABLES)}")
        return self.ibis().table(name)

    def query(self, sql: str, params: list | None = None) -> pa.Table:
        return self.con.execute(sql, params or []).to_arrow_table()


def _dedupe(table: Table, rows: Iterable[dict]) -> list[dict]:
    """Drop repeats of a key within one write (ON CONFLICT cannot touch a row twice in one statement)."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not table.key or not rows:
        return rows
    key = table.key
    try:
        getter = itemgetter(*key)
        keys = list(map(getter, rows))
    except KeyError:
        keys = [tuple(r.get(c) for c in key) for r in rows]
    if len(set(keys)) == len(keys):  # the common case: nothing to merge
        return rows
    seen: dict = {}
    for k, r in zip(keys, rows):
        prev = seen.get(k)
        if prev is None:
            seen[k] = r
        elif table.on_conflict == "coalesce":
            for c, v in r.items():
                if prev.get(c) is None and v is not None:
                    prev[c] = v
            if table.name == "posts" and r.get("observed") == "primary":
                prev["observed"] = "primary"
    return list(seen.values())


def _cols(table: Table) -> str:
    return ", ".join(f'"{c}"' for c in table.column_names)


def _keys(table: Table) -> str:
    return ", ".join(f'"{k}"' for k in table.key)


def _known_sql(table: Table, stage: str = "_ew_stage") -> str:
    """SQL: the keys of `stage` already in the table. Written as the table SEMI JOIN the batch, so DuckDB
    builds its hash table on the batch and, from the batch's lowest and highest key, skips the stored row
    groups outside that range (zone maps): the batch ANTI JOIN the table instead read every stored key for
    every batch (an import slowed down as the store grew: 1M posts, the last batch's check took 4x the first's)."""
    return f'SELECT {_keys(table)} FROM "{table.name}" SEMI JOIN {stage} USING ({_keys(table)})'


def _distinct(table: Table, unique: bool) -> str:
    """'DISTINCT ON (key) ' unless the rows are known to have distinct keys."""
    return "" if unique else f"DISTINCT ON ({_keys(table)}) "


def _fill_posts_sql() -> str:
    """UPDATE known posts from the batch: NULL columns get values; 'referenced' becomes 'primary'.

    Only rows where something would change are touched, so re-importing the same data writes nothing.
    """
    table = TABLES["posts"]
    sets, changes = [], []
    for c in table.column_names:
        if c in table.key or c == "batch_id":
            continue
        if c == "observed":
            sets.append("observed = CASE WHEN s.observed = 'primary' THEN 'primary' ELSE posts.observed END")
            changes.append("(s.observed = 'primary' AND posts.observed IS DISTINCT FROM 'primary')")
        else:
            sets.append(f'"{c}" = coalesce(posts."{c}", s."{c}")')
            changes.append(f'(posts."{c}" IS NULL AND s."{c}" IS NOT NULL)')
    return ("UPDATE posts SET " + ", ".join(sets) +
            " FROM (SELECT DISTINCT ON (platform, post_id) * FROM _ew_stage ANTI JOIN _ew_new USING (platform, post_id)) s"
            " WHERE posts.platform = s.platform AND posts.post_id = s.post_id AND (" + " OR ".join(changes) + ")")


_SQL_CACHE: dict[str, str] = {}


def _insert_sql(table: Table) -> str:
    """INSERT the rows of _ew_stage into `table` with its ON CONFLICT policy (tables with a PRIMARY KEY)."""
    sql = _SQL_CACHE.get(table.name)
    if sql:
        return sql
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    sql = f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM _ew_stage'
    if table.key:
        if table.on_conflict == "coalesce":
            sets = []
            for c in table.column_names:
                if c in table.key:
                    continue
                tmpl = _CONFLICT_OVERRIDES.get((table.name, c))
                expr = tmpl.format(t=f'"{table.name}"') if tmpl else f'coalesce("{table.name}"."{c}", EXCLUDED."{c}")'
                sets.append(f'"{c}" = {expr}')
            sql += " ON CONFLICT DO UPDATE SET " + ", ".join(sets)
        else:
            sql += " ON CONFLICT DO NOTHING"
    _SQL_CACHE[table.name] = sql
    return sql
