"""An independent reading of X files with plain json (never envoywatch code): the posts, accounts and
kinds a correct import must store. Tests compare the store with these sets.

What counts (the contract the X importers follow):
- a post is a tweet object with its id, author and creation time (bare references such as
  `{"type": "replied_to", "id": ...}` or v2 tweets requested without author_id hold no post);
- an account is a user object with an id (v2 includes.users / data users / flattened author,
  in_reply_to_user and mentioned users; v1.1 `user` and user responses; GraphQL User results);
- GraphQL: timeline entries `tweet-*` / `profile-conversation-*` and the pinned entry, not
  `promoted-tweet-*` ads nor who-to-follow suggestions; embedded retweeted/quoted tweets count.
"""

from __future__ import annotations

import json
from pathlib import Path


class Expected:
    def __init__(self):
        self.posts: dict[str, str] = {}  # post_id -> kind
        self.primary: set[str] = set()
        self.accounts: set[str] = set()
        self.urls: dict[str, int] = {}
        self.hashtags: dict[str, int] = {}
        self.mentions: dict[str, int] = {}

    def post(self, pid, kind, primary, urls=0, tags=0, mentions=0):
        self.posts[pid] = kind
        if primary:
            self.primary.add(pid)
        self.urls[pid] = urls
        self.hashtags[pid] = tags
        self.mentions[pid] = mentions


def _lines(path: Path):
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError:
                continue  # truncated line: a reject, no post


def _v2_kind(t):
    types = {r.get("type") for r in t.get("referenced_tweets") or []}
    return "repost" if "retweeted" in types else "quote" if "quoted" in types else \
        "reply" if "replied_to" in types else "post"


def _v2_entities(t):
    ent = (t.get("note_tweet") or {}).get("entities") or t.get("entities") or {}
    urls = len([u for u in ent.get("urls") or [] if u.get("url")])
    tags = len({h["tag"].casefold() for h in ent.get("hashtags") or [] if h.get("tag")})
    ments = len({m["username"].lower() for m in ent.get("mentions") or [] if m.get("username")})
    return urls, tags, ments


def _v2_tweet(exp, t, primary):
    if t.get("id") and t.get("author_id") and t.get("created_at"):
        exp.post(t["id"], _v2_kind(t), primary, *_v2_entities(t))


def read_v2_pages(path: Path, exp: Expected):
    for page in _lines(path):
        data = page.get("data")
        if data is None:
            continue
        if isinstance(data, dict):
            data = [data]
        if data and "tweet_count" in data[0] or data and "member_count" in data[0]:
            return  # counts, lists: no posts
        for u in (page.get("includes") or {}).get("users") or []:
            exp.accounts.add(u["id"])
        for item in data:
            if "username" in item and "text" not in item:
                exp.accounts.add(item["id"])
            else:
                _v2_tweet(exp, item, True)
        for t in (page.get("includes") or {}).get("tweets") or []:
            _v2_tweet(exp, t, False)


def _flat(exp, t, primary):
    _v2_tweet(exp, t, primary)
    for key in ("author", "in_reply_to_user"):
        if t.get(key):
            exp.accounts.add(t[key]["id"])
    for m in (t.get("entities") or {}).get("mentions") or []:
        if m.get("id") and "name" in m:
            exp.accounts.add(m["id"])
    for r in t.get("referenced_tweets") or []:
        if r.get("author_id") and r.get("created_at"):
            _flat(exp, r, False)


def read_v2_flat(path: Path, exp: Expected):
    for t in _lines(path):
        _flat(exp, t, True)


def _v1_kind(st):
    if st.get("retweeted_status"):
        return "repost"
    if st.get("quoted_status_id_str") or st.get("quoted_status"):
        return "quote"
    if st.get("in_reply_to_status_id_str") or st.get("in_reply_to_status_id"):
        return "reply"
    return "post"


def _v1_entities(st):
    ent = (st.get("extended_tweet") or {}).get("entities") or st.get("entities") or {}
    urls = len([u for u in ent.get("urls") or [] if u.get("url")])
    tags = len({h["text"].casefold() for h in ent.get("hashtags") or []})
    ments = len({m["screen_name"].lower() for m in ent.get("user_mentions") or []})
    return urls, tags, ments


def _v1_status(exp, st, primary, user=None):
    user = user or st.get("user")
    if not user:
        return
    exp.accounts.add(user["id_str"])
    exp.post(st["id_str"], _v1_kind(st), primary, *_v1_entities(st))
    for key in ("retweeted_status", "quoted_status"):
        if isinstance(st.get(key), dict):
            _v1_status(exp, st[key], False)


def read_v1(doc, exp: Expected):
    records = doc if isinstance(doc, list) else doc.get("statuses") if "statuses" in doc else \
        doc["users"] if "users" in doc and "next_cursor" in doc else [doc]
    for r in records:
        if "screen_name" in r:  # a user (users/show, lookup, followers/friends lists)
            exp.accounts.add(r["id_str"])
            if isinstance(r.get("status"), dict):
                _v1_status(exp, r["status"], True, user=r)
        else:
            _v1_status(exp, r, True)


