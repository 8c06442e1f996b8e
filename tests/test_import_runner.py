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
