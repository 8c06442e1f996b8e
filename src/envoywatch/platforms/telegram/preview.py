"""Telegram's public channel preview (`https://t.me/s/<channel>`) -> Bundle. Pure: HTML in, records out.

The preview is an ordinary web page served without login. Each message is a
`div.tgme_widget_message[data-post="<username>/<message id>"]` with its text in
`.tgme_widget_message_text`, its time in `time[datetime]`, views in `.tgme_widget_message_views`, a
forwarded-from header (`.tgme_widget_message_forwarded_from_name`), a reply block
(`a.tgme_widget_message_reply`), photos and videos. The channel header (`.tgme_channel_info`) gives
the title, description, avatar and counters ("12.5K subscribers"). Older messages come from the
"load more" element `.tme_messages_more[data-before]` (the next page is `?before=<id>`).

Ids (the same as the export normalizers in normalize.py, so a channel imported from a Telegram Desktop
export or a Telethon dump and collected live lands on the same rows): account_id is the channel's bare
numeric id and post_id is '<bare id>/<message id>'. The preview carries that id on every message:
`data-peer="c<bare id>_<access hash>"` and, base64url JSON in `data-view`, `{"c": -<bare id>, "p": <msg>}`.
Only where a page carries neither (an old page, or a channel with no message yet) the username stands in
(account_id '<username>', post_id '<username>/<message id>'); `channel_key` says which was used.

Text is plain text: tags dropped, entities decoded, <br> as newlines; script/style content is never
text. What a post said (even '<script>...') is stored as characters, and every output escapes it.
Counts shown rounded by Telegram ("1.2K", "2.07M") are stored expanded (1200, 2070000): precise to the
3 significant digits Telegram shows.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle
from envoywatch.platforms.telegram.normalize import _children, chat_key
from envoywatch.util.timeparse import parse_time
from envoywatch.util.urls import hashtags_in_text

PLATFORM = "telegram"
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_NOT_TEXT = {"script", "style", "template", "noscript"}
_COUNT = re.compile(r"^([0-9]+(?:[.,][0-9]+)?)([KMB]?)$", re.I)
_PEER = re.compile(r"^c(\d+)_")
_TME_POST = re.compile(r"^https?://(?:t\.me|telegram\.me)/(?:s/)?([A-Za-z0-9_]{3,})/(\d+)")
_BG_URL = re.compile(r"url\(['\"]?([^'\")]+)['\"]?\)")
BLOCKED_WORDS = ("can't be displayed", "cannot be displayed", "violated telegram's terms", "violated the terms")


# --- a small DOM over the stdlib parser ------------------------------------------------------------

class Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict, parent: "Node | None"):
        self.tag, self.attrs, self.children, self.parent = tag, attrs, [], parent

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def iter(self, skip=None):
        """Descendant elements, depth first; `skip(node)` prunes a subtree."""
        for c in self.children:
            if isinstance(c, Node):
                if skip and skip(c):
                    continue
                yield c
                yield from c.iter(skip)

    def find_all(self, cls: str | None = None, tag: str | None = None, skip=None):
        return [n for n in self.iter(skip) if (cls is None or cls in n.classes) and (tag is None or n.tag == tag)]

    def first(self, cls: str | None = None, tag: str | None = None, skip=None):
        return next((n for n in self.iter(skip) if (cls is None or cls in n.classes)
                     and (tag is None or n.tag == tag)), None)

    def text(self) -> str:
        out: list[str] = []
        self._text(out)
        return "".join(out)

    def _text(self, out: list[str]) -> None:
        for c in self.children:
            if isinstance(c, str):
                out.append(c)
            elif c.tag == "br":
                out.append("\n")
            elif c.tag not in _NOT_TEXT:
                c._text(out)


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.cur)
        self.cur.children.append(node)
        if tag not in _VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, {k: (v or "") for k, v in attrs}, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:  # a stray end tag (no open element) is ignored
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_html(html: str) -> Node:
    b = _TreeBuilder()
    b.feed(html)
    b.close()
    return b.root


# --- values ----------------------------------------------------------------------------------------

def parse_count(value: str | None) -> int | None:
    """'1 234' -> 1234, '1.2K' -> 1200, '2.07M' -> 2070000; None when it is not a count."""
    if not value:
        return None
    v = re.sub(r"[\s\u00a0\u202f']", "", value)
    m = _COUNT.match(v)
    if not m:
        return None
    num, suffix = m.group(1), m.group(2).upper()
    if not suffix:
        return int(num.replace(",", "").replace(".", ""))
    return int(round(float(num.replace(",", ".")) * {"K": 1e3, "M": 1e6, "B": 1e9}[suffix]))


def _peer_id(node: Node) -> str | None:
    """The channel's bare numeric id from data-peer (c<id>_<hash>) or data-view (base64url JSON {"c": ...})."""
    m = _PEER.match(node.attrs.get("data-peer") or "")
    if m:
        return m.group(1)
    view = node.attrs.get("data-view")
    if view:
        try:
            obj = json.loads(base64.urlsafe_b64decode(view + "=" * (-len(view) % 4)))
        except (ValueError, TypeError):
            return None
        c = obj.get("c") if isinstance(obj, dict) else None
        if isinstance(c, int) and c != 0:
            return chat_key(-abs(c))
    return None


