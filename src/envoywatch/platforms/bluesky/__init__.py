"""Bluesky (AT Protocol AppView): archive formats and pure normalizers.

- `normalize`: AppView JSON objects (postView, feedViewPost, profile views) -> Bundle
- `formats`: the FormatSpec registrations (getAuthorFeed, getPosts/getQuotes, getProfile, getFollows, getLikes)
"""

PLATFORM = "bluesky"
