"""Extract the real API payloads from VCR cassettes (tweepy, Mastodon.py recordings).

Cassettes are HTTP recordings, not a format users import: tests take each response body (gunzipped
where the recording kept it compressed) and feed it to the importers or serve it from a loopback server.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import yaml


def load_cassette(path: Path) -> list[dict]:
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return data.get("interactions", [])


def _body_bytes(resp: dict) -> bytes:
    body = resp.get("body", {})
    raw = body.get("string", b"") if isinstance(body, dict) else body
    if raw is None:
        return b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    headers = {k.lower(): v for k, v in (resp.get("headers") or {}).items()}
    enc = headers.get("content-encoding") or []
    if (enc and "gzip" in str(enc)) or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except OSError:
            pass
    return raw


def cassette_payloads(path: Path) -> list[tuple[str, str, int, object]]:
    """[(method, uri, status, parsed JSON body)] for every interaction with a JSON body."""
    out = []
    for it in load_cassette(Path(path)):
        req, resp = it["request"], it["response"]
        raw = _body_bytes(resp)
        if not raw.strip():
            continue
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        status = resp.get("status", {}).get("code", 200)
        out.append((req.get("method", "GET"), req.get("uri", ""), status, body))
    return out


def write_payloads(path: Path, out_dir: Path) -> list[Path]:
    """Write each JSON response body to its own file under out_dir; returns the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for i, (_, uri, status, body) in enumerate(cassette_payloads(path)):
        if status != 200:
            continue
        f = out_dir / f"{Path(path).stem}-{i:02d}.json"
        f.write_text(json.dumps(body), encoding="utf-8")
        files.append(f)
    return files
