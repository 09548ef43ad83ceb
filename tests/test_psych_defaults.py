"""psych's defaults the pipeline follows, and Gaussian mixtures fitted to convergence.

Reference values: tests/r/psych_defaults_reference.R (psych 2.2.9, mclust 6.0.0) wrote
tests/reference/psych_defaults_<dataset>.json from the shipped demo and ECR 5-point files and
from tests/data/pairwise_nonpd.csv (made by tests/data/pairwise_make_data.py). The helpers
below apply the same recoding and scoring as the R script; the suite does not need R.

- pairwise-complete correlations as psych's KMO(x), cortest.bartlett(x), fa(x) with raw data
  containing NA (n = nrow(x)), and cor.smooth for a matrix that is not positive definite;
- fa.parallel(x, SMC = FALSE): observed eigenvalues to 1e-6, random ones in distribution;
- psych::alpha(x) with its defaults (use = "pairwise");
- omega on short subscales: NaN with the reason where the group-factor model has negative df,
  psych's number where it is identified;
- mclust::Mclust(x, G = 1:6, modelNames = "VVV") log-likelihoods and BIC.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attachment_pipeline import classify as C
from attachment_pipeline import factors as F
from attachment_pipeline import reliability as rel
from attachment_pipeline.instruments import load_instrument
from test_factors import aligned, load_items

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "reference"
DATASETS = ("demo", "ecr_5point")


def _check_md5(ref: dict) -> None:
    path = REPO / ref["meta"]["data_file"]
    assert hashlib.md5(path.read_bytes()).hexdigest() == ref["meta"]["data_md5"], (
        f"{path} changed since the R reference values were made; rerun "
        "`Rscript tests/r/psych_defaults_reference.R` and commit tests/reference/psych_defaults_*.json.")


def subscale_scores(items: pd.DataFrame, sub: dict, min_answered: float = 0.8) -> pd.DataFrame:
    """Subscale means as the pipeline scores them (and the R script): NaN below 80 % answered."""
    out = {}
    for s in ("anxiety", "avoidance"):
        block = items[[c for c in items.columns if sub[c] == s]]
        enough = block.notna().sum(axis=1) >= min_answered * block.shape[1] - 1e-9
        out[s] = block.mean(axis=1).where(enough)
    return pd.DataFrame(out).dropna()


@pytest.fixture(scope="module", params=DATASETS)
def case(request):
    ref = json.loads((REFERENCE / f"psych_defaults_{request.param}.json").read_text())
    _check_md5(ref)
    x, sub = load_items(request.param)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shipped data need no smoothing
        m = F.item_moments(x, "pairwise")
    return dict(name=request.param, ref=ref, items=x, sub=sub, moments=m)


@pytest.fixture(scope="module")
def nonpd():
    ref = json.loads((REFERENCE / "psych_defaults_nonpd.json").read_text())
    _check_md5(ref)
    return ref, pd.read_csv(REPO / "tests/data/pairwise_nonpd.csv")


# ------------------------------------------------------------- pairwise moments
def test_pairwise_moments_are_psychs(case):
    m, ref = case["moments"], case["ref"]
    pw = ref["pairwise"]
    assert m.missing == "pairwise" and not m.smoothed
    assert m.n == ref["n"] == ref["n_rows"] and m.n_excluded == 0  # psych: n = nrow(x)
    off = m.n_pairs[~np.eye(m.n_items, dtype=bool)]
    assert off.min() == pw["n_pairs_min"] and m.n_pairs.max() == pw["n_pairs_max"]  # R: pairwiseCount
    assert m.corr[0, 1] == pytest.approx(pw["corr_1_2"], abs=1e-14)
    assert m.corr[-2, -1] == pytest.approx(pw["corr_last"], abs=1e-14)
    assert m.min_eigen == pytest.approx(pw["min_eigen"], abs=1e-12)
    # the point of it all: listwise would drop 38 % (demo) / 53 % (ECR) of the respondents
    listwise = F.item_moments(case["items"])
    assert listwise.n == ref["n_complete"] < 0.65 * m.n
    assert "pairwise-complete" in m.description and f"{pw['n_pairs_min']} to" in m.description


def test_pairwise_matches_pandas_and_listwise_without_missing_data():
    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.normal(size=(80, 1)) + rng.normal(size=(80, 5)) + 3, columns=list("abcde"))
    full_l, full_p = F.item_moments(x), F.item_moments(x, "pairwise")
    np.testing.assert_allclose(full_p.corr, full_l.corr, atol=1e-13)
    np.testing.assert_allclose(full_p.cov, full_l.cov, atol=1e-13)
    x = x.mask(rng.random(x.shape) < 0.15)
    x.iloc[3] = np.nan  # one respondent without any answer
    m = F.item_moments(x, "pairwise")
    np.testing.assert_allclose(m.corr, x.corr().to_numpy(), atol=1e-13)  # pandas: pairwise complete
    np.testing.assert_allclose(m.cov, x.cov().to_numpy(), atol=1e-13)
    np.testing.assert_array_equal(m.n_pairs, x.notna().astype(int).T @ x.notna().astype(int))
    assert (m.n, m.n_excluded) == (79, 1)
    np.testing.assert_allclose(m.mean, x.mean().to_numpy(), atol=1e-13)


def test_pairwise_moments_bad_input():
    with pytest.raises(ValueError, match="missing must be one of listwise, pairwise"):
        F.item_moments(pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 1, 4, 3]}), "fiml")
    x = pd.DataFrame({"a": [1.0, 2, 3, np.nan, np.nan, np.nan, 5, 4],
                      "b": [np.nan, np.nan, np.nan, 1, 2, 3, 2, 1],
                      "c": [1.0, 3, 2, 4, 5, 2, 3, 1]})
    with pytest.raises(ValueError, match="Items a and b were answered together by only 2 respondent"):
        F.item_moments(x, "pairwise")
    m = F.item_moments(x.drop(columns="b"), "pairwise")
    with pytest.raises(ValueError, match="made pairwise; they cannot be used as 'listwise'"):
        F.factorability(m, "listwise")


# ------------------------------------------------------------- KMO, Bartlett, EFA
def test_kmo_and_bartlett_pairwise_match_psych(case):
    m, pw = case["moments"], case["ref"]["pairwise"]
    res = F.factorability(m)
    assert res.kmo == pytest.approx(pw["kmo"], abs=1e-12)
    np.testing.assert_allclose(F.kmo_items(m)["kmo_item"], pw["kmo_item"], rtol=0, atol=1e-12)
    assert res.bartlett_chi2 == pytest.approx(pw["bartlett"]["chi2"], rel=1e-12)  # n = nrow(x)
    assert res.bartlett_df == pw["bartlett"]["df"]
    assert res.n == case["ref"]["n"] and res.missing == "pairwise"
    assert res.n_pairs_min == pw["n_pairs_min"] and not res.smoothed


EFA = {"minres_oblimin_2": ("minres", "oblimin", 2), "ml_oblimin_2": ("ml", "oblimin", 2),
       "minres_promax_2": ("minres", "promax", 2), "minres_oblimin_1": ("minres", "none", 1)}


@pytest.mark.parametrize("key", list(EFA))
def test_efa_pairwise_matches_psych(case, key):
    """psych::fa(x) on raw data with NA: r = cor(x, use = "pairwise"), n.obs = nrow(x) for the fit."""
    fm, rotation, k = EFA[key]
    r = case["ref"]["pairwise"]["efa"][key]
    res = F.efa(case["moments"], k, extraction=fm, rotation=rotation)
    labels = [case["sub"][i] for i in res.items]
    ref_l = np.array(r["loadings"], dtype=float).reshape(len(labels), k)
    if k > 1:
        ours, ours_phi, _ = aligned(res.loadings, res.phi, labels)
        theirs, theirs_phi, _ = aligned(ref_l, np.array(r["phi"], dtype=float).reshape(k, k), labels)
        np.testing.assert_allclose(ours_phi, theirs_phi, atol=1e-6)
    else:
        ours, theirs = res.loadings, ref_l
    np.testing.assert_allclose(ours, theirs, atol=5e-6)  # DESIGN: 0.01; ml stops at 1e-6 in psych
    assert res.n == r["n_obs"] == case["ref"]["n"] and res.missing == "pairwise"
    assert res.chi2 == pytest.approx(r["chi2"], rel=1e-7)
    assert res.df == r["df"]
    for field in ("tli", "rmsea", "rmsea_low", "rmsea_high"):
        assert getattr(res, field) == pytest.approx(r[field], abs=1e-7), field
    assert res.bic == pytest.approx(r["bic"], abs=1e-4)
    assert res.null_chi2 == pytest.approx(r["null_chi2"], rel=1e-10)


def test_non_positive_definite_pairwise_matrix_is_smoothed_as_psych(nonpd):
    ref, x = nonpd
    with pytest.warns(UserWarning, match="not positive definite .* smoothed as psych::cor.smooth"):
        m = F.item_moments(x, "pairwise")
    assert m.smoothed and m.min_eigen == pytest.approx(ref["min_eigen"], abs=1e-12) and m.min_eigen < -0.4
    assert m.n == ref["n"] == 180
    np.testing.assert_array_equal(m.n_pairs, np.array(ref["n_pairs"]).reshape(6, 6))
    np.testing.assert_allclose(m.corr, np.array(ref["corr_smoothed"]).reshape(6, 6), atol=1e-12)
    assert np.linalg.eigvalsh(m.corr).min() > 0
    res = F.factorability(m)
    assert res.kmo == pytest.approx(ref["kmo"], abs=1e-10)
    np.testing.assert_allclose(F.kmo_items(m)["kmo_item"], ref["kmo_item"], atol=1e-10)
    assert res.bartlett_chi2 == pytest.approx(ref["bartlett"]["chi2"], rel=1e-6)  # ln|R| of a near-singular R
    for k in (1, 2):  # psych::fa(cor.smooth(r), n.obs = nrow(x))
        r = ref["efa"][f"smoothed_{k}"]
        fit = F.efa(m, k)
        assert fit.n == r["n_obs"]
        assert fit.chi2 == pytest.approx(r["chi2"], rel=1e-5)
        np.testing.assert_allclose(np.sort(fit.communality), np.sort(r["communality"]), atol=5e-5)
    assert "smoothed as psych::cor.smooth" in m.description
    with pytest.warns(UserWarning, match="not positive definite"):
        table = F.factorability_table(x, _Six(list(x.columns)), missing="pairwise")
    v = table.set_index("measure")["value"]
    assert v["smoothed"] == 1 and v["min_eigen"] < -0.4 and (table["missing"] == "pairwise").all()
    assert v["n_pairs_min"] == 60 and v["kmo"] == pytest.approx(ref["kmo"], abs=1e-10)


class _Six:
    """A stand-in instrument over the six items of the non-positive-definite data."""

    name, subscales = "six", ("a",)

    def __init__(self, cols):
        self._cols = cols

    def item_columns(self):
        return self._cols


# ------------------------------------------------------------- parallel analysis, SMC = FALSE
def test_one_factor_communalities_known_truth_and_heywood():
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    R = np.outer(lam, lam)
    np.fill_diagonal(R, 1.0)
    h, ok = F.one_factor_communalities(R)
    assert ok
    np.testing.assert_allclose(h, lam ** 2, atol=1e-12)
    # a Heywood case: item 1 would need a communality above 1; minres stops at psych's 0.995 bound
    lam = np.array([1.1, 0.6, 0.5, 0.5])
    R = np.outer(lam, lam)
    np.fill_diagonal(R, 1.0)
    h, ok = F.one_factor_communalities(R)
    assert ok and h[0] > 1  # psych's "ultra-Heywood case": the loading at psi = 0.005 exceeds 1
    np.testing.assert_allclose(h, (rel._minres(R, 1) ** 2)[:, 0], atol=1e-7)  # an independent fit
    # the stack gives what every matrix gives alone, and agrees with an independent L-BFGS-B fit
    from scipy import stats

    rng = np.random.default_rng(5)
    w = stats.wishart(df=99, scale=np.eye(6)).rvs(size=40, random_state=rng)
    d = 1 / np.sqrt(np.diagonal(w, axis1=1, axis2=2))
    r = w * d[:, :, None] * d[:, None, :]
    r[:, np.arange(6), np.arange(6)] = 1.0
    hs, oks = F.one_factor_communalities(r)
    assert oks.all()
    for j in (0, 7, 19):
        np.testing.assert_allclose(hs[j], F.one_factor_communalities(r[j])[0], atol=1e-12)
        loadings = rel._minres(r[j], 1)  # reliability's private L-BFGS-B minres (psych's bounds too)
        np.testing.assert_allclose(hs[j], (loadings ** 2)[:, 0], atol=1e-6)


def test_parallel_smc_false_observed_eigenvalues_match_psych(case):
    pw = case["ref"]["pairwise"]["parallel"]
    pa = F.parallel_analysis(case["moments"], n_iter=5, seed=1)  # smc=False: psych's default
    np.testing.assert_allclose(pa["eigen_observed_fa"], pw["eigen_observed_fa"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(pa["eigen_observed_pc"], pw["eigen_observed_pc"], rtol=0, atol=1e-12)
    smc = F.parallel_analysis(case["moments"], n_iter=5, seed=1, smc=True)
    np.testing.assert_allclose(smc["eigen_observed_fa"], case["ref"]["pairwise"]["parallel_smc_observed_fa"],
                               rtol=0, atol=1e-12)


def test_parallel_smc_false_listwise_differs_from_psych_only_by_psychs_stopping_point(case):
    """Listwise, psych's optim stops 3e-6 (demo) short of the one-factor minres solution.

    Given psych's own communalities (fa(x, 1)$communality, tests/reference/factors_<dataset>.json)
    the eigenvalues agree to 1e-12; ours solve the fixed point h = lambda v^2 to 1e-10, psych's
    to ~3e-6, and the eigenvalues then differ by at most 2e-6.
    """
    lw = case["ref"]["listwise"]["parallel"]
    m = F.item_moments(case["items"])
    assert m.n == case["ref"]["listwise"]["n"]
    h_psych = np.array(json.loads((REFERENCE / f"factors_{case['name']}.json").read_text())
                       ["efa"]["minres_none_1"]["communality"])
    r = m.corr.copy()
    np.fill_diagonal(r, h_psych)
    np.testing.assert_allclose(np.linalg.eigvalsh(r)[::-1], lw["eigen_observed_fa"], atol=1e-12)
    h, ok = F.one_factor_communalities(m.corr)
    assert ok

    def residual(hh):
        rr = m.corr.copy()
        np.fill_diagonal(rr, hh)
        vals, vecs = np.linalg.eigh(rr)
        return np.abs(vals[-1] * vecs[:, -1] ** 2 - hh).max()

    assert residual(h) < 1e-9 < residual(h_psych)
    pa = F.parallel_analysis(m, n_iter=5, seed=1)
    np.testing.assert_allclose(pa["eigen_observed_fa"], lw["eigen_observed_fa"], atol=2e-6)


def test_parallel_smc_false_random_eigenvalues_agree_with_psych_in_distribution(case):
    """psych: 200 simulated data sets; ours: 1000 Wishart draws, each with its own one-factor fit.

    Means: standard error sd / sqrt(N); 95th percentiles: about 2.11 sd / sqrt(N) (see
    test_factors); four standard errors of the difference, in units of psych's sd per eigenvalue.
    """
    pw = case["ref"]["pairwise"]["parallel"]
    ev = F.random_eigenvalues(case["moments"].n, case["moments"].n_items, n_iter=1000, seed=21)
    for kind in ("fa", "pc"):
        sd = np.asarray(pw[f"random_{kind}_sd"])
        z_mean = np.abs(ev[kind].mean(axis=0) - pw[f"random_{kind}_mean"]) / sd
        assert z_mean.max() < 4 * np.sqrt(1 / 200 + 1 / 1000), (kind, z_mean.max())
        z_q = np.abs(np.quantile(ev[kind], 0.95, axis=0) - pw[f"random_{kind}_q95"]) / sd
        assert z_q.max() < 4 * 2.11 * np.sqrt(1 / 200 + 1 / 1000), (kind, z_q.max())
    pa = F.parallel_analysis(case["moments"], n_iter=200, seed=3)
    assert F.suggested_factors(pa) == pw["nfact"] == 2
    assert F.suggested_factors(pa, "pc") == pw["ncomp"] == 2


def test_parallel_analysis_seeded_and_chunk_independent():
    m = F.item_moments(load_items("demo")[0], "pairwise")
    a = F.parallel_analysis(m, n_iter=30, seed=4)
    pd.testing.assert_frame_equal(a, F.parallel_analysis(m, n_iter=30, seed=4), check_exact=True)
    ev = F.random_eigenvalues(m.n, m.n_items, n_iter=30, seed=4)
    old = F._BATCH
    try:
        F._BATCH = 7  # batches only bound memory
        ev7 = F.random_eigenvalues(m.n, m.n_items, n_iter=30, seed=4)
    finally:
        F._BATCH = old
    np.testing.assert_array_equal(ev["fa"], ev7["fa"])


def test_parallel_table_names_what_it_did(case):
    ins = load_instrument("ecr_r") if case["name"] == "demo" else load_instrument("ecr").with_scale(1, 5)
    m = case["moments"]
    pa = F.parallel_table(m, ins, n_iter=10, seed=1)
    assert (pa["missing"] == "pairwise").all() and (pa["fa_diagonal"] == "one_factor_communality").all()
    fac = F.factorability_table(m, ins, pa)
    v = fac.set_index("measure")["value"]
    assert (fac["missing"] == "pairwise").all()
    assert v["n"] == case["ref"]["n"] and v["n_pairs_min"] == case["ref"]["pairwise"]["n_pairs_min"]
    assert v["smoothed"] == 0
    lo, fit = F.efa_tables(m, ins)
    assert (lo["missing"] == "pairwise").all() and (fit["missing"] == "pairwise").all()


# ------------------------------------------------------------- reliability
def test_pairwise_alpha_is_psych_alpha_with_its_defaults(case):
    for sub, r in case["ref"]["alpha"].items():
        cols = [c for c in case["items"].columns if case["sub"][c] == sub]
        res = rel.alpha_table(case["items"][cols], missing="pairwise", n_boot=0)
        for field in ("alpha", "alpha_std", "lambda6", "average_r", "mean", "sd"):
            assert getattr(res, field) == pytest.approx(r[field], abs=1e-10), (sub, field)
        assert res.n == r["n_rows"]
        assert res.alpha_feldt_low == pytest.approx(r["feldt_low"], abs=1e-10)
        assert res.alpha_feldt_high == pytest.approx(r["feldt_high"], abs=1e-10)


def test_omega_on_short_subscales(case):
    """psych::omega(x, nfactors) returns a number for any number of items; ours only where identified."""
    for o in case["ref"]["omega"]:
        xs = case["items"][o["items"]].dropna()
        assert len(xs) == o["n"]
        res = rel.alpha_table(xs, n_boot=0, omega_factors=o["nfactors"])
        assert res.omega_factors == o["nfactors"]
        df = o["k"] * (o["k"] - 1) // 2 - o["k"] * o["nfactors"] + o["nfactors"] * (o["nfactors"] - 1) // 2
        if df < 0:  # psych's own dof of the group-factor model
            assert o["dof"] == df
            assert np.isnan(res.omega_h) and np.isnan(res.omega_total_sl)
            assert res.omega_h_note.startswith(f"not identified: {o['nfactors']} group factors need at least")
            assert np.isfinite(o["omega_h"])  # psych reports something regardless
        else:
            assert res.omega_h == pytest.approx(o["omega_h"], abs=1e-3)
            assert res.omega_total_sl == pytest.approx(o["omega_total"], abs=1e-4)
            assert ("set equal" in res.omega_h_note) == (o["nfactors"] == 2)
            said = [o["said"]] if isinstance(o["said"], str) else o["said"]
            if o["nfactors"] == 2:
                assert any("general factor loadings set to be equal" in s for s in said)


def test_omega_h_is_arbitrary_when_the_group_factor_model_has_negative_df():
    """Why NaN: four items, three group factors (df = -3). Different minres starts all fit R exactly
    and give omega_h values far apart, so psych's number reflects its optimiser's start."""
    from scipy import optimize

    x, _ = load_items("demo")
    R = np.corrcoef(x[[f"ecr_r_{j}" for j in range(10, 14)]].dropna().to_numpy().T)

    def minres_from(psi0):
        def fun(psi):
            rs = R.copy()
            np.fill_diagonal(rs, 1 - psi)
            vals, vecs = np.linalg.eigh(rs)
            L = vecs[:, ::-1][:, :3] * np.sqrt(np.maximum(vals[::-1][:3], 0))
            res = rs - L @ L.T
            return 0.5 * (res ** 2).sum(), np.einsum("ij,ij->i", L, L) + psi - 1
        opt = optimize.minimize(fun, psi0, jac=True, method="L-BFGS-B", bounds=[(0.005, 1)] * 4,
                                options={"ftol": 0, "gtol": 1e-12})
        rs = R.copy()
        np.fill_diagonal(rs, 1 - opt.x)
        vals, vecs = np.linalg.eigh(rs)
        L = vecs[:, ::-1][:, :3] * np.sqrt(np.maximum(vals[::-1][:3], 0))
        return L * np.sign(L.sum(axis=0)), opt.fun

    rng = np.random.default_rng(1)
    omegas = []
    for _ in range(12):
        L, crit = minres_from(rng.uniform(0.2, 0.8, 4))
        assert crit < 1e-12  # an exact fit every time
        orth = rel._varimax(L)
        orth = orth * np.where(orth.sum(axis=0) < 0, -1, 1)
        orth = orth[:, np.argsort(-(orth * orth).sum(axis=0), kind="stable")]
        try:
            pattern, phi = rel._quartimin(orth)
            gamma = rel._minres(phi, 1)[:, 0]
        except (RuntimeError, np.linalg.LinAlgError):
            continue
        omegas.append(rel._omega_from(R, pattern @ gamma, (orth * orth).sum(axis=1))[0])
    assert len(omegas) >= 8 and max(omegas) - min(omegas) > 0.05
    assert np.isnan(rel.omega_sl(R, 3)[0])


def test_reliability_tables_carry_omega_factors():
    x, sub = load_items("demo")
    cols = [c for c in x.columns if sub[c] == "anxiety"]
    r, _ = rel.reliability_tables(x[cols], pd.DataFrame(index=x.index), {"anxiety": cols, "short": cols[:5]},
                                  instrument="ecr_r", missing="pairwise", n_boot=0, omega_factors=3)
    assert r["omega_factors"].tolist() == [3, 3]
    assert r["omega_h_note"].tolist()[0] == "" and r["omega_h_note"].tolist()[1].startswith("not identified")
    assert np.isfinite(r["omega_h"].iloc[0]) and np.isnan(r["omega_h"].iloc[1])
    with pytest.raises(ValueError, match="omega_factors must be an integer of at least 2"):
        rel.alpha_table(x[cols], omega_factors=1)


# ------------------------------------------------------------- Gaussian mixtures vs mclust
@pytest.fixture(scope="module", params=DATASETS)
def mixture(request):
    ref = json.loads((REFERENCE / f"psych_defaults_{request.param}.json").read_text())
    _check_md5(ref)
    x, sub = load_items(request.param)
    s = subscale_scores(x, sub)
    profiles, bic = C.gmm_profiles(s, seed=20261124)
    return dict(ref=ref["mclust"], scores=s, profiles=profiles, bic=bic)


def test_gmm_scores_are_those_mclust_saw(mixture):
    s, ref = mixture["scores"], mixture["ref"]
    assert len(s) == ref["n"]
    np.testing.assert_allclose(s.sum().to_numpy(), ref["score_sums"], rtol=1e-13)


def test_gmm_log_likelihood_and_bic_against_mclust(mixture):
    """Same optimum as mclust (continued to tol 1e-13): log L within 1e-6; elsewhere ours is higher.

    mclust's default EM stops at a relative change of 1e-5: its reported log-likelihoods are up to
    0.7 below its own optimum here, so the comparison is with mclust continued from its solution.
    """
    bic, ref = mixture["bic"], mixture["ref"]
    n = ref["n"]
    same = 0
    for fit, (_, row) in zip(ref["fits"], bic.iterrows()):
        assert row["n_components"] == fit["G"] and row["n_parameters"] == fit["npar"]
        assert row["converged"]
        ll = row["log_likelihood"]
        assert ll >= fit["loglik"] - 1e-6 and ll >= fit["loglik_continued"] - 1e-6, fit["G"]
        # the pipeline's BIC is -2 log L + p ln n; mclust's is 2 log L - p ln n
        assert row["bic"] == pytest.approx(-2 * ll + fit["npar"] * np.log(n), rel=1e-14)
        assert row["bic"] <= -fit["bic"] + 1e-6
        if abs(ll - fit["loglik_continued"]) < 1e-3:
            same += 1
            assert ll == pytest.approx(fit["loglik_continued"], abs=1e-6)
            assert row["bic"] == pytest.approx(-(2 * fit["loglik_continued"] - fit["npar"] * np.log(n)), abs=1e-5)
    assert same >= 3  # G = 1, 2 and one more reach mclust's optimum exactly
    assert bic.loc[bic["selected"], "n_components"].item() == ref["best_G"] == 2
    chosen = ref["fits"][1]  # G = 2, the same optimum: the same profiles (parameters converge more
    # slowly than log L along the flat directions of the likelihood: 3e-6 here)
    prof = mixture["profiles"]
    order = np.lexsort(np.array(chosen["means_continued"]).reshape(2, 2).T[::-1])
    np.testing.assert_allclose(prof["weight"], np.array(chosen["pro_continued"])[order], atol=1e-4)
    np.testing.assert_allclose(prof[["anxiety_mean", "avoidance_mean"]].to_numpy(),
                               np.array(chosen["means_continued"]).reshape(2, 2)[order], atol=1e-4)


def test_gmm_is_row_order_invariant_and_byte_identical(mixture):
    s = mixture["scores"]
    perm = s.iloc[np.random.default_rng(3).permutation(len(s))]
    C._GMM_LAST.clear()
    p2, b2 = C.gmm_profiles(perm, seed=20261124)
    pd.testing.assert_frame_equal(p2, mixture["profiles"], check_exact=True)
    pd.testing.assert_frame_equal(b2, mixture["bic"], check_exact=True)
    with pytest.warns(UserWarning, match="BIC chose 2 profile"):
        out = C.classify(perm, "gmm", scale_min=1, scale_max=7, seed=20261124)
    C._GMM_LAST.clear()
    with pytest.warns(UserWarning, match="BIC chose 2 profile"):
        again = C.classify(s, "gmm", scale_min=1, scale_max=7, seed=20261124)
    pd.testing.assert_frame_equal(out.loc[s.index], again, check_exact=True)


def test_gmm_converges_where_the_old_default_tolerance_stopped_early():
    """scikit-learn's GaussianMixture with tol = 1e-3 (the pipeline's old fit) stops after a few EM steps."""
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    x, sub = load_items("demo")
    s = subscale_scores(x, sub)
    _, bic = C.gmm_profiles(s, seed=20261124)
    z = ((s - s.mean()) / s.std()).to_numpy()
    jac = len(s) * np.log(s.std().to_numpy()).sum()
    with threadpool_limits(limits=1):
        old = GaussianMixture(4, covariance_type="full", n_init=5, random_state=1, max_iter=1000,
                              reg_covar=1e-6).fit(z)
    assert old.n_iter_ < 30
    old_ll = old.score(z) * len(s) - jac
    assert bic.loc[bic["n_components"] == 4, "log_likelihood"].item() > old_ll + 0.1


def test_smc_diagonal_retains_more_factors_with_minor_factors():
    """psych's reason for SMC = FALSE: SMCs carry minor factors into the observed eigenvalues.

    Population: 24 items, two major factors (loadings .6) and six minor ones (.25 on four items
    each); n = 3000. Parallel analysis with SMCs retains more factors than with one-factor
    communalities (both see some minor factors at this n; psych's documentation notes the
    sample-size sensitivity).
    """
    p = 24
    major = np.zeros((p, 2))
    major[:12, 0] = major[12:, 1] = 0.6
    minor = np.kron(np.eye(6), np.full((4, 1), 0.25))
    r = major @ major.T + minor @ minor.T
    np.fill_diagonal(r, 1.0)
    m = F.ItemMoments(tuple(f"x{j}" for j in range(p)), 3000, 0, np.zeros(p), r)
    fa1 = F.suggested_factors(F.parallel_analysis(m, n_iter=100, seed=2))
    with_smc = F.suggested_factors(F.parallel_analysis(m, n_iter=100, seed=2, smc=True))
    assert 2 <= fa1 < with_smc
