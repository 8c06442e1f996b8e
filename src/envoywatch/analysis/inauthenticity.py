"""Inauthenticity signals per account, transparent: each signal is a plain measurement with a documented
threshold, and the score is a weighted count of the signals that fired (docs/analysis/inauthenticity.md).

Analyses:
* `inauthenticity.signals`: one row per account: the raw measurements and a boolean per signal;
* `inauthenticity.score`: the same plus `score` (sum of the weights of the signals that fired),
  `signals_fired` (their names, in SIGNALS order) and `flagged` (score >= threshold).

How it is built: one DuckDB SQL query (window functions over days, list and regex functions that Ibis
does not express) defined as a TEMPORARY VIEW on the store's connection; the function returns the Ibis
table over that view, so the caller executes it (or filters / joins it further) as with every analysis.
Gap (declared): DuckDB only, not Spark (the coordination engine has the same gap).

Signals measure what the store holds: an absent field gives NULL measurements and the signal does not
fire (a takedown file has no avatar column, so "default image" cannot fire there; hashed takedown
screen names are not handles).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from envoywatch.analysis import analysis

@dataclass(frozen=True)
class Signal:
    name: str
    weight: float
    needs: str          # "profile" (account fields / snapshots) or "posts" (observed posts)
    doc: str


# Weights (docs/analysis/inauthenticity.md): profile signals are fitted on real labelled data: the
# log-likelihood ratio log(P(fired | inauthentic) / P(fired | genuine)) on the FIT halves of cresci-2017
# (social spambots #1 vs genuine) and of the China 2019 takedown vs cresci genuine, averaged over the two,
# rounded to 0.5 and clipped to [0, 3] (`python benchmarks/inauthenticity_eval.py --fit` prints them).
# A weight 0 means the data did not support the signal (it still shows in signals_fired).
# default_image fired on fewer than 10 of the ~3,200 FIT accounts: not estimable, prior weight 1.
# Post signals: no labelled real data with posts here, prior weights: 1, amplifies_state 2 (the
# behaviour this tool is about). Registered state accounts are never flagged (the registry vouches).
SIGNALS: tuple[Signal, ...] = (
    Signal("no_description", 0.5, "profile", "empty profile description"),
    Signal("default_image", 1.0, "profile", "default avatar URL (X default_profile_images, Mastodon missing.png, ...)"),
    Signal("handle_digits", 0.0, "profile", "handle ends in 4 or more digits"),
    Signal("handle_random", 0.0, "profile", "random-looking handle: >= 3 letter/digit switches or >= 5 consonants in a row"),
    Signal("low_follower_ratio", 0.5, "profile", "following >= 20 and followers < 0.1 x following"),
    Signal("creation_cluster", 3.0, "profile", ">= 5 observed accounts created within +-1 day, >= 3x the local rate "
           "and P(Poisson(local rate) >= count) <= 1e-4"),
    Signal("high_volume", 0.0, "profile", ">= 50 posts per day (profile count over account age, else observed)"),
    Signal("young_at_first_post", 1.0, "posts", "first observed post < 60 days after account creation"),
    Signal("repost_heavy", 1.0, "posts", ">= 90% of >= 10 observed posts are reposts"),
    Signal("reply_heavy", 1.0, "posts", ">= 80% of >= 10 observed posts are replies"),
    Signal("hour_concentrated", 1.0, "posts", ">= 20 posts and hour-of-day entropy < 2.5 bits"),
    Signal("night_posting", 1.0, "posts", ">= 20 posts, >= 25% in the platform's 6 quietest hours and >= 2.5x its share there"),
    Signal("amplifies_state", 2.0, "posts", ">= 50% of >= 10 posts repost/quote/reply to registered state accounts"),
)
SIGNAL_NAMES = tuple(s.name for s in SIGNALS)
DEFAULT_THRESHOLD = 3.0


@dataclass(frozen=True)
class SignalParams:
    young_days: int = 60
    volume_per_day: float = 50.0
    min_posts_share: int = 10
    repost_share: float = 0.9
    reply_share: float = 0.8
    ratio_following_min: int = 20
    follower_ratio: float = 0.1
    cluster_days: int = 1            # +- days around the creation day
    cluster_min: int = 5
    cluster_factor: float = 3.0
    cluster_alpha: float = 1e-4      # Poisson tail probability of the day's count at the local rate
    cluster_context_days: int = 45   # +- days for the local rate
    min_posts_hours: int = 20
    hour_entropy: float = 2.5
    night_hours: int = 6
    night_share: float = 0.25
    night_factor: float = 2.5
    amplify_share: float = 0.5
    handle_digits: int = 4
    handle_switches: int = 3
    handle_consonants: int = 5


# X's hashed takedown ids/screen names (base64 strings such as 'vMm2zem...=', often equal to the id):
# not handles. Real handles never hold '+', '/' or '='.
_DEFAULT_IMAGE = "(default_profile_images|default_profile|/avatars/original/missing|sticky/default|avatar/default)"


def _registered_sql(tables) -> str:
    from envoywatch.analysis.accounts_view import registered_accounts

    r = registered_accounts(tables)
    return ibis.to_sql(r.filter(r.actor_id.notnull()).select("platform", "account_id").distinct(), dialect="duckdb")


def signals_sql(tables, p: SignalParams = SignalParams()) -> str:
    """The SQL of the per-account signals (one row per account in `accounts`)."""
    cd, ctx = int(p.cluster_days), int(p.cluster_context_days)
    win = 2 * cd + 1
    ctx_win = 2 * ctx + 1
    return f"""
