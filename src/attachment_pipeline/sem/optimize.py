"""The one optimiser: Fisher scoring / Gauss-Newton with a line search, Newton near the end.

Every model (CFA, multi-group, dyadic, path models, H1 and baseline models) is
fitted by :func:`minimize`. A step is ``theta <- theta - t H^-1 g`` with ``g``
the analytic gradient and ``H`` the estimator's expected Hessian (exact for ML
on complete data, Gauss-Newton for DWLS, the complete-data one for FIML), the
step length ``t`` halved until F decreases enough (Armijo). When progress is
slow (misfitting models, much missing data) the step switches to Newton with a
Hessian from central differences of the analytic gradient.

Convergence is judged on the *decrement* ``lambda = g' H^-1 g``, the predicted
decrease of F to the minimum of its quadratic model, in the units of the test
statistic (``N lambda``): converged when ``N lambda < tol`` (1e-9 chi-square
points), or when no step decreases F beyond its rounding error while
``N lambda < 1e-5``. Both criteria are affine invariant (they do not depend on
the scale of the parameters) and a gradient floor set by rounding -- which
varies with the BLAS build -- cannot make a fit at its optimum count as not
converged: a perfect fit has ``g = 0`` and converges at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

__all__ = ["OptimResult", "minimize", "numerical_jacobian"]

TOL = 1e-9          # N * decrement at convergence (chi-square units)
FLOOR_TOL = 1e-5    # N * decrement accepted when F can no longer decrease beyond rounding


@dataclass(frozen=True)
class OptimResult:
    theta: np.ndarray
    objective: float
    converged: bool
    iterations: int
    decrement: float  # N * g' H^-1 g at the end
    message: str


def _solve_pd(h: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    try:
        factor = linalg.cho_factor(h, lower=True, check_finite=False)
    except (np.linalg.LinAlgError, linalg.LinAlgError):
        return None
    return linalg.cho_solve(factor, g, check_finite=False)


def _direction(h: np.ndarray, g: np.ndarray) -> np.ndarray:
    step = _solve_pd(h, g)
    if step is not None and np.all(np.isfinite(step)):
        return step
    # not positive definite: add a ridge until it is
    scale = max(float(np.abs(np.diag(h)).max()), 1e-12)
    for r in (1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0):
        step = _solve_pd(h + r * scale * np.eye(len(g)), g)
        if step is not None and np.all(np.isfinite(step)):
            return step
    return g / scale


def numerical_jacobian(fun, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Jacobian of a vector function by Richardson's four-point central difference (as lavaan's Hessian).

    ``J[:, j] = (f(x - 2h e_j) - 8 f(x - h e_j) + 8 f(x + h e_j) - f(x + 2h e_j)) / (12 h)``.

    >>> bool(np.allclose(numerical_jacobian(lambda v: np.array([v[0] ** 2 * v[1]]), np.array([2.0, 3.0])),
    ...                  [[12.0, 4.0]]))
    True
    """
    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(len(x)):
        e = np.zeros_like(x)
        e[j] = h
        cols.append((fun(x - 2 * e) - 8 * fun(x - e) + 8 * fun(x + e) - fun(x + 2 * e)) / (12 * h))
    return np.column_stack(cols)


def minimize(est, theta0: np.ndarray, max_iter: int = 500, tol: float = TOL) -> OptimResult:
    """Minimise ``est.objective`` from ``theta0`` (see the module docstring).

    ``est`` provides ``objective``, ``gradient``, ``hessian_approx`` and ``N``.
    Three stages, each entered only when the previous one stalls: Fisher scoring
    (the estimator's expected Hessian, recomputed every step); BFGS updates of that
    Hessian (superlinear, one gradient per step; Dennis & Schnabel, 1983, ch. 9);
    Newton with the Hessian from central differences of the analytic gradient.
    """
    n = float(est.N)
    theta = np.array(theta0, dtype=float)
    f = est.objective(theta)
    if not np.isfinite(f):
        raise ValueError("The start values give an implied covariance matrix that is not positive definite.")
    if theta.size == 0:
        return OptimResult(theta, f, True, 0, 0.0, "no free parameters")
    stage = "fisher"
    slow = 0
    prev_dec = np.inf
    dec = np.inf
    hq = None
    g = est.gradient(theta)
    for it in range(1, max_iter + 1):
        if stage == "fisher":
            h = est.hessian_approx(theta)
        elif stage == "bfgs":
            h = hq
        else:
            h = numerical_jacobian(est.gradient, theta)
            h = (h + h.T) / 2
        step = _solve_pd(h, g)
        if step is None or not np.all(np.isfinite(step)) or g @ step <= 0:
            h = est.hessian_approx(theta)
            step = _direction(h, g)
        dec = float(g @ step)
        if n * abs(dec) < tol:
            return OptimResult(theta, f, True, it, n * abs(dec), "converged")
        t = 1.0
        accepted = False
        while t > 1e-10:
            new = theta - t * step
            fnew = est.objective(new)
            if np.isfinite(fnew) and fnew <= f - 1e-4 * t * max(dec, 0.0):
                accepted = True
                break
            t /= 2
        if not accepted:
            # F cannot decrease beyond its rounding error along this direction
            if n * abs(dec) < FLOOR_TOL:
                return OptimResult(theta, f, True, it, n * abs(dec), "converged (rounding floor)")
            if stage != "newton":
                stage = "newton"
                continue
            return OptimResult(theta, f, False, it, n * abs(dec), "no decrease possible: not converged")
        gnew = est.gradient(new)
        if stage == "bfgs":
            s_, y_ = new - theta, gnew - g
            sy = float(s_ @ y_)
            if sy > 1e-12 * float(np.linalg.norm(s_) * np.linalg.norm(y_)):
                hs = hq @ s_
                hq = hq + np.outer(y_, y_) / sy - np.outer(hs, hs) / float(s_ @ hs)
        # slow (linear) progress of Fisher scoring: continue with BFGS from its Hessian
        slow = slow + 1 if dec > 0.3 * prev_dec else 0
        if stage == "fisher" and it >= 4 and slow >= 2:
            stage, hq = "bfgs", (h + h.T) / 2
        prev_dec = dec
        theta, f, g = new, fnew, gnew
    return OptimResult(theta, f, False, max_iter, n * abs(dec), "iteration limit reached")
