"""What live collection keeps in the store besides posts: cursors, usage counters, registry findings.

Cursor (collection_cursors.cursor, JSON) per (platform, account id, endpoint):
    {"newest": <top marker of the last complete pass>, "pending": {"top", "resume", "floor"} | null, "done": bool}
`pending` is written in the same transaction as each page, so a run killed after any page resumes at
`resume` and goes down to `floor` (no gap), and the store's keys make re-read posts no duplicates.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from envoywatch.store.db import Store


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def load_cursor(store: Store, platform: str, account_id: str, endpoint: str) -> dict:
    rows = store.con.execute("SELECT cursor FROM collection_cursors WHERE platform = ? AND account_id = ? "
                             "AND endpoint = ?", [platform, account_id, endpoint]).fetchall()
    if not rows or not rows[0][0]:
        return {"newest": None, "pending": None, "done": False}
    try:
        state = json.loads(rows[0][0])
    except ValueError:  # a plain since_id written by something else
        state = {"newest": rows[0][0]}
    return {"newest": state.get("newest"), "pending": state.get("pending"), "done": bool(state.get("done"))}


def save_cursor(store: Store, platform: str, account_id: str, endpoint: str, state: dict) -> None:
    store.con.execute(
        "INSERT INTO collection_cursors (platform, account_id, endpoint, cursor, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = EXCLUDED.updated_at",
        [platform, account_id, endpoint, json.dumps(state, sort_keys=True), utcnow()])


def usage(store: Store, platform: str, month: str) -> int:
    st = load_cursor(store, platform, "*", f"posts_read:{month}")
    return int(st.get("newest") or 0)


def add_usage(store: Store, platform: str, month: str, n: int) -> int:
    total = usage(store, platform, month) + n
    save_cursor(store, platform, "*", f"posts_read:{month}", {"newest": str(total)})
    return total


# --- registry findings ---------------------------------------------------------------------------

def _registry_row(store: Store, platform: str, handle: str):
    rows = store.con.execute("SELECT handle, status, account_id FROM registry_accounts WHERE platform = ? "
                             "AND lower(handle) = lower(?)", [platform, handle]).fetchall()
    return rows[0] if rows else None


def record_change(store: Store, platform: str, handle: str, change: str, source: str,
                  old_value: str | None = None, new_value: str | None = None, when: date | None = None) -> bool:
    """Add a registry_history row (once: not when the latest change recorded is the same) and set the
    account's status. Returns True when something new was recorded."""
    reg = _registry_row(store, platform, handle)
    if reg is None:
        return False
    stored_handle, status = reg[0], reg[1]
    last = store.con.execute(
        "SELECT change, new_value FROM registry_history WHERE platform = ? AND handle = ? "
        "ORDER BY changed_at DESC LIMIT 1", [platform, stored_handle]).fetchall()
    if last and last[0][0] == change and (last[0][1] or None) == (new_value or None):
        return False
    new_status = {"suspended": "suspended", "deleted": "deleted", "renamed": "renamed",
                  "reinstated": "active"}.get(change)
    store.write("registry_history", [{
        "platform": platform, "handle": stored_handle, "changed_at": when or utcnow().date(), "change": change,
        "old_value": old_value, "new_value": new_value, "source": source}])
    if new_status and new_status != status:
        store.con.execute("UPDATE registry_accounts SET status = ? WHERE platform = ? AND handle = ?",
                          [new_status, platform, stored_handle])
    return True


def fill_account_id(store: Store, platform: str, handle: str, account_id: str) -> None:
    store.con.execute("UPDATE registry_accounts SET account_id = ? WHERE platform = ? AND lower(handle) = lower(?) "
                      "AND account_id IS NULL", [account_id, platform, handle])


def registry_status(store: Store, platform: str, handle: str) -> str | None:
    reg = _registry_row(store, platform, handle)
    return reg[1] if reg else None
