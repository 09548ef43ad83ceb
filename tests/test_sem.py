"""Tests for the model-fitting engine attachment_pipeline.sem against lavaan 0.6-14.

Reference values: ``tests/r/sem_reference.R`` wrote ``tests/reference/sem_cfa.json`` from the two
shipped data sets with missing answers (ECR-R demo, 2% missing; ECR 5-point, 1-2% missing); the
helper ``load_items`` applies the same recoding. The suite does not need R.
Tolerances (issue 10): fit indices 0.002, chi-square 0.5%, loadings 0.005, standard errors 2%;
the engine meets them with a wide margin (see the max deviations in each test's assertion).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, load_items

from attachment_pipeline import sem
from attachment_pipeline.sem.engine import fit
from attachment_pipeline.sem.syntax import build_partable, parse

REF = json.loads((REPO / "tests/reference/sem_cfa.json").read_text())

#: lavaan fitMeasures name (dots as underscores) -> engine name
RENAME = {"chisq": "chi2", "pvalue": "p", "chisq_scaled": "chi2_scaled", "pvalue_scaled": "p_scaled",
          "chisq_scaling_factor": "scaling_factor", "baseline_chisq": "baseline_chi2",
          "baseline_chisq_scaled": "baseline_chi2_scaled", "baseline_chisq_scaling_factor": "baseline_scaling_factor",
          "rmsea_ci_lower": "rmsea_low", "rmsea_ci_upper": "rmsea_high", "rmsea_ci_lower_scaled": "rmsea_low_scaled",
          "rmsea_ci_upper_scaled": "rmsea_high_scaled", "rmsea_ci_lower_robust": "rmsea_low_robust",
          "rmsea_ci_upper_robust": "rmsea_high_robust", "logl": "loglik", "unrestricted_logl": "unrestricted_loglik",
          "ntotal": "n"}
RELATIVE = ("chisq", "baseline_chisq", "logl", "unrestricted_logl", "aic", "bic")
DATASET_NAMES = {"demo": "demo", "ecr5": "ecr_5point"}


def _cases():
    for ds, block in REF["datasets"].items():
        for key in block["fits"]:
            if key.startswith(("two_", "one_")):
                yield ds, key


def _check_md5(block):
    path = REPO / block["data_file"]
    assert hashlib.md5(path.read_bytes()).hexdigest() == block["data_md5"], (
        f"{path} changed since the lavaan reference values were made; rerun "
        "`Rscript tests/r/sem_reference.R` and commit tests/reference/sem_cfa.json.")


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(ds, key):
        if (ds, key) not in cache:
            block = REF["datasets"][ds]
            _check_md5(block)
            x, _ = load_items(DATASET_NAMES[ds])
            kind, est, miss = key.split("_")
            suffix = "_wlsmv" if est == "wlsmv" else ""
            model = block[f"model_{kind}{suffix}"]
            cache[(ds, key)] = fit(model, x, estimator=est, missing=miss, ordered=est == "wlsmv")
        return cache[(ds, key)]
    return get


# lavaan 0.6-14 stops at a worse point for the ECR 5-point one-factor FIML model
# (its chi-square is 112 points above the engine's minimum; see test_better_optimum_than_lavaan)
AGREEING = [c for c in _cases() if c != ("ecr5", "one_mlr_fiml")]


@pytest.mark.parametrize("ds,key", AGREEING)
def test_fit_measures_agree_with_lavaan(fits, ds, key):
    res = fits(ds, key)
    ref = REF["datasets"][ds]["fits"][key]
    assert res.converged and ref["converged"]
    bad = {}
    for name, want in ref["fit"].items():
        got = res.fit.get(RENAME.get(name, name))
        if want is None:
            continue
        assert got is not None, f"{name} not reported"
        if name.startswith(RELATIVE) and abs(want) > 1:
            dev = abs(got - want) / abs(want)
            tol = 1e-5  # issue: 0.5%
        else:
            dev = abs(got - want)
            tol = 2e-4  # issue: 0.002
        if dev > tol:
            bad[name] = (got, want)
    assert not bad, bad


@pytest.mark.parametrize("ds,key", AGREEING)
def test_estimates_and_standard_errors_agree_with_lavaan(fits, ds, key):
    res = fits(ds, key)
    ref = pd.DataFrame(REF["datasets"][ds]["fits"][key]["params"])
    ref["group"] -= 1
    both = res.estimates.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
    assert len(both) == len(ref) == len(res.estimates)
    free = both.free > 0
    assert np.abs(both.est - both.est_r).max() < 5e-4            # issue: 0.005
    assert (np.abs(both.se - both.se_r) / both.se_r)[free].max() < 2e-3   # issue: 2%
    assert np.abs(both.std_all - both.std_all_r).max() < 1e-4


def test_better_optimum_than_lavaan(fits):
    """Where lavaan stops early, the engine's likelihood is higher (a better maximum), and converged."""
    res = fits("ecr5", "one_mlr_fiml")
    ref = REF["datasets"]["ecr5"]["fits"]["one_mlr_fiml"]["fit"]
    assert res.converged
    assert res.fit["loglik"] > ref["logl"] + 50
    assert res.fit["chi2"] < ref["chisq"] - 100


