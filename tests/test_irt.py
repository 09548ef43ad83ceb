"""Graded response model: hand calculations, independent integrals, mirt's and lavaan's reference values,
parameter recovery by simulation, DIF, and the pipeline step."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special, stats

from attachment_pipeline import irt
from helpers import REPO, make_responses, study_for

DATA = REPO / "tests" / "data"
REFERENCE = REPO / "tests" / "reference"


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def mirt_reference():
    ref = json.loads((REFERENCE / "irt_mirt.json").read_text())
    for name, digest in ref["meta"]["data_files"].items():
        assert md5(REPO / name) == digest, name
    return ref


@pytest.fixture(scope="module")
def science():
    return pd.read_csv(DATA / "irt_science.csv")


@pytest.fixture(scope="module")
def science_fit(science):
    return irt.fit_grm(science)


@pytest.fixture(scope="module")
def lsat7():
    table = pd.read_csv(DATA / "irt_lsat7.csv")
    return table.loc[table.index.repeat(table["freq"])].drop(columns="freq").reset_index(drop=True)


@pytest.fixture(scope="module")
def lsat7_fit(lsat7):
    return irt.fit_grm(lsat7)


def slope_intercepts(fit: irt.GRMFit) -> np.ndarray:
    """(a1, d11, d12, .., a2, ..) as mirt prints coef()."""
    out = []
    for j in range(len(fit.items)):
        out += [fit.a[j], *fit.d[j, : fit.n_categories[j] - 1]]
    return np.array(out)


def engine_for(fit: irt.GRMFit) -> irt._Engine:
    data = fit.data
    layout = irt._Layout(block_of=np.arange(len(fit.items))[:, None], n_cat=data.n_categories, free_groups=())
    codes, group, freq, _ = irt._collapse_patterns(data.codes, np.zeros(data.n, dtype=np.int64))
    return irt._Engine(codes, group, freq, layout, fit.link, fit.nodes)


# ----------------------------------------------------------------------------- item response functions
@pytest.mark.parametrize("link", irt.LINKS)
def test_category_probabilities_by_hand(link):
    theta, a, b = np.array([-0.7, 0.0, 1.3]), 1.4, np.array([-1.0, 0.2, 1.5])
    cdf = special.expit if link == "logistic" else stats.norm.cdf
    star = np.column_stack([np.ones(3)] + [cdf(a * (theta - bk)) for bk in b] + [np.zeros(3)])
    expected = star[:, :-1] - star[:, 1:]
    got = irt.graded_probabilities(theta, a, b, link)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(irt.expected_item_score(theta, a, b, link), got @ np.arange(4), rtol=1e-12)


def test_extreme_trait_levels_keep_probabilities_in_log_space():
    p = irt.graded_probabilities([-60.0, 60.0], 2.0, [-1.0, 1.0])
    assert np.all(np.isfinite(p)) and p[0, 0] == pytest.approx(1.0) and p[1, 2] == pytest.approx(1.0)
    logp = irt._log_cdf_difference(np.array([-40.0]), np.array([-41.0]), "normal")
    assert np.isfinite(logp[0]) and logp[0] < -700  # underflows as a probability, not as a log


@pytest.mark.parametrize("link", irt.LINKS)
def test_item_information_is_the_fisher_information(link):
    """Samejima's formula against sum_k (dP_k/dtheta)^2 / P_k by central differences, and the 2PL closed form."""
    theta, a, b = np.linspace(-3, 3, 13), 1.7, np.array([-1.2, -0.1, 0.6, 2.0])
    h = 1e-5
    dp = (irt.graded_probabilities(theta + h, a, b, link) - irt.graded_probabilities(theta - h, a, b, link)) / (2 * h)
    numeric = (dp ** 2 / irt.graded_probabilities(theta, a, b, link)).sum(axis=1)
    np.testing.assert_allclose(irt.item_information(theta, a, b, link), numeric, rtol=1e-7)
    p = special.expit(2.0 * (theta - 0.3))
    np.testing.assert_allclose(irt.item_information(theta, 2.0, [0.3]), 4.0 * p * (1 - p), rtol=1e-12)


def test_eap_of_a_one_item_test_matches_the_closed_form():
    """Normal ogive, one 0/1 item: E[theta | X = 1] = a phi(c) / (sqrt(1 + a^2) Phi(c)), c = d / sqrt(1 + a^2)."""
    a, d = 1.3, 0.4
    fit = irt.GRMFit(items=("i",), categories=((0.0, 1.0),), link="normal", nodes=irt.quadrature_grid(),
                     a=np.array([a]), d=np.array([[d]]), cov=np.eye(2), loglik=0.0, n=1, npar=2, converged=True,
                     iterations=0, max_gradient=0.0, data=None)
    c = d / np.sqrt(1 + a * a)
    expected_1 = a * stats.norm.pdf(c) / (np.sqrt(1 + a * a) * stats.norm.cdf(c))
    expected_0 = -a * stats.norm.pdf(c) / (np.sqrt(1 + a * a) * stats.norm.cdf(-c))
    mean, sd = irt._posterior_moments(fit, np.array([[1], [0]]), irt.normal_log_weights(fit.nodes))
    assert mean[0] == pytest.approx(expected_1, abs=1e-8)
    assert mean[1] == pytest.approx(expected_0, abs=1e-8)
    # posterior variance by direct integration
    f = lambda t: stats.norm.pdf(t) * stats.norm.cdf(a * t + d)  # noqa: E731
    m0 = integrate.quad(f, -np.inf, np.inf)[0]
    m2 = integrate.quad(lambda t: t * t * f(t), -np.inf, np.inf)[0] / m0
    assert sd[0] == pytest.approx(np.sqrt(m2 - expected_1 ** 2), abs=1e-7)  # the grid ends at +-6 SD


# ----------------------------------------------------------------------------- the likelihood
def brute_force_loglik(fit: irt.GRMFit, row: np.ndarray) -> float:
    """log integral prod_{answered j} P_j(x_j | t) phi(t) dt for one respondent, by adaptive quadrature."""
    answered = [(j, int(k)) for j, k in enumerate(row) if k >= 0]
    params = [fit.item_parameters(j) for j, _ in answered]

    def lik(t):
        out = stats.norm.pdf(t)
        for (j, k), (a, b) in zip(answered, params):
            out *= irt.graded_probabilities([t], a, b, fit.link)[0, k]
        return out

    return np.log(integrate.quad(lik, -10, 10, points=[0.0], epsabs=1e-14, epsrel=1e-11, limit=200)[0])


@pytest.fixture(scope="module")
def small_fit():
    rng = np.random.default_rng(11)
    a, b = np.array([1.2, 2.0, 0.8, 1.6]), np.array([[-1.0, 0.3], [-0.4, 0.9], [-1.5, 0.0], [0.2, 1.4]])
    x = irt.simulate_grm(a, b, rng.standard_normal(120), rng).astype(float) + 1
    x[rng.random(x.shape) < 0.15] = np.nan  # some respondents answered only some items
    return irt.fit_grm(pd.DataFrame(x, columns=["q1", "q2", "q3", "q4"]), scale=(1, 3))