WITH reg AS ({_registered_sql(tables)}),
acc AS (
  SELECT platform, account_id, created_at, description, profile_image_url,
         CASE WHEN handle IS NULL OR regexp_matches(handle, '[+/=]')
              OR (handle = account_id AND length(handle) >= 32) THEN NULL ELSE handle END AS handle
  FROM accounts),
snap AS (
  SELECT platform, account_id,
         arg_max(followers, captured_at) FILTER (WHERE followers IS NOT NULL) AS followers,
         arg_max(following, captured_at) FILTER (WHERE following IS NOT NULL) AS following,
         arg_max(posts_count, captured_at) FILTER (WHERE posts_count IS NOT NULL) AS posts_count,
         max(captured_at) FILTER (WHERE posts_count IS NOT NULL) AS posts_count_at
  FROM account_snapshots GROUP BY ALL),
pp AS (
  SELECT p.platform, p.account_id, p.created_at, p.kind, hour(p.created_at) AS hr,
         (p.kind <> 'post' AND g.account_id IS NOT NULL AND g.account_id <> p.account_id) AS amp
  FROM posts p
  LEFT JOIN posts r ON r.platform = p.platform AND r.post_id = p.ref_post_id AND p.ref_account_id IS NULL
  LEFT JOIN reg g ON g.platform = p.platform AND g.account_id = coalesce(p.ref_account_id, r.account_id)),
plat_hours AS (SELECT platform, hr, count(*) AS n FROM pp GROUP BY ALL),
quiet AS (
  SELECT platform, arg_min(s, n_win) AS quiet_start, min(n_win)::DOUBLE / any_value(n_all) AS quiet_base FROM (
    SELECT h.platform, s.s, sum(h.n) AS n_win, (SELECT sum(n) FROM plat_hours x WHERE x.platform = h.platform) AS n_all
    FROM plat_hours h, range(24) s(s) WHERE (h.hr - s.s + 24) % 24 < {int(p.night_hours)} GROUP BY ALL)
  GROUP BY platform),
per AS (
  SELECT pp.platform, pp.account_id, count(*) AS n_posts, min(created_at) AS first_post, max(created_at) AS last_post,
         count(*) FILTER (WHERE kind = 'repost') AS n_reposts, count(*) FILTER (WHERE kind = 'reply') AS n_replies,
         count(*) FILTER (WHERE kind = 'quote') AS n_quotes, count(*) FILTER (WHERE amp) AS n_amplify,
         count(*) FILTER (WHERE (hr - q.quiet_start + 24) % 24 < {int(p.night_hours)}) AS n_night,
         any_value(q.quiet_base) AS night_base
  FROM pp JOIN quiet q USING (platform) GROUP BY ALL),
hrs AS (SELECT platform, account_id, hr, count(*) AS c FROM pp GROUP BY ALL),
hstat AS (
  SELECT platform, account_id, max(c) / sum(c) AS top_hour_share,
         -sum(c / t * log2(c / t)) AS hour_entropy
  FROM (SELECT *, sum(c) OVER (PARTITION BY platform, account_id) AS t FROM hrs) GROUP BY ALL),
