"""Shared fixtures: where the real data is, temporary stores, running the CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("ENVOYWATCH_REAL_DATA", ROOT.parent / "shared" / "data" / "real"))
REFERENCE = REAL.parent / "reference"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def real_path(*parts: str) -> Path:
    """A path under the real data; skips (or, under CI=true, fails) when the data is absent."""
    p = REAL.joinpath(*parts)
    if not p.exists():
        msg = f"real data not found at {p} (set ENVOYWATCH_REAL_DATA to the shared data/real folder)"
        if IN_CI:
            pytest.fail(msg + " -- under CI=true the real-data tests must run")
        pytest.skip(msg)
    return p


def reference_path(*parts: str) -> Path:
    p = REFERENCE.joinpath(*parts)
    if not p.exists():
        msg = f"reference data not found at {p}"
        if IN_CI:
            pytest.fail(msg + " -- under CI=true the reference tests must run")
        pytest.skip(msg)
    return p


@pytest.fixture
def real():
    return real_path


@pytest.fixture
def store(tmp_path):
    from envoywatch.store import Store

    s = Store(tmp_path / "store.duckdb")
    yield s
    s.close()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "cli.duckdb"


def run_cli(*args: str, db: Path | None = None, env: dict | None = None, input: str | None = None,
            timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `envoywatch ...` in a subprocess, as a user would, and return the completed process."""
    e = dict(os.environ)
    e.pop("ENVOYWATCH_DEBUG", None)
    if env:
        e.update(env)
    cmd = [sys.executable, "-m", "envoywatch.cli.main"]
    if db is not None:
        cmd += ["--db", str(db)]
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=e, input=input, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


def table_snapshot(store) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: to show that an operation changed nothing."""
    from envoywatch.schema import TABLES

    snap = {}
    for name in TABLES:
        rows = store.con.execute(f'SELECT * FROM "{name}"').fetchall()
        snap[name] = sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
    return snap
