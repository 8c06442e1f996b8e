"""Who posts what and when: vectorised (numpy) generation of posts, references, links and planted reposts.

Posts are arrays, not dicts, so that half a million of them take seconds. Each post has an author (index
into the account list), a time (epoch seconds), a kind, a reference (index of another post or -1), a text
template and a link (index into the URL pool or -1). Reposts carry their original's text, tags and link.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from envoywatch.demo import content as C
from envoywatch.demo.accounts import Acct
from envoywatch.util.urls import hashtags_in_text

KINDS = ("post", "repost", "quote", "reply")
POST, REPOST, QUOTE, REPLY = 0, 1, 2, 3
EPOCH = np.datetime64("1970-01-01T00:00:00", "s")
DIPLOMAT_START, DIPLOMAT_END = 4000, 17000   # combined posts/month of the Chinese diplomatic accounts (factor 1)


def _secs(dt) -> int:
    return int((np.datetime64(dt, "s") - EPOCH).astype(np.int64))


MONTH_BOUNDS = np.array([_secs(C.month_start(m)) for m in range(C.MONTHS + 1)], dtype=np.int64)


@dataclass
class TextTable:
    texts: list[str]
    langs: list[str]
    tags: list[list[str]]
    grid_start: np.ndarray      # [narrative, lang] -> first template index
    grid_len: np.ndarray
    organic0: int               # first organic text
    reply0: int                 # first reply text


def text_table() -> TextTable:
    texts, langs = [], []
    start = np.zeros((len(C.NARRATIVE_NAMES), len(C.LANGS)), dtype=np.int64)
    length = np.zeros_like(start)
    for i, narr in enumerate(C.NARRATIVE_NAMES):
        for j, lang in enumerate(C.LANGS):
            items = C.TEXTS.get((narr, lang)) or C.TEXTS[(narr, "en")]
            start[i, j], length[i, j] = len(texts), len(items)
            texts.extend(items)
            langs.extend([lang if (narr, lang) in C.TEXTS else "en"] * len(items))
    organic0 = len(texts)
    texts.extend(C.ORGANIC_TEXTS)
    langs.extend(["en"] * len(C.ORGANIC_TEXTS))
    reply0 = len(texts)
    texts.extend(C.REPLY_TEXTS)
    langs.extend(["en"] * len(C.REPLY_TEXTS))
    tags = []
    for t in texts:
        seen, out = set(), []
        for tag in hashtags_in_text(t):
            if tag.casefold() not in seen:
                seen.add(tag.casefold())
                out.append(tag)
        tags.append(out)
    return TextTable(texts, langs, tags, start, length, organic0, reply0)


@dataclass
class Activity:
    acc: np.ndarray       # author index
    t: np.ndarray         # epoch seconds, sorted ascending
    kind: np.ndarray
    ref: np.ndarray       # referenced post index or -1
    tmpl: np.ndarray      # text template (reposts: the original's)
    link: np.ndarray      # url pool index or -1 (reposts: the original's)
    texts: TextTable
    url_pool: list[str]
    groups: list[dict] = field(default_factory=list)   # ground truth of the planted networks


def _url_pool() -> list[str]:
    return [u for d in C.ALL_LINK_DOMAINS for u in C.article_urls(d)]


def _domain_index(dom: str) -> int:
    return C.ALL_LINK_DOMAINS.index(dom)


def _events(rng, rates: np.ndarray, accs: list[Acct], idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts per (account, month) -> (account index, time) per post, uniform within the month."""
    counts = rng.poisson(rates)
    a = np.repeat(np.repeat(idx, C.MONTHS), counts.ravel())
    m = np.repeat(np.tile(np.arange(C.MONTHS), len(idx)), counts.ravel())
    lo, hi = MONTH_BOUNDS[m], MONTH_BOUNDS[m + 1]
    t = lo + (rng.random(len(m)) * (hi - lo)).astype(np.int64)
    created = np.array([_secs(x.created_at) for x in accs], dtype=np.int64)
    t = np.maximum(t, created[a] + 60)
    return a, t


