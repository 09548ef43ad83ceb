"""Hypothesis families, registry, correction and hypotheses.csv.

Reference values: hand calculations, scipy.stats, statsmodels, pingouin, exact
enumeration of all re-pairings, and simulations with a planted truth.
"""

import math
from itertools import permutations
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from attachment_pipeline import dyads as dy
from attachment_pipeline import hypotheses as hy
from attachment_pipeline import inference
from attachment_pipeline.classify import STYLES, classify_all, cohen_kappa
from attachment_pipeline.dyads import double_entry
from attachment_pipeline.instruments import load_instrument
from attachment_pipeline.scoring import score_instrument
from attachment_pipeline.simulate import SimulationSettings, simulate_cohort

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------
# a simulated cohort with a known truth, scored as the pipeline does


def sim_data(n_couples=150, c=0.25, seed=1, n_singles=0, n_children=0, transmission_rate=0.7, roles=True,
             **kw) -> hy.CohortData:
    s = SimulationSettings(n_couples=n_couples, n_singles=n_singles, n_sparse=0, missing_code_rate=0.0,
                           missing_codes=(), skip_rate=0.0, complementarity_r=c, n_children=n_children,
                           transmission_rate=transmission_rate, **kw)
    coh = simulate_cohort(s, seed)
    r = coh.responses.set_index("respondent_id")
    ecr, mm = load_instrument("ecr_r"), load_instrument("minmax", "ticks")
    answers = r[[f"ecr_{i.n}" for i in ecr.items]].astype(float).set_axis(ecr.item_columns(), axis=1)
    keyed, dims = score_instrument(answers, ecr)
    mm_answers = r[[f"mm_{k + 1}" for k in range(mm.n_items)]].astype(float).set_axis(mm.item_columns(), axis=1)
    _, mm_scores = score_instrument(mm_answers, mm)
    scores = pd.concat([dims, mm_scores, r[["gender", "age", "relationship_years", "couple_id", "partner"]]], axis=1)
    scores.index.name = "respondent_id"
    d = dims.rename(columns={"ecr_r_anxiety": "anxiety", "ecr_r_avoidance": "avoidance"})
    cl = classify_all(d, ["midpoint"], instrument="ecr_r", scale_min=1, scale_max=7)
    cl = cl.rename(columns={"id": "respondent_id"})
    return hy.CohortData("sim", scores, cl, keyed, coh.children if n_children else None, "couple_id",
                         "partner" if roles else None, "midpoint", (ecr, mm))


def row(out, hid):
    t = out.table
    return t[t["id"] == hid].iloc[0]


FAST = {"n_permutations": 999, "n_bootstrap": 200}


# ---------------------------------------------------------------------------
# small helpers against references


@pytest.mark.parametrize("method, sm", [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjust_pvalues_matches_statsmodels(method, sm):
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0, 0.2, 12), [0.01, 0.01, 0.5, 1.0]])
    np.testing.assert_allclose(hy.adjust_pvalues(p, method), multipletests(p, method=sm)[1], rtol=0, atol=1e-15)


def test_adjust_pvalues_nan_none_and_errors():
    p = [0.02, np.nan, 0.03]
    out = hy.adjust_pvalues(p, "holm")
    assert np.isnan(out[1]) and out[0] == 0.04 and out[2] == 0.04
    assert hy.adjust_pvalues(p, "none")[2] == 0.03
    with pytest.raises(ValueError, match="correction"):
        hy.adjust_pvalues(p, "bonferroni")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        hy.adjust_pvalues([1.5], "holm")


def test_fisher_interval_by_hand():
    lo, hi = hy.fisher_interval(0.3, 53, 0.95, n_covariates=1)
    se = 1 / math.sqrt(49)
    assert math.isclose(lo, math.tanh(math.atanh(0.3) - 1.959963984540054 * se), rel_tol=1e-12)
    assert math.isclose(hi, math.tanh(math.atanh(0.3) + 1.959963984540054 * se), rel_tol=1e-12)
    assert all(np.isnan(hy.fisher_interval(0.3, 3)))


def test_wilson_matches_statsmodels():
    for k, n in ((0, 10), (3, 10), (44, 148), (20, 20)):
        ref = proportion_confint(k, n, alpha=0.05, method="wilson")
        np.testing.assert_allclose(hy.wilson_interval(k, n), ref, atol=1e-12)


def test_poisson_interval_is_exact():
    lo, hi = hy.poisson_interval(9)
    assert math.isclose(stats.poisson.sf(8, lo), 0.025, rel_tol=1e-9)   # P(X >= 9 | lo) = .025
    assert math.isclose(stats.poisson.cdf(9, hi), 0.025, rel_tol=1e-9)  # P(X <= 9 | hi) = .025
    assert hy.poisson_interval(0)[0] == 0.0


def test_pearson_rows_matches_numpy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 5, 30))
    np.testing.assert_allclose(hy.pearson_rows(x, y), [np.corrcoef(a, b)[0, 1] for a, b in zip(x, y)])


# ---------------------------------------------------------------------------
# double-entry correlation and re-pairing


def _couples(n, c, seed):
    cov = np.array([[1, .3, 0, c], [.3, 1, c, 0], [0, c, 1, .3], [c, 0, .3, 1]])
    z = np.random.default_rng(seed).multivariate_normal(np.zeros(4), cov, n)
    return z[:, 0], z[:, 1], z[:, 2], z[:, 3]  # anx_a, avo_a, anx_b, avo_b


def test_double_entry_r_is_pearson_over_both_orders():
    xa, ya, xb, yb = _couples(40, 0.3, 2)
    r, _ = hy.repairing_correlation_test(xa, ya, xb, yb, n_permutations=99, seed=0)
    x, y = double_entry(xa, xb, ya, yb)
    assert math.isclose(r, stats.pearsonr(x, y).statistic, rel_tol=1e-12)


def _exact_repairing_p(xa, ya, xb, yb, direction):
    x, y = double_entry(xa, xb, ya, yb)
    r_obs = np.corrcoef(x, y)[0, 1]
    rs = []
    for perm in permutations(range(len(xa))):
        p = list(perm)
        x, y = double_entry(xa, xb[p], ya, yb[p])
        rs.append(np.corrcoef(x, y)[0, 1])
    rs = np.array(rs)
    if direction == "greater":
        return np.mean(rs >= r_obs - 1e-12)
    if direction == "less":
        return np.mean(rs <= r_obs + 1e-12)
    m = rs.mean()
    return np.mean(np.abs(rs - m) >= abs(r_obs - m) - 1e-12)


@pytest.mark.parametrize("direction", ["greater", "less", "two-sided"])
def test_repairing_p_agrees_with_full_enumeration(direction):
    xa, ya, xb, yb = _couples(6, 0.5, 5)  # 720 re-pairings
    exact = _exact_repairing_p(xa, ya, xb, yb, direction)
    _, p = hy.repairing_correlation_test(xa, ya, xb, yb, direction=direction, n_permutations=20000, seed=3)
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / 20000) + 1e-4


