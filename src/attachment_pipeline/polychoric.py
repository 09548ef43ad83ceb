"""Ordinal sample statistics: thresholds, polychoric correlations and their asymptotic covariance.

Items answered on an ordered scale (ECR-R 1-7, ECR 1-5, 0/1 ticks) can be treated
as coarse measurements of underlying standard-normal variables: answer ``c`` of
item ``i`` means ``tau_{i,c-1} < z_i <= tau_{i,c}``. This module computes, per
group, the sample statistics that lavaan's ``estimator = "WLSMV"`` (DWLS with
robust corrections) and psych's ``fa(cor = "poly")`` start from:

- :func:`ordinal_moments` -- lavaan's first two steps for ordered items
  (``lavCor(x, ordered = TRUE)``, ``cfa(..., ordered = TRUE, estimator = "WLSMV")``):

  1. thresholds per item, ``tau_k = qnorm(P(answer <= k))`` over the respondents
     who answered the item (the probit model without covariates has this closed form);
  2. polychoric correlations by maximum likelihood on each pair's bivariate table,
     the thresholds held fixed at step 1 (Olsson 1979, two-step);
  3. Gamma (lavaan's ``NACOV``, ``lavInspect(fit, "gamma")``), the asymptotic
     covariance matrix of the statistics vector (thresholds item by item, then the
     correlations in ``vech(R, diagonal = FALSE)`` order) from casewise scores
     (Muthen 1984; Muthen, du Toit & Spisic 1997), and the DWLS weight
     ``1 / diag(Gamma)`` (``lavInspect(fit, "wls.v")``).

  Missing answers: ``missing = "listwise"`` (lavaan's default for categorical
  data) or ``"pairwise"`` exactly as lavaan 0.6.14 does it (thresholds from each
  item's answers, each correlation from the pair's joint answers, Gamma from
  scores that are zero where an answer is missing, ``n`` = respondents with at
  least one answer).
  :func:`ordinal_moments_by_group` calls it per group with the categories of the
  whole sample, as lavaan's multi-group fits need.
- :func:`psych_polychoric` -- ``psych::polychoric(x)`` (for ``psych::fa(cor = "poly")``):
  global thresholds, a correction for continuity of empty cells when thresholds are
  per pair, R ``optimize``'s search (:func:`brent_fmin`), and ``psych::cor.smooth``
  (:func:`cor_smooth`) when the matrix is not positive definite.
- :func:`bvn_cdf` / :func:`bvn_pdf` -- the vectorised bivariate normal distribution
  (Genz 2004) both rest on.

Agreement with R (``tests/r/polychoric_reference.R``; lavaan 0.6-14, psych 2.2.9;
nine item sets: 7-point, 5-point and 0/1 items, listwise and pairwise, 3 to 36
items): thresholds to 1e-14, correlations to 5e-8 (lavaan's ``nlminb`` stops there),
Gamma to 3e-8 of its largest element and the DWLS weight to 1e-7 relative;
``psych::polychoric`` correlations to 2e-11 and its thresholds to 1e-14.

Everything is vectorised: response patterns are counted once (``np.unique``),
bivariate tables come from one ``np.bincount`` over all pairs, the correlations of
all pairs are found by one batched safeguarded Newton iteration, and score
contributions are computed per table cell and gathered per response pattern.

Conventions (lavaan 0.6.14; see ``docs/decisions.md``)
-------------------------------------------------------
- Categories are the answer codes that occur in the data given (``categories``
  overrides this, e.g. with the codes of all groups together): an unused middle or
  end category has no threshold, as lavaan's factor coding has it. A category
  that exists in ``categories`` but has no answer among the respondents used (e.g.
  after listwise deletion, or in one group) is refused, as lavaan refuses it.
- Correlations are bounded to ``[-0.999, 0.999]`` (lavaan's ``nlminb`` bounds).
  Pairs of two binary items follow lavaan's special cases: one empty cell gets
  0.5 added keeping the margins (``zero.add = c(0.5, 0)``,
  ``zero.keep.margins = TRUE``); two empty cells give +-1; zero thresholds use the
  closed form ``-cos(2 pi p11)``. Larger tables are not corrected.
- Cells whose model probability is at most ``sqrt(.Machine$double.eps)`` are
  left out of the gradient and have zero score, as in lavaan.
- Gamma is lavaan's ``NACOV`` = ``n`` times the estimated covariance matrix of the
  estimates (``gamma.n.minus.one = FALSE``); the DWLS weight is its inverse diagonal.

References
----------
Genz, A. (2004). Numerical computation of rectangular bivariate and trivariate
normal and t probabilities. Statistics and Computing, 14, 251-260.
Drezner, Z., & Wesolowsky, G. O. (1990). On the computation of the bivariate normal
integral. Journal of Statistical Computation and Simulation, 35, 101-107.
Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation
coefficient. Psychometrika, 44, 443-460.
Muthen, B. (1984). A general structural equation model with dichotomous, ordered
categorical, and continuous latent variable indicators. Psychometrika, 49, 115-132.
Muthen, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted
least squares and quadratic estimating equations in latent variable modeling with
categorical and continuous outcomes. Unpublished technical report.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal
of Statistical Software, 48(2), 1-36 (version 0.6-14: ``muthen1984``,
``lav_samplestats_step1``, ``lav_samplestats_step2``, ``lav_bvord_cor_twostep_fit``).
Revelle, W. (2022). psych: Procedures for psychological, psychometric, and
personality research (R package 2.2.9): ``polychoric``, ``cor.smooth``.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(7)
>>> z = rng.multivariate_normal([0, 0, 0], [[1, .5, .4], [.5, 1, .3], [.4, .3, 1]], 2000)
>>> x = pd.DataFrame(np.digitize(z, [-1.0, 0.0, 1.0]) + 1, columns=["a", "b", "c"])
>>> m = ordinal_moments(x)
>>> m.n, m.levels[0], np.round(m.thresholds[0], 2)
(2000, (1, 2, 3, 4), array([-1.01, -0.05,  0.98]))
>>> np.round(m.corr, 2)
array([[1.  , 0.5 , 0.4 ],
       [0.5 , 1.  , 0.33],
       [0.4 , 0.33, 1.  ]])
>>> m.stat_names[-3:], m.gamma.shape, bool(np.allclose(m.wls_weight, 1 / np.diag(m.gamma)))
(('a~~b', 'a~~c', 'b~~c'), (12, 12), True)
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

__all__ = [
    "OrdinalMoments",
    "PsychPolychoric",
    "ordinal_moments",
    "ordinal_moments_by_group",
    "psych_polychoric",
    "observed_categories",
    "cor_smooth",
    "bvn_cdf",
    "bvn_pdf",
    "polychoric_fit",
    "brent_fmin",
    "bench",
    "LAVAAN_RHO_BOUND",
]

_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))
#: lavaan's bounds for a polychoric correlation (``nlminb(lower = -0.999, upper = 0.999)``).
LAVAAN_RHO_BOUND = 0.999
#: psych: ``optimize(interval = c(-1, 1))``; kept 1e-6 off the singular ends, where cell
#: probabilities lose their relative accuracy (psych's optimize never gets that close either).
_PSYCH_RHO_BOUND = 1.0 - 1e-6
_MISSING = ("listwise", "pairwise")
_TWO_PI = 2.0 * np.pi
#: Gauss-Legendre rule on [-1, 1] for the bivariate normal integrals (Genz 2004 uses
#: 6, 12 or 20 points by |rho|; 20 everywhere is at least as accurate).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
#: Newton iterations per batch of pairs (each also shrinks a bracket; bisection alone
#: needs ~45 to reach 1e-13, so this limit is never what stops a fit).
_MAX_ITER = 200
_RHO_XTOL = 1e-13
#: Rows of response patterns per chunk when gathering scores / counting tables.
_CHUNK_CELLS = 4_000_000


# ------------------------------------------------------------------------ bivariate normal
def bvn_pdf(h, k, rho):
    """Standard bivariate normal density with correlation ``rho``.

    ``phi2(h, k; r) = exp(-(h^2 - 2 r h k + k^2) / (2 (1 - r^2))) / (2 pi sqrt(1 - r^2))``;
    0 where ``h`` or ``k`` is infinite. ``|rho| < 1``.

    >>> round(float(bvn_pdf(0.0, 0.0, 0.5)), 6)
    0.183776
    >>> float(bvn_pdf(np.inf, 0.3, 0.2))
    0.0
    """
    h, k, rho = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (h, k, rho)))
    out = np.zeros(h.shape)
    ok = np.isfinite(h) & np.isfinite(k)
    hh, kk, rr = h[ok], k[ok], rho[ok]
    r2 = 1.0 - rr * rr
    out[ok] = np.exp(-(hh * hh - 2.0 * rr * hh * kk + kk * kk) / (2.0 * r2)) / (_TWO_PI * np.sqrt(r2))
    return out


def _bvnu(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Upper orthant ``P(X > h, Y > k)`` for finite 1-D ``h, k`` and ``|r| <= 1`` (Genz 2004)."""
    out = np.empty(h.shape)
    small = np.abs(r) < 0.925
    if small.any():
        # Drezner & Wesolowsky (1990): Phi(-h)Phi(-k) + 1/(2 pi) int_0^asin(r) exp(...) dtheta
        hs, ks, rs = h[small], k[small], r[small]
        hk = (hs * ks)[:, None]
        half = ((hs * hs + ks * ks) / 2.0)[:, None]
        asr = np.arcsin(rs)
        sn = np.sin(asr[:, None] * (1.0 + _GL_X) / 2.0)
        integral = (_GL_W * np.exp((sn * hk - half) / (1.0 - sn * sn))).sum(axis=1)
        out[small] = integral * asr / (2.0 * _TWO_PI) + ndtr(-hs) * ndtr(-ks)
    large = ~small
    if large.any():
        hl, kl, rl = h[large], k[large], r[large]
        neg = rl < 0
        kl = np.where(neg, -kl, kl)
        hk = hl * kl
        bvn = np.zeros(hl.shape)
        inner = np.abs(rl) < 1.0
        if inner.any():
            hi, ki, ri, hki = hl[inner], kl[inner], rl[inner], hk[inner]
            as_ = (1.0 - ri) * (1.0 + ri)
            a = np.sqrt(as_)
            bs = (hi - ki) ** 2
            c = (4.0 - hki) / 8.0
            d = (12.0 - hki) / 16.0
            e1 = -(bs / as_ + hki) / 2.0
            val = np.where(e1 > -100.0,
                           a * np.exp(np.maximum(e1, -100.0))
                           * (1.0 - c * (bs - as_) * (1.0 - d * bs / 5.0) / 3.0 + c * d * as_ * as_ / 5.0),
                           0.0)
            b = np.sqrt(bs)
            tail = np.exp(-np.maximum(hki, -100.0) / 2.0) * np.sqrt(_TWO_PI) * ndtr(-b / a) * b \
                * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0)
            val = val - np.where(hki > -100.0, tail, 0.0)
            a2 = (a / 2.0)[:, None]
            xs = (a2 * (_GL_X + 1.0)) ** 2
            rs = np.sqrt(1.0 - xs)
            e2 = -(bs[:, None] / xs + hki[:, None]) / 2.0
            e2c = np.maximum(e2, -100.0)
            term = a2 * _GL_W * (np.exp(e2c - hki[:, None] * xs / (2.0 * (1.0 + rs) ** 2)) / rs
                                 - np.exp(e2c) * (1.0 + c[:, None] * xs * (1.0 + d[:, None] * xs)))
            val = val + np.where(e2 > -100.0, term, 0.0).sum(axis=1)
            bvn[inner] = -val / _TWO_PI
        pos_r = ~neg
        res = np.empty(hl.shape)
        res[pos_r] = bvn[pos_r] + ndtr(-np.maximum(hl[pos_r], kl[pos_r]))
        hn, kn, bn = hl[neg], kl[neg], bvn[neg]
        lo = np.where(hn < 0, ndtr(kn) - ndtr(hn), ndtr(-hn) - ndtr(-kn))
        res[neg] = np.where(hn >= kn, -bn, lo - bn)
        out[large] = res
    return np.clip(out, 0.0, 1.0)


