"""Item response theory: Samejima's graded response model by marginal maximum likelihood.

Fraley, Waller & Brennan (2000) built the ECR-R with the graded response model (GRM);
this module gives a cohort the same view of its own data, one subscale at a time:

* **The model** (Samejima, 1969). Item *j* with categories ``0 .. K_j - 1`` (the answers
  a cohort used, in order) has the boundary curves
  ``P(X_j >= k | theta) = F(a_j * theta + d_jk)``, ``k = 1 .. K_j - 1``, with
  ``d_j1 > d_j2 > ...``; category probabilities are differences of adjacent boundaries.
  ``F`` is the logistic function (``link="logistic"``, as mirt's ``graded`` items) or the
  standard normal cdf (``link="normal"``: the normal-ogive GRM, which is the ordinal
  factor model of lavaan's ``cfa(ordered = TRUE)`` in its theta parameterisation).
  The IRT parameters are the discrimination ``a`` and the thresholds
  ``b_k = -d_k / a`` (the trait level where ``P(X >= k) = .5``).
* **Estimation**: marginal maximum likelihood with ``theta ~ N(0, 1)``, integrated over
  a fixed grid of equally spaced points on ``[-6, 6]`` (61 by default, as mirt), with
  weights proportional to the normal density and summing to one. EM (Bock & Aitkin,
  1981) with Newton M-steps runs first; Newton-Raphson on the marginal log-likelihood
  with its exact Hessian (Louis, 1982) finishes. Standard errors come from that
  observed information (the delta method for ``b``). Respondents who answered some
  items are kept: their likelihood is the product over the items they answered.
  Everything is vectorised over respondents x items x quadrature points; identical
  response patterns are collapsed into one row with a frequency weight. With very many
  distinct patterns, EM runs on a weighted subsample of them and Newton on all.
* **Scores**: EAP (posterior mean and SD) and ML (where finite) per respondent.
* **Information**: item information (Samejima, 1969), test information, the conditional
  standard error ``1 / sqrt(I(theta))`` and marginal reliability.
* **Fit**: M2* (Maydeu-Olivares & Joe, 2006; in the item-score moments form of
  Maydeu-Olivares, 2013, and Cai & Hansen, 2013, which is mirt's ``M2()`` for polytomous
  items and equals M2 for 0/1 items) with RMSEA2 and SRMSR; C2 (Cai & Monroe, 2014)
  where M2* has no degrees of freedom; item fit S-X2 (Orlando & Thissen, 2000; Kang &
  Chen, 2008, for polytomous items).
* **Differential item functioning**: likelihood-ratio tests in two-group models
  (Thissen, Steinberg & Wainer, 1993) with all other items as anchors or a designated
  anchor set, the focal group's latent mean and SD free; a Wald test with a cluster-
  robust (sandwich) covariance when respondents are clustered (partners in couples);
  effect sizes of Meade (2010) and the signed area between expected-score curves (Raju,
  1988; Cohen, Kim & Baker, 1993).

Nothing here reads files or knows about the config: the functions take pandas/numpy
objects and return frozen dataclasses or tidy tables (see :func:`grm_tables`).

Example
-------
>>> rng = np.random.default_rng(1)
>>> a, b = np.array([1.5, 2.0, 1.0]), np.array([[-1.0, 0.5], [-0.5, 1.0], [0.0, 1.5]])
>>> x = simulate_grm(a, b, rng.standard_normal(3000), rng)
>>> fit = fit_grm(pd.DataFrame(x, columns=["i1", "i2", "i3"]))
>>> fit.converged, fit.n, fit.npar
(True, 3000, 9)
>>> np.round(fit.a, 2).tolist()
[1.53, 1.83, 1.04]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats

from .inference import benjamini_hochberg, noncentrality_root

LINKS = ("logistic", "normal")
#: Quadrature: equally spaced points on [-THETA_LIMIT, THETA_LIMIT] (mirt's default grid).
QUADRATURE_POINTS = 61
THETA_LIMIT = 6.0
#: Rows of the response matrix handled at once in the E-step (bounds memory at N x Q / chunk).
_CHUNK = 16384
#: Size of the item-pair co-occurrence block summed in one sparse product of the Louis Hessian (it is
#: updated at random rows, so it should fit in a core's cache).
_PAIR_TABLE_BYTES = 2 ** 19
#: Convergence: EM stops when no parameter moves more than this, Newton when the Newton
#: decrement (the log-likelihood still to gain, g' H^-1 g / 2) is below _NEWTON_TOL.
_EM_TOL = 1e-4
_NEWTON_TOL = 1e-9
#: Above this many distinct response patterns, EM runs on a subsample of them (every k-th, at most this
#: many) and Newton finishes on all (:func:`_maximise_from_subsample`); below it, on all patterns throughout.
SUBSAMPLE_PATTERNS = 50_000
#: An answer given by fewer than this many times k respondents keeps all its patterns in the subsample.
_RARE_ANSWERS = 20
_LOG_2PI_HALF = 0.5 * np.log(2 * np.pi)
#: A slope beyond this (logistic or normal-ogive scale) means one item defines the trait (a
#: Heywood-like solution, typical when the items share no trait): reported, and no DIF is tested.
A_DEGENERATE = 10.0


class IRTError(ValueError):
    """Data the graded response model cannot be fitted to; the message says why and what to do."""


# --------------------------------------------------------------------------- link functions
def _log_cdf(z: np.ndarray, link: str) -> np.ndarray:
    """log F(z), stable in both tails (F logistic or standard normal)."""
    if link == "logistic":
        return -np.logaddexp(0.0, -z)
    return special.log_ndtr(z)


def _log_pdf(z: np.ndarray, link: str) -> np.ndarray:
    """log f(z) = log F'(z); -inf at z = +-inf."""
    if link == "logistic":
        return -np.logaddexp(0.0, -z) - np.logaddexp(0.0, z)
    with np.errstate(invalid="ignore"):
        return -0.5 * z * z - _LOG_2PI_HALF


