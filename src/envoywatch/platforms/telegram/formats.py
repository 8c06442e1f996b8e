"""Telegram archive formats.

- telegram-desktop-json: Telegram Desktop's "Export chat history" JSON (result.json: {name, type, id,
  messages}), or a full-account export ({chats: {list: [...]}}), each chat's messages
- telegram-telethon-json: a JSON array (or JSON lines) of Telethon-style message dicts
  ({message_id, sender_id, text, date, channel, ...}) as scrapers built on Telethon write them
"""

from __future__ import annotations

from typing import Iterator

from envoywatch.errors import ImportFormatError
from envoywatch.importers.base import (Bundle, FormatSpec, Reject, SkipFile, Sniff, Source, excerpt,
                                       iter_json_document, normalize_record, register_format)
from envoywatch.platforms.telegram import normalize

PLATFORM = "telegram"
CHAT_TYPES = {"public_channel", "private_channel", "public_supergroup", "private_supergroup", "private_group",
              "personal_chat", "bot_chat", "saved_messages"}


def _sniff_desktop(s: Sniff) -> bool:
    j = s.first_json
    if not isinstance(j, dict):
        return False
    if j.get("__partial__"):
        k = set(j["__keys__"])
        return "messages" in k and ("date_unixtime" in k or "text_entities" in k) and \
            (any(f'"type": "{t}"' in s.head or f'"type":"{t}"' in s.head for t in CHAT_TYPES) or "chats" in k)
    if isinstance(j.get("chats"), dict) and isinstance(j["chats"].get("list"), list):
        return True
    return isinstance(j.get("messages"), list) and j.get("type") in CHAT_TYPES and "id" in j


def _telethon_keys(o) -> bool:
    return isinstance(o, dict) and "message_id" in o and "date" in o and ("text" in o or "message" in o) \
        and ("channel" in o or "sender_id" in o or "peer_id" in o or "channel_id" in o)


def _sniff_telethon(s: Sniff) -> bool:
    j = s.first_json
    if isinstance(j, list):
        return bool(j) and _telethon_keys(j[0])
    if isinstance(j, dict) and j.get("__partial__"):
        k = set(j["__keys__"])
        return s.head.lstrip().startswith("[") and {"message_id", "date"} <= k and bool(
            k & {"channel", "sender_id", "peer_id", "channel_id"}) and "messages" not in k
    return _telethon_keys(j) and s.head.lstrip().startswith("{")  # JSON lines, one message per line


def _chats(doc: dict) -> list[dict]:
    if isinstance(doc.get("chats"), dict):
        out = list(doc["chats"].get("list") or [])
        out += list((doc.get("left_chats") or {}).get("list") or [])
        return out
    return [doc]


def _read_desktop(source: Source) -> Iterator[Bundle | Reject]:
    doc = iter_json_document(source)
    if not isinstance(doc, dict):
        raise ImportFormatError("not a Telegram Desktop export (expected a JSON object)", f"{source.path}:1",
                                "export with Telegram Desktop: Export chat history, format JSON")
    chats = [c for c in _chats(doc) if isinstance(c, dict) and c.get("messages")]
    if not chats:
        raise SkipFile("Telegram Desktop export without messages")
    for chat in chats:
        if chat.get("id") is None:
            yield Reject(1, f"chat '{chat.get('name')}' without an id", None)
            continue
        for i, m in enumerate(chat["messages"]):
            yield normalize_record(i + 1, m, normalize.desktop_message, m, chat, source.captured_at)


def _read_telethon(source: Source) -> Iterator[Bundle | Reject]:
    import orjson

    text = source.text()
    try:
        doc = orjson.loads(text)
        items = [(i + 1, m) for i, m in enumerate(doc if isinstance(doc, list) else [doc])]
    except orjson.JSONDecodeError:
        items = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((n, orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                if n == 1:
                    raise ImportFormatError(f"not valid JSON ({exc})", f"{source.path}:1",
                                            "check the file with python -m json.tool") from None
                yield Reject(n, f"not valid JSON ({exc}); the line may be truncated", excerpt(line))
    for line, m in items:
        yield normalize_record(line, m, normalize.telethon_message, m, source.captured_at)


register_format(FormatSpec("telegram-desktop-json", PLATFORM, "Telegram Desktop chat export (result.json)",
                           _sniff_desktop, _read_desktop, priority=30))
register_format(FormatSpec("telegram-telethon-json", PLATFORM, "Telethon-style message arrays "
                           "({message_id, sender_id, text, date, channel})", _sniff_telethon, _read_telethon,
                           priority=30))
