"""Telegram messages -> Bundle. Pure functions, one message at a time.

Ids: a chat (channel, group) is identified by its bare numeric id (Telegram Desktop's `id`, Telethon's
marked id without the -100 prefix: -1001101170442 -> 1101170442). post_id is '<chat id>/<message id>'.
account_id is the bare id for channels and chats, and 'user<id>' for users (user and channel ids are
separate number spaces, so the prefix keeps them apart).

Telegram Desktop export (result.json): `text` is a string or a list of strings and entity objects;
`text_entities` gives links (`link`, `text_link` with href), hashtags, mentions (`mention`,
`mention_name` with user_id). `forwarded_from` makes a repost: the original's author is known where the
export gives `forwarded_from_id`, the original message id never is, so ref_post_id stays NULL.
`reply_to_message_id` makes a reply to '<chat id>/<that id>'. Service messages (channel created, pinned)
are not posts. Reactions (summed) and views, where exported, go to post_metrics at the caller's capture time.

Telethon-style dicts ({message_id, sender_id, text, date, channel, ...}, as many scrapers write them):
`text` is Telethon's markdown (`message.text`): links are read from markdown links and bare URLs,
hashtags and mentions from the text (util.urls helpers). Extra keys some scrapers add (views, forwards,
reply_to_msg_id, fwd_from) are used where present; others (e.g. an LLM-assigned `category`) are ignored.
"""

from __future__ import annotations

import re
from datetime import datetime

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import hashtags_in_text, mentions_in_text, url_row, urls_in_text

