"""Small numerical helpers shared by the engine (one place for each)."""

from __future__ import annotations

import contextlib

import numpy as np

try:  # installed with scikit-learn
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None

__all__ = ["one_blas_thread", "chol_inv", "inv_sym", "nearest_pd"]


def one_blas_thread():
    """Limit BLAS to one thread for work on p x p matrices.

    Threads only add overhead for such small matrices, and on a busy machine
    OpenBLAS threads can make a 36 x 36 ``eigh`` fifty times slower (a FIML fit
    of 36 items took 2.7 s with one thread and 15.7 s with two on a loaded
    2-core machine).
    """
    if _threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _threadpool_limits(limits=1, user_api="blas")


def chol_inv(sigma: np.ndarray):
    """(inverse, log-determinant) of a positive-definite matrix or stack of them; None if not PD."""
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    logdet = 2 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    inv = np.linalg.inv(sigma)
    inv = (inv + np.swapaxes(inv, -1, -2)) / 2
    return inv, logdet


def inv_sym(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric matrix, symmetrised."""
    a = (a + a.T) / 2
    inv = np.linalg.inv(a)
    return (inv + inv.T) / 2


def nearest_pd(c: np.ndarray, rel_floor: float = 1e-3) -> np.ndarray:
    """A positive-definite matrix near ``c``: eigenvalues floored at ``rel_floor`` x the mean variance."""
    vals, vecs = np.linalg.eigh((c + c.T) / 2)
    floor = rel_floor * max(float(np.mean(np.diag(c))), 1e-8)
    return (vecs * np.maximum(vals, floor)) @ vecs.T


def sub_inverses(sigma: np.ndarray, obs: np.ndarray, mis: np.ndarray):
    """(inverses, log-determinants) of the principal submatrices ``sigma[o, o]`` for a stack of index sets.

    ``obs`` (K x s) and ``mis`` (K x p-s) list, per row, the kept and the left-out
    indices (together ``0 .. p-1``). With few left out, the partitioned-inverse
    identity is used: with ``P = sigma^-1``,
    ``(sigma_oo)^-1 = P_oo - P_om P_mm^-1 P_mo`` and
    ``log|sigma_oo| = log|sigma| + log|P_mm|`` (e.g. Harville, 1997, Theorem 8.5.11),
    which costs O(s^2 m) per set instead of an O(s^3) factorisation; with more left out
    than kept, the submatrices are factorised directly. Returns None where a
    submatrix is not positive definite (as :func:`chol_inv`).

    >>> s = np.array([[2.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.5]])
    >>> inv, logdet = sub_inverses(s, np.array([[0, 2]]), np.array([[1]]))
    >>> bool(np.allclose(inv[0], np.linalg.inv(s[np.ix_([0, 2], [0, 2])]))), bool(np.isclose(logdet[0], np.log(2.96)))
    (True, True)
    """
    k, s = obs.shape
    m = mis.shape[1]
    if m == 0:
        ci = chol_inv(sigma)
        if ci is None:
            return None
        return np.broadcast_to(ci[0], (k, s, s)), np.full(k, ci[1])
    full = chol_inv(sigma) if m < s else None
    if full is None:  # many left out, or sigma itself not PD: factorise the submatrices
        return chol_inv(sigma[obs[:, :, None], obs[:, None, :]])
    p_full, logdet_full = full
    p_mm = p_full[mis[:, :, None], mis[:, None, :]]
    p_om = p_full[obs[:, :, None], mis[:, None, :]]
    try:
        l_mm = np.linalg.cholesky(p_mm)
    except np.linalg.LinAlgError:
        return chol_inv(sigma[obs[:, :, None], obs[:, None, :]])
    # P_om P_mm^-1 P_mo = (P_om L^-T)(L^-1 P_mo)
    half = np.linalg.solve(l_mm, np.swapaxes(p_om, 1, 2))          # K x m x s
    inv = p_full[obs[:, :, None], obs[:, None, :]] - np.swapaxes(half, 1, 2) @ half
    inv = (inv + np.swapaxes(inv, 1, 2)) / 2
    logdet = logdet_full + 2 * np.log(np.diagonal(l_mm, axis1=1, axis2=2)).sum(axis=1)
    return inv, logdet
