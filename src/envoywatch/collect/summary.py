"""What a collection run did: per account, and in total (the CLI prints `lines()`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Target:
    platform: str
    handle: str
    account_id: str | None = None   # the registry's platform id, where known
    status: str | None = None       # the registry's status (active, suspended...)
    registered: bool = True


@dataclass
class AccountResult:
    platform: str
    handle: str
    outcome: str = "ok"             # ok | failed | gone | skipped
    new_posts: int = 0
    snapshots: int = 0
    pages: int = 0
    rejects: int = 0
    reason: str | None = None       # why it failed / was skipped
    finding: str | None = None      # e.g. "suspended (User has been suspended)", "renamed a -> b"
    partial: bool = False           # stopped early (page limit, failure): the next run resumes
    batch_id: int | None = None


@dataclass
class RunSummary:
    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    accounts: list[AccountResult] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    rate_waits: int = 0
    rate_waited_s: float = 0.0
    posts_read_month: dict = field(default_factory=dict)   # platform -> (month, count, cap)
    quota: dict = field(default_factory=dict)              # platform -> API quota units used by this run

    @property
    def new_posts(self) -> int:
        return sum(a.new_posts for a in self.accounts)

    @property
    def snapshots(self) -> int:
        return sum(a.snapshots for a in self.accounts)

    @property
    def failed(self) -> list[AccountResult]:
        return [a for a in self.accounts if a.outcome == "failed"]

    @property
    def findings(self) -> list[AccountResult]:
        return [a for a in self.accounts if a.finding]

    def lines(self) -> list[str]:
        ok = sum(1 for a in self.accounts if a.outcome == "ok")
        out = [f"collected {len(self.accounts)} account(s): {ok} ok, {len(self.failed)} failed, "
               f"{sum(1 for a in self.accounts if a.outcome == 'gone')} gone; {self.new_posts} new post(s), "
               f"{self.snapshots} snapshot(s); {self.requests} request(s), {self.retries} retried, "
               f"{self.rate_waits} rate-limit wait(s) ({self.rate_waited_s:.0f}s)"]
        for platform, (month, used, cap) in sorted(self.posts_read_month.items()):
            out.append(f"{platform}: {used:,} posts read in {month}" + (f" of a {cap:,} cap" if cap else ""))
        for platform, units in sorted(self.quota.items()):
            if units:
                out.append(f"{platform}: {units:,} API quota unit(s) used by this run")
        for a in self.findings:
            out.append(f"finding: {a.platform} {a.handle}: {a.finding}")
        for a in self.failed:
            out.append(f"failed: {a.platform} {a.handle}: {a.reason}")
        for a in self.accounts:
            if a.outcome == "skipped":
                out.append(f"skipped: {a.platform} {a.handle}: {a.reason}")
            elif a.partial and a.outcome == "ok":
                out.append(f"partial: {a.platform} {a.handle}: {a.reason} (the next run continues from there)")
        return out