def test_loglik_at_the_estimates_equals_an_independent_integral(small_fit):
    """Per distinct response pattern (the likelihood over the items answered), then the total."""
    assert small_fit.converged
    codes = small_fit.data.codes
    assert (codes < 0).any() and (codes >= 0).any(axis=1).all()
    engine = engine_for(small_fit)
    vec = irt._pack(engine.layout, small_fit.a, small_fit.d)
    _, _, per_pattern = engine._posterior(engine.table(vec)[0], 0, engine.Y.shape[0])
    brute = np.array([brute_force_loglik(small_fit, row) for row in engine.codes])
    np.testing.assert_allclose(per_pattern, brute, atol=1e-8)
    assert small_fit.loglik == pytest.approx(float(engine.freq @ brute), abs=1e-7)


def test_estimates_are_a_maximum_and_the_hessian_is_exact(small_fit):
    engine = engine_for(small_fit)
    vec = irt._pack(engine.layout, small_fit.a, small_fit.d)
    ll, grad, hess, _ = engine.derivatives(vec)
    assert np.max(np.abs(grad)) < 1e-6
    h = 1e-5
    numeric = np.array([(engine.gradient(vec + h * e)[1] - engine.gradient(vec - h * e)[1]) / (2 * h)
                        for e in np.eye(vec.size)])
    np.testing.assert_allclose(hess, numeric, atol=1e-5 * np.abs(hess).max())
    np.testing.assert_allclose(small_fit.se_a, np.sqrt(np.diag(np.linalg.inv(-numeric)))[engine.layout.offsets],
                               rtol=1e-5)
    # no direction improves the log-likelihood
    for e in np.eye(vec.size)[:4]:
        assert engine.loglik(vec + 1e-3 * e) < ll and engine.loglik(vec - 1e-3 * e) < ll


def test_thresholds_and_their_delta_method_standard_errors(small_fit):
    np.testing.assert_allclose(small_fit.b, -small_fit.d / small_fit.a[:, None])
    j, k = 1, 0
    pos = small_fit._positions()
    ia, idk = pos[j, 0], pos[j, k + 1]
    cov = small_fit.cov[np.ix_([ia, idk], [ia, idk])]
    a, d = small_fit.a[j], small_fit.d[j, k]
    grad = np.array([d / a ** 2, -1 / a])
    assert small_fit.se_b[j, k] == pytest.approx(np.sqrt(grad @ cov @ grad), rel=1e-12)


# ----------------------------------------------------------------------------- R mirt's reference values
def test_science_graded_model_agrees_with_mirt(science_fit, mirt_reference):
    ref = mirt_reference["science"]
    assert science_fit.converged and science_fit.n == 392
    ours = slope_intercepts(science_fit)
    # mirt's EM stops at TOL = 1e-4; ours is the maximum: a higher likelihood than at mirt's estimates
    engine = engine_for(science_fit)
    at_mirt = np.array(ref["louis_estimates"])
    assert science_fit.loglik > engine.loglik(at_mirt)
    assert science_fit.loglik - engine.loglik(at_mirt) < 1e-3
    np.testing.assert_allclose(ours, ref["coef_default"], rtol=ref["coef_default_tolerance"], atol=0.015)
    # Louis standard errors evaluated at mirt's estimates reproduce mirt's
    _, _, hess, _ = engine.derivatives(at_mirt)
    np.testing.assert_allclose(np.sqrt(np.diag(np.linalg.inv(-hess))), ref["louis_se"], rtol=ref["louis_tolerance"])


def test_science_c2_and_eap_agree_with_mirt(science_fit, mirt_reference):
    ref = mirt_reference["science"]
    fit = irt.limited_information_fit(science_fit)
    assert fit.m2_statistic == "C2" and fit.df == 2  # M2* has no degrees of freedom with 4 items
    assert fit.m2 == pytest.approx(ref["c2"], rel=1e-3)
    assert fit.p == pytest.approx(ref["c2_p"], rel=2e-3)
    codes = np.array([[v - 1 for v in ref["eap_pattern"]]])
    mean, sd = irt._posterior_moments(science_fit, codes, irt.normal_log_weights(science_fit.nodes))
    assert mean[0] == pytest.approx(ref["eap_theta"], abs=1e-4)
    assert sd[0] == pytest.approx(ref["eap_se"], abs=1e-4)


def test_lsat7_two_parameter_model_m2_and_item_fit_agree_with_mirt(lsat7_fit, mirt_reference):
    ref = mirt_reference["lsat7"]
    np.testing.assert_allclose(slope_intercepts(lsat7_fit), ref["coef_sem"], atol=2e-3)
    fit = irt.limited_information_fit(lsat7_fit)
    assert fit.m2_statistic == "M2" and fit.df == ref["m2_df"]
    assert fit.m2 == pytest.approx(ref["m2"], abs=ref["m2_tolerance_abs"])
    items = irt.item_fit(lsat7_fit)
    np.testing.assert_allclose(items["s_x2"], ref["s_x2"], atol=ref["s_x2_tolerance_abs"])
    assert items["s_x2_df"].tolist() == ref["s_x2_df"]


def test_dif_likelihood_ratios_agree_with_mirt(mirt_reference):
    ref = mirt_reference["dif1"]
    data = pd.read_csv(DATA / "irt_dif1.csv")
    items = data.drop(columns="group")
    anchored = irt.dif_tests(items, data["group"], "D1", "D2", anchors=ref["anchors"])
    tested = anchored[anchored["test"] != "anchor"]
    assert list(tested["item"]) == [f"Item_{i}" for i in range(6, 11)]
    np.testing.assert_allclose(tested["p"], ref["p_anchored"], rtol=ref["p_tolerance"] * 10, atol=2e-6)
    assert (tested["df"] == 2).all() and (tested["test"] == "LR").all()
    drop = irt.dif_tests(items, data["group"], "D1", "D2")
    assert drop.loc[drop["item"] == "Item_1", "statistic"].item() == pytest.approx(ref["x2_drop_item1"], rel=1e-3)


# ----------------------------------------------------------------------------- lavaan: the normal-ogive GRM
@pytest.fixture(scope="module")
def lavaan_reference():
    ref = json.loads((REFERENCE / "irt_lavaan.json").read_text())
    for name, digest in ref["meta"]["data_files"].items():
        assert md5(REPO / name) == digest, name
    return ref


@pytest.fixture(scope="module")
def normal_fit():
    return irt.fit_grm(pd.read_csv(DATA / "irt_normal_ogive.csv"), link="normal")


