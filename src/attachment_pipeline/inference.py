"""General inference helpers: intervals, multiple-testing corrections and the usual tests.

Pure functions over arrays, each with its formula and reference; the dyadic
statistics live in :mod:`attachment_pipeline.dyads`, the hypothesis families that
use both in :mod:`attachment_pipeline.hypotheses`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .vocabulary import CORRECTIONS, DIRECTIONS

NAN = float("nan")


# ---------------------------------------------------------------------------
# small statistical helpers


def _z(ci: float) -> float:
    return float(stats.norm.ppf(0.5 + ci / 2.0))


def fisher_intervals(r, n: int, ci: float = 0.95, n_covariates: int = 0,
                     variance_factor: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Fisher-z confidence intervals (Fisher, 1921) of an array of correlations on ``n`` cases each.

    ``tanh(atanh(r) +- z_{(1+ci)/2} * sqrt(variance_factor / (n - 3 - k)))`` with
    ``k`` partialled covariates. ``variance_factor`` is 1 for Pearson and 1.06
    for Spearman (Fieller, Hartley & Pearson, 1957). NaN when ``n - 3 - k < 1`` or r
    is NaN; ``r = +-1`` gives ``(r, r)``.

    >>> [v.round(4).tolist() for v in fisher_intervals(np.array([0.5, -1.0]), 28)]
    [[0.156, -1.0], [0.7358, -1.0]]
    """
    r = np.asarray(r, dtype=float)
    dfree = n - 3 - n_covariates
    if dfree < 1:
        return np.full(r.shape, NAN), np.full(r.shape, NAN)
    se = math.sqrt(variance_factor / dfree)
    q = _z(ci)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.arctanh(np.clip(r, -1.0, 1.0))
        return np.tanh(z - q * se), np.tanh(z + q * se)


def fisher_interval(r: float, n: int, ci: float = 0.95, n_covariates: int = 0,
                    variance_factor: float = 1.0) -> tuple[float, float]:
    """Confidence interval of one correlation by Fisher's z transformation (see :func:`fisher_intervals`).

    >>> [round(v, 4) for v in fisher_interval(0.5, 28)]
    [0.156, 0.7358]
    """
    lo, hi = fisher_intervals(np.float64(r), n, ci, n_covariates, variance_factor)
    return float(lo), float(hi)


def noncentrality_root(stat: float, df: float, target: float, upper: float, *, xtol: float = 1e-12,
                       rtol: float = 1e-14) -> float:
    """The noncentrality ``lambda`` in ``[0, upper]`` at which ``P(chi2'(df, lambda) <= stat) = target``.

    Brent's method on the noncentral chi-square cdf, which falls as ``lambda`` grows; NaN when
    ``[0, upper]`` does not bracket the root. The bounds of an RMSEA interval (Browne & Cudeck,
    1993; Steiger, 1990) and of Cohen's w are such roots, rescaled by each convention's divisor.

    >>> round(noncentrality_root(150.0, 100, 0.05, 600.0), 3), noncentrality_root(50.0, 100, 0.05, 600.0)
    (86.942, nan)
    """
    def f(lam):
        return (stats.chi2.cdf(stat, df) if lam <= 0 else stats.ncx2.cdf(stat, df, lam)) - target

    f0, f1 = f(0.0), f(upper)
    if not (np.isfinite(f0) and np.isfinite(f1)) or f0 * f1 > 0:
        return NAN
    return float(optimize.brentq(f, 0.0, upper, xtol=xtol, rtol=rtol, maxiter=500))


def smc(R) -> np.ndarray:
    """Squared multiple correlations of each item on all others (psych ``smc``), for a matrix or a stack.

    ``smc_i = 1 - 1 / (R^+)_{ii}``, with ``R^+`` the Moore-Penrose inverse (singular
    values below ``sqrt(eps)`` times the largest are dropped, as psych ``Pinv``);
    values are clipped to [0, 1] as psych does. Works on the last two axes, so a stack
    ``(..., p, p)`` gives ``(..., p)``; a matrix with a NaN entry gives NaN.

    >>> smc(np.array([[1, .5], [.5, 1]])).round(6).tolist()
    [0.25, 0.25]
    """
    R = np.asarray(R, dtype=float)
    bad = np.isnan(R).any(axis=(-2, -1))
    if np.any(bad):
        R = np.where(bad[..., None, None], np.eye(R.shape[-1]), R)
    inv = np.linalg.pinv(R, rcond=np.sqrt(np.finfo(float).eps), hermitian=True)
    with np.errstate(divide="ignore"):
        out = np.clip(1.0 - 1.0 / np.diagonal(inv, axis1=-2, axis2=-1), 0.0, 1.0)
    return np.where(bad[..., None], np.nan, out) if np.any(bad) else out


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R's ``p.adjust(method = "BH")``); NaN stays NaN.

    The same as :func:`adjust_pvalues` with ``"bh"``.

    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, np.nan])).round(4).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    return adjust_pvalues(p, "bh")


