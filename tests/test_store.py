"""The store: migrations, re-import policies, child rows, Parquet round trip."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from envoywatch.errors import StoreError
from envoywatch.schema import SCHEMA_VERSION, TABLES
from envoywatch.store import Store
from envoywatch.store.parquet import export_parquet, import_parquet
from tests.conftest import run_cli, table_snapshot

T0 = datetime(2020, 3, 1, 12, 0, 0)


def _post(pid, **kw):
    row = {"platform": "x", "post_id": pid, "account_id": "a1", "created_at": T0, "kind": "post", "observed": "primary"}
    row.update(kw)
    return row


def _fill(store: Store) -> None:
    with store.transaction():
        store.write("import_batches", [{"batch_id": 1, "source_path": "/f", "format": "t", "sha256": "00",
                                        "started_at": T0, "status": "done"}])
        store.write("accounts", [{"platform": "x", "account_id": "a1", "handle": "SpokespersonCHN", "labels": ["China government organization"]}])
        store.write("account_snapshots", [{"platform": "x", "account_id": "a1", "captured_at": T0, "followers": 10}])
        store.write_many({
            "posts": [_post("p1", text="hi #Tag https://t.co/x"), _post("p2", kind="repost", ref_post_id="p9", observed="primary")],
            "post_hashtags": [{"platform": "x", "post_id": "p1", "tag": "Tag", "tag_norm": "tag"}],
            "post_urls": [{"platform": "x", "post_id": "p1", "position": 0, "url": "https://t.co/x",
                           "expanded_url": "https://www.cgtn.com/a?utm_source=tw", "normalized_url": "https://cgtn.com/a",
                           "domain": "cgtn.com", "host": "cgtn.com"}],
        })
        store.write("post_metrics", [{"platform": "x", "post_id": "p1", "captured_at": T0, "likes": 3}])


def test_new_store_has_every_table_and_version(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        names = {r[0] for r in s.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert set(TABLES) <= names
        assert s.con.execute("SELECT max(version) FROM schema_meta").fetchall()[0][0] == SCHEMA_VERSION
    # reopening migrates nothing and keeps one version row
    with Store(tmp_path / "s.duckdb") as s:
        assert s.con.execute("SELECT count(*) FROM schema_meta").fetchall()[0][0] == 1


def test_newer_store_is_refused(tmp_path):
    p = tmp_path / "s.duckdb"
    Store(p).close()
    con = duckdb.connect(str(p))
    con.execute("INSERT INTO schema_meta VALUES (?, now())", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(p)
    r = run_cli("stats", db=p)
    assert r.returncode == 2 and "newer" in r.stderr and "Traceback" not in r.stderr


def test_foreign_duckdb_file_is_refused_in_one_line(tmp_path):
    p = tmp_path / "other.duckdb"
    con = duckdb.connect(str(p))
    con.execute("CREATE TABLE t (a INT)")
    con.close()
    r = run_cli("stats", db=p)
    assert r.returncode == 2
    assert "not an envoywatch store" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_coalesce_fills_nulls_never_overwrites(store):
    store.write("accounts", [{"platform": "x", "account_id": "a1", "handle": "old", "display_name": None}])
    store.write("accounts", [{"platform": "x", "account_id": "a1", "handle": "new", "display_name": "Name"}])
    row = store.con.execute("SELECT handle, display_name FROM accounts").fetchall()[0]
    assert row == ("old", "Name")


def test_referenced_post_becomes_primary(store):
    store.write_many({"posts": [_post("p1", observed="referenced", text=None)]})
    store.write_many({"posts": [_post("p1", observed="primary", text="full text")]})
    assert store.con.execute("SELECT observed, text FROM posts").fetchall()[0] == ("primary", "full text")
    assert store.count("posts") == 1


def test_children_land_only_with_new_posts_and_deduplicated(store):
    tag = {"platform": "x", "post_id": "p1", "tag": "A", "tag_norm": "a"}
    store.write_many({"posts": [_post("p1"), _post("p1")], "post_hashtags": [tag, dict(tag)]})
    assert store.count("post_hashtags") == 1
    store.write_many({"posts": [_post("p1")], "post_hashtags": [dict(tag, tag="a2", tag_norm="a2")]})
    assert store.count("post_hashtags") == 1  # p1 was known: its tags are not re-added


def test_children_without_posts_are_refused(store):
    with pytest.raises(StoreError):
        store.write_many({"post_hashtags": [{"platform": "x", "post_id": "p1", "tag": "A", "tag_norm": "a"}]})


def test_snapshots_are_never_overwritten(store):
    store.write("account_snapshots", [{"platform": "x", "account_id": "a1", "captured_at": T0, "followers": 1}])
    store.write("account_snapshots", [{"platform": "x", "account_id": "a1", "captured_at": T0, "followers": 2}])
    store.write("account_snapshots", [{"platform": "x", "account_id": "a1", "captured_at": datetime(2020, 4, 1), "followers": 5}])
    assert store.con.execute("SELECT followers FROM account_snapshots ORDER BY captured_at").fetchall() == [(1,), (5,)]


def test_transaction_rolls_back_everything(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.write_many({"posts": [_post("p1")]})
            raise RuntimeError("boom")
    assert store.count("posts") == 0


def test_parquet_round_trip_every_table(tmp_path):
    with Store(tmp_path / "a.duckdb") as a:
        _fill(a)
        a.write("registry_actors", [{"actor_id": "cn-mfa", "name": "MFA", "actor_type": "organisation", "state": "CN",
                                      "category": "ministry", "source": "test", "languages": ["zh", "en"]}])
        a.write("rejects", [{"batch_id": 1, "source_path": "/f", "line": 7, "reason": "bad", "raw_excerpt": "{"}])
        before = table_snapshot(a)
        counts = export_parquet(a, tmp_path / "pq")
    assert set(counts) == set(TABLES)
    assert all((tmp_path / "pq" / f"{t}.parquet").exists() for t in TABLES)
    with Store(tmp_path / "b.duckdb") as b:
        import_parquet(b, tmp_path / "pq")
        assert table_snapshot(b) == before
        import_parquet(b, tmp_path / "pq")  # twice: nothing changes
        assert table_snapshot(b) == before


def test_parquet_cli_round_trip(tmp_path):
    with Store(tmp_path / "a.duckdb") as a:
        _fill(a)
        before = table_snapshot(a)
    r = run_cli("export", "parquet", str(tmp_path / "pq"), db=tmp_path / "a.duckdb")
    assert r.returncode == 0, r.stderr
    r = run_cli("import", "parquet", str(tmp_path / "pq"), db=tmp_path / "b.duckdb")
    assert r.returncode == 0, r.stderr
    with Store(tmp_path / "b.duckdb") as b:
        assert table_snapshot(b) == before


def test_parquet_into_store_with_other_batches_remaps_ids(tmp_path):
    with Store(tmp_path / "a.duckdb") as a:
        _fill(a)
        export_parquet(a, tmp_path / "pq")
    with Store(tmp_path / "b.duckdb") as b:
        b.write("import_batches", [{"batch_id": 1, "source_path": "/other", "format": "t", "sha256": "ff",
                                    "started_at": T0, "status": "done"}])
        import_parquet(b, tmp_path / "pq")
        assert b.con.execute("SELECT count(*) FROM import_batches").fetchall()[0][0] == 2
        assert b.con.execute("SELECT batch_id FROM import_batches WHERE source_path = '/f'").fetchall()[0][0] == 2


def test_ibis_accessor_runs_expressions(store):
    _fill(store)
    posts = store.table("posts")
    assert posts.count().execute() == 2
    assert posts.filter(posts.kind == "repost").count().execute() == 1


def test_sql_is_read_only(tmp_path):
    p = tmp_path / "s.duckdb"
    with Store(p) as s:
        _fill(s)
    ok = run_cli("sql", "SELECT count(*) AS n FROM posts", "--format", "json", db=p)
    assert ok.returncode == 0 and '"n": 2' in ok.stdout
    for bad in ("DELETE FROM posts", "SELECT 1; DROP TABLE posts", "COPY posts TO '/tmp/x.csv'",
                "SELECT * FROM read_csv('/etc/passwd')"):
        r = run_cli("sql", bad, db=p)
        assert r.returncode == 2, bad
        assert "Traceback" not in r.stderr
    with Store(p) as s:
        assert s.count("posts") == 2