@pytest.mark.parametrize("ds", list(REF["datasets"]))
def test_one_versus_two_factors_lrt(fits, ds):
    ref = REF["datasets"][ds]["fits"]["lrt_ml_listwise"]
    one, two = fits(ds, "one_ml_listwise"), fits(ds, "two_ml_listwise")
    d = sem.compare(one, two)
    assert d.delta_df == ref["df_diff"] == 1
    assert d.delta_chi2 == pytest.approx(ref["chisq_diff"], rel=1e-6)


@pytest.mark.parametrize("ds", list(REF["datasets"]))
@pytest.mark.parametrize("missing", ["listwise", "pairwise"])
def test_one_versus_two_factors_wlsmv_satorra_2000(fits, ds, missing):
    ref = REF["datasets"][ds]["fits"][f"lrt_wlsmv_{missing}"]
    d = sem.compare(fits(ds, f"one_wlsmv_{missing}"), fits(ds, f"two_wlsmv_{missing}"))
    assert d.method == "satorra.2000" and d.delta_df == ref["df_diff"]
    assert d.delta_chi2 == pytest.approx(ref["chisq_diff"], rel=1e-4)


def test_fiml_uses_every_respondent_who_answered(fits):
    """Listwise deletion drops 154 of the demo's 400 respondents; FIML keeps all 400."""
    lw, fi = fits("demo", "two_ml_listwise"), fits("demo", "two_ml_fiml")
    assert (lw.n, lw.n_excluded) == (246, 154)
    assert (fi.n, fi.n_excluded) == (400, 0)


# ----------------------------------------------------------------- engine behaviour
def _simulate(n=500, seed=3, loadings=(0.8, 0.7, 0.6, 0.7, 0.8, 0.6), phi=0.3):
    rng = np.random.default_rng(seed)
    f = rng.multivariate_normal([0, 0], [[1, phi], [phi, 1]], size=n)
    lam = np.zeros((6, 2))
    lam[:3, 0], lam[3:, 1] = loadings[:3], loadings[3:]
    e = rng.normal(size=(n, 6)) * np.sqrt(1 - np.array(loadings) ** 2)
    return pd.DataFrame(f @ lam.T + e, columns=[f"y{j}" for j in range(1, 7)])


def test_perfect_fit_converges():
    """A model that reproduces the sample covariance exactly has gradient 0: converged at once."""
    lam = np.array([[1.0, 0.8, 0.6]]).T
    sigma = lam @ lam.T + np.diag([0.5, 0.4, 0.3])
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True)).T)  # exactly whitened
    x = pd.DataFrame(z @ np.linalg.cholesky(sigma).T, columns=list("abc"))
    res = fit("f =~ a + b + c", x)
    assert res.converged
    assert res.chi2 == pytest.approx(0.0, abs=1e-10) and res.df == 0
    assert res.param("f", "=~", "b").est == pytest.approx(0.8, abs=1e-6)


