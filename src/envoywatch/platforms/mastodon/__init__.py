"""Mastodon (and other Mastodon-API servers): archive formats and pure normalizers.

- `normalize`: Mastodon REST API objects (Status, Account, search results) -> Bundle
- `html`: status HTML -> inert plain text and the links in it
- `formats`: the FormatSpec registrations
"""

PLATFORM = "mastodon"
