"""Cluster-robust inference for respondents in couples, against R (survey, sandwich) and hand formulas."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from attachment_pipeline import inference as inf

REPO = Path(__file__).resolve().parents[1]
REF = json.loads((REPO / "tests/reference/dyads.json").read_text())["cluster"]
LONG = pd.read_csv(REPO / "tests/data/dyads_scores.csv")
P_REF = {"secure": 0.4, "preoccupied": 0.2, "dismissing": 0.2, "fearful": 0.2}


def test_cluster_correlation_agrees_with_survey():
    r = inf.cluster_correlation(LONG.anxiety, LONG.minmax_index, LONG.couple)
    assert r.n == REF["n"] and r.n_clusters == REF["n_clusters"] and r.df == REF["n_clusters"] - 1
    assert r.r == pytest.approx(REF["r"], abs=1e-12)
    assert r.se == pytest.approx(REF["r_se"], rel=1e-10)
    assert r.t == pytest.approx(r.r / r.se)
    assert r.ci_low < r.r < r.ci_high


def test_cluster_correlation_without_clusters_is_close_to_the_usual_test():
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    y = 0.2 * x + rng.normal(size=2000)
    r = inf.cluster_correlation(x, y, [None] * 2000)
    ref = stats.pearsonr(x, y)
    assert r.r == pytest.approx(ref.statistic, abs=1e-12)
    assert r.p == pytest.approx(ref.pvalue, rel=0.3)
    assert r.se == pytest.approx((1 - r.r ** 2) / np.sqrt(2000), rel=0.05)


def test_rao_scott_agrees_with_survey():
    g = inf.rao_scott_goodness_of_fit(LONG["style"], P_REF, LONG.couple)
    assert g.chi2 == pytest.approx(REF["gof_statistic"], rel=1e-12)
    assert g.scale == pytest.approx(REF["gof_scale"], rel=1e-9)
    assert g.df == pytest.approx(REF["gof_df"], rel=1e-9)
    assert g.p == pytest.approx(REF["gof_p"], rel=1e-7)
    np.testing.assert_allclose(g.design_effects, REF["gof_lambda"][:3], rtol=1e-9)
    assert g.w == pytest.approx(np.sqrt(g.chi2 / g.n))
    assert g.w_ci_low < g.w < g.w_ci_high


def test_rao_scott_without_clusters_is_pearsons_test():
    rng = np.random.default_rng(3)
    cats = rng.choice(list(P_REF), p=list(P_REF.values()), size=3000)
    g = inf.rao_scott_goodness_of_fit(cats, P_REF, [None] * 3000)
    obs = [int((cats == c).sum()) for c in P_REF]
    ref = stats.chisquare(obs, np.array(list(P_REF.values())) * 3000)
    assert g.chi2 == pytest.approx(ref.statistic)
    assert g.p == pytest.approx(ref.pvalue, rel=0.1)
    assert all(abs(d - 1) < 0.1 for d in g.design_effects)


def test_cluster_mean_difference_agrees_with_vcovcl():
    d = inf.cluster_mean_difference(LONG.anxiety, LONG.gender == "female", LONG.couple)
    assert d.difference == pytest.approx(REF["diff"], abs=1e-12)
    assert d.se == pytest.approx(REF["diff_se"], rel=1e-10)
    assert d.t == pytest.approx(REF["diff_t"], rel=1e-10)
    assert d.df == REF["n_clusters"] - 1


def test_cluster_mean_difference_in_pairs_is_the_paired_t_test():
    rng = np.random.default_rng(5)
    w = rng.normal(size=80)
    m = 0.6 * w + rng.normal(size=80) + 0.2
    y = np.column_stack([w, m]).ravel()
    g1 = np.tile([True, False], 80)
    cl = np.repeat(np.arange(80), 2)
    d = inf.cluster_mean_difference(y, g1, cl)
    ref = stats.ttest_rel(w, m)
    # CR1 with G/(G-1)(n-1)/(n-2) is the paired t up to the factor (n-1)/(n-2) in the variance
    assert d.t * np.sqrt((159 / 158)) == pytest.approx(ref.statistic, rel=1e-10)
    assert d.df == 79


def _delong(a, b):
    n1, n2 = len(a), len(b)
    psi = (a[:, None] > b[None, :]) + 0.5 * (a[:, None] == b[None, :])
    auc = psi.mean()
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return auc, np.var(v10, ddof=1) / n1 + np.var(v01, ddof=1) / n2


def test_clustered_auc_without_clusters_is_delong_and_with_pairs_counts_them():
    rng = np.random.default_rng(7)
    y = np.round(rng.normal(size=120), 1)
    g1 = np.arange(120) < 50
    res = inf.clustered_auc(y, g1, [None] * 120)
    auc, var = _delong(y[g1], y[~g1])
    assert res.auc == pytest.approx(auc)
    # G/(G-1) with G = n = 120 against the n1-1, n2-1 divisors of DeLong: equal to 2 %
    assert res.se ** 2 == pytest.approx(var, rel=0.02)
    u = stats.mannwhitneyu(y[g1], y[~g1]).statistic
    assert res.auc == pytest.approx(u / (50 * 70))


def test_weighted_holm():
    p = np.array([0.001, 0.04, 0.02, np.nan])
    np.testing.assert_allclose(inf.adjust_pvalues_weighted(p, [1, 1, 1, 1]), inf.adjust_pvalues(p, "holm"))
    # shares .01 and .04 of a family-wise .05: the first is tested at .01, the second at .04
    adj = inf.adjust_pvalues_weighted([0.009, 0.039], [0.01, 0.04])
    assert (adj < 0.05).all()
    adj = inf.adjust_pvalues_weighted([0.011, 0.06], [0.01, 0.04])
    assert not (adj < 0.05).any()
    with pytest.raises(ValueError, match="positive"):
        inf.adjust_pvalues_weighted([0.1, 0.2], [0, 1])


def test_cluster_codes_and_errors():
    codes, g = inf.cluster_codes(["a", "a", None, np.nan, "b"])
    assert codes.tolist() == [0, 0, 1, 2, 3] and g == 4
    with pytest.raises(ValueError, match="at least 3 clusters"):
        inf.cluster_correlation([1.0, 2, 3, 4], [1.0, 3, 2, 4], ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="not in the reference"):
        inf.rao_scott_goodness_of_fit(["x", "secure"], P_REF, [None, None])