def gauss_hermite_loglik(fit: irt.GRMFit, a: np.ndarray, d: np.ndarray, points: int) -> float:
    """The marginal log-likelihood at (a, d) with Gauss-Hermite quadrature (lavaan's MML integration)."""
    data = fit.data
    nodes, weights = np.polynomial.hermite_e.hermegauss(points)
    layout = irt._Layout(block_of=np.arange(len(fit.items))[:, None], n_cat=data.n_categories, free_groups=())
    codes, group, freq, _ = irt._collapse_patterns(data.codes, np.zeros(data.n, dtype=np.int64))
    engine = irt._Engine(codes, group, freq, layout, fit.link, nodes)
    table = engine.table(irt._pack(layout, a, d))[0]
    table[-1] = np.log(weights / weights.sum())
    return float(freq @ engine._posterior(table, 0, engine.Y.shape[0])[2])


def test_normal_ogive_model_is_lavaans_full_information_model(normal_fit, lavaan_reference):
    """lavaan cfa(ordered = TRUE, estimator = "MML", std.lv = TRUE): loadings = a, thresholds = -d.

    The likelihoods are the same function: ours, integrated with lavaan's 61-point Gauss-Hermite
    rule at lavaan's estimates, is lavaan's objective. lavaan's rule is itself 0.04 off for these
    data (posterior SD about 0.3), our equally spaced grid agrees with 201 Gauss-Hermite points to
    1e-6, so the estimates differ by a few 1e-4 and the standard errors by a few 0.1%.
    """
    ref = lavaan_reference["mml"]
    assert ref["converged"]
    lavaan_a, lavaan_d = np.array(ref["loadings"]), -np.array(ref["thresholds"])
    assert gauss_hermite_loglik(normal_fit, lavaan_a, lavaan_d, 61) == pytest.approx(-ref["objective"], abs=1e-6)
    assert normal_fit.loglik == pytest.approx(gauss_hermite_loglik(normal_fit, normal_fit.a, normal_fit.d, 201),
                                              abs=1e-6)
    np.testing.assert_allclose(normal_fit.a, lavaan_a, atol=2e-3)
    np.testing.assert_allclose(normal_fit.d, lavaan_d, atol=2e-3)
    np.testing.assert_allclose(normal_fit.se_a, ref["se_loadings"], rtol=5e-3)
    np.testing.assert_allclose(normal_fit.se_d, np.array(ref["se_thresholds"]), rtol=5e-3)


def test_normal_ogive_model_agrees_with_the_ordinal_cfa_relation(normal_fit, lavaan_reference):
    """WLSMV (limited information) loadings lambda and thresholds tau: a = lambda / sqrt(1 - lambda^2), b = tau / lambda."""
    ref = lavaan_reference["wlsmv"]
    lam, tau = np.array(ref["std_loadings"]), np.array(ref["std_thresholds"])
    np.testing.assert_allclose(normal_fit.a, lam / np.sqrt(1 - lam ** 2), atol=0.05)
    np.testing.assert_allclose(normal_fit.b, tau / lam[:, None], atol=0.06)
    # the logistic fit of the same data is about 1.702 times steeper
    logistic = irt.fit_grm(normal_fit.data)
    assert np.median(logistic.a / normal_fit.a) == pytest.approx(1.702, rel=0.04)


def test_demo_normal_ogive_fit_agrees_with_lavaan_wlsmv(lavaan_reference):
    """The demo's subscales (listwise, as lavaan): slopes within half a standard error of WLSMV's."""
    from attachment_pipeline.instruments import load_instrument

    inst = load_instrument("ecr_r")
    raw = pd.read_csv(REPO / "data" / "raw" / "demo" / "responses.csv")
    items = raw[[f"ecr_{k}" for k in range(1, 37)]].astype(float).where(lambda x: ~x.isin([-1, 99]))
    for k in inst.reverse_keyed:
        items[f"ecr_{k}"] = 8 - items[f"ecr_{k}"]
    items.columns = [f"ecr_r_{k}" for k in range(1, 37)]
    for sub in ("anxiety", "avoidance"):
        ref = lavaan_reference["demo"][sub]
        fit = irt.fit_grm(items[ref["items"]].dropna(), link="normal", scale=(1, 7))
        assert fit.n == ref["n"]
        lam, tau = np.array(ref["std_loadings"]), np.array(ref["std_thresholds"])
        a, b = lam / np.sqrt(1 - lam ** 2), tau / lam[:, None]
        assert np.max(np.abs(fit.a - a) / fit.se_a) < 0.6
        full = fit.n_categories == 7
        assert np.abs(fit.b[full] - b[full]).mean() < 0.03 and np.abs(fit.b[full] - b[full]).max() < 0.15


def test_demo_normal_ogive_fit_agrees_with_the_engines_ordinal_cfa(lavaan_reference):
    """The cross-check of issue 14 on the project's own engine: its WLSMV one-factor CFA of each demo
    subscale reproduces lavaan's standardized loadings and thresholds, and a = lambda / sqrt(1 - lambda^2),
    b = tau / lambda agree with the normal-ogive GRM as closely as lavaan's do."""
    from attachment_pipeline import sem
    from attachment_pipeline.instruments import load_instrument

    inst = load_instrument("ecr_r")
    raw = pd.read_csv(REPO / "data" / "raw" / "demo" / "responses.csv")
    items = raw[[f"ecr_{k}" for k in range(1, 37)]].astype(float).where(lambda x: ~x.isin([-1, 99]))
    for k in inst.reverse_keyed:
        items[f"ecr_{k}"] = 8 - items[f"ecr_{k}"]
    items.columns = [f"ecr_r_{k}" for k in range(1, 37)]
    for sub in ("anxiety", "avoidance"):
        ref = lavaan_reference["demo"][sub]
        cols = ref["items"]
        res = sem.fit("f =~ " + " + ".join(cols), items[cols], estimator="wlsmv", missing="listwise", ordered=True)
        e = res.estimates
        lam = e[e.op == "=~"].std_all.to_numpy()
        np.testing.assert_allclose(lam, ref["std_loadings"], atol=1e-4)
        fit = irt.fit_grm(items[cols].dropna(), link="normal", scale=(1, 7))
        a = lam / np.sqrt(1 - lam ** 2)
        assert np.max(np.abs(fit.a - a) / fit.se_a) < 0.6
        tau = [e[(e.op == "|") & (e.lhs == c)].std_all.to_numpy() for c in cols]
        full = fit.n_categories == 7
        b = np.array([t / lm for t, lm in zip(tau, lam) if len(t) == 6])
        assert np.abs(fit.b[full] - b).mean() < 0.03


