"""A batch lands whole or not at all: SIGKILL mid-import leaves the store exactly as before the batch,
and the next import completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from envoywatch.store import Store
from envoywatch.util.synth import write_flat_v2
from tests.conftest import run_cli, table_snapshot

N = 60_000


def _start_import(path, db):
    env = dict(os.environ)
    return subprocess.Popen([sys.executable, "-m", "envoywatch.cli.main", "--db", str(db), "import", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def test_sigkill_mid_batch_changes_nothing_then_import_completes(tmp_path):
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    write_flat_v2(small, 200, seed=7)
    write_flat_v2(big, N, seed=8)
    db = tmp_path / "s.duckdb"
    assert run_cli("import", str(small), db=db).returncode == 0
    with Store(db) as s:
        baseline = table_snapshot(s)

    # how long does the whole import take here? (a scratch store)
    t0 = time.perf_counter()
    r = run_cli("import", str(big), db=tmp_path / "scratch.duckdb")
    duration = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr

    # the time before the batch starts (interpreter, imports, opening the store): a tiny import
    t0 = time.perf_counter()
    assert run_cli("import", str(small), db=tmp_path / "scratch2.duckdb").returncode == 0
    startup = time.perf_counter() - t0

    killed = 0
    for frac in (0.2, 0.5, 0.8):  # points inside the batch: after start-up, before the commit
        p = _start_import(big, db)
        time.sleep(startup + frac * max(duration - startup, 0.5))
        assert p.poll() is None, f"import finished before the kill point ({frac:.0%})"
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert p.returncode == -signal.SIGKILL
        killed += 1
        with Store(db) as s:
            assert table_snapshot(s) == baseline, f"store changed by an import killed at {frac:.0%}"
    assert killed == 3

    r = run_cli("import", str(big), db=db)
    assert r.returncode == 0, r.stderr
    with Store(db) as s:
        # the small file's 200 tweets have the same ids as the first 200 of the big one
        assert s.scalar("SELECT count(*) FROM posts WHERE observed = 'primary'") == N
        assert s.scalar("SELECT count(*) FROM import_batches") == 2