def test_repairing_batch_equals_separate_statistics_and_is_reproducible():
    sets = np.stack([np.stack(_couples(30, 0.2, s)) for s in range(4)])  # (4 sets, 4 vars, 30)
    r, p = hy.repairing_correlation_test(*(sets[:, k] for k in range(4)), n_permutations=499, seed=9)
    r2, p2 = hy.repairing_correlation_test(*(sets[:, k] for k in range(4)), n_permutations=499, seed=9)
    assert (p == p2).all()
    for s in range(4):
        rs, ps = hy.repairing_correlation_test(*sets[s], n_permutations=4999, seed=1)
        assert math.isclose(r[s], rs, rel_tol=1e-12)
        assert abs(p[s] - ps) < 0.08
    assert ((p * 500) % 1 < 1e-9).all() or ((p * 500) % 1 > 1 - 1e-9).all()  # multiples of 1/500


def test_dyadic_correlation_recovers_planted_effect():
    xa, ya, xb, yb = _couples(3000, 0.3, 11)
    res = hy.dyadic_correlation(xa, ya, xb, yb, n_permutations=999, n_bootstrap=400, seed=4)
    assert abs(res.r - 0.3) < 0.04
    assert res.p_value == 1 / 1000
    assert res.ci_low < 0.3 < res.ci_high and res.ci_high - res.ci_low < 0.1


def test_dyadic_bootstrap_interval_coverage():
    hits = 0
    for s in range(150):
        xa, ya, xb, yb = _couples(120, 0.3, 1000 + s)
        res = hy.dyadic_correlation(xa, ya, xb, yb, n_permutations=1, n_bootstrap=300, seed=s)
        hits += res.ci_low < 0.3 < res.ci_high
    assert 0.88 <= hits / 150 <= 0.99


def test_repairing_errors():
    with pytest.raises(ValueError, match="at least 3 couples"):
        hy.repairing_correlation_test([1.0, 2], [1.0, 2], [1.0, 2], [2.0, 1])
    with pytest.raises(ValueError, match="finite"):
        hy.repairing_correlation_test([1.0, np.nan, 3], [1.0, 2, 3], [1.0, 2, 3], [2.0, 1, 3])
    with pytest.raises(ValueError, match="direction"):
        hy.repairing_correlation_test([1.0, 2, 3], [1.0, 2, 3], [1.0, 2, 3], [2.0, 1, 3], direction="up")


def test_count_test_expectation_and_p_against_enumeration():
    a = np.array([1, 2, 0, 1, 2, 3, 1])
    b = np.array([2, 1, 0, 2, 1, 0, 3])
    target = hy._pair_target(4, [(1, 2)])
    obs, exp, p = hy.repairing_count_test(a, b, target, n_permutations=20000, seed=2)
    counts = np.array([target[a, b[list(q)]].sum() for q in permutations(range(7))])
    assert obs == 4 and math.isclose(exp, counts.mean(), rel_tol=1e-12)
    exact = np.mean(counts >= obs)
    assert abs(p - exact) < 4 * math.sqrt(exact * (1 - exact) / 20000) + 1e-4


def test_pairing_table_expected_is_the_repairing_mean():
    a = np.array([0, 1, 2, 3, 1, 0])
    b = np.array([1, 0, 3, 2, 2, 0])
    t = hy.pairing_table(a, b, list(STYLES))
    assert len(t) == 10 and t["observed"].sum() == 6 and math.isclose(t["expected"].sum(), 6)
    perms = np.array(list(permutations(range(6))))
    for _, r in t.iterrows():
        i, j = STYLES.index(r["category_1"]), STYLES.index(r["category_2"])
        cell = ((a == i) & (b[perms] == j)) | ((a == j) & (b[perms] == i))
        assert math.isclose(cell.sum(axis=1).mean(), r["expected"], abs_tol=1e-12)
    pd_row = t[(t.category_1 == "preoccupied") & (t.category_2 == "dismissing")].iloc[0]
    assert pd_row["observed"] == 1  # the couple (2, 1)


# ---------------------------------------------------------------------------
# correlation, goodness of fit, partial correlation, two groups


def test_correlation_test_matches_scipy_and_disattenuates():
    rng = np.random.default_rng(3)
    x = rng.normal(size=80)
    y = 0.4 * x + rng.normal(size=80)
    y[5] = np.nan
    res = hy.correlation_test(x, y, direction="greater", reliability_x=0.81, reliability_y=0.64)
    ref = stats.pearsonr(x[~np.isnan(y)], y[~np.isnan(y)], alternative="greater")
    assert res.n == 79 and math.isclose(res.r, ref.statistic) and math.isclose(res.p_value, ref.pvalue)
    assert math.isclose(res.r_disattenuated, res.r / math.sqrt(0.81 * 0.64))
    assert math.isclose(res.t, res.r * math.sqrt(77 / (1 - res.r ** 2)))
    sp = hy.correlation_test(x, y, method="spearman")
    ref = stats.spearmanr(x[~np.isnan(y)], y[~np.isnan(y)])
    assert math.isclose(sp.r, ref.statistic) and math.isclose(sp.p_value, ref.pvalue)
    se = math.sqrt(1.06 / 76)
    assert math.isclose(sp.ci_low, math.tanh(math.atanh(sp.r) - 1.959963984540054 * se))
    with pytest.raises(ValueError, match="both reliabilities"):
        hy.correlation_test(x, y, reliability_x=0.8)
    with pytest.raises(ValueError, match="does not vary"):
        hy.correlation_test(np.ones(10), np.arange(10.0))


def test_equivalence_correlation_p_by_hand():
    p = hy.equivalence_correlation_p(-0.3, 52, 0.5)
    z, zm, se = math.atanh(-0.3), math.atanh(0.5), 1 / 7
    assert math.isclose(p, max(stats.norm.cdf((z - zm) / se), stats.norm.sf((z + zm) / se)))
    assert hy.equivalence_correlation_p(0.6, 500, 0.5) > 0.5


def test_goodness_of_fit_matches_scipy_and_w():
    obs = {"secure": 226, "avoidant": 50, "anxious": 90}
    ref = {"secure": 0.56, "avoidant": 0.25, "anxious": 0.19}
    g = hy.goodness_of_fit(obs, ref)
    sc = stats.chisquare([226, 50, 90], [366 * 0.56, 366 * 0.25, 366 * 0.19])
    assert math.isclose(g.chi2, sc.statistic) and math.isclose(g.p_value, sc.pvalue) and g.df == 2
    assert math.isclose(g.w, math.sqrt(sum((o / 366 - p) ** 2 / p for o, p in zip([226, 50, 90], ref.values()))))
    # interval: the observed chi2 is the 97.5% / 2.5% quantile at the limits
    assert math.isclose(stats.ncx2.cdf(g.chi2, 2, 366 * g.w_ci_low ** 2), 0.975, abs_tol=1e-7)
    assert math.isclose(stats.ncx2.cdf(g.chi2, 2, 366 * g.w_ci_high ** 2), 0.025, abs_tol=1e-7)


