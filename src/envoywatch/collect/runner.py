"""Collect registry selections from the live platforms into the store: incremental, resumable, bounded.

Per account: look the profile up (a follower snapshot; a rename, suspension, deletion or reinstatement is
a *finding*, recorded in registry_history with the date), then read the timeline newest first down to the
last run's newest post. Every page is archived raw (collect/archive.py) and then, in ONE transaction,
normalized into the store together with the account's cursor and its import_batches row: a run killed at
any point resumes from the last committed page with no gap, and the store's keys make re-read pages add
nothing. Accounts run in a bounded thread pool; store writes are serialized by one lock (DuckDB).
A failing account (retries exhausted, rate limit beyond the longest wait) is recorded and the run goes
on; a refused credential (401/403) stops that platform for the run, with one message.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from envoywatch import __version__
from envoywatch.collect import state
from envoywatch.collect.archive import RawArchive, archive_root
from envoywatch.collect.connectors import ConnectorPool
from envoywatch.collect.errors import AccountGone, AuthError, CapReached
from envoywatch.collect.http import RawPage, RetryPolicy
from envoywatch.collect.pages import normalize_page
from envoywatch.collect.ratelimit import Limiters
from envoywatch.collect.summary import AccountResult, RunSummary, Target
from envoywatch.errors import EnvoywatchError
from envoywatch.importers.base import Reject
from envoywatch.store.db import Store

_BATCH_COLUMN = {"posts": "batch_id", "accounts": "first_batch_id", "account_snapshots": "batch_id",
                 "post_metrics": "batch_id", "account_follows": "batch_id"}


@dataclass
class CollectOptions:
    base_urls: dict = field(default_factory=dict)      # platform -> base URL (flag level)
    credentials: dict = field(default_factory=dict)    # platform -> secret value (library users; else config)
    concurrency: int = 4
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    max_rate_wait: float = 900.0                        # longest wait for a rate-limit reset, seconds
    max_pages: int | None = None                        # per account per run; the next run continues
    page_size: dict = field(default_factory=dict)       # platform -> items per page (default: the API's max)
    monthly_post_cap: dict = field(default_factory=dict)  # platform -> posts per month (X paid tiers)
    archive_dir: str | None = None                      # default: <store file>.raw
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    progress: bool = False


def select_accounts(store: Store, platform: str | None = None, state_code: str | None = None,
                    category: str | None = None, handles: Iterable[str] = ()) -> list[Target]:
    """Registry accounts for a selection (state, category, platform), plus explicit handles."""
    from envoywatch.registry.query import list_accounts

    rows = list_accounts(store, state=state_code, category=category, platform=platform).to_pylist() \
        if (state_code or category or platform) and not handles else []
    targets = [Target(r["platform"], r["handle"], r["account_id"], r["status"]) for r in rows]
    for h in handles:
        if not platform:
            raise EnvoywatchError("--handle needs --platform", "--handle", "add --platform x|bluesky|mastodon")
        targets.append(Target(platform, h.lstrip("@"), None, state.registry_status(store, platform, h),
                              registered=_known(store, platform, h)))
    return targets


def _known(store: Store, platform: str, handle: str) -> bool:
    return bool(store.scalar("SELECT count(*) FROM registry_accounts WHERE platform = ? AND lower(handle) = lower(?)",
                             [platform, handle.lstrip("@")]))


def collect(store: Store, selection: list[Target], since: datetime | None = None, until: datetime | None = None,
            options: CollectOptions | None = None,
            on_account: Callable[[AccountResult], None] | None = None) -> RunSummary:
    opts = options or CollectOptions()
    run_id = state.utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    summary = RunSummary(run_id, state.utcnow())
    limiters = Limiters(opts.max_rate_wait, clock=opts.clock, sleep=opts.sleep)
    pool = ConnectorPool(limiters, opts.policy, opts.base_urls, opts.credentials, sleep=opts.sleep,
                         page_size=opts.page_size)
    archive = RawArchive(opts.archive_dir or archive_root(store.path), run_id)
    run = _Run(store, pool, archive, opts, since, until)
    bar = _Bar(len(selection), opts.progress)
    ex = ThreadPoolExecutor(max_workers=max(1, opts.concurrency))
    try:
        futures = [ex.submit(run.account, t) for t in selection]
        for fut in as_completed(futures):
            res = fut.result()
            summary.accounts.append(res)
            bar.advance(res)
            if on_account:
                on_account(res)
    except BaseException:
        # Ctrl-C (or a bug): workers stop before their next page; what is committed stays and resumes
        run.stop.set()
        raise
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
        bar.close()
        st = pool.stats()
        summary.requests, summary.retries = st["requests"], st["retries"]
        summary.quota = dict(st.get("quota") or {})
        summary.rate_waits = sum(lim.waits for lim in limiters.all())
        summary.rate_waited_s = sum(lim.waited_s for lim in limiters.all())
        summary.posts_read_month = {p: (run.month, state.usage(store, p, run.month), opts.monthly_post_cap.get(p))
                                    for p in run.counted}
        summary.finished_at = state.utcnow()
        pool.close()
    # the aggregates and the search index of the posts collected (cheap when nothing changed); if this is
    # interrupted they stay stale, readers use the posts, and the next import or collection refreshes them
    from envoywatch.analysis.aggregates import refresh_derived

    with store.transaction():
        refresh_derived(store)
    order = {(t.platform, t.handle): i for i, t in enumerate(selection)}
    summary.accounts.sort(key=lambda a: order.get((a.platform, a.handle), 0))
    return summary


class _Run:
    def __init__(self, store: Store, pool: ConnectorPool, archive: RawArchive, opts: CollectOptions,
                 since: datetime | None, until: datetime | None):
        self.store, self.pool, self.archive, self.opts = store, pool, archive, opts
        self.since, self.until = since, until
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.blocked: dict[str, str] = {}   # platform -> why (refused credential, cap reached)
        self.month = state.utcnow().strftime("%Y-%m")
        self.counted: set[str] = set()
        self.endpoint = "timeline" if not (since or until) else \
            f"timeline@{since.isoformat() if since else ''}..{until.isoformat() if until else ''}"

    def account(self, t: Target) -> AccountResult:
        res = AccountResult(t.platform, t.handle)
        if t.platform in self.blocked or self.stop.is_set():
            res.outcome, res.reason = "skipped", self.blocked.get(t.platform, "interrupted")
            return res
        try:
            self._account(t, res)
        except _Stopped:
            res.outcome, res.reason, res.partial = "skipped", "interrupted; the next run resumes", True
        except AccountGone as gone:
            self._gone(t, res, gone)
        except AuthError as exc:
            self.blocked[t.platform] = self._redact(exc.one_line())
            res.outcome, res.reason = "failed", self.blocked[t.platform]
        except CapReached as exc:
            self.blocked[t.platform] = exc.one_line()
            res.outcome, res.reason, res.partial = "failed", exc.one_line(), True
        except EnvoywatchError as exc:
            res.outcome, res.reason = "failed", self._redact(exc.one_line())
        except Exception as exc:  # one account's surprise must not end the run
            res.outcome, res.reason = "failed", self._redact(f"unexpected {type(exc).__name__}: {exc}")[:300]
        if res.batch_id is not None:
            self._finish_batch(res)
        return res

    def _redact(self, text: str) -> str:
        for s in self.pool.known_secrets():
            text = text.replace(s, "***")
        return text

    # --- one account ---------------------------------------------------------------------------
    def _account(self, t: Target, res: AccountResult) -> None:
        cap = self.opts.monthly_post_cap.get(t.platform)
        if cap:
            with self.lock:
                used = state.usage(self.store, t.platform, self.month)
            if used >= cap:
                self.counted.add(t.platform)
                raise CapReached(t.platform, used, cap)
        conn = self.pool.for_account(t.platform, t.handle)
        profile = conn.lookup(t.handle, t.account_id)
        aid, store_id, seen_handle = conn.account_of(profile)
        afile = self.archive.file_for(t.platform, t.handle, profile.fetched_at.strftime("%Y-%m-%d"))
        self._commit(res, afile, profile,
                     after=lambda: self._profile_findings(t, res, conn, profile, store_id, seen_handle))
        cursor_key = aid
        with self.lock:
            st = state.load_cursor(self.store, t.platform, cursor_key, self.endpoint)
        backfill = self.endpoint != "timeline"
        if backfill and st["done"]:
            res.reason = "backfill window already complete"
            return
        if st["pending"]:  # an interrupted pass: finish it first (no gap)
            p = st["pending"]
            if not self._pass(t, res, conn, afile, aid, cursor_key, st, p.get("floor"), p.get("resume"), p.get("top")):
                return
        if backfill and st["done"]:
            return
        self._pass(t, res, conn, afile, aid, cursor_key, st, None if backfill else st["newest"], None, None)

    def _pass(self, t, res, conn, afile, aid, cursor_key, st, floor, resume, top) -> bool:
        """Read pages from `resume` (None = the top) down to `floor`; returns False when stopped early."""
        backfill = self.endpoint != "timeline"
        pages = conn.timeline(aid, t.handle, floor=floor, resume=resume,
                              since=self.since if backfill else None, until=self.until if backfill else None)
        read_here = 0
        for page in pages:
            if self.stop.is_set():
                raise _Stopped()
            cap = self.opts.monthly_post_cap.get(t.platform)
            if top is None:
                top = page.top
            stalled = page.extra.get("stalled")
            if stalled:               # the platform repeated a cursor: keep the pass pending at that cursor
                new_state = {"newest": st["newest"], "pending": {"top": top, "resume": stalled, "floor": floor},
                             "done": False}
            elif page.resume is None:   # last page of the pass
                new_state = {"newest": top or st["newest"], "pending": None, "done": backfill}
            else:
                new_state = {"newest": st["newest"], "pending": {"top": top, "resume": page.resume, "floor": floor},
                             "done": False}
            posts_read = page.extra.get("posts_read")

            def after(new_state=new_state, posts_read=posts_read):
                state.save_cursor(self.store, t.platform, cursor_key, self.endpoint, new_state)
                if posts_read is not None:
                    self.counted.add(t.platform)
                    used = state.add_usage(self.store, t.platform, self.month, posts_read)
                    return used
            used = self._commit(res, afile, page, after=after)
            st.update(new_state)
            read_here += 1
            if stalled:
                res.partial = True
                res.reason = f"the platform repeated a page cursor ({str(stalled)[:40]}); stopped there"
                return False
            if page.resume is None:
                return True
            if cap and isinstance(used, int) and used >= cap:
                raise CapReached(t.platform, used, cap)
            if self.opts.max_pages and read_here >= self.opts.max_pages:
                res.partial, res.reason = True, f"page limit ({self.opts.max_pages}) reached"
                return False
        return True

    # --- writing -------------------------------------------------------------------------------
    def _commit(self, res: AccountResult, afile, page: RawPage, after=None):
        """Archive the page, then land its records, its cursor and the batch counts in one transaction."""
        page_no = afile.append(page)
        result = None
        with self.lock:
            store = self.store
            with store.transaction():
                if res.batch_id is None:
                    res.batch_id = store.next_id("import_batches", "batch_id")
                    store.write("import_batches", [{
                        "batch_id": res.batch_id, "source_path": str(afile.path.resolve()),
                        "format": f"{page.platform}-live", "detected": False, "sha256": afile.sha256,
                        "size_bytes": afile.size, "started_at": page.fetched_at, "status": "running",
                        "records_read": 0, "posts": 0, "accounts": 0, "rejects": 0, "simulated": False,
                        "tool_version": __version__,
                        "note": f"live collection of {page.platform} {page.account} from {page.url.split('?')[0]}"}])
                posts0, snaps0 = store.count("posts"), store.count("account_snapshots")
                buffer: dict[str, list[dict]] = {}
                records = rejects = 0
                first_reject = None
                for item in normalize_page(page.platform, page.kind, page.json, page.fetched_at):
                    if isinstance(item, Reject):
                        rejects += 1
                        first_reject = first_reject or item
                        continue
                    records += 1
                    for table, rows in item.rows.items():
                        col = _BATCH_COLUMN.get(table)
                        for r in rows:
                            if col:
                                r[col] = res.batch_id
                        buffer.setdefault(table, []).extend(rows)
                store.write_many(buffer)
                if first_reject:
                    store.write("rejects", [{
                        "batch_id": res.batch_id, "source_path": str(afile.path.resolve()), "line": page_no,
                        "reason": f"{rejects} record(s) of page {page_no} set aside; first (item {first_reject.line}): "
                                  f"{first_reject.reason}", "raw_excerpt": first_reject.raw}])
                if after:
                    result = after()
                new_posts = store.count("posts") - posts0
                new_snaps = store.count("account_snapshots") - snaps0
                store.con.execute(
                    "UPDATE import_batches SET records_read = records_read + ?, posts = posts + ?, rejects = rejects + ?, "
                    "sha256 = ?, size_bytes = ?, finished_at = ? WHERE batch_id = ?",
                    [records, new_posts, rejects, afile.sha256, afile.size, state.utcnow(), res.batch_id])
        res.pages += 1
        res.new_posts += new_posts
        res.snapshots += new_snaps
        res.rejects += rejects
        return result

    def _finish_batch(self, res: AccountResult) -> None:
        status = {"ok": "done" if not res.rejects else "done_with_rejects", "gone": "done",
                  "skipped": "interrupted"}.get(res.outcome, "failed")
        note = res.reason or res.finding
        with self.lock:
            self.store.con.execute(
                "UPDATE import_batches SET status = ?, finished_at = ?, note = coalesce(? || '; ', '') || note, "
                "accounts = (SELECT count(*) FROM accounts WHERE first_batch_id = ?) WHERE batch_id = ?",
                [status, state.utcnow(), note, res.batch_id, res.batch_id])

    # --- findings ------------------------------------------------------------------------------
    def _profile_findings(self, t: Target, res: AccountResult, conn, profile: RawPage, store_id: str,
                          seen_handle: str | None) -> None:
        store = self.store
        source = f"envoywatch collect: {t.platform} API, {profile.url.split('?')[0]}"
        state.fill_account_id(store, t.platform, t.handle, store_id)
        if t.status in ("suspended", "deleted"):
            if state.record_change(store, t.platform, t.handle, "reinstated", source, t.status, "active"):
                res.finding = f"reinstated (was {t.status})"
        moved = conn.moved_to(profile)
        new_handle = moved or (seen_handle if conn.renames_by_id and t.account_id else None)
        if new_handle and new_handle.lower().lstrip("@") != t.handle.lower().lstrip("@"):
            if state.record_change(store, t.platform, t.handle, "renamed", source, t.handle, new_handle):
                res.finding = f"renamed {t.handle} -> {new_handle}" + (" (moved)" if moved else "")

    def _gone(self, t: Target, res: AccountResult, gone: AccountGone) -> None:
        change = gone.change if gone.change in ("suspended", "deleted") else "deleted"
        detail = self._redact(gone.detail)
        res.outcome = "gone"
        res.finding = f"{change} ({detail[:160]})" + (" mid-run" if res.pages > 1 else "")
        source = f"envoywatch collect: {t.platform} API said: {detail[:200]}"
        with self.lock:
            with self.store.transaction():
                state.record_change(self.store, t.platform, t.handle, change, source)


class _Stopped(Exception):
    """The run was interrupted: this worker stops before its next page."""


class _Bar:
    """A rich progress bar on stderr over accounts (only when asked for: the CLI asks on a terminal)."""

    def __init__(self, total: int, enabled: bool):
        self.enabled = enabled and total > 0
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("[bold]collect[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True))
        self.progress.start()
        self.task = self.progress.add_task("", total=total)

    def advance(self, res: AccountResult) -> None:
        if self.enabled:
            self.progress.update(self.task, advance=1,
                                 description=f"{res.platform} {res.handle[:30]}: {res.outcome}, {res.new_posts} new")

    def close(self) -> None:
        if self.enabled:
            self.progress.stop()
