"""Tests for attachment_pipeline.polychoric: lavaan / psych reference values, known truths, bad input.

Reference values: tests/r/polychoric_reference.R (lavaan 0.6-14, psych 2.2.9) wrote
tests/reference/polychoric_<set>.json from the shipped data (data/raw/demo, data/raw/ecr_5point,
tests/data/polychoric_*.csv); ``load_set`` below applies the same recoding. The suite does not need R.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri
from scipy.stats import multivariate_normal

from attachment_pipeline import polychoric as PC
from test_factors import load_items

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "reference"
LAVAAN_SETS = ("demo7_listwise", "demo7_pairwise", "ecr5_listwise", "ecr5_pairwise", "binary_listwise",
               "binary_pairwise", "edge_listwise", "edge_pairwise")
ALL_SETS = LAVAAN_SETS + ("demo7_all", "nonpd")


# ------------------------------------------------------------------------------ helpers
def _float(v):
    """JSON numbers, with jsonlite's "Inf" / "-Inf" strings, as a float array."""
    conv = np.vectorize(lambda s: float(s.replace("Inf", "inf")) if isinstance(s, str) else float(s),
                        otypes=[float])
    return conv(np.array(v, dtype=object))


def load_set(name: str) -> pd.DataFrame:
    """All candidate columns of a reference set, recoded as tests/r/polychoric_reference.R does."""
    if name.startswith("demo7"):
        return load_items("demo")[0]
    if name.startswith("ecr5"):
        return load_items("ecr_5point")[0]
    if name.startswith("binary"):
        return pd.read_csv(REPO / "data/raw/demo/responses.csv")[[f"mm_{k}" for k in range(1, 23)]]
    if name.startswith("edge"):
        return pd.read_csv(REPO / "tests/data/polychoric_edge.csv")
    return pd.read_csv(REPO / "tests/data/polychoric_nonpd.csv")


@pytest.fixture(scope="module", params=ALL_SETS)
def ref_set(request):
    name = request.param
    ref = json.loads((REFERENCE / f"polychoric_{name}.json").read_text())
    path = REPO / ref["meta"]["data_file"]
    assert hashlib.md5(path.read_bytes()).hexdigest() == ref["meta"]["data_md5"], (
        f"{path} changed since the R reference values were made; rerun "
        "`Rscript tests/r/polychoric_reference.R` and commit tests/reference/polychoric_*.json."
    )
    x = load_set(name)[ref["items"]]
    return name, ref, x


@pytest.fixture(scope="module")
def lavaan_results():
    """ordinal_moments of every lavaan reference set (computed once)."""
    out = {}
    for name in LAVAAN_SETS:
        ref = json.loads((REFERENCE / f"polychoric_{name}.json").read_text())
        x = load_set(name)[ref["items"]]
        out[name] = (ref, PC.ordinal_moments(x, missing=ref["missing"]))
    return out


def simulate(n, rho_matrix, cuts, rng):
    """Ordinal data from cutting multivariate normals at known thresholds (codes 1..K)."""
    p = rho_matrix.shape[0]
    z = rng.multivariate_normal(np.zeros(p), rho_matrix, size=n, method="cholesky")
    return pd.DataFrame({f"y{j + 1}": np.searchsorted(cuts[j], z[:, j]) + 1 for j in range(p)})


# ------------------------------------------------------------------- agreement with lavaan
@pytest.mark.parametrize("name", LAVAAN_SETS)
def test_lavaan_sample_statistics(lavaan_results, name):
    ref, m = lavaan_results[name]
    lav = ref["lavaan"]
    assert m.n == lav["nobs"]
    assert list(m.stat_names) == lav["gamma_names"]
    assert list(m.stat_names[:len(lav["th_names"])]) == lav["th_names"]
    np.testing.assert_allclose(m.threshold_vector, _float(lav["th"]), rtol=0, atol=1e-10)
    np.testing.assert_allclose(m.corr, _float(lav["cor"]), rtol=0, atol=1e-6)  # nlminb: ~3e-8