def bvn_cdf(h, k, rho):
    """Standard bivariate normal distribution function ``P(X <= h, Y <= k)``, vectorised.

    Genz's (2004) method: for ``|rho| < 0.925`` Drezner & Wesolowsky's (1990)
    integral over ``asin(rho)`` by 20-point Gauss-Legendre, otherwise their
    asymptotic expansion near ``|rho| = 1`` plus a Gauss-Legendre correction;
    accurate to about 1e-15 (tested against ``scipy.stats.multivariate_normal``).
    Arguments broadcast; ``h`` and ``k`` may be infinite, ``-1 <= rho <= 1``.

    >>> round(float(bvn_cdf(0.0, 0.0, 0.5)), 12)  # 1/4 + asin(0.5) / (2 pi) = 1/3
    0.333333333333
    >>> bvn_cdf([np.inf, -np.inf], [0.0, 1.0], 0.3).tolist()
    [0.5, 0.0]
    """
    h, k, rho = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (h, k, rho)))
    out = np.zeros(h.shape)
    fin = np.isfinite(h) & np.isfinite(k)
    hpos, kpos = h == np.inf, k == np.inf
    out[hpos & kpos] = 1.0
    only_k = hpos & np.isfinite(k)
    out[only_k] = ndtr(k[only_k])
    only_h = kpos & np.isfinite(h)
    out[only_h] = ndtr(h[only_h])
    if fin.any():
        out[fin] = _bvnu(-h[fin], -k[fin], rho[fin])
    return out


# ---------------------------------------------------------------------------- input checks
def _as_frame(x) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        frame = x
    else:
        arr = np.asarray(x)
        if arr.ndim != 2:
            raise ValueError(f"ordinal items must be a 2-D table (respondents x items); got shape {arr.shape}")
        frame = pd.DataFrame(arr, columns=[f"x{j + 1}" for j in range(arr.shape[1])])
    if frame.shape[1] < 1:
        raise ValueError("ordinal items: the table has no item columns")
    if len(set(map(str, frame.columns))) != frame.shape[1]:
        raise ValueError(f"ordinal items: column names must be unique; got {list(frame.columns)}")
    return frame


def _numeric_values(frame: pd.DataFrame) -> np.ndarray:
    """Float matrix (NaN = missing) after checking every answer is an integer category code."""
    values = np.empty(frame.shape)
    for j, col in enumerate(frame.columns):
        s = frame[col]
        try:
            v = pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            bad = pd.to_numeric(s, errors="coerce").isna() & s.notna()
            row = s.index[np.argmax(bad.to_numpy())]
            raise ValueError(
                f"ordinal items: column {col!r}, row {row!r} holds {s.loc[row]!r}, which is not a "
                "number; ordered answers must be integer category codes (missing as NaN)."
            ) from None
        bad = ~np.isnan(v) & ((v != np.round(v)) | ~np.isfinite(v))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"ordinal items: column {col!r}, row {s.index[i]!r} holds {float(v[i])!r}, which is not an "
                "integer category code; recode ordered answers as integers (missing as NaN) first."
            )
        values[:, j] = v
    return values


def observed_categories(x) -> dict[str, tuple[int, ...]]:
    """The category codes used per item (sorted), over all rows given.

    Pass the result for the whole sample as ``categories`` to :func:`ordinal_moments`
    called per group, so that every group has the same thresholds (lavaan codes the
    categories once over all groups, and refuses a group in which one is empty).

    >>> observed_categories(pd.DataFrame({"a": [1, 3, 3, None], "b": [0, 1, 1, 0]}))
    {'a': (1, 3), 'b': (0, 1)}
    """
    frame = _as_frame(x)
    return _observed(frame, _numeric_values(frame))


def _observed(frame: pd.DataFrame, values: np.ndarray) -> dict[str, tuple[int, ...]]:
    return {str(c): tuple(int(v) for v in np.unique(values[~np.isnan(values[:, j]), j]))
            for j, c in enumerate(frame.columns)}