def test_goodness_of_fit_equivalence_has_nominal_size_at_the_margin():
    # multinomial samples whose true w equals the margin 0.1: rejection rate ~ alpha
    p0 = np.array([0.56, 0.25, 0.19])
    d = np.array([1.0, -0.5, -0.5])
    p1 = p0 + d / math.sqrt(((d ** 2) / p0).sum()) * 0.1  # sum (p1 - p0)^2 / p0 = 0.1^2
    assert math.isclose(math.sqrt((((p1 - p0) ** 2) / p0).sum()), 0.1)
    n = 1000
    counts = np.random.default_rng(8).multinomial(n, p1, size=4000)
    chi2 = (((counts - n * p0) ** 2) / (n * p0)).sum(axis=1)
    pv = stats.ncx2.cdf(chi2, 2, n * 0.1 ** 2)
    one = hy.goodness_of_fit(dict(zip("abc", counts[0])), dict(zip("abc", p0)), direction="less")
    assert math.isclose(one.p_value, pv[0])
    assert 0.03 <= np.mean(pv < 0.05) <= 0.07


def test_goodness_of_fit_errors():
    with pytest.raises(ValueError, match="same categories"):
        hy.goodness_of_fit({"a": 1}, {"b": 1.0})
    with pytest.raises(ValueError, match="sum to 1"):
        hy.goodness_of_fit({"a": 1, "b": 2}, {"a": 0.5, "b": 0.6})
    with pytest.raises(ValueError, match="two-sided"):
        hy.goodness_of_fit({"a": 1, "b": 2}, {"a": 0.5, "b": 0.5}, direction="greater")


def test_reference_presets_and_mapping():
    p, m = hy.reference_distribution("mickelson1997")
    assert math.isclose(sum(p.values()), 1.0) and math.isclose(p["secure"], 0.59 / 0.95)
    assert m == {"secure": "secure", "dismissing": "avoidant", "preoccupied": "anxious", "fearful": None}
    p, m = hy.reference_distribution("children_seed", fearful="avoidant")
    assert p == {"secure": 0.65, "avoidant": 0.25, "anxious": 0.10} and m["fearful"] == "avoidant"
    explicit = {"secure": 0.59, "dismissing": 0.25, "preoccupied": 0.11, "fearful": 0.05}
    p, m = hy.reference_distribution(explicit)
    assert p == explicit and m["fearful"] == "fearful"
    with pytest.raises(ValueError, match="sum to 1"):
        hy.reference_distribution({**explicit, "fearful": 0.06})
    with pytest.raises(ValueError, match="exactly the four"):
        hy.reference_distribution({"secure": 1.0})
    with pytest.raises(ValueError, match="Unknown reference"):
        hy.reference_distribution("bowlby")


def test_partial_correlation_matches_pingouin():
    rng = np.random.default_rng(0)
    c = rng.normal(size=(100, 2))
    x = c[:, 0] + rng.normal(size=100)
    y = c[:, 0] - c[:, 1] + 0.3 * x + rng.normal(size=100)
    df = pd.DataFrame({"x": x, "y": y, "c1": c[:, 0], "c2": c[:, 1]})
    for alt in ("two-sided", "greater", "less"):
        ref = pg.partial_corr(df, "x", "y", ["c1", "c2"], alternative=alt)
        res = hy.partial_correlation(x, y, c, direction=alt)
        assert math.isclose(res.r, ref["r"].iloc[0], rel_tol=1e-10)
        assert math.isclose(res.p_value, ref["p_val"].iloc[0], rel_tol=1e-8)
    ref = pg.partial_corr(df, "x", "y", ["c1", "c2"])
    np.testing.assert_allclose([res.ci_low, res.ci_high], ref["CI95"].iloc[0], atol=0.005)
    assert res.df == 96


def test_group_comparison_welch_and_hedges_against_scipy_and_pingouin():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.5, 1, 30), rng.normal(0, 1.5, 40)
    g = hy.group_comparison(a, b, direction="greater")
    ref = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
    assert math.isclose(g.statistic, ref.statistic) and math.isclose(g.p_value, ref.pvalue)
    assert math.isclose(g.df, ref.df)
    hg = pg.compute_effsize(a, b, eftype="hedges")
    assert math.isclose(g.effect_size, hg, rel_tol=1e-10)
    np.testing.assert_allclose([g.ci_low, g.ci_high], pg.compute_esci(hg, 30, 40, eftype="hedges"), atol=0.006)


def test_group_comparison_mann_whitney():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.5, 1, 30), rng.normal(0, 1, 40)
    g = hy.group_comparison(a, b, test="mann_whitney")
    ref = pg.mwu(a, b)
    assert math.isclose(g.statistic, ref["U_val"].iloc[0]) and math.isclose(g.p_value, ref["p_val"].iloc[0])
    assert math.isclose(g.effect_size, ref["RBC"].iloc[0])
    # Hanley & McNeil (1982) standard error by hand
    A = g.statistic / 1200
    q1, q2 = A / (2 - A), 2 * A * A / (1 + A)
    se = math.sqrt((A * (1 - A) + 29 * (q1 - A * A) + 39 * (q2 - A * A)) / 1200)
    assert math.isclose(g.ci_low, 2 * (A - 1.959963984540054 * se) - 1, rel_tol=1e-10)
    with pytest.raises(ValueError, match="welch"):
        hy.group_comparison(a, b, test="t")


# ---------------------------------------------------------------------------
# registry and config checks


def test_issue_examples_pass_and_get_defaults():
    e1 = hy.check_hypothesis({"id": "H1", "family": "complementarity", "direction": "greater", "alpha": 0.05})
    assert e1["instrument"] is None and e1["x_subscale"] == "anxiety" and e1["y_subscale"] == "avoidance"
    e5 = hy.check_hypothesis({"id": "H5", "family": "prevalence",
                              "reference": {"secure": 0.59, "dismissing": 0.25, "preoccupied": 0.11, "fearful": 0.05}})
    assert e5["direction"] == "two-sided" and e5["fearful"] == "exclude"
    e4 = hy.check_hypothesis({"id": "H4a", "family": "correlation", "x": "minmax_index", "y": "ecr_r_anxiety",
                              "direction": "greater"})
    assert e4["method"] == "pearson" and e4["alpha"] == 0.05 and e4["cohorts"] is None
    assert hy.check_hypothesis(e4) == e4  # idempotent
    schema = hy.hypotheses_schema()
    jsonschema.validate([{"id": "H1", "family": "complementarity"}, e5, e4], schema)


