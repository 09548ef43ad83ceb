"""Comparing and pooling cohorts: equal-alpha tests, random-effects meta-analysis, style prevalence.

Public entry points
-------------------
- :func:`equal_alpha_test` -- are independent alphas equal? Feldt (1969) for
  two, Hakstian & Whalen (1976) for two or more (and the Feldt, Woodruff &
  Salih, 1987, variant that the R package cocron computes).
- :func:`pooled_reliability` -- per instrument and subscale, each cohort's
  overall alpha from its ``reliability.csv`` and the test of their equality.
- :func:`random_effects_meta` -- DerSimonian-Laird random-effects pooling of
  correlations via Fisher's z; :func:`meta_analysis_table` per measure;
  :func:`forest_plot` draws it.
- :func:`prevalence_homogeneity` -- chi-square test that the four attachment
  styles are equally common in every cohort, with Cramer's V.

Cross-checks: ``tests/r/invariance_reference.R`` writes the same computations
in base R (metafor and cocron are not installed; the formulas are written out
from the publications cited below) to ``tests/reference/invariance_pooled.json``;
``tests/test_pooled.py`` also reproduces published examples (Charter & Feldt,
1996; Feldt, Woodruff & Salih, 1987, as in cocron's own tests) and checks that
the alpha tests reject at the nominal rate under the null (simulated item data).

References
----------
Feldt, L. S. (1969). A test of the hypothesis that Cronbach's alpha or
Kuder-Richardson coefficient twenty is the same for two tests. Psychometrika, 34, 363-373.
Hakstian, A. R., & Whalen, T. E. (1976). A k-sample significance test for
independent alpha coefficients. Psychometrika, 41, 219-231.
Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
coefficient alpha. Applied Psychological Measurement, 11, 93-103.
Charter, R. A., & Feldt, L. S. (1996). Testing the equality of two alpha
coefficients. Perceptual and Motor Skills, 82, 763-768.
Diedenhofen, B., & Musch, J. (2016). cocron: A web interface and R package for the
statistical comparison of Cronbach's alpha coefficients. International Journal of
Internet Science, 11, 51-60.
DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. Controlled
Clinical Trials, 7, 177-188.
Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
Introduction to meta-analysis. Wiley. (Chapters 6, 12 and 16.)
Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying heterogeneity in a
meta-analysis. Statistics in Medicine, 21, 1539-1558.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
Journal of Statistical Software, 36(3), 1-48.
Cramer, H. (1946). Mathematical methods of statistics. Princeton University Press.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .vocabulary import STYLES

__all__ = [
    "ALPHA_TESTS",
    "EqualAlphaResult",
    "equal_alpha_test",
    "pooled_reliability",
    "POOLED_RELIABILITY_COLUMNS",
    "MetaResult",
    "random_effects_meta",
    "meta_analysis_table",
    "META_COLUMNS",
    "forest_plot",
    "prevalence_homogeneity",
    "STYLES",
]

#: Tests of :func:`equal_alpha_test` (``method``); ``auto`` = Feldt for two alphas, Hakstian-Whalen for more.
ALPHA_TESTS = ("auto", "feldt_1969", "hakstian_whalen_1976", "feldt_woodruff_salih_1987")


# ------------------------------------------------------------------ equal alphas
@dataclass(frozen=True)
class EqualAlphaResult:
    """A test of the equality of independent alpha coefficients.

    ``test`` names the method; ``statistic`` is Feldt's W (F distributed on
    ``df``, ``df2``) or a chi-square on ``df`` degrees of freedom (``df2`` NaN);
    ``p`` is two-sided for Feldt's W and the upper tail for the chi-square.
    """

    test: str
    statistic: float
    df: float
    df2: float
    p: float
    k_groups: int
    alphas: tuple[float, ...] = field(repr=False)
    ns: tuple[int, ...] = field(repr=False)
    ks: tuple[int, ...] = field(repr=False)


def _alpha_inputs(alphas, ns, ks):
    a = np.asarray(alphas, dtype=float).ravel()
    n = np.asarray(ns, dtype=float).ravel()
    k = np.asarray(ks, dtype=float).ravel()
    if a.size < 2:
        raise ValueError(f"Comparing alphas needs at least two of them, got {a.size}.")
    if n.size == 1:
        n = np.repeat(n, a.size)
    if k.size == 1:
        k = np.repeat(k, a.size)
    if n.size != a.size or k.size != a.size:
        raise ValueError(f"Give one n and one k per alpha (or one for all): got {a.size} alphas, "
                         f"{n.size} n and {k.size} k.")
    if not np.all(np.isfinite(a)) or np.any(a >= 1):
        raise ValueError(f"Every alpha must be a finite number below 1, got {a.tolist()}.")
    if not np.all(np.isfinite(n)) or np.any(n < 2) or np.any(n != np.round(n)):
        raise ValueError(f"Every n must be a whole number of respondents >= 2, got {n.tolist()}.")
    if not np.all(np.isfinite(k)) or np.any(k < 2) or np.any(k != np.round(k)):
        raise ValueError(f"Every k (number of items) must be a whole number >= 2, got {k.tolist()}.")
    return a, n, k


def feldt_1969(alpha_1: float, alpha_2: float, n_1: int, n_2: int) -> tuple[float, float, float, float]:
    """Feldt's (1969) test of two independent alphas: ``(W, df, df2, p)``.

    ``W = (1 - alpha_1) / (1 - alpha_2)``. Since ``(1 - alpha_hat) / (1 - alpha)``
    is approximately ``(n - 1) / chi2_{n-1}`` (Feldt, 1969), under
    ``H0: alpha_1 = alpha_2`` W follows ``F(n_2 - 1, n_1 - 1)`` (the numerator
    degrees of freedom come from the sample in the denominator of W; Charter &
    Feldt, 1996; cocron). Two-sided ``p = 2 min(P(F <= W), P(F >= W))``.
    W ignores the number of items: the exact sampling distribution,
    ``(1 - alpha) / (1 - alpha_hat) ~ F(n - 1, (n - 1)(k - 1))`` for parallel
    normal items, has a second df, so with few items the test is somewhat
    liberal (about 6.6% rejections at a nominal 5% with 8 items, 5.7% with 18,
    5.3% with 36); the Hakstian-Whalen test, which uses k, is not
    (``tests/test_pooled.py``).

    >>> w, d1, d2, p = feldt_1969(0.78, 0.71, 41, 151)   # Charter & Feldt (1996): 1.318, one-sided p .121
    >>> round(1 / w, 3), d1, d2, round(p / 2, 3), round(p, 3)
    (1.318, 150.0, 40.0, 0.121, 0.241)
    """
    w = (1.0 - alpha_1) / (1.0 - alpha_2)
    d1, d2 = float(n_2 - 1), float(n_1 - 1)
    p = 2.0 * min(stats.f.cdf(w, d1, d2), stats.f.sf(w, d1, d2))
    return float(w), d1, d2, float(min(p, 1.0))


def hakstian_whalen_1976(alphas, ns, ks) -> tuple[float, float, float]:
    """Hakstian & Whalen's (1976) k-sample test of independent alphas: ``(chi2, df, p)``.

    Each alpha is transformed to ``u_i = (1 - alpha_i)^(1/3)`` (approximately
    normal), with variance
    ``v_i = 18 k_i (n_i - 1) (1 - alpha_i)^(2/3) / ((k_i - 1) (9 n_i - 11)^2)``
    (k_i items, n_i respondents). With weights ``1 / v_i`` and the weighted mean
    ``u_bar = sum(u_i / v_i) / sum(1 / v_i)``,
    ``chi2 = sum (u_i - u_bar)^2 / v_i`` on ``G - 1`` df (G alphas). (The same
    transformation and variance as metafor's ``escalc(measure = "AHW")``.)

    >>> chi2, df, p = hakstian_whalen_1976([0.784, 0.875, 0.936], [51, 101, 151], [5, 5, 5])
    >>> round(chi2, 3), df, p < 1e-4
    (23.053, 2.0, True)
    """
    a, n, k = _alpha_inputs(alphas, ns, ks)
    u = np.cbrt(1.0 - a)
    v = 18.0 * k * (n - 1) * (1.0 - a) ** (2.0 / 3.0) / ((k - 1) * (9.0 * n - 11.0) ** 2)
    wts = 1.0 / v
    ubar = np.sum(wts * u) / np.sum(wts)
    chi2 = float(np.sum((u - ubar) ** 2 * wts))
    df = float(a.size - 1)
    return chi2, df, float(stats.chi2.sf(chi2, df))


def feldt_woodruff_salih_1987(alphas, ns, ks) -> tuple[float, float, float]:
    """Feldt, Woodruff & Salih's (1987) k-sample test, as ``cocron::cocron.n.coefficients``: ``(chi2, df, p)``.

    ``t_i = (1 - alpha_i)^(-1/3)``, ``n~_i = (k_i - 1) n_i / (k_i + 1)``,
    ``v_i = 2 / (9 (n~_i - 1) (1 - alpha_i)^(2/3))`` and
    ``chi2 = sum (t_i - mean(t))^2 / mean(v)`` on ``G - 1`` df.

    >>> chi2, df, p = feldt_woodruff_salih_1987([0.784, 0.875, 0.936], [51, 101, 151], [5, 5, 5])
    >>> round(chi2, 3), df                # published: 22.926 (cocron's test)
    (22.926, 2.0)
    """
    a, n, k = _alpha_inputs(alphas, ns, ks)
    t = (1.0 - a) ** (-1.0 / 3.0)
    nt = (k - 1) * n / (k + 1)
    if np.any(nt <= 1):
        raise ValueError("The Feldt-Woodruff-Salih test needs (k - 1) n / (k + 1) > 1 in every sample.")
    v = 2.0 / (9.0 * (nt - 1) * (1.0 - a) ** (2.0 / 3.0))
    chi2 = float(np.sum((t - t.mean()) ** 2) / v.mean())
    df = float(a.size - 1)
    return chi2, df, float(stats.chi2.sf(chi2, df))


def equal_alpha_test(alphas, ns, ks, method: str = "auto") -> EqualAlphaResult:
    """Test whether independent samples have the same coefficient alpha.

    Parameters
    ----------
    alphas : sample alphas (one per independent sample, e.g. cohort).
    ns : respondents per sample (the listwise n alpha is based on); one value for all allowed.
    ks : items per sample; one value for all allowed.
    method : ``"auto"`` (Feldt 1969 for two alphas, Hakstian & Whalen 1976 for
        more), ``"feldt_1969"`` (two alphas only), ``"hakstian_whalen_1976"`` or
        ``"feldt_woodruff_salih_1987"`` (cocron's k-sample test).

    Returns
    -------
    EqualAlphaResult
        Formulas: :func:`feldt_1969`, :func:`hakstian_whalen_1976`,
        :func:`feldt_woodruff_salih_1987`.

    Examples
    --------
    >>> r = equal_alpha_test([0.78, 0.71], [41, 151], [10, 10])
    >>> r.test, round(r.statistic, 4), (r.df, r.df2), round(r.p, 3)
    ('feldt_1969', 0.7586, (150.0, 40.0), 0.241)
    >>> equal_alpha_test([0.7, 0.75, 0.7], [100, 120, 130], 10).test
    'hakstian_whalen_1976'
    """
    if method not in ALPHA_TESTS:
        raise ValueError(f"method must be one of {ALPHA_TESTS}, got {method!r}.")
    a, n, k = _alpha_inputs(alphas, ns, ks)
    if method == "auto":
        method = "feldt_1969" if a.size == 2 else "hakstian_whalen_1976"
    if method == "feldt_1969":
        if a.size != 2:
            raise ValueError(f"Feldt's (1969) test compares exactly two alphas, got {a.size}; use "
                             "method='hakstian_whalen_1976' for more.")
        stat, df, df2, p = feldt_1969(a[0], a[1], int(n[0]), int(n[1]))
    elif method == "hakstian_whalen_1976":
        (stat, df, p), df2 = hakstian_whalen_1976(a, n, k), np.nan
    else:
        (stat, df, p), df2 = feldt_woodruff_salih_1987(a, n, k), np.nan
    return EqualAlphaResult(test=method, statistic=float(stat), df=float(df), df2=float(df2), p=float(p),
                            k_groups=int(a.size), alphas=tuple(float(v) for v in a),
                            ns=tuple(int(v) for v in n), ks=tuple(int(v) for v in k))


#: Columns of :func:`pooled_reliability`.
POOLED_RELIABILITY_COLUMNS = ("instrument", "subscale", "cohort", "n", "k", "alpha", "alpha_feldt_low",
                              "alpha_feldt_high", "test", "statistic", "df", "df2", "p")


def pooled_reliability(reliability_tables: Mapping[str, pd.DataFrame], method: str = "auto") -> pd.DataFrame:
    """Each cohort's overall alpha per instrument and subscale, and a test of their equality.

    Parameters
    ----------
    reliability_tables : ``{cohort: reliability.csv table}`` (columns ``instrument,
        subscale, group_column, group, alpha, n, k``, optionally ``alpha_feldt_low``,
        ``alpha_feldt_high``); only the overall rows (``group_column == "all"``) are used.
    method : as :func:`equal_alpha_test` (``auto``: Feldt for two cohorts,
        Hakstian-Whalen for more).

    Returns
    -------
    DataFrame
        Columns :data:`POOLED_RELIABILITY_COLUMNS`. Per instrument and subscale
        (in order of first appearance) one row per cohort (``test`` and the test
        columns empty), then one test row with ``cohort = "all"``, ``n`` the
        total of the tested cohorts, ``test`` the method, ``statistic``, ``df``,
        ``df2`` (Feldt's denominator df; NaN for chi-square tests) and ``p``.
        Cohorts without an alpha (too few respondents) are listed but not
        tested; with fewer than two cohorts to test, ``test = "none"``.

    Examples
    --------
    >>> rel = lambda a, n: pd.DataFrame({"instrument": ["ecr_r"], "subscale": ["anxiety"],
    ...                                  "group_column": ["all"], "group": ["all"],
    ...                                  "alpha": [a], "n": [n], "k": [18]})
    >>> t = pooled_reliability({"w1": rel(0.91, 300), "w2": rel(0.88, 250)})
    >>> t[["cohort", "alpha", "test"]].values.tolist()
    [['w1', 0.91, nan], ['w2', 0.88, nan], ['all', nan, 'feldt_1969']]
    >>> round(float(t.p.iloc[-1]), 4)
    0.0187
    """
    if not isinstance(reliability_tables, Mapping) or not reliability_tables:
        raise ValueError("reliability_tables must be a non-empty dict {cohort: reliability table}.")
    frames = []
    for cohort, tab in reliability_tables.items():
        if not isinstance(tab, pd.DataFrame):
            raise ValueError(f"Cohort {cohort!r}: expected a DataFrame (its reliability.csv), got "
                             f"{type(tab).__name__}.")
        need = ["instrument", "subscale", "group_column", "alpha", "n", "k"]
        absent = [c for c in need if c not in tab.columns]
        if absent:
            raise ValueError(f"Cohort {cohort!r}: the reliability table lacks column(s) {absent}; "
                             "pass the reliability.csv written by the pipeline.")
        part = tab.loc[tab["group_column"].astype(str) == "all"].copy()
        if part.duplicated(["instrument", "subscale"]).any():
            raise ValueError(f"Cohort {cohort!r}: more than one overall row (group_column 'all') for the "
                             "same instrument and subscale.")
        part["cohort"] = str(cohort)
        for col in ("alpha_feldt_low", "alpha_feldt_high"):
            if col not in part.columns:
                part[col] = np.nan
        frames.append(part[["instrument", "subscale", "cohort", "n", "k", "alpha", "alpha_feldt_low",
                            "alpha_feldt_high"]])
    allrows = pd.concat(frames, ignore_index=True)
    rows = []
    for (ins, sub), part in allrows.groupby(["instrument", "subscale"], sort=False):
        for rec in part.to_dict("records"):
            rows.append({**rec, "test": np.nan, "statistic": np.nan, "df": np.nan, "df2": np.nan, "p": np.nan})
        ok = part[np.isfinite(part["alpha"].astype(float)) & (part["n"].astype(float) >= 2)
                  & (part["k"].astype(float) >= 2)]
        test = {"instrument": ins, "subscale": sub, "cohort": "all", "n": float(ok["n"].sum()), "k": np.nan,
                "alpha": np.nan, "alpha_feldt_low": np.nan, "alpha_feldt_high": np.nan, "test": "none",
                "statistic": np.nan, "df": np.nan, "df2": np.nan, "p": np.nan}
        if len(ok) >= 2:
            res = equal_alpha_test(ok["alpha"].to_numpy(float), ok["n"].to_numpy(float),
                                   ok["k"].to_numpy(float), method=method)
            test.update(test=res.test, statistic=res.statistic, df=res.df, df2=res.df2, p=res.p)
        rows.append(test)
    return pd.DataFrame(rows, columns=list(POOLED_RELIABILITY_COLUMNS))


# ------------------------------------------------------------- meta-analysis
@dataclass(frozen=True)
class MetaResult:
    """DerSimonian-Laird random-effects meta-analysis of correlations (Fisher z scale).

    Pooled: ``r`` (back-transformed), ``z`` and ``se`` on the Fisher-z scale,
    ``ci_low``/``ci_high`` (back-transformed), ``z_test``/``p`` (test of rho = 0).
    Heterogeneity: ``q`` (Cochran's Q) on ``q_df`` df with ``q_p``, ``tau2``
    (between-study variance of z), ``i2`` (percent). Per study: ``study_z``,
    ``study_var`` (1/(n - 3)), ``study_ci_low``/``study_ci_high`` and ``weight``
    (percent of the total random-effects weight, as metafor's ``weights()``).
    """

    k: int
    n: int
    r: float
    z: float
    se: float
    ci_low: float
    ci_high: float
    z_test: float
    p: float
    tau2: float
    i2: float
    q: float
    q_df: int
    q_p: float
    weight: np.ndarray = field(repr=False)
    study_z: np.ndarray = field(repr=False)
    study_var: np.ndarray = field(repr=False)
    study_ci_low: np.ndarray = field(repr=False)
    study_ci_high: np.ndarray = field(repr=False)


def random_effects_meta(r, n, ci: float = 0.95) -> MetaResult:
    """DerSimonian-Laird random-effects pooling of correlations via Fisher's z.

    Per study ``z_i = atanh(r_i)``, ``v_i = 1 / (n_i - 3)``, fixed-effect weights
    ``w_i = 1 / v_i``, ``z_F = sum w_i z_i / sum w_i``;
    ``Q = sum w_i (z_i - z_F)^2`` on ``k - 1`` df;
    ``C = sum w_i - sum w_i^2 / sum w_i``; ``tau2 = max(0, (Q - (k - 1)) / C)``
    (DerSimonian & Laird, 1986); ``I2 = 100 max(0, (Q - (k - 1)) / Q)`` (Higgins &
    Thompson, 2002). Random-effects weights ``w*_i = 1 / (v_i + tau2)``, pooled
    ``z = sum w*_i z_i / sum w*_i`` with ``se = sqrt(1 / sum w*_i)``; interval
    ``tanh(z -+ q_{(1+ci)/2} se)``, pooled ``r = tanh(z)`` (Borenstein et al., 2009,
    ch. 6 and 12). With one study, tau2 = Q = I2 = 0 and the pooled values are the study's.

    Parameters
    ----------
    r : correlations (strictly between -1 and 1).
    n : sample sizes (> 3).
    ci : confidence level.

    Examples
    --------
    >>> m = random_effects_meta([0.30, 0.10, 0.45], [200, 150, 100])
    >>> round(m.r, 4), round(m.tau2, 5), round(m.i2, 1), round(m.q, 3), m.q_df
    (0.2841, 0.02469, 77.7, 8.98, 2)
    >>> m.weight.round(1)
    array([35.8, 33.8, 30.4])
    """
    r = np.asarray(r, dtype=float).ravel()
    n = np.asarray(n, dtype=float).ravel()
    if r.size == 0 or r.size != n.size:
        raise ValueError(f"Give one n per correlation (got {r.size} correlations and {n.size} n).")
    if not np.all(np.isfinite(r)) or np.any(np.abs(r) >= 1):
        raise ValueError(f"Correlations must lie strictly between -1 and 1, got {r.tolist()}.")
    if not np.all(np.isfinite(n)) or np.any(n <= 3):
        raise ValueError(f"Every sample size must exceed 3 (the variance of Fisher's z is 1/(n - 3)), "
                         f"got {n.tolist()}.")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci}.")
    k = r.size
    z = np.arctanh(r)
    v = 1.0 / (n - 3.0)
    w = 1.0 / v
    zf = np.sum(w * z) / np.sum(w)
    q = float(np.sum(w * (z - zf) ** 2)) if k > 1 else 0.0
    q_df = k - 1
    c = np.sum(w) - np.sum(w ** 2) / np.sum(w)
    tau2 = float(max(0.0, (q - q_df) / c)) if k > 1 else 0.0
    i2 = float(100.0 * max(0.0, (q - q_df) / q)) if q > 0 else 0.0
    ws = 1.0 / (v + tau2)
    zr = float(np.sum(ws * z) / np.sum(ws))
    se = float(np.sqrt(1.0 / np.sum(ws)))
    crit = stats.norm.ppf(0.5 + ci / 2)
    sd_i = np.sqrt(v)
    return MetaResult(
        k=int(k), n=int(n.sum()), r=float(np.tanh(zr)), z=zr, se=se,
        ci_low=float(np.tanh(zr - crit * se)), ci_high=float(np.tanh(zr + crit * se)),
        z_test=zr / se, p=float(2 * stats.norm.sf(abs(zr / se))), tau2=tau2, i2=i2, q=q, q_df=int(q_df),
        q_p=float(stats.chi2.sf(q, q_df)) if q_df > 0 else np.nan, weight=100.0 * ws / ws.sum(),
        study_z=z, study_var=v, study_ci_low=np.tanh(z - crit * sd_i), study_ci_high=np.tanh(z + crit * sd_i),
    )


#: Columns of :func:`meta_analysis_table`.
META_COLUMNS = ("measure", "cohort", "k", "n", "r", "ci_low", "ci_high", "weight", "tau2", "i2", "q", "q_df",
                "q_p", "p")


def meta_analysis_table(per_cohort: pd.DataFrame, ci: float = 0.95) -> pd.DataFrame:
    """Random-effects meta-analysis of one correlation per cohort, for each measure.

    Parameters
    ----------
    per_cohort : DataFrame with columns ``measure`` (e.g. ``"anxiety~avoidance"``),
        ``cohort``, ``r``, ``n`` -- one row per measure and cohort.
    ci : confidence level of the intervals.

    Returns
    -------
    DataFrame
        Columns :data:`META_COLUMNS`. Per measure (in order of first appearance)
        the cohort rows (``k`` = 1, the cohort's ``r`` and ``n``, its Fisher-z
        interval, ``weight`` = percent of the random-effects weight, ``p`` of
        its own test of rho = 0, heterogeneity columns empty), then the
        ``cohort = "pooled"`` row from :func:`random_effects_meta` (``k`` cohorts,
        total ``n``, pooled r and interval, ``weight`` 100, ``tau2``, ``i2``
        (percent), ``q``, ``q_df``, ``q_p``, ``p``). A cohort row without a
        usable correlation (missing r, |r| = 1 or n <= 3) is kept with empty
        interval and weight and left out of the pooling (``k`` counts the cohorts used).

    Examples
    --------
    >>> t = meta_analysis_table(pd.DataFrame({"measure": "anx~avo", "cohort": ["a", "b", "c"],
    ...                                       "r": [0.30, 0.10, 0.45], "n": [200, 150, 100]}))
    >>> t[["cohort", "k", "n"]].values.tolist()
    [['a', 1, 200], ['b', 1, 150], ['c', 1, 100], ['pooled', 3, 450]]
    >>> t.r.round(4).tolist()[-1], t.weight.round(1).tolist()
    (0.2841, [35.8, 33.8, 30.4, 100.0])
    """
    if not isinstance(per_cohort, pd.DataFrame):
        raise ValueError("per_cohort must be a DataFrame with columns measure, cohort, r, n.")
    absent = [c for c in ("measure", "cohort", "r", "n") if c not in per_cohort.columns]
    if absent:
        raise ValueError(f"per_cohort lacks column(s) {absent}; expected measure, cohort, r, n.")
    if per_cohort.duplicated(["measure", "cohort"]).any():
        dup = per_cohort.loc[per_cohort.duplicated(["measure", "cohort"]), ["measure", "cohort"]].iloc[0].tolist()
        raise ValueError(f"per_cohort has more than one row for measure {dup[0]!r} and cohort {dup[1]!r}.")
    rows = []
    crit = stats.norm.ppf(0.5 + ci / 2)
    for measure, part in per_cohort.groupby("measure", sort=False):
        r = pd.to_numeric(part["r"], errors="coerce").to_numpy(float)
        n = pd.to_numeric(part["n"], errors="coerce").to_numpy(float)
        usable = np.isfinite(r) & (np.abs(r) < 1) & np.isfinite(n) & (n > 3)
        res = random_effects_meta(r[usable], n[usable], ci=ci) if usable.any() else None
        weights = np.full(len(part), np.nan)
        if res is not None:
            weights[usable] = res.weight
        for j, cohort in enumerate(part["cohort"].astype(str)):
            row = dict.fromkeys(META_COLUMNS, np.nan)
            row.update(measure=measure, cohort=cohort, k=1, n=int(n[j]) if np.isfinite(n[j]) else np.nan,
                       r=r[j], weight=weights[j])
            if usable[j]:
                zj, sj = np.arctanh(r[j]), 1 / np.sqrt(n[j] - 3)
                row.update(ci_low=np.tanh(zj - crit * sj), ci_high=np.tanh(zj + crit * sj),
                           p=float(2 * stats.norm.sf(abs(zj / sj))))
            rows.append(row)
        pooled = dict.fromkeys(META_COLUMNS, np.nan)
        pooled.update(measure=measure, cohort="pooled", k=int(usable.sum()),
                      n=int(n[usable].sum()) if usable.any() else 0)
        if res is not None:
            pooled.update(r=res.r, ci_low=res.ci_low, ci_high=res.ci_high, weight=100.0, tau2=res.tau2,
                          i2=res.i2, q=res.q, q_df=res.q_df, q_p=res.q_p, p=res.p)
        rows.append(pooled)
    out = pd.DataFrame(rows, columns=list(META_COLUMNS))
    return out.astype({"k": "int64"})


def _fmt_r(x: float) -> str:
    s = f"{x:.2f}"
    return s.replace("0.", ".", 1) if s.startswith(("0.", "-0.")) else s


def forest_plot(table: pd.DataFrame, measure: str, path, title: str | None = None) -> Path:
    """Forest plot of one measure of :func:`meta_analysis_table`, written to ``path`` (png, pdf or svg).

    Black and grey only, readable in grey print: one square per cohort (area
    proportional to its random-effects weight) with its 95% interval, the
    pooled estimate as a diamond, a dashed line at r = 0, and the values
    ``r [low, high]`` and weights as text on the right. Output files carry no
    creation date, so the same table gives the same file.

    Returns
    -------
    pathlib.Path of the written file.
    """
    from matplotlib.figure import Figure

    if not isinstance(table, pd.DataFrame) or "measure" not in table.columns:
        raise ValueError("table must be the DataFrame returned by meta_analysis_table.")
    part = table.loc[table["measure"] == measure]
    if part.empty:
        raise ValueError(f"Measure {measure!r} is not in the table (measures: "
                         f"{', '.join(map(str, table['measure'].unique()))}).")
    path = Path(path)
    suffix = path.suffix.lower()
    metadata = {".png": {"Software": None}, ".pdf": {"CreationDate": None, "Producer": None, "Creator": None},
                ".svg": {"Date": None, "Creator": None}}.get(suffix)
    if metadata is None:
        raise ValueError(f"forest_plot writes .png, .pdf or .svg files, got {path.name!r}.")
    studies = part.loc[part["cohort"] != "pooled"]
    pooled = part.loc[part["cohort"] == "pooled"]
    n_rows = len(studies) + 2
    height = 0.45 * n_rows + 1.4
    fig = Figure(figsize=(8.0, height))
    ax = fig.add_axes((0.27, 0.95 / height + 0.05, 0.42, 1 - (0.95 / height + 0.05) - 0.45 / height))
    ys = np.arange(len(studies), 0, -1) + 1.0
    wmax = np.nanmax(studies["weight"].to_numpy(float)) if studies["weight"].notna().any() else 1.0
    labels, texts = [], []
    for y, rec in zip(ys, studies.to_dict("records")):
        labels.append((y, f"{rec['cohort']} (n = {rec['n']})"))
        if np.isfinite(rec["ci_low"]):
            ax.plot([rec["ci_low"], rec["ci_high"]], [y, y], color="black", lw=1.2, solid_capstyle="butt")
            size = 40 + 160 * (rec["weight"] / wmax if np.isfinite(rec["weight"]) else 0.2)
            ax.scatter([rec["r"]], [y], marker="s", s=size, color="black", zorder=3)
            texts.append((y, f"{_fmt_r(rec['r'])} [{_fmt_r(rec['ci_low'])}, {_fmt_r(rec['ci_high'])}]"
                             f"   {rec['weight']:.1f}%"))
        else:
            texts.append((y, "not pooled"))
    if not pooled.empty and np.isfinite(pooled["r"].iloc[0]):
        p = pooled.iloc[0]
        yp = 0.8
        ax.fill([p["ci_low"], p["r"], p["ci_high"], p["r"]], [yp, yp + 0.3, yp, yp - 0.3], color="0.35",
                edgecolor="black", lw=1)
        labels.append((yp, f"Pooled, random effects (k = {p['k']})"))
        het = f"tau\u00b2 = {p['tau2']:.3f}, I\u00b2 = {p['i2']:.0f}%, Q({int(p['q_df'])}) = {p['q']:.2f}" \
            if np.isfinite(p["q"]) and p["k"] > 1 else ""
        texts.append((yp, f"{_fmt_r(p['r'])} [{_fmt_r(p['ci_low'])}, {_fmt_r(p['ci_high'])}]   100%"))
        if het:
            fig.text(0.27, 0.3 / height, het, fontsize=8, color="black")
    ax.axvline(0.0, color="0.3", lw=0.8, ls="--")
    ax.set_ylim(0.2, n_rows - 0.2)
    ax.set_yticks([y for y, _ in labels], [t for _, t in labels], fontsize=9)
    ax.tick_params(axis="y", length=0)
    for y, t in texts:
        ax.annotate(t, xy=(1.02, y), xycoords=("axes fraction", "data"), fontsize=9, va="center")
    ax.set_xlabel("correlation r (95% CI)")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or str(measure), fontsize=10, loc="left")
    fig.savefig(path, metadata=metadata, dpi=150)
    return path


# -------------------------------------------------------- style prevalence
def prevalence_homogeneity(style_counts: Mapping[str, pd.DataFrame], method: str) -> pd.DataFrame:
    """Are the attachment styles equally common in every cohort? Chi-square test of homogeneity.

    For each instrument, the cohorts x styles table of counts (from each
    cohort's ``style_counts.csv`` rows of the given classification ``method``)
    is tested with Pearson's chi-square (``scipy.stats.chi2_contingency``, no
    continuity correction): ``chi2 = sum (O - E)^2 / E`` with
    ``E = row total x column total / N`` on ``(cohorts - 1)(styles - 1)`` df.
    Effect size Cramer's ``V = sqrt(chi2 / (N (min(cohorts, styles) - 1)))``.
    Styles no cohort has are left out of the test (their columns stay, at 0).

    Parameters
    ----------
    style_counts : ``{cohort: style_counts table}`` (columns ``instrument, method, style, n``).
    method : the classification method to compare (e.g. ``"midpoint"``).

    Returns
    -------
    DataFrame
        Per instrument (in order of first appearance): one row per cohort and a
        last row ``cohort = "all"`` (the cohorts together) with columns
        ``instrument, method, cohort, n`` (classified respondents), then per style
        ``<style>_n`` and ``<style>_percent`` (of ``n``), then the test -- on the
        ``all`` row only -- ``chi2, df, p, cramers_v, min_expected`` (the smallest
        expected count; below 5 the chi-square approximation is doubtful). Styles
        are the four adult styles, in order, plus any other label found (e.g. a
        mixture's ``profile_5``) after them. With one cohort the test is NaN.

    Examples
    --------
    >>> sc = lambda ns: pd.DataFrame({"instrument": "ecr_r", "method": "midpoint",
    ...                               "style": list(STYLES), "n": ns})
    >>> t = prevalence_homogeneity({"a": sc([50, 20, 20, 10]), "b": sc([30, 30, 25, 15])}, "midpoint")
    >>> t[["cohort", "n", "secure_n", "secure_percent"]].values.tolist()
    [['a', 100, 50, 50.0], ['b', 100, 30, 30.0], ['all', 200, 80, 40.0]]
    >>> round(float(t.chi2.iloc[-1]), 3), int(t.df.iloc[-1]), round(float(t.cramers_v.iloc[-1]), 3)
    (8.556, 3, 0.207)
    """
    if not isinstance(style_counts, Mapping) or not style_counts:
        raise ValueError("style_counts must be a non-empty dict {cohort: style_counts table}.")
    frames = []
    for cohort, tab in style_counts.items():
        if not isinstance(tab, pd.DataFrame):
            raise ValueError(f"Cohort {cohort!r}: expected a DataFrame (its style_counts.csv), got "
                             f"{type(tab).__name__}.")
        absent = [c for c in ("instrument", "method", "style", "n") if c not in tab.columns]
        if absent:
            raise ValueError(f"Cohort {cohort!r}: the style counts lack column(s) {absent}.")
        part = tab.loc[tab["method"].astype(str) == str(method), ["instrument", "style", "n"]].copy()
        n = pd.to_numeric(part["n"], errors="coerce")
        if n.isna().any() or (n < 0).any() or (n != np.round(n)).any():
            raise ValueError(f"Cohort {cohort!r}: style counts must be whole numbers >= 0 "
                             f"(got {part['n'].tolist()}).")
        part["n"] = n.astype("int64")
        part["cohort"] = str(cohort)
        frames.append(part)
    allrows = pd.concat(frames, ignore_index=True)
    if allrows.empty:
        known = sorted({str(m) for t in style_counts.values() for m in t["method"].unique()})
        raise ValueError(f"No style counts for method {method!r} in any cohort (methods found: "
                         f"{', '.join(known) or 'none'}).")
    out = []
    cohorts = [str(c) for c in style_counts]
    for ins, part in allrows.groupby("instrument", sort=False):
        found = list(dict.fromkeys(part["style"].astype(str)))
        styles = list(STYLES) + sorted(s for s in found if s not in STYLES)
        table = (part.pivot_table(index="cohort", columns="style", values="n", aggfunc="sum", fill_value=0)
                 .reindex(index=[c for c in cohorts if c in set(part["cohort"])], columns=styles, fill_value=0))
        counts = table.to_numpy(dtype=np.int64)
        rows = []
        for cohort, row_counts in zip(table.index, counts):
            rows.append((cohort, row_counts))
        rows.append(("all", counts.sum(axis=0)))
        test = dict(chi2=np.nan, df=np.nan, p=np.nan, cramers_v=np.nan, min_expected=np.nan)
        used = counts[:, counts.sum(axis=0) > 0]
        used = used[used.sum(axis=1) > 0]
        if used.shape[0] >= 2 and used.shape[1] >= 2:
            res = stats.chi2_contingency(used, correction=False)
            total = used.sum()
            test = dict(chi2=float(res.statistic), df=float(res.dof), p=float(res.pvalue),
                        cramers_v=float(np.sqrt(res.statistic / (total * (min(used.shape) - 1)))),
                        min_expected=float(res.expected_freq.min()))
        for cohort, c in rows:
            total = int(c.sum())
            rec = {"instrument": ins, "method": method, "cohort": cohort, "n": total}
            for s, v in zip(styles, c):
                rec[f"{s}_n"] = int(v)
                rec[f"{s}_percent"] = 100.0 * v / total if total else np.nan
            rec.update(test if cohort == "all" else dict.fromkeys(test, np.nan))
            out.append(rec)
    return pd.DataFrame(out)