# ----------------------------------------------------------------------------- recovery and scores
def test_parameter_recovery_with_missing_answers():
    """Known parameters, 5 replications of 1500 respondents with 10% of answers missing: small bias,
    and the standard errors match the spread of the estimates."""
    rng = np.random.default_rng(20261127)
    a = np.array([0.9, 1.4, 2.0, 2.6, 1.2, 1.8])
    b = np.sort(rng.normal(0, 1, (6, 4)), axis=1)
    est_a, est_b, se_a = [], [], []
    for _ in range(5):
        x = irt.simulate_grm(a, b, rng.standard_normal(1500), rng).astype(float)
        x[rng.random(x.shape) < 0.10] = np.nan
        fit = irt.fit_grm(pd.DataFrame(x))
        assert fit.converged
        est_a.append(fit.a), est_b.append(fit.b), se_a.append(fit.se_a)
    est_a, est_b, se_a = np.array(est_a), np.array(est_b), np.array(se_a)
    assert np.abs(est_a.mean(axis=0) - a).max() < 0.12
    assert np.abs(est_b.mean(axis=0) - b).max() < 0.12
    assert np.sqrt(((est_a - a) ** 2).mean()) < 0.2
    assert 0.5 < np.sqrt(((est_a - a) ** 2).mean()) / se_a.mean() < 1.6


def test_scores_eap_and_ml():
    rng = np.random.default_rng(4)
    theta = rng.standard_normal(800)
    a, b = np.full(8, 1.8), np.tile([-1.0, 0.0, 1.0], (8, 1))
    x = irt.simulate_grm(a, b, theta, rng).astype(float)
    x[0] = 0          # all lowest: ML at -infinity
    x[1, :4] = np.nan  # half the items answered
    frame = pd.DataFrame(x, index=[f"r{i}" for i in range(800)])
    fit = irt.fit_grm(frame)
    scores = irt.score_grm(fit)
    assert list(scores.index) == list(frame.index)
    assert np.isnan(scores.loc["r0", "theta_ml"]) and np.isfinite(scores.loc["r0", "theta_eap"])
    assert scores.loc["r1", "n_items"] == 4 and scores.loc["r1", "se_eap"] > scores["se_eap"].median()
    assert np.corrcoef(scores["theta_eap"], theta)[0, 1] > 0.9
    # ML by a one-dimensional search over the respondent's own likelihood
    row = fit.data.codes[5]

    def negloglik(t):
        return -sum(np.log(irt.graded_probabilities([t], *fit.item_parameters(j))[0, k]) for j, k in enumerate(row))

    best = optimize.minimize_scalar(negloglik, bounds=(-6, 6), method="bounded", options={"xatol": 1e-10}).x
    assert scores.iloc[5]["theta_ml"] == pytest.approx(best, abs=1e-6)
    info = irt.total_information(fit, [best])[0]
    assert scores.iloc[5]["se_ml"] == pytest.approx(1 / np.sqrt(info), rel=1e-6)
    assert 0.8 < irt.empirical_reliability(scores) < irt.marginal_reliability(fit) + 0.02


def test_marginal_reliability_is_mirts_integral(small_fit):
    f = lambda t: (lambda i: i / (i + 1))(irt.total_information(small_fit, [t])[0]) * stats.norm.pdf(t)  # noqa: E731
    assert irt.marginal_reliability(small_fit) == pytest.approx(integrate.quad(f, -np.inf, np.inf)[0], abs=1e-9)


# ----------------------------------------------------------------------------- limited-information fit
def test_m2_star_by_enumerating_every_response_pattern(small_fit):
    """M2* from its definition: pattern probabilities by quadrature, Xi and Delta from them (tiny case, complete data)."""
    rng = np.random.default_rng(2)
    n_items = 6
    x = irt.simulate_grm([1.5, 1.0, 2.0, 1.2, 0.8, 1.7], [[-0.5, 0.7]] * n_items, rng.standard_normal(500),
                         rng).astype(float)
    fit = irt.fit_grm(pd.DataFrame(x))
    got = irt.limited_information_fit(fit, "M2*")
    patterns = np.array(np.meshgrid(*[range(3)] * n_items, indexing="ij")).reshape(n_items, -1).T
    w = np.exp(irt.normal_log_weights(fit.nodes))

    def pattern_probs(vec):
        a, d = vec[0::3], np.column_stack([vec[1::3], vec[2::3]])
        logp = irt._item_tables(a, d, np.full(n_items, 3), fit.nodes, "logistic")[0]
        return np.exp(sum(logp[j, patterns[:, j]] for j in range(n_items))) @ w

    jj, ll = np.triu_indices(n_items, 1)
    moments = np.hstack([patterns, patterns[:, jj] * patterns[:, ll]]).astype(float)
    vec = irt._pack(engine_for(fit).layout, fit.a, fit.d)
    pi = pattern_probs(vec)
    e = pi @ moments
    xi = (moments * pi[:, None]).T @ moments - np.outer(e, e)
    h = 1e-6
    delta = np.column_stack([(pattern_probs(vec + h * u) - pattern_probs(vec - h * u)) @ moments / (2 * h)
                             for u in np.eye(vec.size)])
    q = np.linalg.qr(delta, mode="complete")[0][:, vec.size:]
    c = q @ np.linalg.solve(q.T @ xi @ q, q.T)
    obs = np.hstack([x, x[:, jj] * x[:, ll]]).mean(axis=0)
    m2 = 500 * (obs - e) @ c @ (obs - e)
    assert got.m2 == pytest.approx(m2, rel=1e-5)
    assert got.df == 6 + 15 - 18
    assert got.p == pytest.approx(stats.chi2.sf(m2, 3), rel=1e-4)


def test_m2_rejects_a_two_dimensional_truth():
    rng = np.random.default_rng(8)
    t = rng.standard_normal((2000, 2))
    a, b = np.full(6, 2.0), np.tile([-0.8, 0.2, 1.0], (6, 1))
    x = np.hstack([irt.simulate_grm(a[:3], b[:3], t[:, 0], rng), irt.simulate_grm(a[3:], b[3:], t[:, 1], rng)])
    fit = irt.limited_information_fit(irt.fit_grm(pd.DataFrame(x.astype(float))))
    assert fit.p < 1e-6 and fit.rmsea2 > 0.05


# ----------------------------------------------------------------------------- item fit
def test_sum_score_distribution_by_enumeration():
    prob = np.array([[[0.2], [0.5], [0.3]], [[0.6], [0.4], [0.0]], [[0.1], [0.3], [0.6]]])
    n_cat = np.array([3, 2, 3])
    dist = irt._sum_score_distribution(prob, n_cat, range(3), 5)[:, 0]
    brute = np.zeros(6)
    for x0 in range(3):
        for x1 in range(2):
            for x2 in range(3):
                brute[x0 + x1 + x2] += prob[0, x0, 0] * prob[1, x1, 0] * prob[2, x2, 0]
    np.testing.assert_allclose(dist, brute, rtol=1e-14)


