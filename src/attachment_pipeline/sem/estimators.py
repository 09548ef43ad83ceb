"""Discrepancy functions: ML (complete data), FIML (casewise, incomplete data) and DWLS.

Every estimator exposes the same four things to the one optimiser
(:mod:`attachment_pipeline.sem.optimize`), over groups g with weights ``c_g``:

- ``objective(theta)``: ``F = sum_g c_g F_g`` scaled so that the test statistic is
  ``T = N F`` at the minimum (N = total sample size);
- ``gradient(theta)``: ``sum_g c_g Delta_g' dF_g/dm`` with ``Delta_g`` the model
  Jacobian and ``m`` the moment vector;
- ``hessian_approx(theta)``: a positive (semi)definite approximation of the
  Hessian of F (Fisher scoring / Gauss-Newton);
- ``group_objectives(theta)``: the ``F_g``.

ML (Joreskog, 1969; lavaan ``likelihood = "normal"``):
``F_g = ln|Sigma| + tr(W Sigma^-1) - ln|S| - p`` with ``W = S + (m - mu)(m - mu)'``
(S with divisor n_g) and ``c_g = n_g / N``.

FIML (Arbuckle, 1996; lavaan ``missing = "ml"``): per group
``F_g = -(2 / n_g) (logL_g(mu, Sigma) - logL_g^sat)`` with the casewise
log-likelihood summed over missing-data patterns k,
``logL_g = -1/2 sum_k n_k (p_k ln 2pi + ln|Sigma_k| + tr(Sigma_k^-1 W_k))``,
``W_k = S_k + (m_k - mu_k)(m_k - mu_k)'`` over the items observed in pattern k;
``c_g = n_g / N``. ``logL^sat`` is the saturated (H1) log-likelihood, so T is the
likelihood-ratio statistic.

DWLS (Muthen, du Toit & Spisic, 1997; lavaan ``estimator = "WLSMV"``):
``F_g = (s_g - sigma_g)' W_g (s_g - sigma_g)`` with ``s_g`` the thresholds and
polychoric correlations, ``W_g`` the inverse of the diagonal of their asymptotic
covariance, and ``c_g = (n_g - 1) / N`` (lavaan's ``T = sum_g (n_g - 1) F_g``).
"""

from __future__ import annotations

import numpy as np

from .data import GroupData, vech_multiplicity
from .linalg import chol_inv as _chol_inv
from .linalg import sub_inverses
from .model import Model

__all__ = ["MLEstimator", "FIMLEstimator", "DWLSEstimator", "make_estimator"]

_LOG2PI = np.log(2 * np.pi)




class _Base:
    def __init__(self, model: Model, groups: list[GroupData]):
        if len(groups) != model.G:
            raise ValueError(f"The model has {model.G} group(s) but {len(groups)} data set(s) were given.")
        self.model = model
        self.groups = groups
        self.n_g = np.array([gd.n for gd in groups], dtype=float)
        self.N = float(self.n_g.sum())
        self.c = self.n_g / self.N

    # to implement: _group(theta, g) -> (F_g, dF_g/dm or None, H_g in theta space or None)
    def objective(self, theta: np.ndarray) -> float:
        total = 0.0
        for g in range(self.model.G):
            f = self._f(theta, g)
            if not np.isfinite(f):
                return np.inf
            total += self.c[g] * f
        return float(total)

    def group_objectives(self, theta: np.ndarray) -> np.ndarray:
        return np.array([self._f(theta, g) for g in range(self.model.G)])

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        out = np.zeros(self.model.q)
        for g in range(self.model.G):
            out += self.c[g] * (self.model.jacobian(theta, g).T @ self.moment_gradient(theta, g))
        return out