def _pdf_slope(z: np.ndarray, link: str) -> np.ndarray:
    """f'(z) / f(z): ``1 - 2 F(z)`` (logistic) or ``-z`` (normal)."""
    if link == "logistic":
        return -np.tanh(0.5 * z)
    return -z


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x <= 0, accurate everywhere (Maechler, 2012)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_cdf_difference(z1: np.ndarray, z2: np.ndarray, link: str) -> np.ndarray:
    """log(F(z1) - F(z2)) for z1 >= z2 (either may be infinite), without cancellation.

    Logistic: ``F(z1) - F(z2) = F(z1) F(-z2) (1 - exp(z2 - z1))``. Normal: the difference
    of lower tails when ``z1 <= 0``, of upper tails when ``z2 >= 0``, else ``1 - F(-z1) - F(z2)``.
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if link == "logistic":
            gap = np.where(np.isposinf(z1) | np.isneginf(z2), -np.inf, z2 - z1)
            return _log_cdf(z1, link) + _log_cdf(-z2, link) + _log1mexp(gap)
        lo1, lo2 = special.log_ndtr(z1), special.log_ndtr(z2)
        up1, up2 = special.log_ndtr(-z1), special.log_ndtr(-z2)
        lower = lo1 + _log1mexp(np.minimum(lo2 - lo1, 0.0))
        upper = up2 + _log1mexp(np.minimum(up1 - up2, 0.0))
        middle = np.log1p(-(special.ndtr(-z1) + special.ndtr(z2)))
        return np.where(z1 <= 0, lower, np.where(z2 >= 0, upper, middle))


# --------------------------------------------------------------------------- one item, IRT form
def _boundaries(theta, a, b) -> np.ndarray:
    """``a * (theta - b_k)`` as (n_theta, K - 1) with +inf / -inf columns added at both ends."""
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    b = np.atleast_1d(np.asarray(b, dtype=float))
    z = a * (theta[:, None] - b[None, :])
    inf = np.full((theta.size, 1), np.inf)
    return np.hstack([inf, z, -inf])


def graded_probabilities(theta, a: float, b, link: str = "logistic") -> np.ndarray:
    """Category probabilities of one graded item (Samejima, 1969).

    ``P(X >= k | theta) = F(a (theta - b_k))`` for ``k = 1 .. K - 1`` and
    ``P(X = k) = P(X >= k) - P(X >= k + 1)`` with ``P(X >= 0) = 1``, ``P(X >= K) = 0``;
    ``F`` is the logistic function or, with ``link="normal"``, the standard normal cdf.

    Parameters
    ----------
    theta : trait values (scalar or 1-d).
    a : discrimination.
    b : the K - 1 increasing thresholds.
    link : ``"logistic"`` or ``"normal"``.

    Returns
    -------
    (n_theta, K) array; rows sum to 1.

    >>> p = graded_probabilities([0.0], 1.0, [-1.0, 1.0])
    >>> [round(float(v), 6) for v in p[0]]   # 1 - F(1), F(1) - F(-1), F(-1)
    [0.268941, 0.462117, 0.268941]
    """
    z = _boundaries(theta, a, b)
    return np.exp(_log_cdf_difference(z[:, :-1], z[:, 1:], _check_link(link)))


def expected_item_score(theta, a: float, b, link: str = "logistic") -> np.ndarray:
    """Expected item score ``E(X | theta) = sum_k P(X >= k | theta)`` on the 0 .. K - 1 scale.

    >>> float(expected_item_score([0.0], 1.0, [-1.0, 1.0])[0])
    1.0
    """
    z = _boundaries(theta, a, b)[:, 1:-1]
    return np.exp(_log_cdf(z, _check_link(link))).sum(axis=1)


def item_information(theta, a: float, b, link: str = "logistic") -> np.ndarray:
    """Fisher information of one graded item (Samejima, 1969).

    ``I(theta) = sum_k P_k'(theta)^2 / P_k(theta)`` with
    ``P_k' = a (f(z_k) - f(z_{k+1}))``, ``z_k = a (theta - b_k)`` and ``f = F'``.
    For a 0/1 item with the logistic link this is ``a^2 P (1 - P)`` (Birnbaum, 1968).

    >>> round(float(item_information([0.5], 2.0, [0.5])[0]), 6)   # 2PL at theta = b: a^2 / 4
    1.0
    >>> round(float(item_information([0.0], 1.0, [-1.0, 1.0])[0]), 6)   # 2 f(1)^2 / (1 - F(1))
    0.28747
    """
    link = _check_link(link)
    z = _boundaries(theta, a, b)
    logp = _log_cdf_difference(z[:, :-1], z[:, 1:], link)
    f = np.exp(_log_pdf(z, link))
    slope = a * (f[:, :-1] - f[:, 1:])
    with np.errstate(over="ignore", invalid="ignore"):
        terms = np.where(slope == 0, 0.0, slope ** 2 * np.exp(-logp))
    return terms.sum(axis=1)


def _check_link(link: str) -> str:
    if link not in LINKS:
        raise IRTError(f"link must be one of {', '.join(LINKS)}; got {link!r}.")
    return link


def quadrature_grid(n_points: int = QUADRATURE_POINTS, limit: float = THETA_LIMIT) -> np.ndarray:
    """The fixed quadrature nodes: ``n_points`` equally spaced on ``[-limit, limit]``.

    >>> quadrature_grid(5, 2.0).tolist()
    [-2.0, -1.0, 0.0, 1.0, 2.0]
    """
    if n_points < 5:
        raise IRTError(f"quadrature needs at least 5 points; got {n_points}.")
    return np.linspace(-limit, limit, int(n_points))


def normal_log_weights(nodes: np.ndarray, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    """log prior weights on the grid: ``w_q`` proportional to the N(mean, sd^2) density, summing to 1.

    >>> w = np.exp(normal_log_weights(quadrature_grid()))
    >>> round(float(w.sum()), 12), round(float((w * quadrature_grid() ** 2).sum()), 6)
    (1.0, 1.0)
    """
    t = -0.5 * ((nodes - mean) / sd) ** 2
    return t - special.logsumexp(t)


# --------------------------------------------------------------------------- simulation
def simulate_grm(a, b, theta, rng: np.random.Generator, link: str = "logistic") -> np.ndarray:
    """Responses ``0 .. K - 1`` to graded items with known parameters (for recovery studies).

    Each answer is ``#{k: u < P(X >= k | theta)}`` for one uniform draw ``u`` per cell,
    so that its distribution is exactly :func:`graded_probabilities`.

    Parameters
    ----------
    a : (J,) discriminations.
    b : (J, K - 1) increasing thresholds (rows padded with NaN for items with fewer categories).
    theta : (n,) trait values.
    rng : numpy Generator.

    >>> x = simulate_grm([1.0], [[-50.0, 50.0]], np.zeros(3), np.random.default_rng(0))
    >>> x[:, 0].tolist()
    [1, 1, 1]
    """
    link = _check_link(link)
    a = np.asarray(a, dtype=float)
    b = np.atleast_2d(np.asarray(b, dtype=float))
    theta = np.asarray(theta, dtype=float)
    z = a[None, :, None] * (theta[:, None, None] - b[None, :, :])
    with np.errstate(invalid="ignore"):
        cum = np.exp(_log_cdf(z, link))
    cum = np.where(np.isnan(cum), 0.0, cum)
    u = rng.random((theta.size, a.size))
    return (u[:, :, None] < cum).sum(axis=2).astype(np.int16)


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ResponseData:
    """Item answers prepared for the model: codes ``0 .. K_j - 1`` per item, ``-1`` = not answered.

    ``categories[j]`` lists the answers item *j* received, in order (code ``k`` is
    ``categories[j][k]``): answers nobody gave are not categories of the model (their
    thresholds are not identified). Respondents without any answer and items with fewer
    than two different answers are left out and listed in ``dropped_respondents`` /
    ``dropped_items``.
    """

    items: tuple[str, ...]
    codes: np.ndarray
    categories: tuple[tuple[float, ...], ...]
    index: pd.Index
    dropped_items: tuple[tuple[str, str], ...] = ()
    dropped_respondents: int = 0

    @property
    def n(self) -> int:
        return self.codes.shape[0]

    @property
    def n_categories(self) -> np.ndarray:
        return np.array([len(c) for c in self.categories], dtype=np.int64)

    @property
    def n_answered(self) -> np.ndarray:
        return (self.codes >= 0).sum(axis=1)


def prepare_responses(frame: pd.DataFrame, scale: tuple[int, int] | None = None,
                      source: str = "the item table") -> ResponseData:
    """Check item answers and code each item's observed answers as ``0 .. K_j - 1``.

    Parameters
    ----------
    frame : respondents x items; whole numbers, NaN = not answered; the index names respondents.
    scale : optional ``(min, max)`` of the response scale; answers outside it are refused.
    source : how error messages name the data (e.g. a file name).

    Raises
    ------
    IRTError
        naming the column, respondent and value of an answer that is not a whole number
        (inside the scale), or when fewer than two items remain.

    >>> d = prepare_responses(pd.DataFrame({"i1": [1, 3, None, 3], "i2": [2, 2, None, 5],
    ...                                     "i3": [4, 4, None, 4]}))
    >>> d.codes.tolist(), d.categories, d.dropped_items, d.dropped_respondents
    ([[0, 0], [1, 0], [1, 1]], ((1.0, 3.0), (2.0, 5.0)), (('i3', 'only one answer (4)'),), 1)
    """
    if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0:
        raise IRTError(f"{source}: expected a table of respondents x items.")
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isnan(values) & (~np.isfinite(values) | (values != np.round(values)))
    bad |= frame.isna().to_numpy() != np.isnan(values)  # text that is not a number
    if scale is not None:
        with np.errstate(invalid="ignore"):
            bad |= (values < scale[0]) | (values > scale[1])
    if bad.any():
        r, c = np.argwhere(bad)[0]
        where = f" (allowed: whole numbers {scale[0]}..{scale[1]})" if scale is not None else " (allowed: whole numbers)"
        value = frame.iat[r, c]
        shown = f"{value:g}" if isinstance(value, (int, float, np.number)) else repr(value)
        raise IRTError(f"{source}, respondent {frame.index[r]!s}, column {frame.columns[c]}: "
                       f"{shown} is not a valid answer{where}. "
                       "Fix the value or mark it missing before the IRT step.")
    keep_items, dropped, categories, columns = [], [], [], []
    for j, name in enumerate(frame.columns):
        col = values[:, j]
        ok = ~np.isnan(col)
        given = col[ok]
        tallied = given.size > 0 and given.max() - given.min() < 2 ** 16
        if tallied:  # whole numbers in a short range: tallied instead of sorted
            low = given.min()
            offset = (given - low).astype(np.int64)
            used = np.bincount(offset) > 0
            cats = np.flatnonzero(used) + low
        else:
            cats = np.unique(given)
        if cats.size < 2:
            dropped.append((str(name), "no answers" if cats.size == 0 else f"only one answer ({cats[0]:g})"))
            continue
        keep_items.append(j)
        categories.append(tuple(float(v) for v in cats))
        codes = np.full(col.shape, -1, dtype=np.int16)
        codes[ok] = (np.cumsum(used) - 1)[offset] if tallied else np.searchsorted(cats, given)
        columns.append(codes)
    if len(keep_items) < 2:
        raise IRTError(f"{source}: fewer than two items with at least two different answers "
                       f"({', '.join(f'{n}: {why}' for n, why in dropped) or 'no items'}); no IRT model can be fitted.")
    codes = np.column_stack(columns)
    answered = (codes >= 0).any(axis=1)
    return ResponseData(items=tuple(str(frame.columns[j]) for j in keep_items), codes=codes[answered],
                        categories=tuple(categories), index=frame.index[answered],
                        dropped_items=tuple(dropped), dropped_respondents=int((~answered).sum()))


# --------------------------------------------------------------------------- the engine
def _item_tables(a: np.ndarray, d: np.ndarray, n_cat: np.ndarray, nodes: np.ndarray, link: str,
                 order: int = 0):
    """Category log-probabilities of every item block at every node, with derivatives.

    ``a`` (B,), ``d`` (B, Kmax - 1) slope-intercept parameters (unused intercepts NaN),
    ``n_cat`` (B,). Returns ``logp`` (B, Kmax, Q) (-inf for unused categories) and, for
    ``order >= 1``, the scores ``S`` (B, Kmax, P, Q) = d log P_k / d(a, d_1 .. d_{Kmax-1})
    and for ``order == 2`` the Hessians ``H`` (B, Kmax, P, P, Q), with P = Kmax.

    With ``z_k = a theta + d_k`` and ``g1 = f(z_k) / P_k``, ``g2 = -f(z_{k+1}) / P_k``:
    ``dlogP_k/dz_k = g1``, ``dlogP_k/dz_{k+1} = g2``, second derivatives
    ``h(z_k) g1 - g1^2``, ``h(z_{k+1}) g2 - g2^2`` and ``-g1 g2`` with ``h = f'/f``;
    ``dz_k/da = theta``, ``dz_k/dd_k = 1``.
    """
    n_blocks, kmax = d.shape[0], d.shape[1] + 1
    q = nodes.size
    z = np.empty((n_blocks, kmax + 1, q))
    z[:, 0] = np.inf
    with np.errstate(invalid="ignore"):
        z[:, 1:kmax] = a[:, None, None] * nodes[None, None, :] + d[:, :, None]
    z[:, kmax] = -np.inf
    beyond = np.arange(kmax + 1)[None, :] >= n_cat[:, None]
    beyond[:, 0] = False
    z[beyond] = -np.inf
    valid = (np.arange(kmax)[None, :] < n_cat[:, None])[:, :, None]
    logp = np.where(valid, _log_cdf_difference(z[:, :-1], z[:, 1:], link), -np.inf)
    if order == 0:
        return logp, None, None
    lf = _log_pdf(z, link)
    with np.errstate(invalid="ignore", over="ignore"):
        g1 = np.where(valid, np.exp(lf[:, :-1] - logp), 0.0)
        g2 = np.where(valid, -np.exp(lf[:, 1:] - logp), 0.0)
    th = nodes[None, None, :]
    ext = kmax + 2  # slot 0: a; slot k + 1: boundary k (boundaries 0 and Kmax are constants)
    kk = np.arange(kmax)
    keep = np.r_[0, np.arange(2, kmax + 1)]
    s = np.zeros((n_blocks, kmax, ext, q))
    s[:, :, 0] = th * (g1 + g2)
    s[:, kk, kk + 1] = g1
    s[:, kk, kk + 2] = g2
    if order == 1:
        return logp, s[:, :, keep], None
    with np.errstate(invalid="ignore"):
        h1 = np.where(g1 != 0, _pdf_slope(z[:, :-1], link) * g1, 0.0) - g1 * g1
        h2 = np.where(g2 != 0, _pdf_slope(z[:, 1:], link) * g2, 0.0) - g2 * g2
    h12 = -g1 * g2
    hs = np.zeros((n_blocks, kmax, ext, ext, q))
    hs[:, :, 0, 0] = th * th * (h1 + 2 * h12 + h2)
    hs[:, kk, 0, kk + 1] = hs[:, kk, kk + 1, 0] = th * (h1 + h12)
    hs[:, kk, 0, kk + 2] = hs[:, kk, kk + 2, 0] = th * (h12 + h2)
    hs[:, kk, kk + 1, kk + 1] = h1
    hs[:, kk, kk + 2, kk + 2] = h2
    hs[:, kk, kk + 1, kk + 2] = hs[:, kk, kk + 2, kk + 1] = h12
    return logp, s[:, :, keep], hs[:, :, keep][:, :, :, keep]


def _prior_tables(mean: float, sd: float, nodes: np.ndarray, order: int = 0):
    """log weights of N(mean, sd^2) on the grid (normalised), with derivatives in (mean, sd).

    ``log w_q = t_q - log sum exp(t)``, ``t_q = -(theta_q - mean)^2 / (2 sd^2)``:
    the gradient is ``grad t_q - E_w grad t`` and the Hessian
    ``hess t_q - E_w hess t - Cov_w(grad t)``.
    """
    r = nodes - mean
    t = -0.5 * (r / sd) ** 2
    top = t.max()
    logw = t - (top + np.log(np.exp(t - top).sum()))  # log-sum-exp (numpy: scipy's costs ~0.3 ms a call)
    if order == 0:
        return logw, None, None
    w = np.exp(logw)
    grad_t = np.stack([r / sd ** 2, r * r / sd ** 3])  # (2, Q)
    score = grad_t - (grad_t @ w)[:, None]
    if order == 1:
        return logw, score, None
    u, v = grad_t
    hess_t = np.array([[-np.ones_like(r) / sd ** 2, -2 * u / sd], [-2 * u / sd, -3 * v / sd]])  # (2, 2, Q)
    cov = (score[:, None, :] * score[None, :, :]) @ w
    hess = hess_t - (hess_t @ w)[:, :, None] - cov[:, :, None]
    return logw, score, hess


@dataclass
class _Layout:
    """Which parameter block each (item, group) uses, and where the parameters sit in one vector."""

    block_of: np.ndarray  # (J, G) int
    n_cat: np.ndarray  # (B,) categories per block
    free_groups: tuple  # groups whose latent mean and SD are estimated
    kmax: int = field(init=False)
    offsets: np.ndarray = field(init=False)  # (B,) position of each block's a
    group_offsets: dict = field(init=False)
    n_par: int = field(init=False)

    def __post_init__(self):
        self.kmax = int(self.n_cat.max())
        self.offsets = np.r_[0, np.cumsum(self.n_cat)[:-1]].astype(np.int64)
        pos = int(self.n_cat.sum())
        self.group_offsets = {}
        for g in self.free_groups:
            self.group_offsets[g] = pos
            pos += 2
        self.n_par = pos

    @property
    def n_blocks(self) -> int:
        return self.n_cat.size

    @property
    def n_groups(self) -> int:
        return self.block_of.shape[1]

    def block_index(self) -> np.ndarray:
        """(B, Kmax) position of each block parameter in the vector (-1 = unused)."""
        p = np.arange(self.kmax)[None, :]
        return np.where(p < self.n_cat[:, None], self.offsets[:, None] + p, -1)


def _indicator_matrix(codes: np.ndarray, group: np.ndarray, block_of: np.ndarray, kmax: int, n_cols: int):
    """The sparse 0/1 matrix ``Y`` of :class:`_Engine`: row i has a one in column ``block * kmax + code``
    for every item i answered (``block = block_of[item, group_i]``) and in column
    ``n_cols - n_groups + group_i``.

    Built row by row from the row-major answer mask (no sort); column indices within a row are
    sorted afterwards only when the layout does not already give them in order (two-group
    layouts whose items have a block of their own in group 1).

    >>> _indicator_matrix(np.array([[1, -1], [0, 2]]), np.array([0, 0]), np.array([[0], [1]]), 3, 7).toarray()
    array([[0., 1., 0., 0., 0., 0., 1.],
           [1., 0., 0., 0., 0., 1., 1.]])
    """
    from scipy import sparse

    n, n_items = codes.shape
    n_groups = block_of.shape[1]
    group = np.asarray(group, dtype=np.int64)
    cols = np.empty((n, n_items + 1), dtype=np.int32)
    if n_groups == 1:
        cols[:, :n_items] = (block_of[:, 0] * kmax)[None, :] + codes
    else:
        cols[:, :n_items] = (block_of.T * kmax).astype(np.int32)[group] + codes
    cols[:, n_items] = n_cols - n_groups + group
    keep = np.ones((n, n_items + 1), dtype=bool)
    keep[:, :n_items] = codes >= 0
    indptr = np.r_[0, np.cumsum(keep.sum(axis=1))]
    indices = cols[keep]
    y = sparse.csr_matrix((np.ones(indices.size), indices, indptr), shape=(n, n_cols))
    if not y.has_sorted_indices:
        y.sort_indices()
    return y


def _category_score_table(s: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero columns of the category scores ``s`` (B, Kmax, P, Q) of :func:`_item_tables`, as one
    (Q, B * Kmax * 3) matrix, and the parameter each column belongs to (B, Kmax, 3; -1 = none).

    ``log P_k`` of a block depends only on its slope and its boundaries ``k`` and ``k + 1``, so
    category ``k`` has at most three non-zero scores: ``a`` (parameter 0), ``d_k`` (parameter k,
    for k >= 1) and ``d_{k+1}`` (parameter k + 1, while below the block's number of categories).
    A response pattern's posterior score is then ``post @ table`` gathered at its answers'
    columns: one matrix product for all rows instead of one per (item, category).
    ``idx`` is :meth:`_Layout.block_index`.
    """
    n_blocks, kmax, _, q = s.shape
    kk = np.arange(kmax)
    table = np.zeros((n_blocks, kmax, 3, q))
    target = np.full((n_blocks, kmax, 3), -1, dtype=np.int64)
    table[:, :, 0] = s[:, :, 0]
    target[:, :, 0] = idx[:, :1]
    table[:, 1:, 1] = s[:, kk[1:], kk[1:]]
    target[:, 1:, 1] = idx[:, 1:]
    table[:, :-1, 2] = s[:, kk[:-1], kk[1:]]
    target[:, :-1, 2] = idx[:, 1:]
    return table.reshape(-1, q).T.copy(), target


