"""Calibration: every couple and family test's type I error under realistic nulls, and its power.

``make calibrate`` simulates couples and families with the package's simulator
(:mod:`attachment_pipeline.simulate`: latent scores, questionnaire items, scoring
and the midpoint styles, exactly as the pipeline sees them) under each null the
dyadic-data literature worries about, and under planted effects, and runs the
tests the hypothesis families run on every data set:

==========================  ===============================================================
scenario                    how the data are generated
==========================  ===============================================================
independent                 partners independent; no complementarity
similarity                  partners correlate .5 on each dimension (anxiety with anxiety,
                            avoidance with avoidance), nothing across dimensions
profile_similarity          partners share .5 of their whole profile: the cross-partner
                            block is .5 times the within-person correlation matrix
couple_factor               a shared couple-level factor (loading .55, so .3 of each
                            score's variance) on all four scores; nobody chooses anyone
role_difference             partner B's anxiety, avoidance and min/max propensity .8 SD
                            higher (distinguishable roles), nothing else
icc_7                       partner similarity .7 on every score, no association between
                            anxiety and the min/max index (respondent-level tests)
gender_pairs_06 / _m03      different-sex couples with partner correlation .6 / -.3 in
                            anxiety and no gender difference
families                    children's codes independent of their parents, siblings
                            (30 %, alike with .6) and two-parent families (30 %)
planted_*                   the same with an effect: complementarity .25 (with profile
                            similarity .3), min/max partner correlation -.3, transmission
                            .4, min/max index with anxiety .3
==========================  ===============================================================

Each test is listed with the nulls it is *designed* for -- the ones under which
its type I error must lie in .03-.07 at nominal .05 -- and is also run under the
other nulls, where the table says plainly what it does and why (a test of
complementarity cannot be at its nominal level under a shared couple factor:
cross-sectional scores of indistinguishable dyads cannot tell the two apart).
Rows marked ``in_pipeline = False`` are the tests the pipeline used before
(respondents treated as independent, random re-pairing, a binomial test of
concordance), kept for comparison.

``calibration.csv`` columns: ``test, family, in_pipeline, scenario, kind`` (null
or effect), ``designed_null``, ``n_sim, n_couples, n_singles, alpha,
rejection_rate, mc_se`` (binomial Monte Carlo SE), ``ci_low, ci_high`` (Wilson),
``verdict``, ``explanation``. ``calibration.md`` is the same as a table.

Command line::

    python -m attachment_pipeline.calibrate --out results/calibration --n-sim 1000   # make calibrate
    python -m attachment_pipeline.calibrate --out DIR --quick                         # seconds

Data sets of a scenario are simulated in one call (``n_sim`` blocks of couples
and singles) and every test runs on all of them at once where it is batched (the
dyadic models, the log-linear model, the clustered correlation and difference,
the matching test); the transmission and prevalence tests loop over data sets.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import dyads as dy
from . import inference as inf
from .classify import is_high, quadrant_codes
from .instruments import load_instrument
from .reliability import derive_seed
from .scoring import reverse_key, score_minmax, subscale_means
from .tables import write_csv
from .simulate import DEMO_SEED, SimulationSettings, simulate_cohort
from .vocabulary import MINMAX_TYPES, STYLE_DIMENSIONS, STYLES

ALPHA = 0.05
NOMINAL = (0.03, 0.07)
CALIBRATION_COLUMNS = ("test", "family", "in_pipeline", "scenario", "kind", "designed_null", "n_sim", "n_couples",
                       "n_singles", "alpha", "rejection_rate", "mc_se", "ci_low", "ci_high", "verdict",
                       "explanation")


# ---------------------------------------------------------------------------
# scenarios


@dataclass(frozen=True)
class Scenario:
    """A data-generating model: simulator settings (beyond the base) and whether it is a null."""

    description: str
    settings: dict
    kind: str = "null"
    singles: bool = False


def base_settings(**overrides) -> SimulationSettings:
    """The simulator's demo model without complementarity, missing data or children; overrides on top."""
    base = SimulationSettings(n_couples=1, n_singles=0, n_sparse=0, missing_code_rate=0.0, missing_codes=(),
                              skip_rate=0.0, n_children=0, complementarity_r=0.0, minmax_format="ticks")
    return replace(base, **overrides)


_NO_MM_DIMS = {"minmax_anxiety": 0.0, "minmax_avoidance": 0.0, "minmax_noise_sd": 1.0}
_FAMILIES = {"child_code_probs": (0.15, 0.6, 0.1, 0.15), "sibling_rate": 0.3, "sibling_concordance": 0.6,
             "two_parent_rate": 0.3, "similarity_r": 0.3}