class MLEstimator(_Base):
    """Normal-theory maximum likelihood on complete data (sample moments, divisor n)."""

    name = "ml"

    def __init__(self, model: Model, groups: list[GroupData]):
        super().__init__(model, groups)
        if model.categorical:
            raise ValueError("ML needs continuous items; use DWLS for ordered items.")
        self._logdet_s = []
        for gd in groups:
            sign, ld = np.linalg.slogdet(gd.cov)
            if sign <= 0:
                raise ValueError("The sample covariance matrix is not positive definite (an item is a linear "
                                 "combination of others, or there are too few respondents); ML cannot be used.")
            self._logdet_s.append(ld)

    def _w(self, imp, gd):
        if self.model.meanstructure:
            d = gd.mean - imp["mean"]
            return gd.cov + np.outer(d, d), d
        return gd.cov, None

    def _f(self, theta, g):
        imp = self.model.implied(theta, g)
        ci = _chol_inv(imp["cov"])
        if ci is None:
            return np.inf
        inv, logdet = ci
        w, _ = self._w(imp, self.groups[g])
        return float(logdet + np.sum(w * inv) - self._logdet_s[g] - self.model.p)

    def moment_gradient(self, theta, g) -> np.ndarray:
        imp = self.model.implied(theta, g)
        inv, _ = _chol_inv(imp["cov"])
        w, d = self._w(imp, self.groups[g])
        gmat = inv - inv @ w @ inv
        m = self.model
        gv = vech_multiplicity(m.vech_rows, m.vech_cols) * gmat[m.vech_rows, m.vech_cols]
        if m.meanstructure:
            return np.concatenate([-2 * inv @ d, gv])
        return gv

    def hessian_approx(self, theta) -> np.ndarray:
        """Expected Hessian of F: ``sum_g c_g (tr(P D_a P D_b) + 2 J_a' P J_b)``."""
        q = self.model.q
        out = np.zeros((q, q))
        for g in range(self.model.G):
            imp = self.model.implied(theta, g)
            inv, _ = _chol_inv(imp["cov"])
            out += self.c[g] * _expected_theta(self.model, theta, g, inv, self.model.meanstructure)
        return (out + out.T) / 2


def _expected_theta(model: Model, theta, g, inv, meanstructure: bool) -> np.ndarray:
    dsig, dmu, _ = model._d_sigma_mu(theta, g)
    q = model.q
    pd_ = inv @ dsig @ inv                       # P D_a P
    e = pd_.reshape(q, -1) @ dsig.reshape(q, -1).T
    if meanstructure:
        e += 2 * dmu @ inv @ dmu.T
    return e


class FIMLEstimator(_Base):
    """Casewise (full-information) maximum likelihood over missing-data patterns.

    Patterns of the same size are processed together as stacks (batched
    Cholesky and inverse), so the cost per evaluation grows with the number of
    distinct patterns, not of respondents. Patterns with fewer respondents than
    items (with fewer items missing than observed) enter through their rows
    instead (:func:`_row_blocks`): for them the rows are cheaper than a pattern
    inverse each.
    """

    name = "fiml"

    def __init__(self, model: Model, groups: list[GroupData], h1_loglik: list[float] | None = None):
        super().__init__(model, groups)
        if model.categorical:
            raise ValueError("FIML needs continuous items.")
        if not model.meanstructure:
            raise ValueError("FIML needs a mean structure.")
        self.h1 = list(h1_loglik) if h1_loglik is not None else [0.0] * model.G
        self.blocks = [_pattern_blocks(gd) for gd in groups]
        self.row_blocks = [_row_blocks(gd) for gd in groups]

    def loglik(self, mean: np.ndarray, cov: np.ndarray, g: int) -> float:
        """Casewise log-likelihood of group g at (mean, cov); -inf if a block is not PD."""
        total = 0.0
        for blk in self.blocks[g]:
            obs = blk["obs"]
            ci = sub_inverses(cov, obs, blk["mis"])
            if ci is None:
                return -np.inf
            inv, logdet = ci
            d = blk["mean"] - mean[obs]
            w = blk["cov"] + d[:, :, None] * d[:, None, :]
            tr = np.einsum("kij,kij->k", inv, w)
            total += -0.5 * np.sum(blk["n"] * (obs.shape[1] * _LOG2PI + logdet + tr))
        if self.row_blocks[g]:
            full = _chol_inv(cov)
            if full is None:
                return -np.inf
            for blk in self.row_blocks[g]:
                terms = _row_terms(blk, full, mean)
                if terms is None:
                    return -np.inf
                logdet, d, v, _ = terms
                total += -0.5 * (np.sum(blk["n"] * (blk["s"] * _LOG2PI + logdet)) + np.sum(d * v))
        return float(total)

    def _f(self, theta, g):
        imp = self.model.implied(theta, g)
        ll = self.loglik(imp["mean"], imp["cov"], g)
        if not np.isfinite(ll):
            return np.inf
        return float(-2.0 / self.n_g[g] * (ll - self.h1[g]))

    def loglik_gradient(self, mean, cov, g) -> tuple[np.ndarray, np.ndarray]:
        """d logL / d mu (p) and d logL / d Sigma as a symmetric p x p matrix (unconstrained entries).

        Per pattern ``n_k P d_k`` and ``n_k/2 (P W_k P - P)`` (``P = Sigma_oo^-1``), added into the
        full item space by one weighted count per block; for the patterns taken row by row
        (:func:`_row_terms`) ``sum_i v_i`` and ``1/2 (sum_i v_i v_i' - sum_k n_k P_k)``, which are
        the same sums since ``sum_(i in k) d_i d_i' = n_k W_k``.
        """
        p = len(mean)
        gmu = np.zeros(p)
        gsig = np.zeros(p * p)
        not_pd = ("The implied covariance matrix is not positive definite; the model cannot be "
                  "fitted to these data (too few respondents or items without variance?).")
        for blk in self.blocks[g]:
            obs = blk["obs"]
            ci = sub_inverses(cov, obs, blk["mis"])
            if ci is None:
                raise ValueError(not_pd)
            inv = ci[0]
            d = blk["mean"] - mean[obs]
            w = blk["cov"] + d[:, :, None] * d[:, None, :]
            n = blk["n"][:, None]
            gmu += np.bincount(obs.ravel(), (n * np.einsum("kij,kj->ki", inv, d)).ravel(), minlength=p)
            gk = 0.5 * blk["n"][:, None, None] * (inv @ w @ inv - inv)
            gsig += np.bincount(blk["at"], gk.ravel(), minlength=p * p)
        gsig = gsig.reshape(p, p)
        if self.row_blocks[g]:
            full = _chol_inv(cov)
            if full is None:
                raise ValueError(not_pd)
            for blk in self.row_blocks[g]:
                terms = _row_terms(blk, full, mean)
                if terms is None:
                    raise ValueError(not_pd)
                _, _, v, n_inv = terms
                gmu += v.sum(axis=0)
                gsig += 0.5 * (v.T @ v - n_inv)
        return gmu, gsig

    def moment_gradient(self, theta, g) -> np.ndarray:
        imp = self.model.implied(theta, g)
        gmu, gsig = self.loglik_gradient(imp["mean"], imp["cov"], g)
        m = self.model
        gv = vech_multiplicity(m.vech_rows, m.vech_cols) * gsig[m.vech_rows, m.vech_cols]
        return -2.0 / self.n_g[g] * np.concatenate([gmu, gv])

    def hessian_approx(self, theta) -> np.ndarray:
        """Complete-data expected Hessian at the implied moments (exact without missing answers)."""
        q = self.model.q
        out = np.zeros((q, q))
        for g in range(self.model.G):
            imp = self.model.implied(theta, g)
            inv, _ = _chol_inv(imp["cov"])
            out += self.c[g] * _expected_theta(self.model, theta, g, inv, True)
        return (out + out.T) / 2