def _codes(frame: pd.DataFrame, values: np.ndarray, categories) -> tuple[np.ndarray, tuple]:
    """0-based category codes (-1 = missing) and the category values of each item."""
    names = [str(c) for c in frame.columns]
    if categories is None:
        cats = _observed(frame, values)
    else:
        if not isinstance(categories, Mapping):
            raise ValueError("categories must map each item name to its category codes")
        missing_items = [c for c in names if c not in categories]
        if missing_items:
            raise ValueError(f"categories: no category codes given for items {missing_items}")
        cats = {c: tuple(int(v) for v in sorted(set(categories[c]))) for c in names}
    codes = np.full(values.shape, -1, dtype=np.int16)
    for j, name in enumerate(names):
        levels = np.asarray(cats[name], dtype=float)
        v = values[:, j]
        ok = ~np.isnan(v)
        pos = np.searchsorted(levels, v[ok])
        found = pos < len(levels)
        found[found] = levels[pos[found]] == v[ok][found]
        if not found.all():
            i = np.flatnonzero(ok)[np.argmin(found)]
            raise ValueError(
                f"ordinal items: column {name!r}, row {frame.index[i]!r} holds {v[i]:g}, which is not "
                f"one of the item's categories {list(cats[name])}; add it to `categories` or recode it."
            )
        codes[ok, j] = pos
    return codes, tuple(cats[c] for c in names)


# ------------------------------------------------------------------------------- tables
def _patterns(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct response patterns (rows) and how many respondents gave each."""
    if codes.shape[0] == 0:
        return codes, np.zeros(0)
    uniq, counts = np.unique(codes, axis=0, return_counts=True)
    return uniq, counts.astype(float)


def _chunks(m: int, width: int):
    step = max(1, _CHUNK_CELLS // max(width, 1))
    for start in range(0, m, step):
        yield slice(start, min(m, start + step))


def _pair_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs in lavaan's ``vech(R, diagonal = FALSE)`` order: (i, j) = (row, column), i > j,
    column by column: (2,1), (3,1), ..., (p,1), (3,2), ... (0-based here)."""
    jj, ii = np.triu_indices(p, 1)  # row-major upper triangle = column-major lower triangle
    return ii, jj


def _cell_index(pat: np.ndarray, ii: np.ndarray, jj: np.ndarray, kmax: int) -> np.ndarray:
    """Flat index of each (pattern, pair) cell in a (pairs, kmax + 1, kmax + 1) array;
    a missing answer (-1) goes to row / column ``kmax``."""
    k1 = kmax + 1
    c = np.where(pat < 0, kmax, pat).astype(np.int32)
    idx = c[:, ii] * np.int32(k1)
    idx += c[:, jj]
    idx += (np.arange(len(ii), dtype=np.int32) * np.int32(k1 * k1))[None, :]
    return idx


def _pair_tables(pat: np.ndarray, w: np.ndarray, ii: np.ndarray, jj: np.ndarray, kmax: int) -> np.ndarray:
    """Weighted bivariate tables of all pairs, shape (pairs, kmax, kmax); rows = item ii."""
    npair = len(ii)
    k1 = kmax + 1
    out = np.zeros(npair * k1 * k1)
    unit = bool(np.all(w == 1))
    for sl in _chunks(len(w), npair):
        idx = _cell_index(pat[sl], ii, jj, kmax).ravel()
        wt = None if unit else np.repeat(w[sl], npair)
        out += np.bincount(idx, weights=wt, minlength=out.size)
    return out.reshape(npair, k1, k1)[:, :kmax, :kmax]


# ----------------------------------------------------------------------- polychoric fits
def _bounds(tau: np.ndarray) -> np.ndarray:
    """Category bounds (..., K + 1): -inf, thresholds (padded with +inf), +inf."""
    shape = tau.shape[:-1] + (1,)
    return np.concatenate([np.full(shape, -np.inf), tau, np.full(shape, np.inf)], axis=-1)


def _cell_model(e1: np.ndarray, e2: np.ndarray, rho: np.ndarray, second: bool = True):
    """Cell probabilities and their first (and second) derivatives in rho for pairs.

    ``e1`` (P, K1 + 1) and ``e2`` (P, K2 + 1) are the category bounds of the row and
    column item of each pair. ``pi_ab = F(u1,u2) - F(l1,u2) - F(u1,l2) + F(l1,l2)``
    with ``F`` the bivariate normal distribution function; ``dpi/drho`` is the same
    difference of bivariate densities (Plackett 1954), ``d2pi/drho2`` of
    ``phi2 * g(u, v)`` with ``g = (u v R - rho (u^2 - 2 rho u v + v^2) + rho R) / R^2``,
    ``R = 1 - rho^2``.
    """
    P = rho.shape[0]
    u = np.broadcast_to(e1[:, :, None], (P, e1.shape[1], e2.shape[1]))
    v = np.broadcast_to(e2[:, None, :], (P, e1.shape[1], e2.shape[1]))
    r = np.broadcast_to(rho[:, None, None], u.shape)
    F = bvn_cdf(u, v, r)
    pi = F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]
    D = bvn_pdf(u, v, r)
    dpi = D[:, 1:, 1:] - D[:, :-1, 1:] - D[:, 1:, :-1] + D[:, :-1, :-1]
    if not second:
        return pi, dpi, None
    R = 1.0 - r * r
    fin = D > 0
    uu, vv, rr, RR = u[fin], v[fin], r[fin], R[fin]
    G = np.zeros(D.shape)
    G[fin] = D[fin] * (uu * vv * RR - rr * (uu * uu - 2.0 * rr * uu * vv + vv * vv) + rr * RR) / (RR * RR)
    d2pi = G[:, 1:, 1:] - G[:, :-1, 1:] - G[:, 1:, :-1] + G[:, :-1, :-1]
    return pi, dpi, d2pi


def _score_terms(freq, e1, e2, rho, min_prob):
    pi, dpi, d2pi = _cell_model(e1, e2, rho)
    ok = (pi > min_prob) & (freq > 0)
    safe = np.where(ok, pi, 1.0)
    grad = np.where(ok, freq * dpi / safe, 0.0).sum(axis=(1, 2))
    hess = np.where(ok, freq * (d2pi / safe - (dpi / safe) ** 2), 0.0).sum(axis=(1, 2))
    return grad, hess


def polychoric_fit(freq, tau1, tau2, start=None, bound: float = LAVAAN_RHO_BOUND,
                   min_prob: float = _SQRT_EPS) -> np.ndarray:
    """Maximum-likelihood polychoric correlations of many tables at once, thresholds fixed.

    Maximises ``l(rho) = sum_ab n_ab log pi_ab(rho)`` (Olsson 1979, two-step) for every
    table by a batched Newton iteration from ``start`` inside a bracket that shrinks
    with every score evaluated (a step that leaves the bracket or where the
    likelihood is not concave is replaced by bisection), so it converges for every
    table: to the root of the score, or to the bound when the score is positive
    (negative) all the way (lavaan's ``nlminb`` bounds ``[-0.999, 0.999]``). Cells with
    ``pi_ab <= min_prob`` are left out (lavaan: ``sqrt(.Machine$double.eps)``;
    psych: 0).

    Parameters
    ----------
    freq : array (P, K1, K2)
        Counts (or weights) of each pair's table; rows belong to the first item.
    tau1, tau2 : arrays (P, K1 - 1), (P, K2 - 1)
        Thresholds, padded with ``+inf`` for unused trailing categories.
    start : array (P,), optional
        Starting values (default 0).

    >>> freq = np.array([[[40., 10.], [10., 40.]]])
    >>> rho = polychoric_fit(freq, np.zeros((1, 1)), np.zeros((1, 1)))
    >>> round(float(rho[0]), 10), round(float(-np.cos(2 * np.pi * 0.4)), 10)
    (0.8090169944, 0.8090169944)
    """
    freq = np.asarray(freq, dtype=float)
    P = freq.shape[0]
    e1, e2 = _bounds(np.asarray(tau1, float)), _bounds(np.asarray(tau2, float))
    # The bracket starts as the bounds, assumed (never evaluated: near +-1 cells whose
    # probability underflows drop out and the score there is meaningless; lavaan's
    # nlminb and psych's optimize are local searches that never go there either).
    lo = np.full(P, -bound)
    hi = np.full(P, bound)
    rho = np.clip(np.zeros(P) if start is None else np.asarray(start, float), -bound, bound)
    rho = np.where(np.isfinite(rho), rho, 0.0)
    active = np.arange(P)
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        x = rho[active]
        g, h = _score_terms(freq[active], e1[active], e2[active], x, min_prob)
        up = g > 0
        lo[active] = np.where(up, x, lo[active])
        hi[active] = np.where(up, hi[active], x)
        newton = x - g / np.where(h < 0, h, -1.0)
        bad = (h >= 0) | ~np.isfinite(newton) | (newton <= lo[active]) | (newton >= hi[active])
        x_new = np.where(bad, (lo[active] + hi[active]) / 2.0, newton)
        done = (np.abs(x_new - x) <= _RHO_XTOL) | (hi[active] - lo[active] <= _RHO_XTOL) | (g == 0)
        rho[active] = np.where(g == 0, x, x_new)
        active = active[~done]
    if active.size:  # pragma: no cover - the bracket halves at worst, so 200 steps always suffice
        raise RuntimeError(f"polychoric correlation did not converge for {active.size} tables")
    # a maximum on the boundary is approached by bisection to within the tolerance: snap to it
    rho = np.where(np.abs(rho) >= bound - 4 * _RHO_XTOL, np.sign(rho) * bound, rho)
    return rho


