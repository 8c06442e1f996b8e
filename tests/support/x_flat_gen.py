"""Simple generated twarc2-flattened tweets, for the x-v2-flat speed check (not real observations).

    python -m tests.support.x_flat_gen 100000 /tmp/flat.jsonl
    envoywatch --db /tmp/b.duckdb import /tmp/flat.jsonl
"""

from __future__ import annotations

import random
import sys

import orjson


def generate_flat(n: int, path, authors: int = 5000, seed: int = 1) -> None:
    rnd = random.Random(seed)
    with open(path, "wb") as out:
        for i in range(n):
            uid = str(1000 + rnd.randrange(authors))
            t = {"id": str(10**18 + i), "text": f"tweet {i} about things https://t.co/abc{i % 100}", "author_id": uid,
                 "created_at": "2021-04-08T19:34:16.000Z", "lang": "en", "conversation_id": str(10**18 + i),
                 "public_metrics": {"retweet_count": 1, "reply_count": 0, "like_count": 2, "quote_count": 0},
                 "author": {"id": uid, "username": f"user{uid}", "name": "User", "created_at": "2014-08-09T05:17:14.000Z",
                            "public_metrics": {"followers_count": 10, "following_count": 5, "tweet_count": 100,
                                               "listed_count": 0}},
                 "__twarc": {"url": "https://api.twitter.com/2/tweets/search/recent", "version": "2.9.5",
                             "retrieved_at": "2021-04-08T19:40:00+00:00"}}
            if i % 3 == 0:
                t["entities"] = {"urls": [{"url": f"https://t.co/abc{i % 100}",
                                           "expanded_url": f"https://news.example.com/a/{i % 100}"}]}
            out.write(orjson.dumps(t) + b"\n")


if __name__ == "__main__":  # pragma: no cover
    generate_flat(int(sys.argv[1]), sys.argv[2])
