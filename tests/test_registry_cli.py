"""envoywatch registry ...: list / add / import / export / domains / starter through the CLI, as a user runs it."""

from __future__ import annotations

import csv
import io
import json

import yaml

from tests.conftest import real_path, run_cli


def _ok(p):
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    return p


def _err(p, *words):
    assert p.returncode != 0
    assert "Traceback" not in p.stderr + p.stdout
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Fix:" in lines[0], p.stderr
    for w in words:
        assert w in lines[0]
    return lines[0]


def test_starter_list_add_export_round_trip(db_path, tmp_path):
    out = _ok(run_cli("registry", "starter", db=db_path)).stdout
    assert "demo" in out and "new: actors" in out
    again = _ok(run_cli("registry", "starter", db=db_path)).stdout
    assert "new: actors 0, accounts 0, history 0, domains 0" in again

    listed = json.loads(_ok(run_cli("registry", "list", "--format", "json", db=db_path)).stdout)
    by_handle = {r["handle"]: r for r in listed}
    assert by_handle["zlj517"]["verified"] is True and by_handle["RT_com"]["verified"] is False
    table = _ok(run_cli("registry", "list", "--unverified", db=db_path)).stdout
    assert "UNVERIFIED" in table and "5 account(s); 5 UNVERIFIED" in table
    hosts = list(csv.DictReader(io.StringIO(_ok(run_cli(
        "registry", "list", "--host-country", "GB", "--category", "head_of_mission", "--format", "csv", db=db_path)).stdout)))
    assert [r["handle"] for r in hosts] == ["AmbLiuXiaoMing"]

    added = _ok(run_cli("registry", "add", "--actor-id", "cn-emb-de", "--name", "Embassy of China in Germany",
                        "--state", "CN", "--category", "mission", "--host-country", "DE", "--source", "our note",
                        "--platform", "x", "--handle", "@TestEmbDE", db=db_path)).stdout
    assert "UNVERIFIED" in added
    de = json.loads(_ok(run_cli("registry", "list", "--host-country", "DE", "--format", "json", db=db_path)).stdout)
    assert [(r["handle"], r["verified"], r["category"]) for r in de] == [("TestEmbDE", False, "mission")]

    exp = tmp_path / "reg.yaml"
    _ok(run_cli("registry", "export", str(exp), db=db_path))
    doc = yaml.safe_load(exp.read_text())
    assert "TestEmbDE" in {a["handle"] for a in doc["accounts"]} and len(doc["accounts"]) == len(listed) + 1
    _ok(run_cli("registry", "export", str(tmp_path / "csvdir"), "--format", "csv", db=db_path))
    with open(tmp_path / "csvdir" / "registry_accounts.csv", newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(listed) + 1

    hit = _ok(run_cli("registry", "domains", "--lookup", "news.cgtn.com", db=db_path)).stdout
    assert "CN state_media" in hit
    doms = json.loads(_ok(run_cli("registry", "domains", "--state", "VE", "--format", "json", db=db_path)).stdout)
    assert {d["domain"] for d in doms} == {"telesurtv.net", "telesurenglish.net"}


def test_import_then_list_and_errors(db_path, tmp_path):
    path = real_path("account_lists", "dima_io_operation_domains.csv")
    out = _ok(run_cli("registry", "import", str(path), db=db_path)).stdout
    assert "(dima)" in out and "skipped" in out
    again = _ok(run_cli("registry", "import", str(path), db=db_path)).stdout
    assert "new: actors 0, accounts 0, history 0, domains 0" in again
    latest = real_path("account_lists", "schliebs_disinfo", "ru_diplomats_twitter_latest.csv")
    _ok(run_cli("registry", "import", str(latest), db=db_path))
    ru = json.loads(_ok(run_cli("registry", "list", "--state", "RU", "--format", "json", db=db_path)).stdout)
    with open(latest, newline="", encoding="utf-8") as fh:
        assert len(ru) == len({r["twitter_handle"].lower() for r in csv.DictReader(fh)})

    bad = tmp_path / "not_a_list.csv"
    bad.write_text("x,y\n1,2\n")
    _err(run_cli("registry", "import", str(bad), db=db_path), str(bad), "not a known list")
    _err(run_cli("registry", "import", str(tmp_path / "nope.csv"), db=db_path), "nope.csv")
    _err(run_cli("registry", "list", "--state", "China!", db=db_path), "ISO 3166-1")
    _err(run_cli("registry", "add", "--actor-id", "new-one", "--source", "s", db=db_path), "--name")
    _err(run_cli("registry", "add", "--actor-id", "a1", "--name", "A", "--state", "ZZ", "--category", "mission",
                 "--source", "s", db=db_path), "ZZ")


def test_list_on_a_missing_store_is_one_line(tmp_path):
    _err(run_cli("registry", "list", db=tmp_path / "none.duckdb"), "does not exist")
