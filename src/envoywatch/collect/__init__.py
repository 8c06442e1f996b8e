"""Live collection: connectors' raw pages -> raw archive -> the platforms' normalizers -> the store.

- `http`: the one HTTP client (timeouts, bounded retries with backoff, 429 waits, redaction)
- `ratelimit`: per-platform rate limits from the platforms' reset headers
- `archive`: raw pages as received, with provenance, as gzip JSONL next to the store
- `pages`: raw page -> Bundles through the platforms' normalize modules
- `runner`: `collect(store, selection, since, until, options)` -> RunSummary; `select_accounts(...)`
"""

from envoywatch.collect.runner import CollectOptions, collect, select_accounts
from envoywatch.collect.summary import AccountResult, RunSummary, Target

__all__ = ["collect", "select_accounts", "CollectOptions", "RunSummary", "AccountResult", "Target"]