@pytest.mark.parametrize("name", LAVAAN_SETS)
def test_lavaan_gamma_and_dwls_weight(lavaan_results, name):
    ref, m = lavaan_results[name]
    lav = ref["lavaan"]
    gamma = _float(lav["gamma"])
    # relative to the largest element: the scale of Gamma (lavaan's nlminb leaves ~1e-8)
    assert np.abs(m.gamma - gamma).max() / np.abs(gamma).max() < 1e-6
    big = np.abs(gamma) > 1e-3 * np.abs(gamma).max()  # elementwise where it is meaningful (~1e-6)
    np.testing.assert_allclose(m.gamma[big], gamma[big], rtol=1e-5)
    np.testing.assert_allclose(m.wls_weight, _float(lav["wls_v_diag"]), rtol=1e-6)
    np.testing.assert_array_equal(m.gamma, m.gamma.T)


@pytest.mark.parametrize("name", LAVAAN_SETS)
def test_wls_obs_is_lavaans_order(lavaan_results, name):
    ref, m = lavaan_results[name]
    lav = ref["lavaan"]
    p = len(m.items)
    cor = _float(lav["cor"])
    vech = np.array([cor[i, j] for j in range(p) for i in range(j + 1, p)])
    np.testing.assert_allclose(m.wls_obs, np.concatenate([_float(lav["th"]), vech]), atol=1e-6)
    pairs = [n for n in m.stat_names if "~~" in n]
    assert pairs == [f"{m.items[j]}~~{m.items[i]}" for j in range(p) for i in range(j + 1, p)]


@pytest.mark.parametrize("name", LAVAAN_SETS + ("demo7_all",))
def test_lavcor_thresholds_and_correlations(name):
    ref = json.loads((REFERENCE / f"polychoric_{name}.json").read_text())
    x = load_set(name)[ref["items"]]
    m = PC.ordinal_moments(x, missing=ref["missing"], gamma=False)
    assert m.gamma is None and m.wls_weight is None
    np.testing.assert_allclose(m.threshold_vector, _float(ref["lavcor"]["th"]), rtol=0, atol=1e-10)
    np.testing.assert_allclose(m.corr, _float(ref["lavcor"]["cor"]), rtol=0, atol=1e-6)


def test_psych_polychoric(ref_set):
    name, ref, x = ref_set
    if ref.get("missing") == "listwise":
        x = x.dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # psych's own warnings (global = FALSE, smoothing)
        res = PC.psych_polychoric(x)
    np.testing.assert_allclose(res.rho, _float(ref["psych"]["rho"]), rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.tau, _float(ref["psych"]["tau"]), rtol=0, atol=1e-10)
    assert res.items == tuple(ref["items"])
    assert res.global_thresholds == (not name.startswith("edge"))
    assert res.smoothed == (name == "nonpd")


def test_psych_smoothing_and_unsmoothed_matrix():
    ref = json.loads((REFERENCE / "polychoric_nonpd.json").read_text())
    x = load_set("nonpd")
    raw = PC.psych_polychoric(x, smooth=False)
    np.testing.assert_allclose(raw.rho, _float(ref["psych"]["rho_unsmoothed"]), atol=1e-8)
    assert np.linalg.eigvalsh(raw.rho).min() < 0
    with pytest.warns(UserWarning, match="not positive definite"):
        res = PC.psych_polychoric(x)
    assert res.smoothed and np.linalg.eigvalsh(res.rho).min() > 0


def test_psych_exact_option_is_the_maximum_psych_approximates():
    ref = json.loads((REFERENCE / "polychoric_demo7_listwise.json").read_text())
    x = load_set("demo7_listwise")[ref["items"]].dropna()
    exact = PC.psych_polychoric(x, exact=True).rho
    np.testing.assert_allclose(exact, _float(ref["psych"]["rho"]), atol=1e-4)
    # complete data: psych's global thresholds are lavaan's, so the exact maxima coincide
    np.testing.assert_allclose(exact, PC.ordinal_moments(x, gamma=False).corr, atol=1e-10)


def test_edge_cases_reach_lavaans_special_cases(lavaan_results):
    ref, m = lavaan_results["edge_pairwise"]
    # e1 uses codes 1,2,3,5,6,7: five thresholds, as lavaan's factor coding gives
    assert m.levels[0] == (1, 2, 3, 5, 6, 7) and len(m.thresholds[0]) == 5
    # e3, e4 split 150/150 with no missing answers: thresholds exactly 0, closed form
    i3, i4 = m.items.index("e3"), m.items.index("e4")
    assert m.thresholds[i3][0] == 0 and m.thresholds[i4][0] == 0
    p11 = ((load_set("edge")["e3"] == 0) & (load_set("edge")["e4"] == 0)).mean()
    assert m.corr[i3, i4] == pytest.approx(-np.cos(2 * np.pi * p11), abs=1e-15)
    # e3 x e5 has one empty cell: corrected as lavaan does (checked against R above); flagged
    assert ("e3", "e5") in m.zero_cell_pairs
    assert m.n_pairs[i3, i4] == 300 and m.n_pairs[0, 0] == 267