@pytest.mark.parametrize("entry, match", [
    ({"id": "H1", "family": "complementarty"}, r"hypotheses\[H1\]\.family: unknown family"),
    ({"id": "H1", "family": "complementarity", "alpah": 0.05}, r"hypotheses\[H1\]\.alpah: unknown key"),
    ({"id": "H1", "family": "complementarity", "direction": "up"}, r"hypotheses\[H1\]\.direction"),
    ({"id": "H1", "family": "complementarity", "alpha": 1.5}, r"hypotheses\[H1\]\.alpha"),
    ({"id": "H7", "family": "dimensions_distinct", "direction": "greater"}, r"H7\]\.direction.*less"),
    ({"id": "H4", "family": "correlation", "x": "a"}, r"hypotheses\[H4\]\.y: required"),
    ({"id": "H4", "family": "correlation", "x": "a", "y": "b", "method": "kendall"}, r"H4\]\.method"),
    ({"id": "H4", "family": "correlation", "x": "a", "y": "b", "reliability_x": 0.8}, r"H4\]\.disattenuate"),
    ({"id": "H5", "family": "prevalence", "reference": {"secure": 0.6, "dismissing": 0.25, "preoccupied": 0.11,
                                                        "fearful": 0.05}}, r"H5\]\.reference.*sum to 1"),
    ({"id": "H5", "family": "prevalence", "reference": "unknown_1999"}, r"H5\]\.reference"),
    ({"id": "H 1", "family": "complementarity"}, r"\.id"),
    ({"family": "complementarity"}, "no id"),
])
def test_check_hypothesis_errors_name_the_key(entry, match):
    with pytest.raises(ValueError, match=match):
        hy.check_hypothesis(entry)


def test_schema_rejects_what_check_rejects():
    schema = hy.hypotheses_schema()
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"id": "H1", "family": "complementarity", "alpah": 0.05}], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"id": "H4", "family": "correlation", "x": "a"}], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"id": "H5", "family": "prevalence", "direction": "greater"}], schema)


def test_check_hypotheses_unique_ids_and_testing_settings():
    with pytest.raises(ValueError, match="more than once"):
        hy.check_hypotheses([{"id": "H1", "family": "complementarity"}, {"id": "H1", "family": "prevalence"}])
    st = hy.check_testing_settings({"correction": "none", "n_permutations": 500})
    assert st == hy.HypothesisTestingSettings("none", 500, 2000, 0.95)
    with pytest.raises(ValueError, match="hypothesis_testing.correction"):
        hy.check_testing_settings({"correction": "bonferroni"})
    with pytest.raises(ValueError, match="hypothesis_testing.n_perm: unknown key"):
        hy.check_testing_settings({"n_perm": 5})


def test_every_family_is_registered_consistently():
    assert set(hy.FAMILIES) == {"complementarity", "complementary_pairing", "minmax_complementarity",
                                "pairing_symmetry", "correlation", "prevalence", "transmission",
                                "dimensions_distinct", "duration", "group_difference", "apim"}
    for name, spec in hy.FAMILIES.items():
        assert spec.default_direction in spec.directions
        assert set(spec.required_data) <= set(hy.DATA_KINDS)
        for key, p in spec.params.items():  # every default satisfies its own schema
            if p.default is not None:
                jsonschema.validate(p.default, p.schema)


def test_plan_and_required_columns():
    es = hy.check_hypotheses([
        {"id": "H1", "family": "complementarity"},
        {"id": "H8", "family": "duration"},
        {"id": "H3", "family": "pairing_symmetry"},
        {"id": "G", "family": "group_difference", "score": "ecr_r_anxiety", "group": "gender", "cohorts": ["b"]}])
    cohorts = {"a": ({"dimensions", "couples", "minmax"}, {"relationship_years", "age", "ecr_r_anxiety"}),
               "b": ({"dimensions"}, {"ecr_r_anxiety", "gender"})}
    plan = hy.plan_hypotheses(es, cohorts)
    assert [e["id"] for e in plan["a"]] == ["H1", "H8", "H3"]
    assert [e["id"] for e in plan["b"]] == ["G"]
    with pytest.raises(ValueError, match=r"H9\]\.cohorts: cohort 'b' lacks \['couples'\]"):
        hy.plan_hypotheses(hy.check_hypotheses([{"id": "H9", "family": "complementarity", "cohorts": ["b"]}]), cohorts)
    with pytest.raises(ValueError, match="unknown cohort"):
        hy.plan_hypotheses(hy.check_hypotheses([{"id": "H9", "family": "complementarity", "cohorts": ["z"]}]), cohorts)


def test_cohort_capabilities_from_config(tmp_path):
    from helpers import make_responses, study_for
    path = tmp_path / "r.csv"
    make_responses(8).to_csv(path, index=False)
    kinds, cols = hy.cohort_capabilities(study_for(path).cohorts["c"])
    assert kinds == {"dimensions", "classification", "items", "minmax", "couples"}
    assert {"ecr_r_anxiety", "minmax_index", "gender", "age"} <= cols


# ---------------------------------------------------------------------------
# families on simulated cohorts with a known truth


def _alphas(data, columns):
    from attachment_pipeline.reliability import cronbach_alpha
    inst = data.instruments[0]
    out = []
    for c in columns:
        cols = [f"ecr_r_{k}" for k in inst.subscale_items(c.split("_")[-1])]
        x = data.items[cols].dropna().to_numpy(float)
        out.append(cronbach_alpha(np.cov(x, rowvar=False)))
    return out


def _partners(data, columns):
    s = data.scores
    a = s[s.partner == "A"].set_index("couple_id").sort_index()
    b = s[s.partner == "B"].set_index("couple_id").loc[a.index]
    return a[columns].to_numpy(float), b[columns].to_numpy(float)


def test_complementarity_is_the_cross_partner_path():
    data = sim_data(n_couples=300, c=0.4, seed=3)
    out = hy.run_hypotheses([{"id": "H1", "family": "complementarity"}], data, FAST, seed=1)
    r = row(out, "H1")
    xa, xb = _partners(data, ["ecr_r_anxiety", "ecr_r_avoidance"])
    assert "indistinguishable" in r.note  # roles A/B of the simulator are exchangeable
    rel = _alphas(data, ["ecr_r_anxiety", "ecr_r_avoidance"])
    ref = dy.cross_partner_paths(xa[:, 0], xa[:, 1], xb[:, 0], xb[:, 1], distinguishable=False,
                                 direction="greater", reliability=rel)["path"][0]
    assert "true scores" in r.note and f"alpha = {rel[0]:.3f}" in r.note
    assert r.effect_size_name == "std_path" and r.statistic_name == "z" and r.n == 300 and r.primary
    assert math.isclose(r.effect_size, ref.estimate[0]) and math.isclose(r.p_value, ref.p[0])
    assert r.effect_size > 0.25 and r.p_value < 1e-6 and bool(r.supported)
    secondary = out.table[~out.table.primary]
    assert list(secondary.id) == ["H1[r_cross]", "H1[path_avoidance~anxiety]"]
    assert secondary.p_adjusted.isna().all() and secondary.supported.isna().all()