SCENARIOS: dict[str, Scenario] = {
    "independent": Scenario("partners independent, no complementarity", {}),
    "similarity": Scenario("partner similarity .5 on each dimension, none across dimensions",
                           {"similarity_r": 0.5}),
    "profile_similarity": Scenario("partners share .5 of their whole profile (cross-partner block .5 R)",
                                   {"similarity_r": 0.5, "similarity_mechanism": "profile"}),
    "couple_factor": Scenario("a shared couple-level factor on all four scores (.3 of their variance)",
                              {"couple_factor": float(np.sqrt(0.3))}),
    "role_difference": Scenario("partner B .8 SD higher on anxiety, avoidance and the min/max propensity",
                                {"role_mean_difference": 0.8}),
    "icc_7": Scenario("partners share .7 of their profile (ICC .7 on every score); min/max index unrelated to "
                      "anxiety",
                      {"similarity_r": 0.7, "similarity_mechanism": "profile", "minmax_similarity_r": 0.7,
                       **_NO_MM_DIMS}, singles=True),
    "gender_pairs_06": Scenario("different-sex couples, partner r .6 in anxiety, no gender difference",
                                {"similarity_r": 0.6}, singles=True),
    "gender_pairs_m03": Scenario("different-sex couples, partner r -.3 in anxiety, no gender difference",
                                 {"similarity_r": -0.3}, singles=True),
    "families": Scenario("children independent of parents; siblings and two-parent families",
                         {**_FAMILIES, "transmission_rate": 0.0}),
    "planted_complementarity": Scenario("complementarity .25 with profile similarity .3",
                                        {"complementarity_r": 0.25, "similarity_r": 0.3,
                                         "similarity_mechanism": "profile"}, kind="effect"),
    "planted_minmax": Scenario("min/max partner correlation -.3 (minimisers with maximisers)",
                               {"minmax_similarity_r": -0.3, **_NO_MM_DIMS}, kind="effect"),
    "planted_transmission": Scenario("children follow their parent's style with probability .4",
                                     {**_FAMILIES, "transmission_rate": 0.4}, kind="effect"),
    "planted_correlation": Scenario("min/max index with anxiety .3 (latent), partner similarity .7",
                                    {"similarity_r": 0.7, "similarity_mechanism": "profile",
                                     "minmax_similarity_r": 0.7, "minmax_anxiety": 0.3,
                                     "minmax_avoidance": 0.0, "minmax_noise_sd": 0.95}, kind="effect",
                                    singles=True),
}


# ---------------------------------------------------------------------------
# simulated data sets, scored as the pipeline scores them


@dataclass(frozen=True)
class SimulatedSets:
    """``n_sim`` data sets: couples (S, n) per partner (a = simulator's A) and singles (S, m); child records."""

    anx_a: np.ndarray
    avo_a: np.ndarray
    anx_b: np.ndarray
    avo_b: np.ndarray
    mm_a: np.ndarray
    mm_b: np.ndarray
    style_a: np.ndarray
    style_b: np.ndarray
    type_a: np.ndarray
    type_b: np.ndarray
    gender_a: np.ndarray
    gender_b: np.ndarray
    anx_s: np.ndarray
    avo_s: np.ndarray
    mm_s: np.ndarray
    style_s: np.ndarray
    gender_s: np.ndarray
    alpha_anx: np.ndarray
    alpha_avo: np.ndarray
    children: pd.DataFrame  # data_set, parent_code, child_code, family, parent

    @property
    def n_sim(self) -> int:
        return self.anx_a.shape[0]