# --------------------------------------------------------------------- bivariate normal
def test_bvn_cdf_matches_scipy_to_1e12():
    rng = np.random.default_rng(1)
    h = np.concatenate([rng.normal(0, 1.5, 150), [0, 0, -3, 3, 5, -5, 8, -8, 0.5, -0.5]])
    k = np.concatenate([rng.normal(0, 1.5, 150), [0, 1, 3, -3, 5, -5, -8, 8, 0.5, -0.5]])
    rho = np.concatenate([rng.uniform(-1, 1, 150), [0.0, 0.99999, -0.99999, 0.95, -0.95, 0.925,
                                                     -0.925, 0.3, 0.9999999, -0.5]])
    got = PC.bvn_cdf(h, k, rho)
    want = np.array([multivariate_normal.cdf([a, b], mean=[0, 0], cov=[[1, r], [r, 1]])
                     for a, b, r in zip(h, k, rho)])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(-6, 6), st.floats(-6, 6), st.floats(-0.9999, 0.9999))
def test_bvn_cdf_properties(h, k, r):
    p = PC.bvn_cdf(h, k, r)
    assert 0 <= p <= min(PC.bvn_cdf(h, np.inf, r), PC.bvn_cdf(np.inf, k, r)) + 1e-15
    assert PC.bvn_cdf(k, h, r) == pytest.approx(p, abs=1e-14)  # symmetry
    # P(X <= h, Y <= k) + P(X <= h, Y > k) = Phi(h), with P(X <= h, -Y < -k) at -r
    assert p + PC.bvn_cdf(h, -k, -r) == pytest.approx(float(PC.bvn_cdf(h, np.inf, 0)), abs=1e-14)


def test_bvn_cdf_limits_and_known_values():
    assert PC.bvn_cdf(0, 0, 0.5) == pytest.approx(1 / 3, abs=1e-15)
    assert PC.bvn_cdf(0, 0, -0.5) == pytest.approx(1 / 6, abs=1e-15)
    assert PC.bvn_cdf(0.3, -0.2, 0) == pytest.approx(float(PC.bvn_cdf(0.3, np.inf, 0) * PC.bvn_cdf(-0.2, np.inf, 0)),
                                                     abs=1e-15)
    assert PC.bvn_cdf(0.3, 0.7, 1.0) == pytest.approx(float(PC.bvn_cdf(0.3, np.inf, 0)), abs=1e-15)
    assert PC.bvn_cdf(0.3, 0.7, -1.0) == pytest.approx(float(PC.bvn_cdf(0.3, np.inf, 0) + PC.bvn_cdf(0.7, np.inf, 0)
                                                             - 1), abs=1e-15)
    assert PC.bvn_cdf(-np.inf, 1, 0.2) == 0 and PC.bvn_cdf(np.inf, np.inf, 0.2) == 1
    assert PC.bvn_cdf([[0.0], [1.0]], [0.0, 1.0, 2.0], 0.4).shape == (2, 3)


def test_bvn_pdf_integrates_to_the_cdf():
    h, k, r = 0.4, -0.3, 0.6
    eps = 1e-4  # d2F / dh dk = phi2 (central differences)
    num = (PC.bvn_cdf(h + eps, k + eps, r) - PC.bvn_cdf(h - eps, k + eps, r)
           - PC.bvn_cdf(h + eps, k - eps, r) + PC.bvn_cdf(h - eps, k - eps, r)) / (4 * eps * eps)
    assert float(PC.bvn_pdf(h, k, r)) == pytest.approx(float(num), rel=1e-6)
    # Plackett: dF / drho = phi2
    assert float(PC.bvn_pdf(h, k, r)) == pytest.approx(
        float((PC.bvn_cdf(h, k, r + eps) - PC.bvn_cdf(h, k, r - eps)) / (2 * eps)), rel=1e-7)


