"""Tone: a classifier of propagandistic / confrontational posts (DIPROMATS techniques), with a label,
a score and the reasons per post, and the share of such posts per account and group over time.

    from envoywatch.analysis.tone import score_texts
    score_texts(["..."])  -> [ToneResult(label, score, reasons)]

Model card: docs/analysis/tone.md.
"""

from __future__ import annotations

from envoywatch.analysis.tone.features import TECHNIQUES, prepare
from envoywatch.analysis.tone.model import ToneModel, ToneModelError, ToneResult, default_model


def score_texts(texts: list[str], model: ToneModel | None = None) -> list[ToneResult]:
    """Score texts with the shipped model (or `model`)."""
    return (model or default_model()).score(list(texts))


__all__ = ["TECHNIQUES", "ToneModel", "ToneModelError", "ToneResult", "default_model", "prepare", "score_texts"]