def simulate_sets(scenario: Scenario, n_couples: int, n_singles: int, n_sim: int, seed: int) -> SimulatedSets:
    """Simulate and score ``n_sim`` data sets of a scenario in one call of the simulator.

    Couples are independent, so ``n_sim * n_couples`` couples split into blocks are
    ``n_sim`` independent data sets (likewise the singles, and the children of each
    block's parents). Scored as the pipeline scores: reverse keying, subscale means,
    the min/max index and type (band .2), the midpoint styles.

    >>> d = simulate_sets(SCENARIOS["independent"], 20, 0, 3, seed=1)
    >>> d.anx_a.shape, d.style_s.shape
    ((3, 20), (3, 0))
    """
    m = n_singles if scenario.singles else 0
    n_children = 0
    over = dict(scenario.settings)
    if "child_code_probs" in over:
        n_children = int(0.6 * n_couples * n_sim)
    s = base_settings(**over)
    s = replace(s, n_couples=int(n_couples * n_sim), n_singles=int(m * n_sim), n_children=n_children)
    cohort = simulate_cohort(s, seed)
    resp = cohort.responses
    inst = load_instrument(s.instrument).with_scale(s.scale_min, s.scale_max)
    ecr = resp[[f"ecr_{i.n}" for i in inst.items]].astype(float)
    ecr.columns = inst.item_columns()
    keyed = reverse_key(ecr, inst)
    dims = subscale_means(keyed, inst)
    mm_inst = load_instrument("minmax", s.minmax_format)
    mmx = resp[[f"mm_{k + 1}" for k in range(mm_inst.n_items)]].astype(float)
    mmx.columns = mm_inst.item_columns()
    mm_scores = score_minmax(mmx, mm_inst)
    anx = dims[f"{inst.name}_anxiety"].to_numpy()
    avo = dims[f"{inst.name}_avoidance"].to_numpy()
    mid = (inst.scale_min + inst.scale_max) / 2
    style = quadrant_codes(is_high(anx, mid), is_high(avo, mid))
    lookup = {t: k for k, t in enumerate(MINMAX_TYPES)}
    mtype = np.array([lookup[t] for t in mm_scores["minmax_type"]], dtype=np.int64)
    index = mm_scores["minmax_index"].to_numpy(dtype=float)
    gender = pd.Series(resp["gender"]).map({"female": 0, "male": 1}).fillna(2).to_numpy(dtype=np.int64)
    nc = 2 * n_couples * n_sim

    def split(v):
        v = np.asarray(v)[:nc]
        return v[0::2].reshape(n_sim, n_couples), v[1::2].reshape(n_sim, n_couples)

    def singles(v):
        return np.asarray(v)[nc:].reshape(n_sim, m)

    (aa, ab), (va, vb), (ma, mb), (sa, sb), (ta, tb), (ga, gb) = (split(v) for v in (anx, avo, index, style, mtype,
                                                                                     gender))

    def alpha(sub):  # Cronbach's alpha per data set, over its couples and singles (as reliability.csv)
        x = keyed[[f"{inst.name}_{k}" for k in inst.subscale_items(sub)]].to_numpy(float)
        sets = np.concatenate([x[:nc].reshape(n_sim, 2 * n_couples, x.shape[1]), x[nc:].reshape(n_sim, m, x.shape[1])],
                              axis=1)
        c = sets - sets.mean(axis=1, keepdims=True)
        cov = np.einsum("sni,snj->sij", c, c) / (sets.shape[1] - 1)
        k = cov.shape[1]
        return k / (k - 1) * (1 - np.einsum("sii->s", cov) / cov.sum(axis=(1, 2)))
    children = pd.DataFrame(columns=["data_set", "parent_code", "child_code", "family", "parent"])
    if len(cohort.children):
        ids = resp["respondent_id"].to_numpy()
        row = pd.Series(np.arange(len(ids)), index=ids)
        prow = row.reindex(cohort.children["parent_id"]).to_numpy()
        code_style = {"B": 0, "C": 1, "A": 2, "D": 3}  # SSP code -> style code (STYLES order)
        couple_no = prow // 2
        children = pd.DataFrame({
            "data_set": couple_no // n_couples, "parent_code": style[prow],
            "child_code": cohort.children["ssp_code"].map(code_style).to_numpy(),
            "family": couple_no, "parent": prow})
    return SimulatedSets(aa, va, ab, vb, ma, mb, sa, sb, ta, tb, ga, gb, singles(anx), singles(avo), singles(index),
                         singles(style), singles(gender), alpha("anxiety"), alpha("avoidance"), children)


# ---------------------------------------------------------------------------
# the tests, batched over data sets (the same functions the families call)


