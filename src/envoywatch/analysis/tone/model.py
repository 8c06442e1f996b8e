"""The tone model: TF-IDF word and character n-grams + logistic regression, one binary propaganda
classifier and one classifier per technique, all over the same features.

The shipped artifact (`tone_model.npz`) holds only derived numbers: the vocabulary (n-gram strings),
the IDF weights, the coefficients and the thresholds; no training text. It is read with
`allow_pickle=False` (no code is loaded from it) and rebuilt into scikit-learn vectorizers.
Why TF-IDF and not sentence embeddings: on DIPROMATS it scored higher in cross-validation (see
docs/analysis/tone.md) and it scores ~100x faster on CPU, which the 100k-posts-in-2-minutes budget needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from envoywatch.analysis.tone.features import TECHNIQUES, prepare
from envoywatch.errors import EnvoywatchError, OptionalDependencyMissing

MODEL_FILE = "tone_model.npz"
WORD = dict(analyzer="word", ngram_range=(1, 2), lowercase=True, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
CHAR = dict(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, sublinear_tf=True)


class ToneModelError(EnvoywatchError):
    """The tone model file is missing or not one this version can read."""


@dataclass
class Params:
    word_features: int = 30000
    char_features: int = 60000
    min_df: int = 2
    C: float = 4.0
    techniques: tuple[str, ...] = tuple(TECHNIQUES.values())


@dataclass
class ToneResult:
    label: bool
    score: float
    reasons: list[str] = field(default_factory=list)


def _sklearn():
    try:
        import sklearn  # noqa: F401
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - scikit-learn is a core dependency
        raise OptionalDependencyMissing("scikit-learn", "tone", "the tone classifier") from exc
    return TfidfVectorizer, LogisticRegression, hstack


class ToneModel:
    """Scores texts: `score(texts) -> list[ToneResult]`; `probabilities(texts)` for evaluation."""

    def __init__(self, word_vocab, word_idf, char_vocab, char_idf, coef, intercept, thresholds, names, version):
        TfidfVectorizer, _, self._hstack = _sklearn()
        self.word = TfidfVectorizer(vocabulary=list(word_vocab), **WORD)
        self.word.idf_ = np.asarray(word_idf, dtype=np.float64)
        self.char = TfidfVectorizer(vocabulary=list(char_vocab), **CHAR)
        self.char.idf_ = np.asarray(char_idf, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float32)          # (1 + techniques, features); row 0 = binary
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.thresholds = np.asarray(thresholds, dtype=np.float64)
        self.names = list(names)                                 # ['propaganda', technique...]
        self.version = version
        self._n_word = len(word_vocab)
        self._word_names = list(word_vocab)

    # --- training -----------------------------------------------------------------------------------
    @classmethod
    def fit(cls, texts: list[str], binary: list[int], techniques: dict[str, list[int]],
            params: Params = Params(), version: str = "dev") -> "ToneModel":
        TfidfVectorizer, LogisticRegression, hstack = _sklearn()
        docs = [prepare(t) for t in texts]
        word = TfidfVectorizer(min_df=params.min_df, max_features=params.word_features, **WORD).fit(docs)
        char = TfidfVectorizer(min_df=params.min_df, max_features=params.char_features, **CHAR).fit(docs)
        X = hstack([word.transform(docs), char.transform(docs)]).tocsr()
        names, coefs, inters = ["propaganda"], [], []
        targets = [np.asarray(binary)] + [np.asarray(techniques[t]) for t in params.techniques if t in techniques]
        names += [t for t in params.techniques if t in techniques]
        for y in targets:
            if y.sum() == 0 or y.sum() == len(y):    # a fold without positives: a never-firing classifier
                coefs.append(np.zeros(X.shape[1]))
                inters.append(-30.0)
                continue
            # balanced weights put the decision point near p=0.5 whatever the base rate, so the threshold
            # is fixed a priori (0.5) and nothing is tuned on the evaluation folds
            m = LogisticRegression(C=params.C, class_weight="balanced", solver="liblinear", max_iter=1000)
            m.fit(X, y)
            coefs.append(m.coef_[0])
            inters.append(float(m.intercept_[0]))
        return cls(word.get_feature_names_out(), word.idf_, char.get_feature_names_out(), char.idf_,
                   np.vstack(coefs), np.array(inters), np.full(len(names), 0.5), names, version)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path, word_vocab=_pack(self.word.get_feature_names_out()), word_idf=self.word.idf_.astype(np.float32),
            char_vocab=_pack(self.char.get_feature_names_out()), char_idf=self.char.idf_.astype(np.float32),
            coef=self.coef.astype(np.float16), intercept=self.intercept, thresholds=self.thresholds,
            names=_pack(self.names), version=_pack([self.version]))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "ToneModel":
        try:
            if path is None:
                with resources.files("envoywatch.analysis.tone").joinpath(MODEL_FILE).open("rb") as fh:
                    z = dict(np.load(fh, allow_pickle=False))
            else:
                z = dict(np.load(path, allow_pickle=False))
            return cls(_unpack(z["word_vocab"]), z["word_idf"], _unpack(z["char_vocab"]), z["char_idf"],
                       z["coef"], z["intercept"], z["thresholds"], _unpack(z["names"]), _unpack(z["version"])[0])
        except (OSError, KeyError, ValueError) as exc:
            raise ToneModelError(f"cannot read the tone model ({exc})", str(path or MODEL_FILE),
                                 "reinstall envoywatch, or retrain with: python benchmarks/tone_train.py") from exc

    # --- scoring ------------------------------------------------------------------------------------
    def _matrix(self, texts: list[str]):
        docs = [prepare(t) for t in texts]
        return self._hstack([self.word.transform(docs), self.char.transform(docs)]).tocsr()

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """(n, 1 + techniques) probabilities; column 0 is the binary propaganda score."""
        if not texts:
            return np.zeros((0, len(self.names)))
        z = self._matrix(texts) @ self.coef.T.astype(np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def score(self, texts: list[str], cues: int = 3) -> list[ToneResult]:
        if not texts:
            return []
        X = self._matrix(texts)
        z = X @ self.coef.T.astype(np.float64) + self.intercept
        p = 1.0 / (1.0 + np.exp(-z))
        out = []
        for i in range(len(texts)):
            reasons = [f"technique:{n}" for j, n in enumerate(self.names[1:], 1) if p[i, j] >= self.thresholds[j]]
            if cues and p[i, 0] >= self.thresholds[0]:    # cues explain a positive label only
                reasons += [f"cue:{c}" for c in self._cues(X, i, cues)]
            out.append(ToneResult(bool(p[i, 0] >= self.thresholds[0]), float(p[i, 0]), reasons))
        return out

    def _cues(self, X, i: int, k: int) -> list[str]:
        """The word n-grams that pushed this post most towards propaganda (positive contributions)."""
        row = X.getrow(i)
        idx = row.indices[row.indices < self._n_word]
        if not len(idx):
            return []
        contrib = row[0, idx].toarray()[0] * self.coef[0, idx]
        order = np.argsort(-contrib)[:k]
        return [self._word_names[idx[j]] for j in order if contrib[j] > 0.05]


def _pack(strings) -> np.ndarray:
    """Strings -> one UTF-8 byte array ('\\n'-joined): small, and loadable without pickle."""
    data = "\n".join(str(s).replace("\n", " ") for s in strings).encode("utf-8")
    return np.frombuffer(data, dtype=np.uint8)


def _unpack(arr) -> list[str]:
    return bytes(np.asarray(arr, dtype=np.uint8)).decode("utf-8").split("\n")


_DEFAULT: ToneModel | None = None


def default_model() -> ToneModel:
    """The shipped model, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ToneModel.load()
    return _DEFAULT
