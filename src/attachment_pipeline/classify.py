"""Four adult attachment styles from the two dimensions, and the min/max typology by style.

The dimensions (attachment anxiety and avoidance) carry the information; the four
styles of Bartholomew & Horowitz (1991) are a transparent second layer on top of
them (Fraley, Hudson, Heffernan & Segal, 2015, found no evidence that adult
attachment is categorical). Every classification therefore comes with a
*certainty* column that shows how close a respondent lies to the boundary of
the style, and several methods can be run side by side and compared
(:func:`agreement`).

========================  ====================================================
method                    rule
========================  ====================================================
``midpoint``              high when the subscale score is above the midpoint
                          of the response scale, (min + max) / 2
``median``                the same with the sample medians
``zscore``                high when (score - reference mean) / reference SD
                          is above ``cut`` (norms from another sample)
``kmeans``                four k-means clusters on the standardized
                          dimensions (Brennan, Clark & Shaver, 1998), named by
                          matching centroids to the quadrant prototypes
``gmm``                   Gaussian mixture (latent profile analysis), 1-6
                          components chosen by BIC, named like ``kmeans`` when
                          BIC chooses four components
``brennan1998``           the published Fisher classification functions of
                          Brennan et al. (1998); original ECR on 1-7 only
========================  ====================================================

Styles, as (anxiety, avoidance): secure (low, low), preoccupied (high, low),
dismissing (low, high), fearful (high, high).

Respondents with a missing dimension score are not classified (no row);
:func:`classification_coverage` counts them per method.

Certainty (column ``certainty`` of :func:`classify`)
----------------------------------------------------
- cut-off methods (``midpoint``, ``median``, ``zscore``): distance to the nearest
  cut-off, ``min(|anxiety - c_anx| / s_anx, |avoidance - c_avo| / s_avo)``, where
  ``s`` is the sample standard deviation (ddof = 1) of that dimension over the
  respondents classified (complete cases). 0 means "on a cut-off"; NaN when the
  sample SD is undefined or zero (fewer than 2 respondents, no variation).
- ``kmeans``: ``d2 - d1``, the margin between the distances to the second-nearest
  and the nearest centroid, in the standardized space (same sample SDs), so
  again in SD units.
- ``gmm``: the posterior probability of the assigned component (0..1).
- ``brennan1998``: the posterior probability of the assigned style under the
  discriminant model, the softmax of the four classification-function scores
  (Fisher's classification functions are the class log-densities up to a
  shared constant, so ``exp(f_k) / sum_j exp(f_j)`` is the LDA posterior with
  the derivation sample's priors).

Example
-------
>>> scores = pd.DataFrame({"anxiety": [2.0, 5.5, 3.0, 6.0],
...                        "avoidance": [1.5, 2.0, 5.0, 6.5]},
...                       index=pd.Index(["a", "b", "c", "d"], name="id"))
>>> classify(scores, "midpoint", scale_min=1, scale_max=7)["style"].tolist()
['secure', 'preoccupied', 'dismissing', 'fearful']
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import asdict, dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.stats import norm
from threadpoolctl import threadpool_limits

from .scoring import MINMAX_TYPES, minmax_typology  # noqa: F401  (re-exported: the typology lives with scoring)
from .vocabulary import DIMENSIONS, STYLE_LABELS, STYLES  # noqa: F401  (re-exported: defined once, in vocabulary)

#: Quadrant prototypes as (anxiety, avoidance) in SD units, in STYLES order.
PROTOTYPES = np.array([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])

METHODS = ("midpoint", "median", "zscore", "kmeans", "gmm", "brennan1998")
CUTOFF_METHODS = ("midpoint", "median", "zscore")
TIES = ("low", "high")


#: Brennan, Clark & Shaver (1998) classification functions for the ECR (1-7):
#: style -> (avoidance coefficient, anxiety coefficient, constant).
BRENNAN1998_FUNCTIONS = {
    "secure": (3.2893296, 5.4725318, -11.5307833),
    "preoccupied": (3.9246754, 9.7102446, -28.4573220),
    "dismissing": (7.3654621, 4.9392039, -22.2281088),
    "fearful": (7.2371075, 8.1776448, -32.3553266),
}

# A score within this (relative) distance of a cut-off counts as "exactly at"
# the cut-off, so that 4.0 and 3.9999999999999996 are treated alike.
_TIE_TOL = 1e-9
_DIMS = list(DIMENSIONS)
_TABLE_COLUMNS = ["id", "instrument", "method", "anxiety", "avoidance", "style", "certainty"]


# ---------------------------------------------------------------------------
# result dataclasses (fields named like the output columns)
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class KappaResult:
    """Agreement between two classifications of the same respondents."""

    n: int
    percent_agreement: float
    kappa: float
    kappa_se: float
    kappa_ci_low: float
    kappa_ci_high: float


@dataclass(frozen=True)
class GmmProfile:
    """One latent profile (mixture component) on the raw score scale."""

    profile: int
    n: int
    anxiety_mean: float
    avoidance_mean: float
    weight: float
    style: str


@dataclass(frozen=True)
class GmmBic:
    """Fit of a Gaussian mixture with ``n_components`` components (raw score scale).

    ``bic = -2 log_likelihood + n_parameters ln n`` (smaller is better; mclust's
    BIC is its negative); ``converged``: the EM met its tolerance.
    """

    n_components: int
    n_parameters: int
    log_likelihood: float
    bic: float
    selected: bool
    converged: bool = True


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------

def _check_scale(scale_min, scale_max) -> tuple[float, float]:
    try:
        lo, hi = float(scale_min), float(scale_max)
    except (TypeError, ValueError):
        raise ValueError(
            f"scale_min and scale_max must be numbers; got {scale_min!r} and {scale_max!r}."
        ) from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(
            f"The response scale must have finite scale_min < scale_max; got {scale_min!r} and {scale_max!r}."
        )
    return lo, hi


def _complete_scores(scores, scale=None) -> tuple[pd.DataFrame, int]:
    """Complete cases of ``scores[["anxiety", "avoidance"]]`` as floats, and the number dropped."""
    if not isinstance(scores, pd.DataFrame):
        raise ValueError(f"scores must be a pandas DataFrame, got {type(scores).__name__}.")
    missing = [c for c in _DIMS if c not in scores.columns]
    if missing:
        raise ValueError(
            f"scores lacks column(s) {missing}; it needs 'anxiety' and 'avoidance' "
            f"(index = respondent id). Columns found: {list(scores.columns)}."
        )
    if not scores.index.is_unique:
        dup = scores.index[scores.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"Respondent ids (the index of scores) must be unique; duplicated: {dup}.")
    sub = scores[_DIMS]
    for col in _DIMS:
        if not (pd.api.types.is_numeric_dtype(sub[col]) or sub[col].isna().all()):
            raise ValueError(f"scores column {col!r} must be numeric; it has dtype {sub[col].dtype}.")
    sub = sub.astype(float)
    values = sub.to_numpy()
    if np.isinf(values).any():
        raise ValueError("scores contain infinite values; use NaN for a missing score.")
    keep = ~np.isnan(values).any(axis=1)
    complete = sub.loc[keep]
    if scale is not None and len(complete):
        lo, hi = scale
        tol = _TIE_TOL * max(1.0, abs(lo), abs(hi))
        bad = (complete < lo - tol) | (complete > hi + tol)
        if bad.to_numpy().any():
            row, col = np.argwhere(bad.to_numpy())[0]
            raise ValueError(
                f"Score {float(complete.iat[row, col]):g} of respondent {complete.index[row]!r} in column "
                f"{_DIMS[col]!r} lies outside the response scale {lo:g}..{hi:g}. Check the "
                f"response_scale of the cohort (scale_min, scale_max)."
            )
    return complete, int((~keep).sum())


def _check_ties(ties: str) -> str:
    if ties not in TIES:
        raise ValueError(f"ties must be 'low' or 'high', got {ties!r}.")
    return ties


def _instrument_name(instrument) -> str | None:
    if instrument is None or isinstance(instrument, str):
        return instrument
    name = getattr(instrument, "name", None)
    if not isinstance(name, str):
        raise ValueError(f"instrument must be a name such as 'ecr' or an Instrument, got {instrument!r}.")
    return name


def _sample_sd(x: np.ndarray) -> float:
    """Sample standard deviation (ddof = 1); NaN for fewer than two values."""
    return float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")


def _standardize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z-scores with the sample mean and SD (ddof = 1) per column."""
    if len(values) < 2:
        raise ValueError("Standardizing the dimensions needs at least 2 respondents with both scores.")
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1)
    if not (sd > 0).all():
        flat = [d for d, s in zip(_DIMS, sd) if not s > 0]
        raise ValueError(f"No variation in {flat}: the dimensions cannot be standardized for clustering.")
    return (values - mean) / sd, mean, sd