def test_complementarity_with_declared_roles_gives_both_directions():
    data = hy.CohortData(**{**sim_data(n_couples=200, c=0.3, seed=14).__dict__, "distinguishable": "true"})
    out = hy.run_hypotheses([{"id": "H1", "family": "complementarity", "estimator": "ml"}], data, FAST, seed=1)
    t = out.table
    assert "declared distinguishable by role (A/B)" in row(out, "H1").note
    assert {"H1[path_anxiety_A~avoidance_B]", "H1[path_anxiety_B~avoidance_A]", "H1[r_anxiety_A~avoidance_B]"} \
        <= set(t.id)
    xa, xb = _partners(data, ["ecr_r_anxiety", "ecr_r_avoidance"])
    ref = dy.cross_partner_paths(xa[:, 0], xa[:, 1], xb[:, 0], xb[:, 1], distinguishable=True, roles=("A", "B"),
                                 reliability=_alphas(data, ["ecr_r_anxiety", "ecr_r_avoidance"]))
    assert math.isclose(row(out, "H1").effect_size, ref["mean_path"][0].estimate[0])
    assert math.isclose(row(out, "H1[path_anxiety_A~avoidance_B]").effect_size, ref["path"][1].estimate[0])


def test_complementarity_null_of_similarity_and_no_roles():
    """Profile similarity and no complementarity: the path is near 0 while the raw cross correlation is not."""
    data = sim_data(n_couples=400, c=0.0, seed=4, roles=False, similarity_r=0.6, similarity_mechanism="profile")
    out = hy.run_hypotheses([{"id": "H1", "family": "complementarity"}], data, FAST, seed=1)
    assert "no role column" in row(out, "H1").note
    assert abs(row(out, "H1").effect_size) < 0.1
    assert row(out, "H1[r_cross]").effect_size > 0.1


def test_complementarity_counts_excluded_couples():
    data = sim_data(n_couples=40, c=0.3, seed=5)
    scores = data.scores.copy()
    scores.loc[scores.index[[0, 1, 3]], "ecr_r_anxiety"] = np.nan  # rows 0, 1: couple 1; row 3: couple 2
    data = hy.CohortData(**{**data.__dict__, "scores": scores})
    out = hy.run_hypotheses([{"id": "H1", "family": "complementarity"}], data, FAST, seed=1)
    assert row(out, "H1").n == 38 and row(out, "H1").note.startswith("38 couples, 2 couple(s) excluded")


def test_missing_data_raise_naming_the_hypothesis():
    data = sim_data(n_couples=10, c=0.0, seed=6)
    no_couples = hy.CohortData(**{**data.__dict__, "couple_column": None})
    with pytest.raises(ValueError, match=r"hypotheses\[H1\] \(complementarity\) in cohort 'sim'.*no couples"):
        hy.run_hypotheses([{"id": "H1", "family": "complementarity"}], no_couples, FAST)
    with pytest.raises(ValueError, match="no parent-child records"):
        hy.run_hypotheses([{"id": "H6", "family": "transmission"}], data, FAST)
    no_cl = hy.CohortData(**{**data.__dict__, "classification": None})
    with pytest.raises(ValueError, match="no classification"):
        hy.run_hypotheses([{"id": "H5", "family": "prevalence"}], no_cl, FAST)


def test_pairing_families_against_the_table():
    data = sim_data(n_couples=400, c=0.5, seed=7)
    out = hy.run_hypotheses([{"id": "P", "family": "complementary_pairing"},
                             {"id": "S", "family": "pairing_symmetry", "by": "style"},
                             {"id": "M", "family": "minmax_complementarity"}], data, FAST, seed=2)
    t = out.tables["pairing_table"]
    pdrow = t[(t.id == "P") & (t.category_1 == "preoccupied") & (t.category_2 == "dismissing")].iloc[0]
    p = row(out, "P")
    assert p.effect_size_name == "ratio_beyond_homogamy" and p.null_value == 1
    assert f"{int(pdrow.observed)} preoccupied-dismissing couples" in p.note
    assert math.isclose(pdrow.expected_homogamy, float(p.note.split(" expected from homogamy")[0].split(", ")[-1]),
                        abs_tol=0.006)
    assert p.effect_size > 1.3 and p.p_value < 0.05  # strong planted complementarity, beyond homogamy
    vs = row(out, "P[vs_random_pairing]")
    assert vs.statistic == pdrow.observed and math.isclose(vs.effect_size, pdrow.observed / pdrow.expected)
    s = row(out, "S")
    same = t[(t.id == "S") & (t.category_1 == t.category_2)]
    assert s.statistic == same.observed.sum() and math.isclose(s.null_value, same.expected.sum() / 400)
    assert (s.ci_low, s.ci_high) == pytest.approx(hy.wilson_interval(int(s.statistic), 400))
    m = row(out, "M")
    assert m.effect_size_name == "icc" and m.statistic_name == "F"
    assert m.effect_size < 0 and m.direction == "less"
    assert row(out, "M[min_max_couples]").direction == "greater"
    assert set(t.id) == {"P", "S", "M"}


def test_correlation_family_and_disattenuation_from_reliability_table():
    data = sim_data(n_couples=100, c=0.0, seed=8, n_singles=100)
    rel = pd.DataFrame({"instrument": ["ecr_r", "ecr_r", "ecr_r"], "subscale": ["anxiety", "avoidance", "anxiety"],
                        "group_column": ["all", "all", "gender"], "alpha": [0.9, 0.8, 0.5]})
    data = hy.CohortData(**{**data.__dict__, "reliability": rel})
    entries = [
        {"id": "A", "family": "correlation", "x": "ecr_r_anxiety", "y": "ecr_r_avoidance"},
        {"id": "B", "family": "correlation", "x": "ecr_r_anxiety", "y": "ecr_r_avoidance", "disattenuate": True},
        {"id": "C", "family": "correlation", "x": "minmax_index", "y": "ecr_r_avoidance", "direction": "less"}]
    out = hy.run_hypotheses(entries, data, FAST, seed=0)
    a, b = row(out, "A"), row(out, "B")
    s = data.scores
    ref = inference.cluster_correlation(s.ecr_r_anxiety, s.ecr_r_avoidance, s.couple_id)
    assert math.isclose(a.effect_size, ref.r) and math.isclose(a.p_value, ref.p) and a.df == 199  # 100 + 100 clusters
    assert "cluster-robust" in a.note
    assert math.isclose(b.effect_size, a.effect_size / math.sqrt(0.9 * 0.8)) and b.p_value == a.p_value
    assert row(out, "C").effect_size < -0.2 and bool(row(out, "C").supported)  # avoidance -> minimising
    # without couples: the usual Pearson test
    plain = hy.run_hypotheses(entries[:1], hy.CohortData(**{**data.__dict__, "couple_column": None}), FAST)
    ref = stats.pearsonr(s.ecr_r_anxiety, s.ecr_r_avoidance)
    assert math.isclose(row(plain, "A").p_value, ref.pvalue) and row(plain, "A").df == 298
    with pytest.raises(ValueError, match="reliability"):
        hy.run_hypotheses([{"id": "D", "family": "correlation", "x": "minmax_index", "y": "ecr_r_anxiety",
                            "disattenuate": True}], data, FAST)