days AS (SELECT platform, created_at::DATE AS d, count(*) AS n FROM acc WHERE created_at IS NOT NULL GROUP BY ALL),
dwin AS (
  SELECT *, c_ctx * {win} / {ctx_win} AS c_exp,
         -- P(X >= c_near) for X ~ Poisson(local rate): how surprising the day's count is
         greatest(0.0, 1 - list_sum(list_transform(range(c_near),
             lambda k: exp(k * ln(c_ctx * {win} / {ctx_win}) - c_ctx * {win} / {ctx_win} - lgamma(k + 1)))))
           AS c_tail
  FROM (SELECT platform, d,
         sum(n) OVER (PARTITION BY platform ORDER BY d RANGE BETWEEN INTERVAL {cd} DAY PRECEDING
                      AND INTERVAL {cd} DAY FOLLOWING)::BIGINT AS c_near,
         sum(n) OVER (PARTITION BY platform ORDER BY d RANGE BETWEEN INTERVAL {ctx} DAY PRECEDING
                      AND INTERVAL {ctx} DAY FOLLOWING)::DOUBLE AS c_ctx
  FROM days)),
hnd AS (
  SELECT platform, account_id, handle,
         regexp_replace(lower(handle), '[^a-z0-9]', '', 'g') AS h FROM acc WHERE handle IS NOT NULL),
hch AS (
  SELECT platform, account_id, -sum(c / t * log2(c / t)) AS handle_entropy FROM (
    SELECT platform, account_id, ch, count(*) AS c, any_value(length(h)) AS t
    FROM (SELECT platform, account_id, h, unnest(string_split(h, '')) AS ch FROM hnd WHERE h <> '') GROUP BY ALL)
  GROUP BY ALL),
hfeat AS (
  SELECT n.platform, n.account_id,
         length(regexp_extract(n.handle, '[0-9]*$')) AS trailing_digits,
         greatest(len(regexp_extract_all(n.h, '[0-9]+|[a-z]+')) - 1, 0) AS letter_digit_switches,
         coalesce(list_max(list_transform(regexp_extract_all(n.h, '[bcdfghjklmnpqrstvwxz]+'), lambda x: length(x))), 0)
           AS consonant_run,
         e.handle_entropy
  FROM hnd n LEFT JOIN hch e USING (platform, account_id)),
m AS (
  SELECT a.platform, a.account_id, a.handle, a.created_at,
         (g.account_id IS NOT NULL) AS registered,
         trim(replace(coalesce(a.description, ''), '[SIMULATED]', '')) = '' AS desc_blank,
         CASE WHEN a.profile_image_url IS NULL THEN NULL
              ELSE regexp_matches(lower(a.profile_image_url), '{_DEFAULT_IMAGE}') END AS image_default,
         s.followers, s.following,
         s.followers / greatest(s.following, 1) AS follower_ratio,
         s.posts_count / greatest(date_diff('day', a.created_at, s.posts_count_at), 1) AS profile_posts_per_day,
         coalesce(pr.n_posts, 0) AS n_posts, pr.first_post, pr.last_post,
         date_diff('second', a.created_at, pr.first_post) / 86400.0 AS age_days_at_first_post,
         pr.n_posts / greatest(date_diff('second', pr.first_post, pr.last_post) / 86400.0, 1.0) AS observed_posts_per_day,
         pr.n_reposts / pr.n_posts AS repost_share, pr.n_replies / pr.n_posts AS reply_share,
         pr.n_quotes / pr.n_posts AS quote_share, pr.n_amplify / pr.n_posts AS amplify_share,
         pr.n_night / pr.n_posts AS night_share, pr.night_base AS platform_night_share,
         hs.top_hour_share, hs.hour_entropy,
         hf.trailing_digits, hf.letter_digit_switches, hf.consonant_run, hf.handle_entropy,
         dw.c_near AS creation_cluster, dw.c_exp AS creation_expected, dw.c_tail AS creation_cluster_p
  FROM acc a
  LEFT JOIN reg g USING (platform, account_id)
  LEFT JOIN snap s USING (platform, account_id)
  LEFT JOIN per pr USING (platform, account_id)
  LEFT JOIN hstat hs USING (platform, account_id)
  LEFT JOIN hfeat hf USING (platform, account_id)
  LEFT JOIN dwin dw ON dw.platform = a.platform AND dw.d = a.created_at::DATE)
