"""Telegram: archive formats and pure normalizers.

- `normalize`: Telegram Desktop export messages and Telethon-style message dicts -> Bundle
- `formats`: the FormatSpec registrations (Desktop result.json, Telethon JSON arrays)
"""

PLATFORM = "telegram"