def _gql_unwrap(res):
    if res and res.get("__typename") == "TweetWithVisibilityResults":
        res = res["tweet"]
    return res if res and "legacy" in res and res.get("__typename", "Tweet") == "Tweet" else None


def _gql_tweet(exp, tw, primary):
    leg = tw["legacy"]
    exp.accounts.add(tw["core"]["user_results"]["result"]["rest_id"])
    rt = _gql_unwrap((leg.get("retweeted_status_result") or {}).get("result"))
    kind = "repost" if rt else "quote" if leg.get("quoted_status_id_str") else \
        "reply" if leg.get("in_reply_to_status_id_str") else "post"
    note = (((tw.get("note_tweet") or {}).get("note_tweet_results") or {}).get("result") or {})
    ent = note.get("entity_set") or leg.get("entities") or {}
    exp.post(tw["rest_id"], kind, primary, len(ent.get("urls") or []),
             len({h["text"].casefold() for h in ent.get("hashtags") or []}),
             len({m["screen_name"].lower() for m in ent.get("user_mentions") or []}))
    if rt:
        _gql_tweet(exp, rt, False)
    qt = _gql_unwrap((tw.get("quoted_status_result") or {}).get("result"))
    if qt:
        _gql_tweet(exp, qt, False)


def gql_entries(doc):
    res = doc["data"]["user"]["result"]
    tl = (res.get("timeline_v2") or res.get("timeline"))["timeline"]
    out = []
    for ins in tl["instructions"]:
        if ins["type"] == "TimelinePinEntry":
            out.append(ins["entry"])
        elif ins["type"] == "TimelineAddEntries":
            out.extend(ins["entries"])
    return out


def read_gql_usertweets(doc, exp: Expected):
    for e in gql_entries(doc):
        if not e["entryId"].startswith(("tweet-", "profile-conversation-")):
            continue
        c = e["content"]
        ics = [c["itemContent"]] if "itemContent" in c else [i["item"]["itemContent"] for i in c.get("items", [])]
        for ic in ics:
            tw = _gql_unwrap(ic.get("tweet_results", {}).get("result"))
            if tw:
                _gql_tweet(exp, tw, True)


def read_gql_users(doc, exp: Expected):
    for e in gql_entries(doc):
        res = following_user(e)
        if res:
            exp.accounts.add(res["rest_id"])


def following_user(entry):
    """The User result of a `user-*` entry; None for an empty one (an account no longer available)."""
    if not entry["entryId"].startswith("user-"):
        return None
    res = entry["content"]["itemContent"]["user_results"].get("result")
    return res if res and res.get("__typename") == "User" and "legacy" in res else None


def read_path(path: Path, exp: Expected):
    """Dispatch on the folder / shape the fixtures have (plain json only)."""
    path = Path(path)
    if path.name == "INDEX.csv":
        return
    if path.suffix == ".jsonl":
        first = next(_lines(path), None)
        if isinstance(first, dict) and ("data" in first or "includes" in first):
            read_v2_pages(path, exp)
        elif isinstance(first, dict) and "author_id" in first:
            read_v2_flat(path, exp)
        return
    doc = json.loads(path.read_text(encoding="utf-8"))
    if path.parent.name == "usertweets":
        read_gql_usertweets(doc, exp)
    elif path.parent.name == "following":
        read_gql_users(doc, exp)
    elif path.parent.name == "users":
        exp.accounts.add(doc["data"]["user"]["result"]["rest_id"])
    elif isinstance(doc, dict) and "data" in doc:  # tweepy v2 Client payloads
        data = doc["data"] if isinstance(doc["data"], list) else [doc["data"]]
        for item in data:
            if "username" in item:
                exp.accounts.add(item["id"])
            elif item.get("author_id") and item.get("created_at"):
                exp.post(item["id"], _v2_kind(item), True, *_v2_entities(item))
    else:
        read_v1(doc, exp)


# --- comparing a store with the expectation (store queries only; the expectation is plain json) -----

def ids(store, sql):
    return {r[0] for r in store.con.execute(sql).fetchall()}


def kinds(store):
    return dict(store.con.execute("SELECT post_id, kind FROM posts WHERE platform = 'x'").fetchall())


def expected_for(paths) -> Expected:
    exp = Expected()
    for p in paths:
        read_path(Path(p), exp)
    return exp


def assert_store_matches(store, exp: Expected):
    assert kinds(store) == exp.posts
    assert ids(store, "SELECT account_id FROM accounts WHERE platform = 'x'") == exp.accounts
    assert ids(store, "SELECT post_id FROM posts WHERE observed = 'primary'") == exp.primary