def _neg_loglik(freq, e1, e2, rho):
    """psych's ``polyF``: ``-sum tab log P`` over cells with ``P > 0`` (``tab`` = proportions)."""
    pi, _, _ = _cell_model(e1, e2, rho, second=False)
    ok = pi > 0
    tab = freq / freq.sum(axis=(1, 2), keepdims=True)
    return -np.where(ok, tab * np.log(np.where(ok, pi, 1.0)), 0.0).sum(axis=(1, 2))


def brent_fmin(fun, lower: np.ndarray, upper: np.ndarray, tol: float) -> np.ndarray:
    """Minimise many univariate functions at once by Brent's (1973) method, as R's ``optimize``.

    Golden-section search with parabolic interpolation, step for step as in Brent's
    ``fmin`` (R's ``Brent_fmin``: stop when ``|x - m| <= 2 tol1 - (b - a) / 2`` with
    ``tol1 = sqrt(eps) |x| + tol / 3``), run in lockstep over the problems.
    ``fun(u, idx)`` returns the objective of problems ``idx`` at points ``u``.
    Used to reproduce psych's ``optimize(polyF, c(-1, 1))`` (tol = eps^0.25), whose
    stopping rule leaves about 1e-5 between psych and the exact maximum.

    >>> brent_fmin(lambda u, idx: (u - np.array([0.3, -0.5])[idx]) ** 2,
    ...            np.array([-1.0, -1.0]), np.array([1.0, 1.0]), 1e-10).round(8).tolist()
    [0.3, -0.5]
    """
    c = (3.0 - np.sqrt(5.0)) * 0.5
    eps = np.sqrt(np.finfo(float).eps)
    tol3 = tol / 3.0
    a, b = np.array(lower, float), np.array(upper, float)
    m = a.shape[0]
    v = a + c * (b - a)
    w, x = v.copy(), v.copy()
    d, e = np.zeros(m), np.zeros(m)
    fx = np.asarray(fun(x, np.arange(m)), float)
    fv, fw = fx.copy(), fx.copy()
    active = np.arange(m)
    for _ in range(10_000):
        xa, aa, ba = x[active], a[active], b[active]
        xm = (aa + ba) * 0.5
        tol1 = eps * np.abs(xa) + tol3
        t2 = tol1 * 2.0
        stop = np.abs(xa - xm) <= t2 - (ba - aa) * 0.5
        keep = ~stop
        active, xa, aa, ba, xm, tol1, t2 = (z[keep] for z in (active, xa, aa, ba, xm, tol1, t2))
        if active.size == 0:
            break
        wa, va, fxa, fwa, fva = w[active], v[active], fx[active], fw[active], fv[active]
        da, ea = d[active], e[active]
        fit = np.abs(ea) > tol1
        r = np.where(fit, (xa - wa) * (fxa - fva), 0.0)
        q = np.where(fit, (xa - va) * (fxa - fwa), 0.0)
        p = np.where(fit, (xa - va) * q - (xa - wa) * r, 0.0)
        q = np.where(fit, (q - r) * 2.0, 0.0)
        p = np.where(fit & (q > 0), -p, p)
        q = np.abs(q)
        r = np.where(fit, ea, 0.0)
        ea = np.where(fit, da, ea)
        golden = (np.abs(p) >= np.abs(q * 0.5 * r)) | (p <= q * (aa - xa)) | (p >= q * (ba - xa))
        e_gold = np.where(xa < xm, ba - xa, aa - xa)
        with np.errstate(divide="ignore", invalid="ignore"):
            d_par = p / q
        u_par = xa + d_par
        near_end = (u_par - aa < t2) | (ba - u_par < t2)
        d_par = np.where(near_end, np.where(xa >= xm, -tol1, tol1), d_par)
        ea = np.where(golden, e_gold, ea)
        da = np.where(golden, c * e_gold, d_par)
        u = np.where(np.abs(da) >= tol1, xa + da, np.where(da > 0, xa + tol1, xa - tol1))
        fu = np.asarray(fun(u, active), float)
        better = fu <= fxa
        # fu <= fx: the bracket moves to x's side, x becomes u
        a_new = np.where(better, np.where(u < xa, aa, xa), np.where(u < xa, u, aa))
        b_new = np.where(better, np.where(u < xa, xa, ba), np.where(u < xa, ba, u))
        to_w = ~better & ((fu <= fwa) | (wa == xa))
        to_v = ~better & ~to_w & ((fu <= fva) | (va == xa) | (va == wa))
        v[active] = np.where(better, wa, np.where(to_w, wa, np.where(to_v, u, va)))
        fv[active] = np.where(better, fwa, np.where(to_w, fwa, np.where(to_v, fu, fva)))
        w[active] = np.where(better, xa, np.where(to_w, u, wa))
        fw[active] = np.where(better, fxa, np.where(to_w, fu, fwa))
        x[active] = np.where(better, u, xa)
        fx[active] = np.where(better, fu, fxa)
        a[active], b[active], d[active], e[active] = a_new, b_new, da, ea
    return x


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class OrdinalMoments:
    """Ordinal sample statistics of one group (lavaan's step 1 + 2 and NACOV).

    Fields
    ------
    items : tuple of str
        Item names, in the order of every array below.
    n : int
        Respondents used: complete cases (``listwise``) or respondents with at least
        one answer (``pairwise``); lavaan's ``nobs``. Gamma is scaled by this ``n``.
    n_excluded : int
        Rows given but not used (incomplete rows, or rows without any answer).
    n_pairs : ndarray (p, p) of int
        Respondents who answered both items; the diagonal is each item's count.
    levels : tuple of tuple of int
        Category codes of each item, lowest first (``len - 1`` thresholds).
    thresholds : tuple of ndarray
        Thresholds per item (lavaan ``lavInspect(fit, "th")``).
    corr : ndarray (p, p)
        Polychoric correlations (tetrachoric for two binary items).
    gamma : ndarray (q, q) or None
        lavaan's ``NACOV`` / ``lavInspect(fit, "gamma")``: ``n`` times the asymptotic
        covariance matrix of :attr:`wls_obs`; None when not requested.
    wls_weight : ndarray (q,) or None
        Diagonal of the DWLS weight matrix, ``1 / diag(gamma)`` (``lavInspect(fit, "wls.v")``).
    missing : str
        ``"listwise"`` or ``"pairwise"``.
    stat_names : tuple of str
        lavaan's names of the statistics: ``item|t1``, ..., then ``a~~b``.
    stat_n : ndarray (q,) of int
        Respondents behind each statistic (the item's or the pair's count).
    zero_cell_pairs : tuple of (str, str)
        Pairs whose bivariate table has an empty cell (lavaan's ``zero.cell.tables``).
    """

    items: tuple[str, ...]
    n: int
    n_excluded: int
    n_pairs: np.ndarray
    levels: tuple[tuple[int, ...], ...]
    thresholds: tuple[np.ndarray, ...]
    corr: np.ndarray
    gamma: np.ndarray | None
    wls_weight: np.ndarray | None
    missing: str
    stat_names: tuple[str, ...]
    stat_n: np.ndarray
    zero_cell_pairs: tuple[tuple[str, str], ...]

    @property
    def threshold_vector(self) -> np.ndarray:
        """All thresholds, item by item (lavaan's ``th`` order)."""
        return np.concatenate(self.thresholds) if self.thresholds else np.zeros(0)

    @property
    def wls_obs(self) -> np.ndarray:
        """The statistics vector: thresholds, then ``vech(corr, diagonal = FALSE)``."""
        ii, jj = _pair_index(len(self.items))
        return np.concatenate([self.threshold_vector, self.corr[ii, jj]])