def test_s_x2_flags_an_item_that_does_not_follow_the_model():
    rng = np.random.default_rng(9)
    theta = rng.standard_normal(3000)
    a, b = np.full(8, 1.8), np.tile([-1.0, 0.0, 1.0], (8, 1))
    x = irt.simulate_grm(a, b, theta, rng)
    x[:, 7] = irt.simulate_grm([1.8], [[-1.0, 0.0, 1.0]], -np.abs(theta) * 1.5 + 1, rng)[:, 0]  # not monotone
    fitstats = irt.item_fit(irt.fit_grm(pd.DataFrame(x.astype(float))))
    assert fitstats.loc[7, "p"] < 1e-6
    assert (fitstats.loc[:6, "p"] > 0.001).all()


# ----------------------------------------------------------------------------- DIF
def two_groups(rng, n=700, dif_item=2, shift=0.8, focal_mean=0.4):
    a, b = np.full(8, 1.8), np.tile([-1.2, -0.2, 0.8, 1.6], (8, 1)) + np.linspace(-0.5, 0.5, 8)[:, None]
    ref = irt.simulate_grm(a, b, rng.standard_normal(n), rng)
    b_focal = b.copy()
    b_focal[dif_item] += shift
    foc = irt.simulate_grm(a, b_focal, rng.normal(focal_mean, 1.2, n), rng)
    frame = pd.DataFrame(np.vstack([ref, foc]).astype(float) + 1, columns=[f"i{j + 1}" for j in range(8)])
    group = pd.Series(["r"] * n + ["f"] * n)
    return frame, group, b


def test_dif_finds_the_planted_item_with_the_right_effect_sizes():
    frame, group, b = two_groups(np.random.default_rng(3))
    out = irt.dif_tests(frame, group, "r", "f", scale=(1, 5))
    hit = out.set_index("item").loc["i3"]
    assert hit["p_adjusted"] < 1e-4
    assert (out.drop(index=2)["p_adjusted"] > 0.01).all()
    assert hit["sids"] < 0 and hit["essd"] < 0  # higher thresholds: lower expected answers for the focal group
    assert hit["signed_area"] == pytest.approx(-4 * 0.8, abs=0.6)  # sum_k (b_ref - b_focal), one unit per step
    assert hit["focal_mean"] == pytest.approx(0.4, abs=0.15)  # with the DIF item free, the others are clean anchors
    assert hit["focal_sd"] == pytest.approx(1.2, abs=0.2)  # SE about .05; unbiased over seeds (docs/irt.md)


def test_signed_area_is_the_integral_of_the_expected_score_difference():
    rng = np.random.default_rng(5)
    frame, group, _ = two_groups(rng, n=400)
    out = irt.dif_tests(frame, group, "r", "f", scale=(1, 5)).set_index("item")
    # refit the free model of item i3 to read its two parameter sets
    data = irt.prepare_responses(frame, (1, 5))
    g = (group.to_numpy() == "f").astype(np.int64)
    fit = irt._fit_two_groups(data.codes, g, data.n_categories, {2}, "logistic", irt.quadrature_grid(),
                              final_hessian=False)
    lay, vec = fit.layout, fit.solution.vec
    idx = lay.block_index()
    ref, foc = vec[idx[2, :5]], vec[idx[lay.block_of[2, 1], :5]]
    diff = lambda t: (irt.expected_item_score([t], foc[0], -foc[1:] / foc[0])  # noqa: E731
                      - irt.expected_item_score([t], ref[0], -ref[1:] / ref[0]))[0]
    area = integrate.quad(diff, -30, 30, limit=200)[0]
    assert out.loc["i3", "signed_area"] == pytest.approx(area, rel=1e-6)


def test_dif_with_couples_is_rescaled_for_the_pairing():
    rng = np.random.default_rng(6)
    n = 250
    theta = rng.multivariate_normal([0, 0.2], [[1, 0.5], [0.5, 1]], n)
    a, b = np.full(6, 1.7), np.tile([-1.0, 0.0, 1.0], (6, 1))
    x = np.vstack([irt.simulate_grm(a, b, theta[:, 0], rng), irt.simulate_grm(a, b, theta[:, 1], rng)]).astype(float)
    frame = pd.DataFrame(x + 1)
    role = pd.Series(["A"] * n + ["B"] * n)
    couple = pd.Series([f"c{i}" for i in range(n)] * 2)
    paired = irt.dif_tests(frame, role, "A", "B", clusters=couple)
    alone = irt.dif_tests(frame, role, "A", "B")
    assert (paired["test"] == "LR (cluster-scaled)").all() and (alone["test"] == "LR").all()
    np.testing.assert_allclose(paired["lr"], alone["statistic"], rtol=1e-8)
    np.testing.assert_allclose(paired["statistic"], paired["lr"] / paired["scale_factor"], rtol=1e-12)
    assert paired["scale_factor"].between(0.3, 3).all() and paired["wald"].notna().all()
    assert (paired["n_clusters"] == n).all()
    # singleton clusters are independent respondents: the plain LR test
    singles = irt.dif_tests(frame, role, "A", "B", clusters=pd.Series([f"p{i}" for i in range(2 * n)]))
    assert (singles["test"] == "LR").all()


def test_dif_merges_categories_a_group_never_used():
    frame, group, _ = two_groups(np.random.default_rng(7), n=300)
    frame.loc[group == "f", "i1"] = frame.loc[group == "f", "i1"].clip(upper=4)  # focal group never answers 5
    out = irt.dif_tests(frame, group, "r", "f", scale=(1, 5))
    assert "i1: 1 categories merged" in out["note"].iloc[0]
    assert out.set_index("item").loc["i1", "df"] == 4


# ----------------------------------------------------------------------------- tables and the pipeline step
def test_thresholds_on_the_response_scale_when_answers_are_missing():
    rng = np.random.default_rng(12)
    x = irt.simulate_grm(np.full(5, 1.5), np.tile([-1.0, 0.0, 1.0], (5, 1)), rng.standard_normal(300), rng) + 1
    x = x.astype(float)
    x[x[:, 0] == 2, 0] = 1  # item 1: nobody answered 2
    fit = irt.fit_grm(pd.DataFrame(x), scale=(1, 4))
    assert fit.categories[0] == (1.0, 3.0, 4.0)
    on_scale = irt.scale_thresholds(fit, 0, (1, 4))
    assert on_scale[0] == on_scale[1] == fit.b[0, 0]  # ">= 2" and ">= 3" are the same boundary
    assert on_scale[2] == fit.b[0, 1]


def test_bad_answers_are_refused_with_the_respondent_and_column():
    frame = pd.DataFrame({"q1": [1, 2, 3.5], "q2": [1, 2, 3]}, index=["a", "b", "c"])
    with pytest.raises(irt.IRTError, match=r"respondent c, column q1: 3.5 is not a valid answer \(allowed: whole"):
        irt.prepare_responses(frame)
    with pytest.raises(irt.IRTError, match=r"respondent b, column q2: 9"):
        irt.prepare_responses(pd.DataFrame({"q1": [1, 2], "q2": [1, 9]}, index=["a", "b"]), scale=(1, 7))
    with pytest.raises(irt.IRTError, match="fewer than two items"):
        irt.prepare_responses(pd.DataFrame({"q1": [1, 1], "q2": [2, 3]}))


