"""Reliability statistics for questionnaire subscales, agreeing with R ``psych``.

Every statistic is a small pure function on an item matrix: a pandas DataFrame (or
numpy array) with one row per respondent and one column per item, float values,
NaN = missing, **already reverse-keyed**. The public entry points are

- :func:`alpha_table` -- one subscale: Cronbach's alpha, standardized alpha,
  Guttman's lambda-6, average inter-item r, scale mean/sd, Feldt and bootstrap
  confidence intervals for alpha, McDonald's omega (one-factor ``omega_total``;
  Schmid-Leiman ``omega_h`` and ``omega_total_sl`` from ``omega_factors`` group
  factors, three by default as psych),
  returned as an :class:`AlphaResult`;
- :func:`item_statistics` -- one subscale: per-item mean, sd, corrected item-total
  correlation (``r_drop``), psych's ``r_cor``, ``raw_r`` and ``std_r``, alpha if the
  item is deleted, and a flag for weak items;
- :func:`reliability_tables` -- every subscale, overall and per level of each group
  column: the long ``reliability.csv`` and ``item_stats.csv`` tables;
- :func:`kr20` -- Kuder-Richardson 20 for 0/1 (ticked / not ticked) items.

Agreement with R (``tests/r/reliability_reference.R``, psych 2.2.9): alpha,
alpha_std, lambda6, average_r, mean, sd and all item statistics to 1e-6 (in
practice to about 1e-9); the Feldt interval is psych's ``alpha.ci``; omega: see
:func:`omega_total` (about 1e-8) and :func:`omega_sl` (``omega_total_sl`` 2e-6,
``omega_h`` 4e-4: psych's optimiser stops early, see there). The bootstrap interval
is seeded and its width matches ``psych::alpha(n.iter = 1000)`` within Monte-Carlo error.
``missing="pairwise"`` equals ``psych::alpha(x)`` with all its defaults (1e-10;
``tests/test_psych_defaults.py``), which is why the pipeline's ``reliability.missing``
defaults to it. Omega on short subscales: see :func:`omega_sl` (NaN where the
group-factor model has negative degrees of freedom, where psych still reports a number).

Conventions shared with ``psych::alpha``
-----------------------------------------
- The scale score whose ``mean`` and ``sd`` are reported is the *mean* of the
  items (psych's default ``cumulative=FALSE``); alpha itself is the reliability of
  the sum (equivalently the mean) of the items.
- Items with zero variance (or fewer than two answers) carry no information about
  consistency; as in ``psych::alpha`` they are left out of every statistic (``k``
  counts the items actually used) but stay in the scale score. Their row in
  :func:`item_statistics` has NaN correlations and the flag reason
  ``"no variance"``.
- ``missing="listwise"`` (default): respondents with any missing item of the
  subscale are dropped first (R: ``psych::alpha(na.omit(x))``).
  ``missing="pairwise"``: every covariance uses the respondents who answered both
  items (R: ``psych::alpha(x, use = "pairwise")`` on the respondents who answered at
  least one item); see :func:`alpha_table` for what ``n`` then means.

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
Psychometrika, 16, 297-334.
Guttman, L. (1945). A basis for analyzing test-retest reliability. Psychometrika, 10, 255-282.
Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
coefficient alpha. Applied Psychological Measurement, 11, 93-103.
Kuder, G. F., & Richardson, M. W. (1937). The theory of the estimation of test
reliability. Psychometrika, 2, 151-160.
McDonald, R. P. (1999). Test theory: A unified treatment. Mahwah, NJ: Erlbaum.
Ledermann, W. (1937). On the rank of the reduced correlational matrix in
multiple-factor analysis. Psychometrika, 2, 85-93.
Revelle, W., & Zinbarg, R. E. (2009). Coefficients alpha, beta, omega, and the glb.
Psychometrika, 74, 145-154.
Revelle, W. (2022). psych: Procedures for psychological, psychometric, and
personality research (R package 2.2.9).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> f = rng.normal(size=(200, 1))
>>> items = pd.DataFrame(f + rng.normal(size=(200, 4)), columns=list("abcd"))
>>> res = alpha_table(items, n_boot=200, seed=1)
>>> round(res.alpha, 3), res.n, res.k
(0.776, 200, 4)
>>> res.alpha_boot_low < res.alpha < res.alpha_boot_high
True
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from scipy import optimize, stats
from threadpoolctl import threadpool_limits

from .inference import smc  # noqa: F401  (moved to inference; re-exported)

__all__ = [
    "AlphaResult",
    "MIN_RESPONDENTS",
    "R_DROP_MIN",
    "alpha_table",
    "item_statistics",
    "reliability_tables",
    "kr20",
    "cronbach_alpha",
    "standardized_alpha",
    "average_r",
    "guttman_lambda6",
    "smc",
    "feldt_interval",
    "bootstrap_alpha",
    "omega_total",
    "omega_sl",
    "omega_sl_note",
    "covariance_matrix",
    "pairwise_correlation",
    "derive_seed",
]

#: Fewer complete respondents than this: the row is reported with ``n`` and NaN statistics.
MIN_RESPONDENTS = 10
#: Items whose corrected item-total correlation is below this are flagged.
R_DROP_MIN = 0.30
#: respondents per block of bootstrap count weights (memory: n_boot x this many doubles)
_BOOT_ROWS = 8192
_MISSING = ("listwise", "pairwise")
#: Convergence of the minres fits: largest projected gradient |(L L')_ii + psi_i - 1|
#: (L-BFGS-B, run to its own limits -- about 1e-9 -- and accepted below this).
_MINRES_TOL = 1e-6


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class AlphaResult:
    """Reliability of one subscale; field names are the columns of ``reliability.csv``.

    ``n``, ``k`` and ``omega_factors`` (the group factors behind ``omega_h`` and
    ``omega_total_sl``) are ints, ``omega_h_note`` is text (why ``omega_h`` is
    NaN, or a caution; empty otherwise); every other field is a float (NaN when
    undefined).
    """

    alpha: float
    alpha_std: float
    lambda6: float
    average_r: float
    mean: float
    sd: float
    n: int
    k: int
    alpha_feldt_low: float
    alpha_feldt_high: float
    alpha_boot_low: float
    alpha_boot_high: float
    omega_total: float
    omega_h: float
    omega_total_sl: float
    omega_factors: int = 3
    omega_h_note: str = ""

    def to_dict(self) -> dict:
        """The fields as an ordered ``dict`` (one row of ``reliability.csv``)."""
        return asdict(self)


ALPHA_FIELDS = tuple(f.name for f in fields(AlphaResult))
ITEM_COLUMNS = ("item", "n", "mean", "sd", "r_drop", "r_cor", "raw_r", "std_r",
                "alpha_if_deleted", "flag", "flag_reason")


# ----------------------------------------------------------------------------- input
def _item_frame(items) -> pd.DataFrame:
    """Validate an item matrix and return it as a float DataFrame."""
    if isinstance(items, pd.DataFrame):
        frame = items
    elif isinstance(items, np.ndarray):
        if items.ndim != 2:
            raise ValueError(f"items must be a 2-D array (respondents x items); got {items.ndim} dimension(s).")
        frame = pd.DataFrame(items, columns=[f"item_{j + 1}" for j in range(items.shape[1])])
    else:
        raise ValueError(f"items must be a pandas DataFrame or a 2-D numpy array, not {type(items).__name__}.")
    if frame.shape[1] < 2:
        raise ValueError(f"A reliability analysis needs at least 2 items; got {frame.shape[1]} column(s).")
    bad = [c for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c])
                                            or frame[c].isna().all())]
    if bad:
        raise ValueError(f"Item columns must be numeric (NaN for missing); non-numeric column(s): {bad}. "
                         "Recode the answers to numbers before the reliability step.")
    out = frame.astype(float)
    values = out.to_numpy()
    if np.isinf(values).any():
        col = out.columns[np.isinf(values).any(axis=0)][0]
        raise ValueError(f"Item column {col!r} contains an infinite value; use NaN for missing answers.")
    return out


def _check_missing(missing: str) -> None:
    if missing not in _MISSING:
        raise ValueError(f"missing must be 'listwise' or 'pairwise', not {missing!r}.")


def _check_ci(ci: float) -> None:
    if not (isinstance(ci, (int, float)) and 0 < ci < 1):
        raise ValueError(f"ci must be a confidence level strictly between 0 and 1 (e.g. 0.95), not {ci!r}.")


# ----------------------------------------------------------------------------- matrices
def covariance_matrix(x: np.ndarray, missing: str = "listwise") -> tuple[np.ndarray, np.ndarray]:
    """Item covariance matrix and the number of respondents behind each entry.

    ``listwise``: the usual sample covariance (denominator ``n - 1``) of the rows
    without missing values. ``pairwise``: entry (i, j) is the sample covariance of
    items i and j over the respondents who answered both, with means taken over
    those respondents (R ``cov(x, use = "pairwise")``); the diagonal is each item's
    variance over everyone who answered it.

    Returns ``(C, N)``; ``N[i, j]`` is the number of respondents used for ``C[i, j]``.
    Entries resting on fewer than two respondents are NaN.

    >>> x = np.array([[1., 2.], [2., np.nan], [3., 5.], [4., 4.]])
    >>> C, N = covariance_matrix(x, "pairwise")
    >>> C.round(4).tolist(), N.astype(int).tolist()
    ([[1.6667, 1.8333], [1.8333, 2.3333]], [[4, 3], [3, 3]])
    """
    _check_missing(missing)
    x = np.asarray(x, dtype=float)
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
        n = x.shape[0]
        k = x.shape[1]
        N = np.full((k, k), float(n))
        if n < 2:
            return np.full((k, k), np.nan), N
        xc = x - x.mean(axis=0)
        return (xc.T @ xc) / (n - 1), N
    m = (~np.isnan(x)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.nansum(x, axis=0) / m.sum(axis=0)
    x0 = np.where(m > 0, x - np.nan_to_num(centre), 0.0)  # centring is exact: cov is shift-invariant
    N = m.T @ m
    sxy = x0.T @ x0
    sx = x0.T @ m  # sx[i, j] = sum of x_i over respondents who answered i and j
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (sxy - sx * sx.T / N) / (N - 1)
    C[N < 2] = np.nan
    return C, N


def pairwise_correlation(x: np.ndarray) -> np.ndarray:
    """Pearson correlations on pairwise-complete respondents (R ``cor(x, use = "pairwise")``).

    Unlike ``cov2cor`` of the pairwise covariance matrix, each correlation uses
    means *and* standard deviations from the respondents who answered both items.

    >>> x = np.array([[1., 2.], [2., np.nan], [3., 5.], [4., 4.]])
    >>> float(round(pairwise_correlation(x)[0, 1], 6))  # R: 0.7857142857
    0.785714
    """
    x = np.asarray(x, dtype=float)
    m = (~np.isnan(x)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.nansum(x, axis=0) / m.sum(axis=0)
    x0 = np.where(m > 0, x - np.nan_to_num(centre), 0.0)
    N = m.T @ m
    sxy = x0.T @ x0
    sx = x0.T @ m
    sxx = (x0 * x0).T @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / N
        var = sxx - sx * sx / N  # var[i, j]: (n-1) * variance of item i over pair (i, j)
        r = cov / np.sqrt(var * var.T)
    r[N < 2] = np.nan
    np.fill_diagonal(r, np.where(np.diag(N) >= 2, 1.0, np.nan))
    return r


def _cov2cor(C: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(C))
    with np.errstate(invalid="ignore", divide="ignore"):
        R = C / np.outer(d, d)
    np.fill_diagonal(R, 1.0)
    return R


# ----------------------------------------------------------------------------- coefficients
def cronbach_alpha(C: np.ndarray) -> float:
    """Cronbach's (1951) alpha from an item covariance matrix.

    ``alpha = k / (k - 1) * (1 - tr(C) / sum(C))`` (psych ``raw_alpha``).

    >>> cronbach_alpha(np.array([[1.0, 0.5], [0.5, 1.0]]))
    0.6666666666666667

    Raw answers (one row per respondent) are refused rather than read as a matrix;
    :func:`attachment_pipeline.cronbach_alpha` takes answers.
    """
    C = np.asarray(C, dtype=float)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.allclose(C, C.T, equal_nan=True):
        raise ValueError(f"cronbach_alpha needs an item covariance matrix (square, symmetric); got a "
                         f"{' x '.join(map(str, C.shape))} array. For raw answers use "
                         "attachment_pipeline.cronbach_alpha(answers) or covariance_matrix() first.")
    k = C.shape[0]
    if k < 2:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(C) / C.sum()))


def standardized_alpha(R: np.ndarray) -> float:
    """Standardized alpha from an item correlation matrix (psych ``std.alpha``).

    ``alpha_std = k / (k - 1) * (1 - k / sum(R))``, i.e. alpha of the standardized items,
    equal to ``k * rbar / (1 + (k - 1) * rbar)`` (Cronbach, 1951).

    >>> round(standardized_alpha(np.array([[1, .3, .3], [.3, 1, .3], [.3, .3, 1]])), 6)
    0.5625
    """
    R = np.asarray(R, dtype=float)
    k = R.shape[0]
    if k < 2:
        return float("nan")
    return float(k / (k - 1) * (1.0 - k / R.sum()))


def average_r(R: np.ndarray) -> float:
    """Average inter-item correlation ``(sum(R) - k) / (k (k - 1))`` (psych ``average_r``).

    >>> round(average_r(np.array([[1, .2, .4], [.2, 1, .6], [.4, .6, 1]])), 12)
    0.4
    """
    R = np.asarray(R, dtype=float)
    k = R.shape[0]
    if k < 2:
        return float("nan")
    return float((R.sum() - k) / (k * (k - 1)))


def guttman_lambda6(R: np.ndarray) -> float:
    """Guttman's (1945) lambda-6 as psych's ``G6(smc)``.

    ``lambda6 = 1 - sum(1 - smc_i) / sum(R)``: each item's error variance is estimated
    by the part of it not predicted by the other items (computed on correlations).

    >>> round(guttman_lambda6(np.array([[1, .5], [.5, 1]])), 6)
    0.5
    """
    R = np.asarray(R, dtype=float)
    k = R.shape[0]
    if k < 2:
        return float("nan")
    return float(1.0 - (k - smc(R).sum()) / R.sum())


def feldt_interval(alpha: float, n: int, k: int, ci: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) confidence interval for coefficient alpha.

    ``(1 - alpha) / (1 - A)`` follows an F distribution with ``n - 1`` and
    ``(n - 1)(k - 1)`` degrees of freedom, so with ``p = 1 - ci``::

        low  = 1 - (1 - alpha) * F(1 - p/2; n - 1, (n - 1)(k - 1))
        high = 1 - (1 - alpha) * F(p/2;     n - 1, (n - 1)(k - 1))

    (psych ``alpha.ci``).

    >>> [round(v, 4) for v in feldt_interval(0.8, 100, 10)]  # psych::alpha.ci(.8, 100, 10)
    [0.736, 0.8537]
    """
    _check_ci(ci)
    if not np.isfinite(alpha) or n < 2 or k < 2:
        return float("nan"), float("nan")
    p = 1.0 - ci
    d1, d2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * stats.f.ppf(1.0 - p / 2.0, d1, d2)
    high = 1.0 - (1.0 - alpha) * stats.f.ppf(p / 2.0, d1, d2)
    return float(low), float(high)


