"""The synchronized-activity null model: the co-activity network and the activity annotation of content edges."""

from __future__ import annotations

import itertools
import random

from envoywatch.analysis.coordination import NetworkParams, compute_network, network_from_csv, open_csv_source
from envoywatch.analysis.coordination.null_model import with_activity_null
from tests.conftest import run_cli
from tests.test_coordination import _csv, _edges, _msg

W = 60


def _rows(seed=3):
    """g1..g4 repost the same originals within seconds; h1..h4 post their own texts in the same minutes;
    o1..o6 post at random times."""
    rnd = random.Random(seed)
    rows, mid = [], itertools.count(1)
    for k in range(25):
        slot = 10_000 + k * 3_600           # one event per hour, at the start of a 60 s slot
        for g in ("g1", "g2", "g3", "g4"):
            rows.append(_msg(next(mid), g, slot + rnd.randint(0, 20), repost_id=f"orig{k}"))
        for h in ("h1", "h2", "h3", "h4"):
            rows.append(_msg(next(mid), h, slot + rnd.randint(25, 55), message=f"own text {h} {k} {rnd.random()}"))
    for o in range(1, 7):
        for _ in range(25):
            rows.append(_msg(next(mid), f"o{o}", rnd.randint(0, 100 * 3_600), message=f"noise {rnd.random()}"))
    return rows


def _brute_activity(rows, window=W):
    slots: dict[str, set[int]] = {}
    for r in rows:
        slots.setdefault(r["user_id"], set()).add(int(float(r["timestamp"]) // window))
    out = {}
    for a, b in itertools.combinations(sorted(slots), 2):
        n = len(slots[a] & slots[b])
        if n:
            out[(a, b)] = n
    return out


def test_co_activity_equals_a_brute_force_count_of_shared_slots(tmp_path):
    rows = _rows()
    got = _edges(network_from_csv(_csv(tmp_path, rows), NetworkParams(type="co-activity", window=W)))
    assert got == _brute_activity(rows)
    # the synchronized but independent accounts are linked by activity ...
    assert all(got.get((a, b), 0) == 25 for a, b in itertools.combinations(["h1", "h2", "h3", "h4"], 2))
    # ... but not by content
    content = _edges(network_from_csv(_csv(tmp_path, rows, "c.csv"), NetworkParams(type="co-repost", window=W)))
    assert not any(a.startswith("h") or b.startswith("h") for a, b in content)
    assert all(content[(a, b)] == 25 for a, b in itertools.combinations(["g1", "g2", "g3", "g4"], 2))


def test_content_edges_carry_activity_weight_and_ratio(tmp_path):
    rows = _rows()
    # g5 reposts the originals too, but also posts every 30 minutes: many co-active slots, same content share
    mid = itertools.count(10_000)
    for k in range(25):
        rows.append(_msg(next(mid), "g5", 10_000 + k * 3_600 + 5, repost_id=f"orig{k}"))
        rows.append(_msg(next(mid), "g5", 10_000 + k * 3_600 + 1_800, message=f"filler {k}"))
    con, table = open_csv_source(_csv(tmp_path, rows))
    try:
        net = with_activity_null(con, table, compute_network(con, table, NetworkParams(type="co-repost", window=W)))
        got = {(r["source"], r["target"]): r for r in net.to_arrow().to_pylist()}
        net.drop()
    finally:
        con.close()
    brute = _brute_activity(rows)
    assert got and set(got) == {p for p in itertools.combinations(["g1", "g2", "g3", "g4", "g5"], 2)}
    for pair, r in got.items():
        assert r["activity_weight"] == brute[pair]
        assert r["content_ratio"] == round(r["weight"] / brute[pair], 4)
        assert r["content_ratio"] >= 0.95


def test_cli_null_model_columns(tmp_path):
    p = _csv(tmp_path, _rows())
    out = tmp_path / "edges.csv"
    res = run_cli("coordination", "network", "--from-csv", str(p), "--window", str(W), "--null-model", "--out", str(out))
    assert res.returncode == 0, res.stderr
    header = out.read_text().splitlines()[0].split(",")
    assert "activity_weight" in header and "content_ratio" in header
    res = run_cli("coordination", "network", "--from-csv", str(p), "--type", "co-activity", "--window", str(W))
    assert res.returncode == 0 and "h1" in res.stdout, res.stderr