def _diplomat_rates(accs: list[Acct], idx: np.ndarray, factor: float) -> np.ndarray:
    """Rates per (account, month): CN diplomats calibrated to ~4,000 then ~17,000 posts a month (x factor)."""
    months = np.arange(C.MONTHS)
    base = np.array([accs[i].rate for i in idx])
    first = np.array([accs[i].first_month for i in idx])
    quiet = np.array([C.MONTHS if accs[i].quiet_month is None else accs[i].quiet_month for i in idx])
    cn = np.array([accs[i].state == "CN" for i in idx])
    active = (months[None, :] >= first[:, None]) & (months[None, :] < quiet[:, None])
    ramp = np.where(months[None, :] == first[:, None], 0.5, 1.0)  # a new account's first month is partial
    ramp[:, 0] = 1.0
    # pandemic surge Feb-Jun 2020, growth of the existing accounts over the period
    surge = np.where((months >= 8) & (months <= 12), 1.2, 1.0)
    start_sum = float((base * active[:, 0] * cn).sum()) or 1.0
    base_cn = base * DIPLOMAT_START * factor / start_sum
    end_sum = float((base_cn * active[:, -1] * cn).sum()) or 1.0
    k = max(0.0, DIPLOMAT_END * factor / end_sum - 1.0)
    growth = 1.0 + k * months / (C.MONTHS - 1)
    rates_cn = base_cn[:, None] * growth[None, :] * surge[None, :]
    rates_other = (base * 50 * factor)[:, None] * np.ones(C.MONTHS)[None, :]
    rates = np.where(cn[:, None], rates_cn, rates_other) * active * ramp
    return rates


def _pick_ref(rng, pool_t: np.ndarray, pool_idx: np.ndarray, t: np.ndarray, window: int = 3000) -> np.ndarray:
    """For each time, a random post among the `window` latest of the pool before it (-1 if none)."""
    hi = np.searchsorted(pool_t, t, side="left")
    span = np.minimum(hi, window)
    off = (rng.random(len(t)) * np.maximum(span, 1)).astype(np.int64)
    j = hi - 1 - off
    out = np.where(hi > 0, pool_idx[np.clip(j, 0, max(len(pool_idx) - 1, 0))] if len(pool_idx) else -1, -1)
    return out


def _narrative_templates(rng, tt: TextTable, t: np.ndarray, acc_lang: np.ndarray) -> np.ndarray:
    m = np.clip(np.searchsorted(MONTH_BOUNDS, t, side="right") - 1, 0, C.MONTHS - 1)
    weights = np.array([[C.NARRATIVES[n](mm) for n in C.NARRATIVE_NAMES] for mm in range(C.MONTHS)])
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    narr = np.minimum((rng.random(len(t))[:, None] > cum[m]).sum(axis=1), len(C.NARRATIVE_NAMES) - 1)
    lang = np.where(rng.random(len(t)) < 0.75, acc_lang, 0)
    return tt.grid_start[narr, lang] + (rng.random(len(t)) * tt.grid_len[narr, lang]).astype(np.int64)


def _links(rng, n: int, p_link: float, domains: list[str], probs: list[float]) -> np.ndarray:
    has = rng.random(n) < p_link
    d = rng.choice(np.array([_domain_index(x) for x in domains]), size=n, p=np.array(probs) / sum(probs))
    art = rng.integers(0, C.ARTICLES_PER_DOMAIN, size=n)
    return np.where(has, d * C.ARTICLES_PER_DOMAIN + art, -1)


