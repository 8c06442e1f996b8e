"""The shipped tone model: loads, scores clear examples the right way in English and Spanish, treats
hostile text as plain text; the metric and the evaluation script are right."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from envoywatch.analysis.tone import ToneModel, default_model, score_texts
from envoywatch.analysis.tone.evaluate import cross_validate, f1_binary, macro_f1
from envoywatch.analysis.tone.features import LabelledSet, is_propaganda, prepare, read_dipromats
from tests.conftest import real_path

# written for this test (not from DIPROMATS): clear cases of each side
PROPAGANDA = [
    "The US hypocrites lie shamelessly and smear China while their own racist police kill innocent people. "
    "Double standards! Shame on them!",
    "Western media spread vicious lies and fake news to demonize our great nation. Their propaganda will fail.",
    "Los medios occidentales difunden mentiras y propaganda contra nuestro pueblo. ¡Vergüenza! "
    "Hipocresía de quienes bombardean países y hablan de derechos humanos.",
]
NEUTRAL = [
    "Today the ambassador met the mayor to discuss cooperation on renewable energy and student exchanges.",
    "The embassy will be closed on Monday for the public holiday. Visa appointments resume on Tuesday.",
    "El embajador visitó la universidad y se reunió con estudiantes del programa de intercambio cultural.",
]


def test_shipped_model_loads_and_is_small():
    path = resources.files("envoywatch.analysis.tone").joinpath("tone_model.npz")
    assert path.is_file()
    assert path.stat().st_size < 5_000_000
    m = default_model()
    assert m.names[0] == "propaganda" and "loaded_language" in m.names and "whataboutism" in m.names
    assert m.version.startswith("dipromats-")


@pytest.mark.parametrize("text", PROPAGANDA)
def test_clear_propaganda_is_flagged(text):
    r = score_texts([text])[0]
    assert r.label is True and r.score >= 0.5
    assert r.reasons and all(isinstance(x, str) and x.split(":", 1)[0] in ("technique", "cue") for x in r.reasons)


@pytest.mark.parametrize("text", NEUTRAL)
def test_clear_neutral_is_not_flagged(text):
    r = score_texts([text])[0]
    assert r.label is False and r.score < 0.5


def test_scores_rank_both_sides_apart():
    scores = [r.score for r in score_texts(PROPAGANDA + NEUTRAL)]
    assert min(scores[:3]) > max(scores[3:])


def test_hostile_text_is_plain_text():
    hostile = ["<script>alert('x')</script>", "'; DROP TABLE posts; --", "\x00\x01\x1b[31m red", "",
               "   ", "🙂" * 500, "\u202eevil\u202c", "a" * 100_000, "{{ 7*7 }} ${jndi:ldap://x}", "\n\n\r\t"]
    res = score_texts(hostile)
    assert len(res) == len(hostile)
    for r in res:
        assert isinstance(r.label, bool) and 0.0 <= r.score <= 1.0 and np.isfinite(r.score)
    assert score_texts([]) == []


def test_prepare_replaces_links_and_handles():
    assert prepare("Look @SomeOne https://t.co/abc  now\nplease") == "Look @user URL now please"


def test_label_derivation():
    assert is_propaganda(["false"]) == 0
    assert is_propaganda([]) == 0
    assert is_propaganda(["3 loaded language"]) == 1
    assert is_propaganda(["1 appeal to commonality - flag waving", "3 loaded language"]) == 1


def test_macro_f1_matches_sklearn_on_toy_cases():
    from sklearn.metrics import f1_score

    cases = [([1, 0, 1, 1, 0, 0, 1], [1, 0, 0, 1, 1, 0, 1]), ([0, 0, 0, 1], [0, 0, 0, 0]),
             ([1, 1, 1], [1, 1, 1]), ([0, 1, 0, 1, 0], [1, 0, 1, 0, 1])]
    for y, p in cases:
        want = f1_score(y, p, average="macro", labels=[0, 1], zero_division=0)
        assert macro_f1(y, p) == pytest.approx(want)
    assert f1_binary([1, 0, 1, 1], [1, 1, 0, 1]) == pytest.approx(2 * 2 / (3 + 3))


def test_fit_save_load_round_trip(tmp_path):
    texts = ["you liars and hypocrites", "shameful lies of the west", "nice meeting today", "visit to the museum",
             "they lie and lie", "cooperation on trade"] * 5
    y = [1, 1, 0, 0, 1, 0] * 5
    m = ToneModel.fit(texts, y, {"loaded_language": y}, version="test")
    m.save(tmp_path / "m.npz")
    m2 = ToneModel.load(tmp_path / "m.npz")
    assert m2.version == "test" and m2.names == ["propaganda", "loaded_language"]
    np.testing.assert_allclose(m.probabilities(texts), m2.probabilities(texts), atol=2e-3)
    assert m2.score(["they lie, hypocrites"])[0].label and not m2.score(["museum visit"])[0].label


def test_bad_model_file_is_a_clear_error(tmp_path):
    from envoywatch.analysis.tone import ToneModelError

    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(ToneModelError, match="Fix: .*tone_train"):
        ToneModel.load(bad)


@pytest.mark.realdata
def test_dipromats_labels_read_as_in_the_file():
    path = real_path("diplomats", "dipromats2023_val_t3_en.json")
    rows = json.loads(path.read_text(encoding="utf-8"))     # plain json: an independent count
    want = sum(1 for r in rows if any(v != "false" for v in r["value"]))
    data = read_dipromats(path)
    assert len(data) == len(rows) and sum(data.binary) == want
    assert sum(data.technique("loaded_language")) == sum("3 loaded language" in r["value"] for r in rows)


@pytest.mark.realdata
@pytest.mark.slow
def test_evaluation_runs_on_a_small_real_sample(tmp_path):
    import importlib.util
    from pathlib import Path

    en = real_path("diplomats", "dipromats2023_val_t3_en.json")
    spec = importlib.util.spec_from_file_location("tone_eval", Path(__file__).parents[1] / "benchmarks" / "tone_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "r.json"
    res = mod.main(["--data", str(en.parent), "--limit", "240", "--folds", "3", "--protocols", "en_cv,es->en",
                    "--json", str(out)])
    assert json.loads(out.read_text())["en_cv"]["n"] == 240
    for r in res.values():
        assert 0.0 <= r["macro_f1"] <= 1.0
        assert r["macro_f1"] == pytest.approx((r["f1_propaganda"] + r["f1_not"]) / 2)
        assert "loaded_language" in r["techniques"]
    assert res["en_cv"]["positives"] == sum(read_dipromats(en, 240).binary)


def test_cross_validate_uses_disjoint_folds():
    from envoywatch.analysis.tone.evaluate import _kfold

    y = [1, 0] * 20 + [0] * 10
    folds = _kfold(y, 5, 0)
    allidx = np.concatenate(folds)
    assert sorted(allidx.tolist()) == list(range(len(y)))
    assert all(sum(np.asarray(y)[f]) == 4 for f in folds)          # stratified: 20 positives / 5 folds
    data = LabelledSet(["hate lies"] * 20 + ["hello friend"] * 30, [["3 loaded language"]] * 20 + [["false"]] * 30,
                       [{}] * 50)
    r = cross_validate(data, None, k=5)
    assert r["macro_f1"] == pytest.approx(1.0)


def test_shipped_binary_threshold_was_tuned_and_techniques_stay_at_half():
    m = default_model()
    assert m.version.startswith("dipromats-tfidf-ens-")
    # chosen by inner CV for macro-F1 on calibrated probabilities (0.355 when trained); not the 0.5 default
    assert 0.15 < m.thresholds[0] < 0.6 and m.thresholds[0] != 0.5
    assert all(t == 0.5 for t in m.thresholds[1:])
    r = score_texts(PROPAGANDA + NEUTRAL, m)
    assert all(x.label == (x.score >= m.thresholds[0]) for x in r)


def test_ensemble_members_fold_into_one_linear_row():
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    from envoywatch.analysis.tone.model import Params, _binary_linear, _lr, _nblr

    rng = np.random.default_rng(3)
    X = csr_matrix(rng.random((60, 12)) * (rng.random((60, 12)) < 0.4))
    y = (X[:, 0].toarray().ravel() + X[:, 1].toarray().ravel() + 0.3 * rng.random(60) > 0.6).astype(int)
    w, b = _nblr(X, y, 1.0)
    # the folded NB-LR row gives the same decision values as LR on the log-count-ratio-scaled features
    Xb = (X > 0).astype(float)
    p, q = 1 + np.asarray(Xb[y == 1].sum(0)).ravel(), 1 + np.asarray(Xb[y == 0].sum(0)).ravel()
    r = np.log((p / p.sum()) / (q / q.sum()))
    ref = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", max_iter=2000).fit(X.multiply(r), y)
    np.testing.assert_allclose(X @ w + b, ref.decision_function(X.multiply(r).tocsr()), rtol=1e-6, atol=1e-8)
    # the ensemble is the mean of the members' rows, each divided by the spread of its decision values
    ew, eb = _binary_linear(X, y, Params(members=("lr", "nblr"), C=2.0, nb_C=1.0))
    lw, lb = _lr(X, y, 2.0)
    s1, s2 = np.std(X @ lw + lb), np.std(X @ w + b)
    np.testing.assert_allclose(X @ ew + eb, ((X @ lw + lb) / s1 + (X @ w + b) / s2) / 2, rtol=1e-6, atol=1e-8)


def test_best_threshold_maximizes_macro_f1():
    from envoywatch.analysis.tone.evaluate import best_threshold

    y = [0, 0, 0, 0, 1, 0, 1, 1, 1, 1]
    s = [0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.6, 0.7, 0.8, 0.9]
    t = best_threshold(y, s)
    assert macro_f1(y, np.asarray(s) >= t) == pytest.approx(max(macro_f1(y, np.asarray(s) >= c) for c in s))


@pytest.mark.realdata
@pytest.mark.slow
def test_cross_validated_macro_f1_on_english_dipromats():
    """The figure of the model card (0.745 +/- 0.012 fold mean, 5 folds, English folds + all Spanish training;
    threshold chosen by inner CV inside each training fold). About 2-3 minutes of CPU."""
    en = read_dipromats(real_path("diplomats", "dipromats2023_val_t3_en.json"))
    es = read_dipromats(real_path("diplomats", "dipromats2023_train_t3_es.json"))
    r = cross_validate(en, es, k=5, with_es=True)
    assert r["macro_f1_fold_mean"] >= 0.72          # the previous shipped model (LR, threshold 0.5) gave 0.734
    assert r["macro_f1"] >= 0.72 and r["f1_propaganda"] >= 0.58
    assert len(r["thresholds"]) == 5 and all(0.1 < t < 0.7 for t in r["thresholds"])