# ----------------------------------------------------------------- known truth (simulation)
def test_recovers_rho_and_thresholds_of_cut_normals():
    rng = np.random.default_rng(11)
    R = np.array([[1, 0.6, -0.3, 0.2], [0.6, 1, 0.1, 0.85], [-0.3, 0.1, 1, 0.0], [0.2, 0.85, 0.0, 1]])
    cuts = [np.array([-1.5, -0.5, 0.2, 1.1]), np.array([-0.8, 0.0, 0.8]), np.array([0.4]),
            np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 2.5])]
    n = 100_000
    m = PC.ordinal_moments(simulate(n, R, cuts, rng))
    se = np.sqrt(np.diag(m.gamma) / n)  # the estimates' own standard errors
    vech = [R[i, j] for j in range(4) for i in range(j + 1, 4)]
    truth = np.concatenate([np.concatenate(cuts), vech])
    z = (m.wls_obs - truth) / se
    assert np.abs(z).max() < 4, z


def test_gamma_diagonal_matches_monte_carlo_variance():
    rng = np.random.default_rng(2026)
    R = np.array([[1, 0.5, 0.3], [0.5, 1, 0.7], [0.3, 0.7, 1]])
    cuts = [np.array([-1.0, 0.0, 1.0]), np.array([-0.5, 0.6]), np.array([0.3])]
    n, reps = 400, 300
    est, diag = [], []
    for _ in range(reps):
        m = PC.ordinal_moments(simulate(n, R, cuts, rng))
        est.append(m.wls_obs)
        diag.append(np.diag(m.gamma))
    ratio = np.var(est, axis=0, ddof=1) * n / np.mean(diag, axis=0)
    # 300 replications: the variance ratio has a relative standard error of about 8 %
    assert abs(ratio.mean() - 1) < 0.08, ratio
    assert np.all((ratio > 0.75) & (ratio < 1.3)), ratio


def test_gamma_off_diagonal_matches_monte_carlo_covariance():
    """The full matrix, not only its diagonal: correlation structure of the estimates."""
    rng = np.random.default_rng(77)
    R = np.array([[1, 0.6], [0.6, 1]])
    cuts = [np.array([-0.5, 0.5]), np.array([0.0, 1.0])]
    n, reps = 500, 300
    est, gam = [], []
    for _ in range(reps):
        m = PC.ordinal_moments(simulate(n, R, cuts, rng))
        est.append(m.wls_obs)
        gam.append(m.gamma)
    mc = np.corrcoef(np.array(est).T)
    g = np.mean(gam, axis=0)
    theo = g / np.sqrt(np.outer(np.diag(g), np.diag(g)))
    assert np.abs(mc - theo).max() < 0.12  # 300 replications: SE of a correlation <= 0.06


def test_polychoric_fit_is_the_likelihood_maximum():
    rng = np.random.default_rng(5)
    freq = rng.integers(0, 30, size=(40, 4, 3)).astype(float)
    freq[:, 0, 0] += 1  # no empty row / column
    t1 = np.sort(rng.normal(size=(40, 3)), axis=1)
    t2 = np.sort(rng.normal(size=(40, 2)), axis=1)
    rho = PC.polychoric_fit(freq, t1, t2)
    e1, e2 = PC._bounds(t1), PC._bounds(t2)

    def loglik(r):
        pi, _, _ = PC._cell_model(e1, e2, np.clip(r, -0.999, 0.999), second=False)
        return (freq * np.log(np.maximum(pi, 1e-300))).sum(axis=(1, 2))

    best = loglik(rho)
    for delta in (1e-4, -1e-4, 1e-2, -1e-2):
        assert np.all(best >= loglik(rho + delta) - 1e-9)


# ------------------------------------------------------------------- invariances, groups
def test_row_order_and_code_values_do_not_matter():
    rng = np.random.default_rng(3)
    x = simulate(500, np.array([[1, 0.4, 0.2], [0.4, 1, 0.5], [0.2, 0.5, 1]]),
                 [np.array([-1, 0, 1.0]), np.array([0.0]), np.array([-0.5, 0.5])], rng).astype(float)
    x = x.mask(rng.random(x.shape) < 0.05)
    for missing in ("listwise", "pairwise"):
        a = PC.ordinal_moments(x, missing=missing)
        b = PC.ordinal_moments(x.sample(frac=1, random_state=1), missing=missing)
        c = PC.ordinal_moments(x * 10 - 3, missing=missing)  # other codes, same order
        for other in (b, c):
            np.testing.assert_array_equal(a.corr, other.corr)
            np.testing.assert_array_equal(a.gamma, other.gamma)
            np.testing.assert_array_equal(a.threshold_vector, other.threshold_vector)
        assert c.levels[1] == (7, 17)