def generate(accs: list[Acct], rng: np.random.Generator, factor: float) -> Activity:
    tt = text_table()
    lang_ix = {l: i for i, l in enumerate(C.LANGS)}
    acc_lang = np.array([lang_ix.get(a.lang, 0) for a in accs])
    role = np.array([a.role for a in accs])

    # --- state accounts: diplomats and state media -----------------------------------------------
    dip = np.flatnonzero(role == "diplomat")
    med = np.flatnonzero(role == "state_media")
    rd = _diplomat_rates(accs, dip, factor)
    rm = np.array([[250 * factor * accs[i].rate * (m >= accs[i].first_month) for m in range(C.MONTHS)]
                   for i in med], dtype=np.float64).reshape(len(med), C.MONTHS)
    a1, t1 = _events(rng, rd, accs, dip)
    a2, t2 = _events(rng, rm, accs, med)
    sa, st = np.concatenate([a1, a2]), np.concatenate([t1, t2])
    is_med = role[sa] == "state_media"
    u = rng.random(len(sa))
    skind = np.where(is_med, np.select([u < 0.92, u < 0.97], [POST, REPOST], QUOTE),
                     np.select([u < 0.55, u < 0.85, u < 0.95], [POST, REPOST, QUOTE], REPLY))
    order = np.lexsort((np.arange(len(st)), st))
    sa, st, skind = sa[order], st[order], skind[order]
    n_s = len(sa)
    orig = np.flatnonzero(skind == POST)
    sref = np.full(n_s, -1, dtype=np.int64)
    nonorig = np.flatnonzero(skind != POST)
    sref[nonorig] = _pick_ref(rng, st[orig], orig, st[nonorig])
    skind[(skind != POST) & (sref < 0)] = POST
    stmpl = _narrative_templates(rng, tt, st, acc_lang[sa])
    domains = C.CHINESE_STATE_MEDIA + ["rt.com", "sputniknews.com", "presstv.ir", "telesurtv.net"] + C.OFFICIAL_DOMAINS + C.ORGANIC_DOMAINS
    probs = [0.15] * 4 + [0.03] * 4 + [0.08, 0.07] + [0.13 / len(C.ORGANIC_DOMAINS)] * len(C.ORGANIC_DOMAINS)
    slink = _links(rng, n_s, 0.4, domains, probs)
    own = np.array([_domain_index(accs[i].domain) if accs[i].domain else -1 for i in range(len(accs))])
    med_link = np.where((own[sa] >= 0) & (rng.random(n_s) < 0.85),
                        own[sa] * C.ARTICLES_PER_DOMAIN + rng.integers(0, C.ARTICLES_PER_DOMAIN, n_s), -1)
    slink = np.where(is_med[order], med_link, slink)
    slink[skind == REPLY] = -1

    # --- organic users -----------------------------------------------------------------------------
    org = np.flatnonzero(role == "organic")
    ro = np.array([[0.6 * accs[i].rate] * C.MONTHS for i in org]).reshape(len(org), C.MONTHS)
    oa, ot = _events(rng, ro, accs, org)
    order = np.lexsort((np.arange(len(ot)), ot))
    oa, ot = oa[order], ot[order]
    n_o = len(oa)
    u = rng.random(n_o)
    okind = np.select([u < 0.6, u < 0.85], [POST, REPOST], REPLY)
    oref = np.full(n_o, -1, dtype=np.int64)
    oorig = np.flatnonzero(okind == POST)
    rep = np.flatnonzero(okind == REPOST)
    of_state = rng.random(len(rep)) < 0.5
    # organic reposts of state posts come minutes to days later
    lag = (rng.exponential(6 * 3600, len(rep))).astype(np.int64) + 60
    r_state = _pick_ref(rng, st[orig], orig, ot[rep] - lag, window=400)
    r_org = _pick_ref(rng, ot[oorig], oorig + n_s, ot[rep], window=2000)
    oref[rep] = np.where(of_state, r_state, r_org)
    repl = np.flatnonzero(okind == REPLY)
    oref[repl] = _pick_ref(rng, st[orig], orig, ot[repl], window=400)
    okind[(okind != POST) & (oref < 0)] = POST
    otmpl = np.where(okind == REPLY, tt.reply0 + rng.integers(0, len(C.REPLY_TEXTS), n_o),
                     tt.organic0 + rng.integers(0, len(C.ORGANIC_TEXTS), n_o))
    olink = _links(rng, n_o, 0.3, C.ORGANIC_DOMAINS + C.STATE_MEDIA_DOMAINS,
                   [0.85 / len(C.ORGANIC_DOMAINS)] * len(C.ORGANIC_DOMAINS) + [0.15 / len(C.STATE_MEDIA_DOMAINS)] * len(C.STATE_MEDIA_DOMAINS))
    olink[okind != POST] = -1

    # --- planted amplifier networks: every member reposts the same state posts within seconds ------
    groups, pa_acc, pa_t, pa_ref = [], [], [], []
    cn_targets = [i for i in range(len(accs)) if accs[i].role in ("diplomat", "state_media") and accs[i].state == "CN"]
    cn_targets.sort(key=lambda i: -accs[i].rate * (5 if accs[i].role == "state_media" else 1))
    top = cn_targets[: max(6, len(cn_targets) // 6)]
    n_groups = max((a.group or 0) for a in accs)
    for g in range(1, n_groups + 1):
        members = np.array([i for i, a in enumerate(accs) if a.group == g])
        created = np.array([_secs(accs[i].created_at) for i in members])
        targets = sorted(rng.choice(top, size=min(3, len(top)), replace=False).tolist())
        after = created.max() + 86400
        elig = orig[np.isin(sa[orig], targets) & (st[orig] > after)]
        n_t = min(len(elig), max(15, round(400 * factor)))
        chosen = np.sort(rng.choice(elig, size=n_t, replace=False)) if n_t else np.array([], dtype=np.int64)
        d0 = rng.integers(3, 90, len(chosen))
        part = rng.random((len(chosen), len(members))) < 0.85
        jitter = rng.integers(0, 16, (len(chosen), len(members)))
        pi, mi = np.nonzero(part)
        pa_acc.append(members[mi])
        pa_t.append(st[chosen][pi] + d0[pi] + jitter[pi, mi])
        pa_ref.append(chosen[pi])
        groups.append({"group": f"g{g}", "members": members.tolist(), "targets": targets,
                       "created_from": int(created.min()), "created_to": int(created.max()),
                       "target_posts": int(len(chosen)), "reposts": int(len(pi))})
    aa = np.concatenate(pa_acc) if pa_acc else np.array([], dtype=np.int64)
    at = np.concatenate(pa_t) if pa_t else np.array([], dtype=np.int64)
    ar = np.concatenate(pa_ref) if pa_ref else np.array([], dtype=np.int64)

    # --- all together, in time order; references re-pointed ------------------------------------------
    acc = np.concatenate([sa, oa, aa]).astype(np.int64)
    t = np.concatenate([st, ot, at]).astype(np.int64)
    kind = np.concatenate([skind, okind, np.full(len(aa), REPOST)]).astype(np.int8)
    ref = np.concatenate([sref, oref, ar]).astype(np.int64)
    tmpl = np.concatenate([stmpl, otmpl, np.zeros(len(aa), dtype=np.int64)]).astype(np.int64)
    link = np.concatenate([slink, olink, np.full(len(aa), -1)]).astype(np.int64)
    # reposts carry their original's text and link (as X gives them)
    rp = kind == REPOST
    tmpl[rp] = tmpl[ref[rp]]
    link[rp] = link[ref[rp]]
    order = np.lexsort((np.arange(len(t)), t))
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    ref = np.where(ref >= 0, inv[np.maximum(ref, 0)], -1)[order]
    return Activity(acc[order], t[order], kind[order], ref, tmpl[order], link[order], tt, _url_pool(), groups)