@dataclass(frozen=True)
class PsychPolychoric:
    """``psych::polychoric(x)`` (psych 2.2.9).

    ``rho``: the correlation matrix (smoothed when it was not positive definite,
    ``smoothed`` then True); ``tau``: thresholds (items x number of categories - 1),
    on psych's global category range, so an unused lowest category gives ``-inf``;
    ``n_obs``: rows given; ``global_thresholds``: whether the item thresholds were
    used for every pair (False when items differ in their highest category, as psych
    decides, or when asked); ``n_corrected``: pairs whose table got the continuity
    correction; ``dropped``: items without variance, left out as psych does.
    """

    items: tuple[str, ...]
    rho: np.ndarray
    tau: np.ndarray
    n_obs: int
    global_thresholds: bool
    smoothed: bool
    n_corrected: int
    dropped: tuple[str, ...]


# ----------------------------------------------------------------------- lavaan route
def _lavaan_tetrachoric(freq: np.ndarray, tau_i: np.ndarray, tau_j: np.ndarray):
    """lavaan's special cases for 2 x 2 tables: (fixed rho or NaN, adjusted tables, two-empty flag)."""
    f = freq.copy()
    zeros = (f == 0).sum(axis=(1, 2))
    fixed = np.full(len(f), np.nan)
    two = zeros == 2
    fixed[two] = np.where(f[two, 0, 0] > 0, 1.0, -1.0)
    one = zeros == 1
    if one.any():
        diag_zero = (f[:, 0, 0] == 0) | (f[:, 1, 1] == 0)
        sign = np.where(diag_zero, 1.0, -1.0)[one] * 0.5
        f[one, 0, 0] += sign
        f[one, 1, 1] += sign
        f[one, 0, 1] -= sign
        f[one, 1, 0] -= sign
    rest = np.isnan(fixed)
    indep = rest & (f[:, 0, 0] * f[:, 1, 1] == f[:, 0, 1] * f[:, 1, 0])
    fixed[indep] = 0.0
    median = rest & ~indep & (tau_i == 0) & (tau_j == 0)
    fixed[median] = -np.cos(_TWO_PI * f[median, 0, 0] / f[median].sum(axis=(1, 2)))
    return fixed, f, two


def _pearson_from_tables(freq: np.ndarray) -> np.ndarray:
    """Pearson correlation of the category numbers 1..K from each table (lavaan's start)."""
    K1, K2 = freq.shape[1:]
    a = np.arange(1, K1 + 1, dtype=float)[None, :, None]
    b = np.arange(1, K2 + 1, dtype=float)[None, None, :]
    n = freq.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        ma, mb = (freq * a).sum(axis=(1, 2)) / n, (freq * b).sum(axis=(1, 2)) / n
        va = (freq * (a - ma[:, None, None]) ** 2).sum(axis=(1, 2))
        vb = (freq * (b - mb[:, None, None]) ** 2).sum(axis=(1, 2))
        cab = (freq * (a - ma[:, None, None]) * (b - mb[:, None, None])).sum(axis=(1, 2))
        r = cab / np.sqrt(va * vb)
    return np.where(np.isfinite(r) & (np.abs(r) < 1), r, 0.0)


def ordinal_moments(x, missing: str = "listwise", categories: Mapping[str, Sequence[int]] | None = None,
                    gamma: bool = True) -> OrdinalMoments:
    """Thresholds, polychoric correlations and their asymptotic covariance, as lavaan computes them.

    Parameters
    ----------
    x : DataFrame or 2-D array
        One row per respondent of one group, one column per item; integer category
        codes (any integers, e.g. 1-7 or 0/1), NaN = missing.
    missing : {"listwise", "pairwise"}
        lavaan's ``missing`` argument for categorical data.
    categories : mapping item -> codes, optional
        The categories of each item; default: the codes used in ``x`` (all rows).
        Give the codes of the whole sample when calling once per group.
    gamma : bool
        Also compute Gamma (NACOV) and the DWLS weight; costs O(n q^2) with
        ``q`` = number of statistics. Not needed for polychoric EFA.

    Returns
    -------
    OrdinalMoments

    Notes
    -----
    Step 1 (per item ``i``, categories ``c = 1..K``): ``tau_ic = Phi^-1(sum_{c' <= c} n_ic' / n_i)``.
    Step 2 (per pair): ``rho_ij = argmax sum_ab n_ab log pi_ab(rho; tau_i, tau_j)``, where
    ``pi_ab`` is the bivariate normal probability of the cell's rectangle.
    Gamma (Muthen 1984): with per-respondent scores ``s_r`` (threshold scores of the
    univariate likelihoods, correlation scores of the bivariate ones, zero where an
    answer is missing), ``J = sum_r s_r s_r'`` and the score-derivative matrix ``B``
    (lavaan: block-diagonal outer products for the thresholds, the diagonal outer
    product for each correlation, and the cross-derivative of each pair's score in
    its items' thresholds), ``Gamma = n B^-1 J B^-T``.

    Raises
    ------
    ValueError
        Non-integer or unknown codes, an item with fewer than two categories, a
        category without answers among the respondents used, a pair without joint
        answers, no respondents left.

    >>> x = pd.DataFrame({"a": [1, 2, 2, 1, 2, 1, 2, 2], "b": [1, 2, 1, 1, 2, 2, 2, 1]})
    >>> m = ordinal_moments(x)
    >>> m.stat_names, [round(float(t[0]), 4) for t in m.thresholds], round(float(m.corr[0, 1]), 4)
    (('a|t1', 'b|t1', 'a~~b'), [-0.3186, 0.0], 0.4027)
    """
    if missing not in _MISSING:
        raise ValueError(f"missing must be one of {_MISSING}; got {missing!r}")
    frame = _as_frame(x)
    items = tuple(str(c) for c in frame.columns)
    values = _numeric_values(frame)
    codes, levels = _codes(frame, values, categories)
    n_rows, p = codes.shape
    answered = codes >= 0
    if missing == "listwise":
        keep = answered.all(axis=1)
        what = "after listwise deletion (complete rows only)"
    else:
        keep = answered.any(axis=1)
        what = "among respondents with at least one answer"
    codes = codes[keep]
    n = int(keep.sum())
    if n == 0:
        raise ValueError(f"ordinal items {list(items)}: no respondents left {what}; "
                         "check the missing-value codes or use missing='pairwise'.")
    ncat = np.array([len(lv) for lv in levels])
    kmax = max(int(ncat.max()), 2)

    # step 1: thresholds per item, from each item's answers
    pat, w = _patterns(codes)
    counts = np.zeros((p, kmax))
    for j in range(p):  # p small bincounts over the distinct patterns (not over respondents)
        ok = pat[:, j] >= 0
        counts[j] = np.bincount(pat[ok, j], weights=w[ok], minlength=kmax)[:kmax]
    for j in range(p):
        if ncat[j] < 2:
            used = f"only one category {list(levels[j])}" if ncat[j] else "no answers"
            raise ValueError(f"ordinal items: item {items[j]!r} has {used}; an item needs two or more "
                             "categories for thresholds and correlations; drop it from the analysis.")
        empty = [levels[j][c] for c in range(ncat[j]) if counts[j, c] == 0]
        if empty:
            raise ValueError(
                f"ordinal items: item {items[j]!r} has no answers in categories {empty} {what} "
                f"(counts {counts[j, :ncat[j]].astype(int).tolist()} for {list(levels[j])}); lavaan "
                "refuses this too. Merge the empty category with a neighbour, or use missing='pairwise'."
            )
    n_item = counts.sum(axis=1)
    cum = np.cumsum(counts, axis=1) / n_item[:, None]
    tau_pad = np.full((p, max(kmax - 1, 1)), np.inf)
    thresholds = []
    for j in range(p):
        t = ndtri(cum[j, :ncat[j] - 1])
        tau_pad[j, :ncat[j] - 1] = t
        thresholds.append(t)

    # step 2: polychoric correlations per pair
    ii, jj = _pair_index(p)
    npair = len(ii)
    freq = _pair_tables(pat, w, ii, jj, kmax)
    n_pair_vec = freq.sum(axis=(1, 2))
    if npair and (n_pair_vec == 0).any():
        k = int(np.argmax(n_pair_vec == 0))
        raise ValueError(f"ordinal items: no respondent answered both {items[jj[k]]!r} and {items[ii[k]]!r}; "
                         "their correlation is not defined. Drop one of them or collect joint answers.")
    n_pairs = np.diag(n_item).astype(np.int64)
    n_pairs[ii, jj] = n_pairs[jj, ii] = n_pair_vec.astype(np.int64)
    cat_ok = (np.arange(kmax)[None, :] < ncat[:, None])
    cell_ok = cat_ok[ii][:, :, None] & cat_ok[jj][:, None, :]
    zero_cell = ((freq == 0) & cell_ok).any(axis=(1, 2))
    rho = np.zeros(npair)
    if npair:
        t1, t2 = tau_pad[ii], tau_pad[jj]
        fit_freq = freq.copy()
        binary = (ncat[ii] == 2) & (ncat[jj] == 2)
        fixed = np.full(npair, np.nan)
        warned = np.zeros(npair, bool)
        if binary.any():
            fx, adj, two = _lavaan_tetrachoric(freq[binary][:, :2, :2], t1[binary, 0], t2[binary, 0])
            fixed[binary] = fx
            sub = fit_freq[binary]
            sub[:, :2, :2] = adj
            fit_freq[binary] = sub
            warned[np.flatnonzero(binary)[two]] = True
            for k in np.flatnonzero(binary)[two]:
                warnings.warn(f"ordinal items: two empty cells in the 2 x 2 table of {items[jj[k]]!r} and "
                              f"{items[ii[k]]!r}; their tetrachoric correlation is set to "
                              f"{fixed[k]:+.0f} (lavaan does the same).", stacklevel=2)
        free = np.isnan(fixed)
        rho = fixed.copy()
        if free.any():
            rho[free] = polychoric_fit(fit_freq[free], t1[free], t2[free],
                                       start=_pearson_from_tables(freq[free]))
        near = np.flatnonzero((np.abs(rho) > 0.99) & ~warned)
        if near.size:
            names = ", ".join(f"{items[jj[k]]}~~{items[ii[k]]} = {rho[k]:.4f}" for k in near)
            warnings.warn(f"ordinal items: polychoric correlations (nearly) 1.0: {names}", stacklevel=2)
    corr = np.eye(p)
    corr[ii, jj] = corr[jj, ii] = rho

    th_names = [f"{items[j]}|t{k + 1}" for j in range(p) for k in range(ncat[j] - 1)]
    stat_names = tuple(th_names + [f"{items[jj[k]]}~~{items[ii[k]]}" for k in range(npair)])
    stat_n = np.concatenate([np.repeat(n_item, ncat - 1), n_pair_vec]).astype(np.int64)
    gam = wls = None
    if gamma:
        gam = _nacov(pat, w, n, tau_pad, ncat, ii, jj, freq, rho)
        with np.errstate(divide="ignore"):
            wls = 1.0 / np.diag(gam)
    return OrdinalMoments(
        items=items, n=n, n_excluded=int(n_rows - n), n_pairs=n_pairs, levels=levels,
        thresholds=tuple(thresholds), corr=corr, gamma=gam, wls_weight=wls, missing=missing,
        stat_names=stat_names, stat_n=stat_n,
        zero_cell_pairs=tuple((items[jj[k]], items[ii[k]]) for k in np.flatnonzero(zero_cell)),
    )