def _clean(s: str | None) -> str | None:
    if s is None:
        return None
    s = re.sub(r"[ \t\r\f\v]+\n", "\n", s.replace("\u00a0", " ")).strip()
    return s or None


# --- the page --------------------------------------------------------------------------------------

def parse_page(html: str) -> dict:
    """A preview page -> {"state", "channel": {...}, "messages": [...], "before", "channel_key"}.

    state: "ok" (a channel preview), "blocked" (Telegram says the channel can't be displayed: a takedown),
    "unavailable" (Telegram's contact card: no such channel, a user, a private channel or the preview is
    off -- Telegram serves the same page for all of them).
    """
    root = parse_html(html)
    messages = [_message(n) for n in root.find_all("tgme_widget_message", "div") if n.attrs.get("data-post")]
    messages = [m for m in messages if m is not None]
    info = root.first("tgme_channel_info")
    channel = _channel(root, info)
    low = root.text().lower().replace("\u2019", "'")
    if not messages and info is None and root.first("tgme_channel_history") is None:
        state = "blocked" if any(w in low for w in BLOCKED_WORDS) else "unavailable"
    else:
        state = "ok"
    more = next((n for n in root.find_all("tme_messages_more") if n.attrs.get("data-before", "").isdigit()), None)
    key = next((m["peer_id"] for m in messages if m["peer_id"]), None)
    if channel["username"] is None and messages:
        channel["username"] = messages[0]["channel"]
    channel["numeric_id"] = key
    return {"state": state, "channel": channel, "messages": messages,
            "before": int(more.attrs["data-before"]) if more else None,
            "channel_key": key or (channel["username"] or "").lower() or None,
            "detail": _clean(root.first("tgme_page_description").text()) if root.first("tgme_page_description") else None}


def _channel(root: Node, info: Node | None) -> dict:
    scope = info or root
    title = scope.first("tgme_channel_info_header_title")
    user = scope.first("tgme_channel_info_header_username")
    desc = scope.first("tgme_channel_info_description")
    photo = scope.first("tgme_page_photo_image")
    img = (photo.first(tag="img") if photo and photo.tag != "img" else photo)
    counters = {}
    for c in scope.find_all("tgme_channel_info_counter"):
        v, t = c.first("counter_value"), c.first("counter_type")
        if v is not None and t is not None:
            counters[t.text().strip().lower()] = parse_count(v.text())
    username = (user.text().strip().lstrip("@") or None) if user else None
    return {"username": username, "title": _clean(title.text()) if title else None,
            "description": _clean(desc.text()) if desc else None,
            "photo": img.attrs.get("src") if img is not None else None,
            "subscribers": next((v for k, v in counters.items() if k.startswith(("subscriber", "member"))), None),
            "counters": counters}


def _in_reply(n: Node) -> bool:
    return "tgme_widget_message_reply" in n.classes


