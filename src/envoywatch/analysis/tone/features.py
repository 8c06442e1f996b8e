"""Text preparation, technique names and the DIPROMATS reader shared by training, evaluation and scoring.

Why these choices: links carry no tone and differ in every tweet (t.co ids), so they become one token;
@handles are replaced by '@user' so that the model learns the style, not who is addressed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w{1,30}")
_SPACE = re.compile(r"\s+")

# DIPROMATS 2023 fine-grained labels -> short technique names (the model's `reasons`).
# Labels not listed (appeal to false authority, bandwagoning, scapegoating, absurdity appeal) are rare
# (< 25 tweets across both splits): they count for the binary label but get no classifier of their own.
TECHNIQUES = {
    "3 loaded language": "loaded_language",
    "2 discrediting the opponent - undiplomatic assertiveness/whataboutism": "whataboutism",
    "1 appeal to commonality - flag waving": "flag_waving",
    "2 discrediting the opponent - propaganda slinging": "propaganda_slinging",
    "2 discrediting the opponent - name calling": "name_calling",
    "2 discrediting the opponent - fear appeals (destructive)": "fear_appeals",
    "1 appeal to commonality - ad populum": "ad_populum",
    "2 discrediting the opponent - demonization": "demonization",
    "2 discrediting the opponent - doubt": "doubt",
}
NO_TECHNIQUE = "false"


def prepare(text: str) -> str:
    """The text the model sees: links -> 'URL', handles -> '@user', whitespace collapsed."""
    text = _URL.sub(" URL ", text)
    text = _MENTION.sub("@user", text)
    return _SPACE.sub(" ", text).strip()


@dataclass
class LabelledSet:
    texts: list[str]
    labels: list[list[str]]          # DIPROMATS fine-grained labels per tweet ('false' = no technique)
    meta: list[dict]                 # country, user_name, tweet_type, language

    @property
    def binary(self) -> list[int]:
        return [is_propaganda(v) for v in self.labels]

    def technique(self, name: str) -> list[int]:
        return [int(any(TECHNIQUES.get(v) == name for v in vs)) for vs in self.labels]

    def subset(self, idx) -> "LabelledSet":
        return LabelledSet([self.texts[i] for i in idx], [self.labels[i] for i in idx], [self.meta[i] for i in idx])

    def __len__(self) -> int:
        return len(self.texts)

    @staticmethod
    def concat(*sets: "LabelledSet") -> "LabelledSet":
        out = LabelledSet([], [], [])
        for s in sets:
            out.texts += s.texts
            out.labels += s.labels
            out.meta += s.meta
        return out


def is_propaganda(values: list[str]) -> int:
    """DIPROMATS task 1: a tweet is propaganda when it has at least one technique label.
    ('false' alone, or no label at all (one English tweet), is not propaganda.)"""
    return int(any(v != NO_TECHNIQUE for v in values))


def read_dipromats(path: str | Path, limit: int | None = None) -> LabelledSet:
    """Read a DIPROMATS 2023 JSON array (fields text, value, country, user_name, tweet_type, language)."""
    rows = json.loads(Path(path).read_text(encoding="utf-8"))
    if limit is not None:
        rows = rows[:limit]
    return LabelledSet([r["text"] for r in rows], [list(r.get("value") or []) for r in rows],
                       [{k: r.get(k) for k in ("country", "user_name", "tweet_type", "language")} for r in rows])
