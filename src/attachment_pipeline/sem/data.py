"""Sample statistics of one group: complete-data moments, missing-data patterns, raw rows.

Everything an estimator needs is computed here once per group, so the cost of
the iterations does not depend on n: means and covariance (divisor n, lavaan's
``likelihood = "normal"``) for complete data; for incomplete data the
missing-data patterns with, per pattern, its respondents' count, mean and
scatter over the observed items (Little & Rubin, 2002, ch. 8). Raw rows are
kept for the casewise scores robust corrections need.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = ["Pattern", "GroupData", "PatternLayout", "PatternProducts", "group_data", "data_fingerprint", "column_blocks",
           "pattern_layout", "pattern_keys", "pattern_products", "vech_products", "normal_information", "trace_pairs",
           "vech_multiplicity"]


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

    @cached_property
    def key(self) -> str:
        """A fingerprint of the group's data (items and raw rows, or moments): equal data, equal key."""
        return data_fingerprint(self.items, (self.x,) if self.x is not None else (np.asarray(self.n), self.mean,
                                                                                  self.cov))

    @cached_property
    def layout(self) -> "PatternLayout":
        """The patterns as arrays (computed once per group; see :class:`PatternLayout`)."""
        return pattern_layout(self)

    @cached_property
    def item_variances(self) -> np.ndarray:
        """Each item's variance over the respondents who answered it (divisor: their number;
        ``np.nanvar``), computed once per group."""
        if self.x is None:
            return np.diag(self.cov).copy()
        return column_blocks(np.nanvar, self.x)

    @cached_property
    def products(self) -> "PatternProducts":
        """Moment matrices of the large patterns' rows (computed once per group; see :class:`PatternProducts`)."""
        return pattern_products(self)


@dataclass(frozen=True)
class PatternLayout:
    """Missing-data patterns of a group as arrays, for vectorised work over respondents.

    ``order``: row numbers sorted by pattern; ``pattern``: the pattern of each row in
    that order; ``observed``: K x p mask; ``mean``/``cov``: per pattern, its
    respondents' mean and scatter padded with zeros to p (K x p, K x p x p);
    ``n``: respondents per pattern; ``sizes``: per number of observed items s, the
    patterns with s items and their observed / missing item indices (K_s x s, K_s x p-s).
    """

    order: np.ndarray
    pattern: np.ndarray
    observed: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    n: np.ndarray
    sizes: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]


def pattern_layout(gd: "GroupData") -> PatternLayout:
    """Arrays of a group's patterns (:class:`PatternLayout`)."""
    p, pts = gd.p, gd.patterns
    k = len(pts)
    observed = np.zeros((k, p), dtype=bool)
    mean = np.zeros((k, p))
    cov = np.zeros((k, p, p))
    for t, pt in enumerate(pts):
        observed[t, pt.obs] = True
        mean[t, pt.obs] = pt.mean
        cov[t][np.ix_(pt.obs, pt.obs)] = pt.cov
    n = np.array([pt.n for pt in pts], dtype=float)
    counts = observed.sum(axis=1)
    sizes = []
    everything = np.arange(p)
    for s in np.unique(counts):
        ks = np.nonzero(counts == s)[0]
        obs = np.array([everything[observed[t]] for t in ks], dtype=np.int64).reshape(len(ks), s)
        mis = np.array([everything[~observed[t]] for t in ks], dtype=np.int64).reshape(len(ks), p - s)
        sizes.append((ks, obs, mis))
    order = np.concatenate([pt.rows for pt in pts]) if pts and len(pts[0].rows) else np.zeros(0, dtype=np.int64)
    pattern = np.repeat(np.arange(k), [len(pt.rows) for pt in pts]) if len(order) else np.zeros(0, dtype=np.int64)
    return PatternLayout(order, pattern, observed, mean, cov, n, tuple(sizes))