def _by_rows(gd: GroupData, ks: np.ndarray, n_missing: int) -> np.ndarray:
    """Which of the patterns ``ks`` (all with ``n_missing`` items missing) enter the likelihood row by row:
    fewer respondents than items, some but fewer items missing than observed, and the rows at hand."""
    p = gd.p
    if gd.x is None or not 0 < n_missing < p - n_missing:
        return np.zeros(len(ks), dtype=bool)
    return gd.layout.n[ks] < p


def _pattern_blocks(gd: GroupData) -> list[dict]:
    """Patterns stacked by number of observed items (from :attr:`GroupData.layout`), without those
    taken row by row (:func:`_by_rows`): obs (K x s), mis (K x p-s), n (K), mean (K x s),
    cov (K x s x s), at (positions of the K x s x s entries in a row-major p x p matrix)."""
    lay = gd.layout
    out = []
    for ks, obs, mis in lay.sizes:
        keep = ~_by_rows(gd, ks, mis.shape[1])
        if not keep.any():
            continue
        ks, obs, mis = ks[keep], obs[keep], mis[keep]
        out.append({"obs": obs, "mis": mis, "n": lay.n[ks],
                    "mean": lay.mean[ks[:, None], obs],
                    "cov": lay.cov[ks[:, None, None], obs[:, :, None], obs[:, None, :]],
                    "at": (obs[:, :, None] * gd.p + obs[:, None, :]).ravel()})
    return out


