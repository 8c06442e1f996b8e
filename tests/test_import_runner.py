"""The runner's columnar fast path: ArrowBatch rows land like Bundles, and UseSlowPath rolls the batch back
and reads the file again record by record, leaving no trace of the abandoned attempt."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from envoywatch.importers.base import FORMATS, ArrowBatch, Bundle, FormatSpec, Reject, UseSlowPath
from envoywatch.importers.run import import_paths
from tests.conftest import table_snapshot


def _slow(source):
    for n, text, raw, problem in source.lines():
        pid, acc = text.strip().split(",")
        if pid == "bad":
            yield Reject(n, "bad id")
            continue
        b = Bundle()
        b.add("posts", {"platform": "test", "post_id": pid, "account_id": acc, "created_at": datetime(2020, 1, 1),
                        "kind": "post", "observed": "primary"})
        b.add("post_hashtags", {"platform": "test", "post_id": pid, "tag": "T", "tag_norm": "t"})
        source.notes.append(f"slow {pid}")
        yield b


def _fast(source):
    lines = [ln.strip().split(",") for ln in source.path.read_text().splitlines()]
    ids = [p for p, _ in lines]
    # land the first record, then give up when a bad one shows: the runner must roll that back
    yield ArrowBatch({
        "posts": pa.table({"platform": ["test"], "post_id": [ids[0]], "account_id": [lines[0][1]],
                           "created_at": [datetime(2020, 1, 1)], "kind": ["post"], "observed": ["primary"]}),
        "post_hashtags": pa.table({"platform": ["test"], "post_id": [ids[0]], "tag": ["T"], "tag_norm": ["t"]}),
    }, records=1)
    if "bad" in ids:
        raise UseSlowPath("a bad id")
    yield ArrowBatch({
        "posts": pa.table({"platform": ["test"] * (len(ids) - 1), "post_id": ids[1:], "account_id": [a for _, a in lines[1:]],
                           "created_at": [datetime(2020, 1, 1)] * (len(ids) - 1), "kind": ["post"] * (len(ids) - 1),
                           "observed": ["primary"] * (len(ids) - 1)}),
    }, records=len(ids) - 1)


@pytest.fixture
def fmt():
    FORMATS["test-fast"] = FormatSpec("test-fast", "test", "test only", lambda s: False, _slow, fast_read=_fast)
    yield "test-fast"
    del FORMATS["test-fast"]


def test_fast_path_lands_arrow_batches(store, tmp_path, fmt):
    f = tmp_path / "ok.csv"
    f.write_text("1,a\n2,b\n3,c\n")
    res = import_paths(store, [f], fmt=fmt)
    assert res[0].records == 3 and res[0].new_posts == 3
    assert store.scalar("SELECT count(DISTINCT batch_id) FROM posts") == 1
    assert store.scalar("SELECT min(batch_id) FROM posts") == res[0].batch_id
    assert store.count("post_hashtags") == 1
    assert store.scalar("SELECT note FROM import_batches") is None  # the slow reader never ran


def test_use_slow_path_rolls_back_and_rereads(store, tmp_path, fmt):
    f = tmp_path / "bad.csv"
    f.write_text("1,a\nbad,b\n3,c\n")
    from envoywatch.errors import RecordError

    with pytest.raises(RecordError, match="bad id"):
        import_paths(store, [f], fmt=fmt)
    assert store.count("posts") == 0 and store.count("import_batches") == 0
    res = import_paths(store, [f], fmt=fmt, skip_bad=True)
    assert res[0].records == 2 and res[0].rejects == 1
    assert store.count("posts") == 2 and store.count("post_hashtags") == 2 and store.count("import_batches") == 1
    assert store.scalar("SELECT note FROM import_batches") == "slow 1; slow 3"


def test_fast_then_slow_give_the_same_store(tmp_path, fmt):
    from envoywatch.store import Store

    f = tmp_path / "ok.csv"
    f.write_text("1,a\n2,b\n")
    with Store(tmp_path / "a.duckdb") as a, Store(tmp_path / "b.duckdb") as b:
        import_paths(a, [f], fmt=fmt)
        FORMATS[fmt].fast_read = None
        import_paths(b, [f], fmt=fmt)
        sa, sb = table_snapshot(a), table_snapshot(b)
    assert sa["posts"] == sb["posts"]


# --- memory limit and the refresh after an import ---------------------------------------------------------

def _write_flat(path, n, seed):
    from envoywatch.util.synth import write_flat_v2

    write_flat_v2(path, n, seed=seed)
    return path


def test_import_runs_under_a_memory_limit_and_restores_it(tmp_path, monkeypatch):
    from envoywatch.store import Store

    seen = []
    orig = Store.write_many

    def spy(self, *a, **k):
        seen.append(self.scalar("SELECT current_setting('memory_limit')"))
        return orig(self, *a, **k)

    monkeypatch.setattr(Store, "write_many", spy)
    f = _write_flat(tmp_path / "a.jsonl", 500, 1)
    with Store(tmp_path / "s.duckdb") as s:
        before = s.scalar("SELECT current_setting('memory_limit')")
        import_paths(s, [f], memory_limit="300MB")
        assert seen and all(v.replace(" ", "") in ("286.1MiB", "300.0MB", "300MB") for v in seen), seen
        assert s.scalar("SELECT current_setting('memory_limit')") == before
        seen.clear()
        monkeypatch.setenv("ENVOYWATCH_IMPORT_MEMORY", "400MB")
        import_paths(s, [_write_flat(tmp_path / "b.jsonl", 300, 2)])
        assert seen and all("381" in v or "400" in v for v in seen), seen


def test_invalid_memory_limit_is_a_clear_error(tmp_path):
    from tests.conftest import run_cli

    f = _write_flat(tmp_path / "a.jsonl", 50, 1)
    out = run_cli("import", str(f), "--memory-limit", "lots", db=tmp_path / "s.duckdb")
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "invalid memory limit 'lots'" in out.stderr and "512MB" in out.stderr
    ok = run_cli("import", str(f), "--memory-limit", "256MB", db=tmp_path / "s.duckdb")
    assert ok.returncode == 0, ok.stderr
    assert "search index and aggregates refreshed in" in ok.stdout


def test_derived_tables_refreshed_once_for_all_files(tmp_path, monkeypatch):
    from envoywatch.analysis import aggregates
    from envoywatch.analysis.search import ensure_index
    from envoywatch.importers import run
    from envoywatch.store import Store

    calls = []
    orig = run.refresh_after_import
    monkeypatch.setattr(run, "refresh_after_import", lambda store: calls.append(1) or orig(store))
    d = tmp_path / "in"
    d.mkdir()
    for k in range(3):
        _write_flat(d / f"{k}.jsonl", 200, k + 1)
    with Store(tmp_path / "s.duckdb") as s:
        res = import_paths(s, [d])
        assert [r.status for r in res] == ["done"] * 3
        assert len(calls) == 1 and res[-1].derived_seconds > 0 and res[0].derived_seconds == 0
        assert aggregates.is_current(s)                      # the aggregates cover all three files
        meta = ensure_index(s)
        assert meta.get("stale") is None and int(meta["posts"]) == s.count("posts")
        assert s.scalar("SELECT count(*) FROM search_docs") == s.scalar("SELECT count(*) FROM posts WHERE text IS NOT NULL")
        # nothing new: no refresh
        import_paths(s, [d])
        assert len(calls) == 1