def kr20(items) -> float:
    """Kuder-Richardson formula 20 for dichotomous (0/1) items.

    ``KR20 = k / (k - 1) * (1 - sum_j p_j q_j / s_X^2)`` (Kuder & Richardson, 1937), with
    ``p_j`` the proportion of 1s on item j, ``q_j = 1 - p_j`` and ``s_X^2`` the variance
    of the sum score with the same denominator ``n`` as ``p q``; KR-20 is therefore
    exactly Cronbach's alpha on 0/1 data. Computed on the respondents who answered
    every item; items everybody answered alike (``p q = 0``) are left out, as in
    :func:`alpha_table`. NaN with fewer than :data:`MIN_RESPONDENTS` such respondents.

    Raises ValueError if an answer is not 0 or 1.

    >>> x = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]] * 3)
    >>> kr20(x)  # p = (.75, .5, .25): sum pq = .625; sum score variance 1.25
    0.75
    """
    frame = _item_frame(items)
    x = frame.to_numpy()
    obs = x[~np.isnan(x)]
    if not np.isin(obs, (0.0, 1.0)).all():
        bad = np.unique(obs[~np.isin(obs, (0.0, 1.0))])[:5]
        raise ValueError(f"KR-20 needs items scored 0/1; found value(s) {bad.tolist()}.")
    x = x[~np.isnan(x).any(axis=1)]
    n = x.shape[0]
    if n < MIN_RESPONDENTS:
        return float("nan")
    p = x.mean(axis=0)
    pq = p * (1.0 - p)
    keep = pq > 0
    k = int(keep.sum())
    if k < 2:
        return float("nan")
    total = x[:, keep].sum(axis=1)
    return float(k / (k - 1) * (1.0 - pq[keep].sum() / total.var()))


