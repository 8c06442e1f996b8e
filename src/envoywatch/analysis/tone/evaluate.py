"""Cross-validated evaluation of the tone model on DIPROMATS-shaped data (see docs/analysis/tone.md).

Protocols (nothing is tuned on a test fold: the binary threshold and calibration are chosen by an inner
cross-validation inside each training fold (see model.ToneModel.fit), technique thresholds are fixed at 0.5):
- en_cv:      5-fold stratified CV on the English set, training on the other English folds;
- en_cv+es:   the same folds, training on the other English folds plus all the Spanish set;
- es->en:     train on Spanish, test on all English (cross-lingual transfer);
- en->es:     train on English, test on all Spanish.
"""

from __future__ import annotations

import numpy as np

from envoywatch.analysis.tone.features import TECHNIQUES, LabelledSet
from envoywatch.analysis.tone.model import Params, ToneModel


def f1_binary(y_true, y_pred, positive: int = 1) -> float:
    """F1 of one class (0.0 when the class is neither present nor predicted, as scikit-learn's zero_division=0)."""
    t = np.asarray(y_true) == positive
    p = np.asarray(y_pred) == positive
    tp = int((t & p).sum())
    denom = int(t.sum()) + int(p.sum())
    return 0.0 if denom == 0 else 2.0 * tp / denom


def macro_f1(y_true, y_pred) -> float:
    """Unweighted mean of the F1 of both classes (propaganda and not), as DIPROMATS ranks task 1."""
    return (f1_binary(y_true, y_pred, 1) + f1_binary(y_true, y_pred, 0)) / 2.0


def best_threshold(y_true, scores) -> float:
    """The score threshold with the best macro-F1 on (y_true, scores), searched over score quantiles;
    ties -> the middle one of the tied candidates (an optimal candidate itself, less noisy than the first)."""
    s = np.asarray(scores, dtype=float)
    cand = np.unique(np.quantile(s, np.linspace(0.2, 0.98, 157)))
    f = np.array([macro_f1(y_true, s >= t) for t in cand])
    best = cand[f >= f.max() - 1e-12]
    return float(best[len(best) // 2])


def _fit(train: LabelledSet, params: Params, aux: LabelledSet | None = None) -> ToneModel:
    techs = {t: train.technique(t) for t in params.techniques}
    extra = None
    if aux is not None and len(aux):
        extra = (aux.texts, aux.binary, {t: aux.technique(t) for t in params.techniques})
    return ToneModel.fit(train.texts, train.binary, techs, params, aux=extra)


def _predict(model: ToneModel, test: LabelledSet) -> tuple[np.ndarray, np.ndarray]:
    p = model.probabilities(test.texts)
    return p, p >= model.thresholds


def stratified_folds(y, k: int, seed: int) -> list[np.ndarray]:
    """Stratified folds (the positives and the negatives each dealt round-robin after a shuffle)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    fold = np.empty(len(y), dtype=int)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % k
    return [np.flatnonzero(fold == i) for i in range(k)]


_kfold = stratified_folds


def cross_validate(en: LabelledSet, es: LabelledSet | None, k: int = 5, seed: int = 0,
                   params: Params = Params(), with_es: bool = False) -> dict:
    """k-fold CV on `en`; with_es adds all of `es` to every training fold (as auxiliary data: it trains,
    but the threshold is chosen on English training rows only). Pooled predictions over all folds give the
    per-technique figures; the binary figure is reported pooled and as the fold mean."""
    y = np.asarray(en.binary)
    names = ["propaganda"] + list(params.techniques)
    pred = np.zeros((len(en), len(names)), dtype=bool)
    fold_f1, thresholds = [], []
    for test_idx in stratified_folds(y, k, seed):
        train_idx = np.setdiff1d(np.arange(len(en)), test_idx)
        model = _fit(en.subset(train_idx), params, es if with_es else None)
        _, hard = _predict(model, en.subset(test_idx))
        pred[test_idx] = hard
        fold_f1.append(macro_f1(y[test_idx], hard[:, 0]))
        thresholds.append(float(model.thresholds[0]))
    out = _report(en, pred, names, fold_f1)
    out["thresholds"] = thresholds
    return out


def transfer(train: LabelledSet, test: LabelledSet, params: Params = Params()) -> dict:
    model = _fit(train, params)
    _, hard = _predict(model, test)
    return _report(test, hard, model.names, None)


def _report(test: LabelledSet, pred: np.ndarray, names: list[str], fold_f1) -> dict:
    y = np.asarray(test.binary)
    out = {"n": len(test), "positives": int(y.sum()),
           "macro_f1": macro_f1(y, pred[:, 0]),
           "f1_propaganda": f1_binary(y, pred[:, 0], 1), "f1_not": f1_binary(y, pred[:, 0], 0),
           "precision": _ratio(((pred[:, 0]) & (y == 1)).sum(), pred[:, 0].sum()),
           "recall": _ratio(((pred[:, 0]) & (y == 1)).sum(), (y == 1).sum()),
           "techniques": {}}
    if fold_f1 is not None:
        out["macro_f1_fold_mean"] = float(np.mean(fold_f1))
        out["macro_f1_fold_sd"] = float(np.std(fold_f1))
    for j, name in enumerate(names[1:], 1):
        t = np.asarray(test.technique(name))
        out["techniques"][name] = {"support": int(t.sum()), "f1": f1_binary(t, pred[:, j], 1),
                                   "macro_f1": macro_f1(t, pred[:, j]),
                                   "precision": _ratio((pred[:, j] & (t == 1)).sum(), pred[:, j].sum()),
                                   "recall": _ratio((pred[:, j] & (t == 1)).sum(), t.sum())}
    return out


def _ratio(a, b) -> float:
    return float(a) / float(b) if b else 0.0


def format_report(name: str, r: dict) -> str:
    lines = [f"{name}: n={r['n']} positives={r['positives']} macro-F1={r['macro_f1']:.3f}"
             + (f" (fold mean {r['macro_f1_fold_mean']:.3f} +/- {r['macro_f1_fold_sd']:.3f})"
                if "macro_f1_fold_mean" in r else "")
             + f" F1(prop)={r['f1_propaganda']:.3f} F1(not)={r['f1_not']:.3f}"
             f" P={r['precision']:.3f} R={r['recall']:.3f}"
             + (" thresholds " + ",".join(f"{t:.3f}" for t in r["thresholds"]) if r.get("thresholds") else "")]
    for t, m in r["techniques"].items():
        lines.append(f"    {t:<20} support={m['support']:>4} F1={m['f1']:.3f} P={m['precision']:.3f} "
                     f"R={m['recall']:.3f} macro-F1={m['macro_f1']:.3f}")
    return "\n".join(lines)


__all__ = ["TECHNIQUES", "best_threshold", "cross_validate", "f1_binary", "format_report", "macro_f1",
           "stratified_folds", "transfer"]
