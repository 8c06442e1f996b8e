"""CrowdTangle rows and API post objects -> Bundle. Pure functions, one record at a time.

Ids:
- Facebook post_id is the post's own numeric id: the last part of CrowdTangle's `platformId`
  ('<page id>_<post id>'), the number after /posts/ (or the last number) in a post URL, the history
  export's ID. The three exports then join on it. account_id is the page/group id (`Facebook Id`,
  `account.platformId`); the post history export names no page id, so there the account is the page's
  name in the post URL (facebook.com/<name>/posts/...), documented in docs/platforms/facebook.md.
- Instagram post_id is the shortcode of the post URL (instagram.com/p/<shortcode>/); account_id the
  username (the exports give no numeric id).

Metrics: likes = all reactions (Like + Love + Wow + Haha + Sad + Angry + Care [+ Thankful]), reposts =
shares, replies = comments, views = post views where given. Capture times: the search export's counts are
at its export time (the caller passes it: the time in the export's file name, else the file's time);
`Followers at Posting` is a snapshot at the post's creation time; API objects carry `updated`; each
history row has its `Score Date (GMT)`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from envoywatch.errors import RecordError
from envoywatch.importers.base import Bundle
from envoywatch.util.timeparse import parse_int, parse_time
from envoywatch.util.urls import hashtags_in_text, url_row, urls_in_text

# time zone abbreviations CrowdTangle puts after local times ("2021-07-05 18:02:45 BRT"), hours from UTC
TZ_OFFSETS = {
    "UTC": 0, "GMT": 0, "BRT": -3, "BRST": -2, "ART": -3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
    "MDT": -6, "PST": -8, "PDT": -7, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "MSK": 3, "IST": 5.5, "SGT": 8, "HKT": 8, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
}
_REACTIONS_CSV = ("Likes", "Love", "Wow", "Haha", "Sad", "Angry", "Care")
_REACTIONS_API = ("likeCount", "loveCount", "wowCount", "hahaCount", "sadCount", "angryCount", "thankfulCount",
                  "careCount")


def parse_local_time(value: str | None, field: str) -> datetime | None:
    """'2021-07-05 18:02:45 BRT' -> naive UTC; without a zone the value is read as UTC."""
    if not value or not value.strip():
        return None
    parts = value.strip().rsplit(" ", 1)
    if len(parts) == 2 and parts[1].isalpha():
        zone = parts[1].upper()
        if zone not in TZ_OFFSETS:
            raise RecordError(f"{field} '{value}' has an unknown time zone '{parts[1]}'")
        return parse_time(parts[0], field) - timedelta(hours=TZ_OFFSETS[zone])
    return parse_time(value, field)


def platform_of_url(url: str | None) -> str | None:
    host = (urlsplit(url or "").hostname or "").lower()
    if host.endswith("instagram.com"):
        return "instagram"
    if host.endswith("facebook.com") or host.endswith("fb.com"):
        return "facebook"
    return None


def facebook_post_id(url: str | None = None, platform_id: str | None = None) -> str | None:
    if platform_id:
        return str(platform_id).strip().rsplit("_", 1)[-1]
    if not url:
        return None
    path = urlsplit(url).path
    m = re.search(r"/(?:posts|permalink|videos|photos/[^/]+)/(\d+)", path)
    if m:
        return m.group(1)
    nums = re.findall(r"\d{6,}", path)
    return nums[-1] if nums else None


def instagram_post_id(url: str | None) -> str | None:
    m = re.search(r"instagram\.com/(?:[^/]+/)?(?:p|reel|tv)/([A-Za-z0-9_-]+)", url or "")
    return m.group(1) if m else None


def _sum(values) -> int | None:
    nums = [v for v in values if v is not None]
    return sum(nums) if nums else None


def _links_tags(b: Bundle, platform: str, post_id: str, text: str | None, links: list[tuple[str, str | None]]):
    seen = {u for u, _ in links} | {e for _, e in links if e}
    for u in urls_in_text(text):
        if u not in seen:
            links.append((u, None))
            seen.add(u)
    for i, (u, e) in enumerate(links):
        b.add("post_urls", url_row(platform, post_id, i, u, e))
    tags = {}
    for t in hashtags_in_text(text):
        tags.setdefault(t.lower(), t)
    for norm, t in tags.items():
        b.add("post_hashtags", {"platform": platform, "post_id": post_id, "tag": t, "tag_norm": norm})


def search_row(row: dict, exported_at: datetime) -> Bundle:
    """One row of a CrowdTangle search/list CSV export (Facebook or Instagram columns)."""
    b = Bundle()
    url = row.get("URL") or ""
    platform = "facebook" if "Facebook Id" in row else (platform_of_url(url) or "instagram")
    if platform == "facebook":
        account_id = (row.get("Facebook Id") or "").strip()
        post_id = facebook_post_id(url)
        name = row.get("Page Name") or row.get("Group Name")
    else:
        account_id = (row.get("User Name") or "").strip()
        post_id = instagram_post_id(url)
        name = row.get("Account") or row.get("Page Name")
    if not account_id:
        raise RecordError("row without an account id (Facebook Id / User Name)")
    if not post_id:
        raise RecordError(f"cannot read a post id from URL '{url[:80]}'")
    created = parse_local_time(row.get("Post Created") or row.get("Created"), "Post Created")
    if created is None:
        raise RecordError("row without Post Created")
    b.add("accounts", {
        "platform": platform, "account_id": account_id, "handle": (row.get("User Name") or "").strip() or None,
        "display_name": name or None, "description": row.get("Page Description") or None,
        "created_at": parse_local_time(row.get("Page Created"), "Page Created"),
        "location": row.get("Page Admin Top Country") or None,
        "url": (f"https://www.facebook.com/{account_id}" if platform == "facebook"
                else f"https://www.instagram.com/{account_id}/"),
        "labels": [row["Page Category"]] if row.get("Page Category") else None,
    })
    followers = parse_int(row.get("Followers at Posting"), "Followers at Posting")
    if followers is not None:
        b.add("account_snapshots", {"platform": platform, "account_id": account_id, "captured_at": created,
                                    "followers": followers})
    # Facebook: Message is the post's text (Description is the linked page's); Instagram: Description is the caption
    text = (row.get("Message") if platform == "facebook" else (row.get("Description") or row.get("Message"))) or None
    b.add("posts", {"platform": platform, "post_id": post_id, "account_id": account_id, "created_at": created,
                    "text": text, "kind": "post", "url": url or None, "observed": "primary"})
    link, final = row.get("Link") or None, row.get("Final Link") or None
    typ = (row.get("Type") or "").lower()
    links: list[tuple[str, str | None]] = []
    if link:
        if platform_of_url(link) and ("photo" in typ or "video" in typ or "album" in typ):
            b.add("post_media", {"platform": platform, "post_id": post_id, "position": 0,
                                 "media_type": "photo" if "photo" in typ or "album" in typ else "video",
                                 "url": link, "media_key": None, "alt_text": row.get("Image Text") or None})
        else:
            links.append((link, final if final and final != link else None))
    elif row.get("Photo"):
        b.add("post_media", {"platform": platform, "post_id": post_id, "position": 0, "media_type": "photo",
                             "url": row["Photo"], "media_key": None, "alt_text": row.get("Image Text") or None})
    _links_tags(b, platform, post_id, text, links)
    reactions = _sum(parse_int(row.get(c), c) for c in _REACTIONS_CSV if c in row)
    views = row.get("Post Views") if "Post Views" in row else row.get("Views")
    b.add("post_metrics", {"platform": platform, "post_id": post_id, "captured_at": exported_at,
                           "likes": reactions, "replies": parse_int(row.get("Comments"), "Comments"),
                           "reposts": parse_int(row.get("Shares"), "Shares"),
                           "views": parse_int(views, "Post Views")})
    return b


def history_row(row: dict, post_url: str, posted_at: datetime | None) -> Bundle:
    """One row of a CrowdTangle post history CSV (one post's counts over time)."""
    b = Bundle()
    platform = platform_of_url(post_url) or "facebook"
    post_id = (row.get("ID") or "").strip() or (facebook_post_id(post_url) if platform == "facebook"
                                                 else instagram_post_id(post_url))
    if not post_id:
        raise RecordError("row without an ID")
    captured = parse_time(row.get("Score Date (GMT)"), "Score Date (GMT)")
    if captured is None:
        raise RecordError("row without Score Date (GMT)")
    name = urlsplit(post_url).path.strip("/").split("/")[0] if post_url else None
    if not name:
        raise RecordError("the export's header names no post URL, so the page is unknown")
    b.add("accounts", {"platform": platform, "account_id": name, "handle": name,
                       "url": f"https://www.{platform}.com/{name}"})
    b.add("posts", {"platform": platform, "post_id": post_id, "account_id": name,
                    "created_at": posted_at or captured, "kind": "post", "url": post_url, "observed": "primary"})
    b.add("post_metrics", {"platform": platform, "post_id": post_id, "captured_at": captured,
                           "likes": parse_int(row.get("Reactions"), "Reactions"),
                           "replies": parse_int(row.get("Comments"), "Comments"),
                           "reposts": parse_int(row.get("Shares"), "Shares"),
                           "views": parse_int(row.get("Post Views"), "Post Views")})
    return b


def api_post(p: dict, fallback_captured_at: datetime) -> Bundle:
    """One post object of the CrowdTangle API (posts, posts/search, links endpoints)."""
    b = Bundle()
    acc = p.get("account") or {}
    platform = (p.get("platform") or acc.get("platform") or "").lower() or platform_of_url(p.get("postUrl"))
    if platform not in ("facebook", "instagram"):
        raise RecordError(f"unknown platform '{p.get('platform')}'")
    if platform == "facebook":
        post_id = facebook_post_id(p.get("postUrl"), p.get("platformId"))
        account_id = str(acc.get("platformId") or "") or str(p.get("platformId", "")).split("_")[0]
    else:
        post_id = instagram_post_id(p.get("postUrl")) or str(p.get("platformId") or "") or None
        account_id = acc.get("handle") or str(acc.get("platformId") or "")
    if not post_id or not account_id:
        raise RecordError("post without platformId/postUrl or account")
    captured = parse_time(p.get("updated"), "updated") or fallback_captured_at
    created = parse_time(p.get("date"), "date")
    if created is None:
        raise RecordError("post without date")
    b.add("accounts", {
        "platform": platform, "account_id": account_id, "handle": acc.get("handle") or None,
        "display_name": acc.get("name") or None, "url": acc.get("url") or None,
        "verified": acc.get("verified"), "profile_image_url": acc.get("profileImage") or None,
        "labels": [acc["pageCategory"]] if acc.get("pageCategory") and acc["pageCategory"] != "none" else None,
    })
    if acc.get("subscriberCount") is not None:
        b.add("account_snapshots", {"platform": platform, "account_id": account_id, "captured_at": captured,
                                    "followers": parse_int(acc.get("subscriberCount"))})
    text = p.get("message") or None
    b.add("posts", {"platform": platform, "post_id": post_id, "account_id": account_id, "created_at": created,
                    "text": text, "lang": p.get("languageCode") if p.get("languageCode") not in (None, "und") else None,
                    "kind": "post", "url": p.get("postUrl") or None, "observed": "primary"})
    links = [(e.get("original"), e.get("expanded") if e.get("expanded") != e.get("original") else None)
             for e in p.get("expandedLinks") or [] if e.get("original")]
    if p.get("link") and all(p["link"] not in (u, e) for u, e in links):
        links.append((p["link"], None))
    for i, m in enumerate(p.get("media") or []):
        b.add("post_media", {"platform": platform, "post_id": post_id, "position": i,
                             "media_type": m.get("type") if m.get("type") in ("photo", "video") else "other",
                             "url": m.get("full") or m.get("url"), "media_key": None, "alt_text": None})
    _links_tags(b, platform, post_id, text, links)
    actual = (p.get("statistics") or {}).get("actual") or {}
    if actual:
        b.add("post_metrics", {"platform": platform, "post_id": post_id, "captured_at": captured,
                               "likes": _sum(parse_int(actual.get(k)) for k in _REACTIONS_API if k in actual),
                               "reposts": parse_int(actual.get("shareCount")),
                               "replies": parse_int(actual.get("commentCount"))})
    return b
