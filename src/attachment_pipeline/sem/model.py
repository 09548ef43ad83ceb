"""The matrix form of a model: implied moments and their derivatives (LISREL all-y form).

Per group (Joreskog & Sorbom; lavaan's ``representation = "LISREL"``), with
``eta`` the latent variables plus one *phantom* latent per observed variable that
takes part in a regression (loading 1, residual variance 0, as lavaan does):

    Sigma = Lambda (I - B)^-1 Psi (I - B)^-T Lambda' + Theta
    mu    = nu + Lambda (I - B)^-1 alpha

For ordered items (delta parameterisation; Muthen & Asparouhov, 2002), the
residual variances follow from the scale factors ``Delta`` (``~*~``):
``Theta_ii = 1 / Delta_i^2 - [Lambda Psi* Lambda']_ii``, the implied polychoric
correlations are ``Delta (Lambda Psi* Lambda' + Theta) Delta`` (off the diagonal)
and the implied thresholds ``Delta_i (tau_ik - mu_i)``.

The *moment vector* of a group, in the order every estimator uses:

- continuous items: ``[mu (if meanstructure), vech(Sigma)]`` with ``vech`` the lower
  triangle column by column (lavaan's order);
- ordered items: ``[thresholds item by item, correlations vech(R, diagonal = FALSE)]``.

:meth:`Model.jacobian` gives ``Delta = d moments / d theta`` analytically
(derivatives of each matrix element, summed over elements that share a free
parameter), so every estimator's gradient is ``Delta' (d F / d moments)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .syntax import ParTable

__all__ = ["Model", "GroupMatrices", "vech_indices"]

_MATS = ("lambda", "beta", "psi", "theta", "nu", "alpha", "tau", "delta")


def vech_indices(p: int, diagonal: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of ``vech`` (lower triangle, column by column), as lavaan orders it.

    >>> vech_indices(3)
    (array([0, 1, 2, 1, 2, 2]), array([0, 0, 0, 1, 1, 2]))
    >>> vech_indices(3, diagonal=False)
    (array([1, 2, 2]), array([0, 0, 1]))
    """
    rows, cols = [], []
    for j in range(p):
        for i in range(j if diagonal else j + 1, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


@dataclass
class GroupMatrices:
    """The model matrices of one group at a parameter value."""

    lam: np.ndarray
    beta: np.ndarray
    psi: np.ndarray
    theta: np.ndarray
    nu: np.ndarray
    alpha: np.ndarray
    tau: np.ndarray     # all thresholds, item by item
    delta: np.ndarray   # scale factors (1 for continuous items)


class Model:
    """A :class:`~attachment_pipeline.sem.syntax.ParTable` in matrix form.

    ``ov`` (observed, p), ``eta`` (latent + phantom, m); ``free_idx`` maps each
    parameter-table row to its 0-based free parameter (-1 = fixed).
    """

    def __init__(self, pt: ParTable):
        self.pt = pt
        self.ov = list(pt.ov)
        regressions = {(r.lhs, r.rhs) for r in pt.params if r.op == "~"}
        in_reg = {a for a, _ in regressions} | {b for _, b in regressions}
        self.phantom = [v for v in self.ov if v in in_reg]
        self.eta = list(pt.lv) + self.phantom
        self.p, self.m = len(self.ov), len(self.eta)
        self.G = pt.n_groups
        self.q = pt.n_free
        self.meanstructure = pt.meanstructure
        self.ordered = list(pt.ordered)
        self.categorical = bool(self.ordered)
        if self.categorical and len(self.ordered) != self.p:
            raise ValueError("Models mixing ordered and continuous items are not supported; "
                             "declare all items ordered or none.")
        self._ov_idx = {v: i for i, v in enumerate(self.ov)}
        self._eta_idx = {v: k for k, v in enumerate(self.eta)}
        # thresholds layout (same in every group)
        self.n_thresholds = [pt.n_levels.get(v, 1) - 1 if v in self.ordered else 0 for v in self.ov]
        self.tau_offset = np.concatenate([[0], np.cumsum(self.n_thresholds)]).astype(int)
        self.n_tau = int(self.tau_offset[-1])
        # element lists: per group, per matrix: rows, cols, free index (-1 fixed), fixed value, table row
        self.elements = [{k: [] for k in _MATS} for _ in range(self.G)]
        for t, par in enumerate(pt.params):
            mat, r, c = self._locate(par)
            self.elements[par.group][mat].append((r, c, par.free - 1, par.value, t))
        self._arrays = []
        for g in range(self.G):
            d = {}
            for k, lst in self.elements[g].items():
                if lst:
                    a = np.array(lst, dtype=float)
                    d[k] = (a[:, 0].astype(int), a[:, 1].astype(int), a[:, 2].astype(int), a[:, 3],
                            a[:, 4].astype(int))
                else:
                    z = np.zeros(0, dtype=int)
                    d[k] = (z, z, z, np.zeros(0), z)
            self._arrays.append(d)
        # moment vector layout
        if self.categorical:
            self.cor_rows, self.cor_cols = vech_indices(self.p, diagonal=False)
            self.n_moments = self.n_tau + len(self.cor_rows)
        else:
            self.vech_rows, self.vech_cols = vech_indices(self.p)
            self.n_moments = (self.p if self.meanstructure else 0) + len(self.vech_rows)

    # ------------------------------------------------------------------ layout
    def _locate(self, par) -> tuple[str, int, int]:
        ov, eta = self._ov_idx, self._eta_idx
        op = par.op
        if op == "=~":
            if par.rhs in eta:  # higher-order factor: rhs regressed on lhs
                return "beta", eta[par.rhs], eta[par.lhs]
            return "lambda", ov[par.rhs], eta[par.lhs]
        if op == "~":
            return "beta", eta[par.lhs], eta[par.rhs]
        if op == "~~":
            if par.lhs in eta and par.rhs in eta:
                a, b = eta[par.lhs], eta[par.rhs]
                return "psi", max(a, b), min(a, b)
            if par.lhs in eta or par.rhs in eta:
                raise ValueError(f"Cannot represent the covariance {par.lhs} ~~ {par.rhs}: one is a latent or "
                                 "regression variable and the other an indicator.")
            a, b = ov[par.lhs], ov[par.rhs]
            return "theta", max(a, b), min(a, b)
        if op == "~1":
            if par.lhs in eta:
                return "alpha", eta[par.lhs], 0
            return "nu", ov[par.lhs], 0
        if op == "|":
            i = ov[par.lhs]
            k = int(par.rhs[1:]) - 1
            return "tau", int(self.tau_offset[i] + k), 0
        if op == "~*~":
            return "delta", ov[par.lhs], 0
        raise ValueError(f"Unknown operator {op!r}.")

    def fixed_phantom(self) -> list[tuple[int, int]]:
        return [(self._ov_idx[v], self._eta_idx[v]) for v in self.phantom]

    # ------------------------------------------------------------------ matrices
    def group_parameters(self, g: int) -> np.ndarray:
        """Indices (sorted) of the free parameters that appear in group ``g``'s matrices: the only ones its
        implied moments, and their Jacobian, depend on (equality constraints share an index across groups)."""
        free = [f for r, c, f, val, t in (e for lst in self.elements[g].values() for e in lst) if f >= 0]
        return np.unique(np.array(free, dtype=np.int64))

    def matrices(self, theta: np.ndarray, g: int) -> GroupMatrices:
        """The model matrices of group ``g`` at the free parameter vector ``theta``."""
        p, m = self.p, self.m
        lam = np.zeros((p, m))
        for i, k in self.fixed_phantom():
            lam[i, k] = 1.0
        beta = np.zeros((m, m))
        psi = np.zeros((m, m))
        th = np.zeros((p, p))
        nu = np.zeros(p)
        alpha = np.zeros(m)
        tau = np.zeros(self.n_tau)
        delta = np.ones(p)
        arr = self._arrays[g]

        def fill(key, target, sym=False, vec=False):
            r, c, f, val, _ = arr[key]
            v = np.where(f >= 0, theta[np.clip(f, 0, None)] if len(theta) else 0.0, val)
            if vec:
                target[r] = v
            else:
                target[r, c] = v
                if sym:
                    target[c, r] = v

        fill("lambda", lam)
        fill("beta", beta)
        fill("psi", psi, sym=True)
        fill("theta", th, sym=True)
        fill("nu", nu, vec=True)
        fill("alpha", alpha, vec=True)
        fill("tau", tau, vec=True)
        fill("delta", delta, vec=True)
        return GroupMatrices(lam, beta, psi, th, nu, alpha, tau, delta)

    def _core(self, mats: GroupMatrices):
        m = self.m
        ib = np.linalg.inv(np.eye(m) - mats.beta) if m else np.zeros((0, 0))
        a = mats.lam @ ib
        psi_star = ib @ mats.psi @ ib.T
        common = mats.lam @ psi_star @ mats.lam.T
        eta_mean = ib @ mats.alpha
        return ib, a, psi_star, common, eta_mean

    def implied(self, theta: np.ndarray, g: int) -> dict:
        """Implied moments of group g: ``cov``/``mean`` (continuous) or ``cor``/``th`` (ordered).

        For ordered items also ``cov_star`` (the latent-response covariance before
        scaling) and ``theta_diag`` (implied residual variances).
        """
        mats = self.matrices(theta, g)
        ib, a, psi_star, common, eta_mean = self._core(mats)
        mu = mats.nu + mats.lam @ eta_mean
        if not self.categorical:
            return {"cov": common + mats.theta, "mean": mu, "mats": mats}
        d = mats.delta
        th = mats.theta.copy()
        np.fill_diagonal(th, 1.0 / d ** 2 - np.diag(common))
        star = common + th
        cor = star * np.outer(d, d)
        np.fill_diagonal(cor, 1.0)
        item = np.repeat(np.arange(self.p), self.n_thresholds)
        th_implied = d[item] * (mats.tau - mu[item])
        return {"cor": cor, "th": th_implied, "mean": mu, "theta_diag": np.diag(th), "cov_star": star,
                "mats": mats}

    def moments(self, theta: np.ndarray, g: int) -> np.ndarray:
        """The implied moment vector of group g (layout in the module docstring)."""
        imp = self.implied(theta, g)
        if self.categorical:
            return np.concatenate([imp["th"], imp["cor"][self.cor_rows, self.cor_cols]])
        vech = imp["cov"][self.vech_rows, self.vech_cols]
        return np.concatenate([imp["mean"], vech]) if self.meanstructure else vech

    # ------------------------------------------------------------------ derivatives
    def jacobian(self, theta: np.ndarray, g: int, columns=None) -> np.ndarray:
        """``Delta_g = d moments_g / d theta``: array (n_moments, q); with ``columns`` (continuous items only)
        just those columns, which must include every parameter group ``g`` uses (:meth:`group_parameters`).

        Element derivatives (``A = Lambda (I - B)^-1``, ``Psi* = (I-B)^-1 Psi (I-B)^-T``,
        ``L = Lambda Psi*``, ``e = (I - B)^-1 alpha``):
        ``dSigma/dLambda_ij = e_i L_.j' + L_.j e_i'``, ``dmu/dLambda_ij = e_i e_j``;
        ``dSigma/dB_kl = A_.k L_.l' + L_.l A_.k'``, ``dmu/dB_kl = A_.k e_l``;
        ``dSigma/dPsi_kl = A_.k A_.l' (+ transpose if k != l)``; ``dmu/dalpha_k = A_.k``;
        ``dSigma/dTheta_ij = E_ij (+ E_ji)``; ``dmu/dnu_i = e_i``.
        """
        if columns is not None and self.categorical:
            raise ValueError("jacobian(columns=...) is for continuous items only")
        dsig, dmu, extra = self._d_sigma_mu(theta, g, columns)
        if not self.categorical:
            rows = dsig[:, self.vech_rows, self.vech_cols].T
            if self.meanstructure:
                rows = np.vstack([dmu.T, rows])
            return rows
        return self._categorical_jacobian(theta, g, dsig, dmu, extra)

    def _d_sigma_mu(self, theta, g, columns=None):
        """dSigma/dtheta (q, p, p) and dmu/dtheta (q, p), vectorised over the matrix elements.

        ``columns``: only the derivatives in these free parameters, in this order (they must include
        every parameter group ``g`` uses, :meth:`group_parameters`; the others are zero).
        """
        q, p = self.q, self.p
        slot = np.arange(q)
        if columns is not None:
            q = len(columns)
            slot = np.full(self.q, -1)
            slot[columns] = np.arange(q)
        mats = self.matrices(theta, g)
        ib, a, psi_star, common, eta_mean = self._core(mats)
        lmat = mats.lam @ psi_star
        dsig = np.zeros((q, p, p))
        dmu = np.zeros((q, p))
        arr = self._arrays[g]
        cols = np.arange(p)
        r, c, f, _, _ = arr["lambda"]
        sel = f >= 0
        if sel.any():
            i, j, k = r[sel], c[sel], slot[f[sel]]
            v = lmat[:, j].T                                     # (n, p)
            np.add.at(dsig, (k[:, None], i[:, None], cols[None, :]), v)
            np.add.at(dsig, (k[:, None], cols[None, :], i[:, None]), v)
            np.add.at(dmu, (k, i), eta_mean[j])
        r, c, f, _, _ = arr["beta"]
        sel = f >= 0
        if sel.any():
            kk, ll, k = r[sel], c[sel], slot[f[sel]]
            o = a[:, kk].T[:, :, None] * lmat[:, ll].T[:, None, :]   # (n, p, p)
            np.add.at(dsig, k, o + o.transpose(0, 2, 1))
            np.add.at(dmu, k, a[:, kk].T * eta_mean[ll][:, None])
        r, c, f, _, _ = arr["psi"]
        sel = f >= 0
        if sel.any():
            kk, ll, k = r[sel], c[sel], slot[f[sel]]
            o = a[:, kk].T[:, :, None] * a[:, ll].T[:, None, :]
            o = np.where((kk == ll)[:, None, None], o, o + o.transpose(0, 2, 1))
            np.add.at(dsig, k, o)
        r, c, f, _, _ = arr["theta"]
        sel = f >= 0
        if sel.any():
            i, j, k = r[sel], c[sel], slot[f[sel]]
            np.add.at(dsig, (k, i, j), 1.0)
            off = i != j
            np.add.at(dsig, (k[off], j[off], i[off]), 1.0)
        r, _, f, _, _ = arr["nu"]
        sel = f >= 0
        np.add.at(dmu, (slot[f[sel]], r[sel]), 1.0)
        r, _, f, _, _ = arr["alpha"]
        sel = f >= 0
        if sel.any():
            np.add.at(dmu, slot[f[sel]], a[:, r[sel]].T)
        return dsig, dmu, (mats, common)

    def _categorical_jacobian(self, theta, g, dsig, dmu, extra):
        mats, common = extra
        q, p = self.q, self.p
        d = mats.delta
        # residual variances are implied: d(star)_ii = 0 except through delta; off-diagonal as usual
        dstar = dsig.copy()
        idx = np.arange(p)
        dstar[:, idx, idx] = 0.0
        star = common + mats.theta
        np.fill_diagonal(star, 0.0)
        dd = np.outer(d, d)
        dcor = dstar * dd[None]
        r, _, f, _, _ = self._arrays[g]["delta"]
        sel = f >= 0
        for i, k in zip(r[sel], f[sel]):
            # d(d_i d_j s_ij)/d d_i = d_j s_ij
            dcor[k, i, :] += d * star[i, :]
            dcor[k, :, i] += d * star[:, i]
        cor_part = dcor[:, self.cor_rows, self.cor_cols].T
        item = np.repeat(np.arange(p), self.n_thresholds)
        mu = mats.nu + mats.lam @ np.linalg.solve(np.eye(self.m) - mats.beta, mats.alpha) if self.m else mats.nu
        dth = -(dmu[:, item] * d[item][None, :])  # (q, n_tau)
        r, _, f, _, _ = self._arrays[g]["tau"]
        sel = f >= 0
        np.add.at(dth, (f[sel], r[sel]), d[item][r[sel]])
        dr, _, df_, _, _ = self._arrays[g]["delta"]
        dsel = df_ >= 0
        for i, k in zip(dr[dsel], df_[dsel]):
            cols = np.nonzero(item == i)[0]
            dth[k, cols] += mats.tau[cols] - mu[i]
        return np.vstack([dth.T, cor_part])

    # ------------------------------------------------------------------ table values
    def values(self, theta: np.ndarray) -> np.ndarray:
        """The value of every parameter-table row at ``theta`` (implied residual
        variances of ordered items included)."""
        out = np.array([p.value for p in self.pt.params], dtype=float)
        for t, par in enumerate(self.pt.params):
            if par.free > 0:
                out[t] = theta[par.free - 1]
        if self.categorical:
            for g in range(self.G):
                imp = self.implied(theta, g)
                for t, par in enumerate(self.pt.params):
                    if par.group == g and par.op == "~~" and par.lhs == par.rhs and par.lhs in self.ordered:
                        out[t] = imp["theta_diag"][self._ov_idx[par.lhs]]
        return out
