"""Sample statistics of one group: complete-data moments, missing-data patterns, raw rows.

Everything an estimator needs is computed here once per group, so the cost of
the iterations does not depend on n: means and covariance (divisor n, lavaan's
``likelihood = "normal"``) for complete data; for incomplete data the
missing-data patterns with, per pattern, its respondents' count, mean and
scatter over the observed items (Little & Rubin, 2002, ch. 8). Raw rows are
kept for the casewise scores robust corrections need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Pattern", "GroupData", "group_data", "normal_information", "trace_pairs", "vech_multiplicity"]


@dataclass(frozen=True)
class Pattern:
    """One missing-data pattern: observed item indices, count, mean and scatter (divisor n)."""

    obs: np.ndarray
    n: int
    mean: np.ndarray
    cov: np.ndarray
    rows: np.ndarray  # row numbers of its respondents in the group's data


@dataclass(frozen=True)
class GroupData:
    """Sample statistics of one group.

    ``x``: raw rows (n x p, NaN = missing) or None when only moments are known;
    ``mean``/``cov``: complete-case moments (divisor n) when every row is complete,
    otherwise the available-case means and pairwise covariances (start values only);
    ``patterns``: missing-data patterns (one pattern when complete), sorted by pattern.
    """

    items: tuple[str, ...]
    n: int
    mean: np.ndarray
    cov: np.ndarray
    x: np.ndarray | None = field(default=None, repr=False)
    patterns: tuple[Pattern, ...] = ()
    complete: bool = True
    ordinal: object | None = None  # polychoric.OrdinalMoments for ordered items

    @property
    def p(self) -> int:
        return len(self.items)


def group_data(x: np.ndarray, items, keep_rows: bool = True) -> GroupData:
    """Sample statistics of one group's item matrix (NaN = missing).

    Rows with no answer at all carry no information and must be removed by the
    caller (the engine refuses them). Patterns are sorted (so their order does not depend on the row order).

    >>> gd = group_data(np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0]]), ["a", "b"])
    >>> gd.n, gd.complete, [int(pt.n) for pt in gd.patterns], gd.mean.round(3).tolist()
    (3, False, [2, 1], [2.0, 3.5])
    """
    x = np.asarray(x, dtype=float)
    n, p = x.shape
    if n < 2:
        raise ValueError(f"A group needs at least 2 respondents, got {n}.")
    miss = np.isnan(x)
    empty = miss.all(axis=1)
    if empty.any():
        raise ValueError(f"{int(empty.sum())} row(s) have no answer at all; leave them out before fitting.")
    complete = not miss.any()
    if complete:
        mean = x.mean(axis=0)
        dev = x - mean
        cov = dev.T @ dev / n
        patterns = (Pattern(np.arange(p), n, mean, cov, np.arange(n)),)
    else:
        mean = np.nanmean(x, axis=0)
        # pairwise covariances (divisor: pair count) as start values
        z = np.where(miss, 0.0, x - mean)
        o = (~miss).astype(float)
        cnt = o.T @ o
        cov = (z.T @ z) / np.maximum(cnt, 1)
        keys, inverse = np.unique(miss, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        patterns = []
        for k in range(len(keys)):  # sorted by pattern: independent of row order
            rows = np.nonzero(inverse == k)[0]
            obs = np.nonzero(~keys[k])[0]
            xo = x[np.ix_(rows, obs)]
            m = xo.mean(axis=0)
            d = xo - m
            patterns.append(Pattern(obs, len(rows), m, d.T @ d / len(rows), rows))
        patterns = tuple(patterns)
    return GroupData(tuple(items), int(n), mean, (cov + cov.T) / 2, x if keep_rows else None, patterns, complete)


def group_moments_only(items, n: int, mean, cov_ml) -> GroupData:
    """A complete-data group known only by its moments (covariance with divisor n)."""
    mean = np.asarray(mean, dtype=float)
    cov = np.asarray(cov_ml, dtype=float)
    p = len(items)
    return GroupData(tuple(items), int(n), mean, cov, None,
                     (Pattern(np.arange(p), int(n), mean, cov, np.zeros(0, dtype=int)),), True)


# ------------------------------------------------------------------ moment-space algebra
def vech_multiplicity(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """2 for off-diagonal vech elements, 1 on the diagonal."""
    return np.where(rows == cols, 1.0, 2.0)


def trace_pairs(x: np.ndarray, y: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``T_ab = tr(X E_a Y E_b)`` for all pairs of vech elements ``a = (i, j)``, ``b = (k, l)``.

    ``E_a = dSigma / dsigma_a`` (``e_i e_j' + e_j e_i'``, or ``e_i e_i'`` on the
    diagonal); X and Y symmetric:
    ``T_ab = m_a m_b / 4 (X_ik Y_jl + X_il Y_jk + X_jk Y_il + X_jl Y_ik)``.

    >>> r, c = np.array([0, 1, 1]), np.array([0, 0, 1])
    >>> p = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> bool(np.allclose(trace_pairs(p, p, r, c)[1, 1], 2 * (p[1, 1] * p[0, 0] + p[0, 1] ** 2)))
    True
    """
    i, j = rows[:, None], cols[:, None]
    k, l = rows[None, :], cols[None, :]
    m = vech_multiplicity(rows, cols)
    t = x[i, k] * y[j, l] + x[i, l] * y[j, k] + x[j, k] * y[i, l] + x[j, l] * y[i, k]
    return t * np.outer(m, m) / 4


def normal_information(sigma_inv: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                       meanstructure: bool) -> np.ndarray:
    """Fisher information per observation of a multivariate normal in ``[mu, vech(Sigma)]``.

    ``I = diag(Sigma^-1, 1/2 D' (Sigma^-1 x Sigma^-1) D)`` (e.g. Magnus & Neudecker,
    1999), i.e. ``I_ab = tr(P E_a P E_b) / 2`` in the covariance block.
    """
    cov_block = trace_pairs(sigma_inv, sigma_inv, rows, cols) / 2
    if not meanstructure:
        return cov_block
    p = sigma_inv.shape[0]
    out = np.zeros((p + len(rows), p + len(rows)))
    out[:p, :p] = sigma_inv
    out[p:, p:] = cov_block
    return out