def wilson_interval(k: int, n: int, ci: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval of a proportion ``k / n``.

    ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``.

    >>> [round(v, 4) for v in wilson_interval(3, 10)]
    [0.1078, 0.6032]
    """
    if n <= 0:
        return NAN, NAN
    z = _z(ci)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_interval(k: int, ci: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood, 1936) interval of a Poisson count ``k``.

    ``[chi2_{a/2}(2k) / 2, chi2_{1-a/2}(2k + 2) / 2]``, lower bound 0 for k = 0.

    >>> [round(v, 4) for v in poisson_interval(4)]
    [1.0899, 10.2416]
    """
    a = 1.0 - ci
    lo = 0.0 if k == 0 else float(stats.chi2.ppf(a / 2, 2 * k) / 2)
    return lo, float(stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2)


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Adjusted p-values for multiple testing; NaN entries are left out and stay NaN.

    - ``holm``: ``p_(i) (m - i + 1)`` in ascending order, made monotone by a
      running maximum, capped at 1 (Holm, 1979);
    - ``bh``: ``p_(i) m / i``, made monotone by a running minimum from the
      largest, capped at 1 (Benjamini & Hochberg, 1995);
    - ``none``: unchanged.

    Equal to ``statsmodels.stats.multitest.multipletests(p, method="holm" / "fdr_bh")[1]``.

    >>> adjust_pvalues([0.01, 0.04, 0.03, np.nan], "holm").tolist()
    [0.03, 0.06, 0.06, nan]
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bh").round(4).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}; got {method!r}.")
    if method == "weighted_holm":
        raise ValueError("weighted_holm needs the weights: use adjust_pvalues_weighted.")
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise ValueError("p-values must lie in [0, 1].")
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if method == "none":
        out[ok] = q
        return out
    order = np.argsort(q, kind="mergesort")
    s = q[order]
    if method == "holm":
        adj = np.maximum.accumulate(s * (m - np.arange(m)))
    else:
        adj = np.minimum.accumulate((s * m / np.arange(1, m + 1))[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _alternative(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}.")
    return direction


def _in_direction(effect: float, null: float, direction: str) -> bool:
    if not (np.isfinite(effect) and np.isfinite(null)):
        return False
    if direction == "greater":
        return bool(effect > null)
    if direction == "less":
        return bool(effect < null)
    return bool(effect != null)


def _perm_p(ge, le, far, n_perm: int, direction: str):
    """Permutation p-value(s) from the counts of permuted statistics >=, <= and as far from the mean."""
    count = {"greater": ge, "less": le, "two-sided": far}[direction]
    return (1.0 + np.asarray(count, dtype=float)) / (1.0 + n_perm)


def _tol(x) -> np.ndarray:
    return 1e-10 * np.maximum(1.0, np.abs(x))


def pearson_rows(x, y) -> np.ndarray:
    """Pearson correlation along the last axis of two equally shaped arrays (NaN without variance).

    >>> pearson_rows(np.array([[1, 2, 3.0], [1, 2, 3]]), np.array([[1, 3, 2.0], [3, 2, 1]])).tolist()
    [0.5, -1.0]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis=-1) / np.sqrt((xc ** 2).sum(axis=-1) * (yc ** 2).sum(axis=-1))

# ---------------------------------------------------------------------------
# correlations, goodness of fit, binomial, partial correlation, two groups


@dataclass(frozen=True)
class CorrelationResult:
    """A correlation test: ``r`` with its t statistic, p-value and Fisher-z interval."""

    n: int
    r: float
    t: float
    df: int
    p_value: float
    ci_low: float
    ci_high: float
    r_disattenuated: float
    ci_low_disattenuated: float
    ci_high_disattenuated: float


def correlation_test(x, y, *, method: str = "pearson", direction: str = "two-sided", ci: float = 0.95,
                     reliability_x: float | None = None, reliability_y: float | None = None) -> CorrelationResult:
    """Pearson or Spearman correlation with a Fisher-z interval and optional disattenuation.

    Pairs with a missing value are dropped. ``p`` from ``scipy.stats.pearsonr``
    / ``spearmanr`` (exact beta/t distribution of r under normality; Spearman:
    the t approximation); ``t = r sqrt((n - 2) / (1 - r^2))`` on ``n - 2`` df.
    Interval: :func:`fisher_interval` (Spearman: variance factor 1.06; Fieller,
    Hartley & Pearson, 1957). With both reliabilities, the correction for
    attenuation (Spearman, 1904): ``r / sqrt(rel_x rel_y)``, applied to the
    interval limits as well (capped to [-1, 1]); the test stays that of the
    observed r.

    >>> res = correlation_test([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], reliability_x=0.8, reliability_y=0.8)
    >>> round(res.r, 2), round(res.p_value, 4), round(res.r_disattenuated, 3)
    (0.8, 0.1041, 1.0)
    """
    direction = _alternative(direction)
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman'; got {method!r}.")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of the same length.")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    if n < 4:
        raise ValueError(f"A correlation test needs at least 4 complete pairs; got {n}.")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise ValueError("A correlation is undefined when a variable does not vary.")
    if method == "pearson":
        res = stats.pearsonr(x, y, alternative=direction)
    else:
        res = stats.spearmanr(x, y, alternative=direction)
    r = float(res.statistic)
    p = float(res.pvalue)
    t = r * math.sqrt((n - 2) / (1 - r * r)) if abs(r) < 1 else math.copysign(math.inf, r)
    lo, hi = fisher_interval(r, n, ci, variance_factor=1.0 if method == "pearson" else 1.06)
    rd = lod = hid = NAN
    if reliability_x is not None or reliability_y is not None:
        if reliability_x is None or reliability_y is None:
            raise ValueError("Correction for attenuation needs both reliabilities (reliability_x and reliability_y).")
        for name, rel in (("reliability_x", reliability_x), ("reliability_y", reliability_y)):
            if not (isinstance(rel, (int, float, np.floating)) and 0 < rel <= 1):
                raise ValueError(f"{name} must be a number in (0, 1]; got {rel!r}.")
        f = math.sqrt(reliability_x * reliability_y)
        rd, lod, hid = (float(np.clip(v / f, -1, 1)) for v in (r, lo, hi))
    return CorrelationResult(n=n, r=r, t=float(t), df=n - 2, p_value=p, ci_low=lo, ci_high=hi,
                             r_disattenuated=rd, ci_low_disattenuated=lod, ci_high_disattenuated=hid)


def equivalence_correlation_p(r: float, n: int, r_max: float) -> float:
    """p-value of ``|rho| < r_max`` by two one-sided Fisher-z tests (Schuirmann, 1987).

    ``p = max(Phi((z(r) - z(r_max)) sqrt(n - 3)), 1 - Phi((z(r) + z(r_max)) sqrt(n - 3)))``
    with ``z = atanh``: small when r is reliably inside ``(-r_max, r_max)``.

    >>> round(equivalence_correlation_p(0.2, 103, 0.5), 5)
    0.00026
    """
    if not 0 < r_max < 1:
        raise ValueError(f"r_max must lie in (0, 1); got {r_max!r}.")
    if n < 4 or not np.isfinite(r):
        return NAN
    se = 1 / math.sqrt(n - 3)
    z, zm = math.atanh(max(min(r, 1 - 1e-15), -1 + 1e-15)), math.atanh(r_max)
    return float(max(stats.norm.cdf((z - zm) / se), stats.norm.sf((z + zm) / se)))


@dataclass(frozen=True)
class GoodnessOfFit:
    """Chi-square goodness of fit of counts against reference proportions, with Cohen's w."""

    n: int
    chi2: float
    df: int
    p_value: float
    w: float
    w_ci_low: float
    w_ci_high: float
    categories: tuple
    observed: tuple
    expected: tuple


def _ncx2_lambda(stat: float, df: int, target: float) -> float:
    """The noncentrality at which P(chi2'(df, lambda) <= stat) = target (0 when unreachable)."""
    f = lambda lam: (stats.chi2.cdf(stat, df) if lam <= 0 else stats.ncx2.cdf(stat, df, lam)) - target  # noqa: E731
    if f(0.0) <= 0:
        return 0.0
    hi = max(10.0, 2 * stat)
    while f(hi) > 0:
        hi *= 2
    return noncentrality_root(stat, df, target, hi, xtol=1e-10)


def goodness_of_fit(observed, reference, *, direction: str = "two-sided", w_margin: float = 0.1,
                    ci: float = 0.95) -> GoodnessOfFit:
    """Chi-square goodness of fit (Pearson, 1900) and Cohen's (1988) w.

    ``chi2 = sum (O - E)^2 / E`` with ``E = n p_ref`` on ``K - 1`` df;
    ``w = sqrt(chi2 / n)``. ``two-sided``: the usual test of ``w = 0`` (p =
    ``chi2.sf``). ``less``: equivalence test of ``w < w_margin`` (Wellek,
    2010): ``p = P(chi2'(K - 1, n w_margin^2) <= chi2)`` under the noncentral
    chi-square. Interval of w: the noncentralities ``lambda`` at which the
    observed chi2 is the ``(1 + ci)/2`` and ``(1 - ci)/2`` quantile, ``w = sqrt(lambda / n)``.

    Parameters
    ----------
    observed : mapping category -> count (or a Series).
    reference : mapping category -> proportion over the same categories (sums to 1).

    >>> g = goodness_of_fit({"a": 30, "b": 20}, {"a": 0.5, "b": 0.5})
    >>> g.chi2, round(g.p_value, 4), round(g.w, 4)
    (2.0, 0.1573, 0.2)
    """
    if direction not in ("two-sided", "less"):
        raise ValueError(f"prevalence direction must be 'two-sided' (differs from the reference) or 'less' "
                         f"(equivalence, w < w_margin); got {direction!r}.")
    cats = list(reference)
    obs = pd.Series(observed, dtype=float)
    if set(obs.index) != set(cats):
        raise ValueError(f"observed and reference must name the same categories; got {sorted(obs.index)} "
                         f"and {sorted(cats)}.")
    o = obs.reindex(cats).to_numpy()
    p = np.array([float(reference[c]) for c in cats])
    if np.any(p <= 0) or abs(p.sum() - 1) > 1e-6:
        raise ValueError(f"Reference proportions must be positive and sum to 1 (within 1e-6); got {p.sum():.8f}.")
    n = int(round(o.sum()))
    if n < 1:
        raise ValueError("The goodness-of-fit test needs at least one classified respondent.")
    e = n * p
    chi2 = float(((o - e) ** 2 / e).sum())
    df = len(cats) - 1
    if direction == "two-sided":
        pv = float(stats.chi2.sf(chi2, df))
    else:
        if not 0 < w_margin:
            raise ValueError(f"w_margin must be positive; got {w_margin!r}.")
        pv = float(stats.ncx2.cdf(chi2, df, n * w_margin ** 2))
    lam_lo = _ncx2_lambda(chi2, df, 0.5 + ci / 2)
    lam_hi = _ncx2_lambda(chi2, df, 0.5 - ci / 2)
    return GoodnessOfFit(n=n, chi2=chi2, df=df, p_value=pv, w=math.sqrt(chi2 / n),
                         w_ci_low=math.sqrt(lam_lo / n), w_ci_high=math.sqrt(lam_hi / n),
                         categories=tuple(cats), observed=tuple(o.astype(int)), expected=tuple(e))


@dataclass(frozen=True)
class PartialCorrelation:
    """Partial correlation of x and y given covariates: r, t test and Fisher-z interval."""

    n: int
    r: float
    t: float
    df: int
    p_value: float
    ci_low: float
    ci_high: float


def partial_correlation(x, y, covariates=None, *, direction: str = "two-sided", ci: float = 0.95) -> PartialCorrelation:
    """Partial correlation by residualisation (Fisher, 1924).

    ``r`` = Pearson correlation of the residuals of x and of y after ordinary
    least squares on ``[1, covariates]``; ``t = r sqrt(df / (1 - r^2))`` with
    ``df = n - 2 - k``; interval :func:`fisher_interval` with ``k`` covariates.
    Agrees with ``pingouin.partial_corr``. Rows with a missing value are dropped.

    >>> rng = np.random.default_rng(0)
    >>> c = rng.normal(size=100); x = c + rng.normal(size=100); y = c + rng.normal(size=100)
    >>> res = partial_correlation(x, y, c)
    >>> round(res.r, 4), res.df
    (0.0314, 97)
    """
    direction = _alternative(direction)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    c = np.zeros((x.size, 0)) if covariates is None else np.asarray(covariates, dtype=float)
    if c.ndim == 1:
        c = c[:, None]
    if x.shape != y.shape or x.ndim != 1 or c.shape[0] != x.size:
        raise ValueError("x, y and the covariates must have the same number of rows.")
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(c).all(axis=1)
    x, y, c = x[ok], y[ok], c[ok]
    n, k = x.size, c.shape[1]
    dfree = n - 2 - k
    if dfree < 2:
        raise ValueError(f"A partial correlation with {k} covariate(s) needs at least {k + 4} complete rows; got {n}.")
    design = np.column_stack([np.ones(n), c])
    resid = [v - design @ np.linalg.lstsq(design, v, rcond=None)[0] for v in (x, y)]
    r = float(pearson_rows(resid[0], resid[1]))
    if not np.isfinite(r):
        raise ValueError("The partial correlation is undefined (no variation left after the covariates).")
    t = r * math.sqrt(dfree / (1 - r * r)) if abs(r) < 1 else math.copysign(math.inf, r)
    p = {"two-sided": 2 * stats.t.sf(abs(t), dfree), "greater": stats.t.sf(t, dfree),
         "less": stats.t.cdf(t, dfree)}[direction]
    lo, hi = fisher_interval(r, n, ci, n_covariates=k)
    return PartialCorrelation(n=int(n), r=r, t=float(t), df=int(dfree), p_value=float(p), ci_low=lo, ci_high=hi)


@dataclass(frozen=True)
class GroupComparison:
    """Two groups compared on a score (Welch t / Hedges g or Mann-Whitney U / rank-biserial r)."""

    n_1: int
    n_2: int
    mean_1: float
    mean_2: float
    statistic_name: str
    statistic: float
    df: float
    p_value: float
    effect_size_name: str
    effect_size: float
    ci_low: float
    ci_high: float


def group_comparison(x1, x2, *, test: str = "welch", direction: str = "two-sided", ci: float = 0.95) -> GroupComparison:
    """Compare a score between group 1 and group 2 (``greater``: group 1 higher).

    ``welch``: Welch's (1947) t with Welch-Satterthwaite df
    (``scipy.stats.ttest_ind(equal_var=False)``); effect Hedges' g =
    ``J (m1 - m2) / s_pooled`` with ``J = 1 - 3 / (4 (n1 + n2) - 9)`` and its
    interval ``g +- t_{(1+ci)/2, n1+n2-2} SE``, ``SE = sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2)))``
    (Hedges & Olkin, 1985), both computed by pingouin (``compute_effsize``, ``compute_esci``).
    ``mann_whitney``: Mann-Whitney U of group 1 (``scipy.stats.mannwhitneyu``);
    effect the rank-biserial ``r = 2 U / (n1 n2) - 1`` (Kerby, 2014; positive:
    group 1 higher) with the interval ``2 (A +- z SE_A) - 1`` from the
    Hanley & McNeil (1982) standard error of ``A = U / (n1 n2)``.

    >>> res = group_comparison([1, 2, 3, 4], [3, 4, 5, 6])
    >>> round(res.statistic, 4), round(res.effect_size, 4)
    (-2.1909, -1.3471)
    """
    direction = _alternative(direction)
    a = np.asarray(x1, dtype=float)
    b = np.asarray(x2, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        raise ValueError(f"Each group needs at least 2 values; got {n1} and {n2}.")
    z = _z(ci)
    if test == "welch":
        res = stats.ttest_ind(a, b, equal_var=False, alternative=direction)
        if a.var(ddof=1) == 0 and b.var(ddof=1) == 0:
            raise ValueError("Hedges' g is undefined when neither group varies.")
        import pingouin as pg  # here, not at the top: a 3-second import the other steps do not need

        # pingouin's own checks are asserts (gone under python -O): the inputs are checked above
        g = float(pg.compute_effsize(a, b, paired=False, eftype="hedges"))
        lo, hi = pg.compute_esci(stat=g, nx=n1, ny=n2, eftype="hedges", confidence=float(ci), decimals=15)
        return GroupComparison(n1, n2, float(a.mean()), float(b.mean()), "t_welch", float(res.statistic),
                               float(res.df), float(res.pvalue), "hedges_g", g, float(lo), float(hi))
    if test == "mann_whitney":
        res = stats.mannwhitneyu(a, b, alternative=direction)
        u = float(res.statistic)
        auc = u / (n1 * n2)
        q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
        se = math.sqrt(max(auc * (1 - auc) + (n1 - 1) * (q1 - auc ** 2) + (n2 - 1) * (q2 - auc ** 2), 0.0) / (n1 * n2))
        r = 2 * auc - 1
        lo, hi = max(-1.0, 2 * (auc - z * se) - 1), min(1.0, 2 * (auc + z * se) - 1)
        return GroupComparison(n1, n2, float(a.mean()), float(b.mean()), "u", u, NAN, float(res.pvalue),
                               "rank_biserial_r", float(r), lo, hi)
    raise ValueError(f"test must be 'welch' or 'mann_whitney'; got {test!r}.")


# ---------------------------------------------------------------------------
# respondents clustered in couples (or families): cluster-robust inference


def cluster_codes(cluster) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 of cluster labels (None / NaN / '' = a cluster of its own) and G.

    >>> cluster_codes(["c1", None, "c1", "c2", ""])[0].tolist()
    [0, 1, 0, 2, 3]
    """
    lab = pd.Series(np.asarray(cluster, dtype=object), dtype=object)
    blank = (lab.isna() | (lab.astype(str).str.strip() == "")).to_numpy()
    text = lab.astype(str).to_numpy(dtype=object)
    text[blank] = np.char.add("\x00single:", np.arange(len(lab))[blank].astype(str)).astype(object)
    codes, uniques = pd.factorize(pd.Series(text, dtype=object), sort=False)
    return codes.astype(np.int64), len(uniques)


def _cluster_sums(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Sums over clusters along the last axis: (..., n) -> (..., G)."""
    out = np.zeros(values.shape[:-1] + (n_clusters,))
    np.add.at(out, (..., codes), values)
    return out


def _ranks(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(x, axis=-1)


@dataclass(frozen=True)
class ClusteredCorrelation:
    """A correlation over respondents with a cluster-robust standard error (arrays over data sets)."""

    n: int
    n_clusters: int
    r: np.ndarray
    se: np.ndarray
    t: np.ndarray
    df: int
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def cluster_correlation(x, y, cluster, *, method: str = "pearson", direction: str = "two-sided",
                        ci: float = 0.95) -> ClusteredCorrelation:
    """Pearson (or Spearman) correlation of respondents who come in clusters (couples, families).

    The estimate is the usual r over all n respondents. Its standard error comes
    from the linearisation of r (its influence function, ``x~ y~ - r (x~^2 + y~^2)
    / 2`` with standardized x~, y~) summed within clusters:
    ``se^2 = G / (G - 1) sum_g (sum_{i in g} IF_i)^2 / n^2`` (G clusters) -- the
    design-based variance survey's ``svyvar`` gives with the delta method (tested
    against R's survey package). Respondents without a partner are clusters of one.
    Test ``t = r / se`` on ``G - 1`` df; interval on Fisher's z,
    ``tanh(atanh r +- t_{G-1} se / (1 - r^2))``. ``spearman`` applies the same to
    ranks.

    Parameters
    ----------
    x, y : (n,) or (S, n) arrays without missing values.
    cluster : (n,) cluster labels shared by the S data sets.
    """
    direction = _alternative(direction)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    single = x.ndim == 1
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    if x.shape != y.shape:
        raise ValueError("x and y must have the same shape.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite (drop respondents without both scores first).")
    codes, g = cluster_codes(cluster)
    n = x.shape[1]
    if len(codes) != n:
        raise ValueError(f"cluster has {len(codes)} labels for {n} respondents.")
    if g < 3:
        raise ValueError(f"A cluster-robust correlation needs at least 3 clusters; got {g}.")
    if method == "spearman":
        x, y = _ranks(x), _ranks(y)
    elif method != "pearson":
        raise ValueError(f"method must be 'pearson' or 'spearman'; got {method!r}.")
    xs = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    ys = (y - y.mean(axis=1, keepdims=True)) / y.std(axis=1, keepdims=True)
    r = (xs * ys).mean(axis=1)
    inf = xs * ys - r[:, None] * (xs ** 2 + ys ** 2) / 2
    tot = _cluster_sums(inf, codes, g)
    se = np.sqrt(g / (g - 1) * (tot ** 2).sum(axis=1)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r / se
    df = g - 1
    p = {"two-sided": 2 * stats.t.sf(np.abs(t), df), "greater": stats.t.sf(t, df),
         "less": stats.t.cdf(t, df)}[direction]
    q = stats.t.ppf(0.5 + ci / 2, df)
    zr = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    half = q * se / (1 - r ** 2)
    res = ClusteredCorrelation(n, g, r, se, t, df, p, np.tanh(zr - half), np.tanh(zr + half))
    if single:
        return ClusteredCorrelation(n, g, *(np.asarray(v)[0] if isinstance(v, np.ndarray) else v
                                            for v in (res.r, res.se, res.t)), df, res.p[0], res.ci_low[0],
                                    res.ci_high[0])
    return res


def cluster_equivalence_p(r, se, r_max: float, df: int):
    """Two one-sided tests of ``|rho| < r_max`` on Fisher's z with a cluster-robust standard error.

    ``se_z = se / (1 - r^2)``; ``p = max(T_df((z(r) - z(r_max)) / se_z), 1 - T_df((z(r) + z(r_max)) / se_z))``
    (Schuirmann, 1987): small when r is reliably inside ``(-r_max, r_max)``.

    >>> float(cluster_equivalence_p(0.2, 0.08, 0.5, 100)) < 1e-4
    True
    """
    if not 0 < r_max < 1:
        raise ValueError(f"r_max must lie in (0, 1); got {r_max!r}.")
    r = np.asarray(r, dtype=float)
    se_z = np.asarray(se, dtype=float) / (1 - r ** 2)
    z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    zm = math.atanh(r_max)
    return np.maximum(stats.t.cdf((z - zm) / se_z, df), stats.t.sf((z + zm) / se_z, df))


@dataclass(frozen=True)
class ClusteredDifference:
    """Difference of two group means with a cluster-robust (CR1) standard error, arrays over data sets."""

    n_1: int
    n_2: int
    n_clusters: int
    mean_1: np.ndarray
    mean_2: np.ndarray
    difference: np.ndarray
    se: np.ndarray
    t: np.ndarray
    df: int
    p: np.ndarray
    hedges_g: np.ndarray
    g_ci_low: np.ndarray
    g_ci_high: np.ndarray


def cluster_mean_difference(y, group1, cluster, *, direction: str = "two-sided",
                            ci: float = 0.95) -> ClusteredDifference:
    """Group 1 minus group 2 mean of a score when respondents come in clusters (couples).

    OLS of y on an intercept and the group-1 indicator with the cluster-robust
    covariance CR1: ``V = G/(G-1) (n-1)/(n-2) (X'X)^-1 sum_g X_g' e_g e_g' X_g (X'X)^-1``
    (Liang & Zeger, 1986; R's ``sandwich::vcovCL(type = "HC1")``, tested); t on
    ``G - 1`` df. When the groups split the partners of every couple (women and men
    in different-sex couples) this is a paired comparison; with singles and mixed
    couples it uses every respondent and still counts the pairing. Effect size:
    Hedges' g (pooled SD, small-sample factor J), its interval from the robust se
    scaled the same way.

    Parameters
    ----------
    y : (n,) or (S, n) scores without missing values.
    group1 : (n,) booleans, True for group 1 (the rest is group 2).
    cluster : (n,) cluster labels.
    """
    direction = _alternative(direction)
    y = np.asarray(y, dtype=float)
    single = y.ndim == 1
    y = np.atleast_2d(y)
    g1 = np.asarray(group1, dtype=bool)
    codes, g = cluster_codes(cluster)
    n = y.shape[1]
    n1, n2 = int(g1.sum()), int((~g1).sum())
    if n1 < 2 or n2 < 2:
        raise ValueError(f"Each group needs at least 2 respondents; got {n1} and {n2}.")
    if not np.isfinite(y).all():
        raise ValueError("y must be finite (drop respondents without the score first).")
    m1, m2 = y[:, g1].mean(axis=1), y[:, ~g1].mean(axis=1)
    e = y - np.where(g1, m1[:, None], m2[:, None])
    # (X'X)^-1 X' e for X = [1, g1]: the score of the slope is (g1/n1 - (1 - g1)/n2) e
    w = np.where(g1, 1.0 / n1, -1.0 / n2)
    tot = _cluster_sums(w * e, codes, g)
    se = np.sqrt(g / (g - 1) * (n - 1) / (n - 2) * (tot ** 2).sum(axis=1))
    diff = m1 - m2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se
    df = g - 1
    p = {"two-sided": 2 * stats.t.sf(np.abs(t), df), "greater": stats.t.sf(t, df),
         "less": stats.t.cdf(t, df)}[direction]
    sp = np.sqrt(((y[:, g1].var(axis=1, ddof=1) * (n1 - 1)) + y[:, ~g1].var(axis=1, ddof=1) * (n2 - 1)) / (n - 2))
    j = 1 - 3 / (4 * n - 9)
    hg = j * diff / sp
    q = stats.t.ppf(0.5 + ci / 2, df)
    out = ClusteredDifference(n1, n2, g, m1, m2, diff, se, t, df, p, hg, hg - q * j * se / sp, hg + q * j * se / sp)
    if single:
        return ClusteredDifference(n1, n2, g, *(v[0] for v in (out.mean_1, out.mean_2, out.difference, out.se,
                                                               out.t)), df, out.p[0], out.hedges_g[0],
                                   out.g_ci_low[0], out.g_ci_high[0])
    return out


@dataclass(frozen=True)
class ClusteredAUC:
    """Mann-Whitney (rank-biserial) comparison of two groups with clustered respondents."""

    n_1: int
    n_2: int
    n_clusters: int
    auc: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    rank_biserial: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def clustered_auc(y, group1, cluster, *, direction: str = "two-sided", ci: float = 0.95) -> ClusteredAUC:
    """``A = P(Y_1 > Y_2) + P(Y_1 = Y_2) / 2`` with Obuchowski's (1997) clustered variance.

    Placement values ``V_10(y_i) = mean_j psi(y_i, y_j)`` over group-2 values and
    ``V_01(y_j)`` over group-1 values (``psi = 1, 1/2, 0`` for >, =, <) are summed
    within clusters: ``S_10 = G / ((G - 1) n_1) sum_g (V_10,g - m_g A)^2``, ``S_01``
    likewise, ``S_11 = G / (G - 1) sum_g (V_10,g - m_g A)(V_01,g - k_g A)`` and
    ``var A = S_10 / n_1 + S_01 / n_2 + 2 S_11 / (n_1 n_2)`` (m_g, k_g: group-1 and
    group-2 members of cluster g); without clusters this is DeLong et al.'s (1988)
    variance. ``z = (A - 1/2) / se``; rank-biserial ``r = 2A - 1`` with interval
    ``2 (A +- z se) - 1``.
    """
    direction = _alternative(direction)
    y = np.asarray(y, dtype=float)
    single = y.ndim == 1
    y = np.atleast_2d(y)
    g1 = np.asarray(group1, dtype=bool)
    codes, g = cluster_codes(cluster)
    a, b = y[:, g1], y[:, ~g1]
    n1, n2 = a.shape[1], b.shape[1]
    if n1 < 2 or n2 < 2:
        raise ValueError(f"Each group needs at least 2 respondents; got {n1} and {n2}.")
    both = np.concatenate([a, b], axis=1)
    rank_all = stats.rankdata(both, axis=1)
    rank_a = stats.rankdata(a, axis=1)
    rank_b = stats.rankdata(b, axis=1)
    v10 = (rank_all[:, :n1] - rank_a) / n2         # share of group 2 below (ties half)
    v01 = 1 - (rank_all[:, n1:] - rank_b) / n1     # share of group 1 above (ties half)
    auc = v10.mean(axis=1)
    ca, cb = codes[g1], codes[~g1]
    m = np.bincount(ca, minlength=g).astype(float)
    k = np.bincount(cb, minlength=g).astype(float)
    s10_g = _cluster_sums(v10, ca, g) - m * auc[:, None]
    s01_g = _cluster_sums(v01, cb, g) - k * auc[:, None]
    f = g / (g - 1)
    var = f * ((s10_g ** 2).sum(1) / n1 ** 2 + (s01_g ** 2).sum(1) / n2 ** 2 + 2 * (s10_g * s01_g).sum(1) / (n1 * n2))
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (auc - 0.5) / se
    p = {"two-sided": 2 * stats.norm.sf(np.abs(z)), "greater": stats.norm.sf(z), "less": stats.norm.cdf(z)}[direction]
    q = _z(ci)
    res = ClusteredAUC(n1, n2, g, auc, se, z, p, 2 * auc - 1, np.maximum(-1, 2 * (auc - q * se) - 1),
                       np.minimum(1, 2 * (auc + q * se) - 1))
    if single:
        return ClusteredAUC(n1, n2, g, *(v[0] for v in (res.auc, res.se, res.z, res.p, res.rank_biserial,
                                                       res.ci_low, res.ci_high)))
    return res


@dataclass(frozen=True)
class RaoScottGoodnessOfFit:
    """Goodness of fit of category counts of clustered respondents (Rao-Scott / Satterthwaite)."""

    n: int
    n_clusters: int
    chi2: float
    scale: float
    df: float
    p: float
    design_effects: tuple
    w: float
    w_ci_low: float
    w_ci_high: float
    categories: tuple
    observed: tuple
    expected: tuple


def rao_scott_goodness_of_fit(categories, reference: dict, cluster, *, direction: str = "two-sided",
                              w_margin: float = 0.1, ci: float = 0.95) -> RaoScottGoodnessOfFit:
    """Pearson's goodness of fit with the Rao-Scott correction for clustered respondents.

    ``X^2 = sum (O - E)^2 / E`` as usual; its null distribution is that of
    ``sum lambda_j chi^2_1`` with ``lambda`` the eigenvalues of the design-based
    covariance of ``(O_j - E_j) / sqrt(E_j)`` (linearised, clusters as primary units,
    factor ``G / (G - 1)``), approximated by Satterthwaite:
    ``X^2 / a ~ chi^2_nu`` with ``a = sum lambda^2 / sum lambda`` and
    ``nu = (sum lambda)^2 / sum lambda^2`` (Rao & Scott, 1981, 1984) -- R's
    ``survey::svygofchisq`` (tested). Without clustering the lambdas are about 1 and
    this is the usual test. ``w = sqrt(X^2 / n)`` (Cohen, 1988); its interval and the
    equivalence test (``direction='less'``: w < w_margin) use the first-order
    corrected statistic ``X^2 / mean(lambda)`` with ``n / mean(lambda)`` respondents
    on K - 1 df.

    Parameters
    ----------
    categories : (n,) category of each respondent (values among ``reference``'s keys).
    reference : category -> proportion (sums to 1).
    cluster : (n,) cluster labels.
    """
    if direction not in ("two-sided", "less"):
        raise ValueError(f"direction must be 'two-sided' or 'less' (equivalence); got {direction!r}.")
    cats = list(reference)
    p0 = np.array([float(reference[c]) for c in cats])
    if np.any(p0 <= 0) or abs(p0.sum() - 1) > 1e-6:
        raise ValueError("Reference proportions must be positive and sum to 1 (within 1e-6).")
    values = np.asarray(categories, dtype=object)
    bad = sorted({str(v) for v in values if v not in cats})
    if bad:
        raise ValueError(f"Categories {bad} are not in the reference ({cats}).")
    codes, g = cluster_codes(cluster)
    n = len(values)
    if n < 2 or g < 2:
        raise ValueError("The goodness-of-fit test needs at least 2 respondents in 2 clusters.")
    onehot = (values[:, None] == np.array(cats, dtype=object)[None, :]).astype(float)
    obs = onehot.sum(axis=0)
    e = p0 * n
    chi2 = float(((obs - e) ** 2 / e).sum())
    # linearisation of d_j = (T_j - p_j N) / sqrt(p_j N) in the totals (T_1..T_K, N)
    grad_t = np.diag(1 / np.sqrt(e))
    grad_n = -p0 / np.sqrt(e) - (obs - e) * p0 / (2 * e ** 1.5)
    z = np.column_stack([onehot, np.ones(n)])                      # respondents' contributions to (T, N)
    tot = np.zeros((g, z.shape[1]))
    np.add.at(tot, codes, z)
    tot -= tot.mean(axis=0)
    v = g / (g - 1) * tot.T @ tot
    jac = np.column_stack([grad_t, grad_n])
    lam = np.clip(np.linalg.eigvalsh(jac @ v @ jac.T), 0.0, None)
    scale = float((lam ** 2).sum() / lam.sum())
    nu = float(lam.sum() ** 2 / (lam ** 2).sum())
    k = len(cats)
    mean_lam = float(lam.sum() / (k - 1))
    chi2_1, n_eff = chi2 / mean_lam, n / mean_lam
    if direction == "two-sided":
        pv = float(stats.chi2.sf(chi2 / scale, nu))
    else:
        pv = float(stats.ncx2.cdf(chi2_1, k - 1, n_eff * w_margin ** 2))
    lam_lo = _ncx2_lambda(chi2_1, k - 1, 0.5 + ci / 2)
    lam_hi = _ncx2_lambda(chi2_1, k - 1, 0.5 - ci / 2)
    return RaoScottGoodnessOfFit(n, g, chi2, scale, nu, pv, tuple(np.sort(lam)[::-1][:k - 1]),
                                 math.sqrt(chi2 / n), math.sqrt(lam_lo / n_eff), math.sqrt(lam_hi / n_eff),
                                 tuple(cats), tuple(obs.astype(int)), tuple(e))


def adjust_pvalues_weighted(p, weights) -> np.ndarray:
    """Weighted Holm (Holm, 1979): adjusted p-values for hypotheses with unequal shares of alpha.

    Hypothesis i gets the share ``w_i`` (normalised to sum 1) of the family-wise level;
    in the order of ``p_i / w_i`` the adjusted value is
    ``max_{l <= j} min(1, p_(l) W_l / w_(l))`` with ``W_l`` the weight still in play at
    step l. Reject (at family-wise level alpha) when the adjusted p is below alpha:
    with weights proportional to declared levels alpha_i, hypothesis i is tested at
    its own alpha_i first and at more as others are rejected. Equal weights give Holm.
    NaN p-values are left out and stay NaN.

    >>> bool(np.allclose(adjust_pvalues_weighted([0.01, 0.04, 0.03], [1, 1, 1]), adjust_pvalues([0.01, 0.04, 0.03])))
    True
    >>> adjust_pvalues_weighted([0.004, 0.02], [0.01, 0.04]).round(4).tolist()
    [0.02, 0.02]
    """
    p = np.asarray(p, dtype=float)
    w = np.asarray(weights, dtype=float)
    if p.shape != w.shape:
        raise ValueError("p and weights must have the same length.")
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if np.any(w[ok] <= 0):
        raise ValueError("Weights must be positive.")
    q, wq = p[ok], w[ok] / w[ok].sum()
    if q.size == 0:
        return out
    order = np.argsort(q / wq, kind="mergesort")
    remaining = wq[order][::-1].cumsum()[::-1]
    adj = np.minimum(1.0, np.maximum.accumulate(q[order] * remaining / wq[order]))
    res = np.empty(q.size)
    res[order] = adj
    out[ok] = res
    return out