def ordinal_moments_by_group(x, groups, missing: str = "listwise", gamma: bool = True
                             ) -> dict[object, OrdinalMoments]:
    """:func:`ordinal_moments` per group, with the categories of the whole sample (as lavaan).

    lavaan codes each ordered item's categories once over all groups and refuses a
    group in which one of them has no answers; the groups then share the same
    thresholds to estimate (or constrain). ``groups`` is one label per row
    (rows with a missing label are left out); groups come in sorted order.

    >>> x = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3, 3, 1], "b": [2, 1, 2, 1, 2, 1, 2, 1]})
    >>> res = ordinal_moments_by_group(x, ["f", "f", "f", "f", "m", "m", "m", "m"], gamma=False)
    >>> {g: (m.n, m.levels[0]) for g, m in res.items()}
    {'f': (4, (1, 2, 3)), 'm': (4, (1, 2, 3))}
    """
    frame = _as_frame(x)
    groups = np.asarray(groups, dtype=object)
    if groups.shape != (len(frame),):
        raise ValueError(f"groups: {groups.size} labels for {len(frame)} rows; give one label per row")
    labels = pd.Series(groups, index=frame.index)
    cats = observed_categories(frame[labels.notna().to_numpy()])
    out = {}
    for g in sorted(labels.dropna().unique(), key=str):
        try:
            out[g] = ordinal_moments(frame[(labels == g).to_numpy()], missing=missing, categories=cats,
                                     gamma=gamma)
        except ValueError as err:
            raise ValueError(f"group {g!r}: {err}") from None
    return out