# ---------------------------------------------------------------------------
# cut-off methods
# ---------------------------------------------------------------------------

def cut_points(scores: pd.DataFrame, method: str, *, scale_min, scale_max,
               reference: dict | None = None, cut: float = 0.0) -> dict:
    """Cut-off values on the raw score scale used by a cut-off method.

    - ``midpoint``: ``(scale_min + scale_max) / 2`` for both dimensions.
    - ``median``: the sample medians (complete cases).
    - ``zscore``: ``reference[dim]["mean"] + cut * reference[dim]["sd"]``.

    Parameters
    ----------
    scores : DataFrame with columns ``anxiety`` and ``avoidance``.
    method : ``midpoint``, ``median`` or ``zscore``.
    scale_min, scale_max : the response scale of the instrument.
    reference : for ``zscore``: ``{"anxiety": {"mean": m, "sd": s}, "avoidance": {...}}``.
    cut : for ``zscore``: the cut-off in reference SD units (default 0).

    Returns
    -------
    dict ``{"anxiety": c_anx, "avoidance": c_avo}``.

    Examples
    --------
    >>> s = pd.DataFrame({"anxiety": [1.0, 2.0, 5.0], "avoidance": [3.0, 3.5, 5.0]})
    >>> cut_points(s, "midpoint", scale_min=1, scale_max=5)
    {'anxiety': 3.0, 'avoidance': 3.0}
    >>> cut_points(s, "median", scale_min=1, scale_max=7)
    {'anxiety': 2.0, 'avoidance': 3.5}
    >>> ref = {"anxiety": {"mean": 3.6, "sd": 1.1}, "avoidance": {"mean": 2.9, "sd": 1.2}}
    >>> cut_points(s, "zscore", scale_min=1, scale_max=7, reference=ref, cut=0.5)
    {'anxiety': 4.15, 'avoidance': 3.5}
    """
    lo, hi = _check_scale(scale_min, scale_max)
    complete, _ = _complete_scores(scores, (lo, hi))
    return _cut_points(complete, method, lo, hi, reference, cut)


def _cut_points(complete: pd.DataFrame, method: str, lo: float, hi: float,
                reference, cut) -> dict:
    if method == "midpoint":
        mid = (lo + hi) / 2
        return {"anxiety": mid, "avoidance": mid}
    if method == "median":
        if not len(complete):
            return {"anxiety": float("nan"), "avoidance": float("nan")}
        return {d: float(np.median(complete[d].to_numpy())) for d in _DIMS}
    if method == "zscore":
        ref = _check_reference(reference)
        try:
            cut = float(cut)
        except (TypeError, ValueError):
            raise ValueError(f"cut must be a number (reference SD units), got {cut!r}.") from None
        if not np.isfinite(cut):
            raise ValueError(f"cut must be finite, got {cut!r}.")
        return {d: ref[d][0] + cut * ref[d][1] for d in _DIMS}
    raise ValueError(f"{method!r} is not a cut-off method; choose one of {', '.join(CUTOFF_METHODS)}.")


def _check_reference(reference) -> dict:
    example = "{anxiety: {mean: 3.6, sd: 1.1}, avoidance: {mean: 2.9, sd: 1.2}}"
    if not isinstance(reference, dict):
        raise ValueError(f"Method 'zscore' needs reference norms, e.g. reference: {example}; got {reference!r}.")
    out = {}
    for dim in _DIMS:
        spec = reference.get(dim)
        if not isinstance(spec, dict) or "mean" not in spec or "sd" not in spec:
            raise ValueError(f"reference.{dim} must give 'mean' and 'sd', e.g. {example}; got {spec!r}.")
        try:
            mean, sd = float(spec["mean"]), float(spec["sd"])
        except (TypeError, ValueError):
            raise ValueError(f"reference.{dim}.mean and .sd must be numbers; got {spec!r}.") from None
        if not (np.isfinite(mean) and np.isfinite(sd) and sd > 0):
            raise ValueError(f"reference.{dim} needs a finite mean and a positive sd; got {spec!r}.")
        out[dim] = (mean, sd)
    return out


def quadrant_codes(anxiety_high: np.ndarray, avoidance_high: np.ndarray) -> np.ndarray:
    """Style codes (indices into :data:`STYLES`) from high/low flags.

    ``code = anxiety_high + 2 * avoidance_high``: 0 secure, 1 preoccupied,
    2 dismissing, 3 fearful (Bartholomew & Horowitz, 1991).

    >>> quadrant_codes(np.array([False, True, False, True]), np.array([False, False, True, True]))
    array([0, 1, 2, 3])
    """
    return np.asarray(anxiety_high, dtype=int) + 2 * np.asarray(avoidance_high, dtype=int)


def is_high(x: np.ndarray, cutoff: float, ties: str = "low") -> np.ndarray:
    """``x > cutoff`` (``ties="low"``) or ``x >= cutoff`` (``ties="high"``).

    A score within ``1e-9 * max(1, |cutoff|)`` of the cut-off counts as exactly
    at it, so rounding noise in a subscale mean does not decide the class.

    >>> is_high(np.array([3.0, 4.0, 4.5]), 4.0).tolist()
    [False, False, True]
    >>> is_high(np.array([3.0, 4.0, 4.5]), 4.0, ties="high").tolist()
    [False, True, True]
    """
    _check_ties(ties)
    tol = _TIE_TOL * max(1.0, abs(cutoff))
    x = np.asarray(x, dtype=float)
    return x > cutoff + tol if ties == "low" else x >= cutoff - tol