# ----------------------------------------------------------------------------- bootstrap
def _count_blocks(rng: np.random.Generator, b: int, n: int, rows: int | None = None):
    """Bootstrap count weights, block of respondents by block: yields ``(start, stop, W)``.

    ``W`` (b x (stop - start)) says how often each respondent of the block is drawn in
    each of b bootstrap samples of size n. Together the blocks are exactly
    Multinomial(n, 1/n) per sample, drawn block by block: a block of r of the n' rows
    not yet visited receives Binomial(left, r / n') of a sample's ``left`` remaining
    draws, spread uniformly over its rows. So the memory is one block, whatever n.
    """
    rows = rows or _BOOT_ROWS
    remaining = np.full(b, n, dtype=np.int64)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        r = stop - start
        t = remaining if stop == n else rng.binomial(remaining, r / (n - start))
        remaining = remaining - t
        sample = np.repeat(np.arange(b, dtype=np.int64), t)
        idx = rng.integers(0, r, size=sample.size)
        yield start, stop, np.bincount(sample * r + idx, minlength=b * r).reshape(b, r).astype(float)


def bootstrap_alpha(x: np.ndarray, n_boot: int = 1000, seed=0, missing: str = "listwise") -> np.ndarray:
    """Cronbach's alpha in ``n_boot`` nonparametric bootstrap samples of respondents.

    Each bootstrap sample draws ``n`` respondents with replacement; sample b is
    represented by its count vector ``w_b`` (how often each respondent was drawn),
    so that for the listwise case every bootstrap covariance follows from
    ``W @ x``, ``W @ x**2`` and ``W @ T**2`` (``T`` the row sum):
    ``var_b(x_j) = (w_b.x_j^2 - (w_b.x_j)^2 / n) / (n - 1)`` and likewise for ``T``,
    ``alpha_b = k/(k-1) (1 - sum_j var_b(x_j) / var_b(T))``. The pairwise case uses
    the same count weights for the pairwise sums of :func:`covariance_matrix`
    (``_PairwiseDesign``: one matrix product per block of rows, complete rows with
    fewer terms). ``W`` is drawn block of respondents by block for all samples at once
    (:func:`_count_blocks`, exactly multinomial), so memory stays bounded and each
    block's design is built once; the same seed gives the same draws. Listwise resamples the complete rows; pairwise resamples all rows
    (as ``psych::alpha(n.iter=)``, which recomputes ``cov(use = "pairwise")``).

    ``seed`` is anything ``numpy.random.default_rng`` accepts. Samples whose alpha is
    undefined (e.g. a constant total) give NaN.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(50, 1)) + rng.normal(size=(50, 3))
    >>> a = bootstrap_alpha(x, 500, seed=3)
    >>> a.shape, bool(np.array_equal(a, bootstrap_alpha(x, 500, seed=3)))
    ((500,), True)
    """
    _check_missing(missing)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, not {n_boot!r}.")
    x = np.asarray(x, dtype=float)
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    else:
        x = x[~np.isnan(x).all(axis=1)]
    n, k = x.shape
    out = np.full(int(n_boot), np.nan)
    if n_boot == 0 or n < 2 or k < 2:
        return out
    with threadpool_limits(limits=1, user_api="blas"):  # the rule's one thread; sums in a fixed order
        return _bootstrap_alpha(x, int(n_boot), seed, missing, out)


def _bootstrap_alpha(x: np.ndarray, n_boot: int, seed, missing: str, out: np.ndarray) -> np.ndarray:
    n, k = x.shape
    rng = np.random.default_rng(seed)
    if missing == "listwise":
        xc = x - x.mean(axis=0)
        t = xc.sum(axis=1)
        s = np.zeros((n_boot, 2 * k + 1))
        for start, stop, w in _count_blocks(rng, n_boot, n):  # blocks of respondents, all samples at once
            xb, tb = xc[start:stop], t[start:stop]
            s += w @ np.column_stack([xb, xb * xb, tb * tb])
        s1, s2, st2 = s[:, :k], s[:, k:2 * k], s[:, 2 * k]
        with np.errstate(invalid="ignore", divide="ignore"):
            item_var = ((s2 - s1 * s1 / n) / (n - 1)).sum(axis=1)
            total_var = (st2 - s1.sum(axis=1) ** 2 / n) / (n - 1)
            out[:] = k / (k - 1) * (1.0 - item_var / total_var)
        return out
    nn, sx, sxy = _PairwiseDesign(x).sums(rng, n_boot)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (sxy - sx * np.swapaxes(sx, 1, 2) / nn) / (nn - 1)
        tr = np.einsum("bii->b", cov)
        out[:] = k / (k - 1) * (1.0 - tr / cov.sum(axis=(1, 2)))
    return out