def test_irt_step_writes_every_table(tmp_path):
    from attachment_pipeline.config import Irt
    from attachment_pipeline.steps import IRT_OUTPUTS, irt_cohort, read_scores, score_cohort

    raw = make_responses(n=160, seed=2)
    rng = np.random.default_rng(2)
    theta = rng.standard_normal((160, 2))
    raw.loc[:, [f"ecr_{k}" for k in range(1, 19)]] = irt.simulate_grm(np.full(18, 2.0), np.tile(
        np.linspace(-1.5, 1.5, 6), (18, 1)), theta[:, 0], rng) + 1
    raw.loc[:, [f"ecr_{k}" for k in range(19, 37)]] = irt.simulate_grm(np.full(18, 2.0), np.tile(
        np.linspace(-1.5, 1.5, 6), (18, 1)), theta[:, 1], rng) + 1
    raw.loc[3, "ecr_5"] = 99  # a missing code
    (tmp_path / "r.csv").write_text(raw.to_csv(index=False))
    study = study_for(tmp_path / "r.csv", groups=[])  # DIF across partner roles only (speed)
    cohort = study.cohorts["c"]
    out = {k: tmp_path / f"{k}.csv" for k in ("validation", "missingness", "keyed_items", "scores")}
    out["validation"] = tmp_path / "qc" / "validation.json"
    score_cohort(cohort, study.scoring, out)
    files = {k: tmp_path / f"{k}.csv" for k in IRT_OUTPUTS}
    irt_cohort(cohort, Irt(dif_min_group=50), out["keyed_items"], out["scores"], files)
    fit = pd.read_csv(files["irt_fit"])
    assert list(fit["subscale"]) == ["anxiety", "avoidance"] and fit["converged"].all()
    items = pd.read_csv(files["irt_items"])
    assert len(items) == 36 and {"a", "b1", "b6", "se_a", "se_b6", "s_x2", "p"} <= set(items.columns)
    info = pd.read_csv(files["irt_information"])
    assert set(info["item"]) >= {"test", "ecr_r_1"} and info["theta"].min() == -4
    scores = read_scores(files["irt_scores"])
    assert scores.index.name == "respondent_id" and len(scores) == 160
    assert scores.loc["P003", "ecr_r_anxiety_n_items"] == 17
    dif = pd.read_csv(files["irt_dif"])
    assert set(dif["comparison"]) == {"partner_role"} and len(dif) == 36
    assert dif["test"].eq("LR (cluster-scaled)").all() and (dif["n_clusters"] == 80).all()


def test_dif_comparisons_of_a_cohort():
    """One comparison per group column (largest level as reference; small levels left out and named)
    and one across partner roles; a column without two large levels gets a 'not run' row."""
    rng = np.random.default_rng(13)
    n = 420
    x = irt.simulate_grm(np.full(5, 1.8), np.tile([-1.0, 0.0, 1.0], (5, 1)), rng.standard_normal(n), rng) + 1
    keyed = pd.DataFrame(x.astype(float), columns=[f"s_{k}" for k in range(1, 6)], index=[f"r{i}" for i in range(n)])
    groups = pd.DataFrame({"site": ["north"] * 200 + ["south"] * 190 + ["east"] * 30,
                           "wave": ["w1"] * 400 + ["w2"] * 20}, index=keyed.index)
    tables = irt.grm_tables(keyed, {"all": list(keyed.columns)}, instrument="test", scale=(1, 4), groups=groups,
                            dif_min_group=100)
    dif = tables.dif
    site = dif[dif["comparison"] == "site"]
    assert set(site["reference"]) == {"north"} and set(site["focal"]) == {"south"} and len(site) == 5
    assert site["note"].str.contains("east").all() and (site["test"] == "LR").all()
    wave = dif[dif["comparison"] == "wave"]
    assert len(wave) == 1 and wave["test"].item() == "not run" and "w2 (n = 20)" in wave["note"].item()
    assert list(tables.scores.columns) == [f"test_all_{c}" for c in ("theta_eap", "se_eap", "theta_ml", "se_ml",
                                                                      "n_items")]
    assert tables.fit["m2_statistic"].item() == "C2" and tables.fit["df"].item() == 5 * 3 + 10 - 20  # M2* has none


def test_irt_settings_in_the_config():
    from attachment_pipeline.config import ConfigError, load_study
    from helpers import cohort_config

    path = REPO / "data" / "raw" / "demo" / "responses.csv"
    base = {"study": "t", "cohorts": {"c": cohort_config(path)}}
    study = load_study(base, REPO)
    assert study.irt.link == "logistic" and study.irt.quadrature_points == 61 and study.irt.dif
    assert [i.name for i in study.irt.instruments_for(study.cohorts["c"])] == ["ecr_r"]
    off = load_study(base | {"irt": {"instruments": []}}, REPO)
    assert off.irt.instruments_for(off.cohorts["c"]) == []
    with pytest.raises(ConfigError, match=r"`irt.instruments`: unknown instrument 'ecrr'"):
        load_study(base | {"irt": {"instruments": ["ecrr"]}}, REPO)
    with pytest.raises(ConfigError, match=r"`irt.dif_anchors.ecr_r`: item 37 does not exist"):
        load_study(base | {"irt": {"dif_anchors": {"ecr_r": [1, 37]}}}, REPO)
    with pytest.raises(ConfigError, match=r"`irt.link`"):
        load_study(base | {"irt": {"link": "probit"}}, REPO)


def test_demo_items_recover_the_simulators_normal_ogive_parameters():
    """The shipped demo was drawn from a normal-ogive GRM (attachment_pipeline.simulate) whose loadings
    lambda and thresholds tau are known: a = lambda / sqrt(1 - lambda^2), b = tau / lambda."""
    from attachment_pipeline.instruments import load_instrument
    from attachment_pipeline.simulate import DEMO_SEED, demo_settings, simulate_cohort

    truth = simulate_cohort(demo_settings(), DEMO_SEED).item_parameters
    lam, tau = truth.loadings, truth.thresholds
    a_true, b_true = lam / np.sqrt(1 - lam ** 2), tau / lam[:, None]
    inst = load_instrument("ecr_r")
    raw = pd.read_csv(REPO / "data" / "raw" / "demo" / "responses.csv")
    items = raw[[f"ecr_{k}" for k in range(1, 37)]].astype(float).where(lambda x: ~x.isin([-1, 99]))
    for k in inst.reverse_keyed:
        items[f"ecr_{k}"] = 8 - items[f"ecr_{k}"]
    z = []
    for sub, rows in (("anxiety", slice(0, 18)), ("avoidance", slice(18, 36))):
        fit = irt.fit_grm(items.iloc[:, rows], link="normal", scale=(1, 7))
        assert fit.converged and fit.n == 400
        z += list((fit.a - a_true[rows]) / fit.se_a)
        full = fit.n_categories == 7
        assert np.abs(fit.b[full] - b_true[rows][full]).mean() < 0.1
    z = np.array(z)
    assert np.abs(z).max() < 3.5 and abs(z.mean()) < 0.6  # 36 slopes within their standard errors


