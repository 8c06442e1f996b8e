"""envoywatch tone score / store / share as a user runs them."""

from __future__ import annotations

import json
from datetime import datetime

from tests.conftest import run_cli

LINES = [
    {"id": 1, "text": "The US hypocrites lie shamelessly and smear China while their racist police kill people. "
                      "Double standards! Shame!", "label": True, "nested": {"a": [1, 2]}},
    {"id": 2, "text": "Today the ambassador met the mayor to discuss cooperation on renewable energy.", "label": False},
    {"id": "três", "text": "<b>élan</b> \u202e 🙂 ' OR 1=1 --", "extra": None},
]


def test_score_round_trip(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in LINES), encoding="utf-8")
    p = run_cli("tone", "score", str(src), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr and "scored 3 posts" in p.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3
    for orig, row in zip(LINES, rows):
        for k, v in orig.items():
            assert row[k] == v                                   # every field kept, unchanged
        assert list(row)[: len(orig)] == list(orig)              # and in order
        assert isinstance(row["propaganda"], bool)
        assert isinstance(row["propaganda_score"], float) and 0 <= row["propaganda_score"] <= 1
        assert isinstance(row["propaganda_reasons"], list) and all(isinstance(r, str) for r in row["propaganda_reasons"])
    assert rows[0]["propaganda"] is True and rows[1]["propaganda"] is False


def test_score_stdin_to_stdout_without_reasons():
    p = run_cli("tone", "score", "-", "--no-reasons", input=json.dumps({"text": "hello"}) + "\n")
    assert p.returncode == 0, p.stderr
    row = json.loads(p.stdout)
    assert set(row) == {"text", "propaganda", "propaganda_score"}


def test_bad_lines_are_reported_with_file_and_line(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"text": "fine post"}\nnot json\n{"text": 5}\n\n[1, 2]\n{"body": "x"}\n{"text": "also fine"}\n',
                   encoding="utf-8")
    p = run_cli("tone", "score", str(src), "--out", str(out))
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    errs = [line for line in p.stderr.splitlines() if line.startswith("error:")]
    assert [e.split(": ")[1] for e in errs] == [f"{src}:2", f"{src}:3", f"{src}:5", f"{src}:6"]
    assert "not valid JSON" in errs[0] and "not a string" in errs[1] and "array" in errs[2] and "no 'text'" in errs[3]
    assert [json.loads(x)["text"] for x in out.read_text().splitlines()] == ["fine post", "also fine"]


def test_missing_input_is_one_line(tmp_path):
    p = run_cli("tone", "score", str(tmp_path / "nope.jsonl"))
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "nope.jsonl" in p.stderr


def test_store_scores_and_share(tmp_path):
    from envoywatch.analysis.tone.scores import TABLE, score_store, tone_share
    from envoywatch.store import Store

    db = tmp_path / "s.duckdb"
    with Store(db) as s:
        s.write("posts", [
            {"platform": "x", "post_id": str(i), "account_id": "a" if i < 4 else "b",
             "created_at": datetime(2024, 1 + i % 2, 5), "text": LINES[i % 2]["text"], "kind": "post",
             "observed": "primary"} for i in range(8)])
        r = score_store(s)
        assert r["scored"] == 8
        assert score_store(s)["scored"] == 0                    # idempotent: nothing left to score
        assert s.scalar(f"SELECT count(*) FROM {TABLE}") == 8
        got = tone_share(s, by="account").to_pyarrow().to_pylist()
        assert sum(g["posts_scored"] for g in got) == 8
        for g in got:
            assert g["share"] == g["propaganda_posts"] / g["posts_scored"]
        assert sum(g["propaganda_posts"] for g in got) == 4    # the even posts are the propaganda example
    p = run_cli("tone", "share", "--by", "account", "--format", "json", db=db)
    assert p.returncode == 0, p.stderr
    assert sum(r["posts_scored"] for r in json.loads(p.stdout)) == 8
    p = run_cli("tone", "store", db=db)
    assert p.returncode == 0 and "scored 0 new posts" in p.stdout