def test_item_order_permutes_the_results():
    rng = np.random.default_rng(4)
    x = simulate(800, np.array([[1, 0.4, 0.2], [0.4, 1, 0.5], [0.2, 0.5, 1]]),
                 [np.array([-1, 0, 1.0]), np.array([0.0]), np.array([-0.5, 0.5])], rng)
    a = PC.ordinal_moments(x)
    b = PC.ordinal_moments(x[["y3", "y1", "y2"]])
    perm = [2, 0, 1]
    np.testing.assert_allclose(b.corr, a.corr[np.ix_(perm, perm)], atol=1e-12)
    idx = {name: k for k, name in enumerate(a.stat_names)}

    def key(name):
        if "~~" in name:
            u, v = name.split("~~")
            return f"{v}~~{u}" if f"{v}~~{u}" in idx else name
        return name
    np.testing.assert_allclose(b.gamma, a.gamma[np.ix_([idx[key(s)] for s in b.stat_names],
                                                       [idx[key(s)] for s in b.stat_names])],
                               rtol=1e-9, atol=1e-12)


def test_pairwise_equals_listwise_without_missing_answers():
    rng = np.random.default_rng(8)
    x = simulate(600, np.array([[1, 0.3], [0.3, 1]]), [np.array([-1, 0, 1.0]), np.array([0.5])], rng)
    a, b = PC.ordinal_moments(x), PC.ordinal_moments(x, missing="pairwise")
    np.testing.assert_array_equal(a.gamma, b.gamma)
    assert a.n == b.n == 600 and a.n_excluded == 0


def test_counts_per_statistic_and_excluded_rows():
    x = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3, np.nan, 1, 2, np.nan],
                      "b": [1, 1, 2, 2, 1, 2, 1, np.nan, 2, np.nan],
                      "c": [0, 1, 1, 0, 1, 0, 1, 0, np.nan, np.nan]})
    m = PC.ordinal_moments(x, missing="pairwise", gamma=False)
    assert m.n == 9 and m.n_excluded == 1
    np.testing.assert_array_equal(m.n_pairs, [[8, 7, 7], [7, 8, 7], [7, 7, 8]])
    assert dict(zip(m.stat_names, m.stat_n.tolist())) == {
        "a|t1": 8, "a|t2": 8, "b|t1": 8, "c|t1": 8, "a~~b": 7, "a~~c": 7, "b~~c": 7}
    l = PC.ordinal_moments(x, gamma=False)
    assert l.n == 6 and l.n_excluded == 4 and set(l.stat_n.tolist()) == {6}


def test_groups_share_categories_or_are_refused():
    x = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3, 1, 2], "b": [1, 2, 2, 2, 2, 1, 1, 1],
                      "g": ["m", "m", "m", "m", "f", "f", "f", "f"]})
    cats = PC.observed_categories(x[["a", "b"]])
    female = PC.ordinal_moments(x.loc[x.g == "f", ["a", "b"]], categories=cats, gamma=False)
    assert female.levels == ((1, 2, 3), (1, 2)) and female.n == 4
    x.loc[4:, "a"] = [1, 2, 1, 2]  # category 3 of a is empty among women
    cats = PC.observed_categories(x[["a", "b"]])
    with pytest.raises(ValueError, match=r"'a' has no answers in categories \[3\]"):
        PC.ordinal_moments(x.loc[x.g == "f", ["a", "b"]], categories=cats)
    # the group alone, without the sample's categories: its own two categories
    assert PC.ordinal_moments(x.loc[x.g == "f", ["a", "b"]], gamma=False).levels[0] == (1, 2)


