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

N = 120_000


def _start_import(path, db):
    env = dict(os.environ)
    # --format: no detection pass, so the first open of the file is the sha256 pass (see _wait_for_read_position)
    return subprocess.Popen([sys.executable, "-m", "envoywatch.cli.main", "--db", str(db), "import",
                             "--format", "x-v2-flat", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _positions(pid: int, target: str) -> dict[int, int] | None:
    """{fd: read offset} of the process's open descriptors on target; None once the process is gone."""
    out = {}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                    out[int(fd)] = int(fh.readline().split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def _wait_for_read_position(pid: int, path, at_least: float, timeout: float = 120.0):
    """Wait until the import's READER has read `at_least` bytes of path; return the offset.

    The runner first reads the whole file once to hash it (sha256), then opens it again to import it
    inside the batch's transaction. The first descriptor seen is the hash's; once it is gone (or its
    offset falls back: a new open on the same number), the next one is the reader's.
    """
    target = str(path.resolve())
    deadline = time.time() + timeout
    hash_fd, hash_pos, hashing = None, -1, True
    while time.time() < deadline:
        pos = _positions(pid, target)
        if pos is None:
            return None
        if hashing:
            if hash_fd is None and pos:
                hash_fd = min(pos)
            if hash_fd is not None:
                cur = pos.get(hash_fd)
                if cur is None or cur < hash_pos:
                    hashing = False
                    hash_fd = None if cur is None else hash_fd
                    if cur is not None and cur >= at_least:
                        return cur
                else:
                    hash_pos = cur
        else:
            for p in pos.values():
                if p >= at_least:
                    return p
        time.sleep(0.001)
    return None


def test_sigkill_mid_batch_changes_nothing_then_import_completes(tmp_path):
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    write_flat_v2(small, 200, seed=7)
    write_flat_v2(big, N, seed=8)
    db = tmp_path / "s.duckdb"
    assert run_cli("import", str(small), db=db).returncode == 0
    with Store(db) as s:
        baseline = table_snapshot(s)

    size = big.stat().st_size
    killed = 0
    for frac in (0.2, 0.5, 0.8):
        p = _start_import(big, db)
        # kill when the import has read this share of the file: it is inside its batch (the batch commits
        # only after the last record), whatever the machine's speed
        pos = _wait_for_read_position(p.pid, big, frac * size)
        assert p.poll() is None and pos is not None, f"import ended before reading {frac:.0%} of the file"
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert p.returncode == -signal.SIGKILL
        killed += 1
        with Store(db) as s:
            assert table_snapshot(s) == baseline, f"store changed by an import killed at {pos / size:.0%} of its file"
    assert killed == 3

    r = run_cli("import", str(big), db=db)
    assert r.returncode == 0, r.stderr
    with Store(db) as s:
        # the small file's 200 tweets have the same ids as the first 200 of the big one
        assert s.scalar("SELECT count(*) FROM posts WHERE observed = 'primary'") == N
        assert s.scalar("SELECT count(*) FROM import_batches") == 2