def test_recovers_population_values():
    x = _simulate(n=20000, seed=11)
    res = fit("a =~ y1 + y2 + y3\nb =~ y4 + y5 + y6", x, std_lv=True)
    assert res.converged
    load = res.estimates.query("op == '=~'").est.to_numpy()
    assert np.allclose(load, [0.8, 0.7, 0.6, 0.7, 0.8, 0.6], atol=0.03)
    assert res.param("a", "~~", "b").est == pytest.approx(0.3, abs=0.03)


def test_row_order_and_labels_do_not_matter():
    x = _simulate(n=300, seed=5)
    x.iloc[::7, 2] = np.nan
    a = fit("a =~ y1 + y2 + y3\nb =~ y4 + y5 + y6", x, estimator="mlr", missing="fiml")
    b = fit("a =~ y1 + y2 + y3\nb =~ y4 + y5 + y6", x.sample(frac=1, random_state=1), estimator="mlr",
            missing="fiml")
    assert a.chi2 == pytest.approx(b.chi2, rel=1e-9)
    assert np.allclose(a.estimates.se, b.estimates.se, rtol=1e-6, equal_nan=True)


def test_equality_labels_share_one_parameter():
    x = _simulate(n=400, seed=2)
    free = fit("a =~ y1 + y2 + y3\nb =~ y4 + y5 + y6", x)
    equal = fit("a =~ y1 + l*y2 + l*y3\nb =~ y4 + y5 + y6", x)
    assert equal.fit["npar"] == free.fit["npar"] - 1
    assert equal.param("a", "=~", "y2").est == equal.param("a", "=~", "y3").est
    assert equal.chi2 >= free.chi2


def test_syntax_and_bad_input():
    assert [s.op for s in parse("f =~ a + b\n a ~~ b; y ~ 1")] == ["=~", "~~", "~"]
    with pytest.raises(ValueError, match="no operator"):
        parse("f = a + b")
    with pytest.raises(ValueError, match="not columns of the data"):
        fit("f =~ a + b + zz", pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 1, 3]}))
    with pytest.raises(ValueError, match="Pairwise deletion is not a likelihood method"):
        fit("f =~ y1 + y2 + y3", _simulate(), missing="pairwise")
    pt = build_partable("f =~ a*x1 + x2 + x3")
    first = pt.params[0]
    assert (first.free, first.value, first.label) == (0, 1.0, "a")   # a label keeps the marker fixed


def test_em_correlations_and_the_efa_family_on_them_agree_with_lavaan_and_psych():
    """factors.missing: fiml -> the EFA family on the saturated FIML (EM) moments: lavaan's H1 with
    missing = "ml" (tests/r/em_reference.R), and psych::KMO / cortest.bartlett / fa on that matrix."""
    from attachment_pipeline import factors as F
    ref = json.loads((REPO / "tests/reference/em_demo.json").read_text())
    assert hashlib.md5((REPO / ref["meta"]["data_file"]).read_bytes()).hexdigest() == ref["meta"]["data_md5"]
    x, sub = load_items("demo")
    m = F.efa_moments(x, "fiml")
    assert (m.n, m.missing) == (ref["n"], "fiml")
    np.testing.assert_allclose(m.mean, ref["em_mean"], atol=1e-5)          # lavaan's EM stops near 1e-6
    np.testing.assert_allclose(m.cov * (m.n - 1) / m.n, ref["em_cov"], atol=1e-5)
    np.testing.assert_allclose(m.corr, ref["em_cor"], atol=1e-5)
    f = F.factorability(m)
    assert f.kmo == pytest.approx(ref["kmo"], abs=1e-6)
    assert f.bartlett_chi2 == pytest.approx(ref["bartlett_chi2"], rel=1e-5)
    res = F.efa(m, 2)
    match = F.match_factors(res.loadings_frame(), sub, ("anxiety", "avoidance"))
    ours = res.reorder(match.order, match.signs).loadings
    theirs = np.array(ref["fa_loadings"])
    mt = F.match_factors(theirs, [sub[c] for c in x.columns], ("anxiety", "avoidance"))
    theirs = theirs[:, list(mt.order)] * np.array(mt.signs)
    assert np.abs(ours - theirs).max() < 1e-3


