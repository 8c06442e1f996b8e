"""Dashboard benchmark: N generated posts over 2,000 accounts and 3 years, `envoywatch serve`, p50/p95 latency
of the overview, an account page and a search through a real HTTP client (httpx) on loopback.

    python benchmarks/dashboard_bench.py                     # N = 1M
    python benchmarks/dashboard_bench.py --n 10000000        # the issue's size
    python benchmarks/dashboard_bench.py --keep DIR          # keep (and reuse) the generated store in DIR

Targets (issue 3, 2 cores): p95 < 300 ms for the overview and account pages, < 500 ms for search.
Each page is measured twice: "cold" (every request has filters or an account not seen before, so nothing is
cached: the analyses run) and "warm" (the same URLs again: the server's result cache, keyed by the store
file's size and mtime, answers). A script that prints figures (never a timed test). The data are generated
in DuckDB SQL straight into a store (posts, hashtags, links, metrics, snapshots, registry), not imported;
then `refresh` does what every import does at its end (aggregates and search index), and says how long it took.
Server CPU per request (from /proc) is printed next to the wall times: on a machine shared with other work,
wall time includes waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCOUNTS = 2000
REGISTERED = 1500
DAYS = 3 * 365
WORDS = ("china cooperation development people friendship vaccine covid trade belt road mutual benefit embassy "
         "ambassador minister meeting peace security united nations global partnership economy growth green "
         "energy climate culture students exchange visit forum summit africa europe asia latin america russia iran "
         "venezuela media truth lies western hegemony sanctions xinjiang hong kong taiwan sovereignty democracy "
         "human rights win future shared community great wall panda festival new year spring harvest poverty "
         "alleviation technology innovation 5g satellite space station olympics winter games beijing shanghai").split()
TAGS = ("covid19 beltandroad xinjiang multilateralism chinavaccine fightcovid19 usbiolabs winwin cpc100 "
        "hongkong taiwan peace un climate greendevelopment olympics2022 beijing2022 springfestival culture "
        "friendship africa asean brics sco russia iran venezuela truth media").split()
DOMAINS = ("cgtn.com globaltimes.cn xinhuanet.com chinadaily.com.cn telesurtv.net sputniknews.com rt.com presstv.ir "
           "fmprc.gov.cn who.int un.org reuters.com bbc.co.uk nytimes.com youtube.com people.cn ecns.cn "
           "tass.com hispantv.com news.cn").split()
STATES = ("CN", "CN", "CN", "CN", "RU", "IR", "VE")
CATS = ("mission", "head_of_mission", "state_media_outlet", "state_media_staff", "spokesperson", "ministry",
        "other_official")


def _sql_list(xs) -> str:
    return "[" + ", ".join("'" + x.replace("'", "''") + "'" for x in xs) + "]"


def generate(db: Path, n: int) -> dict:
    """Write the store with SQL; returns row counts and seconds."""
    from envoywatch.store import Store

    t0 = time.perf_counter()
    s = Store(db)
    c = s.con
    c.execute("SET preserve_insertion_order = false")
    start = "TIMESTAMP '2021-01-01'"
    # accounts: 0..REGISTERED-1 are registered state accounts, the rest are unregistered amplifiers
    c.execute(f"""INSERT INTO registry_actors (actor_id, name, actor_type, state, category, host_country, source, list_name)
        SELECT 'bench-' || i, 'Bench actor ' || i, 'organisation', {_sql_list(STATES)}[1 + i % {len(STATES)}],
               {_sql_list(CATS)}[1 + (i // 7) % {len(CATS)}], CASE WHEN i % 3 = 0 THEN 'FR' END,
               'benchmark data (simulated)', 'bench' FROM range({REGISTERED}) t(i)""")
    c.execute(f"""INSERT INTO registry_accounts (platform, handle, actor_id, account_id, source)
        SELECT 'x', 'bench_' || i, 'bench-' || i, (10000000 + i)::VARCHAR, 'benchmark data (simulated)'
        FROM range({REGISTERED}) t(i)""")
    c.execute(f"""INSERT INTO accounts (platform, account_id, handle, display_name, description, created_at, lang, labels)
        SELECT 'x', (10000000 + i)::VARCHAR, CASE WHEN i < {REGISTERED} THEN 'bench_' ELSE 'amp_' END || i,
               'Bench account ' || i, '[SIMULATED] benchmark account', {start} - INTERVAL (i % 900) DAY, 'en', ['simulated']
        FROM range({ACCOUNTS}) t(i)""")
    c.execute(f"""INSERT INTO account_snapshots (platform, account_id, captured_at, followers, following, posts_count)
        SELECT 'x', (10000000 + a)::VARCHAR, {start} + INTERVAL (w * 7) DAY,
               (1000 + (a * 37) % 50000 + w * (5 + a % 20))::BIGINT, 100 + a % 300, w * 10
        FROM range({ACCOUNTS}) t(a), range({DAYS // 7}) u(w)""")
    # posts: skewed over accounts (a few very active), growing over time, kinds 55/30/8/7 %
    c.execute(f"""CREATE TEMP TABLE _g AS SELECT i, (hash(i) >> 1)::BIGINT AS h1, (hash(i + 7919) >> 1)::BIGINT AS h2, (hash(i * 31 + 1) >> 1)::BIGINT AS h3
                  FROM range({n}) t(i)""")
    words = _sql_list(WORDS)
    nw = len(WORDS)
    text = " || ' ' || ".join(f"{words}[1 + ((h3 >> {k * 5}) % {nw})::INT]" for k in range(12))
    c.execute(f"""INSERT INTO posts (platform, post_id, account_id, created_at, text, lang, kind, ref_post_id,
                                     ref_account_id, url, observed)
        SELECT 'x', (100000000000 + i)::VARCHAR,
               (10000000 + floor({ACCOUNTS} * pow((h1 % 1000003) / 1000003.0, 2.2)))::BIGINT::VARCHAR,
               {start} + to_seconds(floor({DAYS} * 86400 * sqrt((h2 % 1000003) / 1000003.0))::BIGINT),
               {text},
               ['en','en','en','en','en','en','zh','es','fr','ru','ar'][1 + (h2 >> 20) % 11],
               CASE WHEN m < 55 THEN 'post' WHEN m < 85 THEN 'repost' WHEN m < 93 THEN 'quote' ELSE 'reply' END,
               CASE WHEN m >= 55 THEN '1' END,
               CASE WHEN m >= 55 AND m < 93 THEN (10000000 + (h3 >> 49) % 60)::VARCHAR END,
               'https://x.com/i/status/' || (100000000000 + i), 'primary'
        FROM (SELECT *, (h1 >> 40) % 100 AS m FROM _g)""")
    tags = _sql_list(TAGS)
    c.execute(f"""INSERT INTO post_hashtags (platform, post_id, tag, tag_norm)
        SELECT 'x', (100000000000 + i)::VARCHAR, t, lower(t) FROM (
            SELECT i, {tags}[1 + (h3 >> 3) % {len(TAGS)}] AS t FROM _g WHERE h3 % 10 < 6)""")
    doms = _sql_list(DOMAINS)
    c.execute(f"""INSERT INTO post_urls (platform, post_id, position, url, normalized_url, domain, host)
        SELECT 'x', (100000000000 + i)::VARCHAR, 0, 'https://' || d || '/a/' || i, 'https://' || d || '/a/' || i, d, d
        FROM (SELECT i, {doms}[1 + (h2 >> 7) % {len(DOMAINS)}] AS d FROM _g WHERE h2 % 4 = 0)""")
    c.execute("""INSERT INTO post_metrics (platform, post_id, captured_at, likes, reposts, replies, quotes)
        SELECT 'x', (100000000000 + i)::VARCHAR, TIMESTAMP '2024-01-05', h1 % 500, h2 % 120, h3 % 30, h1 % 10
        FROM _g WHERE h3 % 2 = 0""")
    c.execute("DROP TABLE _g")
    gen_s = time.perf_counter() - t0
    counts = {t: s.count(t) for t in ("posts", "post_hashtags", "post_urls", "post_metrics", "account_snapshots")}
    s.close()
    return {"generate_s": gen_s, **counts}


def refresh(db: Path) -> str:
    """What an import does at its end (analysis.aggregates.refresh_derived): the per-account-day aggregates and
    the search index brought up to date. The posts above were written in SQL, so the first run builds both."""
    from envoywatch.analysis.aggregates import refresh_aggregates
    from envoywatch.analysis.search import refresh_index
    from envoywatch.store import Store

    out = []
    with Store(db) as s:
        for what, fn in (("aggregates", refresh_aggregates), ("search index", refresh_index)):
            t, c = time.perf_counter(), time.process_time()
            with s.transaction():
                how = fn(s)
            if isinstance(how, dict):
                how = f"{int(how.get('docs', 0)):,} posts"
            out.append(f"{what} {how} in {time.perf_counter() - t:.1f} s wall / {time.process_time() - c:.1f} s CPU")
    return "; ".join(out)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def wait_idle(pid: int, timeout: float = 300.0) -> float:
    """Seconds until the process stops using CPU (less than 20 ms in a 0.5 s interval)."""
    t0 = time.perf_counter()
    last = cpu_seconds(pid)
    while time.perf_counter() - t0 < timeout:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last < 0.02:
            break
        last = now
    return time.perf_counter() - t0


def _free_port() -> int:
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def start_server(db: Path) -> tuple[subprocess.Popen, str, float]:
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "envoywatch.cli.main", "--db", str(db), "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while True:
        if proc.poll() is not None:
            raise SystemExit("server exited: " + proc.stderr.read()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}", time.perf_counter() - t0
        except OSError:
            time.sleep(0.1)


def measure(client, urls: list[str]) -> list[float]:
    out = []
    for u in urls:
        t = time.perf_counter()
        r = client.get(u)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{u}: HTTP {r.status_code} {r.text[:300]}")
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="posts (default 1,000,000)")
    ap.add_argument("--requests", type=int, default=40,
                    help="requests per measurement (default 40: p95 is then the 38th slowest, not the slowest)")
    ap.add_argument("--keep", type=Path, help="directory for the store (reused when it exists with the same N)")
    args = ap.parse_args()
    import httpx

    tmp = None
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        db = args.keep / f"dashboard_{args.n}.duckdb"
    else:
        tmp = tempfile.TemporaryDirectory()
        db = Path(tmp.name) / "dashboard.duckdb"
    if not db.exists():   # generated under another name and renamed when complete: a kept store is never partial
        part = db.with_name(db.name + ".partial")
        for q in (part, part.with_name(part.name + ".wal")):
            q.unlink(missing_ok=True)
        info = generate(part, args.n)
        print("refresh: " + refresh(part))
        part.rename(db)
        print(f"generated {info['posts']:,} posts over {ACCOUNTS:,} accounts and 3 years in {info['generate_s']:.1f} s "
              f"({info['post_hashtags']:,} hashtags, {info['post_urls']:,} links, {info['post_metrics']:,} metrics, "
              f"{info['account_snapshots']:,} snapshots); store {db.stat().st_size / 2**20:,.0f} MiB")
    else:
        print("reused store; refresh: " + refresh(db))
    print(f"load average {os.getloadavg()[0]:.1f} (other work on the machine shares its cores)")
    proc, base, up = start_server(db)
    print(f"server listening after {up:.1f} s (cpu count {os.cpu_count()})")
    idle = wait_idle(proc.pid)
    print(f"start-up warm-up (the overview per state, in a background thread) done after {idle:.1f} s more; "
          "measuring from now, as a server that has been up a while")
    k = args.requests
    try:
        with httpx.Client(base_url=base, timeout=600) as cl:
            t = time.perf_counter()
            cl.get("/")
            print(f"first overview (cache empty unless the start-up warm-up finished): {(time.perf_counter() - t) * 1000:,.0f} ms")
            ids = [r["account_id"] for r in cl.get("/api/accounts", params={"n": k * 3}).json()["rows"]]
            states = ["CN", "RU", "IR", "VE"]
            cold = {
                # every URL distinct (state, start month and year, end month and day all vary)
                "overview": [f"/?state={states[i % 4]}&start={2021 + (i // 12) % 2}-{1 + i % 12:02d}-01"
                             f"&end=2023-{1 + (i * 7) % 12:02d}-{1 + (i * 3) % 28:02d}" for i in range(k)],
                "account": [f"/accounts/x/{a}" for a in ids[k:2 * k]],
                "search": [f"/search?q={WORDS[(i * 7) % len(WORDS)]}+{WORDS[(i * 13 + 5) % len(WORDS)]}" for i in range(k)],
            }
            for name, urls in cold.items():   # a repeated URL would be answered from the cache
                if len(set(urls)) != len(urls):
                    raise SystemExit(f"cold {name} URLs repeat: {len(urls) - len(set(urls))} of {len(urls)}")
            warm = {"overview": ["/"] * k, "account": [f"/accounts/x/{ids[0]}"] * k,
                    "search": ["/search?q=vaccine+cooperation"] * k}
            for name in ("overview", "account", "search"):
                cpu0 = cpu_seconds(proc.pid)
                c_ms = measure(cl, cold[name])
                c_cpu = (cpu_seconds(proc.pid) - cpu0) / len(c_ms) * 1000
                measure(cl, warm[name][:1])
                w_ms = measure(cl, warm[name])
                target = 500 if name == "search" else 300
                print(f"{name:9s} cold: p50 {statistics.median(c_ms):7,.0f} ms  p95 {pct(c_ms, 95):7,.0f} ms "
                      f"max {max(c_ms):7,.0f} ms (server CPU {c_cpu:,.0f} ms/request) | "
                      f"warm: p50 {statistics.median(w_ms):6,.1f} ms  p95 {pct(w_ms, 95):6,.1f} ms | target p95 < {target} ms")
    finally:
        time.sleep(0.5)
        if proc.poll() is not None:   # the server died: say why
            print(f"server exited with {proc.returncode}: " + proc.stderr.read()[-3000:], file=sys.stderr)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:   # busy in a long query: SIGTERM waits for it
            proc.kill()
            proc.wait()
        if tmp:
            tmp.cleanup()


if __name__ == "__main__":
    main()