def _message(n: Node) -> dict | None:
    post = n.attrs["data-post"]
    chan, _, mid = post.rpartition("/")
    if not chan or not mid.isdigit():
        return None
    service = "service_message" in n.classes or n.first("service_message") is not None
    texts = [t for t in n.find_all("tgme_widget_message_text", skip=_in_reply) if "js-message_reply_text" not in t.classes]
    body = next((t for t in texts if "js-message_text" in t.classes), texts[0] if texts else None)
    links, tags, mentions = [], [], []
    if body is not None:
        for a in body.find_all(tag="a"):
            href, label = a.attrs.get("href", ""), a.text().strip()
            if href.startswith("?q="):
                tags.append(unquote(href[3:]).lstrip("#") or label)
            elif label.startswith("@") and urlsplit(href).netloc in ("t.me", "telegram.me"):
                mentions.append(label)
            elif href.startswith(("http://", "https://")):
                links.append(href)
    when = None
    date = n.first("tgme_widget_message_date", skip=_in_reply)
    for scope in ([date] if date is not None else []) + [n]:
        t = next((x for x in scope.iter(_in_reply) if x.tag == "time" and x.attrs.get("datetime")), None)
        if t is not None:
            when = t.attrs["datetime"]
            break
    views = n.first("tgme_widget_message_views")
    fwd = n.first("tgme_widget_message_forwarded_from_name")
    reply = n.first("tgme_widget_message_reply")
    reply_id = None
    if reply is not None:
        m = _TME_POST.match(reply.attrs.get("href", ""))
        reply_id = m.group(2) if m and m.group(1).lower() == chan.lower() else None
    media = []
    for w in n.find_all(skip=_in_reply):
        if "tgme_widget_message_photo_wrap" in w.classes:
            m = _BG_URL.search(w.attrs.get("style", ""))
            media.append(("photo", m.group(1) if m else w.attrs.get("href")))
        elif w.tag == "video" and "tgme_widget_message_video" in w.classes:
            media.append(("video", w.attrs.get("src")))
    meta = n.first("tgme_widget_message_meta")
    return {"channel": chan, "id": int(mid), "peer_id": _peer_id(n), "service": service,
            "text": _clean(body.text()) if body is not None else None, "datetime": when,
            "views": parse_count(views.text()) if views is not None else None,
            "edited": bool(meta and "edited" in meta.text().lower()),
            "forwarded_from": {"name": _clean(fwd.text()), "href": fwd.attrs.get("href")} if fwd is not None else None,
            "reply_to": reply_id, "links": links, "hashtags": tags, "mentions": mentions, "media": media}


# --- records ---------------------------------------------------------------------------------------

def channel_bundle(page: dict | str, captured_at: datetime) -> Bundle:
    """The channel's accounts row and a subscriber snapshot (captured_at = when the page was fetched)."""
    p = parse_page(page) if isinstance(page, str) else page
    if p["state"] != "ok" or not p["channel_key"]:
        raise RecordError(f"not a channel preview page ({p['state']})")
    ch = p["channel"]
    b = Bundle()
    b.add("accounts", {"platform": PLATFORM, "account_id": p["channel_key"], "handle": ch["username"],
                       "display_name": ch["title"], "description": ch["description"],
                       "url": f"https://t.me/{ch['username']}" if ch["username"] else None,
                       "profile_image_url": ch["photo"]})
    if ch["subscribers"] is not None:
        b.add("account_snapshots", {"platform": PLATFORM, "account_id": p["channel_key"], "captured_at": captured_at,
                                    "followers": ch["subscribers"]})
    return b


def message_bundle(m: dict, channel_key: str, captured_at: datetime) -> Bundle:
    """One message of a preview page (from parse_page) -> posts (+ links, hashtags, mentions, media, views).
    Service messages (channel created, photo changed) are not posts: an empty Bundle."""
    b = Bundle()
    if m["service"]:
        return b
    key = m["peer_id"] or channel_key
    post_id = f"{key}/{m['id']}"
    created = parse_time(m["datetime"], "datetime")
    if created is None:
        raise RecordError(f"message {m['channel']}/{m['id']} without a time")
    b.add("accounts", {"platform": PLATFORM, "account_id": key, "handle": m["channel"]})
    row = {"platform": PLATFORM, "post_id": post_id, "account_id": key, "created_at": created, "text": m["text"],
           "kind": "post", "observed": "primary", "url": f"https://t.me/{m['channel']}/{m['id']}"}
    if m["reply_to"]:
        ref = f"{key}/{m['reply_to']}"
        row.update(kind="reply", ref_post_id=ref, reply_to_post_id=ref, reply_to_account_id=key)
    if m["forwarded_from"] is not None:
        # the preview names the source by username (and link), never by numeric id: like a Desktop export,
        # the original's ids stay NULL (a username here would not match the ids of the store)
        row.update(kind="repost", ref_post_id=None, ref_account_id=None)
    b.add("posts", row)
    tags = list(m["hashtags"]) + hashtags_in_text(m["text"])
    _children(b, post_id, m["links"], tags, [(h, None) for h in m["mentions"]])
    for pos, (mtype, url) in enumerate(m["media"]):
        b.add("post_media", {"platform": PLATFORM, "post_id": post_id, "position": pos, "media_type": mtype,
                             "url": url, "media_key": None, "alt_text": None})
    if m["views"] is not None:
        b.add("post_metrics", {"platform": PLATFORM, "post_id": post_id, "captured_at": captured_at,
                               "views": m["views"]})
    return b