def test_group_data_is_built_once_per_item_matrix(monkeypatch):
    """Equal item matrices (other arrays, same bytes and names) share one GroupData; the cached rows are
    read-only; other data or other names give another; GroupData beyond the byte budget are dropped."""
    from attachment_pipeline.sem import engine
    from attachment_pipeline.sem.data import data_fingerprint, group_data
    monkeypatch.setattr(engine, "_DATA_CACHE", {})
    x = np.ascontiguousarray(_simulate(n=200, seed=4))
    x[::9, 1] = np.nan
    names = [f"y{j}" for j in range(1, 7)]
    a = engine.cached_group_data(x.copy(), names)
    assert engine.cached_group_data(x.copy(), tuple(names)) is a
    assert not a.x.flags.writeable
    fresh = group_data(x, names)
    assert a.key == fresh.key == data_fingerprint(names, (x,))
    assert [pt.n for pt in a.patterns] == [pt.n for pt in fresh.patterns] and np.array_equal(a.cov, fresh.cov)
    assert np.array_equal(a.item_variances, np.nanvar(x, axis=0)) and np.array_equal(a.mean, np.nanmean(x, axis=0))
    from attachment_pipeline.sem import data as sem_data
    monkeypatch.setattr(sem_data, "_ROWS", 64)               # the pairwise covariances in several blocks of rows
    z, o = np.where(np.isnan(x), 0.0, x - a.mean), (~np.isnan(x)).astype(float)
    np.testing.assert_allclose(group_data(x, names).cov, z.T @ z / (o.T @ o), rtol=1e-12)
    other = x.copy()
    other[0, 0] += 1.0
    assert engine.cached_group_data(other, names) is not a
    assert engine.cached_group_data(x.copy(), names[::-1]) is not a
    view = x[:, :]                                   # not owned by the array: copied, the caller's stays writable
    assert engine.cached_group_data(view, names) is a and x.flags.writeable
    monkeypatch.setattr(engine, "_GROUP_BYTES", x.nbytes)
    engine.cached_group_data(x[:100].copy(), names)      # a third matrix: the oldest two are dropped
    groups = [v for v in engine._DATA_CACHE.values() if isinstance(v, type(a))]
    assert len(groups) == 1 and groups[0].n == 100


def _casewise_scores_by_definition(model, x, mean, cov):
    """u_i = [P_o d_i, m_a/2 (P_o d_i d_i' P_o - P_o)_a] row by row (padded with zeros), the module docstring's formula."""
    rows_v, cols_v = model.vech_rows, model.vech_cols
    mult = np.where(rows_v == cols_v, 1.0, 2.0)
    out = []
    for xi in x:
        o = ~np.isnan(xi)
        pad = np.zeros((len(xi), len(xi)))
        pad[np.ix_(o, o)] = np.linalg.inv(cov[np.ix_(o, o)])
        v = pad @ np.where(o, xi - mean, 0.0)
        out.append(np.concatenate([v, mult / 2 * (np.outer(v, v) - pad)[rows_v, cols_v]]))
    return np.array(out)