def _nacov(pat, w, n, tau_pad, ncat, ii, jj, freq, rho) -> np.ndarray:
    """lavaan's NACOV (``muthen1984``): n B^-1 J B^-T from per-cell scores gathered per pattern."""
    p, kt = tau_pad.shape
    kmax = kt + 1
    npair = len(ii)
    # univariate threshold scores per item and category: (1{c=k} - 1{c=k+1}) phi(tau_k) / pi_c
    e = _bounds(tau_pad)
    pi_c = ndtr(e[:, 1:]) - ndtr(e[:, :-1])  # (p, kmax); 0 for padded categories
    dens = np.where(np.isfinite(tau_pad), np.exp(-0.5 * np.where(np.isfinite(tau_pad), tau_pad, 0) ** 2)
                    / np.sqrt(_TWO_PI), 0.0)  # (p, kt)
    cat = np.arange(kmax)[:, None]
    thr = np.arange(kt)[None, :]
    sign = (cat == thr).astype(float) - (cat == thr + 1).astype(float)  # (kmax, kt)
    with np.errstate(divide="ignore", invalid="ignore"):
        uni = np.where(pi_c[:, :, None] > 0, sign[None] * dens[:, None, :] / pi_c[:, :, None], 0.0)
    uni = np.concatenate([uni, np.zeros((p, 1, kt))], axis=1)  # index kmax (= -1) for missing

    # bivariate: rho scores per cell, and d pi / d tau for the A21 block
    e1, e2 = e[ii], e[jj]
    r = rho
    degenerate = np.abs(r) >= 1.0
    r_safe = np.where(degenerate, 0.0, r)
    pi, dpi, _ = _cell_model(e1, e2, r_safe, second=False)
    pi = np.maximum(pi, _SQRT_EPS)  # lavaan floors cell probabilities at sqrt(eps) ...
    good = pi > _SQRT_EPS  # ... and gives cells at the floor no score
    good &= ~degenerate[:, None, None]  # rho = +-1: no score (the pair's rows of Gamma become NaN)
    s_cell = np.where(good, dpi / pi, 0.0)  # (P, kmax, kmax)
    Rr = np.sqrt(1.0 - r_safe * r_safe)[:, None, None]

    def dtau(ea, eb, tau_a):
        # g[P, k, b] = phi(tau_k) [Phi((u_b - rho tau_k) / R) - Phi((l_b - rho tau_k) / R)]
        fin = np.isfinite(tau_a)
        t = np.where(fin, tau_a, 0.0)[:, :, None]
        upper = ndtr((eb[:, None, 1:] - r_safe[:, None, None] * t) / Rr)
        lower = ndtr((eb[:, None, :-1] - r_safe[:, None, None] * t) / Rr)
        phi = np.where(fin, np.exp(-0.5 * t[:, :, 0] ** 2) / np.sqrt(_TWO_PI), 0.0)[:, :, None]
        return phi * (upper - lower)

    g1 = dtau(e1, e2, tau_pad[ii])  # (P, kt, kmax): derivative of row-item cells
    g2 = dtau(e2, e1, tau_pad[jj])  # (P, kt, kmax): derivative of column-item cells (b, a)
    ws = np.where(good, freq * s_cell / pi, 0.0)  # n_ab s_ab / pi_ab
    # A21[pair, tau_i,k] = sum_b ws[k, b] g1[k, b] - ws[k + 1, b] g1[k, b]
    a21_i = (ws[:, :kt, :] * g1).sum(axis=2) - (ws[:, 1:, :] * g1).sum(axis=2)  # (P, kt)
    wsT = ws.transpose(0, 2, 1)
    a21_j = (wsT[:, :kt, :] * g2).sum(axis=2) - (wsT[:, 1:, :] * g2).sum(axis=2)

    # column layout of the statistics: thresholds item by item, then pairs
    th_mask = np.arange(kt)[None, :] < (ncat - 1)[:, None]  # (p, kt)
    T = int(th_mask.sum())
    th_col = np.full((p, kt), -1)
    th_col[th_mask] = np.arange(T)
    q = T + npair
    A21 = np.zeros((npair, T))
    rows = np.arange(npair)[:, None]
    for a21, item in ((a21_i, ii), (a21_j, jj)):
        cols = th_col[item]  # (P, kt)
        ok = cols >= 0
        np.add.at(A21, (np.broadcast_to(rows, cols.shape)[ok], cols[ok]), a21[ok])

    # J = sum_r s_r s_r' over response patterns (weighted), in chunks
    s_pad = np.zeros((npair, kmax + 1, kmax + 1))
    s_pad[:, :kmax, :kmax] = s_cell
    s_flat = s_pad.ravel()
    flat_th = th_mask.ravel()
    J = np.zeros((q, q))
    irange = np.arange(p)
    unit = bool(np.all(w == 1))
    step = max(1, _CHUNK_CELLS // q)
    buf = np.empty((min(step, len(w)), q))
    for sl in _chunks(len(w), q):
        pc = pat[sl]
        sc = buf[:len(pc)]
        c = np.where(pc < 0, kmax, pc)
        sc[:, :T] = uni[irange, c].reshape(len(pc), p * kt)[:, flat_th]
        sc[:, T:] = np.take(s_flat, _cell_index(pc, ii, jj, kmax))
        J += sc.T @ (sc if unit else sc * w[sl][:, None])
    J = (J + J.T) / 2.0

    # B^-1 = [[A11^-1, 0], [-A22^-1 A21 A11^-1, A22^-1]]
    A11inv = np.zeros((T, T))
    for j in range(p):  # one small (K - 1) x (K - 1) block per item
        idx = th_col[j, th_mask[j]]
        A11inv[np.ix_(idx, idx)] = np.linalg.inv(J[np.ix_(idx, idx)])
    a22 = np.diag(J)[T:]
    zero = a22 <= 0
    no_info = zero & ~degenerate
    if no_info.any():  # lavaan falls back to a generalized inverse: zero rows in Gamma
        warnings.warn(f"ordinal items: {int(no_info.sum())} correlation(s) have no score information "
                      "(every observed cell has probability ~0); their rows of Gamma are 0 as in lavaan.",
                      stacklevel=3)
    a22inv = np.where(zero, 0.0, 1.0 / np.where(zero, 1.0, a22))
    Binv = np.zeros((q, q))
    Binv[:T, :T] = A11inv
    Binv[T:, :T] = -(a22inv[:, None] * A21) @ A11inv
    Binv[T:, T:] = np.diag(a22inv)
    G = n * (Binv @ J @ Binv.T)
    G = (G + G.T) / 2.0
    bad = T + np.flatnonzero(degenerate)
    G[bad, :] = np.nan
    G[:, bad] = np.nan
    return G


# ------------------------------------------------------------------------ psych route
def cor_smooth(r: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """``psych::cor.smooth``: make a correlation matrix positive definite if it is not.

    If the smallest eigenvalue is below machine epsilon, eigenvalues below
    ``eig_tol`` are set to ``100 * eig_tol``, all are rescaled to sum to ``p``, and
    the rebuilt matrix is rescaled to unit diagonal (Wothke 1993; psych 2.2.9).
    Returns the matrix and whether it was changed.

    >>> r = np.array([[1, .9, .9], [.9, 1, .1], [.9, .1, 1]])
    >>> s, changed = cor_smooth(r)
    >>> changed, bool(np.linalg.eigvalsh(s).min() > 0), round(float(s[0, 1]), 6)  # psych: 0.7569364
    (True, True, 0.756936)
    """
    r = np.asarray(r, dtype=float)
    vals, vecs = np.linalg.eigh(r)
    if vals.min() >= np.finfo(float).eps:
        return r, False
    vals = np.where(vals < eig_tol, 100.0 * eig_tol, vals)
    vals = vals * r.shape[0] / vals.sum()
    s = (vecs * vals) @ vecs.T
    d = 1.0 / np.sqrt(np.diag(s))
    s = s * d[:, None] * d[None, :]
    s = (s + s.T) / 2.0
    np.fill_diagonal(s, 1.0)
    return s, True


def psych_polychoric(x, correct: float = 0.5, smooth: bool = True, global_thresholds: bool = True,
                     max_cat: int = 8, exact: bool = False) -> PsychPolychoric:
    """Polychoric correlations as ``psych::polychoric(x)`` (psych 2.2.9) computes them.

    psych differs from lavaan (:func:`ordinal_moments`) in four ways:

    - codes are shifted by the smallest code of all items, and every item gets
      thresholds over that common range (``tau_k = qnorm(P(answer <= k))`` over the
      item's answers; an unused lowest category gives ``-inf``);
    - with ``global_thresholds`` (psych's ``global = TRUE``, the default) these item
      thresholds are used for every pair and nothing is added to empty cells; psych
      switches to per-pair thresholds when the items' highest categories differ;
    - with per-pair thresholds, empty rows and columns of the pair's table are
      dropped, ``correct`` (0.5) is added to each empty cell, and the thresholds come
      from that table's margins;
    - there are no bounds other than ``(-1, 1)``, and when the matrix is not
      positive definite it is smoothed by :func:`cor_smooth` (``smooth = TRUE``).

    Each correlation is found as psych finds it, by Brent's golden-section search
    on ``(-1, 1)`` with R ``optimize``'s default tolerance (:func:`brent_fmin`), so
    the values agree with psych's to about 1e-10; ``exact = True`` maximises the
    same likelihood to 1e-13 instead (psych's answers are then about 1e-5 away).

    Parameters
    ----------
    x : DataFrame or 2-D array
        Integer codes, NaN = missing (always handled pairwise, as psych does).

    >>> x = pd.DataFrame({"a": [1, 2, 2, 1, 2, 1, 2, 2], "b": [1, 2, 1, 1, 2, 2, 2, 1]})
    >>> res = psych_polychoric(x)
    >>> round(float(res.rho[0, 1]), 6), res.tau.round(4).tolist()  # psych: 0.4026942
    (0.402694, [[-0.3186], [0.0]])
    """
    frame = _as_frame(x)
    values = _numeric_values(frame)
    items = [str(c) for c in frame.columns]
    n_obs = values.shape[0]
    if np.isnan(values).all():
        raise ValueError("psych_polychoric: every answer is missing")
    nvalues = int(np.nanmax(values) - np.nanmin(values) + 1)
    if nvalues > max_cat:
        raise ValueError(f"psych_polychoric: the items span {nvalues} categories, more than max_cat = {max_cat} "
                         "(psych stops here too: with that many categories treat the items as continuous, "
                         "or raise max_cat).")
    with np.errstate(invalid="ignore"):
        sd = np.nanstd(values, axis=0)
    bad = ~(sd > 0)
    dropped = tuple(items[j] for j in np.flatnonzero(bad))
    if dropped:
        warnings.warn(f"psych_polychoric: items without variance left out (as psych does): {list(dropped)}",
                      stacklevel=2)
    values = values[:, ~bad]
    items = [c for c, b in zip(items, bad) if not b]
    p = len(items)
    if p < 2:
        raise ValueError("psych_polychoric: fewer than two items with variance")
    v = values - np.nanmin(values) + 1  # psych: x - min + 1 over all items
    xmax = np.nanmax(v, axis=0)
    if global_thresholds and xmax.min() != xmax.max():
        global_thresholds = False
        warnings.warn("psych_polychoric: the items do not have an equal number of response alternatives; "
                      "per-pair thresholds are used (psych sets global = FALSE too).", stacklevel=2)
    K = nvalues
    codes = np.where(np.isnan(v), -1, v - 1).astype(np.int16)
    pat, w = _patterns(codes)
    counts = np.zeros((p, K))
    for j in range(p):
        ok = pat[:, j] >= 0
        counts[j] = np.bincount(pat[ok, j], weights=w[ok], minlength=K)[:K]
    with np.errstate(divide="ignore"):
        tau = ndtri(np.cumsum(counts, axis=1)[:, :K - 1] / counts.sum(axis=1, keepdims=True))
    ii, jj = _pair_index(p)
    freq = _pair_tables(pat, w, ii, jj, K)
    tot = freq.sum(axis=(1, 2))
    if (tot == 0).any():
        k = int(np.argmax(tot == 0))
        raise ValueError(f"psych_polychoric: no respondent answered both {items[jj[k]]!r} and "
                         f"{items[ii[k]]!r}; psych would return NA and skip smoothing.")
    n_corrected = 0
    if global_thresholds:
        # psych's pairs are (row = later item, column = earlier item): the same correlation.
        rho = _psych_optimize(freq, tau[ii], tau[jj], exact)
    else:
        rho, n_corrected = _psych_local(freq, correct, exact)
    r = np.eye(p)
    r[ii, jj] = r[jj, ii] = rho
    smoothed = False
    if smooth and np.isfinite(r).all():
        r, smoothed = cor_smooth(r)
        if smoothed:
            warnings.warn("psych_polychoric: the matrix was not positive definite and was smoothed "
                          "(psych::cor.smooth).", stacklevel=2)
    return PsychPolychoric(items=tuple(items), rho=r, tau=tau, n_obs=n_obs,
                           global_thresholds=bool(global_thresholds), smoothed=smoothed,
                           n_corrected=n_corrected, dropped=dropped)


def _psych_local(freq: np.ndarray, correct: float, exact: bool) -> tuple[np.ndarray, int]:
    """psych's ``polyc(global = FALSE)`` for every pair: per-pair thresholds and continuity correction."""
    P, K, _ = freq.shape
    tot = freq.sum(axis=(1, 2))
    rows_used = freq.sum(axis=2) > 0  # (P, K)
    cols_used = freq.sum(axis=1) > 0
    # move the used rows / columns to the front (stable), so each table is a compact block
    r_order = np.argsort(~rows_used, axis=1, kind="stable")
    c_order = np.argsort(~cols_used, axis=1, kind="stable")
    f = np.take_along_axis(freq, r_order[:, :, None], axis=1)
    f = np.take_along_axis(f, c_order[:, None, :], axis=2)
    nr, nc = rows_used.sum(axis=1), cols_used.sum(axis=1)
    block = (np.arange(K)[None, :, None] < nr[:, None, None]) & (np.arange(K)[None, None, :] < nc[:, None, None])
    zero = block & (f == 0)
    fixed = zero.any(axis=(1, 2)) & (correct > 0)
    if correct > 0:
        f = np.where(zero, correct, f)
    # thresholds from the (corrected) margins, as proportions of the uncorrected total
    def margin_tau(m, used_n):
        cum = np.cumsum(m, axis=1) / tot[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ndtri(cum[:, :K - 1])
        return np.where(np.arange(K - 1)[None, :] < (used_n - 1)[:, None], t, np.inf)
    rc = margin_tau(f.sum(axis=2), nr)
    cc = margin_tau(f.sum(axis=1), nc)
    rho = np.full(P, np.nan)
    ok = (nr >= 2) & (nc >= 2)
    if ok.any():
        rho[ok] = _psych_optimize(f[ok], rc[ok], cc[ok], exact)
    return rho, int(fixed.sum())


def _psych_optimize(freq, tau1, tau2, exact: bool) -> np.ndarray:
    """psych's ``optimize(polyF, c(-1, 1))`` per table, or the exact maximum (``exact``)."""
    if exact:
        return polychoric_fit(freq, tau1, tau2, bound=_PSYCH_RHO_BOUND, min_prob=0.0)
    e1, e2 = _bounds(np.asarray(tau1, float)), _bounds(np.asarray(tau2, float))
    P = freq.shape[0]
    return brent_fmin(lambda u, idx: _neg_loglik(freq[idx], e1[idx], e2[idx], u),
                      np.full(P, -1.0), np.full(P, 1.0), tol=np.finfo(float).eps ** 0.25)


# ------------------------------------------------------------------------------- bench
def bench(n: int = 50_000, p: int = 36, k: int = 7, seed: int = 20261124, gamma: bool = True,
          missing_rate: float = 0.0, save_data: str | None = None) -> dict:
    """Time :func:`ordinal_moments` on simulated two-factor ordinal data (a command, not a test).

    >>> r = bench(n=500, p=6, k=5)
    >>> r["n"], r["items"], r["statistics"]
    (500, 6, 39)
    """
    rng = np.random.default_rng(seed)
    lam = np.zeros((p, 2))
    lam[: p // 2, 0] = 0.7
    lam[p // 2:, 1] = 0.7
    phi = np.array([[1.0, 0.2], [0.2, 1.0]])
    sigma = lam @ phi @ lam.T
    np.fill_diagonal(sigma, 1.0)
    z = rng.multivariate_normal(np.zeros(p), sigma, size=n, method="cholesky")
    cuts = ndtri(np.linspace(0, 1, k + 1)[1:-1] ** 1.3)
    x = (np.searchsorted(cuts, z) + 1).astype(float)
    if missing_rate:
        x[rng.random(x.shape) < missing_rate] = np.nan
    frame = pd.DataFrame(x, columns=[f"x{j + 1}" for j in range(p)])
    if save_data:  # for the R side: Rscript tests/r/polychoric_reference.R --bench <file>
        frame.to_csv(save_data, index=False, float_format="%.0f")
    t0 = time.perf_counter()
    m = ordinal_moments(frame, missing="pairwise" if missing_rate else "listwise", gamma=gamma)
    seconds = time.perf_counter() - t0
    return {"n": n, "items": p, "categories": k, "statistics": len(m.stat_names),
            "gamma": gamma, "seconds": round(seconds, 3)}


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m attachment_pipeline.polychoric --bench [--n N --items P --categories K --no-gamma
    --missing-rate R --save-data CSV]``; time R on the same data with
    ``Rscript tests/r/polychoric_reference.R --bench CSV``."""
    ap = argparse.ArgumentParser(prog="python -m attachment_pipeline.polychoric",
                                 description="Benchmark lavaan-compatible ordinal sample statistics.")
    ap.add_argument("--bench", action="store_true", help="time ordinal_moments on simulated data")
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=36)
    ap.add_argument("--categories", type=int, default=7)
    ap.add_argument("--missing-rate", type=float, default=0.0,
                    help="share of answers set missing (then missing='pairwise')")
    ap.add_argument("--no-gamma", action="store_true", help="thresholds and correlations only")
    ap.add_argument("--save-data", metavar="CSV", help="also write the simulated data (to time R on it)")
    args = ap.parse_args(argv)
    if not args.bench:
        ap.print_help()
        return
    res = bench(n=args.n, p=args.items, k=args.categories, gamma=not args.no_gamma,
                missing_rate=args.missing_rate, save_data=args.save_data)
    print(", ".join(f"{key} = {val}" for key, val in res.items()))


if __name__ == "__main__":  # pragma: no cover
    main()
