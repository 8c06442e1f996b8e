"""Monitoring on the demo store: the growth decomposition is exact, and the CLI commands run end to end."""

from __future__ import annotations

import csv
import io
import json

import pytest

from envoywatch.analysis.filters import Filters
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from envoywatch.demo import build_demo
    from envoywatch.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with Store(path) as s:
        build_demo(s, scale="small", seed=42)
    return path


@pytest.fixture
def demo(demo_db):
    from envoywatch.store import Store

    with Store(demo_db, read_only=True) as s:
        yield s


@pytest.mark.parametrize("f", [Filters(), Filters(states=("CN",)), Filters(categories=("mission", "head_of_mission")),
                               Filters(kinds=("post",)), Filters(registered_only=True)])
@pytest.mark.parametrize("a,b", [("2019-06", "2021-06"), ("2020-01", "2020-02"), ("2019", "2020")])
def test_growth_decomposition_exact_on_demo(demo, f, a, b):
    from envoywatch.analysis.activity import activity_over_time, growth_by_account, growth_decomposition
    from envoywatch.analysis.filters import period_bounds

    (a0, a1), (b0, b1) = period_bounds(a), period_bounds(b)
    g = growth_decomposition(demo, f, a0, a1, b0, b1).to_pyarrow().to_pylist()[0]
    assert g["change"] == g["both_change"] + g["new_posts"] - g["gone_posts"]
    assert g["change"] == g["posts_b"] - g["posts_a"]
    # the parts agree with the per-account list and with plain monthly activity
    per = growth_by_account(demo, f, a0, a1, b0, b1).to_pyarrow().to_pylist()
    assert sum(r["posts_a"] for r in per) == g["posts_a"] and sum(r["posts_b"] for r in per) == g["posts_b"]
    assert sum(r["status"] == "new" for r in per) == g["accounts_new"]
    assert sum(r["status"] == "gone" for r in per) == g["accounts_gone"]
    assert sum(r["posts_b"] for r in per if r["status"] == "new") == g["new_posts"]
    act = activity_over_time(demo, f.window(a0, a1)).to_pyarrow().to_pylist()
    assert sum(r["posts"] for r in act) == g["posts_a"]


def test_demo_growth_has_all_three_parts(demo):
    from envoywatch.analysis.activity import growth_decomposition

    g = growth_decomposition(demo, Filters(), "2019-06", "2019-07", "2021-06", "2021-07").to_pyarrow().to_pylist()[0]
    assert g["accounts_both"] > 0 and g["accounts_new"] > 0 and g["accounts_gone"] > 0


def test_cli_commands(demo_db):
    r = run_cli("growth", "--a", "2019-06", "--b", "2021-06", "--state", "CN", "--format", "json", db=demo_db)
    assert r.returncode == 0, r.stderr
    g = json.loads(r.stdout)[0]
    assert g["change"] == g["both_change"] + g["new_posts"] - g["gone_posts"]

    r = run_cli("activity", "--by", "state", "--freq", "month", "--since", "2021-01", "--format", "csv", db=demo_db)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows and min(x["period"] for x in rows) == "2021-01-01" and {"CN"} <= {x["group"] for x in rows}

    r = run_cli("top", "hashtag", "--period", "2021-03", "--n", "5", "--format", "json", db=demo_db)
    assert r.returncode == 0, r.stderr
    top = json.loads(r.stdout)
    assert len(top) == 5 and all(t["trend"] in ("new", "rising", "falling", "steady") for t in top)

    r = run_cli("search", "hong kong", "--state", "CN", "--per-page", "3", "--format", "json", db=demo_db)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["total"] > 0 and len(res["rows"]) == 3

    r = run_cli("host-focus", "--format", "csv", db=demo_db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("platform,account_id,handle,host_country,posts,posts_mentioning_host,share,note")

    r = run_cli("activity", "--freq", "year", db=demo_db)
    assert r.returncode != 0 and "year" in r.stderr

    r = run_cli("growth", "--a", "June", "--b", "2021-06", db=demo_db)
    assert r.returncode != 0 and "Fix:" in r.stderr and "Traceback" not in r.stderr