def test_score_products_from_pattern_moments_equal_the_casewise_formula():
    """B1 and B0 (large patterns through their moment matrices, the other rows one by one) equal the
    sums of the casewise scores written out row by row, with missing data."""
    from attachment_pipeline.sem import inference
    from attachment_pipeline.sem.data import group_data
    from attachment_pipeline.sem.estimators import FIMLEstimator
    from attachment_pipeline.sem.model import Model
    x = np.ascontiguousarray(_simulate(n=700, seed=8))[:, :5] + 2.0
    x[np.random.default_rng(8).random(x.shape) < 0.05] = np.nan
    names = [f"y{j}" for j in range(1, 6)]
    gd = group_data(x, names)
    assert len(gd.products.patterns) >= 2 and len(gd.products.rest) > 0   # both paths are used
    mod = Model(build_partable("f =~ y1 + y2 + y3 + y4 + y5", meanstructure=True))
    theta = np.linspace(0.6, 1.2, mod.q)
    theta[mod.q - 5:] = 2.0                                   # intercepts
    imp = mod.implied(theta, 0)
    u = _casewise_scores_by_definition(mod, x, imp["mean"], imp["cov"])
    b1 = inference.first_order_moments(mod, gd, imp["mean"], imp["cov"])
    np.testing.assert_allclose(b1, u.T @ u / len(x), rtol=1e-10, atol=1e-12 * np.abs(b1).max())
    est = FIMLEstimator(mod, [gd])
    s = u @ mod.jacobian(theta, 0)
    b0 = inference.first_order_information(est, theta)
    np.testing.assert_allclose(b0, s.T @ s / len(x), rtol=1e-10, atol=1e-12 * np.abs(b0).max())


def test_observed_h1_information_is_the_hessian_of_the_casewise_loglik():
    """fiml_observed_h1_information = -(1/n) d2 logL / dm dm' (central differences of the analytic
    gradient in the moments), with missing data, away from the optimum; the pattern inverses of one
    (group, covariance) are computed once and equal the inverses of the observed blocks."""
    from attachment_pipeline.sem import inference
    from attachment_pipeline.sem.data import group_data
    from attachment_pipeline.sem.engine import SaturatedModel
    from attachment_pipeline.sem.estimators import FIMLEstimator
    from attachment_pipeline.sem.optimize import numerical_jacobian
    x = np.ascontiguousarray(_simulate(n=300, seed=9))[:, :4]
    x[np.random.default_rng(9).random(x.shape) < 0.08] = np.nan
    gd = group_data(x, ["a", "b", "c", "d"])
    sat = SaturatedModel(4, 1)
    mean = np.nanmean(x, axis=0) + 0.1
    cov = 0.9 * np.cov(x[~np.isnan(x).any(axis=1)].T) + 0.1 * np.eye(4)
    theta = sat.pack([mean], [cov])
    est = FIMLEstimator(sat, [gd])
    hess = numerical_jacobian(lambda th: est.moment_gradient(th, 0), theta, h=1e-4) / 2
    info = inference.fiml_observed_h1_information(sat, gd, mean, cov)
    np.testing.assert_allclose(info, hess, rtol=1e-6, atol=1e-8 * np.abs(info).max())
    pinv = inference.pattern_inverses(gd, cov)
    assert inference.pattern_inverses(gd, cov.copy()) is pinv and not pinv.flags.writeable
    for k, pt in enumerate(gd.patterns):
        np.testing.assert_allclose(pinv[k][np.ix_(pt.obs, pt.obs)], np.linalg.inv(cov[np.ix_(pt.obs, pt.obs)]),
                                   rtol=1e-10)
    assert inference.pattern_inverses(gd, cov + 0.01 * np.eye(4)) is not pinv
    again = inference.pattern_inverses(gd, cov)
    inference.forget_pattern_inverses()
    assert inference.pattern_inverses(gd, cov) is not again