def test_prevalence_family_counts_and_mapping():
    styles = ["secure"] * 60 + ["dismissing"] * 20 + ["preoccupied"] * 12 + ["fearful"] * 8
    ids = [f"r{i}" for i in range(100)]
    scores = pd.DataFrame({"ecr_r_anxiety": 1.0, "ecr_r_avoidance": 1.0}, index=pd.Index(ids, name="respondent_id"))
    cl = pd.DataFrame({"respondent_id": ids, "instrument": "ecr_r", "method": "midpoint", "style": styles})
    data = hy.CohortData("x", scores, cl)
    out = hy.run_hypotheses([{"id": "H5", "family": "prevalence"},
                             {"id": "H5b", "family": "prevalence", "reference": "children_seed", "fearful": "avoidant"},
                             {"id": "H5c", "family": "prevalence", "direction": "less", "w_margin": 0.3,
                              "reference": {"secure": 0.6, "dismissing": 0.2, "preoccupied": 0.12, "fearful": 0.08}}],
                            data, FAST)
    a = row(out, "H5")
    ref = stats.chisquare([60, 20, 12], np.array([0.56, 0.25, 0.19]) * 92)
    assert a.n == 92 and math.isclose(a.statistic, ref.statistic) and math.isclose(a.p_value, ref.pvalue)
    assert "8 fearful respondent(s) excluded" in a.note
    b = row(out, "H5b")
    ref = stats.chisquare([60, 28, 12], np.array([0.65, 0.25, 0.10]) * 100)
    assert math.isclose(b.statistic, ref.statistic)
    c = row(out, "H5c")  # perfect fit: chi2 = 0, equivalence supported
    assert c.statistic == 0 and c.p_value < 0.001 and bool(c.supported)
    pt = out.tables["prevalence_table"]
    assert pt[pt.id == "H5"].observed.tolist() == [60, 20, 12]


def test_transmission_family_by_hand():
    parents = ["secure"] * 6 + ["dismissing"] * 4
    codes = ["B", "B", "B", "B", "A", "C", "A", "A", "D", "B"]
    ids = [f"p{i}" for i in range(10)]
    scores = pd.DataFrame({"ecr_r_anxiety": 1.0, "ecr_r_avoidance": 1.0}, index=pd.Index(ids + ["p10"]))
    cl = pd.DataFrame({"id": ids, "instrument": "ecr_r", "method": "midpoint", "style": parents})
    ch = pd.DataFrame({"parent_id": ids + ["p10"], "child_id": [f"k{i}" for i in range(11)], "ssp_code": codes + ["B"]})
    data = hy.CohortData("x", scores, cl, children=ch)
    out = hy.run_hypotheses([{"id": "H6", "family": "transmission"}], data, {"n_permutations": 20000,
                                                                            "n_bootstrap": 200})
    r = row(out, "H6")
    child = ["secure"] * 4 + ["dismissing", "preoccupied", "dismissing", "dismissing", "fearful", "secure"]
    ref_k = cohen_kappa(parents, child)
    assert r.effect_size_name == "kappa" and math.isclose(r.effect_size, ref_k.kappa) and r.n == 10
    assert r.direction == "greater" and "1 child record(s) excluded" in r.note
    # one parent, one child per family: the family permutation is the permutation of the child codes;
    # the statistic is the sum of the diagonal Pearson residuals (the margins are fixed)
    pc, cc = hy_codes(parents), hy_codes(child)
    e = np.bincount(pc, minlength=4) * np.bincount(cc, minlength=4) / 10
    w = np.where(e > 0, 1 / np.sqrt(np.where(e > 0, e, 1)), 0)
    stat = lambda c: (w[pc] * (pc == c)).sum(axis=-1)  # noqa: E731
    perms = np.random.default_rng(3).permuted(np.tile(cc, (20000, 1)), axis=1)
    p_ref = (1 + np.sum(stat(perms) >= stat(cc) - 1e-9)) / 20001
    assert r.p_value == pytest.approx(p_ref, abs=0.01)
    c = row(out, "H6[concordance]")
    assert c.effect_size == 0.6 and c.null_value == 0.7 and np.isnan(c.p_value) and not c.primary
    t = out.tables["transmission_table"]
    assert len(t) == 16 and t.n.sum() == 10
    assert t[(t.parent_style == "secure") & (t.ssp_code == "B")].n.iloc[0] == 4


def hy_codes(styles):
    from attachment_pipeline.dyads import style_codes
    return style_codes(styles)


def test_independent_families_are_not_supported_and_transmission_is_found():
    """The issue's case: children independent of their parents must not make H6 'supported'."""
    kw = dict(n_couples=200, c=0.0, n_children=200, child_code_probs=(0.15, 0.6, 0.1, 0.15), sibling_rate=0.3,
              sibling_concordance=0.6, two_parent_rate=0.3)
    null = sim_data(seed=9, transmission_rate=0.0, **kw)
    out = hy.run_hypotheses([{"id": "H6", "family": "transmission"}], null, FAST)
    assert not bool(row(out, "H6").supported) and abs(row(out, "H6").effect_size) < 0.15
    assert row(out, "H6[concordance]").effect_size < 0.5  # far below .70, and no test claims otherwise
    planted = sim_data(seed=9, transmission_rate=0.6, **kw)
    out = hy.run_hypotheses([{"id": "H6", "family": "transmission"}], planted, FAST)
    assert row(out, "H6").effect_size > 0.15 and row(out, "H6").p_value == 1 / 1000 and bool(row(out, "H6").supported)
    assert "families" in row(out, "H6").note


def test_dimensions_distinct_with_cfa():
    data = sim_data(n_couples=150, c=0.0, seed=10)
    out = hy.run_hypotheses([{"id": "H7", "family": "dimensions_distinct"}], data, FAST)
    r = row(out, "H7")
    s = data.scores
    ref = inference.cluster_correlation(s.ecr_r_anxiety, s.ecr_r_avoidance, s.couple_id)
    assert math.isclose(r.effect_size, ref.r) and r.null_value == 0.5
    assert math.isclose(r.p_value, float(inference.cluster_equivalence_p(ref.r, ref.se, 0.5, ref.df)))
    assert bool(r.supported)  # latent r = .30 < .5
    c = row(out, "H7[cfa_two_vs_one]")
    assert c.statistic_name == "chi2_diff" and c.df == 1 and c.p_value < 1e-10
    assert 0.15 < c.effect_size < 0.45  # factor correlation near the latent .30