class _PairwiseDesign:
    """Weighted pairwise sums of :func:`covariance_matrix` for many bootstrap samples at once.

    For count weights ``W`` (b x n, :func:`_count_blocks`) it returns, per sample, the pair
    counts ``N_ij``, the sums ``Sx_ij`` of item i over the respondents answering i and j,
    and the cross products ``Sxy_ij``, each (b, k, k). With values centred at the item
    means and set to 0 where missing (``x``), and ``u`` the missing-answer indicators:

    - ``Sxy_ij = sum w x_i x_j``,
    - ``Sx_ij = sum w x_i - sum w x_i u_j``,
    - ``N_ij = sum w - sum w u_i - sum w u_j + sum w u_i u_j``.

    The first sums of each line are one dense product ``W @ [1, x_i, x_i x_j]`` (1 + k +
    k(k+1)/2 columns, i <= j) per block of respondents; the terms with ``u`` are sparse
    (answers are rarely missing): they take only the rows with a missing answer and cost
    little. Centring changes no covariance.
    """

    def __init__(self, x: np.ndarray):
        from scipy import sparse

        miss = np.isnan(x)
        self.k = k = x.shape[1]
        self.x0 = np.where(miss, 0.0, x - np.nanmean(x, axis=0))
        self.iu = np.triu_indices(k)
        i, j = self.iu
        n, t = len(x), len(i)
        r_m, c_m = np.nonzero(miss)                                   # one entry per missing answer
        some = np.flatnonzero(miss.any(axis=1))
        both = miss[some][:, i] & miss[some][:, j]
        r_uu, c_uu = np.nonzero(both)
        rows = np.concatenate([r_m, some[r_uu], np.repeat(r_m, k)])
        cols = np.concatenate([c_m, k + c_uu, k + t + (np.arange(k)[None, :] * k + c_m[:, None]).ravel()])
        vals = np.concatenate([np.ones(len(r_m) + len(r_uu)), self.x0[r_m].ravel()])
        # u, u_i u_j, x_i u_j; only the rows with a missing answer (``some``) have entries, so only they are stored
        self.some = some
        self.sparse = sparse.csr_matrix((vals, (np.searchsorted(some, rows), cols)), shape=(len(some), k + t + k * k))

    def sums(self, rng: np.random.Generator, b: int):
        k, (i, j) = self.k, self.iu
        t = len(i)
        dense = np.zeros((b, 1 + k + t))
        rare = np.zeros((self.sparse.shape[1], b))
        for start, stop, w in _count_blocks(rng, b, len(self.x0)):
            x0 = self.x0[start:stop]
            dense += w @ np.column_stack([np.ones(len(x0)), x0, x0[:, i] * x0[:, j]])
            lo, hi = np.searchsorted(self.some, [start, stop])
            rare += self.sparse[lo:hi].T @ w.T[self.some[lo:hi] - start]  # the block's rows with a missing answer
        rare = rare.T
        total, sx_all, sxy_v = dense[:, 0], dense[:, 1:1 + k], dense[:, 1 + k:]
        su, suu, sxu = rare[:, :k], rare[:, k:k + t], rare[:, k + t:].reshape(b, k, k)
        nn, sxy = (np.zeros((b, k, k)) for _ in range(2))
        nn[:, i, j] = total[:, None] - su[:, i] - su[:, j] + suu
        nn[:, j, i] = nn[:, i, j]
        sx = sx_all[:, :, None] - sxu
        sxy[:, i, j] = sxy_v
        sxy[:, j, i] = sxy_v
        return nn, sx, sxy


# ----------------------------------------------------------------------------- factor models
# A small private minres / rotation kit reproducing psych::fa(fm = "minres"),
# stats::varimax, GPArotation::oblimin and psych::schmid, kept here so this module does
# not depend on unfinished code. It could later share the EFA adapter in
# attachment_pipeline.factors. (factor_analyzer's minres gives the same solutions to
# ~1e-5; the own helper adds psych's exact schmid steps -- varimax start, GPFoblq
# quartimin, second-order fit -- and a convergence check that turns failure into NaN.)
def _minres(R: np.ndarray, nfactors: int) -> np.ndarray:
    """Minimum-residual (unweighted least squares) factor loadings, as psych ``fa(fm="minres")``.

    Minimises over uniquenesses ``psi`` (bounded to [0.005, 1], start ``1 - smc``)
    ``F(psi) = 1/2 ||R* - L L'||^2`` where ``R*`` is ``R`` with diagonal ``1 - psi`` and
    ``L`` its first ``nfactors`` principal axes; the gradient is
    ``dF/dpsi_i = (L L')_ii + psi_i - 1`` (psych's ``FAgr.minres``). Columns are
    signed to positive sums. Raises ``np.linalg.LinAlgError`` / ``RuntimeError`` on failure.
    """
    p = R.shape[0]

    def axes(psi):
        Rs = R.copy()
        np.fill_diagonal(Rs, 1.0 - psi)
        vals, vecs = np.linalg.eigh(Rs)
        vals, vecs = vals[::-1], vecs[:, ::-1]
        return Rs, vals, vecs[:, :nfactors] * np.sqrt(np.maximum(vals[:nfactors], 0.0))

    def fun(psi):
        Rs, _, L = axes(psi)
        res = Rs - L @ L.T
        return 0.5 * float((res * res).sum()), np.einsum("ij,ij->i", L, L) + psi - 1.0

    def kkt(psi, grad):  # projected gradient: zero at a (bounded) stationary point
        pg = grad.copy()
        pg[(psi <= 0.005) & (grad > 0)] = 0.0
        pg[(psi >= 1.0) & (grad < 0)] = 0.0
        return float(np.abs(pg).max())

    psi = np.clip(1.0 - smc(R), 0.005, 1.0)
    for _ in range(20):  # restarts: L-BFGS-B can stall where F is nearly flat
        opt = optimize.minimize(fun, psi, jac=True, method="L-BFGS-B", bounds=[(0.005, 1.0)] * p,
                                options={"ftol": 0.0, "gtol": 1e-12, "maxiter": 10000})
        if not np.all(np.isfinite(opt.x)):
            raise RuntimeError("minres did not converge")
        psi = opt.x
        if kkt(psi, fun(psi)[1]) < _MINRES_TOL:
            break
    else:
        raise RuntimeError("minres did not converge")
    L = axes(psi)[2]
    sign = np.sign(L.sum(axis=0))
    sign[sign == 0] = 1.0
    return L * sign


