"""Mastodon status HTML -> plain text and links, with the standard library's HTML parser.

The text keeps line breaks (<br> -> newline, paragraphs separated by a blank line) and nothing else of
the markup: tags and attributes (onerror=..., href=javascript:...) are dropped, <script>/<style> content
is dropped whole, entities are decoded. What comes out is plain text; it is escaped where it is shown.
Links are the hrefs of <a> elements that are not mention or hashtag links (Mastodon marks those with
the classes `mention` / `hashtag`, or rel="tag").
"""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCK = {"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}
_DROP = {"script", "style", "template", "iframe", "object", "noscript"}


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._drop = 0

    def handle_starttag(self, tag, attrs):
        if tag in _DROP:
            self._drop += 1
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self._block()
        elif tag == "a":
            a = dict(attrs)
            classes = (a.get("class") or "").split()
            rels = (a.get("rel") or "").split()
            href = (a.get("href") or "").strip()
            if href.lower().startswith(("http://", "https://")) and "mention" not in classes \
                    and "hashtag" not in classes and "tag" not in rels and href not in self.links:
                self.links.append(href)

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        else:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in _DROP:
            self._drop = max(0, self._drop - 1)
        elif tag in _BLOCK:
            self._block()

    def handle_data(self, data):
        if not self._drop:
            self.parts.append(data)

    def _block(self):
        if self.parts and not "".join(self.parts[-2:]).endswith("\n\n"):
            self.parts.append("\n\n")


def html_to_text(html: str | None) -> tuple[str | None, list[str]]:
    """(plain text, links) of a status's HTML content."""
    if not html:
        return (None if html is None else ""), []
    p = _Extractor()
    p.feed(html)
    p.close()
    text = "".join(p.parts)
    lines = [ln.rstrip() for ln in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text, p.links