@dataclass(frozen=True)
class PatternProducts:
    """Sums over the rows of the large missing-data patterns, so that sums of casewise scores need no rows.

    With ``y_i = x_i - m_k`` (the respondent's deviation from the mean of its pattern k,
    zeros for the missing items) and ``z_i = [y_i, vech(y_i y_i')]`` (p + p(p+1)/2
    values; vech as :func:`vech_products`): ``patterns``: the patterns that have
    these sums (indices into ``GroupData.patterns``); ``sum_z`` (K_b x r):
    ``sum_i z_i``; ``zz`` (K_b x r x r): ``sum_i z_i z_i'``, over each pattern's
    respondents; ``rest``: positions in ``PatternLayout.order`` of the rows of the
    other (small) patterns, whose scores are formed row by row.
    """

    patterns: np.ndarray
    sum_z: np.ndarray
    zz: np.ndarray
    rest: np.ndarray


#: memory for the moment matrices of one group's large patterns (PatternProducts.zz)
PRODUCTS_BYTES = 2 ** 28
_PRODUCT_ROWS = 1024


def pattern_products(gd: "GroupData", max_bytes: int = PRODUCTS_BYTES) -> PatternProducts:
    """:class:`PatternProducts` of a group: the patterns with at least r = p + p(p+1)/2 respondents
    (there an r x r matrix is no larger than the rows' products), largest first, as many as fit in
    ``max_bytes``.

    One pass over those rows in blocks (``sum z z'`` by one symmetric rank-k product per block).

    >>> x = np.array([[1.0, 2.0], [2.0, 1.0], [4.0, 3.0], [3.0, 6.0], [5.0, np.nan], [1.0, np.nan]])
    >>> pr = pattern_products(group_data(x, ["a", "b"]))
    >>> pr.patterns.tolist(), pr.rest.tolist()          # r = 5: the complete pattern (4 rows) is too small
    ([], [0, 1, 2, 3, 4, 5])
    """
    lay = gd.layout
    p = gd.p
    r = p + p * (p + 1) // 2
    if gd.x is None:
        raise ValueError("Sums over the rows need the raw data, not only moments.")
    fit_in = int(max_bytes // (8 * r * r))
    big = np.nonzero(lay.n >= r)[0]
    big = np.sort(big[np.argsort(-lay.n[big], kind="stable")][:fit_in])
    ends = np.cumsum(lay.n).astype(np.int64)
    starts = ends - lay.n.astype(np.int64)
    sum_z = np.zeros((len(big), r))
    zz = np.zeros((len(big), r, r))
    z = np.empty((min(_PRODUCT_ROWS, gd.n), r))
    for t, k in enumerate(big):
        for lo in range(starts[k], ends[k], _PRODUCT_ROWS):
            hi = min(lo + _PRODUCT_ROWS, ends[k])
            zc = z[:hi - lo]
            y = gd.x[lay.order[lo:hi]] - lay.mean[k]
            y[:, ~lay.observed[k]] = 0.0
            zc[:, :p] = y
            vech_products(y, out=zc[:, p:])
            zz[t] += zc.T @ zc
            sum_z[t] += zc.sum(axis=0)
        zz[t] = (zz[t] + zz[t].T) / 2
    in_big = np.zeros(len(lay.n), dtype=bool)
    in_big[big] = True
    rest = np.nonzero(~in_big[lay.pattern])[0]
    return PatternProducts(big, sum_z, zz, rest)


def pattern_keys(miss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a boolean matrix (sorted) and each row's index into them.

    The rows are packed into bytes and compared as one value each, which is much
    faster than ``np.unique(axis=0)`` on many rows.

    >>> keys, inverse = pattern_keys(np.array([[True, False], [False, False], [True, False]]))
    >>> keys.tolist(), inverse.tolist()
    ([[False, False], [True, False]], [1, 0, 1])
    """
    packed = np.packbits(miss, axis=1)
    width = packed.shape[1]
    if width <= 8:  # as one big-endian integer: its order is the lexicographic order of the rows
        padded = np.zeros((len(packed), 8), dtype=np.uint8)
        padded[:, 8 - width:] = packed
        codes = padded.view(">u8").ravel()
    else:
        codes = np.ascontiguousarray(packed).view(np.dtype((np.void, width))).ravel()
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    return miss[first], inverse.ravel()


def data_fingerprint(items, arrays) -> str:
    """SHA-1 of the item names and the bytes of the arrays (C order): equal data, equal fingerprint.

    The arrays are hashed in place (no byte copy of a large item matrix).

    >>> x = np.array([[1.0, np.nan], [2.0, 3.0]])
    >>> data_fingerprint(["a", "b"], (x,)) == data_fingerprint(("a", "b"), (x.copy(),))
    True
    >>> data_fingerprint(["a", "b"], (x,)) == data_fingerprint(["b", "a"], (x,))
    False
    """
    h = hashlib.sha1("\x1f".join(items).encode())
    for a in arrays:
        h.update(np.ascontiguousarray(a).reshape(-1).view(np.uint8))
    return h.hexdigest()


_COLUMNS = 4
_ROWS = 2 ** 16


def column_blocks(reduce, x: np.ndarray) -> np.ndarray:
    """``reduce(x, axis=0)`` (a column-wise reduction such as ``np.nanmean``) a few columns at a time:
    the same numbers, with temporaries of a few columns instead of copies of the whole matrix.

    >>> x = np.array([[1.0, np.nan, 3.0, 4.0, 5.0, 6.0], [2.0, 1.0, np.nan, 0.0, 1.0, 2.0]])
    >>> bool(np.array_equal(column_blocks(np.nanvar, x), np.nanvar(x, axis=0)))
    True
    """
    return np.concatenate([reduce(x[:, j:j + _COLUMNS], axis=0) for j in range(0, x.shape[1], _COLUMNS)])


def group_data(x: np.ndarray, items, keep_rows: bool = True, key: str | None = None) -> GroupData:
    """Sample statistics of one group's item matrix (NaN = missing).

    Rows with no answer at all carry no information and must be removed by the
    caller (the engine refuses them). Patterns are sorted (so their order does not depend on the row order).
    ``key``: the data's fingerprint (:func:`data_fingerprint` of the items and ``x``) when the
    caller has computed it already; it becomes :attr:`GroupData.key` (not recomputed).

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
        mean = column_blocks(np.nanmean, x)
        # pairwise covariances (divisor: pair count) as start values, in blocks of rows
        cnt = np.zeros((p, p))
        cov = np.zeros((p, p))
        for lo in range(0, n, _ROWS):
            mc = miss[lo:lo + _ROWS]
            z = np.where(mc, 0.0, x[lo:lo + _ROWS] - mean)
            o = (~mc).astype(float)
            cnt += o.T @ o
            cov += z.T @ z
        cov /= np.maximum(cnt, 1)
        keys, inverse = pattern_keys(miss)
        order = np.argsort(inverse, kind="stable")
        bounds = np.cumsum(np.bincount(inverse, minlength=len(keys)))[:-1]
        patterns = []
        for k, rows in enumerate(np.split(order, bounds)):  # sorted by pattern: independent of row order
            obs = np.nonzero(~keys[k])[0]
            xo = x[np.ix_(rows, obs)]
            m = xo.mean(axis=0)
            d = xo - m
            patterns.append(Pattern(obs, len(rows), m, d.T @ d / len(rows), rows))
        patterns = tuple(patterns)
    gd = GroupData(tuple(items), int(n), mean, (cov + cov.T) / 2, x if keep_rows else None, patterns, complete)
    if key is not None and keep_rows:
        gd.__dict__["key"] = key  # the cached_property's slot: the fingerprint the caller computed
    return gd


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


def vech_products(v: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Per row, the products ``v_a v_b`` of every vech element (a >= b), in vech order (lower
    triangle column by column, as :func:`~attachment_pipeline.sem.model.vech_indices`): n x p(p+1)/2.

    One slice per column b (``v[:, b:] * v[:, b]``), no index gathers.

    >>> vech_products(np.array([[1.0, 2.0, 3.0]])).tolist()
    [[1.0, 2.0, 3.0, 4.0, 6.0, 9.0]]
    """
    n, p = v.shape
    if out is None:
        out = np.empty((n, p * (p + 1) // 2))
    start = 0
    for b in range(p):
        np.multiply(v[:, b:], v[:, b:b + 1], out=out[:, start:start + p - b])
        start += p - b
    return out


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
