"""Tests for attachment_pipeline.pooled: published examples, R cross-checks, null simulations, bad input.

R cross-checks: tests/r/invariance_reference.R wrote tests/reference/invariance_pooled.json from
tests/data/invariance_cohorts.csv (alphas with psych::alpha; the tests, the DerSimonian-Laird
meta-analysis and chisq.test written out in base R, since cocron and metafor are not installed).
Published values: Charter & Feldt (1996) and Feldt, Woodruff & Salih (1987) / AlphaTest, as in the
test suite of the R package cocron.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from attachment_pipeline import pooled as P
from attachment_pipeline.reliability import reliability_tables

REPO = Path(__file__).resolve().parents[1]
REF = json.loads((REPO / "tests/reference/invariance_pooled.json").read_text())
SUBSCALES = {"anxiety": [f"ecr_r_{j}" for j in range(1, 19)],
             "avoidance": [f"ecr_r_{j}" for j in range(19, 37)]}


@pytest.fixture(scope="module")
def cohorts():
    path = REPO / "tests/data/invariance_cohorts.csv"
    assert hashlib.md5(path.read_bytes()).hexdigest() == REF["meta"]["data_files"][
        "tests/data/invariance_cohorts.csv"], "data changed: rerun Rscript tests/r/invariance_reference.R"
    return pd.read_csv(path)


# ------------------------------------------------------------------------ equal alphas
def test_feldt_published_example():
    """Charter & Feldt (1996): alphas .78 (n 41) and .71 (n 151): F = 1.318 on (40, 150), one-sided p .121."""
    r = P.equal_alpha_test([0.71, 0.78], [151, 41], [10, 10])
    assert r.test == "feldt_1969"
    assert r.statistic == pytest.approx(0.29 / 0.22)
    assert (r.df, r.df2) == (40.0, 150.0)
    assert r.p / 2 == pytest.approx(0.121, abs=5e-4)
    assert r.p == pytest.approx(2 * stats.f.sf(0.29 / 0.22, 40, 150), rel=1e-12)
    # the order of the two samples does not matter for the two-sided test
    assert P.equal_alpha_test([0.78, 0.71], [41, 151], 10).p == pytest.approx(r.p, rel=1e-12)


@pytest.mark.parametrize("alphas, items, n, statistic, p", [
    # cocron's tests (Feldt, Woodruff & Salih 1987; AlphaTest by Lautenschlager & Meade 2008)
    ((.784, .875, .936), (5, 5, 5), (51, 101, 151), 22.926, None),
    ((.6, .7), (50, 100), (150, 200), 3.4535, .0631),
    ((.9, .7), (25, 30), (200, 150), 47.559, None),
    ((.9, .7, .8), (15, 15, 12), (100, 150, 130), 31.3795, None),
    ((.7, .75, .7), (10, 10, 10), (100, 120, 130), 1.0553, .59),
    ((.7, .8, .75, .77), (15, 15, 20, 20), (100, 100, 200, 200), 4.9738, .1737),
])
def test_feldt_woodruff_salih_published(alphas, items, n, statistic, p):
    r = P.equal_alpha_test(alphas, n, items, method="feldt_woodruff_salih_1987")
    decimals = len(str(statistic).split(".")[1])
    assert round(r.statistic, decimals) == statistic
    assert r.df == len(alphas) - 1 and np.isnan(r.df2)
    if p is not None:
        assert round(r.p, len(str(p).split(".")[1])) == p


def test_hakstian_whalen_by_hand():
    """Three alphas, computed step by step from the published formulas."""
    a, n, k = np.array([0.80, 0.85, 0.75]), np.array([100, 200, 150]), np.array([10, 10, 12])
    u = (1 - a) ** (1 / 3)
    v = 18 * k * (n - 1) * (1 - a) ** (2 / 3) / ((k - 1) * (9 * n - 11) ** 2)
    ubar = (u / v).sum() / (1 / v).sum()
    chi2 = ((u - ubar) ** 2 / v).sum()
    r = P.equal_alpha_test(a, n, k)
    assert r.test == "hakstian_whalen_1976"
    assert r.statistic == pytest.approx(chi2, rel=1e-12)
    assert r.p == pytest.approx(stats.chi2.sf(chi2, 2), rel=1e-12)
    # two samples with equal alphas and n: no evidence at all
    assert P.equal_alpha_test([0.8, 0.8], [100, 100], 10, method="hakstian_whalen_1976").statistic == 0


def test_alpha_tests_match_r(cohorts):
    for sub, cols in SUBSCALES.items():
        ref_alphas = REF["alphas"][sub]
        a, n, k = [], [], []
        for rec in ref_alphas:
            x = cohorts.loc[cohorts["cohort"] == rec["cohort"], cols].dropna().to_numpy(float)
            c = np.cov(x, rowvar=False)
            alpha = len(cols) / (len(cols) - 1) * (1 - np.trace(c) / c.sum())
            assert alpha == pytest.approx(rec["alpha"], abs=1e-12)
            assert len(x) == rec["n"]
            a.append(alpha), n.append(len(x)), k.append(len(cols))
        ref = REF["alpha_tests"][sub]
        feldt = P.equal_alpha_test(a[:2], n[:2], k[:2])
        for key in ("statistic", "df", "df2", "p"):
            assert getattr(feldt, key) == pytest.approx(ref["feldt_AB"][key], rel=1e-10)
        hw = P.equal_alpha_test(a, n, k)
        fws = P.equal_alpha_test(a, n, k, method="feldt_woodruff_salih_1987")
        for res, key in ((hw, "hakstian_whalen"), (fws, "fws")):
            assert res.statistic == pytest.approx(ref[key]["statistic"], rel=1e-10)
            assert res.df == ref[key]["df"]
            assert res.p == pytest.approx(ref[key]["p"], rel=1e-10)
    pub = REF["published"]
    hw = P.equal_alpha_test([.784, .875, .936], [51, 101, 151], [5, 5, 5])
    assert hw.statistic == pytest.approx(pub["hw_example"]["statistic"], rel=1e-12)


def _simulated_alphas(rng, reps, n, k, loading=0.6):
    """Sample alphas of `reps` data sets of n respondents and k parallel normal items (same population alpha)."""
    f = rng.standard_normal((reps, n, 1))
    x = loading * f + np.sqrt(1 - loading ** 2) * rng.standard_normal((reps, n, k))
    xc = x - x.mean(axis=1, keepdims=True)
    item_var = (xc ** 2).sum(axis=1) / (n - 1)
    total_var = (xc.sum(axis=2) ** 2).sum(axis=1) / (n - 1)
    return k / (k - 1) * (1 - item_var.sum(axis=1) / total_var)


def test_null_rejection_rates():
    """Under H0 (same population alpha; parallel normal items, for which (1 - alpha) / (1 - alpha_hat) is
    exactly F(n - 1, (n - 1)(k - 1)); Kristof 1963) the Hakstian-Whalen test rejects at the nominal 5%.
    Feldt's W ignores the second degrees of freedom, so with 8 items it is somewhat liberal (about 6.6%,
    what the exact F model predicts); the data simulation must reproduce that rate."""
    rng = np.random.default_rng(20261207)
    reps, k, ns = 3000, 8, (40, 300, 120)
    a1, a2, a3 = (_simulated_alphas(rng, reps, n, k) for n in ns)
    p_feldt = np.array([P.equal_alpha_test([x, y], ns[:2], k).p for x, y in zip(a1, a2)])
    p_hw = np.array([P.equal_alpha_test([x, y, z], ns, k).p for x, y, z in zip(a1, a2, a3)])
    se = np.sqrt(0.05 * 0.95 / reps)
    assert abs((p_hw < 0.05).mean() - 0.05) < 4 * se
    # Feldt's rate under the exact F model, by a large simulation of F variates
    big = 400_000
    f1 = stats.f.rvs(ns[0] - 1, (ns[0] - 1) * (k - 1), size=big, random_state=rng)
    f2 = stats.f.rvs(ns[1] - 1, (ns[1] - 1) * (k - 1), size=big, random_state=rng)
    w = f2 / f1                                       # (1 - a_1) / (1 - a_2) with 1 - a_hat = (1 - a) / F
    model_rate = np.mean(2 * np.minimum(stats.f.cdf(w, ns[1] - 1, ns[0] - 1), stats.f.sf(w, ns[1] - 1, ns[0] - 1))
                         < 0.05)
    assert 0.06 < model_rate < 0.075
    assert abs((p_feldt < 0.05).mean() - model_rate) < 4 * se
    # one-sided tails: with W's degrees of freedom in Feldt's order each tail holds about half the
    # rejections; swapped (F(n_1 - 1, n_2 - 1)) the tails are unbalanced
    w = (1 - a1) / (1 - a2)
    upper = np.mean(stats.f.sf(w, ns[1] - 1, ns[0] - 1) < 0.025)
    lower = np.mean(stats.f.cdf(w, ns[1] - 1, ns[0] - 1) < 0.025)
    assert abs(upper - lower) < 0.35 * (upper + lower)
    upper_sw = np.mean(stats.f.sf(w, ns[0] - 1, ns[1] - 1) < 0.025)
    lower_sw = np.mean(stats.f.cdf(w, ns[0] - 1, ns[1] - 1) < 0.025)
    assert abs(upper_sw - lower_sw) > abs(upper - lower)


def test_alpha_test_power():
    """Different population alphas are detected."""
    rng = np.random.default_rng(3)
    lo = _simulated_alphas(rng, 400, 200, 8, loading=0.5)
    hi = _simulated_alphas(rng, 400, 200, 8, loading=0.7)
    p = np.array([P.equal_alpha_test([x, y], [200, 200], 8).p for x, y in zip(lo, hi)])
    assert (p < 0.05).mean() > 0.95


def test_equal_alpha_bad_input():
    with pytest.raises(ValueError, match="at least two"):
        P.equal_alpha_test([0.8], [100], [10])
    with pytest.raises(ValueError, match="below 1"):
        P.equal_alpha_test([0.8, 1.0], [100, 100], 10)
    with pytest.raises(ValueError, match="n must be a whole number"):
        P.equal_alpha_test([0.8, 0.7], [100, 1], 10)
    with pytest.raises(ValueError, match="k \\(number of items\\)"):
        P.equal_alpha_test([0.8, 0.7], [100, 100], 1)
    with pytest.raises(ValueError, match="one n and one k per alpha"):
        P.equal_alpha_test([0.8, 0.7, 0.6], [100, 100], 10)
    with pytest.raises(ValueError, match="exactly two"):
        P.equal_alpha_test([0.8, 0.7, 0.6], [100, 100, 100], 10, method="feldt_1969")
    with pytest.raises(ValueError, match="method must be one of"):
        P.equal_alpha_test([0.8, 0.7], [100, 100], 10, method="bonett")


# -------------------------------------------------------------------- pooled reliability
def test_pooled_reliability_from_reliability_tables(cohorts):
    tables = {}
    for name, part in cohorts.groupby("cohort", sort=False):
        rel, _ = reliability_tables(part[[c for cols in SUBSCALES.values() for c in cols]],
                                    part[[]], SUBSCALES, instrument="ecr_r", n_boot=0)
        tables[name] = rel
    out = P.pooled_reliability(tables)
    assert tuple(out.columns) == P.POOLED_RELIABILITY_COLUMNS
    assert out["cohort"].tolist() == ["A", "B", "C", "all"] * 2
    for sub in SUBSCALES:
        part = out[out["subscale"] == sub]
        ref_alpha = [r["alpha"] for r in REF["alphas"][sub]]
        np.testing.assert_allclose(part["alpha"].iloc[:3], ref_alpha, rtol=1e-9)
        assert part["n"].iloc[:3].tolist() == [r["n"] for r in REF["alphas"][sub]]
        test = part.iloc[3]
        assert test["test"] == "hakstian_whalen_1976"
        assert test["statistic"] == pytest.approx(REF["alpha_tests"][sub]["hakstian_whalen"]["statistic"],
                                                  rel=1e-8)
        assert test["p"] == pytest.approx(REF["alpha_tests"][sub]["hakstian_whalen"]["p"], rel=1e-8)
        assert test["n"] == sum(r["n"] for r in REF["alphas"][sub])
        assert part["alpha_feldt_low"].iloc[:3].lt(part["alpha"].iloc[:3]).all()
    two = P.pooled_reliability({k: tables[k] for k in ("A", "B")})
    feldt = two[(two.subscale == "anxiety") & (two.cohort == "all")].iloc[0]
    assert feldt["test"] == "feldt_1969"
    assert feldt["p"] == pytest.approx(REF["alpha_tests"]["anxiety"]["feldt_AB"]["p"], rel=1e-8)
    assert (feldt["df"], feldt["df2"]) == (REF["alpha_tests"]["anxiety"]["feldt_AB"]["df"],
                                           REF["alpha_tests"]["anxiety"]["feldt_AB"]["df2"])


def _rel(alpha, n, k=18, instrument="ecr_r", subscale="anxiety"):
    return pd.DataFrame({"instrument": [instrument, instrument], "subscale": [subscale, subscale],
                         "group_column": ["all", "gender"], "group": ["all", "female"],
                         "alpha": [alpha, 0.5], "n": [n, 20], "k": [k, k]})


def test_pooled_reliability_untestable_cohorts_are_listed_not_tested():
    out = P.pooled_reliability({"a": _rel(0.9, 300), "b": _rel(np.nan, 8), "c": _rel(0.85, 200)})
    assert out["cohort"].tolist() == ["a", "b", "c", "all"]
    assert out["test"].iloc[-1] == "feldt_1969" and out["n"].iloc[-1] == 500
    one = P.pooled_reliability({"a": _rel(0.9, 300), "b": _rel(np.nan, 8)})
    assert one["test"].iloc[-1] == "none" and np.isnan(one["p"].iloc[-1])


def test_pooled_reliability_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        P.pooled_reliability({})
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['k'\]"):
        P.pooled_reliability({"a": _rel(0.9, 300).drop(columns="k")})
    dup = pd.concat([_rel(0.9, 300), _rel(0.8, 300)])
    with pytest.raises(ValueError, match="more than one overall row"):
        P.pooled_reliability({"a": dup})


# ----------------------------------------------------------------------- meta-analysis
def test_random_effects_matches_r_hand_computation():
    for key in ("meta_example",):
        inp, ref = REF[key]["input"], REF[key]["result"]
        m = P.random_effects_meta(inp["r"], inp["n"])
        for f in ("z", "se", "r", "ci_low", "ci_high", "tau2", "q", "q_p", "i2", "z_test", "p"):
            assert getattr(m, f) == pytest.approx(ref[f], rel=1e-10), f
        assert m.q_df == ref["q_df"]
        np.testing.assert_allclose(m.weight, ref["weight"], rtol=1e-10)


def test_meta_analysis_of_cohort_correlations_matches_r(cohorts):
    rows = []
    for name, part in cohorts.groupby("cohort", sort=False):
        s1 = part[SUBSCALES["anxiety"]].mean(axis=1, skipna=False)
        s2 = part[SUBSCALES["avoidance"]].mean(axis=1, skipna=False)
        ok = s1.notna() & s2.notna()
        rows.append({"measure": "anxiety~avoidance", "cohort": name, "r": np.corrcoef(s1[ok], s2[ok])[0, 1],
                     "n": int(ok.sum())})
    per = pd.DataFrame(rows)
    for rec, ref in zip(rows, REF["correlations"]):
        assert rec["r"] == pytest.approx(ref["r"], abs=1e-12) and rec["n"] == ref["n"]
    t = P.meta_analysis_table(per)
    assert tuple(t.columns) == P.META_COLUMNS
    ref = REF["meta_analysis"]
    pooled = t.iloc[-1]
    assert pooled["cohort"] == "pooled" and pooled["k"] == 3 and pooled["n"] == per["n"].sum()
    for f in ("r", "ci_low", "ci_high", "tau2", "i2", "q", "q_p", "p"):
        assert pooled[f] == pytest.approx(ref[f], rel=1e-10), f
    np.testing.assert_allclose(t["weight"].iloc[:3], ref["weight"], rtol=1e-10)
    z, se = np.arctanh(per["r"]), 1 / np.sqrt(per["n"] - 3)
    np.testing.assert_allclose(t["ci_low"].iloc[:3], np.tanh(z - stats.norm.ppf(0.975) * se), rtol=1e-12)
    assert t["tau2"].iloc[:3].isna().all()


def test_meta_hand_cases():
    # homogeneous studies: Q = 0, tau2 = 0, I2 = 0, pooled r = r; weights proportional to n - 3
    m = P.random_effects_meta([0.3, 0.3], [103, 303])
    assert m.r == pytest.approx(0.3) and m.q == pytest.approx(0, abs=1e-20) and m.tau2 == 0 and m.i2 == 0
    np.testing.assert_allclose(m.weight, [25.0, 75.0])
    assert m.se == pytest.approx(1 / np.sqrt(400))
    # Borenstein et al. (2009, ch. 16) by hand for two studies: z = (.2, .5), n = (53, 103)
    z = np.arctanh([0.2, 0.5]); w = np.array([50.0, 100.0])
    q = (w * (z - (w * z).sum() / w.sum()) ** 2).sum()
    tau2 = (q - 1) / (w.sum() - (w ** 2).sum() / w.sum())
    ws = 1 / (1 / w + tau2)
    m = P.random_effects_meta([0.2, 0.5], [53, 103])
    assert m.q == pytest.approx(q) and m.tau2 == pytest.approx(tau2)
    assert m.r == pytest.approx(np.tanh((ws * z).sum() / ws.sum()))
    # one study: its own estimate and interval
    one = P.random_effects_meta([0.4], [50])
    assert one.r == pytest.approx(0.4) and one.q_df == 0 and np.isnan(one.q_p)
    assert one.ci_low == pytest.approx(one.study_ci_low[0])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.95, 0.95), st.integers(4, 5000)), min_size=1, max_size=12))
def test_meta_properties(studies):
    r, n = zip(*studies)
    m = P.random_effects_meta(r, n)
    assert min(r) - 1e-9 <= m.r <= max(r) + 1e-9
    assert m.ci_low <= m.r <= m.ci_high
    assert m.tau2 >= 0 and 0 <= m.i2 < 100 and m.q >= -1e-12
    assert m.weight.sum() == pytest.approx(100.0)


def test_meta_table_keeps_unusable_rows():
    per = pd.DataFrame({"measure": ["m"] * 3 + ["h2"] * 2, "cohort": ["a", "b", "c", "a", "b"],
                        "r": [0.3, np.nan, 0.2, 0.1, -0.2], "n": [100, 50, 3, 80, 90]})
    t = P.meta_analysis_table(per)
    m = t[t.measure == "m"]
    assert m["cohort"].tolist() == ["a", "b", "c", "pooled"]
    assert m["k"].tolist() == [1, 1, 1, 1] and m["n"].iloc[-1] == 100
    assert m["r"].iloc[-1] == pytest.approx(0.3) and m["weight"].iloc[1:3].isna().all()
    assert t[t.measure == "h2"]["k"].iloc[-1] == 2
    with pytest.raises(ValueError, match="lacks column"):
        P.meta_analysis_table(per.drop(columns="n"))
    with pytest.raises(ValueError, match="more than one row for measure 'm' and cohort 'a'"):
        P.meta_analysis_table(pd.concat([per, per.iloc[:1]]))
    with pytest.raises(ValueError, match="strictly between -1 and 1"):
        P.random_effects_meta([1.0], [10])
    with pytest.raises(ValueError, match="exceed 3"):
        P.random_effects_meta([0.1], [3])


def test_forest_plot(tmp_path):
    per = pd.DataFrame({"measure": "anx~avo", "cohort": ["A", "B", "C"], "r": [0.32, 0.16, 0.32],
                        "n": [358, 315, 403]})
    t = P.meta_analysis_table(per)
    a = P.forest_plot(t, "anx~avo", tmp_path / "a.png")
    b = P.forest_plot(t, "anx~avo", tmp_path / "b.png")
    assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and a.read_bytes() == b.read_bytes()
    svg = P.forest_plot(t, "anx~avo", tmp_path / "a.svg").read_text()
    assert "<svg" in svg
    with pytest.raises(ValueError, match="not in the table"):
        P.forest_plot(t, "nope", tmp_path / "c.png")
    with pytest.raises(ValueError, match="png, .pdf or .svg"):
        P.forest_plot(t, "anx~avo", tmp_path / "c.jpg")


# ------------------------------------------------------------------- style prevalence
def _style_counts(cohorts):
    out = {}
    for name, part in cohorts.groupby("cohort", sort=False):
        s1 = part[SUBSCALES["anxiety"]].mean(axis=1, skipna=False)
        s2 = part[SUBSCALES["avoidance"]].mean(axis=1, skipna=False)
        ok = s1.notna() & s2.notna()
        style = np.array(P.STYLES)[(s1[ok] > 4).astype(int) + 2 * (s2[ok] > 4).astype(int)]
        counts = pd.Series(style).value_counts().reindex(P.STYLES, fill_value=0)
        out[name] = pd.DataFrame({"instrument": "ecr_r", "method": "midpoint", "style": list(P.STYLES),
                                  "n": counts.to_numpy(), "percent": 100 * counts.to_numpy() / counts.sum()})
        out[name] = pd.concat([out[name], out[name].assign(method="median", n=[10, 10, 10, 10])])
    return out


def test_prevalence_homogeneity_matches_chisq_test(cohorts):
    counts = _style_counts(cohorts)
    t = P.prevalence_homogeneity(counts, "midpoint")
    ref = REF["prevalence"]
    assert t["cohort"].tolist() == ["A", "B", "C", "all"]
    got = t[[f"{s}_n" for s in P.STYLES]].to_numpy()
    np.testing.assert_array_equal(got[:3], ref["counts"])
    np.testing.assert_array_equal(got[3], np.sum(ref["counts"], axis=0))
    np.testing.assert_allclose(t[[f"{s}_percent" for s in P.STYLES]].sum(axis=1), 100.0)
    last = t.iloc[-1]
    for f in ("chi2", "df", "p", "cramers_v", "min_expected"):
        assert last[f] == pytest.approx(ref[f], rel=1e-10), f
    assert t[["chi2", "p"]].iloc[:3].isna().all().all()
    # a method whose counts are identical across cohorts: chi2 = 0, V = 0
    same = P.prevalence_homogeneity(counts, "median").iloc[-1]
    assert same["chi2"] == 0 and same["cramers_v"] == 0 and same["p"] == pytest.approx(1.0)


def test_prevalence_edge_cases():
    sc = lambda ns, styles=P.STYLES: pd.DataFrame({"instrument": "ecr", "method": "gmm", "style": list(styles),
                                                   "n": ns})
    # a style no cohort has is kept at 0 but left out of the test (df = (2 - 1)(3 - 1))
    t = P.prevalence_homogeneity({"a": sc([10, 5, 0, 5]), "b": sc([5, 10, 0, 5])}, "gmm")
    assert t["df"].iloc[-1] == 2 and t["dismissing_n"].tolist() == [0, 0, 0]
    # mixture profiles other than the four styles come after them
    t = P.prevalence_homogeneity({"a": sc([10, 5, 3], ["secure", "profile_5", "fearful"])}, "gmm")
    assert [c for c in t.columns if c.endswith("_n")] == [f"{s}_n" for s in P.STYLES] + ["profile_5_n"]
    assert np.isnan(t["chi2"].iloc[-1])               # one cohort: no test
    with pytest.raises(ValueError, match="No style counts for method 'kmeans'.*methods found: gmm"):
        P.prevalence_homogeneity({"a": sc([1, 2, 3, 4])}, "kmeans")
    with pytest.raises(ValueError, match="whole numbers"):
        P.prevalence_homogeneity({"a": sc([1, 2, -3, 4])}, "gmm")
    with pytest.raises(ValueError, match="lack column"):
        P.prevalence_homogeneity({"a": sc([1, 2, 3, 4]).drop(columns="n")}, "gmm")