def test_a_subscale_that_cannot_be_fitted_is_reported_not_fatal():
    rng = np.random.default_rng(14)
    x = irt.simulate_grm(np.full(4, 1.8), np.tile([-1.0, 0.0, 1.0], (4, 1)), rng.standard_normal(200), rng) + 1
    keyed = pd.DataFrame(x.astype(float), columns=["g1", "g2", "g3", "g4"])
    keyed["e1"], keyed["e2"] = 2.0, np.nan  # one answer only; nobody answered
    tables = irt.grm_tables(keyed, {"good": ["g1", "g2", "g3", "g4"], "empty": ["e1", "e2"]}, instrument="t",
                            scale=(1, 4), dif=False)
    fit = tables.fit.set_index("subscale")
    assert bool(fit.loc["good", "converged"]) and fit.loc["good", "note"] == ""
    assert not fit.loc["empty", "converged"] and "fewer than two items" in fit.loc["empty", "note"]
    assert set(tables.items["subscale"]) == {"good"}


def test_degenerate_and_unconverged_fits_are_noted():
    fit = irt.GRMFit(items=("x", "y"), categories=((0.0, 1.0),) * 2, link="logistic", nodes=irt.quadrature_grid(),
                     a=np.array([12.0, 1.0]), d=np.zeros((2, 1)), cov=np.eye(4), loglik=0.0, n=10, npar=4,
                     converged=False, iterations=50, max_gradient=1.0, data=None)
    note = irt._fit_note(fit)
    assert "did not converge" in note and "slope above 10 for x" in note


# ----------------------------------------------------------------------------- the fast paths for large cohorts
def test_indicator_matrix_and_collapsed_patterns_match_their_definitions():
    """The CSR indicator built row by row equals the one built from (row, column) pairs, for one- and
    two-group layouts; collapsed patterns are np.unique(axis=0) of (group, codes), also when the rows
    do not fit in one 64-bit key (many items)."""
    from scipy import sparse

    rng = np.random.default_rng(21)
    for trial in range(12):
        n_items = int(rng.integers(2, 7)) if trial < 10 else 30
        n_cat = rng.integers(2, 6, n_items)
        codes = (rng.random((200, n_items)) * n_cat).astype(np.int16)
        codes[rng.random(codes.shape) < 0.2] = -1
        two = trial % 2 == 1
        group = rng.integers(0, 2, 200) if two else np.zeros(200, dtype=np.int64)
        layout = (irt._two_group_layout(n_cat, set(range(0, n_items, 2))) if two else
                  irt._Layout(block_of=np.arange(n_items)[:, None], n_cat=n_cat, free_groups=()))
        y = irt._Engine(codes, group, np.ones(200), layout, "logistic", irt.quadrature_grid()).Y
        rows, cols = np.nonzero(codes >= 0)
        cols = layout.block_of[cols, group[rows]] * layout.kmax + codes[rows, cols]
        rows, cols = np.r_[rows, np.arange(200)], np.r_[cols, layout.n_blocks * layout.kmax + group]
        expected = sparse.coo_matrix((np.ones(rows.size), (rows, cols)), shape=y.shape).tocsr()
        expected.sort_indices()
        assert np.array_equal(y.indptr, expected.indptr) and np.array_equal(y.indices, expected.indices)
        uniq, grp, freq, inverse = irt._collapse_patterns(codes, group)
        table, counts = np.unique(np.column_stack([group, codes]), axis=0, return_counts=True)
        assert np.array_equal(np.column_stack([grp, uniq]), table) and np.array_equal(freq, counts)
        assert np.array_equal(uniq[inverse], codes) and np.array_equal(grp[inverse], group)