def _structure(d: SimulatedSets, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """``distinguishable: auto`` per data set: the I-SAT test of the roles at .05 (roles A/B always given)."""
    return dy.distinguishability_test(xa, xb).p < dy.DISTINGUISHABILITY_ALPHA


def _by_structure(fun, dist: np.ndarray) -> np.ndarray:
    """p-values of ``fun(distinguishable)``, taken per data set from the decided structure."""
    return np.where(dist, fun(True), fun(False))


def _pair(d, a, b):
    return np.stack([a, b], axis=-1)


def _rel(d: SimulatedSets) -> np.ndarray:
    """Each data set's alphas of anxiety and avoidance, (S, 2): what reliability.csv gives the family."""
    return np.stack([d.alpha_anx, d.alpha_avo], axis=1)


def pvalues_path(d: SimulatedSets, seed) -> np.ndarray:
    """H1: the standardized cross-partner path of true scores (ML), one-sided greater; structure auto."""
    dist = _structure(d, _pair(d, d.anx_a, d.avo_a), _pair(d, d.anx_b, d.avo_b))

    def p(distinguishable):
        res = dy.cross_partner_paths(d.anx_a, d.avo_a, d.anx_b, d.avo_b, distinguishable=distinguishable,
                                     direction="greater", roles=("A", "B"), reliability=_rel(d))
        return (res["mean_path"] if distinguishable else res["path"])[0].p
    return _by_structure(p, dist)


def pvalues_path_manifest(d: SimulatedSets, seed) -> np.ndarray:
    """H1 without the correction for measurement error (correct_attenuation: false)."""
    dist = _structure(d, _pair(d, d.anx_a, d.avo_a), _pair(d, d.anx_b, d.avo_b))

    def p(distinguishable):
        res = dy.cross_partner_paths(d.anx_a, d.avo_a, d.anx_b, d.avo_b, distinguishable=distinguishable,
                                     direction="greater", roles=("A", "B"))
        return (res["mean_path"] if distinguishable else res["path"])[0].p
    return _by_structure(p, dist)


def pvalues_cross_r(d: SimulatedSets, seed) -> np.ndarray:
    """H1 secondary: the cross-partner correlation (I-SAT / saturated, MLR), one-sided greater."""
    xa, xb = _pair(d, d.anx_a, d.avo_a), _pair(d, d.anx_b, d.avo_b)
    dist = _structure(d, xa, xb)

    def p(distinguishable):
        res = dy.cross_partner_paths(d.anx_a, d.avo_a, d.anx_b, d.avo_b, distinguishable=distinguishable,
                                     robust=True, direction="greater", roles=("A", "B"))
        return res["r_cross"][1 if distinguishable else 0].p  # distinguishable: A's anxiety with B's avoidance
    return _by_structure(p, dist)


def _pairing(d: SimulatedSets, agreement) -> np.ndarray:
    dist = _structure(d, _pair(d, d.anx_a, d.avo_a), _pair(d, d.anx_b, d.avo_b))

    def p(distinguishable):
        return dy.pairing_loglinear(d.style_a, d.style_b, list(STYLES), [("preoccupied", "dismissing")],
                                    exchangeable=not distinguishable, direction="greater", agreement=agreement).p
    return _by_structure(p, dist)


def pvalues_pairing(d: SimulatedSets, seed) -> np.ndarray:
    """H1b: preoccupied-dismissing couples beyond homogamy on each dimension (log-linear), one-sided greater."""
    return _pairing(d, list(STYLE_DIMENSIONS.values()))


def pvalues_pairing_diagonal(d: SimulatedSets, seed) -> np.ndarray:
    """H1b with homogamy: diagonal (quasi-independence: same style only)."""
    return _pairing(d, None)


def pvalues_apim_partner(d: SimulatedSets, seed, reliability=None) -> np.ndarray:
    """APIM partner effect of anxiety on avoidance (ML), two-sided; structure auto (mean of roles)."""
    xa, xb = _pair(d, d.anx_a, d.avo_a), _pair(d, d.anx_b, d.avo_b)
    dist = _structure(d, xa, xb)

    def p(distinguishable):
        res = dy.apim(d.anx_a, d.avo_a, d.anx_b, d.avo_b, distinguishable=distinguishable, reliability=reliability)
        if not distinguishable:
            return next(e for e in res.effects if e.name == "partner").p

        def mean_partner(mu, cov):
            b1 = dy.regression_coefficients(cov, 1, [0, 2])
            b2 = dy.regression_coefficients(cov, 3, [2, 0])
            return ((b1[:, 1] + b2[:, 1]) / 2)[:, None]
        theta = dy.error_variances(res.moments, reliability)

        def true_partner(mu, cov):
            return mean_partner(mu, dy._true_score(cov, theta))
        est, se, _ = dy.delta_method(true_partner, res.moments)
        return 2 * stats.norm.sf(np.abs(est[:, 0] / se[:, 0]))
    return _by_structure(p, dist)


def pvalues_apim_partner_true(d: SimulatedSets, seed) -> np.ndarray:
    """APIM partner effect of true scores (correct_attenuation: true)."""
    return pvalues_apim_partner(d, seed, reliability=_rel(d))


def pvalues_minmax_icc(d: SimulatedSets, seed) -> np.ndarray:
    """H2: partner similarity of the min/max index, one-sided less (ICC F test or r t test by structure)."""
    dist = _structure(d, d.mm_a[..., None], d.mm_b[..., None])
    return _by_structure(lambda di: dy.nonindependence(d.mm_a[..., None], d.mm_b[..., None], distinguishable=di,
                                                       direction="less").p, dist)


def pvalues_symmetric_share(d: SimulatedSets, seed) -> np.ndarray:
    """H3: symmetric (min-min, max-max) couples against random pairing, two-sided (exact permutation)."""
    dist = _structure(d, d.mm_a[..., None], d.mm_b[..., None])
    target = dy._pair_target(3, [(0, 0), (2, 2)])

    def p(distinguishable):
        return dy.matching_count_test(d.type_a, d.type_b, target, exchangeable=not distinguishable,
                                      direction="two-sided", n_permutations=499, seed=seed)[2]
    return _by_structure(p, dist)


def pvalues_distinguishability(d: SimulatedSets, seed) -> np.ndarray:
    """The I-SAT test of the roles on (anxiety, avoidance)."""
    return dy.distinguishability_test(_pair(d, d.anx_a, d.avo_a), _pair(d, d.anx_b, d.avo_b)).p


def pvalues_nonindependence(d: SimulatedSets, seed) -> np.ndarray:
    """Partner similarity of anxiety (ICC, exact F test), two-sided."""
    return dy.nonindependence(d.anx_a[..., None], d.anx_b[..., None], distinguishable=False).p


def _respondents(d: SimulatedSets, what: str) -> tuple[np.ndarray, np.ndarray]:
    """A score of all respondents (couples' partners interleaved, then singles) and the cluster labels."""
    a, b, s = {"anx": (d.anx_a, d.anx_b, d.anx_s), "avo": (d.avo_a, d.avo_b, d.avo_s),
               "mm": (d.mm_a, d.mm_b, d.mm_s), "style": (d.style_a, d.style_b, d.style_s)}[what]
    n, m = a.shape[1], s.shape[1]
    values = np.concatenate([np.stack([a, b], axis=2).reshape(a.shape[0], 2 * n), s], axis=1)
    clusters = np.concatenate([np.repeat(np.arange(n), 2).astype(str), np.full(m, None, dtype=object)]).astype(object)
    return values, clusters


def pvalues_correlation(d: SimulatedSets, seed) -> np.ndarray:
    """H4: min/max index with anxiety over respondents, couple-clustered, two-sided."""
    x, cl = _respondents(d, "mm")
    y, _ = _respondents(d, "anx")
    return inf.cluster_correlation(x, y, cl).p


def pvalues_correlation_naive(d: SimulatedSets, seed) -> np.ndarray:
    """Before: Pearson over respondents as if independent."""
    x, _ = _respondents(d, "mm")
    y, _ = _respondents(d, "anx")
    r = inf.pearson_rows(x, y)
    n = x.shape[1]
    t = r * np.sqrt((n - 2) / (1 - r ** 2))
    return 2 * stats.t.sf(np.abs(t), n - 2)


def _reference_styles(d: SimulatedSets) -> dict:
    values, _ = _respondents(d, "style")
    shares = np.bincount(values.ravel().astype(np.int64), minlength=4) / values.size
    return {STYLES[k]: float(shares[k]) for k in range(4)}


def pvalues_prevalence(d: SimulatedSets, seed) -> np.ndarray:
    """H5: styles against their true distribution, Rao-Scott corrected chi-square (loops over data sets)."""
    values, cl = _respondents(d, "style")
    ref = _reference_styles(d)
    labels = np.array(STYLES, dtype=object)
    return np.array([inf.rao_scott_goodness_of_fit(labels[v.astype(np.int64)], ref, cl).p for v in values])


def pvalues_prevalence_naive(d: SimulatedSets, seed) -> np.ndarray:
    """Before: Pearson's chi-square of the styles as if respondents were independent."""
    values, _ = _respondents(d, "style")
    ref = np.array(list(_reference_styles(d).values()))
    counts = (values[:, :, None] == np.arange(4)).sum(axis=1)
    e = ref * values.shape[1]
    return stats.chi2.sf(((counts - e) ** 2 / e).sum(axis=1), 3)


def _true_r(d: SimulatedSets) -> float:
    x, _ = _respondents(d, "anx")
    y, _ = _respondents(d, "avo")
    return float(np.corrcoef(x.ravel(), y.ravel())[0, 1])


def pvalues_tost(d: SimulatedSets, seed) -> np.ndarray:
    """H7: |r(anxiety, avoidance)| < r_max with r_max at the true correlation (the null's boundary), clustered."""
    x, cl = _respondents(d, "anx")
    y, _ = _respondents(d, "avo")
    c = inf.cluster_correlation(x, y, cl)
    return inf.cluster_equivalence_p(c.r, c.se, _true_r(d), c.df)


def pvalues_tost_naive(d: SimulatedSets, seed) -> np.ndarray:
    """Before: the TOST with n - 3 as if respondents were independent."""
    x, _ = _respondents(d, "anx")
    y, _ = _respondents(d, "avo")
    r = inf.pearson_rows(x, y)
    n = x.shape[1]
    return np.array([inf.equivalence_correlation_p(v, n, _true_r(d)) for v in r])


def _gender_data(d: SimulatedSets):
    """Anxiety, gender code (0 female, 1 male, 2 other) and cluster of every respondent."""
    y, cl = _respondents(d, "anx")
    n = d.anx_a.shape[1]
    g = np.concatenate([np.stack([d.gender_a, d.gender_b], axis=2).reshape(d.n_sim, 2 * n), d.gender_s], axis=1)
    return y, g, cl


def pvalues_group_difference(d: SimulatedSets, seed) -> np.ndarray:
    """Gender difference in anxiety: CR1 mean difference with couples as clusters (paired), two-sided."""
    y, g, cl = _gender_data(d)
    out = []
    for s in range(d.n_sim):  # the gender split differs per data set
        keep = g[s] < 2
        out.append(inf.cluster_mean_difference(y[s, keep], g[s, keep] == 0, cl[keep]).p)
    return np.array(out)


def pvalues_group_difference_auc(d: SimulatedSets, seed) -> np.ndarray:
    """Gender difference, Mann-Whitney with Obuchowski's clustered variance, two-sided."""
    y, g, cl = _gender_data(d)
    return np.array([inf.clustered_auc(y[s, g[s] < 2], g[s, g[s] < 2] == 0, cl[g[s] < 2]).p
                     for s in range(d.n_sim)])


def pvalues_group_difference_naive(d: SimulatedSets, seed) -> np.ndarray:
    """Before: Welch's unpaired t test."""
    y, g, _ = _gender_data(d)
    return np.array([stats.ttest_ind(y[s][g[s] == 0], y[s][g[s] == 1], equal_var=False).pvalue
                     for s in range(d.n_sim)])


def pvalues_transmission(d: SimulatedSets, seed, mid_p: bool = False) -> np.ndarray:
    """H6: kappa of parent style and child code, one-sided family permutation test (loops over data sets)."""
    out = np.full(d.n_sim, np.nan)
    ch = d.children
    for s, g in ch.groupby("data_set"):
        out[int(s)] = dy.transmission_test(g.parent_code, g.child_code, g.family, g.parent, n_permutations=499,
                                           n_bootstrap=0, seed=derive_seed(seed, int(s)), mid_p=mid_p).p
    return out


def pvalues_transmission_mid(d: SimulatedSets, seed) -> np.ndarray:
    """H6 with ``discrete_p: mid``."""
    return pvalues_transmission(d, seed, mid_p=True)


def pvalues_transmission_naive(d: SimulatedSets, seed) -> np.ndarray:
    """Before: the exact binomial test of concordance against .70 (two-sided), the old primary row."""
    out = np.full(d.n_sim, np.nan)
    for s, g in d.children.groupby("data_set"):
        k = int((g.parent_code == g.child_code).sum())
        out[int(s)] = stats.binomtest(k, len(g), 0.7).pvalue
    return out


def pvalues_repairing_naive(d: SimulatedSets, seed) -> np.ndarray:
    """Before: H1's double-entry correlation with the random re-pairing p-value, one-sided greater."""
    return dy.repairing_correlation_test(d.anx_a, d.avo_a, d.anx_b, d.avo_b, direction="greater",
                                         n_permutations=499, seed=seed)[1]


@dataclass(frozen=True)
class CalibratedTest:
    """A test, the family it belongs to, and the scenarios it runs in (designed nulls first)."""

    family: str
    function: object
    designed: tuple
    also: tuple = ()
    effects: tuple = ()
    in_pipeline: bool = True
    explain: dict | None = None


_DYADIC = ("independent", "similarity", "profile_similarity", "couple_factor", "role_difference")
TESTS: dict[str, CalibratedTest] = {
    "H1 cross-partner path": CalibratedTest(
        "complementarity", pvalues_path, ("independent", "profile_similarity", "role_difference"),
        ("similarity", "couple_factor"), ("planted_complementarity",),
        explain={"similarity": "conservative by design: with similarity on each dimension and no cross-dimension "
                               "link the path is -r s / (1 - r^2) < 0, so a test of a positive path rejects less",
                 "couple_factor": "cannot be nominal: a shared couple factor makes the path positive; with "
                                  "cross-sectional scores of indistinguishable dyads it is not separable from "
                                  "complementarity"}),
    "H1 path of manifest scores (correct_attenuation: false)": CalibratedTest(
        "complementarity", pvalues_path_manifest, ("independent", "role_difference"), ("profile_similarity",),
        explain={"profile_similarity": "not nominal: with fallible scores, controlling the first partner's "
                                       "avoidance leaves part of the similarity in the path (positive), which is why "
                                       "the family analyses true scores by default"}),
    "H1 cross-partner r": CalibratedTest(
        "complementarity", pvalues_cross_r, ("independent", "similarity", "role_difference"),
        ("profile_similarity", "couple_factor"), ("planted_complementarity",),
        explain={"profile_similarity": "not its null: profile similarity links one partner's anxiety with the "
                                       "other's avoidance (r s); that is why it is a secondary, descriptive row",
                 "couple_factor": "cannot be nominal: a shared couple factor is a cross-partner correlation"}),
    "H1b pairing beyond homogamy": CalibratedTest(
        "complementary_pairing", pvalues_pairing, ("independent", "profile_similarity", "role_difference"),
        ("similarity", "couple_factor"), ("planted_complementarity",),
        explain={"similarity": "conservative by design, as the path: similarity on each dimension alone makes "
                               "couples who differ on both dimensions rarer than homogamy on each dimension gives",
                 "couple_factor": "cannot be nominal: a shared couple factor links one partner's anxiety "
                                  "with the other's avoidance beyond homogamy on each dimension"}),
    "H1b with homogamy: diagonal (quasi-independence)": CalibratedTest(
        "complementary_pairing", pvalues_pairing_diagonal, ("independent", "role_difference"),
        ("similarity", "profile_similarity", "couple_factor"), ("planted_complementarity",),
        explain={"similarity": "conservative: same-style homogamy leaves the graded similarity (couples who differ "
                               "on both dimensions are rarer), so the pair looks rarer than homogamy gives",
                 "profile_similarity": "conservative, for the same reason; see its power",
                 "couple_factor": "not its null"}),
    "APIM partner effect": CalibratedTest(
        "apim", pvalues_apim_partner, ("independent", "role_difference"),
        ("profile_similarity", "similarity", "couple_factor"), ("planted_complementarity",),
        explain={"profile_similarity": "lavaan's manifest APIM: with fallible scores the partner effect is not "
                                       "zero under profile similarity (the own anxiety is under-controlled); "
                                       "correct_attenuation: true removes it",
                 "similarity": "not its null: with similarity on each dimension only, the partner's anxiety "
                               "predicts the own avoidance negatively (-r s / (1 - s^2)) once the own anxiety is "
                               "controlled; the two-sided test finds it",
                 "couple_factor": "not its null: a shared couple factor is a partner effect"}),
    "APIM partner effect of true scores": CalibratedTest(
        "apim", pvalues_apim_partner_true, ("independent", "profile_similarity", "role_difference"),
        ("similarity", "couple_factor"), ("planted_complementarity",),
        explain={"similarity": "not its null (see above)", "couple_factor": "not its null: a shared couple "
                                                                             "factor is a partner effect"}),
    "H2 min/max ICC": CalibratedTest(
        "minmax_complementarity", pvalues_minmax_icc, ("independent", "role_difference"), ("similarity",),
        ("planted_minmax",),
        explain={"similarity": "not its null: partners alike in anxiety and avoidance have alike min/max "
                               "propensities (a positive ICC), so the test of a negative ICC rejects less"}),
    "H3 symmetric couples": CalibratedTest(
        "pairing_symmetry", pvalues_symmetric_share, ("independent", "role_difference"), (), ("planted_minmax",),
        explain={}),
    "distinguishability (I-SAT)": CalibratedTest(
        "couples.distinguishable", pvalues_distinguishability,
        ("independent", "similarity", "profile_similarity", "couple_factor"), (), ("role_difference",)),
    "partner similarity (ICC)": CalibratedTest(
        "dyads/nonindependence", pvalues_nonindependence, ("independent",), (), ("similarity",)),
    "H4 correlation (clustered)": CalibratedTest(
        "correlation", pvalues_correlation, ("icc_7",), (), ("planted_correlation",)),
    "H5 prevalence (Rao-Scott)": CalibratedTest("prevalence", pvalues_prevalence, ("icc_7",)),
    "H7 equivalence (clustered TOST)": CalibratedTest("dimensions_distinct", pvalues_tost, ("icc_7",)),
    "gender difference (CR1)": CalibratedTest(
        "group_difference", pvalues_group_difference, ("gender_pairs_06", "gender_pairs_m03")),
    "gender difference (clustered Mann-Whitney)": CalibratedTest(
        "group_difference", pvalues_group_difference_auc, ("gender_pairs_06", "gender_pairs_m03")),
    "H6 transmission (family permutation)": CalibratedTest(
        "transmission", pvalues_transmission, ("families",), (), ("planted_transmission",),
        explain={"families": "an exact permutation test: its size is the attainable level at or below .05"}),
    "H6 transmission, mid-p (discrete_p: mid)": CalibratedTest(
        "transmission", pvalues_transmission_mid, ("families",), (), ("planted_transmission",)),
    # the tests used before, for comparison (not run by the pipeline any more)
    "before: H1 double entry, re-pairing p": CalibratedTest(
        "complementarity", pvalues_repairing_naive, ("independent",), ("similarity", "profile_similarity",
                                                                     "couple_factor", "role_difference"), (), False),
    "before: correlation, respondents independent": CalibratedTest(
        "correlation", pvalues_correlation_naive, ("icc_7",), (), (), False),
    "before: prevalence, Pearson chi-square": CalibratedTest("prevalence", pvalues_prevalence_naive, ("icc_7",), (), (),
                                                             False),
    "before: TOST with n - 3": CalibratedTest("dimensions_distinct", pvalues_tost_naive, ("icc_7",), (), (), False),
    "before: gender difference, Welch t": CalibratedTest(
        "group_difference", pvalues_group_difference_naive, ("gender_pairs_06", "gender_pairs_m03"), (), (), False),
    "before: transmission, binomial test of concordance vs .70": CalibratedTest(
        "transmission", pvalues_transmission_naive, ("families",), (), (), False),
}


# ---------------------------------------------------------------------------
# the table


def _wilson(k: int, n: int) -> tuple[float, float]:
    return inf.wilson_interval(k, n, 0.95)


def _verdict(rate: float, kind: str, designed: bool, explain: str) -> tuple[str, str]:
    if kind == "effect":
        return "power", ""
    if not designed:
        return "not its null", explain
    if NOMINAL[0] <= rate <= NOMINAL[1]:
        return "nominal", ""
    return ("conservative", explain or "below .03") if rate < NOMINAL[0] else ("liberal", explain or "above .07")


def calibration_table(tests=None, *, n_sim: int = 1000, n_couples: int = 150, n_singles: int = 100,
                      seed: int = DEMO_SEED, alpha: float = ALPHA, scenarios=None) -> pd.DataFrame:
    """Rejection rates of every test under every scenario it is listed for (see the module docstring).

    One simulation per scenario (seed ``derive_seed(seed, "calibration", scenario)``),
    shared by the tests that run in it.

    >>> t = calibration_table(["partner similarity (ICC)"], n_sim=30, n_couples=40, scenarios=["independent"])
    >>> t[["test", "scenario", "verdict"]].values.tolist()[0][:2]
    ['partner similarity (ICC)', 'independent']
    """
    names = list(TESTS) if tests is None else list(tests)
    bad = [t for t in names if t not in TESTS]
    if bad:
        raise ValueError(f"Unknown test(s) {bad}; choose from {list(TESTS)}.")
    plan: dict = {}
    for t in names:
        spec = TESTS[t]
        for sc in (*spec.designed, *spec.also, *spec.effects):
            if scenarios is None or sc in scenarios:
                plan.setdefault(sc, []).append(t)
    rows = []
    for sc in [s for s in SCENARIOS if s in plan]:
        scen = SCENARIOS[sc]
        data = simulate_sets(scen, n_couples, n_singles, n_sim, derive_seed(seed, "calibration", sc))
        for t in plan[sc]:
            spec = TESTS[t]
            p = np.asarray(spec.function(data, derive_seed(seed, "calibration", sc, t)), dtype=float)
            p = p[np.isfinite(p)]
            k = int((p < alpha).sum())
            rate = k / len(p) if len(p) else np.nan
            lo, hi = _wilson(k, len(p))
            designed = sc in spec.designed
            kind = "effect" if sc in spec.effects else "null"  # a null of the others can be this test's effect
            verdict, why = _verdict(rate, kind, designed, (spec.explain or {}).get(sc, ""))
            rows.append({"test": t, "family": spec.family, "in_pipeline": spec.in_pipeline, "scenario": sc,
                         "kind": kind, "designed_null": designed and kind == "null", "n_sim": len(p),
                         "n_couples": n_couples, "n_singles": n_singles if scen.singles else 0, "alpha": alpha,
                         "rejection_rate": rate, "mc_se": float(np.sqrt(rate * (1 - rate) / len(p))) if len(p) else np.nan,
                         "ci_low": lo, "ci_high": hi, "verdict": verdict, "explanation": why})
    return pd.DataFrame(rows, columns=list(CALIBRATION_COLUMNS))


def markdown_table(table: pd.DataFrame) -> str:
    """``calibration.csv`` as a Markdown document (tests by rows, one line per scenario)."""
    lines = ["# Calibration of the couple and family tests", "",
             f"Nominal alpha {table['alpha'].iloc[0]:g}; {int(table['n_sim'].max())} simulated data sets of "
             f"{int(table['n_couples'].iloc[0])} couples per scenario (respondent-level scenarios add "
             f"{int(table['n_singles'].max())} respondents without a partner). A test is *nominal* under the nulls "
             "it is designed for when its rejection rate lies in .03-.07. Made by "
             "`make calibrate` (`python -m attachment_pipeline.calibrate`); scenarios and tests are described in "
             "the module docstring.", "",
             "**What the data cannot tell apart.** H1's test asks whether one partner's anxiety predicts the "
             "other's avoidance beyond the first partner's own avoidance. That path is zero when partners are "
             "merely alike in their whole profile (the null it is designed for), negative when they are alike on "
             "each dimension separately (the test is then conservative), and positive when a shared couple-level "
             "insecurity raises both partners' scores. Cross-sectional scores of indistinguishable couples have "
             "too few moments to separate that shared factor from complementarity, so no test of complementarity "
             "can hold its level under it; the table shows how often each one rejects there instead of pretending "
             "otherwise.", "", "## Scenarios", "", "| scenario | kind | data |", "|---|---|---|"]
    for name, sc in SCENARIOS.items():
        if name in set(table["scenario"]):
            lines.append(f"| {name} | {sc.kind} | {sc.description} |")
    lines += ["", "## Rejection rates", "",
              "| test | scenario | designed null | rate [95% CI] | verdict | why |", "|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        rate = f"{r['rejection_rate']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        designed = "yes" if r["designed_null"] else ("effect" if r["kind"] == "effect" else "no")
        name = r["test"] if r["in_pipeline"] else f"*{r['test']}*"
        lines.append(f"| {name} | {r['scenario']} | {designed} | {rate} | {r['verdict']} | {r['explanation']} |")
    lines += ["", "Rows in italics are the tests the pipeline used before this calibration (kept for comparison; "
              "not run by the hypothesis families)."]
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m attachment_pipeline.calibrate",
                                description="Type I error and power of the couple and family tests (simulated).")
    p.add_argument("--out", required=True, help="output folder (calibration.csv, calibration.md)")
    p.add_argument("--n-sim", type=int, default=1000, help="simulated data sets per scenario")
    p.add_argument("--n-couples", type=int, default=150)
    p.add_argument("--n-singles", type=int, default=100, help="respondents without a partner (respondent-level tests)")
    p.add_argument("--seed", type=int, default=DEMO_SEED)
    p.add_argument("--quick", action="store_true", help="200 data sets of 80 couples (a smoke check)")
    p.add_argument("--tests", nargs="+", choices=list(TESTS), default=None)
    return p


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    n_sim, n_couples, n_singles = (200, 80, 60) if args.quick else (args.n_sim, args.n_couples, args.n_singles)
    try:
        table = calibration_table(args.tests, n_sim=n_sim, n_couples=n_couples, n_singles=n_singles, seed=args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / "calibration.csv")
    (out / "calibration.md").write_text(markdown_table(table), encoding="utf-8")
    print(out / "calibration.csv")
    print(out / "calibration.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
