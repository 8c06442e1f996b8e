"""Amplified sources: every linked domain and every reposted / quoted account, classified by the registry.

A source is
- a linked domain (post_urls: the platform's expanded URL, normalized; where `resolve_shortened_urls` resolved a
  shortener live, the resolved URL), classified by registry_domains (the starter registry and the imported
  state-media / influence-operation lists): source_kind state_media | official | influence_operation, with its
  source_state and outlet; otherwise 'unregistered';
- a reposted or quoted account (posts.ref_account_id of a repost / quote), classified by the account registry:
  source_kind state_media (categories state_media_outlet, state_media_staff) or official (every other registry
  category) with the actor's state; otherwise 'unregistered'.

Analyses (Ibis expressions): `sources.classified` (one row per occurrence), `sources.domains`,
`sources.accounts` (totals per source), `sources.by_account` (per amplifying account and class),
`sources.matrix` (cross-state amplification over time), `sources.top` (top sources per account and period).
`observed='primary'` restricts to the posts of the collected timelines (not posts embedded in them).

Live resolution of shorteners (bit.ly, ow.ly...) is OFF by default: `resolve_shortened_urls(store, live=True)`
follows redirects only while the host is a known shortener, rate limited per host, cached in the
`url_resolutions` table (created here).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import ibis
import pyarrow as pa

from envoywatch.analysis import analysis
from envoywatch.analysis.accounts_view import registered_accounts
from envoywatch.analysis.filters import FREQ_UNITS, Filters, check_choice, filtered_posts
from envoywatch.errors import EnvoywatchError

SOURCE_KINDS = ("state_media", "official", "influence_operation", "unregistered")
MEDIA_CATEGORIES = ("state_media_outlet", "state_media_staff")
MATRIX_FROM = {"state": ("state",), "category": ("category",), "state_category": ("state", "category"),
               "host_country": ("host_country",), "account": ("account_id",)}
SHORTENER_HOSTS = frozenset({
    "bit.ly", "bitly.com", "t.co", "ow.ly", "tinyurl.com", "goo.gl", "buff.ly", "dlvr.it", "j.mp", "fb.me",
    "is.gd", "tiny.cc", "shorturl.at", "rb.gy", "cutt.ly", "trib.al", "lnkd.in", "wp.me", "ift.tt", "soo.gd",
    "v.gd", "s.id", "t.ly", "bl.ink", "tr.im", "su.pr", "po.st", "shar.es", "cli.gs", "mcaf.ee", "reut.rs",
    "nyti.ms", "bbc.in", "cnn.it", "wapo.st", "bloom.bg", "f24.my", "dw.com/p",
})
RESOLUTIONS_DDL = """CREATE TABLE IF NOT EXISTS url_resolutions (
  url VARCHAR PRIMARY KEY, resolved_url VARCHAR, normalized_url VARCHAR, host VARCHAR, domain VARCHAR,
  status VARCHAR, hops INTEGER, resolved_at TIMESTAMP)"""


class SourcesError(EnvoywatchError):
    """A sources parameter is bad, or live resolution was asked for without allowing it."""


# --- classification ---------------------------------------------------------------------------------

def _registry_domain_table(tables) -> ibis.Table:
    """registry_domains with the registered domain of each entry (computed here, offline), so that links join
    on an equality and the suffix rules are checked on the few candidates: domain entries cover the host and
    its subdomains, host entries only the host, url_prefix entries URLs that start with them."""
    from envoywatch.util.urls import registered_domain

    rows = tables.table("registry_domains").select("domain", "state", "kind", "outlet", "match_type").to_pyarrow()
    rows = rows.to_pylist()
    order = {"state_media": 0, "official": 1, "influence_operation": 2}
    data = {"r_domain": [], "r_reg": [], "r_state": [], "r_kind": [], "r_outlet": [], "r_match": [], "r_rank": []}
    for r in rows:
        d = (r["domain"] or "").lower().strip().removeprefix("www.")
        if not d:
            continue
        mt = r["match_type"] or "domain"
        data["r_domain"].append(d)
        data["r_reg"].append(registered_domain(d.split("/", 1)[0]))
        data["r_state"].append(r["state"])
        data["r_kind"].append(r["kind"])
        data["r_outlet"].append(r["outlet"])
        data["r_match"].append(mt)
        data["r_rank"].append(order.get(r["kind"], 9))
    schema = pa.schema([("r_domain", pa.string()), ("r_reg", pa.string()), ("r_state", pa.string()),
                        ("r_kind", pa.string()), ("r_outlet", pa.string()), ("r_match", pa.string()),
                        ("r_rank", pa.int64())])
    return ibis.memtable(pa.table(data, schema=schema))


def _posts(tables, f: Filters, observed: str | None) -> ibis.Table:
    p = filtered_posts(tables, f)
    if observed:
        check_choice(observed, ("primary", "referenced"), "observed")
        p = p.filter(p.observed == observed)
    return p


def _links(tables) -> ibis.Table:
    """post_urls with the live resolution applied where the url_resolutions table has one."""
    u = tables.table("post_urls")
    u = u.mutate(link=ibis.coalesce(u.expanded_url, u.url))
    con = getattr(tables, "con", None)
    has_res = False
    if con is not None:
        has_res = bool(con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'url_resolutions'")
                       .fetchall())
    if not has_res:
        return u.select("platform", "post_id", "position", "normalized_url", "host", "domain")
    r = tables.ibis().table("url_resolutions")
    r = r.filter(r.status == "resolved").select(r_url="url", r_norm="normalized_url", r_host="host", r_domain="domain")
    j = u.left_join(r, u.link == r.r_url)
    return j.select("platform", "post_id", "position", normalized_url=ibis.coalesce(j.r_norm, j.normalized_url),
                    host=ibis.coalesce(j.r_host, j.host), domain=ibis.coalesce(j.r_domain, j.domain))


def _author_cols(p):
    return dict(platform=p.platform, post_id=p.post_id, account_id=p.account_id, handle=p.handle,
                state=p.state, category=p.category, host_country=p.host_country, created_at=p.created_at)


@analysis("sources.links")
def source_links(tables, f: Filters = Filters(), observed: str | None = None) -> ibis.Table:
    """One row per link of the filtered posts: author columns, url, host, domain, source_kind, source_state,
    outlet (the longest matching registry entry wins; among equals state_media, then official, then IO)."""
    p = _posts(tables, f, observed)
    u = _links(tables).filter(lambda t: t.host.notnull())
    lk = p.join(u.rename(u_platform="platform", u_post_id="post_id"),
                (p.platform == u.platform) & (p.post_id == u.post_id))
    lk = lk.select(**_author_cols(lk), position=lk.position, url=lk.normalized_url, host=lk.host,
                   domain=lk.domain)
    reg = _registry_domain_table(tables)
    j = lk.left_join(reg, lk.domain == reg.r_reg)
    bare = j.url.re_replace(r"^https?://", "")
    ok = ibis.cases((j.r_match == "host", j.host == j.r_domain),
                    (j.r_match == "url_prefix", bare.startswith(j.r_domain)),
                    else_=(j.host == j.r_domain) | j.host.endswith("." + j.r_domain))
    j = j.mutate(r_ok=ok.fill_null(False))
    j = j.mutate(r_len=ibis.ifelse(j.r_ok, j.r_domain.length(), -1))
    w = ibis.window(group_by=[j.platform, j.post_id, j.position], order_by=[ibis.desc(j.r_len), j.r_rank, j.r_state])
    j = j.mutate(rn=ibis.row_number().over(w)).filter(lambda t: t.rn == 0)
    return j.select(*lk.columns, source_kind=ibis.ifelse(j.r_ok, j.r_kind, "unregistered"),
                    source_state=ibis.ifelse(j.r_ok, j.r_state, ibis.null().cast("string")),
                    outlet=ibis.ifelse(j.r_ok, j.r_outlet, ibis.null().cast("string")))


@analysis("sources.reposted")
def source_reposts(tables, f: Filters = Filters(), observed: str | None = None) -> ibis.Table:
    """One row per repost / quote of the filtered posts: author columns, relation (repost | quote),
    source_account_id, source_handle, source_kind, source_state, outlet (the registry actor's name)."""
    p = _posts(tables, f, observed)
    p = p.filter(p.kind.isin(["repost", "quote"]) & p.ref_account_id.notnull())
    ra = registered_accounts(tables).select(s_platform="platform", s_account_id="account_id", s_handle="handle",
                                            s_actor="actor_id", s_name="actor_name", s_state="state",
                                            s_category="category")
    j = p.left_join(ra, (p.platform == ra.s_platform) & (p.ref_account_id == ra.s_account_id))
    kind = ibis.cases((j.s_actor.isnull(), "unregistered"), (j.s_category.isin(list(MEDIA_CATEGORIES)), "state_media"),
                      else_="official")
    return j.select(**_author_cols(j), relation=j.kind, source_account_id=j.ref_account_id,
                    source_handle=j.s_handle, source_kind=kind,
                    source_state=ibis.ifelse(j.s_actor.isnull(), ibis.null().cast("string"), j.s_state),
                    outlet=j.s_name)


@analysis("sources.classified")
def classified_sources(tables, f: Filters = Filters(), observed: str | None = None) -> ibis.Table:
    """Links and reposts/quotes in one shape: author columns, source_type (domain | account), relation
    (link | repost | quote), source (domain, or the account's handle, else its id), source_kind, source_state,
    outlet."""
    lk = source_links(tables, f, observed)
    lk = lk.select(*[c for c in ("platform", "post_id", "account_id", "handle", "state", "category",
                                 "host_country", "created_at")],
                   source_type=ibis.literal("domain"), relation=ibis.literal("link"), source=lk.domain,
                   source_kind=lk.source_kind, source_state=lk.source_state, outlet=lk.outlet)
    rp = source_reposts(tables, f, observed)
    rp = rp.select("platform", "post_id", "account_id", "handle", "state", "category", "host_country", "created_at",
                   source_type=ibis.literal("account"), relation=rp.relation,
                   source=ibis.coalesce(rp.source_handle, rp.source_account_id), source_kind=rp.source_kind,
                   source_state=rp.source_state, outlet=rp.outlet)
    return lk.union(rp)


def _totals(rows: ibis.Table, keys: list[str]) -> ibis.Table:
    return rows.group_by(keys).aggregate(
        items=rows.count().cast("int64"),
        posts=(rows.platform + ":" + rows.post_id).nunique().cast("int64"),
        accounts=(rows.platform + ":" + rows.account_id).nunique().cast("int64"))


@analysis("sources.domains")
def source_domains(tables, f: Filters = Filters(), observed: str | None = None) -> ibis.Table:
    """Every linked domain with its class: domain, source_kind, source_state, outlet, items (links), posts,
    accounts (distinct linking accounts)."""
    t = _totals(source_links(tables, f, observed), ["domain", "source_kind", "source_state", "outlet"])
    return t.order_by([ibis.desc("items"), "domain"])


@analysis("sources.accounts")
def source_accounts(tables, f: Filters = Filters(), observed: str | None = None) -> ibis.Table:
    """Every reposted / quoted account with its class: source_account_id, source_handle, relation,
    source_kind, source_state, outlet, items, posts, accounts (distinct amplifying accounts)."""
    t = _totals(source_reposts(tables, f, observed),
                ["source_account_id", "source_handle", "relation", "source_kind", "source_state", "outlet"])
    return t.order_by([ibis.desc("items"), "source_account_id", "relation"])


@analysis("sources.by_account")
def sources_by_account(tables, f: Filters = Filters(), observed: str | None = None) -> ibis.Table:
    """Per amplifying account: platform, account_id, handle, source_type, source_kind, source_state, items,
    posts, share (of the account's items of that source_type)."""
    rows = classified_sources(tables, f, observed)
    t = rows.group_by(["platform", "account_id", "source_type", "source_kind", "source_state"]).aggregate(
        handle=rows.handle.max(), items=rows.count().cast("int64"), posts=rows.post_id.nunique().cast("int64"))
    tot = t["items"].sum().over(ibis.window(group_by=[t.platform, t.account_id, t.source_type]))
    return t.mutate(share=(t["items"] / tot).cast("float64")).order_by(
        ["account_id", "source_type", ibis.desc("items")])


def _period(t, freq):
    if freq is None:
        return ibis.null().cast("date")
    return t.created_at.truncate(FREQ_UNITS[check_choice(freq, list(FREQ_UNITS), "freq")]).date()


@analysis("sources.matrix")
def amplification_matrix(tables, f: Filters = Filters(), freq: str | None = "month", by: str = "state",
                         source_type: str | None = None, include_unregistered: bool = False,
                         observed: str | None = None) -> ibis.Table:
    """Cross-state amplification: period, from_group (the amplifying accounts' state, category, state/category,
    host country or account), to_state, to_kind (the source's state and class), items, posts, accounts, share
    (of the from_group's items in the period, unregistered sources included in the denominator)."""
    check_choice(by, list(MATRIX_FROM), "by")
    rows = classified_sources(tables, f, observed)
    if source_type:
        check_choice(source_type, ("domain", "account"), "source_type")
        rows = rows.filter(rows.source_type == source_type)
    cols = MATRIX_FROM[by]
    grp = rows[cols[0]].cast("string")
    for c in cols[1:]:
        grp = grp.fill_null("?") + "/" + rows[c].cast("string").fill_null("?")
    rows = rows.mutate(period=_period(rows, freq), from_group=grp, to_state=rows.source_state,
                       to_kind=rows.source_kind)
    t = _totals(rows, ["period", "from_group", "to_state", "to_kind"])
    tot = t["items"].sum().over(ibis.window(group_by=[t.period, t.from_group]))
    t = t.mutate(share=(t["items"] / tot).cast("float64"))
    if not include_unregistered:
        t = t.filter(t.to_kind != "unregistered")
    return t.order_by(["period", "from_group", ibis.desc("items")])


@analysis("sources.top")
def top_sources(tables, f: Filters = Filters(), freq: str | None = "month", n: int = 10,
                source_type: str | None = None, registered_only: bool = False, observed: str | None = None) -> ibis.Table:
    """Top n sources per amplifying account and period: platform, account_id, handle, period, source_type,
    source, source_kind, source_state, outlet, items, rank (1 = most amplified)."""
    rows = classified_sources(tables, f, observed)
    if source_type:
        check_choice(source_type, ("domain", "account"), "source_type")
        rows = rows.filter(rows.source_type == source_type)
    if registered_only:
        rows = rows.filter(rows.source_kind != "unregistered")
    rows = rows.mutate(period=_period(rows, freq))
    t = rows.group_by(["platform", "account_id", "period", "source_type", "source", "source_kind",
                       "source_state", "outlet"]).aggregate(handle=rows.handle.max(), items=rows.count().cast("int64"))
    w = ibis.window(group_by=[t.platform, t.account_id, t.period], order_by=[ibis.desc(t["items"]), t.source])
    t = t.mutate(rank=(ibis.row_number().over(w) + 1).cast("int64"))
    return t.filter(t["rank"] <= int(n)).order_by(["account_id", "period", "rank"])


# --- live resolution of shorteners (off by default) -------------------------------------------------

class ShortenerResolver:
    """Follows HTTP redirects of shortened links while the current host is a shortener (never fetches the
    target page itself), at most one request per host every `min_interval` seconds, cached per URL."""

    def __init__(self, hosts=SHORTENER_HOSTS, min_interval: float = 1.0, max_hops: int = 5, timeout: float = 10.0,
                 client=None):
        import httpx

        self.hosts = {h.lower() for h in hosts}
        self.min_interval = float(min_interval)
        self.max_hops = int(max_hops)
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False,
                                             headers={"User-Agent": "envoywatch-link-resolver"})
        self.cache: dict[str, tuple] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests = 0

    def is_shortener(self, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().removeprefix("www.")
        first = parts.path.strip("/").split("/", 1)[0]
        return host in self.hosts or (f"{host}/{first}" in self.hosts if first else False)

    def _wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            due = self._last.get(host, 0.0) + self.min_interval
            if due > now:
                time.sleep(due - now)
            self._last[host] = time.monotonic()

    def resolve(self, url: str) -> tuple[str, str, int]:
        """(resolved_url, status, hops): status resolved | not_a_shortener | error:<reason> | too_many_hops."""
        if url in self.cache:
            return self.cache[url]
        import httpx

        cur, hops, status = url, 0, "not_a_shortener"
        while self.is_shortener(cur):
            if hops >= self.max_hops:
                status = "too_many_hops"
                break
            self._wait((urlsplit(cur).hostname or "").lower())
            try:
                self.requests += 1
                r = self.client.head(cur)
                if r.status_code in (403, 405, 501):  # some shorteners refuse HEAD
                    self.requests += 1
                    r = self.client.get(cur)
            except httpx.HTTPError as exc:
                status = f"error:{type(exc).__name__}"
                break
            loc = r.headers.get("location")
            if r.status_code not in (301, 302, 303, 307, 308) or not loc:
                status = "resolved" if hops else f"error:http {r.status_code}"
                break
            cur, hops, status = urljoin(cur, loc), hops + 1, "resolved"
        out = (cur, status, hops)
        self.cache[url] = out
        return out


def resolve_shortened_urls(store, live: bool = False, resolver: ShortenerResolver | None = None,
                           limit: int | None = None, retry_errors: bool = False) -> dict:
    """Resolve the shortened links in post_urls that are not resolved yet; cached in url_resolutions.
    Live network access: only with live=True (the CLI's --live)."""
    if not live:
        raise SourcesError("live resolution of shortened links is off", "sources resolve",
                           "pass --live (library: live=True) to allow envoywatch to contact the shorteners")
    from envoywatch.util.urls import url_parts

    resolver = resolver or ShortenerResolver()
    store.con.execute(RESOLUTIONS_DDL)
    done = "SELECT url FROM url_resolutions" + (
        " WHERE status IN ('resolved', 'not_a_shortener')" if retry_errors else "")
    links = [r[0] for r in store.con.execute(
        "SELECT DISTINCT coalesce(expanded_url, url) AS link FROM post_urls "
        f"WHERE coalesce(expanded_url, url) NOT IN ({done}) ORDER BY link").fetchall()]
    links = [u for u in links if resolver.is_shortener(u)][: limit or None]
    counts = {"candidates": len(links), "resolved": 0, "failed": 0}
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for link in links:
        final, status, hops = resolver.resolve(link)
        norm, host, domain = url_parts(final) if status == "resolved" else (None, None, None)
        counts["resolved" if status == "resolved" else "failed"] += 1
        store.con.execute("DELETE FROM url_resolutions WHERE url = ?", [link])
        store.con.execute("INSERT INTO url_resolutions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [link, final, norm, host, domain, status, hops, now])
    counts["requests"] = resolver.requests
    return counts