def test_duration_family_matches_pingouin_on_couple_means():
    data = sim_data(n_couples=300, c=0.0, seed=11, duration_r=-0.5)
    out = hy.run_hypotheses([{"id": "H8", "family": "duration", "covariates": []},
                             {"id": "H8r", "family": "duration", "unit": "respondent", "transform": "log"}],
                            data, FAST)
    s = data.scores
    za = (s.ecr_r_anxiety - s.ecr_r_anxiety.mean()) / s.ecr_r_anxiety.std()
    zv = (s.ecr_r_avoidance - s.ecr_r_avoidance.mean()) / s.ecr_r_avoidance.std()
    frame = pd.DataFrame({"sec": -(za + zv) / 2, "dur": s.relationship_years, "c": s.couple_id}).groupby("c").mean()
    ref = stats.pearsonr(frame.sec, frame.dur, alternative="greater")
    r = row(out, "H8")
    assert r.n == 300 and math.isclose(r.effect_size, ref.statistic) and math.isclose(r.p_value, ref.pvalue)
    assert r.effect_size > 0.15 and bool(r.supported)
    df = pd.DataFrame({"sec": -(za + zv) / 2, "dur": np.log(s.relationship_years), "age": s.age})
    ref = pg.partial_corr(df, "sec", "dur", ["age"], alternative="greater")
    rr = row(out, "H8r")
    # respondents in couples: the same partial r, a couple-clustered test
    assert rr.n == 600 and math.isclose(rr.effect_size, ref["r"].iloc[0]) and "cluster-robust" in rr.note
    assert rr.df == 299


def test_group_difference_family_is_clustered_with_couples():
    data = sim_data(n_couples=100, c=0.0, seed=12)
    out = hy.run_hypotheses([{"id": "G", "family": "group_difference", "score": "ecr_r_anxiety", "group": "gender"},
                             {"id": "U", "family": "group_difference", "score": "ecr_r_anxiety", "group": "gender",
                              "levels": ["male", "female"], "test": "mann_whitney"}], data, FAST)
    s = data.scores
    counts = s.gender.value_counts()
    first, second = counts.index[0], counts.index[1]
    keep = s.gender.isin([first, second])
    ref = inference.cluster_mean_difference(s.ecr_r_anxiety[keep], (s.gender == first)[keep], s.couple_id[keep])
    g = row(out, "G")
    assert math.isclose(g.statistic, ref.t) and f"group 1 = {first}" in g.note and "(paired)" in g.note
    keep = s.gender.isin(["male", "female"])
    ref = inference.clustered_auc(s.ecr_r_anxiety[keep], (s.gender == "male")[keep], s.couple_id[keep])
    assert math.isclose(row(out, "U").effect_size, ref.rank_biserial) and math.isclose(row(out, "U").p_value, ref.p)
    plain = hy.run_hypotheses([{"id": "G", "family": "group_difference", "score": "ecr_r_anxiety", "group": "gender"}],
                              hy.CohortData(**{**data.__dict__, "couple_column": None}), FAST)
    ref = stats.ttest_ind(s.ecr_r_anxiety[s.gender == first], s.ecr_r_anxiety[s.gender == second], equal_var=False)
    assert math.isclose(row(plain, "G").statistic, ref.statistic)


def test_apim_family_writes_its_table():
    data = sim_data(n_couples=200, c=0.3, seed=15)
    out = hy.run_hypotheses([{"id": "A1", "family": "apim", "x": "ecr_r_anxiety", "y": "ecr_r_avoidance"}], data,
                            FAST, seed=4)
    table = out.files["A1_apim"]
    assert list(table.columns) == ["effect", "role", "estimate", "se", "z", "p", "ci_low", "ci_high", "std_estimate"]
    assert list(table.effect) == ["actor", "partner", "k"] and set(table.role) == {"both"}
    xa, xb = _partners(data, ["ecr_r_anxiety", "ecr_r_avoidance"])
    ref = dy.apim(xa[:, 0], xa[:, 1], xb[:, 0], xb[:, 1], distinguishable=False).table()
    pd.testing.assert_frame_equal(table.drop(columns=["ci_low", "ci_high"]), ref.drop(columns=["ci_low", "ci_high"]))
    r = row(out, "A1")
    assert r.effect_size_name == "apim_partner" and math.isclose(r.effect_size, table.estimate[1])
    assert r.effect_size > 0 and bool(r.supported)  # complementarity c = .3 is a partner effect
    k = row(out, "A1[k_both]")
    assert math.isclose(k.effect_size, table.estimate[2]) and k.ci_low < k.effect_size < k.ci_high


# ---------------------------------------------------------------------------
# hypotheses.csv: columns, correction, support, reproducibility


def test_table_correction_support_and_reproducibility():
    data = sim_data(n_couples=120, c=0.3, seed=13)
    entries = [{"id": "H1", "family": "complementarity"},
               {"id": "H2", "family": "minmax_complementarity"},
               {"id": "H4", "family": "correlation", "x": "minmax_index", "y": "ecr_r_anxiety", "direction": "less"},
               {"id": "H7", "family": "dimensions_distinct", "cfa": False}]
    out = hy.run_hypotheses(entries, data, FAST, seed=5)
    t = out.table
    assert tuple(t.columns) == hy.HYPOTHESES_COLUMNS
    prim = t[t.primary]
    assert list(prim.id) == ["H1", "H2", "H4", "H7"] and (t.cohort == "sim").all()
    np.testing.assert_allclose(prim.p_adjusted, multipletests(prim.p_value, method="holm")[1])
    # H4: minmax_index relates positively to anxiety, declared 'less' -> p large and not supported
    assert row(out, "H4").effect_size > 0 and not bool(row(out, "H4").supported)
    expect = (prim.p_adjusted < prim.alpha) & np.array([hy._in_direction(e, n, d) for e, n, d in
                                                         zip(prim.effect_size, prim.null_value, prim.direction)])
    assert (prim.supported.astype(bool) == expect).all()
    again = hy.run_hypotheses(entries, data, FAST, seed=5).table
    pd.testing.assert_frame_equal(t, again)
    # another hypothesis added: a permutation p does not change (seed per id)
    more = hy.run_hypotheses(entries + [{"id": "H3", "family": "pairing_symmetry"}], data, FAST, seed=5).table
    assert more[more.id == "H2[min_max_couples]"].p_value.iloc[0] == row(out, "H2[min_max_couples]").p_value
    bh = hy.run_hypotheses(entries, data, {**FAST, "correction": "bh"}, seed=5).table
    np.testing.assert_allclose(bh[bh.primary].p_adjusted, multipletests(prim.p_value, method="fdr_bh")[1])


