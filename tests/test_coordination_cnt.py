"""Parity with QUT's coordination-network-toolkit (CNT): with mode="cnt" the edge lists equal CNT's.

References: ../shared/data/reference (CNT git HEAD daa0e11f; see its README.md). Every comparison below
is exact (same directed pairs, same weights). Definition choices that matter for parity, all shared
with the references:
- a duplicated message_id keeps its first row (CNT's `insert or ignore`);
- co-link drops empty URL strings (CNT as released treats "" as a URL shared by all link-less posts;
  the references drop it too) and leaves out links of reposts (as CNT does);
- self-loops are left out (CNT's export default).
"""

from __future__ import annotations

import csv

import pytest

from envoywatch.analysis.coordination import NetworkParams, network_from_csv
from tests.conftest import real_path, reference_path


def _reference(name: str) -> dict[tuple[str, str], int]:
    with open(reference_path(name), newline="") as fh:
        return {(r["user_1"], r["user_2"]): int(r["weight"]) for r in csv.DictReader(fh)}


def _edges(table) -> dict[tuple[str, str], int]:
    cols = [table.column(c).to_pylist() for c in ("source", "target", "weight")]
    out = {(s, t): w for s, t, w in zip(*cols)}
    assert len(out) == table.num_rows, "an edge is listed twice"
    return out


def _diff(got, ref):
    keys = set(got) | set(ref)
    return sorted((k, got.get(k), ref.get(k)) for k in keys if got.get(k) != ref.get(k))[:10]


@pytest.mark.parametrize("window", [10, 60])
def test_russian_co_repost_equals_cnt(window):
    path = real_path("coordination", "russian_coord_tweets.csv")
    # CooRTweet layout mapped as in the reference README: message = content_id, repost = object_id
    got = _edges(network_from_csv(path, NetworkParams(type="co-repost", window=window, mode="cnt"), layout="coortweet"))
    ref = _reference(f"russian_co_retweet_cnt_w{window}.csv")
    assert got == ref, _diff(got, ref)
    assert len(got) == {10: 2184, 60: 12412}[window]


@pytest.mark.parametrize("size", ["10k", pytest.param("100k", marks=pytest.mark.slow)])
@pytest.mark.parametrize("ntype,ref_name", [("co-repost", "co_retweet"), ("co-link", "co_link")])
def test_generated_equals_cnt(size, ntype, ref_name):
    path = reference_path(f"generated_{size}_posts.csv")
    got = _edges(network_from_csv(path, NetworkParams(type=ntype, window=60, mode="cnt"), layout="cnt"))
    ref = _reference(f"generated_{size}_{ref_name}_cnt_w60.csv")
    assert got == ref, _diff(got, ref)


def test_cnt_min_weight_is_a_filter_of_the_full_network():
    """CNT's pruning (min edge weight) must only drop edges below the threshold, never change weights."""
    path = reference_path("generated_10k_posts.csv")
    full = _edges(network_from_csv(path, NetworkParams(type="co-repost", window=60, mode="cnt")))
    pruned = _edges(network_from_csv(path, NetworkParams(type="co-repost", window=60, mode="cnt", min_weight=3)))
    assert pruned == {k: w for k, w in full.items() if w >= 3}
