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