def test_casewise_loglik_and_gradient_with_patterns_taken_row_by_row():
    """The FIML log-likelihood equals the sum of each respondent's normal log-density over the items
    answered, and its analytic gradient central differences of it, when small patterns enter row by
    row and large ones as pattern statistics (both kinds present)."""
    from scipy import stats as st

    from attachment_pipeline.sem.data import group_data
    from attachment_pipeline.sem.engine import SaturatedModel
    from attachment_pipeline.sem.estimators import FIMLEstimator
    from attachment_pipeline.sem.optimize import numerical_jacobian
    x = np.ascontiguousarray(_simulate(n=400, seed=10))
    rng = np.random.default_rng(10)
    x[rng.random(x.shape) < 0.06] = np.nan
    x[:3, :4] = np.nan                                        # a pattern with more items missing than observed
    gd = group_data(x, [f"y{j}" for j in range(1, 7)])
    sat = SaturatedModel(6, 1)
    est = FIMLEstimator(sat, [gd])
    assert est.row_blocks[0] and est.blocks[0]
    mean = np.nanmean(x, axis=0) - 0.05
    cov = 0.8 * np.cov(x[~np.isnan(x).any(axis=1)].T) + 0.2 * np.eye(6)
    direct = sum(st.multivariate_normal(mean[o], cov[np.ix_(o, o)]).logpdf(xi[o])
                 for xi in x for o in [~np.isnan(xi)])
    assert est.loglik(mean, cov, 0) == pytest.approx(direct, rel=1e-12)
    theta = sat.pack([mean], [cov])
    grad = est.moment_gradient(theta, 0)
    numeric = numerical_jacobian(lambda th: np.array([est.objective(th)]), theta, h=1e-5)[0]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    assert est.loglik(mean, cov - 2 * np.eye(6), 0) == -np.inf


def test_prepare_gives_row_major_matrices_without_copying_a_whole_group():
    from attachment_pipeline.sem.engine import _prepare
    x = _simulate(n=50, seed=12)
    x.iloc[3, 2] = np.nan
    x.iloc[7, :] = np.nan                                    # no answer: left out
    labels, arrays, excluded = _prepare(x, list(x.columns), None, "available")
    assert labels == ["0"] and excluded == 1 and arrays[0].flags.c_contiguous
    np.testing.assert_array_equal(arrays[0], x.drop(index=7).to_numpy())
    x = x.drop(index=7)
    labels, arrays, _ = _prepare(x, list(x.columns), None, "available")
    np.testing.assert_array_equal(arrays[0], x.to_numpy())
    g = pd.Series(np.where(np.arange(len(x)) % 3 == 0, "a", "b"), index=x.index)
    labels, arrays, _ = _prepare(x, list(x.columns), g, "listwise")
    assert labels == ["a", "b"] and all(a.flags.c_contiguous for a in arrays)
    np.testing.assert_array_equal(arrays[1], x[(g == "b") & x.notna().all(axis=1)].to_numpy())


def test_observed_information_differences_only_the_parameters_of_each_group(monkeypatch):
    """The numerical term of the observed information is differenced, group by group, in the parameters that
    group's matrices use (with many groups most parameters belong to other groups): identical to differencing
    in every parameter, because the others leave the group's Jacobian exactly unchanged."""
    from attachment_pipeline.sem.model import Model

    rng = np.random.default_rng(4)
    n = 300
    f = rng.normal(size=(2 * n, 1))
    x = 0.7 * f + rng.normal(scale=0.6, size=(2 * n, 4))
    x[rng.random(x.shape) < 0.1] = np.nan
    data = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    data["g"] = np.repeat(["one", "two"], n)
    model = "F =~ a + b + c + d"
    fast = fit(model, data, group="g", estimator="mlr", missing="fiml", group_equal=["loadings"])
    pt = build_partable(model, ["one", "two"], meanstructure=True, group_equal=["loadings"])
    mod = Model(pt)
    one, two = set(mod.group_parameters(0)), set(mod.group_parameters(1))
    assert one | two == set(range(mod.q)) and one != two and len(one & two) == 3  # the three free loadings shared
    theta = fast.theta
    for g in range(2):
        used = mod.group_parameters(g)
        whole = mod.jacobian(theta, g)
        assert np.array_equal(mod.jacobian(theta, g, used), whole[:, used])
        assert not np.delete(whole, used, axis=1).any()  # the other parameters do not move group g's moments
    monkeypatch.setattr(Model, "group_parameters", lambda self, g: np.arange(self.q))
    full = fit(model, data, group="g", estimator="mlr", missing="fiml", group_equal=["loadings"])
    assert np.array_equal(fast.vcov, full.vcov)
    assert fast.fit == full.fit
