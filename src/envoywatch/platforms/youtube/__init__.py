"""YouTube: YouTube Data API v3 live collection, its saved responses as an archive format, pure normalizers.

- `client`: channels.list (handle/id) -> uploads playlist (playlistItems.list) -> videos.list, API key by
  reference (`[youtube] api_key = "env:YOUTUBE_API_KEY"`), quota units counted
- `normalize`: channel and video resources -> Bundle (pure)
- `formats`: saved API responses (videos/channels list responses) as an importable archive format
"""

PLATFORM = "youtube"