SELECT *, coalesce(profile_posts_per_day, observed_posts_per_day) AS posts_per_day,
  coalesce(desc_blank, FALSE) AS no_description,
  coalesce(image_default, FALSE) AS default_image,
  coalesce(trailing_digits >= {int(p.handle_digits)}, FALSE) AS handle_digits,
  coalesce(letter_digit_switches >= {int(p.handle_switches)} OR consonant_run >= {int(p.handle_consonants)}, FALSE)
    AS handle_random,
  coalesce(following >= {int(p.ratio_following_min)} AND follower_ratio < {float(p.follower_ratio)}, FALSE)
    AS low_follower_ratio,
  coalesce(creation_cluster >= {int(p.cluster_min)} AND creation_cluster >= {float(p.cluster_factor)} * creation_expected
           AND creation_cluster_p <= {float(p.cluster_alpha)}, FALSE) AS creation_cluster_fired,
  coalesce(coalesce(profile_posts_per_day, observed_posts_per_day) >= {float(p.volume_per_day)}, FALSE) AS high_volume,
  coalesce(age_days_at_first_post < {int(p.young_days)}, FALSE) AS young_at_first_post,
  coalesce(n_posts >= {int(p.min_posts_share)} AND repost_share >= {float(p.repost_share)}, FALSE) AS repost_heavy,
  coalesce(n_posts >= {int(p.min_posts_share)} AND reply_share >= {float(p.reply_share)}, FALSE) AS reply_heavy,
  coalesce(n_posts >= {int(p.min_posts_hours)} AND hour_entropy < {float(p.hour_entropy)}, FALSE) AS hour_concentrated,
  coalesce(n_posts >= {int(p.min_posts_hours)} AND night_share >= {float(p.night_share)}
           AND night_share >= {float(p.night_factor)} * platform_night_share, FALSE) AS night_posting,
  coalesce(NOT registered AND n_posts >= {int(p.min_posts_share)} AND amplify_share >= {float(p.amplify_share)}, FALSE)
    AS amplifies_state
FROM m"""


def _view(tables, sql: str, stem: str) -> ibis.Table:
    """Define `sql` as a temporary view on the store's DuckDB connection and return its Ibis table."""
    import hashlib

    # named by the SQL's hash: the same analysis with the same parameters reuses its view (no pile-up of
    # views on a long-lived connection); a different query gets its own
    name = f"ew_{stem}_{hashlib.sha1(sql.encode()).hexdigest()[:12]}"
    tables.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
    return tables.ibis().table(name)


def _fired_col(name: str) -> str:
    return "creation_cluster_fired" if name == "creation_cluster" else name


@analysis("inauthenticity.signals")
def account_signals(tables, params: SignalParams = SignalParams()) -> ibis.Table:
    """Per account (platform, account_id): the measurements and one boolean column per signal.

    The boolean of the creation-date signal is `creation_cluster_fired` (`creation_cluster` is the count)."""
    return _view(tables, signals_sql(tables, params), "signals")


def score_sql(tables, params: SignalParams = SignalParams(), threshold: float = DEFAULT_THRESHOLD,
              weights: dict[str, float] | None = None) -> str:
    w = {s.name: s.weight for s in SIGNALS}
    w.update(weights or {})
    score = " + ".join(f"CASE WHEN {_fired_col(n)} THEN {float(w[n])} ELSE 0 END" for n in SIGNAL_NAMES)
    fired = " || ".join(f"CASE WHEN {_fired_col(n)} THEN ['{n}'] ELSE []::VARCHAR[] END" for n in SIGNAL_NAMES)
    return f"""SELECT *, (score >= {float(threshold)} AND NOT registered) AS flagged FROM (
        SELECT *, round({score}, 3) AS score, {fired} AS signals_fired FROM ({signals_sql(tables, params)}))"""


@analysis("inauthenticity.score")
def account_score(tables, params: SignalParams = SignalParams(), threshold: float = DEFAULT_THRESHOLD,
                  weights: dict[str, float] | None = None) -> ibis.Table:
    """Signals plus `score` (sum of the weights of the fired signals), `signals_fired` and `flagged`."""
    return _view(tables, score_sql(tables, params, threshold, weights), "score")


def flagged_accounts(tables, threshold: float = DEFAULT_THRESHOLD, params: SignalParams = SignalParams()) -> ibis.Table:
    """(platform, account_id, score) of the accounts with score >= threshold."""
    t = account_score(tables, params, threshold)
    return t.filter(t.flagged).select("platform", "account_id", "score")


def node_attributes(tables, account_ids, threshold: float = DEFAULT_THRESHOLD) -> dict[str, dict]:
    """score, flagged and signals_fired (space-separated) per account id, for graph exports (GEXF/GraphML
    node attributes); ids unknown to the store are left out."""
    import pyarrow as pa

    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return {}
    t = account_score(tables, threshold=threshold)
    sel = ibis.memtable(pa.table({"n_account_id": pa.array(ids, pa.string())}))
    j = t.join(sel, t.account_id == sel.n_account_id).select("account_id", "score", "flagged", "signals_fired")
    return {r["account_id"]: {"score": r["score"], "flagged": r["flagged"],
                              "signals_fired": " ".join(r["signals_fired"] or [])}
            for r in j.to_pyarrow().to_pylist()}