@pytest.mark.filterwarnings("ignore:ordinal items. polychoric correlations")
def test_by_group_shares_the_samples_categories():
    x = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3, 1, 2, 1], "b": [1, 2, 2, 2, 2, 1, 1, 1, 2]})
    g = ["m", "m", "m", "m", "f", "f", "f", "f", None]
    res = PC.ordinal_moments_by_group(x, g, gamma=False)
    assert list(res) == ["f", "m"] and res["f"].n == 4 and res["m"].n == 4
    np.testing.assert_array_equal(res["m"].corr, PC.ordinal_moments(x.iloc[:4], gamma=False).corr)
    x.loc[4:7, "a"] = [1, 2, 1, 2]
    with pytest.raises(ValueError, match=r"group 'f': ordinal items: item 'a' has no answers in categories \[3\]"):
        PC.ordinal_moments_by_group(x, g)
    with pytest.raises(ValueError, match="3 labels for 9 rows"):
        PC.ordinal_moments_by_group(x, ["m", "f", "m"])


def test_listwise_deletion_emptying_a_category_is_refused_like_lavaan():
    x = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3, 1, 2], "b": [1, 2, np.nan, 2, 1, np.nan, 1, 2]})
    with pytest.raises(ValueError, match="after listwise deletion.*missing='pairwise'"):
        PC.ordinal_moments(x)
    assert len(PC.ordinal_moments(x, missing="pairwise", gamma=False).thresholds[0]) == 2


# ------------------------------------------------------------------ tetrachoric / extremes
def test_tetrachoric_two_empty_cells_gives_one_and_nan_gamma():
    x = pd.DataFrame({"a": [0, 0, 0, 1, 1, 1, 1, 0], "b": [0, 0, 0, 1, 1, 1, 1, 0],
                      "c": [0, 1, 0, 1, 0, 1, 1, 0]})
    with pytest.warns(UserWarning, match="two empty cells"):
        m = PC.ordinal_moments(x)
    assert m.corr[0, 1] == 1.0
    k = m.stat_names.index("a~~b")
    assert np.isnan(m.gamma[k]).all() and np.isfinite(m.gamma[np.ix_([0, 1, 2], [0, 1, 2])]).all()
    x["b"] = 1 - x["b"]
    with pytest.warns(UserWarning, match="set to -1"):
        assert PC.ordinal_moments(x, gamma=False).corr[0, 1] == -1.0


def test_tetrachoric_one_empty_cell_keeps_margins():
    # table a x b: [[20, 0], [10, 30]]; lavaan moves 0.5 into the empty (off-diagonal) cell keeping
    # the margins: [[19.5, 0.5], [10.5, 29.5]]
    a = np.r_[np.zeros(20), np.ones(40)]
    b = np.r_[np.zeros(20), np.zeros(10), np.ones(30)]
    m = PC.ordinal_moments(pd.DataFrame({"a": a, "b": b}), gamma=False)
    tau_a, tau_b = ndtri(20 / 60), ndtri(30 / 60)
    corrected = PC.polychoric_fit(np.array([[[19.5, 0.5], [10.5, 29.5]]]), [[tau_a]], [[tau_b]])
    assert m.corr[0, 1] == pytest.approx(corrected[0], abs=1e-12)
    assert m.zero_cell_pairs == (("a", "b"),)


def test_near_perfect_correlation_is_bounded_and_warned():
    rng = np.random.default_rng(9)
    z = rng.normal(size=2000)
    x = pd.DataFrame({"a": np.digitize(z, [-1, 0, 1]), "b": np.digitize(z + rng.normal(0, 0.01, 2000), [-1, 0, 1])})
    with pytest.warns(UserWarning, match=r"nearly\) 1.0"):
        m = PC.ordinal_moments(x)
    assert 0.99 < m.corr[0, 1] <= PC.LAVAAN_RHO_BOUND
    assert np.isfinite(m.gamma).all()
    # a table without any discordant answers: the likelihood rises to the bound
    x2 = pd.DataFrame({"a": [1, 1, 2, 2, 3, 3] * 20, "b": [1, 1, 2, 2, 3, 3] * 20})
    with pytest.warns(UserWarning):
        assert PC.ordinal_moments(x2, gamma=False).corr[0, 1] == PC.LAVAAN_RHO_BOUND


