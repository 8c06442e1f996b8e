"""co-similar-text: messages whose token sets have Jaccard similarity >= a threshold, within the window.

Computed in DuckDB with MinHash / LSH, then verified exactly:
1. tokens: the text lower-cased, '@...' mentions removed, words of letters, digits and '_' (a set);
   messages with fewer than `min_tokens` tokens and reposts are left out;
2. a MinHash signature of BANDS x ROWS values per message (hash(token hash + i), minimum over tokens);
3. each band of ROWS values becomes an LSH key; messages sharing a key within the window are candidates
   (the same (key, time bucket) equi-join as the other networks);
4. each candidate pair of messages is verified with the exact Jaccard of the token sets, so the result
   has no false positives; a pair with similarity s is missed with probability (1 - s^ROWS)^BANDS
   (s = 0.8: 2e-4; s = 0.7: 0.01 at the default 16 bands x 4 rows).

Weights: "messages" = CNT's (A's distinct messages with a similar message from B, directed);
"items" = min(A's matched messages, B's matched messages) for the pair, undirected (the number of texts
the pair shares, counted on the side that posted fewer).
"""

from __future__ import annotations

BANDS, ROWS = 16, 4


def compute_similar(con, T: str, p, W: float, width: float, k: int, threshold: float, min_tokens: int = 3):
    """Create {T}_edges (src, dst, weight, shared_items, first_ts, last_ts, ex1, ex2) from view {T}_msg.

    Also creates {T}_items (item = a message's text for examples), {T}_part (participation) and {T}_x.
    """
    K = BANDS * ROWS
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_tok AS
        SELECT aid, mid, ts, text,
               list_distinct(regexp_extract_all(lower(regexp_replace(text, '@\\S*', '', 'g')),
                                                '[\\p{{L}}\\p{{N}}_]+')) AS toks
        FROM {T}_msg WHERE repost_id IS NULL""")
    con.execute(f"DELETE FROM {T}_tok WHERE len(toks) < {int(min_tokens)}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_part AS
        SELECT aid, count(*) AS n_msg, count(*) AS n_items FROM {T}_tok GROUP BY aid
        HAVING count(*) >= {int(p.min_participation)}""")
    # signatures and LSH band keys; a key shared by one account only cannot make an edge
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_band AS
        WITH sig AS (
            SELECT aid, mid, ts, list_transform(range({K}), lambda i: list_min(list_transform(
                       list_transform(toks, lambda t: hash(t)), lambda h: hash(h + i)))) AS s
            FROM {T}_tok WHERE aid IN (SELECT aid FROM {T}_part)),
        keys AS (SELECT aid, mid, ts, hash(j, s[j * {ROWS} + 1: (j + 1) * {ROWS}]) AS key
                 FROM sig, range({BANDS}) r(j))
        SELECT aid, mid, ts, key, floor(ts / {width})::BIGINT AS b FROM keys
        WHERE key IN (SELECT key FROM keys GROUP BY key HAVING count(DISTINCT aid) >= 2)""")
    pair_cond = "a.aid <> b.aid" if p.weight == "messages" else "a.aid < b.aid"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_pairs AS
        WITH cand AS (
            SELECT DISTINCT a.aid AS src, b.aid AS dst, a.mid AS ma, b.mid AS mb
            FROM (SELECT x.*, x.b + d.d AS jb FROM {T}_band x, (VALUES (-1), (0), (1)) d(d)) a
            JOIN {T}_band b ON a.key = b.key AND a.jb = b.b AND {pair_cond} AND abs(a.ts - b.ts) <= {W})
        SELECT c.src, c.dst, c.ma, c.mb, least(ta.ts, tb.ts) AS t0, greatest(ta.ts, tb.ts) AS t1
        FROM cand c JOIN {T}_tok ta ON ta.mid = c.ma JOIN {T}_tok tb ON tb.mid = c.mb
        WHERE len(list_intersect(ta.toks, tb.toks)) >= {float(threshold)} * len(list_distinct(ta.toks || tb.toks))""")
    if p.weight == "messages":
        weight = "count(DISTINCT ma)"
    else:
        weight = "least(count(DISTINCT ma), count(DISTINCT mb))"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_edges AS
        SELECT src, dst, {weight} AS weight, {weight} AS shared_items, min(t0) AS first_ts, max(t1) AS last_ts,
               min(ma) AS ex1, max(ma) AS ex2
        FROM {T}_pairs GROUP BY src, dst HAVING {weight} >= {int(k)}""")
    # examples: the texts of A's matched messages (iid = mid here)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {T}_items AS
        SELECT t.text AS item, t.mid AS iid FROM {T}_tok t
        WHERE t.mid IN (SELECT ex1 FROM {T}_edges UNION SELECT ex2 FROM {T}_edges)""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {T}_x AS SELECT aid, mid, ts, mid AS iid, 0::BIGINT AS b FROM {T}_tok LIMIT 0")
    for t in ("tok", "band", "pairs"):
        con.execute(f"DROP TABLE {T}_{t}")