PLATFORM = "telegram"
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\((https?://[^)\s]+)\)")
_MEDIA = {"video_file": "video", "video_message": "video", "animation": "animated_gif"}


def peer_id(value) -> str | None:
    """'channel1101170442' / 'user42' / -1001101170442 / 1101170442 -> account id ('1101170442', 'user42')."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        if value < 0:
            s = str(-value)
            return s[3:] if s.startswith("100") and len(s) > 10 else s
        return f"user{value}"
    s = str(value)
    for prefix in ("channel", "chat", "group"):
        if s.startswith(prefix) and s[len(prefix):].isdigit():
            return s[len(prefix):]
    if s.startswith("user") and s[4:].isdigit():
        return s
    if s.lstrip("-").isdigit():
        return peer_id(int(s))
    return s


def chat_key(chat_id) -> str:
    """The chat part of a post id: a channel/chat's bare id ('-100' prefix removed)."""
    if isinstance(chat_id, int) or (isinstance(chat_id, str) and chat_id.lstrip("-").isdigit()):
        n = int(chat_id)
        if n < 0:
            s = str(-n)
            return s[3:] if s.startswith("100") and len(s) > 10 else s
        return str(n)
    return peer_id(chat_id) or str(chat_id)


def plain_text(text) -> str | None:
    if text is None:
        return None
    if isinstance(text, str):
        return text
    return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in text)


def _children(b: Bundle, post_id: str, links: list[str], tags: list[str], mentions: list[tuple[str, str | None]]):
    seen = set()
    pos = 0
    for u in links:
        if u and u not in seen:
            seen.add(u)
            b.add("post_urls", url_row(PLATFORM, post_id, pos, u))
            pos += 1
    seen_tags = set()
    for t in tags:
        t = t.lstrip("#＃")
        if t and t.lower() not in seen_tags:
            seen_tags.add(t.lower())
            b.add("post_hashtags", {"platform": PLATFORM, "post_id": post_id, "tag": t, "tag_norm": t.lower()})
    seen_m = set()
    for h, aid in mentions:
        h = h.lstrip("@")
        if h and h.lower() not in seen_m:
            seen_m.add(h.lower())
            b.add("post_mentions", {"platform": PLATFORM, "post_id": post_id, "handle": h, "handle_norm": h.lower(),
                                    "account_id": aid})


def chat_account(chat: dict) -> dict:
    """The accounts row of a Desktop export's chat ({name, type, id})."""
    return {"platform": PLATFORM, "account_id": chat_key(chat["id"]), "display_name": chat.get("name") or None,
            "labels": [chat["type"]] if chat.get("type") else None}


def desktop_message(m: dict, chat: dict, captured_at: datetime) -> Bundle:
    """One message of a Telegram Desktop export; `chat` is the export's {name, type, id}. Service messages -> empty."""
    b = Bundle()
    if m.get("type", "message") != "message":
        return b
    chat_id = chat_key(chat["id"])
    post_id = f"{chat_id}/{m['id']}"
    created = parse_time(m.get("date_unixtime"), "date_unixtime") or parse_time(m.get("date"), "date")
    if created is None:
        raise RecordError(f"message {m.get('id')} without date")
    author = peer_id(m.get("from_id")) or chat_id
    b.add("accounts", chat_account(chat))
    if author != chat_id:
        b.add("accounts", {"platform": PLATFORM, "account_id": author, "display_name": m.get("from") or None})
    row = {"platform": PLATFORM, "post_id": post_id, "account_id": author, "created_at": created,
           "text": plain_text(m.get("text")) or None, "kind": "post", "observed": "primary",
           "conversation_id": None, "url": None}
    if m.get("reply_to_message_id") is not None:
        reply_chat = chat_key(m["reply_to_peer_id"]) if m.get("reply_to_peer_id") else chat_id
        ref = f"{reply_chat}/{m['reply_to_message_id']}"
        row.update(kind="reply", ref_post_id=ref, reply_to_post_id=ref)
    if m.get("forwarded_from") is not None or m.get("forwarded_from_id") is not None:
        row.update(kind="repost", ref_post_id=None, ref_account_id=peer_id(m.get("forwarded_from_id")))
    b.add("posts", row)
    links, tags, mentions = [], [], []
    for e in m.get("text_entities") or []:
        t = e.get("type")
        if t == "link":
            links.append(e.get("text", "").strip())
        elif t == "text_link" and e.get("href"):
            links.append(e["href"])
        elif t == "hashtag":
            tags.append(e.get("text", ""))
        elif t == "mention":
            mentions.append((e.get("text", ""), None))
        elif t == "mention_name":
            mentions.append((e.get("text", ""), peer_id(e["user_id"]) if e.get("user_id") is not None else None))
    _children(b, post_id, links, tags, mentions)
    pos = 0
    if m.get("photo"):
        b.add("post_media", {"platform": PLATFORM, "post_id": post_id, "position": pos, "media_type": "photo",
                             "url": m["photo"], "media_key": None, "alt_text": None})
        pos += 1
    if m.get("file"):
        b.add("post_media", {"platform": PLATFORM, "post_id": post_id, "position": pos,
                             "media_type": _MEDIA.get(m.get("media_type"), "other"), "url": m["file"],
                             "media_key": None, "alt_text": None})
    reactions = [parse_int(r.get("count")) or 0 for r in m.get("reactions") or []]
    if reactions or m.get("views") is not None:
        b.add("post_metrics", {"platform": PLATFORM, "post_id": post_id, "captured_at": captured_at,
                               "likes": sum(reactions) if reactions else None,
                               "views": parse_int(m.get("views")), "reposts": parse_int(m.get("forwards"))})
    return b


def telethon_message(m: dict, captured_at: datetime) -> Bundle:
    """One Telethon-style message dict ({message_id, sender_id, text, date, channel, ...})."""
    b = Bundle()
    sender = m.get("sender_id")
    chat_raw = m.get("channel_id") or m.get("chat_id")
    peer = m.get("peer_id")
    if chat_raw is None and isinstance(peer, dict):  # Telethon to_dict(): {"_": "PeerChannel", "channel_id": N}
        chat_raw = peer.get("channel_id") or peer.get("chat_id")
    if chat_raw is None and isinstance(sender, int) and sender < 0:
        chat_raw = sender
    if chat_raw is None:
        raise RecordError("cannot tell the channel: no channel_id/peer_id and the sender is not a channel")
    chat_id = chat_key(chat_raw)
    msg_id = m.get("message_id", m.get("id"))
    if msg_id is None:
        raise RecordError("message without message_id")
    post_id = f"{chat_id}/{msg_id}"
    created = parse_time(m.get("date"), "date")
    if created is None:
        raise RecordError(f"message {msg_id} without date")
    author = peer_id(sender) if sender is not None else chat_id
    name = m.get("channel") if isinstance(m.get("channel"), str) else None
    b.add("accounts", {"platform": PLATFORM, "account_id": chat_id, "display_name": name,
                       "handle": m.get("channel_username") or m.get("username") or None})
    if author != chat_id:
        b.add("accounts", {"platform": PLATFORM, "account_id": author})
    text = m.get("text") if m.get("text") is not None else m.get("message")
    row = {"platform": PLATFORM, "post_id": post_id, "account_id": author, "created_at": created, "text": text,
           "kind": "post", "observed": "primary"}
    reply_to = m.get("reply_to_msg_id") or m.get("reply_to_message_id")
    if reply_to:
        row.update(kind="reply", ref_post_id=f"{chat_id}/{reply_to}", reply_to_post_id=f"{chat_id}/{reply_to}")
    fwd = m.get("fwd_from") or m.get("forward")
    if fwd:
        ref_acc, ref_post = None, None
        if isinstance(fwd, dict):
            src = fwd.get("from_id")
            if isinstance(src, dict):
                ref_acc = str(src["channel_id"]) if src.get("channel_id") else (
                    f"user{src['user_id']}" if src.get("user_id") else None)
            else:
                ref_acc = peer_id(src)
            if ref_acc and fwd.get("channel_post"):
                ref_post = f"{ref_acc}/{fwd['channel_post']}"
        row.update(kind="repost", ref_post_id=ref_post, ref_account_id=ref_acc)
    b.add("posts", row)
    links = []
    rest = text or ""
    for _label, url in _MD_LINK.findall(rest):
        links.append(url)
    rest = _MD_LINK.sub(lambda mm: f" {mm.group(1)} ", rest)
    for u in urls_in_text(rest):
        u = re.sub(r"(\*\*|__|~~|`)+$", "", u)  # markdown emphasis closing right after a bare URL
        links.append(u)
    _children(b, post_id, links, hashtags_in_text(text), [(h, None) for h in mentions_in_text(text)])
    if m.get("views") is not None or m.get("forwards") is not None:
        b.add("post_metrics", {"platform": PLATFORM, "post_id": post_id, "captured_at": captured_at,
                               "views": parse_int(m.get("views")), "reposts": parse_int(m.get("forwards"))})
    return b
