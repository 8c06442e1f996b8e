"""Parquet exchange: every table to DIR/<table>.parquet plus manifest.json, and back.

Export is the scale-out path (Spark and other engines read the same files) and a portable backup.
Import lands all tables in one transaction with the store's re-import policy, so importing the same
export twice changes nothing. Batch ids are remapped when the target store already has batches.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from envoywatch import __version__
from envoywatch.errors import ImportFormatError
from envoywatch.schema import SCHEMA_VERSION, TABLES
from envoywatch.store.db import Store, arrow_schema

MANIFEST = "manifest.json"
_BATCH_COLS = {"posts": ["batch_id"], "accounts": ["first_batch_id"], "account_snapshots": ["batch_id"],
               "post_metrics": ["batch_id"], "account_follows": ["batch_id"], "rejects": ["batch_id"],
               "import_batches": ["batch_id"]}


def export_parquet(store: Store, directory: str | Path) -> dict[str, int]:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, table in TABLES.items():
        order = ", ".join(f'"{k}"' for k in table.key) or "1"
        target = d / f"{name}.parquet"
        store.con.execute(f"COPY (SELECT * FROM \"{name}\" ORDER BY {order}) TO '{_sql_str(target)}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
        counts[name] = store.count(name)
    (d / MANIFEST).write_text(json.dumps({"envoywatch": __version__, "schema_version": SCHEMA_VERSION,
                                           "tables": counts}, indent=1))
    return counts


def import_parquet(store: Store, directory: str | Path) -> dict[str, int]:
    d = Path(directory)
    man_path = d / MANIFEST
    if not man_path.exists():
        raise ImportFormatError("no manifest.json: not an envoywatch Parquet export", str(d),
                                "point at a directory written by envoywatch export parquet")
    manifest = json.loads(man_path.read_text())
    if manifest.get("schema_version", 0) > SCHEMA_VERSION:
        raise ImportFormatError(f"export has schema version {manifest['schema_version']}, newer than {SCHEMA_VERSION}",
                                str(man_path), "upgrade envoywatch")
    added = {}
    with store.transaction():
        mapping = _batch_mapping(store, d)
        for name, table in TABLES.items():
            f = d / f"{name}.parquet"
            if not f.exists():
                continue
            data = pq.read_table(f)
            missing = [c for c in table.column_names if c not in data.column_names]
            for c in missing:  # older exports: columns added since are NULL
                import pyarrow as pa

                data = data.append_column(c, pa.nulls(data.num_rows, arrow_schema(table).field(c).type))
            data = data.select(table.column_names).cast(arrow_schema(table))
            if mapping and name in _BATCH_COLS:
                data = _remap(data, _BATCH_COLS[name], mapping)
            before = store.count(name)
            store.write(name, data)
            added[name] = store.count(name) - before
    return added


def _batch_mapping(store: Store, d: Path) -> dict[int, int]:
    f = d / "import_batches.parquet"
    if not f.exists() or store.count("import_batches") == 0:
        return {}
    incoming = pq.read_table(f, columns=["batch_id", "sha256", "format", "source_path"]).to_pylist()
    existing = {(r[1], r[2], r[3]): r[0] for r in store.con.execute(
        "SELECT batch_id, sha256, format, source_path FROM import_batches").fetchall()}
    nxt = store.next_id("import_batches", "batch_id")
    mapping = {}
    for r in incoming:
        key = (r["sha256"], r["format"], r["source_path"])
        if key in existing:
            mapping[r["batch_id"]] = existing[key]
        else:
            mapping[r["batch_id"]] = nxt
            nxt += 1
    return mapping


def _remap(data, columns, mapping):
    import pyarrow as pa

    for c in columns:
        idx = data.column_names.index(c)
        vals = [mapping.get(v, v) if v is not None else None for v in data.column(c).to_pylist()]
        data = data.set_column(idx, c, pa.array(vals, pa.int64()))
    return data


def _sql_str(p: Path) -> str:
    return str(p).replace("'", "''")