def _row_blocks(gd: GroupData) -> list[dict]:
    """The patterns taken row by row (:func:`_by_rows`), by number of missing items: mis (K x m),
    mask (K x p, 1 = observed), n (K), s (observed items), x (their respondents' rows, zeros for
    missing answers; R x p), pat (each row's pattern in the block), row_mask (R x p), oo (``sum_k n_k
    mask_k mask_k'``)."""
    lay = gd.layout
    out = []
    local = np.full(len(lay.n), -1, dtype=np.int64)
    for ks, obs, mis in lay.sizes:
        take = _by_rows(gd, ks, mis.shape[1])
        if not take.any():
            continue
        ks, mis = ks[take], mis[take]
        local[:] = -1
        local[ks] = np.arange(len(ks))
        at = np.nonzero(local[lay.pattern] >= 0)[0]             # positions in the pattern order
        pat = local[lay.pattern[at]]
        mask = lay.observed[ks].astype(float)
        x = gd.x[lay.order[at]]
        out.append({"mis": mis, "mask": mask, "n": lay.n[ks], "s": obs.shape[1], "x": np.where(np.isnan(x), 0.0, x),
                    "pat": pat, "row_mask": mask[pat], "oo": (mask * lay.n[ks][:, None]).T @ mask})
    return out


def _row_terms(blk: dict, full, mean: np.ndarray):
    """Per-pattern log-determinants and per-row ``v_i = Sigma_oo^-1 d_i`` of a row block, at (mean, cov).

    With ``P = Sigma^-1`` and, per pattern, ``L L' = P_mm`` (its missing items) and
    ``H = L^-1 P_mo`` (m x p, zeros in the missing columns):
    ``Sigma_oo^-1 = P_oo - H' H`` and ``log|Sigma_oo| = log|Sigma| + log|P_mm|``
    (the partitioned inverse, as :func:`~attachment_pipeline.sem.linalg.sub_inverses`), so
    ``v_i = (P d_i)_o - H' (H d_i)`` needs no inverse per pattern. Returns (log-determinants (K),
    deviations d (R x p, zeros for missing answers), v (R x p), ``sum_k n_k Sigma_oo^-1`` padded
    (p x p)); None if a P_mm is not positive definite.
    """
    p_full, logdet_full = full
    mis = blk["mis"]
    try:
        l_mm = np.linalg.cholesky(p_full[mis[:, :, None], mis[:, None, :]])
    except np.linalg.LinAlgError:
        return None
    h = np.linalg.solve(l_mm, p_full[mis]) * blk["mask"][:, None, :]     # K x m x p
    logdet = logdet_full + 2 * np.log(np.diagonal(l_mm, axis1=1, axis2=2)).sum(axis=1)
    d = (blk["x"] - mean) * blk["row_mask"]
    hr = h[blk["pat"]]
    v = (d @ p_full) * blk["row_mask"] - np.einsum("rmp,rm->rp", hr, np.einsum("rmp,rp->rm", hr, d))
    hn = (h * np.sqrt(blk["n"])[:, None, None]).reshape(-1, h.shape[2])
    n_inv = p_full * blk["oo"] - hn.T @ hn
    return logdet, d, v, n_inv


class DWLSEstimator(_Base):
    """Diagonally weighted least squares on thresholds and polychoric correlations."""

    name = "dwls"

    def __init__(self, model: Model, groups: list[GroupData]):
        super().__init__(model, groups)
        if not model.categorical:
            raise ValueError("DWLS here needs ordered items.")
        self.c = (self.n_g - 1) / self.N
        self.s = [np.asarray(gd.ordinal.wls_obs, dtype=float) for gd in groups]
        self.w = [np.asarray(gd.ordinal.wls_weight, dtype=float) for gd in groups]
        for g in range(model.G):
            if self.s[g].shape != (model.n_moments,):
                raise ValueError("The ordinal sample statistics do not match the model's thresholds and items.")
            if not np.all(np.isfinite(self.w[g])):
                raise ValueError("A DWLS weight is not finite (a perfect tetrachoric or polychoric correlation "
                                 "between two items?); drop one of the two items.")

    def _f(self, theta, g):
        r = self.s[g] - self.model.moments(theta, g)
        return float(np.sum(self.w[g] * r * r))

    def moment_gradient(self, theta, g) -> np.ndarray:
        return -2 * self.w[g] * (self.s[g] - self.model.moments(theta, g))

    def hessian_approx(self, theta) -> np.ndarray:
        q = self.model.q
        out = np.zeros((q, q))
        for g in range(self.model.G):
            jac = self.model.jacobian(theta, g)
            out += self.c[g] * 2 * (jac.T * self.w[g]) @ jac
        return (out + out.T) / 2


def make_estimator(name: str, model: Model, groups: list[GroupData], **kw):
    """The estimator object for ``ml``, ``fiml`` or ``dwls``."""
    return {"ml": MLEstimator, "fiml": FIMLEstimator, "dwls": DWLSEstimator}[name](model, groups, **kw)
