"""Bad input gets a one-line error naming file and line and what to do, never a traceback; --skip-bad
lands the good records and keeps the bad ones in the rejects table with their reason."""

from __future__ import annotations

import random

import orjson
import pytest

from envoywatch.store import Store
from envoywatch.util.synth import TAKEDOWN_COLUMNS, flat_v2_tweet, takedown_row, write_takedown_csv
from tests.conftest import run_cli, table_snapshot


def _flat_lines(n: int) -> list[bytes]:
    rng = random.Random(3)
    return [orjson.dumps(flat_v2_tweet(i, rng)) for i in range(n)]


def _assert_one_line_error(r, *needles):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    err = [ln for ln in r.stderr.strip().splitlines() if ln.startswith("error:")]
    assert len(err) == 1, r.stderr
    for n in needles:
        assert n in err[0], (n, err[0])
    assert "Fix:" in err[0]
    return err[0]


def _counts(db):
    with Store(db) as s:
        return s.count("posts"), s.count("rejects"), s.con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()


@pytest.mark.parametrize("case", ["truncated", "bad_utf8", "huge_text"])
def test_bad_jsonl_line_fails_whole_file_then_skip_bad(tmp_path, case):
    lines = _flat_lines(40)
    bad_no = 23
    if case == "truncated":
        lines[bad_no - 1] = lines[bad_no - 1][: len(lines[bad_no - 1]) // 2]
        reason = "not valid JSON"
    elif case == "bad_utf8":
        lines[bad_no - 1] = lines[bad_no - 1].replace(b"synthetic post", b"synthetic \xff\xfe post", 1)
        reason = "UTF-8"
    else:
        obj = orjson.loads(lines[bad_no - 1])
        obj["text"] = "x" * (10 * 1024 * 1024)
        lines[bad_no - 1] = orjson.dumps(obj)
        reason = "limit"
    f = tmp_path / "tweets.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "s.duckdb"
    r = run_cli("import", str(f), db=db)
    _assert_one_line_error(r, f"{f}:{bad_no}", reason, "--skip-bad")
    assert _counts(db)[:2] == (0, 0)  # nothing of the file landed
    r = run_cli("import", "--skip-bad", str(f), db=db)
    assert r.returncode == 0, r.stderr
    posts, rejects, rows = _counts(db)
    assert posts == 39 + 0 or posts >= 39  # the 39 good tweets (retweets may add referenced stubs, never the bad one)
    assert rejects == 1 and rows[0][0] == bad_no and reason.lower() in rows[0][1].lower()
    with Store(db) as s:
        ids = {r[0] for r in s.con.execute("SELECT post_id FROM posts WHERE observed = 'primary'").fetchall()}
    bad_id = str(1_200_000_000_000_000_000 + bad_no - 1)
    assert bad_id not in ids and len(ids) == 39


def test_csv_missing_required_column(tmp_path):
    from envoywatch.importers.run import detect_format

    full = tmp_path / "full.csv"
    write_takedown_csv(full, 5)
    fmt = detect_format(full).name
    rng = random.Random(1)
    cols = [c for c in TAKEDOWN_COLUMNS if c != "tweet_time"]
    f = tmp_path / "takedown_missing.csv"
    import csv

    with open(f, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for i in range(5):
            row = dict(zip(TAKEDOWN_COLUMNS, takedown_row(i, rng)))
            w.writerow([row[c] for c in cols])
    r = run_cli("import", "--format", fmt, str(f), db=tmp_path / "s.duckdb")
    _assert_one_line_error(r, str(f), "tweet_time")


def test_csv_huge_field_and_bad_utf8_rows(tmp_path):
    f = tmp_path / "takedown.csv"
    write_takedown_csv(f, 30)
    lines = f.read_bytes().split(b"\r\n")
    # a 10 MB field in a row, and a row that is not UTF-8
    data = f.read_bytes()
    rows = data.split(b"\r\n")
    assert len(rows) > 10
    huge = tmp_path / "takedown_huge.csv"
    import csv
    import io

    rng = random.Random(1)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(TAKEDOWN_COLUMNS)
    for i in range(30):
        row = takedown_row(i, rng)
        if i == 10:
            row[TAKEDOWN_COLUMNS.index("tweet_text")] = "y" * (10 * 1024 * 1024)
        w.writerow(row)
    huge.write_bytes(buf.getvalue().encode())
    db = tmp_path / "s.duckdb"
    r = run_cli("import", str(huge), db=db)
    _assert_one_line_error(r, f"{huge}:", "limit")
    assert _counts(db)[:2] == (0, 0)
    r = run_cli("import", "--skip-bad", str(huge), db=db)
    assert r.returncode == 0, r.stderr
    posts, rejects, _ = _counts(db)
    assert rejects == 1
    with Store(db) as s:
        assert s.scalar("SELECT count(*) FROM posts WHERE observed = 'primary'") == 29
    del lines


def test_empty_file(tmp_path):
    f = tmp_path / "empty.jsonl"
    f.write_bytes(b"")
    r = run_cli("import", str(f), db=tmp_path / "s.duckdb")
    _assert_one_line_error(r, f"{f}:1", "empty")


def test_unknown_format(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("these are meeting notes, not posts\nsecond line\n")
    r = run_cli("import", str(f), db=tmp_path / "s.duckdb")
    _assert_one_line_error(r, str(f), "unknown format", "--format")


def test_unknown_forced_format_lists_formats(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_bytes(_flat_lines(1)[0] + b"\n")
    r = run_cli("import", "--format", "no-such-format", str(f), db=tmp_path / "s.duckdb")
    _assert_one_line_error(r, "no-such-format")


def test_gz_and_directories_and_twice_changes_nothing(tmp_path):
    import gzip

    d = tmp_path / "in"
    d.mkdir()
    lines = _flat_lines(30)
    (d / "a.jsonl").write_bytes(b"\n".join(lines[:15]) + b"\n")
    (d / "b.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines[15:]) + b"\n"))
    db = tmp_path / "s.duckdb"
    r = run_cli("import", str(d), db=db)
    assert r.returncode == 0, r.stderr
    assert "detected" in r.stdout
    with Store(db) as s:
        assert s.scalar("SELECT count(*) FROM posts WHERE observed = 'primary'") == 30
        before = table_snapshot(s)
    r = run_cli("import", str(d), db=db)
    assert r.returncode == 0 and "already imported" in r.stdout
    r = run_cli("import", "--force", str(d), db=db)
    assert r.returncode == 0
    with Store(db) as s:
        after = table_snapshot(s)
    for t in before:
        if t != "import_batches":  # --force reads again: a new batch row, and no other change
            assert after[t] == before[t], t
