"""Synthetic files in real formats, for robustness tests and the import benchmark (never real data).

`flat_v2_lines` writes X API v2 tweets flattened one per line as twarc2 does (author inlined, __twarc
with retrieved_at); `takedown_rows` writes rows of the X transparency takedown tweets CSV layout.
Deterministic for a seed; every handle says it is synthetic.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta, timezone
from typing import Iterator

import orjson

TAKEDOWN_COLUMNS = [
    "tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location",
    "user_profile_description", "user_profile_url", "follower_count", "following_count", "account_creation_date",
    "account_language", "tweet_language", "tweet_text", "tweet_time", "tweet_client_name", "in_reply_to_userid",
    "in_reply_to_tweetid", "quoted_tweet_tweetid", "is_retweet", "retweet_userid", "retweet_tweetid", "latitude",
    "longitude", "quote_count", "reply_count", "like_count", "retweet_count", "hashtags", "urls", "user_mentions",
]
_T0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
_TAGS = ["COVID19", "China", "HongKong", "Xinjiang", "BeltAndRoad", "WHO", "multilateralism", "Wuhan"]
_DOMAINS = ["globaltimes.cn", "cgtn.com", "xinhuanet.com", "rt.com", "example.org", "news.cn"]


def flat_v2_tweet(i: int, rng: random.Random, n_accounts: int = 2000, link_every: int = 997) -> dict:
    """Tweet i; its link is one of `link_every` (the same link recurs every link_every tweets; 0: a link of
    its own, as in real exports where most links are distinct)."""
    k = i % link_every if link_every else i
    uid = str(1_000_000 + rng.randrange(n_accounts))
    tid = str(1_200_000_000_000_000_000 + i)
    created = (_T0 + timedelta(seconds=i * 7)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    tag = rng.choice(_TAGS)
    dom = rng.choice(_DOMAINS)
    tweet = {
        "id": tid, "author_id": uid, "conversation_id": tid, "created_at": created, "lang": "en",
        "source": "Twitter Web App", "text": f"synthetic post {i} about #{tag} https://t.co/s{k}",
        "public_metrics": {"retweet_count": i % 13, "reply_count": i % 5, "like_count": i % 29, "quote_count": i % 3},
        "entities": {
            "hashtags": [{"start": 20, "end": 21 + len(tag), "tag": tag}],
            "urls": [{"start": 40, "end": 63, "url": f"https://t.co/s{k}",
                      "expanded_url": f"https://www.{dom}/a/{k}?utm_source=twitter",
                      "display_url": f"{dom}/a/{k}"}],
        },
        "author": {"id": uid, "username": f"synthetic_{uid}", "name": f"Synthetic {uid}",
                   "created_at": "2019-05-01T00:00:00.000Z",
                   "public_metrics": {"followers_count": int(uid) % 5000, "following_count": 100,
                                      "tweet_count": 1000, "listed_count": 1}},
        "__twarc": {"url": "https://api.twitter.com/2/tweets/search/all", "version": "2.0.3",
                    "retrieved_at": "2021-01-01T00:00:00+00:00"},
    }
    if i % 4 == 1:  # a retweet of an earlier tweet
        ref = str(1_200_000_000_000_000_000 + max(0, i - 1 - rng.randrange(50)))
        tweet["referenced_tweets"] = [{"type": "retweeted", "id": ref}]
        tweet["text"] = "RT @synthetic: " + tweet["text"]
    return tweet


def flat_v2_lines(n: int, seed: int = 1, link_every: int = 997) -> Iterator[bytes]:
    rng = random.Random(seed)
    for i in range(n):
        yield orjson.dumps(flat_v2_tweet(i, rng, link_every=link_every)) + b"\n"


def write_flat_v2(path, n: int, seed: int = 1, link_every: int = 997) -> None:
    with open(path, "wb") as fh:
        buf = []
        for line in flat_v2_lines(n, seed, link_every):
            buf.append(line)
            if len(buf) >= 10_000:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))


def takedown_row(i: int, rng: random.Random, n_accounts: int = 2000, link_every: int = 991) -> list:
    k = i % link_every if link_every else i   # 0: every row a link of its own
    uid = f"{rng.randrange(n_accounts):06d}synthetic"
    tag = rng.choice(_TAGS)
    dom = rng.choice(_DOMAINS)
    is_rt = i % 4 == 1
    text = f"synthetic takedown post {i} #{tag}\nsecond line, \"quoted\" https://t.co/k{k}"
    return [
        str(1_100_000_000_000_000_000 + i), uid, f"Synthetic {uid}", f"synthetic_{uid}", "Beijing",
        "[SYNTHETIC] generated row", "", str(rng.randrange(10_000)), str(rng.randrange(1000)), "2017-08-30",
        "zh-cn", "zh", text, (_T0 + timedelta(seconds=i * 5)).strftime("%Y-%m-%d %H:%M"), "Twitter Web Client",
        "", "", "", "true" if is_rt else "false", "12345" if is_rt else "",
        str(1_100_000_000_000_000_000 + max(0, i - 7)) if is_rt else "", "absent", "absent",
        str(i % 3), str(i % 5), str(i % 11), str(i % 7), f"['{tag}']",
        f"['https://www.{dom}/t/{k}']", "[]",
    ]


def write_takedown_csv(path, n: int, seed: int = 1, link_every: int = 991) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(TAKEDOWN_COLUMNS)
        for i in range(n):
            w.writerow(takedown_row(i, rng, link_every=link_every))