@pytest.mark.parametrize("split", [None, (), (1, 3)])
def test_per_row_scores_are_the_posterior_means_of_the_complete_data_scores(split):
    """The vectorised per-pattern scores U of the Louis Hessian equal, pattern by pattern, the posterior
    mean of the complete-data score (the sum over answered items of d log P_jk / d parameters, plus the
    latent density's score in two-group models); their weighted sum is the gradient."""
    rng = np.random.default_rng(22)
    n_cat = np.array([2, 3, 4, 5, 3])
    b = np.full((5, 4), np.nan)
    for j, k in enumerate(n_cat):
        b[j, : k - 1] = np.sort(rng.normal(0, 1, k - 1))
    x = irt.simulate_grm(rng.uniform(0.8, 2.0, 5), b, rng.standard_normal(300), rng)
    x[rng.random(x.shape) < 0.2] = -1
    x = x[(x >= 0).any(axis=1)]
    group = rng.integers(0, 2, x.shape[0]) if split is not None else np.zeros(x.shape[0], dtype=np.int64)
    layout = (irt._two_group_layout(n_cat, set(split)) if split is not None else
              irt._Layout(block_of=np.arange(5)[:, None], n_cat=n_cat, free_groups=()))
    codes, grp, freq, _ = irt._collapse_patterns(x.astype(np.int16), group)
    engine = irt._Engine(codes, grp, freq, layout, "logistic", irt.quadrature_grid())
    vec = irt._pack(layout, rng.uniform(0.8, 2.0, layout.n_blocks),
                    np.sort(rng.normal(0, 1, (layout.n_blocks, 4)), axis=1)[:, ::-1],
                    mean=np.array([0.0, 0.3]), sd=np.array([1.0, 1.2]))
    t, (s, _, priors) = engine.table(vec, order=1)
    post = engine._posterior(t, 0, codes.shape[0])[1]
    idx = layout.block_index()
    expected = np.zeros((codes.shape[0], layout.n_par))
    for i in range(codes.shape[0]):
        for j in np.flatnonzero(codes[i] >= 0):
            blk = layout.block_of[j, grp[i]]
            k = layout.n_cat[blk]
            expected[i, idx[blk, :k]] += s[blk, codes[i, j], :k] @ post[i]
        for g, pos in layout.group_offsets.items():
            if grp[i] == g:
                expected[i, pos:pos + 2] += priors[g][1] @ post[i]
    _, grad, _, per_row = engine.derivatives(vec, per_row=True)
    np.testing.assert_allclose(per_row, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_allclose(grad, freq @ expected, rtol=1e-10, atol=1e-10 * np.abs(grad).max())
    np.testing.assert_allclose(grad, engine.gradient(vec)[1], rtol=1e-10, atol=1e-10 * np.abs(grad).max())


def test_louis_hessian_does_not_depend_on_how_item_pairs_are_sliced(small_fit, monkeypatch):
    engine = engine_for(small_fit)
    vec = irt._pack(engine.layout, small_fit.a, small_fit.d)
    whole = engine.derivatives(vec)[2]
    monkeypatch.setattr(irt, "_PAIR_TABLE_BYTES", 1)  # one item pair per sparse product
    np.testing.assert_allclose(engine.derivatives(vec)[2], whole, rtol=1e-13, atol=1e-13 * np.abs(whole).max())


@pytest.fixture(scope="module")
def many_patterns():
    """1500 respondents, 6 items with 5 categories and some missing answers: more than a thousand distinct
    patterns; item 0's top category is rare (3 answers)."""
    rng = np.random.default_rng(25)
    x = irt.simulate_grm(rng.uniform(1.0, 2.2, 6), np.tile([-1.5, -0.4, 0.5, 1.6], (6, 1)),
                         rng.standard_normal(1500), rng).astype(float)
    x[:, 0] = np.minimum(x[:, 0], 3)
    x[:3, 0] = 4
    x[rng.random(x.shape) < 0.1] = np.nan
    return pd.DataFrame(x + 1, columns=[f"i{j}" for j in range(6)])


def test_subsample_path_reaches_the_same_maximum(many_patterns, monkeypatch):
    """Start values and EM on a subsample of the patterns, Newton on all (forced by a low threshold):
    the same estimates, standard errors and log-likelihood as the path on all patterns, and the rare
    category's patterns are all in the subsample."""
    data = irt.prepare_responses(many_patterns)
    codes, _, freq, _ = irt._collapse_patterns(data.codes, np.zeros(data.n, dtype=np.int64))
    assert codes.shape[0] > 1000
    full = irt.fit_grm(data)
    monkeypatch.setattr(irt, "SUBSAMPLE_PATTERNS", 200)
    rows, weights, k = irt._subsample_patterns(codes, freq, 200)
    assert k == 8 and 150 < rows.size < 250
    assert set(np.flatnonzero(codes[:, 0] == 4)) <= set(rows)
    assert weights.sum() == pytest.approx(freq.sum(), rel=0.05)  # Horvitz-Thompson: estimates the total
    calls = []
    monkeypatch.setattr(irt, "_maximise_from_subsample",
                        lambda *args, _f=irt._maximise_from_subsample: calls.append(args[1].size) or _f(*args))
    sub = irt.fit_grm(data)
    assert calls == [rows.size] and full.converged and sub.converged
    np.testing.assert_allclose(sub.a, full.a, rtol=1e-6)
    np.testing.assert_allclose(sub.d, full.d, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(sub.se_a, full.se_a, rtol=1e-6)
    np.testing.assert_allclose(sub.se_b, full.se_b, rtol=1e-6)
    np.testing.assert_allclose(sub.cov, full.cov, rtol=1e-6, atol=1e-6 * np.abs(full.cov).max())
    assert sub.loglik == pytest.approx(full.loglik, rel=1e-12)
    assert sub.max_gradient < 1e-3


def test_subsample_path_does_not_depend_on_the_order_of_respondents(many_patterns, monkeypatch):
    monkeypatch.setattr(irt, "SUBSAMPLE_PATTERNS", 200)
    calls = []
    monkeypatch.setattr(irt, "_maximise_from_subsample",
                        lambda *args, _f=irt._maximise_from_subsample: calls.append(1) or _f(*args))
    order = np.random.default_rng(26).permutation(len(many_patterns))
    tables = [irt.grm_tables(frame, {"s": list(frame.columns)}, instrument="t", scale=(1, 5), dif=False)
              for frame in (many_patterns, many_patterns.iloc[order])]
    for kind in ("items", "fit"):
        a, b = (getattr(t, kind).select_dtypes("number") for t in tables)
        np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-12)
    a, b = tables[0].scores, tables[1].scores.loc[tables[0].scores.index]
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-12)
    assert calls == [1, 1]


@pytest.mark.parametrize("link", irt.LINKS)
def test_information_of_every_row_and_item_is_samejimas(link):
    """The vectorised information (slope-intercept form, all items at once) equals item_information
    item by item, for items with different numbers of categories and far into the tails."""
    rng = np.random.default_rng(23)
    a = np.array([1.3, 2.2, 0.7, 3.5])
    n_cat = np.array([4, 2, 3, 4])
    d = np.full((4, 3), np.nan)
    for j, k in enumerate(n_cat):
        d[j, : k - 1] = np.sort(rng.normal(0, 1.5, k - 1))[::-1]
    theta = np.r_[rng.normal(0, 2, 40), -30.0, -8.0, 8.0, 30.0]
    info = irt._information_matrix(theta, a, d, n_cat, link)
    assert np.all(np.isfinite(info)) and np.all(info >= 0)
    for j in range(4):
        expected = irt.item_information(theta, a[j], -d[j, : n_cat[j] - 1] / a[j], link)
        ok = np.isfinite(expected)  # item_information overflows to NaN far in the normal tails (limit 0)
        assert ok[:40].all()
        np.testing.assert_allclose(info[ok, j], expected[ok], rtol=1e-10, atol=1e-300)


def test_ml_scores_solve_the_likelihood_equation_and_their_se_is_the_answered_information():
    rng = np.random.default_rng(24)
    a, b = np.array([1.8, 1.2, 2.4, 0.9, 1.5]), np.tile([-1.2, -0.2, 0.7, 1.6], (5, 1))
    x = irt.simulate_grm(a, b, rng.standard_normal(600), rng).astype(float)
    x[rng.random(x.shape) < 0.25] = np.nan
    fit = irt.fit_grm(pd.DataFrame(x))
    scores = irt.score_grm(fit)
    codes = fit.data.codes
    rows = np.flatnonzero(np.isfinite(scores["theta_ml"].to_numpy()))[:25]
    for i in rows:
        answered = [(j, int(k)) for j, k in enumerate(codes[i]) if k >= 0]

        def loglik(t):
            return sum(np.log(irt.graded_probabilities([t], *fit.item_parameters(j), fit.link)[0, k])
                       for j, k in answered)

        t = scores["theta_ml"].iloc[i]
        h = 1e-5
        assert (loglik(t + h) - loglik(t - h)) / (2 * h) == pytest.approx(0.0, abs=1e-6)
        info = sum(irt.item_information([t], *fit.item_parameters(j), fit.link)[0] for j, _ in answered)
        assert scores["se_ml"].iloc[i] == pytest.approx(1 / np.sqrt(info), rel=1e-10)


def test_scores_from_the_patterns_kept_by_the_fit_equal_those_from_scratch(small_fit):
    import dataclasses

    assert small_fit.patterns is not None
    kept = irt.score_grm(small_fit)
    scratch = irt.score_grm(dataclasses.replace(small_fit, patterns=None))
    pd.testing.assert_frame_equal(kept, scratch, rtol=1e-13, atol=1e-13)
