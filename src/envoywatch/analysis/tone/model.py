"""The tone model: TF-IDF word and character n-grams and linear classifiers, one binary propaganda
classifier and one classifier per technique, all over the same features.

The binary classifier is an ensemble of logistic regression and NB-LR (logistic regression on features
scaled by naive-Bayes log-count ratios), each member's decision value divided by its spread on the training
data and averaged. Every member is linear in the same TF-IDF features, so the ensemble folds into one
coefficient row; it is then Platt-calibrated and its threshold chosen for macro-F1, both on out-of-fold
scores of an inner cross-validation over the training data (never on data the model is evaluated on).

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
    C: float = 4.0                                    # logistic regression (binary member and techniques)
    members: tuple[str, ...] = ("lr", "svm", "nblr")  # binary ensemble: lr, svm (linear SVM), nblr (NB-LR)
    nb_C: float = 1.0
    svm_C: float = 0.1
    tune: bool = True                                 # inner-CV Platt calibration + macro-F1 threshold
    inner_folds: int = 3
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
            params: Params = Params(), version: str = "dev", aux: tuple | None = None) -> "ToneModel":
        """Train on `texts`. `aux` = (texts, binary, techniques) of extra training data (e.g. another
        language) that is always in the training part of the inner folds and never used to choose the
        threshold, which is chosen on out-of-fold scores of `texts` only."""
        TfidfVectorizer, LogisticRegression, hstack = _sklearn()
        aux_texts, aux_binary, aux_techniques = aux if aux is not None else ([], [], {})
        n_main = len(texts)
        docs = [prepare(t) for t in list(texts) + list(aux_texts)]
        word = TfidfVectorizer(min_df=params.min_df, max_features=params.word_features, **WORD).fit(docs)
        char = TfidfVectorizer(min_df=params.min_df, max_features=params.char_features, **CHAR).fit(docs)
        X = hstack([word.transform(docs), char.transform(docs)]).tocsr()
        y_bin = np.concatenate([np.asarray(binary, dtype=int), np.asarray(aux_binary, dtype=int)])
        names = ["propaganda"] + [t for t in params.techniques if t in techniques]
        coef, inter = _binary_linear(X, y_bin, params)
        thresholds = [0.5]
        if params.tune and n_main >= 4 * params.inner_folds and 0 < y_bin[:n_main].sum() < n_main:
            a, b, thr = _calibrate(X, y_bin, n_main, params)
            coef, inter = coef * a, inter * a + b
            thresholds = [thr]
        coefs, inters = [coef], [inter]
        for t in names[1:]:
            y = np.concatenate([np.asarray(techniques[t], dtype=int),
                                np.asarray(aux_techniques.get(t, [0] * len(aux_texts)), dtype=int)])
            c, i = _lr(X, y, params.C)
            coefs.append(c)
            inters.append(i)
            # balanced weights put the decision point near p=0.5 whatever the base rate: fixed a priori
            thresholds.append(0.5)
        return cls(word.get_feature_names_out(), word.idf_, char.get_feature_names_out(), char.idf_,
                   np.vstack(coefs), np.array(inters), np.array(thresholds), names, version)

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


# --- training helpers (linear members folded into one coefficient row) ---------------------------------
def _lr(X, y, C: float) -> tuple[np.ndarray, float]:
    """Balanced logistic regression -> (coef, intercept); a never-firing row when y has one class only."""
    _, LogisticRegression, _ = _sklearn()
    if y.sum() == 0 or y.sum() == len(y):
        return np.zeros(X.shape[1]), -30.0
    m = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000).fit(X, y)
    return m.coef_[0].astype(np.float64), float(m.intercept_[0])


def _nblr(X, y, C: float, alpha: float = 1.0) -> tuple[np.ndarray, float]:
    """NB-LR (Wang & Manning 2012): logistic regression on X scaled by the log-count ratio r of binarized
    features; w.(x*r) = (w*r).x, so it is returned as a plain linear row over X."""
    if y.sum() == 0 or y.sum() == len(y):
        return np.zeros(X.shape[1]), -30.0
    Xb = X.copy()
    Xb.data[:] = 1.0
    p = alpha + np.asarray(Xb[y == 1].sum(0)).ravel()
    q = alpha + np.asarray(Xb[y == 0].sum(0)).ravel()
    r = np.log((p / p.sum()) / (q / q.sum()))
    w, b = _lr(X.multiply(r).tocsr(), y, C)
    return w * r, b


def _svm(X, y, C: float) -> tuple[np.ndarray, float]:
    from sklearn.svm import LinearSVC
    if y.sum() == 0 or y.sum() == len(y):
        return np.zeros(X.shape[1]), -30.0
    m = LinearSVC(C=C, class_weight="balanced", max_iter=5000).fit(X, y)
    return m.coef_[0].astype(np.float64), float(m.intercept_[0])


def _binary_linear(X, y, params: Params) -> tuple[np.ndarray, float]:
    """The binary ensemble as one linear row: each member's (coef, intercept) divided by the spread of its
    decision values on the training data, then averaged (0 stays each member's balanced decision point)."""
    rows = []
    for name in params.members:
        if name == "lr":
            w, b = _lr(X, y, params.C)
        elif name == "nblr":
            w, b = _nblr(X, y, params.nb_C)
        elif name == "svm":
            w, b = _svm(X, y, params.svm_C)
        else:
            raise ValueError(f"unknown ensemble member {name!r} (use lr, nblr, svm)")
        sd = float(np.std(X @ w + b)) or 1.0
        rows.append((w / sd, b / sd))
    return np.mean([r[0] for r in rows], axis=0), float(np.mean([r[1] for r in rows]))


def _calibrate(X, y, n_main: int, params: Params) -> tuple[float, float, float]:
    """Inner k-fold over the first n_main rows (the rest always train): out-of-fold decision values ->
    Platt scaling (a, b) and the probability threshold with the best macro-F1 on those rows."""
    from envoywatch.analysis.tone.evaluate import best_threshold, stratified_folds
    _, LogisticRegression, _ = _sklearn()
    y_main = y[:n_main]
    oof = np.zeros(n_main)
    aux_rows = np.arange(n_main, len(y))
    for test in stratified_folds(y_main, params.inner_folds, seed=1):
        train = np.concatenate([np.setdiff1d(np.arange(n_main), test), aux_rows])
        w, b = _binary_linear(X[train], y[train], params)
        oof[test] = X[test] @ w + b
    platt = LogisticRegression(C=1e4, solver="lbfgs").fit(oof.reshape(-1, 1), y_main)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    prob = 1.0 / (1.0 + np.exp(-(a * oof + b)))
    return a, b, best_threshold(y_main, prob)


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