class _Engine:
    """Marginal likelihood of a (multi-group) graded response model on one quadrature grid.

    Rows are distinct response patterns (with their group) and carry frequency weights.
    Columns of the sparse indicator matrix ``Y`` are (block, category) pairs followed by
    one column per group (the group's latent density acts as one more "item" every member
    of the group answers), so the log-likelihood at every node is ``Y @ T`` for the
    table ``T`` of log-probabilities and log prior weights.
    """

    def __init__(self, codes: np.ndarray, group: np.ndarray, freq: np.ndarray, layout: _Layout,
                 link: str, nodes: np.ndarray):
        self.codes, self.group, self.freq = codes, group, freq.astype(float)
        self.layout, self.link, self.nodes = layout, link, nodes
        kmax = layout.kmax
        self.n_item_cols = layout.n_blocks * kmax
        self.n_cols = self.n_item_cols + layout.n_groups
        self.Y = _indicator_matrix(codes, group, layout.block_of, kmax, self.n_cols)

    # ----------------------------------------------------------------- parameters
    def unpack(self, vec: np.ndarray):
        lay = self.layout
        idx = lay.block_index()
        a = vec[lay.offsets]
        d = np.full((lay.n_blocks, lay.kmax - 1), np.nan)
        used = idx[:, 1:] >= 0
        d[used] = vec[idx[:, 1:][used]]
        mean, sd = np.zeros(lay.n_groups), np.ones(lay.n_groups)
        for g, pos in lay.group_offsets.items():
            mean[g], sd[g] = vec[pos], vec[pos + 1]
        return a, d, mean, sd

    def valid(self, vec: np.ndarray) -> bool:
        if not np.all(np.isfinite(vec)):
            return False
        a, d, mean, sd = self.unpack(vec)
        with np.errstate(invalid="ignore"):
            steps = np.diff(d, axis=1)
        return bool(np.all(~(steps >= 0)) and np.all(sd > 1e-3))

    def table(self, vec: np.ndarray, order: int = 0):
        """The (M, Q) table of log-probabilities and log weights, and derivative pieces."""
        a, d, mean, sd = self.unpack(vec)
        logp, s, h = _item_tables(a, d, self.layout.n_cat, self.nodes, self.link, order)
        priors = [_prior_tables(mean[g], sd[g], self.nodes, order) for g in range(self.layout.n_groups)]
        t = np.vstack([logp.reshape(self.n_item_cols, -1), np.stack([p[0] for p in priors])])
        return t, (s, h, priors)

    # ----------------------------------------------------------------- E-step
    def _posterior(self, t: np.ndarray, start: int, stop: int):
        y = self.Y[start:stop]
        with np.errstate(invalid="ignore"):
            lik = y @ t
        top = lik.max(axis=1, keepdims=True)
        post = np.exp(lik - top)
        total = post.sum(axis=1, keepdims=True)
        post /= total
        return y, post, (top + np.log(total))[:, 0]

    def estep(self, vec: np.ndarray, t: np.ndarray | None = None):
        """Log-likelihood and expected counts ``R`` (M, Q) at ``vec``."""
        if t is None:
            t = self.table(vec)[0]
        loglik, counts = 0.0, np.zeros((self.n_cols, self.nodes.size))
        for start in range(0, self.Y.shape[0], _CHUNK):
            stop = min(start + _CHUNK, self.Y.shape[0])
            y, post, li = self._posterior(t, start, stop)
            f = self.freq[start:stop]
            loglik += float(f @ li)
            counts += y.T @ (post * f[:, None])
        return loglik, counts

    def loglik(self, vec: np.ndarray) -> float:
        if not self.valid(vec):
            return -np.inf
        ll = self.estep(vec)[0]
        return ll if np.isfinite(ll) else -np.inf

    # ----------------------------------------------------------------- M-step
    def mstep(self, vec: np.ndarray, counts: np.ndarray, inner: int = 1) -> np.ndarray:
        """Maximise the expected complete-data log-likelihood block by block (Newton, step halving)."""
        lay = self.layout
        vec = vec.copy()
        r_items = counts[: self.n_item_cols].reshape(lay.n_blocks, lay.kmax, -1)
        idx = lay.block_index()
        used = idx >= 0

        def objective(a, d):
            logp = _item_tables(a, d, lay.n_cat, self.nodes, self.link)[0]
            with np.errstate(invalid="ignore"):
                val = np.where(r_items > 0, r_items * logp, 0.0).sum(axis=(1, 2))
            ok = ~(np.diff(d, axis=1) >= 0).any(axis=1) & np.isfinite(val)
            return np.where(ok, val, -np.inf)

        a, d, _, _ = self.unpack(vec)
        params = np.where(used, 0.0, np.nan)
        params[:, 0] = a
        params[:, 1:] = d
        current = objective(a, d)
        for _ in range(inner):
            _, s, h = _item_tables(params[:, 0], params[:, 1:], lay.n_cat, self.nodes, self.link, order=2)
            grad = np.einsum("bkpq,bkq->bp", s, r_items)
            hess = np.einsum("bkprq,bkq->bpr", h, r_items)
            grad[~used] = 0.0
            eye = np.eye(lay.kmax)[None] * (~used)[:, :, None]
            hess = np.where(used[:, :, None] & used[:, None, :], hess, 0.0) - eye
            try:
                step = -np.linalg.solve(hess, grad[..., None])[..., 0]
            except np.linalg.LinAlgError:
                break
            scale = np.ones(lay.n_blocks)
            for _halving in range(30):
                trial = params + scale[:, None] * step
                value = objective(trial[:, 0], trial[:, 1:])
                better = value >= current - 1e-12 * np.abs(current)
                if better.all():
                    break
                scale = np.where(better, scale, scale / 2)
            better = value >= current - 1e-12 * np.abs(current)
            params = np.where(better[:, None], trial, params)
            current = np.where(better, value, current)
            if np.nanmax(np.abs(scale[:, None] * step)) < 1e-8:
                break
        vec[idx[used]] = params[used]
        for g, pos in lay.group_offsets.items():
            vec[pos:pos + 2] = self._mstep_prior(vec[pos], vec[pos + 1], counts[self.n_item_cols + g])
        return vec

    def _mstep_prior(self, mean: float, sd: float, r: np.ndarray) -> tuple[float, float]:
        """Latent mean and SD of a group: Newton on sum_q r_q log w_q(mean, sd), from the moments."""
        total = r.sum()
        m = float(r @ self.nodes / total)
        s = float(np.sqrt(max(r @ (self.nodes - m) ** 2 / total, 1e-4)))
        par = np.array([m, s])

        def value(p):
            return -np.inf if p[1] <= 1e-3 else float(r @ _prior_tables(p[0], p[1], self.nodes)[0])

        current = value(par)
        for _ in range(20):
            _, score, hess = _prior_tables(par[0], par[1], self.nodes, order=2)
            g, h = score @ r, hess @ r
            try:
                step = -np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                break
            t = 1.0
            while t > 1e-8 and value(par + t * step) < current - 1e-12 * abs(current):
                t /= 2
            par = par + t * step
            current = value(par)
            if np.max(np.abs(t * step)) < 1e-10:
                break
        return float(par[0]), float(par[1])

    # ----------------------------------------------------------------- exact derivatives
    def gradient(self, vec: np.ndarray) -> tuple[float, np.ndarray]:
        """Log-likelihood and gradient, from the expected counts (Fisher's identity: the
        gradient of the marginal log-likelihood is the posterior expectation of the complete-data score)."""
        lay = self.layout
        t, (s, _, priors) = self.table(vec, order=1)
        loglik, counts = self.estep(vec, t)
        r_items = counts[: self.n_item_cols].reshape(lay.n_blocks, lay.kmax, -1)
        per_block = np.einsum("bkpq,bkq->bp", s, r_items)
        idx = lay.block_index()
        grad = np.zeros(lay.n_par)
        grad[idx[idx >= 0]] = per_block[idx >= 0]
        for g, pos in lay.group_offsets.items():
            grad[pos:pos + 2] = priors[g][1] @ counts[self.n_item_cols + g]
        return loglik, grad

    def derivatives(self, vec: np.ndarray, per_row: bool = False):
        """Log-likelihood, gradient and exact Hessian (Louis, 1982) of the marginal log-likelihood.

        ``H = sum_i E_post[d2 log f_i] + sum_i Cov_post(d log f_i)``. The first term comes from
        the expected counts; the second is ``sum_q G_q' C_q G_q - U' diag(freq) U`` with ``G_q``
        the derivatives of the table rows at node q, ``C_q`` the expected co-occurrence of
        table rows at node q (for item pairs: their joint answer codes, all pairs in one
        sparse product) and ``U`` the per-row posterior scores. With ``per_row`` the
        (n_rows, P) matrix ``U`` is returned too.
        """
        from scipy import sparse

        lay = self.layout
        t, (s, h, priors) = self.table(vec, order=2)
        n_par, q, kmax = lay.n_par, self.nodes.size, lay.kmax
        n_blocks, n_groups, n_items = lay.n_blocks, lay.n_groups, self.codes.shape[1]
        idx = lay.block_index()
        jj, ll = np.triu_indices(n_items, 1)
        width = kmax + 1  # answer codes shifted by one: code 0 of the pair keys = not answered
        cell = n_groups * width * width
        score_table, score_target = _category_score_table(s, idx)
        loglik, grad = 0.0, np.zeros(n_par)
        counts = np.zeros((self.n_cols, q))
        joint = np.zeros((jj.size * cell, q))  # (item pair, group, code + 1, code + 1) x node
        co_prior = np.zeros((n_groups, n_blocks, kmax, q))
        outer = np.zeros((n_par, n_par))
        u_all = np.zeros((self.Y.shape[0], n_par)) if per_row else None
        block_of = lay.block_of.T.astype(np.int64)  # (G, J)
        # a slice of item pairs whose co-occurrence table (pairs x cells x nodes) stays in a core's cache
        pair_slice = max(1, min(jj.size, _PAIR_TABLE_BYTES // (cell * q * 8)))
        key_type = np.int32 if pair_slice * cell < 2 ** 31 and _CHUNK * pair_slice < 2 ** 31 else np.int64
        pair_offset = (np.arange(pair_slice) * cell).astype(key_type)[None, :]
        pair_pointer = np.arange(_CHUNK + 1, dtype=key_type)
        ones = np.ones(_CHUNK * pair_slice)
        for start in range(0, self.Y.shape[0], _CHUNK):
            stop = min(start + _CHUNK, self.Y.shape[0])
            y, post, li = self._posterior(t, start, stop)
            f = self.freq[start:stop]
            codes, grp = self.codes[start:stop], self.group[start:stop]
            loglik += float(f @ li)
            wpost = post * f[:, None]
            part = y.T @ wpost
            counts += part
            for g in range(n_groups):
                if n_groups > 1:
                    rows = np.nonzero(grp == g)[0]
                    part = y[rows].T @ wpost[rows]
                co_prior[g] += part[: self.n_item_cols].reshape(n_blocks, kmax, q)
            if jj.size:  # item pairs a slice at a time: one column per row, one entry per item pair
                shifted = codes.astype(key_type) + 1
                first = (grp.astype(key_type)[:, None] * width + shifted) * width
                for lo in range(0, jj.size, pair_slice):
                    hi = min(lo + pair_slice, jj.size)
                    key = first[:, jj[lo:hi]] + shifted[:, ll[lo:hi]] + pair_offset[:, : hi - lo]
                    pairs = sparse.csc_matrix((ones[: key.size], key.ravel(), pair_pointer[: key.shape[0] + 1] * (hi - lo)),
                                              shape=((hi - lo) * cell, key.shape[0]))
                    joint[lo * cell:hi * cell] += pairs @ wpost
            # posterior scores: one product with the category score table, gathered at each row's answers and
            # written to the parameters they belong to (unanswered items and unused slots go to a spare column)
            answered = codes >= 0
            blocks = block_of[grp[:, None], np.arange(n_items)[None, :]]
            cells = np.where(answered, blocks * kmax + codes, 0)[:, :, None] * 3 + np.arange(3)
            values = np.take_along_axis(post @ score_table, cells.reshape(cells.shape[0], -1), axis=1)
            target = np.where(answered[:, :, None], score_target.ravel()[cells], -1)
            target[target < 0] = n_par
            target += (np.arange(stop - start) * (n_par + 1))[:, None, None]
            wide = np.zeros((stop - start, n_par + 1))
            wide.reshape(-1)[target.ravel()] = values.ravel()
            u = wide[:, :n_par]
            for g, pos in lay.group_offsets.items():
                u[:, pos:pos + 2] += (post @ priors[g][1].T) * (grp == g)[:, None]
            grad += u.T @ f
            root = u * np.sqrt(f)[:, None]
            outer += root.T @ root
            if per_row:
                u_all[start:stop] = u
        co_items = np.zeros((n_blocks, n_blocks, kmax, kmax, q))  # (block, block, category, category, node)
        if jj.size:
            joint = joint.reshape(jj.size, n_groups, width, width, q)[:, :, 1:, 1:]
            for g in range(n_groups):  # within a group the items have distinct blocks: no repeated (bj, bl) pair
                bj, bl = lay.block_of[jj, g], lay.block_of[ll, g]
                co_items[bj, bl] += joint[:, g]
                co_items[bl, bj] += joint[:, g].transpose(0, 2, 1, 3)
        r_items = counts[: self.n_item_cols].reshape(n_blocks, kmax, q)
        b_all, k_all = np.meshgrid(np.arange(n_blocks), np.arange(kmax), indexing="ij")
        co_items[b_all, b_all, k_all, k_all] += r_items  # an answer co-occurs with itself
        # Hessian in the padded (block, parameter) layout, then mapped to the vector
        blocks_h = np.einsum("bkprq,bkq->bpr", h, r_items)
        # cross[b,p,c,r] = sum_{k,m,q} s[b,k,p,q] co[b,c,k,m,q] s[c,m,r,q]
        cross = np.einsum("bkpq,bckrq->bpcr", s, np.einsum("bckmq,cmrq->bckrq", co_items, s))
        used = idx >= 0
        hess = np.zeros((n_par, n_par))
        iu = idx[used]
        hess[np.ix_(iu, iu)] = cross[used][:, used]
        for b in range(n_blocks):
            k = lay.n_cat[b]
            hess[np.ix_(idx[b, :k], idx[b, :k])] += blocks_h[b, :k, :k]
        for g, pos in lay.group_offsets.items():
            score_g, hess_g = priors[g][1], priors[g][2]
            mass = counts[self.n_item_cols + g]
            hess[pos:pos + 2, pos:pos + 2] += hess_g @ mass + (score_g * mass) @ score_g.T
            with_items = np.einsum("xq,cmq,cmrq->xcr", score_g, co_prior[g], s, optimize=True)
            hess[pos:pos + 2, iu] += with_items[:, used]
            hess[iu, pos:pos + 2] += with_items[:, used].T
        hess -= outer
        hess = 0.5 * (hess + hess.T)
        return loglik, grad, hess, u_all


def _collapse_patterns(codes: np.ndarray, group: np.ndarray):
    """Distinct (pattern, group) rows, the row of each respondent and the frequencies.

    The rows come in the order of ``np.unique(axis=0)`` of ``(group, codes)``, which does not depend
    on the order of the respondents.
    """
    group = np.asarray(group, dtype=np.int64)
    columns = [group] + [codes[:, j] for j in range(codes.shape[1])]
    if codes.shape[0]:
        low = [int(c.min()) for c in columns]
        bits = [int(np.ceil(np.log2(int(c.max()) - lo + 1.0))) for c, lo in zip(columns, low)]
    if codes.shape[0] and sum(bits) < 64:
        # each row as one unsigned integer, the first column in the highest bits: integers order as the
        # rows do lexicographically (as np.unique(axis=0)), and sort much faster than byte strings
        packed = np.zeros(codes.shape[0], dtype=np.uint64)
        for col, lo, width in zip(columns, low, bits):
            packed <<= np.uint64(width)
            packed |= (col.astype(np.int64) - lo).astype(np.uint64)
    else:
        # rows as single byte strings, big-endian and shifted to be non-negative, so that comparing the bytes
        # orders the rows as np.unique(axis=0) does, in a fraction of its time
        key = np.column_stack([group, codes.astype(np.int64)])
        shifted = (key - key.min(axis=0) if key.size else key).astype(">u4")
        packed = np.ascontiguousarray(shifted).view(np.dtype((np.void, 4 * key.shape[1]))).ravel()
    _, first, inverse, counts = np.unique(packed, return_index=True, return_inverse=True, return_counts=True)
    return codes[first], group[first], counts, inverse.ravel()


def _start_values(codes: np.ndarray, n_cat: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray]:
    """Slopes from item-rest correlations, intercepts from the cumulative answer proportions.

    Normal-ogive approximations (``a = r / sqrt(1 - r^2)``, ``d_k = Phi^-1(P(X >= k)) sqrt(1 + a^2)``),
    times 1.702 for the logistic link; only a start, EM and Newton do the rest.
    """
    x = np.where(codes >= 0, codes.astype(float), np.nan)
    scaled = x / (n_cat - 1)[None, :]
    total, count = np.nansum(scaled, axis=1), (~np.isnan(x)).sum(axis=1)
    n_items = codes.shape[1]
    a = np.empty(n_items)
    d = np.full((n_items, n_cat.max() - 1), np.nan)
    for j in range(n_items):
        ok = ~np.isnan(x[:, j]) & (count > 1)
        rest = (total[ok] - scaled[ok, j]) / (count[ok] - 1)
        r = np.corrcoef(x[ok, j], rest)[0, 1] if ok.sum() > 2 and rest.std() > 0 and x[ok, j].std() > 0 else 0.5
        r = float(np.clip(np.nan_to_num(r, nan=0.5), -0.9, 0.9))
        a[j] = r / np.sqrt(1 - r * r)
        answered = x[~np.isnan(x[:, j]), j]
        k = np.arange(1, n_cat[j])
        p = np.clip((answered[:, None] >= k[None, :]).mean(axis=0), 1e-3, 1 - 1e-3)
        d[j, : k.size] = special.ndtri(p) * np.sqrt(1 + a[j] ** 2)
    if link == "logistic":
        a, d = 1.702 * a, 1.702 * d
    return a, d


def _pack(layout: _Layout, a: np.ndarray, d: np.ndarray, mean=None, sd=None) -> np.ndarray:
    vec = np.zeros(layout.n_par)
    idx = layout.block_index()
    vec[layout.offsets] = a
    used = idx[:, 1:] >= 0
    vec[idx[:, 1:][used]] = d[used]
    for g, pos in layout.group_offsets.items():
        vec[pos] = 0.0 if mean is None else mean[g]
        vec[pos + 1] = 1.0 if sd is None else sd[g]
    return vec


@dataclass(frozen=True)
class _Solution:
    vec: np.ndarray
    loglik: float
    grad: np.ndarray
    hess: np.ndarray
    iterations: int
    converged: bool
    per_row: np.ndarray | None = None


def _one_blas_thread():
    """BLAS on one thread: the matrices here are small, and on a busy machine OpenBLAS threads
    make a (61, 127, 127) batched product fifty times slower."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _squarem(engine: _Engine, vec: np.ndarray, max_steps: int, tol: float) -> tuple[np.ndarray, int]:
    """EM accelerated by squared extrapolation (SQUAREM, scheme S3; Varadhan & Roland, 2008).

    Each cycle takes two EM steps ``x1 = F(x0)``, ``x2 = F(x1)``, extrapolates
    ``x' = x0 - 2 s r + s^2 v`` (``r = x1 - x0``, ``v = x2 - 2 x1 + x0``,
    ``s = -|r| / |v| <= -1``) and takes one more EM step from ``x'``; when ``x'`` is not
    a valid parameter vector or lowers the log-likelihood below that at ``x0``, ``x2`` is used
    (plain EM). Stops when an EM step moves no parameter more than ``tol``.
    Returns the vector and the number of EM steps taken.
    """
    steps = 0
    while steps < max_steps:
        ll0, counts = engine.estep(vec)
        x1 = engine.mstep(vec, counts)
        x2 = engine.mstep(x1, engine.estep(x1)[1])
        steps += 2
        if np.max(np.abs(x2 - x1)) < tol:
            return x2, steps
        r, v = x1 - vec, x2 - 2 * x1 + vec
        norm_v = np.sqrt(v @ v)
        alpha = min(-np.sqrt(r @ r) / norm_v, -1.0) if norm_v > 0 else -1.0
        trial = vec - 2 * alpha * r + alpha * alpha * v
        if alpha < -1.0 and engine.valid(trial):
            ll_trial, counts = engine.estep(trial)
            if not ll_trial >= ll0:
                trial, counts = x2, engine.estep(x2)[1]
        else:
            trial, counts = x2, engine.estep(x2)[1]
        vec = engine.mstep(trial, counts)
        steps += 1
    return vec, steps


def _ascent_factor(information: np.ndarray):
    """Cholesky factor of the observed information, or of ``information + shift I`` when it is not
    positive definite (Levenberg-Marquardt damping: the step then still climbs, but is shorter in
    directions of negative or no curvature). Returns the factor and whether it was shifted."""
    try:
        return linalg.cho_factor(information), False
    except linalg.LinAlgError:
        eig = linalg.eigvalsh(information)
        shift = max(0.0, -float(eig.min())) + max(1e-6, 1e-3 * float(np.abs(eig).max()))
        return linalg.cho_factor(information + shift * np.eye(information.shape[0])), True


def _value_and_gradient(engine: _Engine, vec: np.ndarray) -> tuple[float, np.ndarray | None]:
    """Log-likelihood and gradient at ``vec`` (one E-step); ``(-inf, None)`` where ``vec`` is not a valid
    parameter vector or the likelihood is not finite (the same value as :meth:`_Engine.loglik`)."""
    if not engine.valid(vec):
        return -np.inf, None
    ll, grad = engine.gradient(vec)
    return (ll, grad) if np.isfinite(ll) else (-np.inf, None)


def _maximise(engine: _Engine, vec: np.ndarray, max_em: int = 100, max_newton: int = 50,
              per_row: bool = False, em_tol: float = _EM_TOL, warm: bool = False,
              final_hessian: bool = True, metric: np.ndarray | None = None,
              final_gradient: bool = False) -> _Solution:
    """EM to a loose tolerance, then Newton-Raphson with the exact Hessian to the Newton decrement.

    Convergence is judged by quantities rounding cannot fake: the largest EM parameter change,
    then the Newton decrement ``g' (-H)^-1 g / 2`` (the log-likelihood still to gain), not by
    differences of log-likelihoods. A Hessian is reused for further steps (each then costs one
    E-step) while the decrement falls at least fourfold per step, and recomputed otherwise; where
    it is not negative definite (far from the maximum, or flat likelihoods such as items that
    measure nothing), the step is damped (:func:`_ascent_factor`) and the fit only counts as
    converged once the exact Hessian is negative definite. The line search's E-step at an accepted
    point also gives the gradient there, which the next step uses.
    With ``final_hessian`` the returned Hessian (and ``per_row`` scores) belong to the final
    point or to the point before a last step with decrement below the tolerance.
    ``warm``: the start is a nearby solution (a related model), so Newton starts at once.
    ``metric``: an approximation of the Hessian (e.g. from a subsample) used for the first steps
    as a reused Hessian would be; once its decrement is below the tolerance, the exact Hessian
    is computed and the decrement judged again with it, so convergence never rests on it.
    ``final_gradient``: the returned gradient is the one at the returned point (from the last
    E-step, which gives the log-likelihood there anyway).
    """
    vec, iterations = (vec, 0) if warm else _squarem(engine, vec, max_em, em_tol)
    converged, chol, hess, rows, fresh, shifted = False, None, None, None, False, False
    exact = True  # chol is the factor of an exact Hessian (at this point or an earlier one)
    if metric is not None:
        chol, shifted = _ascent_factor(-metric)
        exact = False
    previous = np.inf
    grad = np.zeros_like(vec)
    known = None  # (log-likelihood, gradient) at vec from the line search
    for _ in range(max_newton):
        if chol is None:
            ll, grad, hess, rows = engine.derivatives(vec, per_row=per_row)
            fresh, previous, exact = True, np.inf, True
            chol, shifted = _ascent_factor(-hess)
        elif known is not None:
            ll, grad = known
        else:
            ll, grad = engine.gradient(vec)
        known = None
        iterations += 1
        step = linalg.cho_solve(chol, grad)
        decrement = 0.5 * float(grad @ step)
        if decrement < _NEWTON_TOL:
            if not exact:
                chol = None  # small in the borrowed metric: judged again with the exact Hessian
                continue
            if not shifted:
                vec = vec + step
                converged = True
            break  # with an indefinite Hessian: a saddle or a flat ridge, not a maximum
        if not fresh and decrement > 0.25 * previous:
            chol = None  # the reused Hessian no longer gives fast progress
            continue
        previous = decrement
        t = 1.0
        while t > 1e-6:
            trial = vec + t * step
            known = _value_and_gradient(engine, trial)
            if known[0] >= ll:
                break
            t /= 2
        if t <= 1e-6:
            break
        if t < 1.0:
            chol = None
        vec, fresh = trial, False
    if final_hessian and converged and not fresh:
        _, grad, hess, rows = engine.derivatives(vec, per_row=per_row)
    if final_gradient:
        loglik, last = _value_and_gradient(engine, vec)
        grad = grad if last is None else last
    else:
        loglik = engine.loglik(vec)
    return _Solution(vec=vec, loglik=loglik, grad=grad, hess=hess, iterations=iterations,
                     converged=bool(converged and np.isfinite(loglik)), per_row=rows)


def _subsample_patterns(codes: np.ndarray, freq: np.ndarray, limit: int, rare: int = _RARE_ANSWERS):
    """A deterministic subsample of the distinct response patterns, with weights that make its
    log-likelihood an estimate of the whole data's (Horvitz-Thompson).

    The respondents, in the sorted order of the patterns (:func:`_collapse_patterns`, which does not
    depend on the order of the respondents), are sampled systematically: every k-th, ``k = N // limit + 1``
    for N respondents, from the first. A pattern given by ``freq >= k`` respondents is then always in
    (weight ``freq``); a rarer pattern is in when one of its respondents is sampled (probability
    ``freq / k``; weight ``k``). Every pattern with an answer that fewer than ``rare * k`` respondents
    gave is in as well (weight ``freq``), so that every category keeps enough answers for its thresholds.
    Returns the rows, their weights and k.

    >>> codes, freq = np.array([[0], [1], [1], [2], [2]]), np.array([1, 3, 1, 4, 1])
    >>> rows, w, k = _subsample_patterns(codes, freq, 4, rare=0)   # k = 10 // 4 + 1
    >>> k, rows.tolist(), w.tolist()   # respondents 0, 3, 6, 9 sampled; patterns 1 and 3 have freq >= k
    (3, [0, 1, 3, 4], [3.0, 3.0, 4.0, 3.0])
    >>> _subsample_patterns(codes, freq, 4, rare=1)[1].tolist()   # answer 0: 1 respondent < 1 * k
    [1.0, 3.0, 4.0, 3.0]
    """
    total = int(freq.sum())
    k = total // limit + 1
    answered = codes >= 0
    weight = freq.astype(float)
    end = np.cumsum(freq)
    hit = (end - 1) // k > (end - freq - 1) // k  # a multiple of k in [end - freq, end)
    certain = freq >= k
    for j in range(codes.shape[1]):
        col = np.where(answered[:, j], codes[:, j], 0).astype(np.int64)
        count = np.bincount(col, weights=np.where(answered[:, j], weight, 0.0))
        certain |= answered[:, j] & (count[col] < rare * k)
    rows = np.flatnonzero(hit | certain)
    return rows, np.where(certain[rows], weight[rows], float(k)), k


def _maximise_from_subsample(engine: _Engine, rows: np.ndarray, weights: np.ndarray, start: np.ndarray,
                             max_em: int = 100) -> _Solution:
    """The maximum of a large data set, started on a subsample of its patterns.

    EM (SQUAREM) runs on the subsample (:func:`_subsample_patterns`), whose exact Hessian there
    approximates the whole data's; Newton then runs on all patterns, its first steps with that
    Hessian as the metric (each step one E-step on all patterns), and convergence is judged with
    the exact Hessian of all patterns (:func:`_maximise` with ``metric``). The result is the same
    maximum as from the full path, to the convergence tolerance.
    """
    sub = _Engine(engine.codes[rows], engine.group[rows], weights, engine.layout, engine.link, engine.nodes)
    vec, steps = _squarem(sub, start, max_em, _EM_TOL)
    metric = sub.derivatives(vec)[2]
    sol = _maximise(engine, vec, warm=True, metric=metric, final_gradient=True)
    return _Solution(vec=sol.vec, loglik=sol.loglik, grad=sol.grad, hess=sol.hess, iterations=steps + sol.iterations,
                     converged=sol.converged, per_row=sol.per_row)


# --------------------------------------------------------------------------- single-group fit
@dataclass(frozen=True)
class GRMFit:
    """A graded response model fitted to one subscale.

    ``a`` (J,) and ``d`` (J, Kmax - 1) are the slope-intercept parameters (``d`` padded with
    NaN for items with fewer categories); ``b = -d / a`` the thresholds. ``cov`` is the
    inverse observed information of the parameter vector ``(a_1, d_11, .., a_2, d_21, ..)``.
    ``n`` counts respondents with at least one answer; ``npar`` free parameters.
    ``patterns``: the distinct response patterns of ``data`` and the pattern of each respondent
    (from :func:`_collapse_patterns`; kept by :func:`fit_grm` so that :func:`score_grm` need not
    find them again).
    """

    items: tuple[str, ...]
    categories: tuple[tuple[float, ...], ...]
    link: str
    nodes: np.ndarray = field(repr=False)
    a: np.ndarray = field(repr=False)
    d: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    loglik: float
    n: int
    npar: int
    converged: bool
    iterations: int
    max_gradient: float
    data: ResponseData = field(repr=False)
    patterns: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def n_categories(self) -> np.ndarray:
        return np.array([len(c) for c in self.categories], dtype=np.int64)

    @property
    def b(self) -> np.ndarray:
        return -self.d / self.a[:, None]

    @property
    def aic(self) -> float:
        return -2 * self.loglik + 2 * self.npar

    @property
    def bic(self) -> float:
        return -2 * self.loglik + self.npar * np.log(self.n)

    def _positions(self) -> np.ndarray:
        k = self.n_categories
        offsets = np.r_[0, np.cumsum(k)[:-1]]
        p = np.arange(k.max())[None, :]
        return np.where(p < k[:, None], offsets[:, None] + p, -1)

    @property
    def se_a(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov)[self._positions()[:, 0]])

    @property
    def se_d(self) -> np.ndarray:
        pos = self._positions()[:, 1:]
        out = np.full(pos.shape, np.nan)
        out[pos >= 0] = np.sqrt(np.diag(self.cov)[pos[pos >= 0]])
        return out

    @property
    def se_b(self) -> np.ndarray:
        """Delta method: ``var(b) = (d/a^2)^2 var(a) + var(d)/a^2 - 2 (d/a^3) cov(a, d)``."""
        pos = self._positions()
        out = np.full(self.d.shape, np.nan)
        for j in range(len(self.items)):
            for k in range(self.n_categories[j] - 1):
                ia, idk = pos[j, 0], pos[j, k + 1]
                a, d = self.a[j], self.d[j, k]
                grad = np.array([d / a ** 2, -1 / a])
                sub = self.cov[np.ix_([ia, idk], [ia, idk])]
                out[j, k] = np.sqrt(grad @ sub @ grad)
        return out

    def item_parameters(self, j: int) -> tuple[float, np.ndarray]:
        """``(a, b)`` of item ``j`` (its own K_j - 1 thresholds)."""
        k = self.n_categories[j] - 1
        return float(self.a[j]), self.b[j, :k]


def fit_grm(responses, link: str = "logistic", quadrature_points: int = QUADRATURE_POINTS,
            scale: tuple[int, int] | None = None) -> GRMFit:
    """Fit the graded response model to one subscale by marginal maximum likelihood.

    ``log L = sum_i log sum_q w_q prod_{j answered by i} P_j(x_ij | theta_q)`` with the
    N(0, 1) weights ``w_q`` on :func:`quadrature_grid` (Bock & Aitkin, 1981). Maximised by
    EM, then Newton-Raphson with the exact observed information (Louis, 1982), which also
    gives the standard errors. Respondents with some answers count with the items they
    answered; answers nobody gave are not categories (see :class:`ResponseData`).
    With more than :data:`SUBSAMPLE_PATTERNS` distinct response patterns, the start values
    and EM use a subsample of the patterns and Newton finishes on all of them
    (:func:`_maximise_from_subsample`): the same maximum, to the convergence tolerance, at a
    fraction of the cost. ``iterations`` counts EM steps and Newton steps.

    Parameters
    ----------
    responses : respondents x items (whole numbers, NaN = not answered), or a :class:`ResponseData`.
    link : ``"logistic"`` (default; mirt's ``graded``) or ``"normal"`` (normal ogive).
    quadrature_points : points of the grid on [-6, 6] (61, as mirt).
    scale : optional ``(min, max)`` answers must lie in.

    Returns
    -------
    GRMFit
    """
    link = _check_link(link)
    data = responses if isinstance(responses, ResponseData) else prepare_responses(responses, scale)
    nodes = quadrature_grid(quadrature_points)
    n_cat = data.n_categories
    layout = _Layout(block_of=np.arange(len(data.items))[:, None], n_cat=n_cat, free_groups=())
    codes, group, freq, inverse = _collapse_patterns(data.codes, np.zeros(data.n, dtype=np.int64))
    engine = _Engine(codes, group, freq, layout, link, nodes)
    if codes.shape[0] > SUBSAMPLE_PATTERNS:  # start, EM and the first Newton metric from a subsample
        rows, weights, k = _subsample_patterns(codes, freq, SUBSAMPLE_PATTERNS)
        a0, d0 = _start_values(np.repeat(codes[rows], np.ceil(weights / k).astype(np.int64), axis=0), n_cat, link)
        with _one_blas_thread():
            sol = _maximise_from_subsample(engine, rows, weights, _pack(layout, a0, d0))
            cov = _inverse_information(sol.hess)
    else:
        a0, d0 = _start_values(data.codes, n_cat, link)
        with _one_blas_thread():
            sol = _maximise(engine, _pack(layout, a0, d0))
            cov = _inverse_information(sol.hess)
    a, d, _, _ = engine.unpack(sol.vec)
    return GRMFit(items=data.items, categories=data.categories, link=link, nodes=nodes, a=a, d=d, cov=cov,
                  loglik=sol.loglik, n=data.n, npar=layout.n_par, converged=sol.converged,
                  iterations=sol.iterations, max_gradient=float(np.max(np.abs(sol.grad))), data=data,
                  patterns=(codes, inverse))


def _inverse_information(hess: np.ndarray) -> np.ndarray:
    """``(-H)^-1``; NaN when the information is not positive definite (the model is not identified)."""
    try:
        chol = linalg.cho_factor(-hess)
    except linalg.LinAlgError:
        return np.full(hess.shape, np.nan)
    return linalg.cho_solve(chol, np.eye(hess.shape[0]))


# --------------------------------------------------------------------------- scores
def _item_logp(fit: GRMFit, nodes: np.ndarray, order: int = 0):
    n_cat = fit.n_categories
    return _item_tables(fit.a, fit.d, n_cat, nodes, fit.link, order)


def _posterior_moments(fit: GRMFit, codes: np.ndarray, log_prior: np.ndarray):
    """Posterior mean and SD of theta for each row of ``codes`` on the fit's grid.

    The log-likelihood of every row at every node is one sparse product ``Y @ T`` (the indicator
    matrix of :func:`_indicator_matrix` and the table of category log-probabilities with the log
    prior as its last row), as in the E-step.
    """
    logp = _item_logp(fit, fit.nodes)[0]  # (J, Kmax, Q)
    n_items, kmax = logp.shape[:2]
    table = np.vstack([logp.reshape(n_items * kmax, -1), log_prior[None, :]])
    y = _indicator_matrix(codes, np.zeros(codes.shape[0], dtype=np.int64), np.arange(n_items)[:, None], kmax,
                          table.shape[0])
    mean, sd = np.empty(codes.shape[0]), np.empty(codes.shape[0])
    for start in range(0, codes.shape[0], _CHUNK):
        with np.errstate(invalid="ignore"):
            lik = y[start:start + _CHUNK] @ table
        lik -= lik.max(axis=1, keepdims=True)
        post = np.exp(lik)
        post /= post.sum(axis=1, keepdims=True)
        m = post @ fit.nodes
        mean[start:start + _CHUNK] = m
        sd[start:start + _CHUNK] = np.sqrt(np.maximum(post @ fit.nodes ** 2 - m * m, 0.0))
    return mean, sd


def _logistic_halves(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F(z)`` and ``1 - F(z)`` of the logistic function, each to a few ulps (also in the tails and at
    +-inf): ``1 / (1 + exp(-z))`` and ``1 / (1 + exp(z))`` (an overflowing exp gives the exact limit 0).

    >>> upper, lower = _logistic_halves(np.array([0.0, 40.0, -np.inf]))
    >>> upper.tolist(), lower[[0, 2]].tolist(), bool(np.isclose(lower[1], np.exp(-40.0), rtol=1e-15, atol=0))
    ([0.5, 1.0, 0.0], [0.5, 1.0], True)
    """
    with np.errstate(over="ignore"):
        upper = np.exp(-z)
        lower = np.exp(z)
    upper += 1.0
    lower += 1.0
    return np.reciprocal(upper, out=upper), np.reciprocal(lower, out=lower)


def _ml_theta(fit: GRMFit, codes: np.ndarray, start: np.ndarray, max_iter: int = 100):
    """ML theta per row (Newton, vectorised over rows; the log-likelihood is concave in theta).

    Infinite (NaN) when every answered item sits in the category its slope pushes to one end
    (lowest answers to items with a > 0 and highest to items with a < 0, or the reverse).
    With the logistic link the derivatives of ``log P_k`` are ``a (1 - F(z_k) - F(z_{k+1}))`` and
    ``-a^2 (f(z_k) + f(z_{k+1}))``, ``f = F (1 - F)`` (Samejima, 1969), without the probability itself.
    """
    n_cat = fit.n_categories
    answered = codes >= 0
    low = answered & (codes == 0)
    high = answered & (codes == (n_cat - 1)[None, :])
    down = np.where(fit.a > 0, low, high)
    up = np.where(fit.a > 0, high, low)
    infinite = ((down | ~answered).all(axis=1) | (up | ~answered).all(axis=1))
    ext = np.hstack([np.full((len(fit.items), 1), np.inf), fit.d, np.full((len(fit.items), 1), -np.inf)])
    safe = np.where(answered, codes, 0).astype(np.int64)
    rows = np.arange(len(fit.items))[None, :]
    d_up, d_low = ext[rows, safe], ext[rows, safe + 1]
    theta = np.clip(np.where(infinite, 0.0, start), -THETA_LIMIT, THETA_LIMIT)
    a = fit.a[None, :]
    slope, slope2 = np.where(answered, a, 0.0), np.where(answered, a * a, 0.0)
    rows = np.flatnonzero(~infinite)
    for _ in range(max_iter):
        if rows.size == 0:
            break
        t, ans = theta[rows, None], answered[rows]
        z1, z2 = a * t + d_up[rows], a * t + d_low[rows]
        if fit.link == "logistic":
            f1, g1 = _logistic_halves(z1)
            f2, g2 = _logistic_halves(z2)
            d1 = np.einsum("ij,ij->i", g1 - f2, slope[rows])
            d2 = -np.einsum("ij,ij->i", f1 * g1 + f2 * g2, slope2[rows])
        else:
            logp = _log_cdf_difference(z1, z2, fit.link)
            with np.errstate(invalid="ignore", over="ignore"):
                g1 = np.exp(_log_pdf(z1, fit.link) - logp)
                g2 = -np.exp(_log_pdf(z2, fit.link) - logp)
                h1 = np.where(g1 != 0, _pdf_slope(z1, fit.link) * g1, 0.0) - g1 * g1
                h2 = np.where(g2 != 0, _pdf_slope(z2, fit.link) * g2, 0.0) - g2 * g2
            d1 = np.where(ans, a * (g1 + g2), 0.0).sum(axis=1)
            d2 = np.where(ans, a * a * (h1 + h2 - 2 * g1 * g2), 0.0).sum(axis=1)
        step = np.clip(-d1 / np.where(d2 < 0, d2, -1.0), -1.0, 1.0)
        theta[rows] += step
        rows = rows[np.abs(step) > 1e-10]
    theta[infinite] = np.nan
    return theta


def _information_matrix(theta: np.ndarray, a: np.ndarray, d: np.ndarray, n_cat: np.ndarray, link: str) -> np.ndarray:
    """Item information ``I_j(theta_i)`` for every row's theta and every item: (n, J).

    Samejima's ``I = sum_k a^2 (f(z_k) - f(z_{k+1}))^2 / P_k`` with ``z_k = a theta + d_k`` (as
    :func:`item_information`, in slope-intercept form, all items at once). With the logistic link
    this is the expected negative second derivative ``a^2 sum_k P_k (f(z_k) + f(z_{k+1}))``, i.e.
    ``a^2 sum_b F_b (1 - F_b) (F_{b-1} - F_{b+1})`` over the boundaries b, and
    ``F_{b-1} - F_{b+1} = F_{b-1} (1 - F_{b+1}) (1 - exp(d_{b+1} - d_{b-1}))``: a sum of products of
    positive factors (no cancellation, no division, no logarithm).

    >>> info = _information_matrix(np.array([0.0]), np.array([1.0, 2.0]), np.array([[1.0, -1.0], [-1.0, np.nan]]),
    ...                            np.array([3, 2]), "logistic")
    >>> np.round(info, 6).tolist()   # item_information([0], 1, [-1, 1]) and a^2 P (1 - P) at z = -1
    [[0.28747, 0.786448]]
    """
    n_items, kmax = d.shape[0], d.shape[1] + 1
    inner = np.where(np.isnan(d), -np.inf, d)  # boundaries beyond an item's categories: P(X >= k) = 0
    if link == "logistic":
        upper, lower = _logistic_halves(a[None, :, None] * theta[:, None, None] + inner[None])  # (n, J, Kmax - 1)
        prod = upper * lower
        prod[..., 1:] *= upper[..., :-1]
        prod[..., :-1] *= lower[..., 1:]
        d_ext = np.hstack([np.full((n_items, 1), np.inf), inner, np.full((n_items, 1), -np.inf)])
        used = np.arange(1, kmax)[None, :] < n_cat[:, None]
        with np.errstate(invalid="ignore"):  # unused boundaries: -inf minus -inf
            gap = np.where(used, -np.expm1(d_ext[:, 2:] - d_ext[:, :-2]), 0.0)
        return np.einsum("nkb,kb->nk", prod, gap) * (a * a)[None, :]
    valid = np.arange(kmax)[None, :] < n_cat[:, None]  # (J, Kmax) categories in use
    d_ext = np.hstack([np.full((n_items, 1), np.inf), inner, np.full((n_items, 1), -np.inf)])  # (J, Kmax + 1)
    z = a[None, :, None] * theta[:, None, None] + d_ext[None, :, :]
    with np.errstate(invalid="ignore"):
        p = np.where(valid[None], np.exp(_log_cdf_difference(z[..., :-1], z[..., 1:], link)), 0.0)
    f = np.exp(_log_pdf(z, link))
    slope = a[None, :, None] * (f[..., :-1] - f[..., 1:])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        terms = np.where((slope == 0) | (p == 0), 0.0, slope * slope / p)
    return terms.sum(axis=2)


def total_information(fit: GRMFit, theta, items=None) -> np.ndarray:
    """Test information ``sum_j I_j(theta)`` over all items (or those in ``items``), see :func:`item_information`
    (all items at once by :func:`_information_matrix`)."""
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    info = _information_matrix(theta, fit.a, fit.d, fit.n_categories, fit.link)
    return info.sum(axis=1) if items is None else info[:, list(items)].sum(axis=1)


def score_grm(fit: GRMFit) -> pd.DataFrame:
    """EAP and ML trait estimates with standard errors for the respondents of ``fit.data``.

    ``theta_eap``, ``se_eap``: posterior mean and SD under N(0, 1) on the fit's grid
    (Bock & Mislevy, 1982). ``theta_ml``: the maximum of the respondent's log-likelihood
    over the items they answered, NaN where it lies at -inf or +inf (every answer at the
    end of the scale its item pushes to); ``se_ml = 1 / sqrt(I(theta_ml))`` with the test
    information over the answered items. ``n_items``: items answered.
    Indexed like ``fit.data.index``.
    """
    data = fit.data
    log_prior = normal_log_weights(fit.nodes)
    if fit.patterns is not None:
        codes, inverse = fit.patterns
    else:
        codes, _, _, inverse = _collapse_patterns(data.codes, np.zeros(data.n, dtype=np.int64))
    mean, sd = _posterior_moments(fit, codes, log_prior)
    ml = np.concatenate([_ml_theta(fit, codes[i:i + _CHUNK], mean[i:i + _CHUNK])
                         for i in range(0, codes.shape[0], _CHUNK)]) if codes.shape[0] else np.empty(0)
    se_ml = np.full(ml.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(ml))
    for i in range(0, finite.size, _CHUNK // 4):
        rows = finite[i:i + _CHUNK // 4]
        info = _information_matrix(ml[rows], fit.a, fit.d, fit.n_categories, fit.link)
        se_ml[rows] = 1 / np.sqrt(np.einsum("ij,ij->i", info, codes[rows] >= 0))
    out = pd.DataFrame({"theta_eap": mean[inverse], "se_eap": sd[inverse], "theta_ml": ml[inverse],
                        "se_ml": se_ml[inverse], "n_items": data.n_answered}, index=data.index)
    return out


def marginal_reliability(fit: GRMFit) -> float:
    """``rho = integral I(theta) / (I(theta) + 1) phi(theta) dtheta`` (Green, Bock, Humphreys, Linn &
    Reckase, 1984), the average over N(0, 1) of ``1 - SE^2(theta) / (SE^2(theta) + 1)``; mirt's
    ``marginal_rxx``. Integrated by Simpson's rule on 4001 points over [-10, 10] (the integrand is
    smooth; the normal tails beyond are below 1e-22).
    """
    from scipy import integrate

    theta = np.linspace(-10.0, 10.0, 4001)
    info = total_information(fit, theta)
    return float(integrate.simpson(info / (info + 1.0) * stats.norm.pdf(theta), x=theta))


def empirical_reliability(scores: pd.DataFrame) -> float:
    """``var(EAP) / (var(EAP) + mean(SE^2))`` over the scored respondents (mirt's ``empirical_rxx``)."""
    ok = scores["theta_eap"].notna()
    v = float(scores.loc[ok, "theta_eap"].var(ddof=1))
    return v / (v + float((scores.loc[ok, "se_eap"] ** 2).mean()))


# --------------------------------------------------------------------------- limited-information fit
@dataclass(frozen=True)
class LimitedInformationFit:
    """M2-type statistic of a fitted model; field names are columns of ``irt_fit.csv``.

    ``m2_statistic``: ``M2`` (0/1 items), ``M2*`` (item means and cross-products) or ``C2``
    (category proportions and cross-products); ``m2``, ``df``, ``p``; ``rmsea2`` with its 90%
    interval; ``srmsr`` (standardized root mean squared residual of the item-score correlations).
    """

    m2_statistic: str
    m2: float
    df: int
    p: float
    rmsea2: float
    rmsea2_low: float
    rmsea2_high: float
    srmsr: float


def _rmsea_interval(x2: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """Roots of the noncentral chi-square cdf (Browne & Cudeck, 1993), N in the divisor, as mirt's RMSEA.CI."""
    if df < 1 or not np.isfinite(x2):
        return np.nan, np.nan
    hi_p, lo_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam):
        return stats.chi2.cdf(x2, df) if lam <= 0 else stats.ncx2.cdf(x2, df, lam)

    low = 0.0 if cdf(0.0) < hi_p else noncentrality_root(x2, df, hi_p, x2)
    top = max(n, 5 * x2)
    high = 0.0 if cdf(0.0) < lo_p or cdf(top) > lo_p else noncentrality_root(x2, df, lo_p, top)
    return float(np.sqrt(low / (n * df))), float(np.sqrt(high / (n * df)))


def _moment_pieces(fit: GRMFit):
    """Model category probabilities, conditional item-score moments and their derivatives on the grid."""
    w = np.exp(normal_log_weights(fit.nodes))
    logp, s, _ = _item_logp(fit, fit.nodes, order=1)
    prob = np.exp(logp)  # (J, K, Q), 0 for unused categories
    k = np.arange(prob.shape[1], dtype=float)
    e1 = np.einsum("k,jkq->jq", k, prob)
    e2 = np.einsum("k,jkq->jq", k * k, prob)
    dprob = prob[:, :, None, :] * s  # (J, K, P, Q)
    de1 = np.einsum("k,jkpq->jpq", k, dprob)
    return w, prob, e1, e2, dprob, de1


def _fourth_moments(e1: np.ndarray, e2: np.ndarray, w: np.ndarray, jj: np.ndarray, ll: np.ndarray) -> np.ndarray:
    """``E[X_a X_b X_c X_d]`` for all pairs of item pairs (a < b), (c < d), items conditionally independent."""
    out = np.empty((jj.size, jj.size))
    for p, (a, b) in enumerate(zip(jj, ll)):
        fa = np.where(((jj == a) | (ll == a))[:, None], e2[a], e1[a])
        fb = np.where(((jj == b) | (ll == b))[:, None], e2[b], e1[b])
        rest_c = np.where(((jj == a) | (jj == b))[:, None], 1.0, e1[jj])
        rest_d = np.where(((ll == a) | (ll == b))[:, None], 1.0, e1[ll])
        out[p] = (fa * fb * rest_c * rest_d) @ w
    return out


def limited_information_fit(fit: GRMFit, statistic: str = "auto") -> LimitedInformationFit:
    """M2* or C2 with RMSEA2 and SRMSR for a fitted graded response model.

    Statistic (Maydeu-Olivares & Joe, 2006): ``M = (p - e)' C (p - e)`` scaled by sample size,
    ``C = D_c (D_c' Xi D_c)^-1 D_c'``, with ``p`` and ``e`` the observed and model moments,
    ``Xi`` the model covariance of the moments of one respondent and ``D_c`` an orthogonal
    complement of their derivatives ``D`` with respect to the free parameters; chi-square
    with ``df = moments - parameters``. Moments, on the item scores ``0 .. K_j - 1``:

    * ``M2*`` (Maydeu-Olivares, 2013; Cai & Hansen, 2013): item means and cross-products
      ``E[X_j X_l]``; equals M2 for 0/1 items (reported as ``M2``). mirt's default.
    * ``C2`` (Cai & Monroe, 2014): category proportions ``P(X_j = k)``, ``k >= 1``, and the
      cross-products; used by ``auto`` when M2* has no degrees of freedom (few items with
      many categories).

    Missing answers: moments use the respondents who answered the item(s) involved, and
    moment ``s`` enters with weight ``N_s / sqrt(N)`` (mirt's approximation; exact without
    missing data). RMSEA2 = ``sqrt(max(M/df - 1, 0) / (N - 1))`` and its 90% interval from
    the noncentral chi-square, both as mirt's ``M2()``. SRMSR: root mean square of observed
    minus model-implied item-score correlations (observed from pairwise moments, as mirt).
    """
    if statistic not in ("auto", "M2*", "C2"):
        raise IRTError(f"statistic must be auto, M2* or C2; got {statistic!r}.")
    data = fit.data
    n_items, n_cat = len(fit.items), fit.n_categories
    npar = fit.npar
    ok = data.codes >= 0
    x0 = np.where(ok, data.codes, 0).astype(float)  # item scores, 0 where not answered
    jj, ll = np.triu_indices(n_items, 1)
    answered = ok.astype(float)
    n_pair = answered.T @ answered
    cross = (x0.T @ x0) / np.maximum(n_pair, 1)
    n_item = ok.sum(axis=0).astype(float)
    mean = x0.sum(axis=0) / n_item
    w, prob, e1, e2, dprob, de1 = _moment_pieces(fit)
    offsets = np.r_[0, np.cumsum(n_cat)[:-1]]
    cross_model = (e1 * w) @ e1.T
    np.fill_diagonal(cross_model, e2 @ w)
    mean_model = e1 @ w
    # SRMSR (both correlation matrices from item-score moments)
    cov_obs = cross - np.outer(mean, mean)
    cov_mod = cross_model - np.outer(mean_model, mean_model)
    r_obs = cov_obs / np.sqrt(np.outer(np.diag(cov_obs), np.diag(cov_obs)))
    r_mod = cov_mod / np.sqrt(np.outer(np.diag(cov_mod), np.diag(cov_mod)))
    srmsr = float(np.sqrt(np.mean((r_obs[jj, ll] - r_mod[jj, ll]) ** 2)))
    # bivariate block (shared by both statistics)
    pair_model = (e1[jj] * e1[ll]) @ w
    xi22 = _fourth_moments(e1, e2, w, jj, ll) - np.outer(pair_model, pair_model)
    d2 = np.zeros((jj.size, npar))
    for p, (a, b) in enumerate(zip(jj, ll)):
        d2[p, offsets[a] + np.arange(n_cat[a])] = (de1[a, : n_cat[a]] * e1[b]) @ w
        d2[p, offsets[b] + np.arange(n_cat[b])] = (de1[b, : n_cat[b]] * e1[a]) @ w
    all_binary = bool(np.all(n_cat == 2))
    choice = statistic
    if choice == "auto":
        choice = "M2*" if n_items + jj.size - npar > 0 else "C2"
    if choice == "M2*":
        three = (e1 * w) @ (e1[jj] * e1[ll]).T
        for j in range(n_items):
            three[j, jj == j] = (e2[j] * e1[ll[jj == j]]) @ w
            three[j, ll == j] = (e1[jj[ll == j]] * e2[j]) @ w
        xi11 = cross_model - np.outer(mean_model, mean_model)
        xi12 = three - np.outer(mean_model, pair_model)
        d1 = np.zeros((n_items, npar))
        for j in range(n_items):
            d1[j, offsets[j] + np.arange(n_cat[j])] = de1[j, : n_cat[j]] @ w
        obs1, mod1, n1 = mean, mean_model, n_item
        name = "M2" if all_binary else "M2*"
    else:
        uni = [(j, k) for j in range(n_items) for k in range(1, n_cat[j])]
        uj = np.array([u[0] for u in uni])
        uk = np.array([u[1] for u in uni])
        pk = prob[uj, uk]  # (U, Q)
        pi = pk @ w
        xi11 = (pk * w) @ pk.T
        same = uj[:, None] == uj[None, :]
        xi11 = np.where(same, np.where(uk[:, None] == uk[None, :], pi[:, None], 0.0), xi11) - np.outer(pi, pi)
        three = (pk * w) @ (e1[jj] * e1[ll]).T
        for p, (a, b) in enumerate(zip(jj, ll)):
            on_a, on_b = uj == a, uj == b
            three[on_a, p] = (uk[on_a, None] * pk[on_a] * e1[b]) @ w
            three[on_b, p] = (uk[on_b, None] * pk[on_b] * e1[a]) @ w
        xi12 = three - np.outer(pi, pair_model)
        d1 = np.zeros((uj.size, npar))
        for u, (j, k) in enumerate(uni):
            d1[u, offsets[j] + np.arange(n_cat[j])] = dprob[j, k, : n_cat[j]] @ w
        obs1 = np.array([np.mean(data.codes[ok[:, j], j] == k) for j, k in uni])
        mod1, n1 = pi, n_item[uj]
        name = "C2"
    xi = np.block([[xi11, xi12], [xi12.T, xi22]])
    delta = np.vstack([d1, d2])
    moments = delta.shape[0]
    df = moments - npar
    if df < 1:
        return LimitedInformationFit(name, np.nan, int(df), np.nan, np.nan, np.nan, np.nan, srmsr)
    with _one_blas_thread():
        q_full = linalg.qr(delta, mode="full")[0]
        comp = q_full[:, npar:]
        inner = comp.T @ xi @ comp
        try:
            weight = comp @ linalg.solve(inner, comp.T, assume_a="pos")
        except (linalg.LinAlgError, ValueError):  # moments without variance (e.g. categories nobody is near)
            return LimitedInformationFit(name, np.nan, int(df), np.nan, np.nan, np.nan, np.nan, srmsr)
    n = fit.n
    resid = np.r_[obs1 - mod1, cross[jj, ll] - pair_model] * np.r_[n1, n_pair[jj, ll]] / np.sqrt(n)
    m2 = float(resid @ weight @ resid)
    rmsea = float(np.sqrt(max(m2 / df - 1, 0.0) / (n - 1)))
    low, high = _rmsea_interval(m2, df, n)
    return LimitedInformationFit(name, m2, int(df), float(stats.chi2.sf(m2, df)), rmsea, low, high, srmsr)


# --------------------------------------------------------------------------- item fit
def _sum_score_distribution(prob: np.ndarray, n_cat: np.ndarray, items, max_score: int) -> np.ndarray:
    """Distribution of the summed item scores at every node (Lord & Wingersky, 1984): (max_score + 1, Q)."""
    dist = np.zeros((max_score + 1, prob.shape[2]))
    dist[0] = 1.0
    top = 0
    for j in items:
        new = np.zeros_like(dist)
        for k in range(n_cat[j]):
            new[k:top + k + 1] += dist[: top + 1] * prob[j, k]
        dist = new
        top += n_cat[j] - 1
    return dist


def _merge_categories(o: np.ndarray, e: np.ndarray, mincell: float) -> tuple[np.ndarray, np.ndarray]:
    """Merge a score group's categories with expected counts below ``mincell`` into a neighbour
    (the smallest cell first, the last of equal ones, into its smaller neighbour, the left on a
    tie) until every cell reaches ``mincell`` or two cells remain (mirt's rule)."""
    o, e = list(o), list(e)
    while len(e) > 2 and min(e) < mincell:
        m = min(e)
        i = max(idx for idx, v in enumerate(e) if v == m)
        if i == 0:
            to = 1
        elif i == len(e) - 1:
            to = i - 1
        else:
            to = i - 1 if e[i - 1] <= e[i + 1] else i + 1
        e[to] += e[i]
        o[to] += o[i]
        del e[i], o[i]
    return np.array(o), np.array(e)


def _pool_score_groups(obs: np.ndarray, exp: np.ndarray, mincell: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Score groups (rows) pooled from both ends toward the middle until each pooled group, after
    :func:`_merge_categories`, has no expected count below ``mincell`` (Orlando & Thissen, 2000)."""
    keep = obs.sum(axis=1) > 0
    obs, exp = obs[keep], exp[keep]
    if obs.shape[0] == 0:
        return []
    mid = int(np.argmax(obs.sum(axis=1)))

    def sweep(rows):
        done, acc_o, acc_e = [], None, None
        for r in rows:
            acc_o = obs[r] if acc_o is None else acc_o + obs[r]
            acc_e = exp[r] if acc_e is None else acc_e + exp[r]
            o, e = _merge_categories(acc_o, acc_e, mincell)
            if e.min() >= mincell:
                done.append((acc_o, acc_e))
                acc_o = acc_e = None
        return done, acc_o, acc_e

    low, lo_o, lo_e = sweep(range(mid))
    high, hi_o, hi_e = sweep(range(obs.shape[0] - 1, mid, -1))
    centre_o, centre_e = obs[mid].copy(), exp[mid].copy()
    for extra_o, extra_e in ((lo_o, lo_e), (hi_o, hi_e)):
        if extra_o is not None:
            centre_o, centre_e = centre_o + extra_o, centre_e + extra_e
    groups = low + [(centre_o, centre_e)] + high[::-1]
    # a centre group still below mincell is pooled with a neighbour
    while len(groups) > 1:
        k = next((i for i, (o, e) in enumerate(groups) if _merge_categories(o, e, mincell)[1].min() < mincell), None)
        if k is None:
            break
        nb = k - 1 if k > 0 else k + 1
        lo_, hi_ = sorted((k, nb))
        merged = (groups[lo_][0] + groups[hi_][0], groups[lo_][1] + groups[hi_][1])
        groups = groups[:lo_] + [merged] + groups[hi_ + 1:]
    return [_merge_categories(o, e, mincell) for o, e in groups]


def item_fit(fit: GRMFit, mincell: float = 1.0) -> pd.DataFrame:
    """S-X2 item fit (Orlando & Thissen, 2000; Kang & Chen, 2008, for graded items).

    Among respondents who answered every item, group by summed score ``s`` (item scores
    ``0 .. K_j - 1``; the lowest and highest sums, which fix every answer, are left out).
    Expected proportions come from the model through the Lord-Wingersky recursion:
    ``E(X_j = k | s) = sum_q w_q P_jk(theta_q) f_-j(s - k | theta_q) / sum_q w_q f(s | theta_q)``.
    Sparse cells are pooled (:func:`_pool_score_groups`, minimum expected count ``mincell``);
    ``S-X2 = sum (O - E)^2 / E`` with ``df = sum_groups (cells - 1) - (parameters of the item)``
    (mirt's ``itemfit``; its cell pooling differs in details). ``s_x2_rmsea`` as mirt:
    ``sqrt(max(S-X2/df - 1, 0) / (N - 1))``.

    Returns
    -------
    DataFrame with ``item``, ``n`` (complete respondents), ``s_x2``, ``s_x2_df``, ``p``, ``s_x2_rmsea``.
    """
    codes = fit.data.codes
    complete = (codes >= 0).all(axis=1)
    x = codes[complete].astype(np.int64)
    n_cat = fit.n_categories
    n_items = len(fit.items)
    max_score = int((n_cat - 1).sum())
    total = x.sum(axis=1)
    w = np.exp(normal_log_weights(fit.nodes))
    prob = np.exp(_item_logp(fit, fit.nodes)[0])
    denom = _sum_score_distribution(prob, n_cat, range(n_items), max_score) @ w
    n_by_score = np.bincount(total, minlength=max_score + 1).astype(float)
    rows = []
    scores = np.arange(1, max_score)
    for j in range(n_items):
        rest = _sum_score_distribution(prob, n_cat, [i for i in range(n_items) if i != j], max_score)
        expected = np.zeros((scores.size, n_cat[j]))
        for k in range(n_cat[j]):
            shifted = np.zeros_like(rest)
            shifted[k:] = rest[: max_score + 1 - k]
            expected[:, k] = ((shifted * prob[j, k]) @ w)[scores]
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = expected / denom[scores][:, None] * n_by_score[scores][:, None]
        observed = np.zeros_like(expected)
        inside = (total >= 1) & (total < max_score)
        np.add.at(observed, (total[inside] - 1, x[inside, j]), 1.0)
        groups = _pool_score_groups(observed, expected, mincell) if x.shape[0] else []
        stat = float(sum(((o - e) ** 2 / e).sum() for o, e in groups))
        df = int(sum(len(e) - 1 for _, e in groups)) - int(n_cat[j])
        ok = df > 0
        rows.append({"item": fit.items[j], "n": int(x.shape[0]), "s_x2": stat if ok else np.nan,
                     "s_x2_df": max(df, 0), "p": float(stats.chi2.sf(stat, df)) if ok else np.nan,
                     "s_x2_rmsea": float(np.sqrt(max(stat / df - 1, 0.0) / (x.shape[0] - 1))) if ok else np.nan})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- multi-group models and DIF
def _two_group_layout(n_cat: np.ndarray, split) -> _Layout:
    """Items in ``split`` get a block per group; the others share one; group 1's mean and SD are free."""
    n_items = n_cat.size
    block_of = np.column_stack([np.arange(n_items), np.arange(n_items)])
    extra = []
    for j in sorted(split):
        block_of[j, 1] = n_items + len(extra)
        extra.append(n_cat[j])
    return _Layout(block_of=block_of, n_cat=np.r_[n_cat, np.array(extra, dtype=np.int64)].astype(np.int64),
                   free_groups=(1,))


def _transfer(vec: np.ndarray, old: _Layout, new: _Layout) -> np.ndarray:
    """Start values for ``new`` from a solution of ``old`` (same items; blocks copied per (item, group))."""
    out = np.zeros(new.n_par)
    oi, ni = old.block_index(), new.block_index()
    for j in range(new.block_of.shape[0]):
        for g in range(new.n_groups):
            ob, nb = old.block_of[j, g], new.block_of[j, g]
            k = new.n_cat[nb]
            out[ni[nb, :k]] = vec[oi[ob, :k]]
    for g, pos in new.group_offsets.items():
        out[pos:pos + 2] = vec[old.group_offsets[g]:old.group_offsets[g] + 2]
    return out


def _posterior_means_engine(engine: _Engine, vec: np.ndarray) -> np.ndarray:
    t = engine.table(vec)[0]
    out = np.empty(engine.Y.shape[0])
    for start in range(0, engine.Y.shape[0], _CHUNK):
        stop = min(start + _CHUNK, engine.Y.shape[0])
        out[start:stop] = engine._posterior(t, start, stop)[1] @ engine.nodes
    return out


def _common_categories(codes: np.ndarray, group: np.ndarray, values: tuple) -> tuple[np.ndarray, tuple]:
    """Recode one item so every category is used in both groups: a category some group never used
    is merged with its neighbour toward the middle of the scale. Returns the new codes and the
    answer value of each new category (the frequency-weighted mean of the values it merges).

    >>> c, v = _common_categories(np.array([0, 1, 2, 3, 1, 2]), np.array([0, 0, 0, 0, 1, 1]), (1.0, 2.0, 3.0, 4.0))
    >>> c.tolist(), [round(x, 4) for x in v]   # group 1 never answered 1 or 4
    ([0, 0, 1, 1, 0, 1], [1.6667, 3.3333])
    """
    k = len(values)
    ok = codes >= 0
    counts = np.stack([np.bincount(codes[ok & (group == g)], minlength=k) for g in (0, 1)])
    members = [[i] for i in range(k)]
    while len(members) > 1:
        merged = np.stack([counts[:, m].sum(axis=1) for m in members], axis=1)
        empty = np.flatnonzero(merged.min(axis=0) == 0)
        if empty.size == 0:
            break
        c = int(empty[0])
        target = c + 1 if c == 0 or (c < (len(members) - 1) / 2 and c + 1 < len(members)) else c - 1
        lo, hi = sorted((c, target))
        members = members[:lo] + [members[lo] + members[hi]] + members[hi + 1:]
    lookup = np.empty(k, dtype=np.int16)
    for new_code, m in enumerate(members):
        lookup[m] = new_code
    new = np.where(ok, lookup[np.maximum(codes, 0)], -1).astype(np.int16)
    freq = counts.sum(axis=0).astype(float)
    vals = tuple(float(np.average(np.array(values)[m], weights=freq[m] if freq[m].sum() > 0 else None))
                 for m in members)
    return new, vals


def _expected_score_values(theta: np.ndarray, a: float, d: np.ndarray, values: np.ndarray, link: str) -> np.ndarray:
    """Expected answer ``sum_k v_k P_k(theta)`` in answer units, slope-intercept parameters."""
    b = -d / a
    return graded_probabilities(theta, a, b, link) @ values


def cohen_d(x: np.ndarray, y: np.ndarray) -> float:
    """``(mean(x) - mean(y)) / s_pooled`` with ``s_pooled^2 = ((n_x - 1) s_x^2 + (n_y - 1) s_y^2) / (n_x + n_y - 2)``.

    >>> round(cohen_d(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0])), 6)
    1.0
    """
    nx, ny = x.size, y.size
    pooled = np.sqrt(((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2))
    return float((x.mean() - y.mean()) / pooled) if pooled > 0 else np.nan


@dataclass
class _GroupFit:
    solution: _Solution
    engine: _Engine
    layout: _Layout
    inverse: np.ndarray  # unique row of each respondent


def _fit_two_groups(codes: np.ndarray, group: np.ndarray, n_cat: np.ndarray, split, link: str,
                    nodes: np.ndarray, start: tuple | None = None, per_row: bool = False,
                    final_hessian: bool = False) -> _GroupFit:
    layout = _two_group_layout(n_cat, split)
    uniq, grp, freq, inverse = _collapse_patterns(codes, group)
    engine = _Engine(uniq, grp, freq, layout, link, nodes)
    if start is None:
        a0, d0 = _start_values(codes, n_cat, link)
        vec = _transfer(_pack(_two_group_layout(n_cat, ()), a0, d0, mean=np.zeros(2), sd=np.ones(2)),
                        _two_group_layout(n_cat, ()), layout)
    else:
        vec = _transfer(start[0], start[1], layout)
    sol = _maximise(engine, vec, per_row=per_row, warm=start is not None, final_hessian=final_hessian or per_row,
                    max_newton=30 if start is not None else 50)
    return _GroupFit(sol, engine, layout, inverse)


def dif_tests(responses: pd.DataFrame, group: pd.Series, reference, focal, *, anchors=None, clusters=None,
              link: str = "logistic", quadrature_points: int = QUADRATURE_POINTS,
              scale: tuple[int, int] | None = None) -> pd.DataFrame:
    """Differential item functioning of each item between two groups (likelihood-ratio tests).

    Two-group graded response models (Thissen, Steinberg & Wainer, 1993): the reference
    group's trait is N(0, 1), the focal group's mean and SD are free, anchor items have the
    same parameters in both groups.

    * ``anchors=None`` (all others as anchors): a studied item is tested by comparing the
      model where only it is free across groups with the model where every item is equal
      (mirt ``DIF(scheme = "drop")`` from a fully constrained model).
    * ``anchors`` = item names (a designated anchor set): every other item is studied; the
      model with all non-anchor items free is compared with the model where the studied
      item is also constrained (mirt ``DIF(scheme = "add")``).

    ``lr`` = ``2 (logL_free - logL_constrained)`` ~ chi-square with df = the item's
    parameters (slope and intercepts); it is the ``statistic`` when respondents are
    independent. When ``clusters`` (e.g. couple ids) put respondents in the same cluster,
    the likelihood treats dependent answers as independent (a composite likelihood) and the
    LR statistic is rescaled (Rao & Scott, 1984; Satorra & Bentler, 2001, for clustered
    data): ``statistic = lr / c`` with ``c = tr(V_naive^-1 V_robust) / df`` for the item's
    focal-minus-reference parameters, ``V_naive = L H^-1 L'`` and ``V_robust`` the cluster
    sandwich ``L H^-1 (sum_c s_c s_c') H^-1 L'`` (Liang & Zeger, 1986) built from the
    respondents' scores ``s`` summed per cluster; ``scale_factor`` = c and ``wald`` = the
    Wald statistic with ``V_robust``. In simulations with couples (partner similarity and
    couple-specific item effects; docs/irt.md) this keeps the LR test's calibration.

    Effect sizes, from the model where the item is free, in answer units: ``sids`` and
    ``uids`` (mean signed and unsigned difference of focal minus reference expected item
    scores over the focal group's EAP scores), ``essd`` (their standardized difference,
    Cohen's d of the two expected-score vectors; Meade, 2010, as mirt's ``empirical_ES``),
    ``signed_area`` (the integral of the difference of expected-score curves over theta,
    ``sum_k (v_k - v_{k-1}) (b_k^ref - b_k^focal)``; Raju, 1988; Cohen, Kim & Baker, 1993).
    ``focal_mean`` and ``focal_sd``: the focal group's trait mean and SD (reference N(0, 1)) in
    the model where the item is free. Categories a group never used are merged with their
    neighbour toward the middle of the scale for both groups (``note``).
    """
    link = _check_link(link)
    nodes = quadrature_grid(quadrature_points)
    group = pd.Series(group).reindex(responses.index)
    keep = group.isin([reference, focal]).to_numpy()
    data = prepare_responses(responses.loc[keep], scale)
    g = (group.loc[data.index] == focal).to_numpy().astype(np.int64)
    codes, values, notes, usable = [], [], [], []
    for j, item in enumerate(data.items):
        c, v = _common_categories(data.codes[:, j], g, data.categories[j])
        if len(v) < 2:
            notes.append(f"{item}: not tested (fewer than two answers used by both groups)")
            continue
        if len(v) < len(data.categories[j]):
            notes.append(f"{item}: {len(data.categories[j]) - len(v)} categories merged (unused in a group)")
        codes.append(c)
        values.append(np.array(v))
        usable.append(j)
    items = [data.items[j] for j in usable]
    if len(items) < 3:
        raise IRTError(f"DIF {reference} vs {focal}: fewer than three items usable in both groups.")
    codes = np.column_stack(codes)
    answered = (codes >= 0).any(axis=1)
    codes, g = codes[answered], g[answered]
    index = data.index[answered]
    n_cat = np.array([v.size for v in values], dtype=np.int64)
    anchor_idx = set() if anchors is None else {items.index(a) for a in anchors if a in items}
    if anchors is not None and not anchor_idx:
        raise IRTError(f"DIF {reference} vs {focal}: none of the anchor items {list(anchors)} is in the data.")
    cluster_id = None
    if clusters is not None:
        cl = pd.Series(clusters).reindex(index)
        own = pd.Series([f"\u0000{i}" for i in range(len(index))], index=index)
        cluster_id = pd.factorize(cl.where(cl.notna() & (cl.astype(str) != ""), own))[0]
        if np.bincount(cluster_id).max() < 2:
            cluster_id = None
    robust = cluster_id is not None
    studied = [j for j in range(len(items)) if j not in anchor_idx]
    def check(fit: _GroupFit) -> None:
        slopes = fit.solution.vec[fit.layout.offsets]
        if np.any(np.abs(slopes) > A_DEGENERATE) or not np.all(np.isfinite(slopes)):
            raise IRTError(f"DIF {reference} vs {focal}: not tested, the two-group model is degenerate (a slope "
                           f"above {A_DEGENERATE:g}: one item defines the trait, the items share little).")

    with _one_blas_thread():
        if anchors is None:
            base = _fit_two_groups(codes, g, n_cat, (), link, nodes)
            check(base)
            free_fits = {j: _fit_two_groups(codes, g, n_cat, {j}, link, nodes,
                                            start=(base.solution.vec, base.layout), per_row=robust)
                         for j in studied}
            constrained = {j: base for j in studied}
        else:
            free_all = _fit_two_groups(codes, g, n_cat, set(studied), link, nodes, per_row=robust)
            check(free_all)
            free_fits = {j: free_all for j in studied}
            constrained = {j: _fit_two_groups(codes, g, n_cat, set(studied) - {j}, link, nodes,
                                              start=(free_all.solution.vec, free_all.layout)) for j in studied}
            base = _fit_two_groups(codes, g, n_cat, (), link, nodes, start=(free_all.solution.vec, free_all.layout))
    rows = []
    for j, item in enumerate(items):
        row = {"item": item, "anchor": j in anchor_idx, "n_reference": int((g == 0).sum()),
               "n_focal": int((g == 1).sum()), "n_clusters": int(cluster_id.max() + 1) if robust else np.nan}
        if j in anchor_idx:
            rows.append(row | {"test": "anchor"})
            continue
        free, con = free_fits[j], constrained[j]
        pos = free.layout.group_offsets[1]
        row["focal_mean"], row["focal_sd"] = (float(v) for v in free.solution.vec[pos:pos + 2])
        lr = 2 * (free.solution.loglik - con.solution.loglik)
        df = int(n_cat[j])
        lay, vec = free.layout, free.solution.vec
        idx = lay.block_index()
        ref_pos, foc_pos = idx[lay.block_of[j, 0], :df], idx[lay.block_of[j, 1], :df]
        a_r, a_f = vec[ref_pos[0]], vec[foc_pos[0]]
        d_r, d_f = vec[ref_pos[1:]], vec[foc_pos[1:]]
        if robust:
            with _one_blas_thread():
                info_inv = _inverse_information(free.solution.hess)
            u = free.solution.per_row[free.inverse]
            sums = np.zeros((cluster_id.max() + 1, u.shape[1]))
            np.add.at(sums, cluster_id, u)
            cov = info_inv @ (sums.T @ sums) @ info_inv
            contrast = np.zeros((df, lay.n_par))
            contrast[np.arange(df), foc_pos] = 1.0
            contrast[np.arange(df), ref_pos] = -1.0
            delta = contrast @ vec
            robust_cov = contrast @ cov @ contrast.T
            try:
                wald = float(delta @ linalg.solve(robust_cov, delta, assume_a="pos"))
                scale_factor = float(np.trace(linalg.solve(contrast @ info_inv @ contrast.T, robust_cov,
                                                           assume_a="pos"))) / df
            except (linalg.LinAlgError, ValueError):
                wald = scale_factor = np.nan
            stat, test = float(lr / scale_factor), "LR (cluster-scaled)"
        else:
            stat, test, scale_factor, wald = float(lr), "LR", np.nan, np.nan
        theta = _posterior_means_engine(free.engine, vec)[free.inverse][g == 1]
        v = values[j]
        e_f = _expected_score_values(theta, a_f, d_f, v, link)
        e_r = _expected_score_values(theta, a_r, d_r, v, link)
        b_r, b_f = -d_r / a_r, -d_f / a_f
        rows.append(row | {
            "test": test, "statistic": stat, "df": df, "p": float(stats.chi2.sf(stat, df)) if np.isfinite(stat) else np.nan,
            "lr": float(lr), "scale_factor": scale_factor, "wald": wald, "a_reference": float(a_r), "a_focal": float(a_f),
            "sids": float(np.mean(e_f - e_r)), "uids": float(np.mean(np.abs(e_f - e_r))), "essd": cohen_d(e_f, e_r),
            "signed_area": float(np.diff(v) @ (b_r - b_f)),
            "converged": bool(free.solution.converged and con.solution.converged)})
    out = pd.DataFrame(rows)
    tested = out["test"] != "anchor"
    out["p_adjusted"] = np.nan
    out.loc[tested, "p_adjusted"] = benjamini_hochberg(out.loc[tested, "p"].to_numpy())
    out["note"] = "; ".join(notes)
    return out


# --------------------------------------------------------------------------- tables of one instrument
#: Trait values of ``irt_information.csv`` (and the report's curves).
THETA_GRID = np.round(np.arange(-4.0, 4.0 + 1e-9, 0.1), 10)


@dataclass(frozen=True)
class IRTTables:
    """One instrument's IRT results, each a tidy table (the columns of the ``irt_*.csv`` files)."""

    items: pd.DataFrame
    fit: pd.DataFrame
    information: pd.DataFrame
    scores: pd.DataFrame
    dif: pd.DataFrame


def scale_thresholds(fit: GRMFit, j: int, scale: tuple[int, int], values=None) -> np.ndarray:
    """Item ``j``'s thresholds on the response scale's boundaries ``X >= min + 1 .. X >= max``.

    The model's categories are the answers given; boundary ``X >= c`` takes the threshold of
    the first answer given that is ``>= c`` (equal thresholds where answers in between were
    never given), NaN when every answer given is ``>= c`` or none is (not estimable).

    >>> f = GRMFit(items=("i",), categories=((1.0, 2.0, 4.0),), link="logistic", nodes=np.zeros(1),
    ...            a=np.array([1.0]), d=np.array([[1.0, -1.0]]), cov=np.eye(3), loglik=0.0, n=1, npar=3,
    ...            converged=True, iterations=0, max_gradient=0.0, data=None)
    >>> scale_thresholds(f, 0, (1, 5)).tolist()   # boundaries >=2, >=3, >=4, >=5
    [-1.0, 1.0, 1.0, nan]
    """
    cats = np.array(fit.categories[j])
    b = fit.b[j, : cats.size - 1] if values is None else values[: cats.size - 1]
    out = np.full(scale[1] - scale[0], np.nan)
    for t, c in enumerate(range(scale[0] + 1, scale[1] + 1)):
        k = int(np.searchsorted(cats, c - 1e-9))  # first answer given that is >= c
        if 1 <= k < cats.size:
            out[t] = b[k - 1]
    return out


def _item_rows(fit: GRMFit, instrument: str, subscale: str, scale, fitstats: pd.DataFrame) -> pd.DataFrame:
    n_b = scale[1] - scale[0]
    se_b = fit.se_b
    answered = (fit.data.codes >= 0).sum(axis=0)
    rows = []
    full = tuple(float(v) for v in range(scale[0], scale[1] + 1))
    for j, item in enumerate(fit.items):
        row = {"instrument": instrument, "subscale": subscale, "item": item, "n": int(answered[j]),
               "n_categories": int(fit.n_categories[j]),
               "categories": "all" if fit.categories[j] == full else " ".join(f"{v:g}" for v in fit.categories[j]),
               "a": float(fit.a[j])}
        row.update({f"b{t + 1}": v for t, v in enumerate(scale_thresholds(fit, j, scale))})
        row["se_a"] = float(fit.se_a[j])
        row.update({f"se_b{t + 1}": v for t, v in enumerate(scale_thresholds(fit, j, scale, se_b[j]))})
        rows.append(row)
    out = pd.DataFrame(rows)
    cols = ["item", "s_x2", "s_x2_df", "p", "s_x2_rmsea"]
    out = out.merge(fitstats[cols], on="item", how="left")
    out["p_adjusted"] = benjamini_hochberg(out["p"].to_numpy())
    return out[[c for c in out.columns if not c.startswith("b") and not c.startswith("se_b") and c not in
                ("se_a", "s_x2", "s_x2_df", "p", "s_x2_rmsea", "p_adjusted")]
               + [f"b{t + 1}" for t in range(n_b)] + ["se_a"] + [f"se_b{t + 1}" for t in range(n_b)]
               + ["s_x2", "s_x2_df", "p", "p_adjusted", "s_x2_rmsea"]]


def _fit_note(fit: GRMFit) -> str:
    """Warnings about a fit: no convergence; slopes so large that one item defines the trait."""
    notes = [] if fit.converged else ["did not converge: estimates and standard errors are not reliable"]
    big = [item for item, a in zip(fit.items, fit.a) if abs(a) > A_DEGENERATE]
    if big:
        notes.append(f"degenerate: slope above {A_DEGENERATE:g} for {', '.join(big)} (one item defines the trait; "
                     "the items may not measure one common trait)")
    return "; ".join(notes)


def _dif_comparisons(keyed: pd.DataFrame, groups: pd.DataFrame, roles: pd.Series | None, couples: pd.Series | None,
                     min_group: int) -> list[tuple[str, str, pd.Series, list, str]]:
    """(comparison, group column, labels, [(reference, focal), ...], note) for every group column and the partner roles."""
    answered = keyed.notna().any(axis=1)
    out = []
    sources = [(c, c, groups[c]) for c in groups.columns]
    if roles is not None:
        in_couple = couples.notna() & (couples.astype(str) != "") if couples is not None else roles.notna()
        sources.append(("partner_role", roles.name, roles.where(in_couple)))
    for comparison, column, labels in sources:
        labels = labels.reindex(keyed.index).where(answered)
        labels = labels.where(labels.notna() & (labels.astype(str) != ""))
        counts = labels.dropna().astype(str).value_counts()
        counts = counts.sort_index().sort_values(ascending=False, kind="stable")
        big = [str(k) for k, v in counts.items() if v >= min_group]
        small = [f"{k} (n = {v})" for k, v in counts.items() if v < min_group]
        note = f"left out (fewer than {min_group} respondents): {', '.join(small)}" if small else ""
        pairs = [(big[0], other) for other in big[1:]]
        out.append((comparison, column, labels.astype(object).where(labels.isna(), labels.astype(str)), pairs, note))
    return out


def grm_tables(keyed: pd.DataFrame, subscales: dict, *, instrument: str, scale: tuple[int, int],
               link: str = "logistic", quadrature_points: int = QUADRATURE_POINTS, groups: pd.DataFrame | None = None,
               roles: pd.Series | None = None, couples: pd.Series | None = None, dif: bool = True,
               anchors: dict | None = None, dif_min_group: int = 100, mincell: float = 1.0) -> IRTTables:
    """The graded response model of every subscale of one instrument, as the ``irt_*.csv`` tables.

    Parameters
    ----------
    keyed : respondents x items after reverse keying (answers on ``scale``, NaN = missing).
    subscales : subscale name -> its item columns.
    instrument : name written in the ``instrument`` column.
    scale : ``(min, max)`` of the response scale.
    link, quadrature_points : as :func:`fit_grm`.
    groups : optional group columns (one DIF comparison per column: largest level as
        reference, each other level with at least ``dif_min_group`` respondents as focal).
    roles, couples : optional partner role and couple id per respondent: a DIF comparison of
        the roles; with couple ids every DIF test is cluster-robust (see :func:`dif_tests`).
    dif : run the DIF tests.
    anchors : optional subscale -> designated anchor item columns (default: all others).
    dif_min_group : smallest group level analysed.
    mincell : minimum expected cell count of S-X2.
    """
    parts = {k: [] for k in ("items", "fit", "information", "dif")}
    score_cols = {}
    comparisons = (_dif_comparisons(keyed, groups if groups is not None else pd.DataFrame(index=keyed.index),
                                    roles, couples, dif_min_group) if dif else [])
    for sub, cols in subscales.items():
        try:
            data = prepare_responses(keyed[cols], scale, source=f"{instrument} {sub}")
        except IRTError as exc:  # e.g. a subscale nobody answered: reported, not fatal for the other subscales
            parts["fit"].append(pd.DataFrame([{"instrument": instrument, "subscale": sub, "link": link,
                                               "converged": False, "note": f"not fitted: {exc}"}]))
            continue
        npar = int(data.n_categories.sum())  # one slope and K_j - 1 thresholds per item
        if data.n < npar:  # fewer people than parameters: the estimates would be noise (and M2 undefined)
            parts["fit"].append(pd.DataFrame([{
                "instrument": instrument, "subscale": sub, "link": link, "n": data.n, "n_items": len(data.items),
                "npar": npar, "converged": False,
                "note": f"not fitted: {data.n} respondents for {npar} parameters; the graded response model "
                        f"needs at least as many respondents as parameters (and several hundred for stable "
                        f"estimates)"}]))
            continue
        fit = fit_grm(data, link=link, quadrature_points=quadrature_points)
        scores = score_grm(fit)
        fitstats = item_fit(fit, mincell)
        li = limited_information_fit(fit)
        parts["items"].append(_item_rows(fit, instrument, sub, scale, fitstats))
        parts["fit"].append(pd.DataFrame([{
            "instrument": instrument, "subscale": sub, "link": link, "n": fit.n, "n_items": len(fit.items),
            "npar": fit.npar, "loglik": fit.loglik, "aic": fit.aic, "bic": fit.bic,
            "m2_statistic": li.m2_statistic, "m2": li.m2, "df": li.df, "p": li.p, "rmsea2": li.rmsea2,
            "rmsea2_low": li.rmsea2_low, "rmsea2_high": li.rmsea2_high, "srmsr": li.srmsr,
            "marginal_reliability": marginal_reliability(fit), "empirical_reliability": empirical_reliability(scores),
            "n_ml_infinite": int(scores["theta_ml"].isna().sum()), "n_without_answers": data.dropped_respondents,
            "dropped_items": "; ".join(f"{i}: {why}" for i, why in data.dropped_items),
            "converged": fit.converged, "iterations": fit.iterations, "max_gradient": fit.max_gradient,
            "quadrature_points": quadrature_points, "note": _fit_note(fit)}]))
        info_rows = []
        for j, item in enumerate(fit.items):
            a, b = fit.item_parameters(j)
            info_rows.append(pd.DataFrame({"item": item, "theta": THETA_GRID,
                                           "information": item_information(THETA_GRID, a, b, link), "se": np.nan}))
        total = total_information(fit, THETA_GRID)
        info_rows.append(pd.DataFrame({"item": "test", "theta": THETA_GRID, "information": total,
                                       "se": 1 / np.sqrt(total)}))
        info = pd.concat(info_rows, ignore_index=True)
        info.insert(0, "subscale", sub)
        info.insert(0, "instrument", instrument)
        parts["information"].append(info)
        for col in ("theta_eap", "se_eap", "theta_ml", "se_ml", "n_items"):
            score_cols[f"{instrument}_{sub}_{col}"] = scores[col].reindex(keyed.index)
        for comparison, column, labels, pairs, note in comparisons:
            if not pairs:
                parts["dif"].append(pd.DataFrame([{"instrument": instrument, "subscale": sub, "comparison": comparison,
                                                   "group_column": column, "test": "not run",
                                                   "note": "; ".join(filter(None, ["fewer than two group levels large enough", note]))}]))
                continue
            for reference, focal in pairs:
                sub_anchors = (anchors or {}).get(sub)
                try:
                    table = dif_tests(keyed[cols], labels, reference, focal, anchors=sub_anchors,
                                      clusters=couples, link=link, quadrature_points=quadrature_points, scale=scale)
                except IRTError as exc:
                    table = pd.DataFrame([{"test": "not run", "note": str(exc)}])
                table["note"] = ["; ".join(filter(None, [n, note])) for n in table["note"]]
                front = {"instrument": instrument, "subscale": sub, "comparison": comparison, "group_column": column,
                         "reference": reference, "focal": focal}
                for i, (k, v) in enumerate(front.items()):
                    table.insert(i, k, v)
                parts["dif"].append(table)
    scores = pd.DataFrame(score_cols, index=keyed.index)
    dif_columns = ["instrument", "subscale", "comparison", "group_column", "reference", "focal", "item", "anchor",
                   "n_reference", "n_focal", "n_clusters", "test", "statistic", "df", "p", "p_adjusted", "lr",
                   "scale_factor", "wald", "a_reference", "a_focal", "sids", "uids", "essd", "signed_area", "focal_mean", "focal_sd",
                   "converged", "note"]
    dif_table = (pd.concat(parts["dif"], ignore_index=True) if parts["dif"] else pd.DataFrame())
    dif_table = dif_table.reindex(columns=dif_columns)
    empty = pd.DataFrame(columns=["instrument", "subscale"])
    return IRTTables(items=pd.concat(parts["items"], ignore_index=True) if parts["items"] else empty,
                     fit=pd.concat(parts["fit"], ignore_index=True),
                     information=pd.concat(parts["information"], ignore_index=True) if parts["information"] else empty,
                     scores=scores, dif=dif_table)


# --------------------------------------------------------------------------- simulation studies (docs/irt.md)
def recovery_study(sizes=(250, 500, 1000, 2000), reps: int = 100, n_items: int = 18, n_categories: int = 7,
                   missing: float = 0.02, seed: int = 20261127, link: str = "logistic") -> pd.DataFrame:
    """Parameter recovery with known item parameters (an ECR-R-like subscale by default).

    Slopes ~ U(1.0, 2.8) and thresholds evenly spread over about [-1.6, 2.2] with a per-item
    shift (like the demo's estimates), drawn once; per replication N(0, 1) traits, answers from
    :func:`simulate_grm` and ``missing`` of the answers deleted at random. Returns per sample size
    and parameter kind (``a``, ``b``): ``bias`` (mean estimate minus truth, averaged over items),
    ``rmse``, ``coverage`` of the 95% Wald interval and ``se_ratio`` (mean SE / empirical SD).
    """
    rng = np.random.default_rng(seed)
    a = rng.uniform(1.0, 2.8, n_items)
    base = np.linspace(-1.6, 2.2, n_categories - 1)
    b = np.sort(base[None, :] + rng.normal(0, 0.3, (n_items, 1)) + rng.normal(0, 0.1, (n_items, n_categories - 1)),
                axis=1)
    rows = []
    for n in sizes:
        est, ses = {"a": [], "b": []}, {"a": [], "b": []}
        for _ in range(reps):
            x = simulate_grm(a, b, rng.standard_normal(n), rng, link).astype(float)
            x[rng.random(x.shape) < missing] = np.nan
            fit = fit_grm(pd.DataFrame(x), link=link)
            if fit.n_categories.min() < n_categories:  # a category nobody used: thresholds not comparable
                continue
            est["a"].append(fit.a)
            ses["a"].append(fit.se_a)
            est["b"].append(fit.b)
            ses["b"].append(fit.se_b)
        for kind, truth in (("a", a), ("b", b)):
            e, s = np.array(est[kind]), np.array(ses[kind])
            err = e - truth
            rows.append({"n": n, "parameter": kind, "replications": e.shape[0], "bias": float(err.mean()),
                         "mean_abs_bias": float(np.abs(err.mean(axis=0)).mean()),
                         "rmse": float(np.sqrt((err ** 2).mean())),
                         "coverage": float((np.abs(err) <= 1.959964 * s).mean()),
                         "se_ratio": float((s.mean(axis=0) / e.std(axis=0, ddof=1)).mean())})
    return pd.DataFrame(rows)


def dif_calibration(n_couples: int = 300, reps: int = 150, similarity: float = 0.5, item_effect: float = 0.0,
                    n_items: int = 8, n_categories: int = 5, seed: int = 20261127) -> pd.DataFrame:
    """Type I error of the partner-role DIF tests when partners are not independent (no DIF).

    Per couple the partners' traits are bivariate normal (role B: mean 0.3, SD 1.2; correlation
    ``similarity``) and, with ``item_effect`` > 0, each item has a couple-specific shift
    ``u ~ N(0, item_effect^2)`` shared by both partners (the items ask about the same
    relationship); the item parameters are the same for both roles, so every rejection is a
    false positive. Returns the rejection rates at .05 and .01 of the LR test that ignores the
    pairing, the cluster-scaled LR (the pipeline's test) and the cluster-robust Wald test.
    """
    rng = np.random.default_rng(seed)
    a = rng.uniform(1.0, 2.5, n_items)
    b = np.sort(rng.normal(0, 1, (n_items, n_categories - 1)), axis=1)
    cov = np.array([[1.0, similarity * 1.2], [similarity * 1.2, 1.44]])
    p = {"lr (independence)": [], "lr (cluster-scaled)": [], "wald (cluster-robust)": []}
    for _ in range(reps):
        theta = rng.multivariate_normal([0.0, 0.3], cov, n_couples)
        shift = rng.normal(0.0, item_effect, (n_couples, n_items)) if item_effect > 0 else np.zeros((n_couples, n_items))
        answers = []
        for role in range(2):
            z = a[None, :, None] * (theta[:, role, None, None] - b[None, :, :]) + shift[:, :, None]
            cum = special.expit(z)
            answers.append((rng.random((n_couples, n_items))[:, :, None] < cum).sum(axis=2))
        frame = pd.DataFrame(np.vstack(answers).astype(float))
        role = pd.Series(["A"] * n_couples + ["B"] * n_couples)
        couple = pd.Series([f"c{i}" for i in range(n_couples)] * 2)
        out = dif_tests(frame, role, "A", "B", clusters=couple)
        p["lr (independence)"] += list(stats.chi2.sf(out["lr"], out["df"]))
        p["lr (cluster-scaled)"] += list(out["p"])
        p["wald (cluster-robust)"] += list(stats.chi2.sf(out["wald"], out["df"]))
    return pd.DataFrame([{"test": k, "similarity": similarity, "item_effect": item_effect, "n_couples": n_couples,
                          "tests": len(v), "reject_05": float(np.mean(np.array(v) < 0.05)),
                          "reject_01": float(np.mean(np.array(v) < 0.01))} for k, v in p.items()])


def main(argv=None) -> int:
    """``python -m attachment_pipeline.irt recovery|dif-calibration``: the simulation tables of docs/irt.md."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m attachment_pipeline.irt", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("recovery", help="bias, RMSE and coverage by sample size")
    rec.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000])
    rec.add_argument("--reps", type=int, default=100)
    rec.add_argument("--seed", type=int, default=20261127)
    cal = sub.add_parser("dif-calibration", help="type I error of the partner-role DIF tests")
    cal.add_argument("--couples", type=int, default=300)
    cal.add_argument("--reps", type=int, default=150)
    cal.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args(argv)
    pd.set_option("display.width", 160)
    if args.command == "recovery":
        print(recovery_study(tuple(args.sizes), args.reps, seed=args.seed).round(4).to_string(index=False))
    else:
        scenarios = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0)]
        table = pd.concat([dif_calibration(args.couples, args.reps, s, u, seed=args.seed + k)
                           for k, (s, u) in enumerate(scenarios)], ignore_index=True)
        print(table.round(4).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