def _classify_cutoff(complete, cuts, ties):
    anx = complete["anxiety"].to_numpy()
    avo = complete["avoidance"].to_numpy()
    codes = quadrant_codes(is_high(anx, cuts["anxiety"], ties), is_high(avo, cuts["avoidance"], ties))
    with np.errstate(divide="ignore", invalid="ignore"):
        s_anx, s_avo = _sample_sd(anx), _sample_sd(avo)
        dist = np.minimum(np.abs(anx - cuts["anxiety"]) / s_anx, np.abs(avo - cuts["avoidance"]) / s_avo)
    dist = np.where(np.isfinite(dist), dist, np.nan)
    return codes, dist


# ---------------------------------------------------------------------------
# k-means and Gaussian mixtures
# ---------------------------------------------------------------------------

def match_prototypes(centres: np.ndarray) -> np.ndarray:
    """Name four centres (standardized (anxiety, avoidance)) one-to-one by the quadrant prototypes.

    Minimises the total squared Euclidean distance between centres and the
    prototypes secure (-1, -1), preoccupied (+1, -1), dismissing (-1, +1) and
    fearful (+1, +1) with the Hungarian algorithm
    (:func:`scipy.optimize.linear_sum_assignment`).

    Returns
    -------
    ndarray of int: for each centre, its style code (index into :data:`STYLES`).

    >>> match_prototypes(np.array([[0.9, 1.2], [-1.1, -0.8], [-0.9, 1.1], [1.2, -1.0]])).tolist()
    [3, 0, 2, 1]
    """
    centres = np.asarray(centres, dtype=float)
    if centres.shape != (4, 2):
        raise ValueError(f"match_prototypes needs 4 centres of (anxiety, avoidance); got shape {centres.shape}.")
    cost = ((centres[:, None, :] - PROTOTYPES[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    codes = np.empty(4, dtype=int)
    codes[rows] = cols
    return codes


def _sorted_order(values: np.ndarray) -> np.ndarray:
    """Row order by (anxiety, avoidance): the fits do not depend on the input row order."""
    return np.lexsort((values[:, 1], values[:, 0]))


def _classify_kmeans(complete: pd.DataFrame, seed: int, n_init: int):
    from sklearn.cluster import KMeans

    values = complete.to_numpy()
    if len(values) < 4:
        raise ValueError(f"Method 'kmeans' needs at least 4 respondents with both scores; got {len(values)}.")
    z, _, _ = _standardize(values)
    order = _sorted_order(z)
    with threadpool_limits(limits=1):  # 2-D data gains nothing from threads; avoids oversubscription
        km = KMeans(n_clusters=4, n_init=n_init, random_state=seed).fit(z[order])
    names = match_prototypes(km.cluster_centers_)
    dist = np.sqrt(((z[:, None, :] - km.cluster_centers_[None, :, :]) ** 2).sum(axis=2))
    dist.sort(axis=1)
    labels = np.empty(len(z), dtype=int)
    labels[order] = km.labels_
    return names[labels], dist[:, 1] - dist[:, 0]


def _n_gmm_parameters(k: int, d: int = 2) -> int:
    """Free parameters of a full-covariance mixture: k means, k covariances, k - 1 weights."""
    return k * d + k * d * (d + 1) // 2 + k - 1


#: EM settings of the Gaussian mixtures (see :func:`gmm_profiles`). Every start is run to
#: convergence unless there are more than max(_GMM_LONG_STARTS, _GMM_LONG_BUDGET / m) of them
#: (m distinct score pairs); then a short EM on all (_GMM_SHORT_CYCLES accelerated cycles,
#: 30 EM steps) picks that many to continue (Biernacki, Celeux & Govaert, 2003).
_GMM_SHORT_CYCLES = 10
_GMM_LONG_BUDGET = 20000
_GMM_LONG_STARTS = 2
_GMM_TOL = 1e-10            # log-likelihood gain per observation of one accelerated cycle
_GMM_MAX_CYCLES = 20000     # SQUAREM cycles (3 EM steps each)
_GMM_MIN_DET = 1e-10        # a component covariance (z units) with a smaller determinant is singular
_GMM_WARD_MAX = 2000        # the hierarchical start is made when at most this many distinct score pairs
_GMM_KMEANS_ITER = 20       # Lloyd iterations of a k-means start (a start, not a result)
_LOG_2PI = float(np.log(2 * np.pi))

_GMM_LAST: dict = {}


def _gmm_design(u: np.ndarray) -> np.ndarray:
    """Per distinct point (m, 6): ``1, u_1, u_2, u_1^2, u_1 u_2, u_2^2``.

    Both EM steps are then matrix products with it: a bivariate normal
    log-density is linear in these six terms, and the M-step needs their
    responsibility-weighted sums.
    """
    return np.column_stack([np.ones(len(u)), u[:, 0], u[:, 1], u[:, 0] ** 2, u[:, 0] * u[:, 1], u[:, 1] ** 2])


def _gmm_e_step(design: np.ndarray, w: np.ndarray, pi: np.ndarray, mu: np.ndarray, cov: np.ndarray):
    """Weighted log-likelihoods (S,) and weighted responsibilities (S, k, m) of S bivariate mixtures.

    ``design`` = :func:`_gmm_design` of the m distinct points with counts ``w``;
    ``pi`` (S, k); ``mu`` (S, k, 2); ``cov`` (S, k, 3) holding (var_1, cov_12, var_2).
    With precision ``P = Sigma^-1`` the log-density
    ``log pi - log 2pi - log|Sigma| / 2 - (u - mu)' P (u - mu) / 2`` is expanded in
    the design's terms, so all S x k log-densities are one matrix product.
    """
    a, b, c = cov[..., 0], cov[..., 1], cov[..., 2]
    det = a * c - b * b
    with np.errstate(divide="ignore", invalid="ignore"):
        p11, p12, p22 = c / det, -b / det, a / det
        m1, m2 = mu[..., 0], mu[..., 1]
        l1, l2 = p11 * m1 + p12 * m2, p12 * m1 + p22 * m2  # P mu
        const = np.log(pi) - _LOG_2PI - 0.5 * np.log(det) - 0.5 * (m1 * l1 + m2 * l2)
        coef = np.stack([const, l1, l2, -0.5 * p11, -p12, -0.5 * p22], axis=-1)  # (S, k, 6)
    s, k = pi.shape
    logp = (coef.reshape(s * k, 6) @ design.T).reshape(s, k, -1)
    top = logp.max(axis=1, keepdims=True)
    e = np.exp(logp - top)
    total = e.sum(axis=1, keepdims=True)
    loglik = (np.log(total[:, 0]) + top[:, 0]) @ w
    e *= w / total
    return loglik, e


def _gmm_m_step(design: np.ndarray, resp: np.ndarray, n: float):
    """Maximum-likelihood weights, means and covariances (S, k, 3) from weighted responsibilities (S, k, m)."""
    s, k, m = resp.shape
    sums = (resp.reshape(s * k, m) @ design).reshape(s, k, 6)
    nk = sums[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        mom = sums[..., 1:] / nk[..., None]
    mean = mom[..., :2]
    cov = np.stack([mom[..., 2] - mean[..., 0] ** 2, mom[..., 3] - mean[..., 0] * mean[..., 1],
                    mom[..., 4] - mean[..., 1] ** 2], axis=-1)
    return nk / n, mean, cov


def _gmm_valid(pi: np.ndarray, cov: np.ndarray) -> np.ndarray:
    det = cov[..., 0] * cov[..., 2] - cov[..., 1] ** 2
    return (np.isfinite(det).all(axis=1) & (pi > 0).all(axis=1) & (cov[..., 0] > 0).all(axis=1)
            & (det > _GMM_MIN_DET).all(axis=1))


def _gmm_em(design, w, theta, cycles: int | None):
    """EM of S mixtures at once, accelerated by SQUAREM (Varadhan & Roland, 2008, scheme S3).

    One cycle: two EM steps theta -> theta1 -> theta2, the extrapolation
    ``theta' = theta - 2 a r + a^2 v`` (``r = theta1 - theta``, ``v = theta2 - 2 theta1 + theta``,
    ``a = -|r| / |v|`` capped at -1) and one EM step from theta'; if theta' is not a valid
    mixture or its log-likelihood is below theta2's, the cycle keeps the plain EM path. Runs
    ``cycles`` cycles or, with ``cycles=None``, until the log-likelihood gained in a cycle
    is below ``_GMM_TOL`` per observation for every mixture. A mixture whose covariance
    becomes singular (determinant below 1e-10 in z units) is frozen with log-likelihood -inf.

    Returns (loglik (S,), theta, converged (S,), EM steps).
    """
    n = float(w.sum())
    limit = _GMM_MAX_CYCLES if cycles is None else cycles
    k = theta[0].shape[1]
    flat = lambda t: np.concatenate([t[0], t[1].reshape(len(t[0]), -1), t[2].reshape(len(t[0]), -1)], axis=1)  # noqa: E731
    unflat = lambda x: (x[:, :k], x[:, k:3 * k].reshape(-1, k, 2), x[:, 3 * k:].reshape(-1, k, 3))  # noqa: E731
    alive = _gmm_valid(theta[0], theta[2])
    loglik, resp = _gmm_e_step(design, w, *theta)
    loglik = np.where(alive, loglik, -np.inf)
    converged = np.zeros(len(loglik), dtype=bool)
    steps = 0
    for _ in range(limit):  # accelerated EM cycles, vectorised over the S mixtures
        th1 = _gmm_m_step(design, resp, n)
        ll1, resp1 = _gmm_e_step(design, w, *th1)
        th2 = _gmm_m_step(design, resp1, n)
        ll2, resp2 = _gmm_e_step(design, w, *th2)
        x0, x1, x2 = flat(theta), flat(th1), flat(th2)
        r, v = x1 - x0, x2 - 2 * x1 + x0
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.minimum(-np.sqrt((r * r).sum(axis=1)) / np.sqrt((v * v).sum(axis=1)), -1.0)
        step = np.where(np.isfinite(step), step, -1.0)
        xp = x0 - 2 * step[:, None] * r + step[:, None] ** 2 * v
        thp = unflat(xp)
        llp, respp = _gmm_e_step(design, w, *thp)
        use = _gmm_valid(thp[0], thp[2]) & np.isfinite(llp) & (llp >= ll2)
        thp = unflat(np.where(use[:, None], xp, x2))
        resp_p = np.where(use[:, None, None], respp, resp2)
        new = _gmm_m_step(design, resp_p, n)  # the stabilising EM step
        ll_new, resp_new = _gmm_e_step(design, w, *new)
        steps += 3
        ok = _gmm_valid(new[0], new[2]) & np.isfinite(ll_new)
        gain = ll_new - loglik
        alive &= ok
        ll_new = np.where(alive, ll_new, -np.inf)
        keep = ~alive | converged
        theta = tuple(np.where(keep.reshape((-1,) + (1,) * (a.ndim - 1)), a_old, a)
                      for a_old, a in zip(theta, new))
        resp = np.where(keep[:, None, None], resp, resp_new)
        converged |= alive & (gain < _GMM_TOL * n)
        loglik = np.where(keep & alive, loglik, ll_new)
        if cycles is None and (converged | ~alive).all():
            break
    return loglik, theta, converged & alive, steps


def _gmm_starts(u: np.ndarray, w: np.ndarray, k: int, seed: int, n_init: int) -> np.ndarray:
    """Hard start partitions (S, m) of the distinct points for k components.

    ``n_init`` k-means++ partitions (weighted k-means, one seed each, derived from
    ``seed`` and k) and, with at most 2000 distinct points, Ward's hierarchical
    clustering cut at k clusters (deterministic; in the spirit of mclust's
    hierarchical initialisation).
    """
    from scipy.cluster.hierarchy import fcluster, ward
    from sklearn.cluster import KMeans

    seeds = np.random.SeedSequence([int(seed), k]).generate_state(n_init)
    labels = []
    for s in seeds:  # loop over starts (each one k-means fit on the distinct points)
        km = KMeans(n_clusters=k, n_init=1, max_iter=_GMM_KMEANS_ITER, random_state=int(s)).fit(u, sample_weight=w)
        labels.append(km.labels_)
    if len(u) <= _GMM_WARD_MAX:
        labels.append(fcluster(ward(u), t=k, criterion="maxclust") - 1)
    return np.array([lab for lab in labels if len(np.unique(lab)) == k])


def _fit_gmm(complete: pd.DataFrame, seed: int, n_init: int, max_components: int):
    """Fit 1..max_components full-covariance mixtures on the standardized scores; pick the lowest BIC.

    The fit is deterministic, so the last result is kept (keyed by the data's bytes and
    the settings): :func:`classify` with ``gmm`` and :func:`gmm_profiles` on the same
    scores share one fit instead of fitting twice.
    """
    key = (hashlib.sha256(np.ascontiguousarray(complete.to_numpy(dtype=float)).tobytes()).hexdigest(),
           int(seed), n_init, max_components)
    if key not in _GMM_LAST:
        _GMM_LAST.clear()
        _GMM_LAST[key] = _fit_gmm_uncached(complete, seed, n_init, max_components)
    return _GMM_LAST[key]


def _fit_gmm_uncached(complete: pd.DataFrame, seed: int, n_init: int, max_components: int):
    import sklearn.cluster  # noqa: F401  load its OpenMP runtime before threadpool_limits, which only
    #                         limits libraries already loaded (else k-means runs threaded and slowly)

    if not (isinstance(max_components, (int, np.integer)) and 1 <= max_components):
        raise ValueError(f"max_components must be a positive integer, got {max_components!r}.")
    values = complete.to_numpy(dtype=float)
    if len(values) < 2:
        raise ValueError("A Gaussian mixture needs at least 2 respondents with both scores.")
    # distinct score pairs (sorted, so nothing depends on row order) and how often each occurs
    points, inverse, counts = np.unique(values, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    w = counts.astype(float)
    n = len(values)
    mean = (w @ points) / n
    sd = np.sqrt((w @ (points - mean) ** 2) / (n - 1))
    if not (sd > 0).all():
        flat = [d for d, s in zip(_DIMS, sd) if not s > 0]
        raise ValueError(f"No variation in {flat}: a Gaussian mixture cannot be fitted.")
    u = (points - mean) / sd
    design = _gmm_design(u)
    log_jac = n * float(np.log(sd).sum())  # log|d z / d x| summed over respondents
    fits, rows = [], []
    with threadpool_limits(limits=1):  # see _classify_kmeans
        for k in range(1, min(max_components, len(u)) + 1):
            if k == 1:
                theta = _gmm_m_step(design, w[None, None, :], n)
                loglik, _ = _gmm_e_step(design, w, *theta)
                converged = _gmm_valid(theta[0], theta[2])
                loglik = np.where(converged, loglik, -np.inf)
            else:
                labels = _gmm_starts(u, w, k, seed, n_init)
                if not len(labels):
                    fits.append(None)
                    rows.append((k, _n_gmm_parameters(k), np.nan, np.nan, False))
                    continue
                resp = (labels[:, None, :] == np.arange(k)[None, :, None]).astype(float) * w
                theta = _gmm_m_step(design, resp, n)
                n_long = max(_GMM_LONG_STARTS, _GMM_LONG_BUDGET // len(u))
                if len(labels) > n_long:  # many distinct points: a short EM picks the starts to continue
                    loglik, theta, _, _ = _gmm_em(design, w, theta, cycles=_GMM_SHORT_CYCLES)
                    keep = np.argsort(-loglik, kind="stable")[:n_long]
                    theta = tuple(t[keep] for t in theta)
                loglik, theta, converged, _ = _gmm_em(design, w, theta, cycles=None)
            j = int(np.argmax(loglik))
            if not np.isfinite(loglik[j]):  # every start ran into a singular covariance
                fits.append(None)
                rows.append((k, _n_gmm_parameters(k), np.nan, np.nan, False))
                continue
            pi, mu, cov = (t[j] for t in theta)
            ll = float(loglik[j]) - log_jac
            p = _n_gmm_parameters(k)
            fits.append((pi, mu, cov))
            rows.append((k, p, ll, -2.0 * ll + p * np.log(n), bool(converged[j])))
    bics = np.array([r[3] for r in rows], dtype=float)
    if not np.isfinite(bics).any():
        raise ValueError("No Gaussian mixture could be fitted: the anxiety and avoidance scores lie on a line "
                         "(every covariance is singular). Use another classification method for these data.")
    best = int(np.nanargmin(bics))
    pi, mu, cov = fits[best]
    k = len(pi)
    # profile order: by style when four, else by (anxiety, avoidance) of the means
    if k == 4:
        codes = match_prototypes(mu)
        order_comp = np.argsort(codes)
        comp_style = np.array(STYLES, dtype=object)[codes]
    else:
        order_comp = np.lexsort((mu[:, 1], mu[:, 0]))
        comp_style = np.empty(k, dtype=object)
        comp_style[order_comp] = [f"profile_{j + 1}" for j in range(k)]
    profile_of_comp = np.empty(k, dtype=int)
    profile_of_comp[order_comp] = np.arange(1, k + 1)
    _, resp = _gmm_e_step(design, np.ones(len(u)), pi[None], mu[None], cov[None])
    post = resp[0].T[inverse]
    comp = post.argmax(axis=1)
    bic = [GmmBic(n_components=r[0], n_parameters=r[1], log_likelihood=r[2], bic=r[3],
                  selected=(i == best), converged=r[4]) for i, r in enumerate(rows)]
    counts_comp = np.bincount(comp, minlength=k)
    raw_means = mu * sd + mean
    profiles = [
        GmmProfile(profile=int(profile_of_comp[c]), n=int(counts_comp[c]),
                   anxiety_mean=float(raw_means[c, 0]), avoidance_mean=float(raw_means[c, 1]),
                   weight=float(pi[c]), style=str(comp_style[c]))
        for c in order_comp
    ]
    return {"style": comp_style[comp], "certainty": post.max(axis=1), "profiles": profiles, "bic": bic}


def gmm_profiles(scores: pd.DataFrame, seed: int = 0, *, n_init: int = 5,
                 max_components: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Latent profile analysis of (anxiety, avoidance) with Gaussian mixtures chosen by BIC.

    Mixtures with 1..``max_components`` components and full (unconstrained)
    covariance matrices -- mclust's model ``VVV`` -- are fitted by maximum
    likelihood on the dimensions standardized with the sample mean and SD
    (ddof = 1). The model with the lowest BIC is kept (ties: fewer components).
    Respondents with a missing score are left out.

    Estimation. Subscale means take few distinct values, so the mixture is
    fitted to the distinct (anxiety, avoidance) pairs weighted by how many
    respondents share them (the same likelihood, fewer points: the demo's 397
    respondents have 388 pairs, 51,000 respondents about 14,000). EM (Dempster,
    Laird & Rubin, 1977) with closed-form M-steps, accelerated by SQUAREM
    (Varadhan & Roland, 2008), runs until one accelerated cycle (three EM steps)
    gains less than 1e-10 in log-likelihood per respondent -- where mclust stops
    at a relative change of 1e-5, i.e. up to 0.7 log-likelihood units short on
    the demo. Starts for k >= 2: ``n_init`` weighted k-means++ partitions (seeds
    derived from ``seed`` and k) and, with at most 2000 distinct pairs, Ward's
    hierarchical clustering (deterministic, in the spirit of mclust's
    hierarchical initialisation); every start is run to convergence (with more
    distinct pairs, a short EM of 30 steps picks the best few), and the highest
    log-likelihood wins. A start whose covariance becomes singular (determinant
    below 1e-10 in z units) is dropped, as mclust returns NA for it; if every
    start of k does, that row has NaN ``log_likelihood`` and ``bic``.
    ``converged`` says whether the winning fit met the tolerance.

    BIC (Schwarz, 1978) in the pipeline's sign: ``bic = -2 log L + p ln n``,
    smaller is better, with p = 6k - 1 free parameters for two dimensions.
    **mclust reports the negative**, ``BIC = 2 log L - p ln n`` (larger is
    better). ``log_likelihood`` and ``bic`` are on the raw score scale (log L of
    the raw scores = log L of the z-scores - n ln(s_anx s_avo), the same shift
    for every k), so they compare directly with ``mclust::Mclust(x, G = 1:6,
    modelNames = "VVV")`` on the raw scores. Agreement
    (``tests/test_psych_defaults.py``): where mclust's optimum is ours (mclust
    continued from its own solution to tol 1e-13), log-likelihoods agree to 1e-8;
    elsewhere ours is higher (mclust's single hierarchical start finds a lower
    local maximum), never lower.

    When BIC chooses four components they are named by matching their
    standardized means one-to-one to the quadrant prototypes
    (:func:`match_prototypes`); otherwise the profiles are *not* attachment
    styles and are called ``profile_1`` .. ``profile_k``, ordered by anxiety
    mean (then avoidance mean). Nothing depends on the row order of ``scores``.

    Parameters
    ----------
    scores : DataFrame with columns ``anxiety`` and ``avoidance``.
    seed : seed of the k-means starts; the same seed gives the same tables.
    n_init : k-means starts per number of components (plus Ward's, with <= 2000 distinct pairs).
    max_components : largest number of components tried (at most n).

    Returns
    -------
    profiles : DataFrame with columns profile (1..k), n (respondents whose most
        probable component it is), anxiety_mean and avoidance_mean (component
        means, raw score scale), weight (mixing proportion) and style.
    bic : DataFrame with columns n_components, n_parameters, log_likelihood,
        bic (-2 log L + p ln n), selected (True for the chosen model) and converged.

    References
    ----------
    Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from
    incomplete data via the EM algorithm. JRSS B, 39, 1-38.
    Varadhan, R., & Roland, C. (2008). Simple and globally convergent methods for
    accelerating the convergence of any EM algorithm. Scand. J. Statist., 35, 335-353.
    Biernacki, C., Celeux, G., & Govaert, G. (2003). Choosing starting values for
    the EM algorithm for getting the highest likelihood in multivariate Gaussian
    mixture models. Comput. Statist. Data Anal., 41, 561-575.
    Scrucca, L., Fop, M., Murphy, T. B., & Raftery, A. E. (2016). mclust 5.
    The R Journal, 8, 289-317.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> s = pd.DataFrame(rng.normal(4, 1, size=(200, 2)), columns=["anxiety", "avoidance"])
    >>> profiles, bic = gmm_profiles(s, seed=1, n_init=1, max_components=3)
    >>> profiles[["profile", "n", "style"]].values.tolist()
    [[1, 200, 'profile_1']]
    >>> bic["selected"].tolist()
    [True, False, False]
    """
    complete, _ = _complete_scores(scores)
    fit = _fit_gmm(complete, seed, n_init, max_components)
    profiles = pd.DataFrame([asdict(p) for p in fit["profiles"]])
    bic = pd.DataFrame([asdict(b) for b in fit["bic"]])
    return profiles, bic


# ---------------------------------------------------------------------------
# Brennan, Clark & Shaver (1998)
# ---------------------------------------------------------------------------

def brennan1998_scores(anxiety, avoidance) -> np.ndarray:
    """Fisher classification-function scores of Brennan, Clark & Shaver (1998).

    For the original ECR, subscale means on its 1-7 scale::

        secure      = 3.2893296 avoidance + 5.4725318 anxiety - 11.5307833
        preoccupied = 3.9246754 avoidance + 9.7102446 anxiety - 28.4573220
        dismissing  = 7.3654621 avoidance + 4.9392039 anxiety - 22.2281088
        fearful     = 7.2371075 avoidance + 8.1776448 anxiety - 32.3553266

    A respondent belongs to the style with the largest score.

    Provenance: the coefficients are those distributed with the ECR scoring
    instructions (Brennan et al., 1998; Fraley's ECR scoring notes). The
    primary source could not be consulted for this code; the numbers were
    checked against several independent public implementations of the ECR
    scoring (JavaScript, Python, MATLAB), which agree to every digit and agree
    that the first coefficient multiplies avoidance (mean of the odd items) and
    the second anxiety (mean of the even items).

    Returns
    -------
    ndarray of shape (n, 4), columns in :data:`STYLES` order.

    >>> brennan1998_scores([2.0], [2.0]).round(4).tolist()
    [[5.9929, -1.1875, 2.3812, -1.5258]]
    """
    anx = np.asarray(anxiety, dtype=float)
    avo = np.asarray(avoidance, dtype=float)
    coef = np.array([BRENNAN1998_FUNCTIONS[s] for s in STYLES])  # (4, 3)
    return avo[:, None] * coef[:, 0] + anx[:, None] * coef[:, 1] + coef[:, 2]


def _softmax(f: np.ndarray) -> np.ndarray:
    e = np.exp(f - f.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check_brennan(instrument, lo, hi):
    name = _instrument_name(instrument)
    if name != "ecr":
        raise ValueError(
            f"Method 'brennan1998' uses the classification functions Brennan, Clark & Shaver (1998) "
            f"estimated for the original ECR on its 1-7 scale; it cannot classify instrument "
            f"{name!r}. Use midpoint, median, zscore, kmeans or gmm for it."
        )
    if (lo, hi) != (1.0, 7.0):
        raise ValueError(
            f"Method 'brennan1998' needs ECR scores on the published 1-7 scale; this cohort uses "
            f"{lo:g}-{hi:g}. Rescaling does not make the published functions valid; use midpoint, "
            f"median, zscore, kmeans or gmm instead."
        )


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------

def classify(scores: pd.DataFrame, method: str, *, scale_min, scale_max, seed: int = 0,
             ties: str = "low", reference: dict | None = None, cut: float = 0.0,
             instrument=None, n_init: int | None = None, max_components: int = 6) -> pd.DataFrame:
    """Classify respondents into the four attachment styles with one method.

    Cut-off methods: a dimension is *high* when its score is above the cut-off
    ``c`` (``ties="low"``: ``x > c``; ``ties="high"``: ``x >= c``) and the style is
    the quadrant (Bartholomew & Horowitz, 1991): ``midpoint`` c = (min + max) / 2;
    ``median`` c = sample median; ``zscore`` c = reference mean + cut x reference SD.
    ``kmeans``: k-means with k = 4 on the standardized dimensions (Brennan,
    Clark & Shaver, 1998), ``n_init`` starts (default 10), ``random_state=seed``,
    clusters named by :func:`match_prototypes`. ``gmm``: see :func:`gmm_profiles`
    (``n_init`` default 5). ``brennan1998``: the largest of
    :func:`brennan1998_scores` (ties go to the earlier style in :data:`STYLES`).
    See the module docstring for the ``certainty`` column. k-means and the
    mixture are fitted on the rows sorted by score, so the result does not depend
    on the row order of ``scores``.

    Parameters
    ----------
    scores : DataFrame with columns ``anxiety`` and ``avoidance``; index = respondent id.
    method : one of :data:`METHODS`.
    scale_min, scale_max : the response scale (scores outside it raise ValueError).
    seed : random_state for ``kmeans`` and ``gmm``.
    ties : ``"low"`` or ``"high"``: the class of a score exactly at a cut-off.
    reference, cut : norms and cut-off (reference SD units) for ``zscore``.
    instrument : instrument name (or Instrument); ``brennan1998`` requires ``"ecr"``.
    n_init : starts for ``kmeans`` (default 10) / ``gmm`` (default 5).
    max_components : largest mixture tried by ``gmm``.

    Returns
    -------
    DataFrame indexed by id (complete cases only, input order) with columns
    ``style`` and ``certainty``.

    Examples
    --------
    >>> s = pd.DataFrame({"anxiety": [2.0, 4.0, 6.0], "avoidance": [4.0, 5.0, 1.0]})
    >>> classify(s, "midpoint", scale_min=1, scale_max=7)["style"].tolist()
    ['secure', 'dismissing', 'preoccupied']
    >>> classify(s, "midpoint", scale_min=1, scale_max=7, ties="high")["style"].tolist()
    ['dismissing', 'fearful', 'preoccupied']
    >>> classify(s, "midpoint", scale_min=1, scale_max=7)["certainty"].round(3).tolist()
    [0.0, 0.0, 1.0]
    >>> classify(s, "brennan1998", scale_min=1, scale_max=7, instrument="ecr")["style"].tolist()
    ['dismissing', 'fearful', 'preoccupied']
    """
    if method not in METHODS:
        raise ValueError(f"Unknown classification method {method!r}; choose one of {', '.join(METHODS)}.")
    _check_ties(ties)
    lo, hi = _check_scale(scale_min, scale_max)
    if method == "brennan1998":
        _check_brennan(instrument, lo, hi)
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise ValueError(f"seed must be an integer, got {seed!r}.") from None
    if n_init is not None and not (isinstance(n_init, (int, np.integer)) and n_init >= 1):
        raise ValueError(f"n_init must be a positive integer, got {n_init!r}.")
    complete, _ = _complete_scores(scores, (lo, hi))
    if method == "zscore":
        _check_reference(reference)
    if not len(complete):
        return pd.DataFrame({"style": pd.Series([], dtype=object), "certainty": pd.Series([], dtype=float)},
                            index=complete.index)
    if method in CUTOFF_METHODS:
        cuts = _cut_points(complete, method, lo, hi, reference, cut)
        codes, certainty = _classify_cutoff(complete, cuts, ties)
        style = np.array(STYLES, dtype=object)[codes]
    elif method == "kmeans":
        codes, certainty = _classify_kmeans(complete, seed, n_init or 10)
        style = np.array(STYLES, dtype=object)[codes]
    elif method == "gmm":
        fit = _fit_gmm(complete, seed, n_init or 5, max_components)
        style, certainty = fit["style"], fit["certainty"]
        k = len(fit["profiles"])
        if k != 4:
            warnings.warn(
                f"gmm: BIC chose {k} profile(s), not four; respondents are labelled "
                f"{'profile_1' if k == 1 else f'profile_1..profile_{k}'}, which are not attachment styles.",
                UserWarning, stacklevel=2,
            )
    else:
        f = brennan1998_scores(complete["anxiety"].to_numpy(), complete["avoidance"].to_numpy())
        post = _softmax(f)
        codes = f.argmax(axis=1)
        style = np.array(STYLES, dtype=object)[codes]
        certainty = post[np.arange(len(codes)), codes]
    return pd.DataFrame({"style": np.asarray(style, dtype=object),
                         "certainty": np.asarray(certainty, dtype=float)}, index=complete.index)


def classify_all(scores: pd.DataFrame, methods, *, instrument, **kw) -> pd.DataFrame:
    """The long classification table: every method in ``methods`` run on ``scores``.

    Parameters
    ----------
    scores : DataFrame with columns ``anxiety`` and ``avoidance``; index = respondent id.
    methods : method names (the primary one first, then ``classification.compare``).
    instrument : the instrument name written to the table (and checked by ``brennan1998``).
    **kw : passed to :func:`classify` (scale_min, scale_max, seed, ties, reference, cut, ...).

    Returns
    -------
    DataFrame with columns id, instrument, method, anxiety, avoidance, style,
    certainty; one row per method and classified respondent (respondents with a
    missing score have no row, see :func:`classification_coverage`), methods in
    the given order, respondents in input order.

    Examples
    --------
    >>> s = pd.DataFrame({"anxiety": [2.0, 5.0, np.nan], "avoidance": [3.0, 6.0, 2.0]},
    ...                  index=pd.Index([11, 12, 13], name="respondent_id"))
    >>> t = classify_all(s, ["midpoint", "median"], instrument="ecr_r", scale_min=1, scale_max=7)
    >>> t[["id", "method", "style"]].values.tolist()
    [[11, 'midpoint', 'secure'], [12, 'midpoint', 'fearful'], [11, 'median', 'secure'], [12, 'median', 'fearful']]
    """
    methods = list(methods)
    if not methods:
        raise ValueError("classify_all needs at least one method.")
    dup = sorted({m for m in methods if methods.count(m) > 1})
    if dup:
        raise ValueError(f"Methods listed more than once: {dup}.")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"Unknown classification method(s) {unknown}; choose from {', '.join(METHODS)}.")
    name = _instrument_name(instrument)
    complete, _ = _complete_scores(scores)
    parts = []
    for m in methods:
        res = classify(scores, m, instrument=name, **kw)
        dims = complete.loc[res.index]
        parts.append(pd.DataFrame({
            "id": res.index.to_numpy(),
            "instrument": name,
            "method": m,
            "anxiety": dims["anxiety"].to_numpy(),
            "avoidance": dims["avoidance"].to_numpy(),
            "style": res["style"].to_numpy(),
            "certainty": res["certainty"].to_numpy(),
        }, columns=_TABLE_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def classification_coverage(scores: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """How many respondents each method classified and how many it skipped.

    ``n_skipped = n_respondents - n_classified``; respondents are skipped when a
    dimension score is missing.

    Returns
    -------
    DataFrame with columns method, n_respondents, n_classified, n_skipped.

    >>> s = pd.DataFrame({"anxiety": [2.0, 5.0, np.nan], "avoidance": [3.0, 6.0, 2.0]})
    >>> t = classify_all(s, ["midpoint"], instrument="ecr_r", scale_min=1, scale_max=7)
    >>> classification_coverage(s, t).values.tolist()
    [['midpoint', 3, 2, 1]]
    """
    if not isinstance(scores, pd.DataFrame):
        raise ValueError(f"scores must be a pandas DataFrame, got {type(scores).__name__}.")
    _check_table(table)
    methods = _methods(table)
    n_class = table.groupby("method", sort=False).size().reindex(methods)
    n = len(scores)
    return pd.DataFrame({"method": methods, "n_respondents": n,
                         "n_classified": n_class.to_numpy().astype(int),
                         "n_skipped": n - n_class.to_numpy().astype(int)})


def _methods(table: pd.DataFrame) -> list[str]:
    """The methods of a classification table in the order they first appear (``pd.unique``: one hash
    pass in C, not a Python loop over the rows)."""
    return [str(m) for m in pd.unique(table["method"])]


def _check_table(table, need=("id", "method", "style")):
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"The classification table must be a DataFrame, got {type(table).__name__}.")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"The classification table lacks column(s) {missing} (see classify_all).")


def _style_order(present) -> list[str]:
    extra = sorted({s for s in present if s not in STYLES},
                   key=lambda s: (len(s), s))  # profile_2 before profile_10
    return list(STYLES) + extra


def style_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Number and percentage of respondents per method and style.

    ``percent = 100 n / N_method`` with ``N_method`` the respondents the method
    classified. All four styles are always listed (zero counts included), in
    :data:`STYLES` order; ``profile_<k>`` labels of a mixture with other than
    four components follow them.

    Returns
    -------
    DataFrame with columns method, style, n, percent.

    >>> t = pd.DataFrame({"id": [1, 2, 3], "method": "midpoint",
    ...                   "style": ["secure", "secure", "fearful"]})
    >>> style_counts(t).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['midpoint', 'secure', 2, 66.66666666666667], ['midpoint', 'preoccupied', 0, 0.0],
     ['midpoint', 'dismissing', 0, 0.0], ['midpoint', 'fearful', 1, 33.333333333333336]]
    """
    _check_table(table)
    methods = _methods(table)
    styles = _style_order(table["style"].unique())
    counts = (table.groupby(["method", "style"], sort=False).size()
              .reindex(pd.MultiIndex.from_product([methods, styles], names=["method", "style"]),
                       fill_value=0))
    out = counts.rename("n").reset_index()
    out["n"] = out["n"].astype(int)
    totals = out.groupby("method", sort=False)["n"].transform("sum")
    out["percent"] = 100.0 * out["n"] / totals
    return out[["method", "style", "n", "percent"]]


def cohen_kappa(a, b) -> KappaResult:
    """Cohen's kappa between two classifications of the same respondents.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o = sum_i p_ii`` and
    ``p_e = sum_i p_i. p_.i`` (Cohen, 1960). Its large-sample standard error is
    that of Fleiss, Cohen & Everitt (1969)::

        var = [ sum_i p_ii (1 - (p_i. + p_.i)(1 - kappa))^2
                + (1 - kappa)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
                - (kappa - p_e (1 - kappa))^2 ] / (n (1 - p_e)^2)

    and the 95% CI is ``kappa +- 1.959964 SE`` (Wald). Pairs with a missing label
    are left out. kappa is NaN when ``p_e = 1`` (both label everyone alike).

    >>> r = cohen_kappa(["s", "s", "f", "f", "s"], ["s", "s", "f", "s", "s"])
    >>> r.n, r.percent_agreement, round(r.kappa, 4), round(r.kappa_se, 4)
    (5, 80.0, 0.5455, 0.3621)
    """
    a = pd.Series(np.asarray(a, dtype=object))
    b = pd.Series(np.asarray(b, dtype=object))
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs two label sequences of equal length; got {len(a)} and {len(b)}.")
    keep = a.notna().to_numpy() & b.notna().to_numpy()
    a, b = a[keep], b[keep]
    n = len(a)
    nan = float("nan")
    if n == 0:
        return KappaResult(0, nan, nan, nan, nan, nan)
    cats = sorted(set(pd.unique(a)) | set(pd.unique(b)), key=str)
    ia = pd.Categorical(a, categories=cats).codes
    ib = pd.Categorical(b, categories=cats).codes
    k = len(cats)
    p = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k) / n
    row, col = p.sum(axis=1), p.sum(axis=0)
    po = float(np.trace(p))
    pe = float(row @ col)
    if np.isclose(pe, 1.0):
        return KappaResult(n, 100.0 * po, nan, nan, nan, nan)
    kappa = (po - pe) / (1.0 - pe)
    term_a = float((np.diag(p) * (1.0 - (row + col) * (1.0 - kappa)) ** 2).sum())
    w = (col[:, None] + row[None, :]) ** 2  # (p_.i + p_j.)^2 at [i, j]
    off = p * w
    term_b = (1.0 - kappa) ** 2 * float(off.sum() - np.trace(off))
    term_c = (kappa - pe * (1.0 - kappa)) ** 2
    var = (term_a + term_b - term_c) / (n * (1.0 - pe) ** 2)
    se = float(np.sqrt(max(var, 0.0)))
    z = float(norm.ppf(0.975))
    return KappaResult(n, 100.0 * po, float(kappa), se, float(kappa - z * se), float(kappa + z * se))


def agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Agreement between every pair of methods in the classification table.

    For each pair (in the order the methods appear), the respondents classified
    by both are compared with :func:`cohen_kappa` (percent agreement, Cohen's
    kappa, its Fleiss-Cohen-Everitt SE and 95% CI). When either method produced
    labels other than the four styles (``profile_<k>`` of a mixture with other
    than four components) the two label sets are not comparable: the row gives
    ``n`` and NaN for the agreement statistics.

    Returns
    -------
    DataFrame with columns method_1, method_2, n, percent_agreement, kappa,
    kappa_se, kappa_ci_low, kappa_ci_high (no rows for a single method).

    >>> t = pd.DataFrame({"id": [1, 2, 3, 1, 2, 3], "method": ["a"] * 3 + ["b"] * 3,
    ...                   "style": ["secure", "fearful", "secure", "secure", "fearful", "fearful"]})
    >>> agreement(t)[["method_1", "method_2", "n", "kappa"]].round(4).values.tolist()
    [['a', 'b', 3, 0.4]]
    """
    _check_table(table)
    if table.duplicated(["method", "id"]).any():
        raise ValueError("The classification table has more than one row for a (method, id) pair.")
    methods = _methods(table)
    wide = table.pivot(index="id", columns="method", values="style")
    rows = []
    styles_only = {m: set(pd.unique(table.loc[table["method"] == m, "style"])) <= set(STYLES) for m in methods}
    nan = float("nan")
    for m1, m2 in combinations(methods, 2):
        a, b = wide[m1].to_numpy(), wide[m2].to_numpy()
        if styles_only[m1] and styles_only[m2]:
            res = cohen_kappa(a, b)
        else:
            n = int((pd.notna(a) & pd.notna(b)).sum())
            res = KappaResult(n, nan, nan, nan, nan, nan)
        rows.append({"method_1": m1, "method_2": m2, **asdict(res)})
    cols = ["method_1", "method_2"] + list(KappaResult.__dataclass_fields__)
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------
# minimiser / maximiser
# ---------------------------------------------------------------------------

def minmax_by_style(classification_table: pd.DataFrame, minmax_type: pd.Series) -> pd.DataFrame:
    """Cross-table of attachment style (per method) by minimiser/maximiser type.

    Each classified respondent is matched by id to its min/max type;
    respondents without a type (NaN, or not in ``minmax_type``) are left out.
    ``percent_of_style = 100 n / n_style`` where ``n_style`` counts the
    respondents of that method and style *with* a type (NaN when 0). All four
    styles (plus any ``profile_<k>``) and all three types are listed.

    Returns
    -------
    DataFrame with columns method, style, minmax_type, n, percent_of_style.

    >>> t = pd.DataFrame({"id": [1, 2, 3], "method": "midpoint",
    ...                   "style": ["dismissing", "dismissing", "preoccupied"]})
    >>> mm = pd.Series(["minimiser", "balanced", "maximiser"], index=[1, 2, 3])
    >>> r = minmax_by_style(t, mm)
    >>> r[r["n"] > 0].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['midpoint', 'preoccupied', 'maximiser', 1, 100.0],
     ['midpoint', 'dismissing', 'minimiser', 1, 50.0],
     ['midpoint', 'dismissing', 'balanced', 1, 50.0]]
    """
    _check_table(classification_table)
    if not isinstance(minmax_type, pd.Series):
        raise ValueError(f"minmax_type must be a pandas Series indexed by respondent id, got "
                         f"{type(minmax_type).__name__}.")
    if not minmax_type.index.is_unique:
        raise ValueError("minmax_type must have unique respondent ids as its index.")
    bad = sorted(set(minmax_type.dropna().unique()) - set(MINMAX_TYPES), key=str)
    if bad:
        raise ValueError(f"Unknown min/max type(s) {bad}; expected {', '.join(MINMAX_TYPES)} or NaN.")
    t = classification_table[["method", "style"]].copy()
    t["minmax_type"] = classification_table["id"].map(minmax_type).to_numpy()
    methods = _methods(t)
    styles = _style_order(t["style"].unique())
    full = pd.MultiIndex.from_product([methods, styles, list(MINMAX_TYPES)],
                                      names=["method", "style", "minmax_type"])
    counts = (t.dropna(subset=["minmax_type"]).groupby(["method", "style", "minmax_type"], sort=False)
              .size().reindex(full, fill_value=0))
    out = counts.rename("n").reset_index()
    out["n"] = out["n"].astype(int)
    totals = out.groupby(["method", "style"], sort=False)["n"].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["percent_of_style"] = np.where(totals > 0, 100.0 * out["n"] / totals.where(totals > 0), np.nan)
    return out[["method", "style", "minmax_type", "n", "percent_of_style"]]