def _varimax(L: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Kaiser's varimax with row normalisation, as R ``stats::varimax`` (same stopping rule)."""
    sc = np.sqrt((L * L).sum(axis=1))
    x = L / sc[:, None]
    p, nc = x.shape
    T = np.eye(nc)
    d = 0.0
    for _ in range(1000):  # iterations of the rotation algorithm
        z = x @ T
        B = x.T @ (z ** 3 - z * (z * z).sum(axis=0) / p)
        u, s, vt = np.linalg.svd(B)
        T = u @ vt
        dpast, d = d, s.sum()
        if d < dpast * (1 + eps):
            break
    return (x @ T) * sc[:, None]


def _quartimin(A: np.ndarray, eps: float = 1e-5, maxit: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Oblimin (gamma = 0, quartimin) by gradient projection, as ``GPArotation::oblimin``.

    Jennrich's (2002) GPFoblq algorithm with GPArotation's defaults (start at the
    identity, no normalisation, stop when the projected gradient norm < ``eps``).
    Returns ``(loadings, Phi)``; raises RuntimeError if it does not converge.
    """
    nc = A.shape[1]
    off = 1.0 - np.eye(nc)

    def vgq(L):
        X = (L * L) @ off
        return L * X, float((L * L * X).sum() / 4.0)

    T = np.eye(nc)
    L = A @ np.linalg.inv(T).T
    Gq, f = vgq(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    al = 1.0
    s = np.inf
    for _ in range(maxit + 1):  # iterations of the rotation algorithm
        Gp = G - T * (T * G).sum(axis=0)
        s = np.sqrt((Gp * Gp).sum())
        if s < eps:
            break
        al *= 2.0
        for _ in range(11):
            X = T - al * Gp
            Tt = X / np.sqrt((X * X).sum(axis=0))
            L = A @ np.linalg.inv(Tt).T
            Gq, ft = vgq(L)
            if f - ft > 0.5 * s * s * al:
                break
            al /= 2.0
        T, f = Tt, ft
        G = -(L.T @ Gq @ np.linalg.inv(Tt)).T
    if not s < eps:
        raise RuntimeError("oblimin rotation did not converge")
    return L, T.T @ T


def _omega_from(R: np.ndarray, general: np.ndarray, h2: np.ndarray) -> tuple[float, float]:
    """psych ``omegah``: flip items with negative general loadings, then
    ``omega_h = (sum |g|)^2 / V`` and ``omega_t = (V - sum(1 - h2)) / V``, ``V = sum(D R D)``."""
    key = np.sign(general)
    key[key == 0] = 1.0
    V = float((key[:, None] * R * key[None, :]).sum())
    return float((general * key).sum() ** 2 / V), float((V - (1.0 - h2).sum()) / V)


def omega_total(R: np.ndarray) -> float:
    """McDonald's omega total from a one-factor model, as ``psych::omega(nfactors = 1)``.

    With minres loadings ``lambda`` of one factor fitted to the item correlations ``R``
    and communalities ``h2 = lambda**2``::

        omega_total = 1 - sum(1 - h2) / V,   V = sum(R)

    (McDonald, 1999; Revelle & Zinbarg, 2009, as psych defines ``omega.tot``; items
    with a negative loading are reflected in ``V`` first). It is the reliability of
    the unit-weighted sum of the standardized items. NaN with fewer than 3 items or
    if the factor model cannot be fitted. Agrees with psych 2.2.9 to about 1e-8.

    >>> R = np.full((4, 4), 0.36) + np.diag([0.64] * 4)  # loadings 0.6
    >>> round(omega_total(R), 6)
    0.692308
    """
    R = np.asarray(R, dtype=float)
    if R.shape[0] < 3 or not np.all(np.isfinite(R)):
        return float("nan")
    try:
        L = _minres(R, 1)
    except (np.linalg.LinAlgError, RuntimeError, ValueError):
        return float("nan")
    h2 = (L * L).sum(axis=1)
    return _omega_from(R, L[:, 0], h2)[1]


def omega_sl(R: np.ndarray, nfactors: int = 3) -> tuple[float, float]:
    """Omega hierarchical and omega total from a Schmid-Leiman solution, as ``psych::omega``.

    Steps (psych ``schmid`` / ``omegah`` with ``fm = "minres"``, ``rotate = "oblimin"``):
    minres fit of ``nfactors`` factors to ``R``; varimax; quartimin (oblimin, gamma 0)
    rotation giving pattern ``F`` and factor correlations ``Phi``; a one-factor minres fit
    to ``Phi`` giving second-order loadings ``gamma``; general-factor loadings
    ``g = F gamma`` and communalities ``h2`` of the first-order solution. Then::

        omega_h = (sum g)^2 / V,   omega_total_sl = 1 - sum(1 - h2) / V,   V = sum(R)

    (McDonald, 1999; Zinbarg, Revelle, Yovel & Li, 2005; items with a negative
    general loading are reflected first, as psych does). ``omega_total_sl`` depends
    only on the minres communalities; ``omega_h`` also on the rotation, which is a
    local optimisation stopped at a gradient norm of 1e-5 (GPArotation's rule) and is
    reproduced step by step (given psych's first-order loadings our quartimin matches
    GPArotation to 1e-15).

    Agreement with psych 2.2.9 (tests/test_reliability.py, 12 subscale x missing-data
    cases): ``omega_total_sl`` within 2e-6, ``omega_h`` within 4e-4 (tested to 1e-3).
    The difference is psych's: its minres fits stop at ``optim``'s default relative
    tolerance (factr 1e7), ours at a projected gradient below 1e-6 (typically 1e-9).
    The second-order fit to the 3 x 3 ``Phi`` is often a Heywood case (a uniqueness
    at the 0.005 bound) and there psych stops visibly short of the stationary point
    (e.g. loadings 1.0090, 0.6510, 0.4358 against 1.0087, 0.6521, 0.4363 here);
    ``omega_h`` inherits that.

    Short subscales: psych fits ``nfactors`` group factors whatever the number of
    items p, and with p = 4 or 5 (and 3 group factors) returns a number without a
    warning. But an exploratory k-factor model has ``df = p(p-1)/2 - pk + k(k-1)/2``
    (Ledermann, 1937); with df < 0 (3 factors on fewer than 6 items, 2 on fewer
    than 5) it reproduces R exactly for a whole family of loadings, and which one
    minres returns depends only on where the optimiser starts and stops: on the
    demo, 20 minres starts drawn at random gave omega_h from 0.69 to 0.85 for
    anxiety items 10-13 (psych: 0.84), all fitting R perfectly. Such a number is
    not an estimate of anything, so it is NaN here, with the reason in
    :func:`omega_sl_note`.

    Returns ``(omega_h, omega_total_sl)``: NaN when the ``nfactors``-factor model
    has negative degrees of freedom, ``R`` has NaN entries, or the fit or rotation fails.

    >>> rng = np.random.default_rng(0)
    >>> g, s = rng.normal(size=(500, 1)), rng.normal(size=(500, 3))
    >>> x = 0.6 * g + 0.5 * np.repeat(s, 3, axis=1) + 0.6 * rng.normal(size=(500, 9))
    >>> oh, ot = omega_sl(np.corrcoef(x.T))
    >>> 0.4 < oh < ot < 1
    True
    """
    R = np.asarray(R, dtype=float)
    if isinstance(nfactors, (bool, np.bool_)) or not isinstance(nfactors, (int, np.integer)) or nfactors < 2:
        raise ValueError(f"omega_sl needs an integer number of group factors of at least 2, not {nfactors!r}.")
    if _efa_df(R.shape[0], nfactors) < 0 or not np.all(np.isfinite(R)):
        return float("nan"), float("nan")
    try:
        L = _minres(R, nfactors)
        orth = _varimax(L)
        sign = np.sign(orth.sum(axis=0))
        sign[sign == 0] = 1.0
        orth = orth * sign
        orth = orth[:, np.argsort(-(orth * orth).sum(axis=0), kind="stable")]
        pattern, phi = _quartimin(orth)
        if nfactors > 2:
            gamma = _minres(phi, 1)[:, 0]
        else:  # psych's option = "equal" for two factors
            r12 = phi[0, 1]
            gamma = np.array([np.sqrt(abs(r12)), np.sign(r12) * np.sqrt(abs(r12))])
    except (np.linalg.LinAlgError, RuntimeError, ValueError):
        return float("nan"), float("nan")
    general = pattern @ gamma
    h2 = (orth * orth).sum(axis=1)
    return _omega_from(R, general, h2)


def _efa_df(p: int, k: int) -> int:
    """Degrees of freedom of an exploratory k-factor model of p variables: p(p-1)/2 - pk + k(k-1)/2."""
    return p * (p - 1) // 2 - p * k + k * (k - 1) // 2


def omega_sl_note(k_items: int, nfactors: int = 3) -> str:
    """Why :func:`omega_sl` gives NaN for ``k_items`` items, or psych's caution for 2 group factors.

    ``""`` when the ``nfactors``-factor model is identified (df >= 0) and
    ``nfactors >= 3``; with 2 group factors psych sets the two general-factor
    loadings equal (``option = "equal"``), an assumption, which the note says.

    >>> omega_sl_note(4)
    'not identified: 3 group factors need at least 6 items (df = -3 with 4 items); set reliability.omega_factors lower or read omega_total'
    >>> omega_sl_note(6), omega_sl_note(5, 2)[:43]
    ('', 'general loadings set equal (2 group factors')
    """
    df = _efa_df(k_items, nfactors)
    if df < 0:
        need = next(p for p in range(nfactors + 1, 4 * nfactors + 4) if _efa_df(p, nfactors) >= 0)
        return (f"not identified: {nfactors} group factors need at least {need} items (df = {df} with "
                f"{k_items} items); set reliability.omega_factors lower or read omega_total")
    if nfactors == 2:
        return "general loadings set equal (2 group factors, psych option = 'equal')"
    return ""


# ----------------------------------------------------------------------------- per subscale
def _usable(x: np.ndarray) -> np.ndarray:
    """Items with a positive variance among their answers (psych drops the others)."""
    cnt = (~np.isnan(x)).sum(axis=0)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # items without answers: NaN, not usable
        sd = np.nanstd(x, axis=0) if x.shape[0] else np.zeros(x.shape[1])
        scale = np.maximum(1.0, np.abs(np.nanmean(x, axis=0)) if x.shape[0] else 1.0)
    return (cnt >= 2) & (sd > 1e-12 * scale)


@dataclass(frozen=True)
class _Prepared:
    x: np.ndarray           # rows used (listwise: complete; pairwise: >= 1 answer)
    use: np.ndarray         # boolean mask over items: positive variance
    n: int
    enough: bool            # enough respondents for statistics


def _prepare(frame: pd.DataFrame, missing: str) -> _Prepared:
    x = frame.to_numpy(dtype=float)
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    else:
        x = x[~np.isnan(x).all(axis=1)]
    use = _usable(x)
    n = int(x.shape[0])
    if missing == "listwise":
        enough = n >= MIN_RESPONDENTS
    else:
        m = (~np.isnan(x[:, use])).astype(float)
        enough = bool(use.sum() >= 1 and (m.T @ m).min() >= MIN_RESPONDENTS)
    return _Prepared(x=x, use=use, n=n, enough=enough and int(use.sum()) >= 2)


def _item_mean_score(x: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Each respondent's mean item score, as psych::alpha's ``scores``.

    ``(k * rowMeans(x_used, na.rm = TRUE) + sum of the constant items' values) / (k + n_const)``:
    the mean of the answered items, counting an item without variance at its one
    observed value (items nobody answered are ignored).
    """
    k = int(use.sum())
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        used_mean = np.nanmean(x[:, use], axis=1)
        const = np.nanmean(x[:, ~use], axis=0) if (~use).any() else np.zeros(0)
    const = const[np.isfinite(const)]
    return (k * used_mean + const.sum()) / (k + const.size)


def _nan_result(n: int, k: int, omega_factors: int = 3) -> AlphaResult:
    nan = float("nan")
    return AlphaResult(alpha=nan, alpha_std=nan, lambda6=nan, average_r=nan, mean=nan, sd=nan,
                       n=n, k=k, alpha_feldt_low=nan, alpha_feldt_high=nan, alpha_boot_low=nan,
                       alpha_boot_high=nan, omega_total=nan, omega_h=nan, omega_total_sl=nan,
                       omega_factors=omega_factors, omega_h_note="")


def _check_omega_factors(omega_factors) -> int:
    if isinstance(omega_factors, (bool, np.bool_)) or not isinstance(omega_factors, (int, np.integer)) \
            or omega_factors < 2:
        raise ValueError(f"omega_factors must be an integer of at least 2 (group factors), not {omega_factors!r}.")
    return int(omega_factors)


def alpha_table(items, missing: str = "listwise", n_boot: int = 1000, seed=0,
                ci: float = 0.95, omega_factors: int = 3) -> AlphaResult:
    """Reliability of one subscale: alpha and its relatives, as ``psych::alpha`` / ``psych::omega``.

    Parameters
    ----------
    items : DataFrame or 2-D array, respondents x items, reverse-keyed, NaN = missing.
    missing : ``"listwise"`` (default) or ``"pairwise"``.
    n_boot : number of bootstrap samples for the percentile interval (0: no bootstrap, NaN).
    seed : seed of the bootstrap (int or ``numpy.random.SeedSequence``); the same
        seed gives identical results.
    ci : confidence level of both intervals.
    omega_factors : group factors of the Schmid-Leiman solution (psych::omega ``nfactors``).

    Returns
    -------
    AlphaResult
        With ``C`` the item covariance matrix, ``R`` the correlation matrix
        (``cov2cor(C)``, as psych) and ``k`` the number of items with nonzero variance:

        - ``alpha = k/(k-1) (1 - tr C / sum C)`` (Cronbach, 1951);
        - ``alpha_std = k/(k-1) (1 - k / sum R)``;
        - ``lambda6 = 1 - sum(1 - smc) / sum R`` (Guttman, 1945; psych ``G6(smc)``);
        - ``average_r = (sum R - k) / (k (k-1))``;
        - ``mean``, ``sd``: mean and sd of the respondents' item-mean score;
        - ``alpha_feldt_low/high``: :func:`feldt_interval` with ``n`` and ``k``;
        - ``alpha_boot_low/high``: percentiles ``(1-ci)/2`` and ``(1+ci)/2`` (linear
          interpolation, R's type 7) of :func:`bootstrap_alpha`;
        - ``omega_total``: :func:`omega_total` (one factor; NaN with < 3 items);
        - ``omega_h``, ``omega_total_sl``: :func:`omega_sl` with ``omega_factors`` group
          factors (NaN when that many factors are not identified by the subscale's items --
          3 factors need 6 items -- or the model or its rotation cannot be fitted);
          ``omega_factors`` is reported and ``omega_h_note`` says why omega_h is NaN
          (:func:`omega_sl_note`). Omega uses the correlations of the complete rows
          (listwise) or ``cor(use = "pairwise")`` (pairwise), as psych::omega.

    ``n``: listwise, the number of respondents who answered every item of the
    subscale. Pairwise, the number who answered at least one item; each covariance
    then rests on the respondents who answered both of its items (between the
    smallest pairwise count and ``n``), and ``mean``/``sd`` use each respondent's mean
    of the items they answered (psych ``rowMeans(na.rm = TRUE)``); the Feldt interval
    uses this ``n``. When fewer than :data:`MIN_RESPONDENTS` (10) respondents are
    available -- listwise: complete respondents; pairwise: respondents for the
    least-answered pair of items -- or fewer than 2 items vary, the result has ``n``
    and ``k`` and NaN statistics.

    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, 5, 2, 3, 4, 4, 1],
    ...                   "b": [2, 2, 3, 5, 4, 1, 3, 3, 5, 2],
    ...                   "c": [1, 3, 2, 4, 5, 2, 2, 4, 4, 2]})
    >>> r = alpha_table(x, n_boot=0)
    >>> round(r.alpha, 6), round(r.alpha_std, 6), round(r.mean, 6), r.n, r.k  # psych::alpha
    (0.919903, 0.919945, 2.933333, 10, 3)
    """
    frame = _item_frame(items)
    _check_missing(missing)
    _check_ci(ci)
    omega_factors = _check_omega_factors(omega_factors)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, not {n_boot!r}.")
    prep = _prepare(frame, missing)
    k = int(prep.use.sum())
    if not prep.enough:
        return _nan_result(prep.n, k, omega_factors)
    x = prep.x[:, prep.use]
    C, _ = covariance_matrix(x, missing)
    if not np.all(np.isfinite(C)):
        return _nan_result(prep.n, k, omega_factors)
    R = _cov2cor(C)
    a = cronbach_alpha(C)
    score = _item_mean_score(prep.x, prep.use)
    low, high = feldt_interval(a, prep.n, k, ci)
    if n_boot > 0:
        boot = bootstrap_alpha(x, n_boot, seed, missing)
        tail = (1.0 - ci) / 2.0
        if np.isfinite(boot).any():
            b_low, b_high = (float(v) for v in np.nanquantile(boot, [tail, 1.0 - tail]))
        else:
            b_low = b_high = float("nan")
    else:
        b_low = b_high = float("nan")
    R_omega = R if missing == "listwise" else pairwise_correlation(x)
    o_h, o_sl = omega_sl(R_omega, omega_factors)
    note = omega_sl_note(k, omega_factors)
    if not np.isfinite(o_h) and not note:
        note = "the Schmid-Leiman solution could not be fitted (minres or oblimin did not converge)"
    return AlphaResult(
        alpha=a, alpha_std=standardized_alpha(R), lambda6=guttman_lambda6(R),
        average_r=average_r(R), mean=float(np.nanmean(score)), sd=float(np.nanstd(score, ddof=1)),
        n=prep.n, k=k, alpha_feldt_low=low, alpha_feldt_high=high,
        alpha_boot_low=b_low, alpha_boot_high=b_high,
        omega_total=omega_total(R_omega), omega_h=o_h, omega_total_sl=o_sl,
        omega_factors=omega_factors, omega_h_note=note,
    )


def item_statistics(items, missing: str = "listwise", r_drop_min: float = R_DROP_MIN) -> pd.DataFrame:
    """Item analysis of one subscale, as the ``item.stats`` and ``alpha.drop`` of ``psych::alpha``.

    Columns (one row per item, in column order):

    - ``item``: column name; ``n``: respondents used (listwise: complete respondents;
      pairwise: respondents who answered the item);
    - ``mean``, ``sd``: item mean and sample sd (``n - 1``);
    - ``r_drop``: corrected item-total correlation, the item with the sum of the
      other items: ``(sum_j C_ij - C_ii) / sqrt(C_ii * sum(C_-i,-i))``;
    - ``r_cor``: item-total correlation corrected for overlap and reliability,
      ``colSums(R~) / sqrt(sum(R~))`` with ``R~`` = ``R`` with ``smc`` on the diagonal
      (psych ``r.cor``);
    - ``raw_r``: correlation of the item with the item-mean score (psych ``raw.r``);
    - ``std_r``: ``colSums(R) / sqrt(sum(R))``, the correlation with the sum of
      standardized items (psych ``std.r``);
    - ``alpha_if_deleted``: :func:`cronbach_alpha` of the other items (psych
      ``alpha.drop$raw_alpha``; NaN when only two items are used);
    - ``flag`` (bool) and ``flag_reason``: ``"r_drop < 0.30"`` if ``r_drop < r_drop_min``,
      ``"alpha if deleted > alpha"`` if deleting the item raises alpha (joined with
      ``"; "``), ``"no variance"`` for an item left out for lack of variance; ``""``
      when not flagged. With too few respondents (see :func:`alpha_table`) the
      statistics are NaN, ``flag`` is False and ``flag_reason`` says why.

    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, 5, 2, 3, 4, 4, 1],
    ...                   "b": [2, 2, 3, 5, 4, 1, 3, 3, 5, 2],
    ...                   "c": [5, 3, 2, 4, 1, 2, 2, 4, 4, 2]})
    >>> item_statistics(x)[["item", "r_drop", "alpha_if_deleted", "flag"]].round(3)  # = psych
      item  r_drop  alpha_if_deleted   flag
    0    a   0.436             0.325  False
    1    b   0.761            -0.304  False
    2    c   0.030             0.883   True
    >>> item_statistics(x).flag_reason[2]
    'r_drop < 0.30; alpha if deleted > alpha'
    """
    frame = _item_frame(items)
    _check_missing(missing)
    prep = _prepare(frame, missing)
    names = [str(c) for c in frame.columns]
    p = len(names)
    x_all = prep.x
    with np.errstate(invalid="ignore"):
        n_item = (~np.isnan(x_all)).sum(axis=0)
    out = pd.DataFrame({"item": names, "n": n_item.astype(int)})
    for col in ITEM_COLUMNS[2:9]:
        out[col] = np.nan
    out["flag"] = False
    out["flag_reason"] = ""
    if not prep.enough:
        out["flag_reason"] = f"not computed: fewer than {MIN_RESPONDENTS} respondents"
        return out[list(ITEM_COLUMNS)]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # items with < 2 answers: NaN sd
        out["mean"] = np.where(n_item > 0, np.nansum(x_all, axis=0) / np.maximum(n_item, 1), np.nan)
        out["sd"] = np.nanstd(x_all, axis=0, ddof=1)
    use = prep.use
    x = x_all[:, use]
    k = x.shape[1]
    C, _ = covariance_matrix(x, missing)
    R = _cov2cor(C)
    total_c = C.sum()
    col_c = C.sum(axis=0)
    diag_c = np.diag(C)
    rest = total_c - 2.0 * col_c + diag_c  # sum(C[-i, -i])
    if k > 2:
        alpha_del = (k - 1) / (k - 2) * (1.0 - (np.trace(C) - diag_c) / rest)
    else:
        alpha_del = np.full(k, np.nan)
    RC = R.copy()
    np.fill_diagonal(RC, smc(R))
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN if a total variance is negative
        r_cor = RC.sum(axis=0) / np.sqrt(RC.sum())
        std_r = R.sum(axis=0) / np.sqrt(R.sum())
        r_drop = (col_c - diag_c) / np.sqrt(diag_c * rest)
    score = _item_mean_score(x_all, use)
    raw_r = pairwise_correlation(np.column_stack([score, x]))[0, 1:]
    idx = np.flatnonzero(use)
    for col, val in (("r_drop", r_drop), ("r_cor", r_cor), ("raw_r", raw_r), ("std_r", std_r),
                     ("alpha_if_deleted", alpha_del)):
        out.loc[idx, col] = val
    alpha = cronbach_alpha(C)
    low = out["r_drop"].to_numpy() < r_drop_min
    raises = out["alpha_if_deleted"].to_numpy() > alpha + 1e-12
    reasons = []
    for j in range(p):  # loop over items (not respondents) to build the text column
        why = []
        if not use[j]:
            why.append("no variance")
        if low[j]:
            why.append(f"r_drop < {r_drop_min:.2f}")
        if raises[j]:
            why.append("alpha if deleted > alpha")
        reasons.append("; ".join(why))
    out["flag_reason"] = reasons
    out["flag"] = out["flag_reason"] != ""
    return out[list(ITEM_COLUMNS)]


# ----------------------------------------------------------------------------- all subscales
def derive_seed(seed: int, *names) -> int:
    """A seed for one (instrument, subscale, group column, group) cell, independent of order.

    ``SeedSequence([seed, crc32(name_1), crc32(name_2), ...]).generate_state(1)[0]``,
    the names encoded as UTF-8 text (``str(name)``). The same names give the same seed
    whatever other cells exist or the order in which they are computed.

    >>> derive_seed(1, "ecr_r", "anxiety", "all", "all") == derive_seed(1, "ecr_r", "anxiety", "all", "all")
    True
    >>> derive_seed(1, "ecr_r", "anxiety") != derive_seed(1, "ecr_r", "avoidance")
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}.")
    entropy = [int(seed)] + [zlib.crc32(str(nm).encode("utf-8")) for nm in names]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _is_binary(frame: pd.DataFrame) -> bool:
    vals = frame.to_numpy(dtype=float)
    vals = vals[~np.isnan(vals)]
    return vals.size > 0 and bool(np.isin(vals, (0.0, 1.0)).all())


def _levels(series: pd.Series) -> list:
    levels = list(pd.unique(series.dropna()))
    try:
        return sorted(levels)
    except TypeError:
        return sorted(levels, key=str)


def reliability_tables(items: pd.DataFrame, groups: pd.DataFrame, subscales: dict, *,
                       instrument: str, missing: str = "listwise", n_boot: int = 1000,
                       seed: int = 0, ci: float = 0.95,
                       omega_factors: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``reliability.csv`` and ``item_stats.csv`` for one instrument of one cohort.

    Parameters
    ----------
    items : respondents x item columns of the instrument (reverse-keyed, NaN = missing).
    groups : DataFrame with the same index as ``items`` holding the group columns (may
        have no columns). Respondents whose group value is missing count in the
        overall row only.
    subscales : ``{subscale: [item column, ...]}``.
    instrument : instrument name written in the ``instrument`` column.
    missing, n_boot, ci, omega_factors : as in :func:`alpha_table`.
    seed : base seed. The cell (subscale, group column, group level) uses
        ``derive_seed(seed, instrument, subscale, group_column, str(level))`` (overall:
        ``group_column = group = "all"``), so its bootstrap does not depend on which
        other cells exist or their order.

    Returns
    -------
    (reliability, item_stats)
        ``reliability``: columns ``instrument, subscale, group_column, group``, the
        :class:`AlphaResult` fields, then ``kr20`` -- KR-20 (:func:`kr20`) when every
        answer of the subscale in the whole ``items`` frame is 0 or 1, NaN otherwise.
        One row overall (``group_column = group = "all"``) and one per level of each
        group column (levels sorted, ``group`` as text). Levels with fewer than
        :data:`MIN_RESPONDENTS` usable respondents are reported with ``n`` and NaN
        statistics. ``item_stats``: ``instrument, subscale, group_column, group`` and the
        columns of :func:`item_statistics`.

    >>> x = pd.DataFrame(np.random.default_rng(0).integers(0, 2, (60, 4)),
    ...                  columns=["mm_1", "mm_2", "mm_3", "mm_4"]).astype(float)
    >>> g = pd.DataFrame({"sex": ["f", "m"] * 30})
    >>> rel, its = reliability_tables(x, g, {"mini": list(x.columns)}, instrument="mm", n_boot=50)
    >>> rel[["group_column", "group", "n", "k"]].values.tolist()
    [['all', 'all', 60, 4], ['sex', 'f', 30, 4], ['sex', 'm', 30, 4]]
    >>> bool(np.isclose(rel.kr20[0], rel.alpha[0])), its.shape
    (True, (12, 15))
    """
    if not isinstance(items, pd.DataFrame):
        raise ValueError("items must be a pandas DataFrame with one column per item.")
    if groups is None:
        groups = pd.DataFrame(index=items.index)
    if not isinstance(groups, pd.DataFrame):
        raise ValueError("groups must be a pandas DataFrame (it may have zero columns).")
    if len(groups) != len(items) or not groups.index.equals(items.index):
        raise ValueError(f"groups ({len(groups)} rows) must have the same index as items ({len(items)} rows).")
    _check_missing(missing)
    _check_omega_factors(omega_factors)
    if not isinstance(subscales, dict) or not subscales:
        raise ValueError("subscales must be a non-empty dict {subscale: [item columns]}.")
    for name, cols in subscales.items():
        absent = [c for c in cols if c not in items.columns]
        if absent:
            raise ValueError(f"Subscale {name!r} of instrument {instrument!r} names item column(s) "
                             f"{absent} that are not in the item table.")
    rel_rows, item_frames = [], []
    cells = [("all", "all", np.ones(len(items), dtype=bool))]
    for gcol in groups.columns:
        series = groups[gcol]
        for level in _levels(series):
            cells.append((str(gcol), str(level), (series == level).to_numpy()))
    for sub, cols in subscales.items():
        sub_items = _item_frame(items[list(cols)])
        binary = _is_binary(sub_items)
        for gcol, level, mask in cells:
            part = sub_items.loc[mask]
            cell_seed = derive_seed(seed, instrument, sub, gcol, level)
            res = alpha_table(part, missing=missing, n_boot=n_boot, seed=cell_seed, ci=ci,
                              omega_factors=omega_factors)
            row = {"instrument": instrument, "subscale": sub, "group_column": gcol, "group": level}
            row.update(res.to_dict())
            row["kr20"] = kr20(part) if binary else float("nan")
            rel_rows.append(row)
            st = item_statistics(part, missing=missing)
            st.insert(0, "group", level)
            st.insert(0, "group_column", gcol)
            st.insert(0, "subscale", sub)
            st.insert(0, "instrument", instrument)
            item_frames.append(st)
    rel = pd.DataFrame(rel_rows, columns=["instrument", "subscale", "group_column", "group",
                                          *ALPHA_FIELDS, "kr20"])
    its = pd.concat(item_frames, ignore_index=True)
    return rel, its
