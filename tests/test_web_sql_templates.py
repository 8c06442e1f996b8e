"""Compiled SQL reused across time windows (web/sql_templates.py, Data.compiled): for windows of every kind
(open ends, first of a month, midnight, any time, inside one month, across months, previous windows that
start mid-month), the SQL filled in from a template gives exactly the rows of the SQL compiled for the
request; one template serves all windows of a kind; a time used in a way a template cannot express is
compiled directly."""

from __future__ import annotations

import random
from datetime import datetime

from envoywatch.analysis.activity import activity_figures, activity_over_time, growth_decomposition, top_accounts
from envoywatch.analysis.filters import Filters
from envoywatch.analysis.reach import followers_over_time, top_posts
from envoywatch.analysis.shares import top_entities
from envoywatch.importers.run import import_paths
from envoywatch.web import sql_templates
from envoywatch.web.data import Data
from tests.test_aggregates import _lines, _store, fmt  # noqa: F401 - fmt: the test format's fixture (autouse)

WINDOWS = [
    (None, None), ("2021-01-01", "2021-03-01"), ("2021-01-10", "2021-02-20"), ("2021-02-03", "2021-02-17"),
    ("2021-01-15", None), (None, "2021-02-15"), ("2021-01-01", "2021-01-31"), ("2021-01-31", "2021-02-01"),
    (datetime(2021, 1, 5, 12, 30), datetime(2021, 2, 9, 8)), ("2021-02-01", "2021-03-10"),
    ("2021-01-20", "2021-03-01"), ("2021-02-11", "2021-02-12"),
    ("2021-02-01", "2022-02-01"), ("2021-03-01", "2022-01-01"),   # previous windows starting on and off a 1st
]


def _analyses(store):
    return {
        "figures": lambda f: activity_figures(store, f),
        "activity_month": lambda f: activity_over_time(store, f, freq="month", by="state"),
        "activity_week": lambda f: activity_over_time(store, f, freq="week"),
        "accounts": lambda f: top_accounts(store, f, 4, 1),
        "top_hashtag": lambda f: top_entities(store, f, "hashtag", n=3),
        "top_reposted": lambda f: top_entities(store, f, "reposted_account", n=5),
        "top_posts": lambda f: top_posts(store, f, n=5, metric="likes"),
        "followers": lambda f: followers_over_time(store, f),
    }


def _run(store, sql: str) -> list:
    return sorted(store.con.execute(sql).fetchall(), key=repr)


def test_filled_templates_give_the_rows_of_a_direct_compile(tmp_path):
    f1 = tmp_path / "one.txt"
    f1.write_text("\n".join(_lines(random.Random(2), range(0, 600), datetime(2021, 1, 1), 70)) + "\n")
    store = _store(tmp_path / "s.duckdb")
    try:
        import_paths(store, [f1], fmt="test-agg")
        d = Data(store)
        compared = nonempty = 0
        for start, end in WINDOWS:
            for base in (Filters(), Filters(states=("CN",)), Filters(accounts=("a2", "a3"), kinds=("post", "quote"))):
                f = Filters(**{**base.__dict__, "start": start, "end": end})
                for name, make in _analyses(store).items():
                    sql, _ = d.compiled(name, f, (), make)
                    want = _run(store, str(store.ibis().compile(make(f))))
                    assert _run(store, sql) == want, (name, f)
                    compared += 1
                    nonempty += bool(want)
                # growth: the two windows are extra times
                a0, a1, b0, b1 = datetime(2021, 1, 4), datetime(2021, 2, 1), datetime(2021, 2, 1), datetime(2021, 3, 3)
                make = lambda f, *t: growth_decomposition(store, f, *t)  # noqa: E731
                sql, _ = d.compiled("growth", f, (), make, (a0, a1, b0, b1))
                assert _run(store, sql) == _run(store, str(store.ibis().compile(make(f, a0, a1, b0, b1))))
        assert compared == len(WINDOWS) * 3 * 8 and nonempty > compared // 2
        assert d.direct_compiles == 0     # every one of these windows was filled into a template
        # one template per analysis, filter shape and kind of times: far fewer than the requests
        kinds = {tuple(sql_templates.time_class(v) for v in w) for w in WINDOWS}
        assert len(d._templates) <= (len(_analyses(store)) + 1) * 3 * len(kinds) < compared
    finally:
        store.close()


def test_unknown_time_literal_is_not_filled():
    mapping = sql_templates.replacement([datetime(1811, 2, 10), None], [datetime(2021, 5, 10), None])
    ok = sql_templates.fill("SELECT * FROM t WHERE d >= MAKE_DATE(1811, 2, 10)", mapping)
    assert ok == "SELECT * FROM t WHERE d >= MAKE_DATE(2021, 5, 10)"
    # a time derived in a way the module does not enumerate (here: ten days later) stays a sentinel: None
    assert sql_templates.fill("SELECT * FROM t WHERE d >= MAKE_DATE(1811, 2, 20)", mapping) is None
    # times of other kinds get other sentinels, so a template never serves a window of another kind
    assert {sql_templates.time_class(v) for v in ("2021-03-01", "2021-03-02", datetime(2021, 3, 2, 1), None)} == \
        {"m", "d", "t", "-"}