def test_single_item_gives_thresholds_only():
    m = PC.ordinal_moments(pd.DataFrame({"a": [1, 2, 2, 3, 3, 3]}))
    assert m.stat_names == ("a|t1", "a|t2") and m.gamma.shape == (2, 2) and m.corr.shape == (1, 1)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("frame, match", [
    (pd.DataFrame({"a": [1, 2.5, 3], "b": [1, 2, 1]}), r"column 'a', row 1 holds 2.5, which is not an integer"),
    (pd.DataFrame({"a": [1, 2, 3], "b": ["1", "x", "2"]}), r"column 'b', row 1 holds 'x'"),
    (pd.DataFrame({"a": [1, 2, np.inf], "b": [1, 2, 1]}), r"row 2 holds inf"),
    (pd.DataFrame({"a": [2, 2, 2], "b": [1, 2, 1]}), r"'a' has only one category \[2\]"),
    (pd.DataFrame({"a": [np.nan] * 3, "b": [1, 2, 1]}), r"no respondents left after listwise deletion"),
    (pd.DataFrame({"a": [1, 2, np.nan, np.nan], "b": [np.nan, np.nan, 1, 2]}), "no respondents left"),
])
def test_bad_input_is_refused_with_a_clear_message(frame, match):
    with pytest.raises(ValueError, match=match):
        PC.ordinal_moments(frame)


def test_item_without_answers_is_refused_pairwise():
    with pytest.raises(ValueError, match="'a' has no answers; an item needs two or more categories"):
        PC.ordinal_moments(pd.DataFrame({"a": [np.nan] * 3, "b": [1, 2, 1]}), missing="pairwise")


def test_pair_without_joint_answers_is_refused():
    x = pd.DataFrame({"a": [1, 2, np.nan, np.nan, 1], "b": [np.nan, np.nan, 1, 2, np.nan], "c": [1, 2, 1, 2, 2]})
    with pytest.raises(ValueError, match="no respondent answered both 'a' and 'b'"):
        PC.ordinal_moments(x, missing="pairwise")


def test_bad_arguments():
    x = pd.DataFrame({"a": [1, 2, 1], "b": [1, 2, 2]})
    with pytest.raises(ValueError, match="missing must be one of"):
        PC.ordinal_moments(x, missing="fiml")
    with pytest.raises(ValueError, match=r"'b', row 1 holds 2, which is not one of the item's categories \[1, 3\]"):
        PC.ordinal_moments(x, categories={"a": [1, 2], "b": [1, 3]})
    with pytest.raises(ValueError, match="no category codes given for items"):
        PC.ordinal_moments(x, categories={"a": [1, 2]})
    with pytest.raises(ValueError, match="2-D"):
        PC.ordinal_moments(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="more than max_cat = 8"):
        PC.psych_polychoric(pd.DataFrame({"a": [1, 9, 3], "b": [1, 2, 2]}))


def test_numpy_and_nullable_integer_input():
    m = PC.ordinal_moments(np.array([[1, 2], [2, 1], [1, 1], [2, 2], [2, 2]]), gamma=False)
    assert m.items == ("x1", "x2")
    x = pd.DataFrame({"a": [1, 2, None, 2, 1, 2], "b": [1, 1, 2, 2, None, 2]}, dtype="Int64")
    np.testing.assert_array_equal(PC.ordinal_moments(x, missing="pairwise").gamma,
                                  PC.ordinal_moments(x.astype(float), missing="pairwise").gamma)


# ------------------------------------------------------------------------------ psych bits
def test_psych_drops_items_without_variance():
    x = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3], "b": [1, 1, 2, 2, 3, 3], "c": [2] * 6})
    with pytest.warns(UserWarning, match="without variance"):
        res = PC.psych_polychoric(x)
    assert res.items == ("a", "b") and res.dropped == ("c",)


def test_cor_smooth_follows_psych():
    r = np.array([[1, 0.9, 0.9], [0.9, 1, 0.1], [0.9, 0.1, 1]])
    s, changed = PC.cor_smooth(r)
    assert changed and np.allclose(np.diag(s), 1) and np.linalg.eigvalsh(s).min() > 0
    same, changed = PC.cor_smooth(np.eye(3))
    assert not changed and same is not None


def test_brent_fmin_follows_rs_optimize_stopping_rule():
    # R: optimize(function(x) (x - 1/3)^2, c(-1, 1))$minimum = 0.3333333 (within tol)
    x = PC.brent_fmin(lambda u, idx: (u - 1 / 3) ** 2 + 0 * idx, np.array([-1.0]), np.array([1.0]),
                      np.finfo(float).eps ** 0.25)
    assert abs(x[0] - 1 / 3) < 1e-4


def test_bench_command_runs(capsys):
    PC.main(["--bench", "--n", "300", "--items", "4", "--categories", "3", "--missing-rate", "0.05"])
    assert "statistics = 14" in capsys.readouterr().out