def test_mixed_alpha_levels_need_a_weighted_correction():
    data = sim_data(n_couples=120, c=0.3, seed=13)
    entries = [{"id": "H1", "family": "complementarity", "alpha": 0.04},
               {"id": "H2", "family": "minmax_complementarity", "alpha": 0.01}]
    with pytest.raises(ValueError, match="holm needs one alpha"):
        hy.run_hypotheses(entries, data, FAST)
    out = hy.run_hypotheses(entries, data, {**FAST, "correction": "weighted_holm"}, seed=5)
    prim = out.table[out.table.primary]
    np.testing.assert_allclose(prim.p_adjusted, inference.adjust_pvalues_weighted(prim.p_value, [0.04, 0.01]))
    in_dir = np.array([hy._in_direction(e, n, d) for e, n, d in zip(prim.effect_size, prim.null_value, prim.direction)])
    assert (prim.supported.astype(bool) == ((prim.p_adjusted < 0.05) & in_dir)).all()
    assert "share of the family-wise level 0.05" in prim.note.iloc[0]


def test_demo_cohort_complementarity(tmp_path):
    """The shipped demo (150 couples, planted latent complementarity .25): found by the cross-partner path."""
    from attachment_pipeline.config import load_study, read_config_file
    from attachment_pipeline.steps import read_scores, score_cohort

    study = load_study(read_config_file(REPO / "config" / "config.yaml"), REPO)
    cohort = study.cohorts["demo"]
    cohort = type(cohort)(**{**cohort.__dict__, "responses": REPO / cohort.responses})
    out = {k: tmp_path / f"{k}.csv" for k in ("keyed_items", "scores", "missingness")}
    out["validation"] = tmp_path / "validation.json"
    score_cohort(cohort, study.scoring, out)
    scores = read_scores(out["scores"])
    data = hy.CohortData("demo", scores, items=read_scores(out["keyed_items"]), couple_column="couple_id",
                         role_column="partner", instruments=cohort.instruments)
    res = hy.run_hypotheses([{"id": "H1", "family": "complementarity"}], data,
                            {"n_permutations": 2000, "n_bootstrap": 200}, seed=study.seed)
    r = row(res, "H1")
    assert r.n == 148 and "indistinguishable" in r.note
    assert r.effect_size > 0.1 and r.p_value < 0.01 and bool(r.supported)


# ---------------------------------------------------------------------------
# indistinguishable dyads: every reported number is the same under any labelling


def _relabelled(data: hy.CohortData, seed: int) -> hy.CohortData:
    """Swap the role labels of half the couples, shuffle the rows, rename respondents and couples."""
    rng = np.random.default_rng(seed)
    s = data.scores.copy()
    couples = sorted(s.couple_id.dropna().unique())
    swap = set(np.array(couples)[rng.random(len(couples)) < 0.5])
    s["partner"] = [({"A": "B", "B": "A"}[p] if c in swap else p) if isinstance(c, str) else p
                    for c, p in zip(s.couple_id, s.partner)]
    new_ids = {old: f"X{k:05d}" for k, old in enumerate(rng.permutation(s.index.to_numpy()))}
    new_couples = {old: f"Q{k:04d}" for k, old in enumerate(rng.permutation(couples))}
    s["couple_id"] = s.couple_id.map(new_couples)
    s.index = pd.Index([new_ids[i] for i in s.index], name=s.index.name)
    s = s.iloc[rng.permutation(len(s))]
    cl = data.classification.copy()
    cl["respondent_id"] = cl.respondent_id.map(new_ids)
    cl = cl.iloc[rng.permutation(len(cl))]
    items = data.items.copy()
    items.index = pd.Index([new_ids[i] for i in items.index], name=items.index.name)
    ch = data.children.copy()
    ch["parent_id"] = ch.parent_id.map(new_ids)
    ch["child_id"] = [f"Z{k:04d}" for k in rng.permutation(len(ch))]
    ch = ch.iloc[rng.permutation(len(ch))]
    return hy.CohortData(**{**data.__dict__, "scores": s, "classification": cl, "items": items, "children": ch})


def test_indistinguishable_dyads_give_the_same_numbers_under_any_labelling():
    base = sim_data(n_couples=150, c=0.25, seed=21, n_singles=40, n_children=120, transmission_rate=0.4,
                    child_code_probs=(0.15, 0.6, 0.1, 0.15), sibling_rate=0.3, two_parent_rate=0.3)
    base = hy.CohortData(**{**base.__dict__, "distinguishable": "false"})
    entries = [{"id": "H1", "family": "complementarity"},
               {"id": "H1b", "family": "complementary_pairing"},
               {"id": "H1c", "family": "apim", "x": "ecr_r_anxiety", "y": "ecr_r_avoidance"},
               {"id": "H2", "family": "minmax_complementarity"},
               {"id": "H3", "family": "pairing_symmetry"},
               {"id": "H3s", "family": "pairing_symmetry", "by": "style"},
               {"id": "H4", "family": "correlation", "x": "minmax_index", "y": "ecr_r_anxiety"},
               {"id": "H5", "family": "prevalence"},
               {"id": "H6", "family": "transmission"},
               {"id": "H7", "family": "dimensions_distinct", "cfa": False},
               {"id": "H8", "family": "duration"}]
    settings = {"n_permutations": 499, "n_bootstrap": 200}
    ref = hy.run_hypotheses(entries, base, settings, seed=7)
    numeric = ["n", "statistic", "df", "p_value", "p_adjusted", "effect_size", "ci_low", "ci_high", "null_value"]
    for seed in (1, 2):
        other = hy.run_hypotheses(entries, _relabelled(base, seed), settings, seed=7)
        a, b = ref.table, other.table
        assert list(a.id) == list(b.id)
        np.testing.assert_allclose(b[numeric].to_numpy(float), a[numeric].to_numpy(float), rtol=1e-9, atol=1e-12)
        assert [str(v) for v in a.supported] == [str(v) for v in b.supported]
        assert list(b.note) == list(a.note)
        for name, table in ref.tables.items():
            pd.testing.assert_frame_equal(other.tables[name], table, rtol=1e-9)
        pd.testing.assert_frame_equal(other.files["H1c_apim"], ref.files["H1c_apim"], rtol=1e-9)


def test_the_registry_is_light():
    """Importing the family registry (as the config check does) loads no numpy, pandas or scipy."""
    import subprocess
    import sys
    code = ("import sys; import attachment_pipeline.hypotheses.registry as r; r.check_hypotheses("
            "[{'id': 'H1', 'family': 'complementarity'}]); "
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
