"""Measurement invariance across groups: multi-group ML CFA as ``lavaan::cfa(..., group =)``.

An instrument's simple-structure model (e.g. the ECR-R's two correlated
factors, anxiety and avoidance) is fitted in several groups at once -- cohorts,
or the levels of a group column -- at three nested levels of invariance
(Meredith, 1993; Vandenberg & Lance, 2000):

``configural``
    the same pattern in every group; loadings, factor variances and
    covariances, residual variances and item intercepts free per group; latent
    means fixed to 0 (lavaan: ``cfa(model, data, group = "g")``).
``metric``
    loadings equal across groups (``group.equal = "loadings"``).
``scalar``
    loadings and intercepts equal (``group.equal = c("loadings",
    "intercepts")``); the latent means are then fixed to 0 in the first group
    and free in the others, as lavaan does.

Identification is lavaan's default: the first item of each factor has loading
1 in every group (marker variable). Groups are ordered as lavaan orders them:
by first appearance in the data (the categories' order for a categorical
``group``); only the first group's role (latent means 0) depends on it.

Estimation (Joreskog, 1971; Sorbom, 1974) minimises the multi-group ML
discrepancy ``F = sum_g (N_g / N) F_g`` with, per group,
``F_g = ln|Sigma_g| + tr(S_g Sigma_g^-1) - ln|S_g| - p + (m_g - mu_g)' Sigma_g^-1 (m_g - mu_g)``,
``S_g`` the covariance with divisor ``N_g`` and ``m_g`` the item means
(lavaan's ``likelihood = "normal"``), ``Sigma_g = Lambda_g Phi_g Lambda_g' + Theta_g``
and ``mu_g = nu_g + Lambda_g alpha_g``. Newton's method with the analytic
gradient and exact Hessian (Fisher scoring where the Hessian is not positive
definite) is run from per-group moments only, so after one pass over the data
the cost does not depend on n. Respondents missing any model item or the
group are left out (listwise; counted in ``n_excluded``).

Fit, as lavaan 0.6's ``fitMeasures``:
``chi2 = N F_min`` on ``df = G (p (p + 1) / 2 + p) - npar`` degrees of freedom;
the baseline is the independence model with free means and variances per group,
``baseline_chi2 = sum_g N_g (sum_i ln s_gii - ln|S_g|)`` on ``G p (p - 1) / 2``
df; ``cfi = 1 - max(chi2 - df, 0) / max(chi2 - df, baseline_chi2 - baseline_df, 0)``;
``tli = 1 - (chi2 - df) baseline_df / ((baseline_chi2 - baseline_df) df)``;
``rmsea = sqrt(max(chi2 / (N df) - 1 / N, 0)) sqrt(G)`` with its 90% interval
(also times ``sqrt(G)``; Steiger, 1998); ``srmr`` = sum_g (N_g / N) SRMR_g with
Bentler's per-group SRMR over the standardized covariance residuals
``(s_ij - sigma_ij) / sqrt(s_ii s_jj)`` (i <= j) **and** the standardized mean
residuals ``(m_i - mu_i) / sqrt(s_ii)``, i.e. root mean square over
``p (p + 1) / 2 + p`` elements (lavaan's ``srmr`` = ``srmr_bentler`` when there
is a mean structure); ``loglik``, ``aic``, ``bic`` as lavaan (summed over groups).

Decision (Chen, 2007): invariance at a level holds when, compared with the
previous level, ``delta CFI >= -.010`` and ``delta RMSEA <= .015``; a level
whose predecessor failed is reported as not supported.

Public entry points
-------------------
- :func:`invariance_table` -- the three levels, one row each (``invariance.csv``).
- :func:`invariance_parameters` -- the estimates of every level, lavaan-style long table.
- :func:`multigroup_cfa` -- one level, returns a :class:`MultiGroupCFAResult`.
- :func:`group_moments` -- per-group listwise means and covariances (one pass).
- :func:`instrument_model` -- the ``{subscale: [item columns]}`` model of an instrument.

Agreement with R (``tests/r/invariance_reference.R``, lavaan 0.6-14) on the
shipped data (``tests/data/invariance_*.csv``: three cohorts and two cohorts
with planted intercept differences, 36 and 12 ECR-R items; three gender groups,
one of 18 respondents, 6 items), all three levels, max deviations: chi2 2e-10
relative (1.5e-8 in the 18-respondent case), CFI/TLI/RMSEA 2e-11 (1e-9), RMSEA
interval 6e-8, SRMR 6e-8 (2.4e-7); estimates 5e-5 (7e-4), standard errors
(expected information) 4e-6 (2e-4), std.all 1.4e-5 (1.1e-4). Our chi2 is never
above lavaan's: the differences are lavaan's convergence tolerance. Tests:
``tests/test_invariance.py``.

References
----------
Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. Structural Equation Modeling, 14, 464-504.
Joreskog, K. G. (1971). Simultaneous factor analysis in several populations.
Psychometrika, 36, 409-426.
Sorbom, D. (1974). A general method for studying differences in factor means and
factor structure between groups. British Journal of Mathematical and Statistical
Psychology, 27, 229-239.
Meredith, W. (1993). Measurement invariance, factor analysis and factorial
invariance. Psychometrika, 58, 525-543.
Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis of the measurement
invariance literature. Organizational Research Methods, 3, 4-70.
Steiger, J. H. (1998). A note on multiple sample extensions of the RMSEA fit index.
Structural Equation Modeling, 5, 411-419.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. Journal
of Statistical Software, 48(2), 1-36.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(7)
>>> lam = np.kron(np.eye(2), np.full((1, 3), 0.8))
>>> x = pd.DataFrame(rng.normal(size=(600, 2)) @ lam + rng.normal(scale=0.6, size=(600, 6)) + 3,
...                  columns=list("abcdef"))
>>> g = pd.Series(np.repeat(["one", "two"], 300))
>>> t = invariance_table(x, {"f1": list("abc"), "f2": list("def")}, g)
>>> t[["model", "df", "delta_df"]].values.tolist()
[['configural', 16, nan], ['metric', 20, 4.0], ['scalar', 24, 4.0]]
>>> t.decision[1]
'metric invariance supported (delta CFI = .000, delta RMSEA = -.011)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from attachment_pipeline.factors import (
    ItemMoments,
    _cfa_start,
    _lavaan_rmsea_ci,
    _ml_gradient_hessian,
    _one_blas_thread,
    _SimpleStructure,
    _validate_model,
)

__all__ = [
    "LEVELS",
    "DELTA_CFI_MIN",
    "DELTA_RMSEA_MAX",
    "GroupMoments",
    "group_moments",
    "MultiGroupCFAResult",
    "multigroup_cfa",
    "invariance_table",
    "invariance_parameters",
    "invariance_decision",
    "instrument_model",
    "independence_chi2",
    "incremental_fit",
    "multigroup_rmsea",
    "multigroup_srmr",
    "INVARIANCE_COLUMNS",
]

#: Levels of invariance, from least to most constrained.
LEVELS = ("configural", "metric", "scalar")
#: Chen (2007): invariance holds when delta CFI >= this ...
DELTA_CFI_MIN = -0.010
#: ... and delta RMSEA <= this.
DELTA_RMSEA_MAX = 0.015

#: Columns of :func:`invariance_table`.
INVARIANCE_COLUMNS = (
    "model", "n", "n_groups", "npar", "chi2", "df", "p", "cfi", "tli", "rmsea", "rmsea_low",
    "rmsea_high", "srmr", "delta_chi2", "delta_df", "delta_p", "delta_cfi", "delta_rmsea",
    "decision", "baseline_chi2", "baseline_df", "loglik", "aic", "bic", "converged",
)


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class GroupMoments:
    """Listwise item moments per group (the sufficient statistics of a multi-group CFA).

    ``labels`` in lavaan's group order; ``moments[g]`` the :class:`ItemMoments`
    of group g (covariance with divisor ``n - 1``); ``n_excluded`` counts
    respondents dropped for a missing model item or a missing group.
    """

    labels: tuple[str, ...]
    moments: tuple[ItemMoments, ...]
    n_excluded: int = 0

    def __post_init__(self):
        if len(self.labels) != len(self.moments):
            raise ValueError(f"GroupMoments needs one label per group; got {len(self.labels)} labels "
                             f"and {len(self.moments)} moment sets.")
        if len(self.moments) < 1:
            raise ValueError("GroupMoments needs at least one group.")
        items = self.moments[0].items
        for lab, m in zip(self.labels, self.moments):
            if m.items != items:
                raise ValueError(f"Group {lab!r} has items {list(m.items)}, expected {list(items)}.")
        object.__setattr__(self, "labels", tuple(str(v) for v in self.labels))
        object.__setattr__(self, "moments", tuple(self.moments))

    @property
    def items(self) -> tuple[str, ...]:
        return self.moments[0].items

    @property
    def n(self) -> int:
        return int(sum(m.n for m in self.moments))

    @property
    def n_groups(self) -> int:
        return len(self.moments)

    def subset(self, items: Sequence[str]) -> "GroupMoments":
        """The same groups and respondents, some items (in the given order)."""
        return GroupMoments(self.labels, tuple(m.subset(items) for m in self.moments), self.n_excluded)


def _group_levels(group: pd.Series) -> list:
    """Group labels in lavaan's order: first appearance (categories' order if categorical)."""
    if isinstance(group.dtype, pd.CategoricalDtype):
        present = set(group.dropna().unique())
        return [c for c in group.cat.categories if c in present]
    return list(pd.unique(group.dropna()))


def group_moments(data: pd.DataFrame, items: Sequence[str], group) -> GroupMoments:
    """Per-group listwise means and covariances of ``items``, in one pass over the rows.

    Parameters
    ----------
    data : DataFrame with the item columns (numeric, NaN = missing).
    items : the item columns to analyse.
    group : Series with the same index as ``data`` (group labels; missing = left out),
        or the name of a column of ``data``.

    Returns
    -------
    GroupMoments
        Respondents with a missing item or group are dropped and counted in
        ``n_excluded``. Labels are text.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6, 7, np.nan], "b": [2, 1, 4, 3, 5, 7, 6, 1],
    ...                   "g": list("yxyxyxyx")})
    >>> gm = group_moments(d, ["a", "b"], "g")
    >>> gm.labels, [m.n for m in gm.moments], gm.n_excluded, gm.moments[0].mean.tolist()
    (('y', 'x'), [4, 3], 1, [4.0, 4.25])
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame with the item columns, got {type(data).__name__}.")
    if isinstance(group, str):
        if group not in data.columns:
            raise ValueError(f"The group column {group!r} is not a column of the data "
                             f"({', '.join(map(str, data.columns))}).")
        group = data[group]
    if not isinstance(group, pd.Series):
        raise ValueError(f"group must be a pandas Series (or a column name of data), got {type(group).__name__}.")
    if len(group) != len(data) or not group.index.equals(data.index):
        raise ValueError(f"group ({len(group)} rows) must have the same index as data ({len(data)} rows); "
                         "align them (e.g. group.reindex(data.index)).")
    items = [str(c) for c in items]
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise ValueError(f"Item column(s) {absent} are not in the data ({', '.join(map(str, data.columns))}).")
    x = data.loc[:, items]
    bad = [c for c in items if not (pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]))]
    if bad:
        example = x[bad[0]].dropna()
        example = f" (e.g. value {example.iloc[0]!r})" if len(example) else ""
        raise ValueError(f"Item columns must be numeric; column(s) {bad} are not{example}. "
                         "Recode answers to numbers first.")
    values = x.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(values).any():
        raise ValueError("An item column holds an infinite value; use NaN for missing answers.")
    labels = _group_levels(group)
    if len({str(v) for v in labels}) != len(labels):
        raise ValueError(f"Group labels {labels} are not distinct as text; recode the group column.")
    complete = x.notna().all(axis=1).to_numpy() & group.notna().to_numpy()
    moments = []
    for lab in labels:
        mask = (group == lab).to_numpy() & complete
        n_g = int(mask.sum())
        if n_g <= len(items):
            raise ValueError(f"Group {lab!r} has {n_g} complete respondents for {len(items)} model items; its "
                             "covariance matrix is singular, so the group cannot be fitted. Use fewer items, "
                             "or drop or merge small groups.")
        xg = values[mask]
        in_group = int((group == lab).sum())
        flat = [c for c, v in zip(items, np.ptp(xg, axis=0)) if v == 0]
        if flat:
            raise ValueError(f"Group {lab!r}: item(s) {flat} have the same answer from all {n_g} complete "
                             "respondents (no variance), so the group's covariance matrix is singular. "
                             "Drop the item(s) from the model or the group from the comparison.")
        moments.append(ItemMoments(tuple(items), n_g, in_group - n_g, xg.mean(axis=0),
                                   np.atleast_2d(np.cov(xg, rowvar=False, ddof=1))))
    return GroupMoments(tuple(str(v) for v in labels), tuple(moments), int((~complete).sum()))


def instrument_model(instrument) -> dict[str, list[str]]:
    """The theoretical model of an instrument: ``{subscale: ["<instrument>_<n>", ...]}``.

    >>> from attachment_pipeline.instruments import load_instrument
    >>> m = instrument_model(load_instrument("ecr_r"))
    >>> list(m), m["avoidance"][:2], len(m["anxiety"])
    (['anxiety', 'avoidance'], ['ecr_r_19', 'ecr_r_20'], 18)
    """
    return {s: [f"{instrument.name}_{n}" for n in instrument.subscale_items(s)] for s in instrument.subscales}


# ------------------------------------------------------------------- the model
class _MultiGroup:
    """Parameter bookkeeping of the multi-group model at one invariance level.

    Local parameters of group g: ``[free loadings, factor (co)variances,
    residual variances]`` (the :class:`_SimpleStructure` layout), then the p
    intercepts ``nu``, then the m latent means ``alpha``. ``index[g, a]`` is the
    global parameter of local parameter a, or -1 when it is fixed (latent means
    at 0).
    """

    def __init__(self, p: int, fac: np.ndarray, m: int, n_groups: int, level: str):
        self.struct = _SimpleStructure(p, fac, m)
        self.p, self.m, self.G, self.level = p, m, n_groups, level
        st = self.struct
        self.q_cov = st.q
        self.q_loc = st.q + p + m
        self.sl_load = slice(0, st.n_load)
        self.sl_nu = slice(st.q, st.q + p)
        self.sl_alpha = slice(st.q + p, st.q + p + m)
        index = np.full((n_groups, self.q_loc), -1, dtype=np.int64)
        nxt = 0

        def new(k):
            nonlocal nxt
            out = np.arange(nxt, nxt + k)
            nxt += k
            return out

        shared_load = new(st.n_load) if level in ("metric", "scalar") else None
        shared_nu = new(p) if level == "scalar" else None
        for g in range(n_groups):
            index[g, self.sl_load] = shared_load if shared_load is not None else new(st.n_load)
            index[g, st.n_load:st.q] = new(st.n_phi + p)
            index[g, self.sl_nu] = shared_nu if shared_nu is not None else new(p)
            if level == "scalar" and g > 0:
                index[g, self.sl_alpha] = new(m)
        self.index = index
        self.q = nxt
        # local second derivatives of mu: d2 mu / (d lambda_i,f d alpha_f) = e_i
        self.load_item = st.free_items
        self.load_fac = st.fac[st.free_items]

    def local(self, theta: np.ndarray, g: int) -> np.ndarray:
        idx = self.index[g]
        out = np.zeros(self.q_loc)
        free = idx >= 0
        out[free] = theta[idx[free]]
        return out

    def implied(self, loc: np.ndarray):
        lam, phi, resid = self.struct.unpack(loc[:self.q_cov])
        sigma = lam @ phi @ lam.T + np.diag(resid)
        mu = loc[self.sl_nu] + lam @ loc[self.sl_alpha]
        return lam, phi, resid, sigma, mu

    def mean_jacobian(self, loc: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """d mu / d local parameter: (q_loc, p)."""
        jac = np.zeros((self.q_loc, self.p))
        alpha = loc[self.sl_alpha]
        jac[np.arange(self.struct.n_load), self.load_item] = alpha[self.load_fac]
        jac[self.sl_nu, :] = np.eye(self.p)
        jac[self.sl_alpha, :] = lam.T
        return jac


def _group_objective(model: _MultiGroup, loc, s, mean, logdet_s):
    """F_g and what its derivatives need, or (inf, None) if Sigma_g is not positive definite."""
    lam, phi, resid, sigma, mu = model.implied(loc)
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return np.inf, None
    inv = np.linalg.inv(sigma)
    inv = (inv + inv.T) / 2
    d = mean - mu
    w = s + np.outer(d, d)
    f = 2 * np.log(np.diag(chol)).sum() + np.sum(w * inv) - logdet_s - model.p
    return float(f), (lam, sigma, mu, inv, d, w)


def _group_derivatives(model: _MultiGroup, loc, cache):
    """Gradient, exact Hessian and expected Hessian of F_g in the local parameters.

    With ``P = Sigma^-1``, ``d = m - mu``, ``W = S + d d'``, ``v = P d``,
    ``D_a = dSigma/dtheta_a`` and ``J_a = dmu/dtheta_a``:
    ``g_a = tr((P - P W P) D_a) - 2 J_a' v``;
    ``H_ab = H^cov_ab(W) + 2 J_a' P J_b + 2 (D_a v)' P J_b + 2 (D_b v)' P J_a - 2 v' d2mu_ab``
    with ``H^cov(W)`` the covariance-structure Hessian evaluated at W
    (:func:`attachment_pipeline.factors._ml_gradient_hessian`); expected
    ``E_ab = tr(P D_a P D_b) + 2 J_a' P J_b``.
    """
    lam, sigma, mu, inv, d, w = cache
    qc = model.q_cov
    theta_cov = loc[:qc]
    g_cov, h_cov, e_cov = _ml_gradient_hessian(model.struct, theta_cov, w, inv)
    jac = model.mean_jacobian(loc, lam)
    v = inv @ d
    pj = jac @ inv                                   # (q_loc, p): rows (P J_a)'
    grad = -2 * jac @ v
    grad[:qc] += g_cov
    mean_info = 2 * pj @ jac.T
    hess = mean_info.copy()
    hess[:qc, :qc] += h_cov
    dv = model.struct.derivatives(theta_cov) @ v     # (q_cov, p): D_a v
    k = np.zeros((model.q_loc, model.q_loc))
    k[:qc, :] = 2 * dv @ pj.T
    hess += k + k.T
    nl = model.struct.n_load
    a_idx = model.sl_alpha.start + model.load_fac
    r_idx = np.arange(nl)
    hess[r_idx, a_idx] -= 2 * v[model.load_item]
    hess[a_idx, r_idx] -= 2 * v[model.load_item]
    fisher = mean_info
    fisher[:qc, :qc] += e_cov
    return grad, (hess + hess.T) / 2, (fisher + fisher.T) / 2


# ------------------------------------------------------------ fit statistics
def independence_chi2(moments: GroupMoments) -> tuple[float, int]:
    """Chi-square of the multi-group baseline (independence) model, as lavaan's ``baseline.chisq``.

    Free means and variances per group, no covariances:
    ``chi2_0 = sum_g N_g (sum_i ln s_gii - ln|S_g|)`` (S_g with divisor N_g) on
    ``G p (p - 1) / 2`` df (the means are saturated).

    >>> m = ItemMoments(("a", "b"), 101, 0, np.zeros(2), np.array([[1.0, 0.5], [0.5, 1.0]]) * 101 / 100)
    >>> chi2, df = independence_chi2(GroupMoments(("x", "y"), (m, m)))
    >>> round(chi2, 4), df                       # 2 x 101 x -ln(1 - .5^2)
    (58.1118, 2)
    """
    chi2 = 0.0
    for mom in moments.moments:
        s = mom.cov_ml
        chi2 += mom.n * (np.log(np.diag(s)).sum() - np.linalg.slogdet(s)[1])
    p = len(moments.items)
    return float(chi2), int(moments.n_groups * p * (p - 1) // 2)


def incremental_fit(chi2: float, df: int, base_chi2: float, base_df: int) -> tuple[float, float]:
    """CFI (Bentler, 1990) and TLI (Tucker & Lewis, 1973) as lavaan computes them.

    ``cfi = 1 - max(chi2 - df, 0) / max(chi2 - df, chi2_0 - df_0, 0)`` (1 when both are 0);
    ``tli = 1 - (chi2 - df) df_0 / ((chi2_0 - df_0) df)`` (1 when df = 0).

    >>> [round(v, 4) for v in incremental_fit(120.0, 50, 2000.0, 66)]
    [0.9638, 0.9522]
    """
    t1, t2 = max(chi2 - df, 0.0), max(chi2 - df, base_chi2 - base_df, 0.0)
    cfi = 1.0 if (np.isclose(t1, 0, atol=1.5e-8) and np.isclose(t2, 0, atol=1.5e-8)) else 1 - t1 / t2
    tt2 = (base_chi2 - base_df) * df
    tli = 1 - (chi2 - df) * base_df / tt2 if (df > 0 and abs(tt2) > 0) else 1.0
    return float(cfi), float(tli)


def multigroup_rmsea(chi2: float, df: int, n: int, n_groups: int) -> tuple[float, float, float]:
    """RMSEA of a multi-group model with its 90% interval, as lavaan 0.6: ``(rmsea, low, high)``.

    ``rmsea = sqrt(max(chi2 / (N df) - 1 / N, 0)) sqrt(G)`` with N the total
    sample size and G groups (Steiger, 1998); the interval bounds are
    ``sqrt(lambda / (N df)) sqrt(G)`` for the noncentralities lambda at which
    the noncentral chi-square cdf of chi2 is .95 and .05 (lavaan's
    ``lav_fit_rmsea_ci``).

    >>> [round(v, 4) for v in multigroup_rmsea(150.0, 100, 600, 2)]
    [0.0408, 0.0265, 0.0538]
    """
    rmsea = float(np.sqrt(max(chi2 / n / df - 1 / n, 0.0)) * np.sqrt(n_groups)) if df > 0 else 0.0
    low, high = _lavaan_rmsea_ci(chi2, df, n)
    return rmsea, float(low * np.sqrt(n_groups)), float(high * np.sqrt(n_groups))


def multigroup_srmr(s, m, sigma, mu, n_g) -> float:
    """SRMR of a multi-group model with a mean structure, as lavaan's ``srmr`` (``srmr_bentler``).

    Per group (Bentler, 1995; lavaan ``lav_residuals_summary``), with ``S``
    the covariance (divisor N_g), ``m`` the means and ``Sigma``, ``mu`` the
    model-implied ones:
    ``SRMR_g = sqrt((sum_{i<=j} ((s_ij - sigma_ij) / sqrt(s_ii s_jj))^2
    + sum_i ((m_i - mu_i) / sqrt(s_ii))^2) / (p (p + 1) / 2 + p))``;
    the model's SRMR is ``sum_g (N_g / N) SRMR_g``.

    >>> s = [np.array([[1.0, 0.3], [0.3, 1.0]])] * 2
    >>> fit = [np.array([[1.0, 0.2], [0.2, 1.0]])] * 2
    >>> round(multigroup_srmr(s, [np.zeros(2)] * 2, fit, [np.zeros(2)] * 2, [100, 300]), 4)  # sqrt(.01 / 5)
    0.0447
    """
    n_g = np.asarray(n_g, dtype=float)
    out = np.zeros(len(n_g))
    for g in range(len(n_g)):
        sg = np.asarray(s[g], dtype=float)
        p = sg.shape[0]
        sd = np.sqrt(np.diag(sg))
        res_cov = (sg - sigma[g]) / np.outer(sd, sd)
        res_mean = (np.asarray(m[g]) - mu[g]) / sd
        out[g] = np.sqrt((np.sum(res_cov[np.tril_indices(p)] ** 2) + np.sum(res_mean ** 2))
                         / (p * (p + 1) / 2 + p))
    return float(np.sum(n_g / n_g.sum() * out))


@dataclass(frozen=True)
class MultiGroupCFAResult:
    """One invariance level of a multi-group ML CFA (R: ``lavaan::cfa(model, data, group =, group.equal =)``).

    Fit fields as :func:`invariance_table` columns (see the module docstring).
    Parameter arrays have one row per group (``groups`` order): ``loading``
    (G, p; markers 1), ``intercept`` (G, p), ``residual_variance`` (G, p),
    ``factor_cov`` (G, m, m), ``latent_mean`` (G, m), each with a ``*_se``
    twin (expected information, as lavaan's default; NaN for fixed values),
    and ``std_loading`` (std.all).
    """

    level: str
    factors: tuple[str, ...]
    items: tuple[str, ...]
    factor_of_item: tuple[str, ...]
    groups: tuple[str, ...]
    group_n: tuple[int, ...]
    n: int
    n_groups: int
    npar: int
    chi2: float
    df: int
    p: float
    cfi: float
    tli: float
    rmsea: float
    rmsea_low: float
    rmsea_high: float
    srmr: float
    baseline_chi2: float
    baseline_df: int
    loglik: float
    aic: float
    bic: float
    converged: bool
    iterations: int
    loading: np.ndarray = field(repr=False)
    loading_se: np.ndarray = field(repr=False)
    std_loading: np.ndarray = field(repr=False)
    intercept: np.ndarray = field(repr=False)
    intercept_se: np.ndarray = field(repr=False)
    residual_variance: np.ndarray = field(repr=False)
    residual_variance_se: np.ndarray = field(repr=False)
    factor_cov: np.ndarray = field(repr=False)
    factor_cov_se: np.ndarray = field(repr=False)
    latent_mean: np.ndarray = field(repr=False)
    latent_mean_se: np.ndarray = field(repr=False)
    implied_cov: np.ndarray = field(repr=False)
    implied_mean: np.ndarray = field(repr=False)

    def fit_row(self) -> dict:
        """The fit fields of this level (the non-delta columns of :func:`invariance_table`)."""
        keys = ("n", "n_groups", "npar", "chi2", "df", "p", "cfi", "tli", "rmsea", "rmsea_low",
                "rmsea_high", "srmr", "baseline_chi2", "baseline_df", "loglik", "aic", "bic", "converged")
        return {"model": self.level, **{k: getattr(self, k) for k in keys}}

    def parameters_frame(self) -> pd.DataFrame:
        """Long table of the estimates, lavaan ``parameterEstimates`` style.

        Columns ``model, group, lhs, op, rhs, est, se, std_all, equal``: ``=~``
        loadings, ``~~`` residual variances, factor variances and covariances,
        ``~1`` intercepts and latent means (fixed ones: ``se`` NaN); ``std_all``
        as lavaan's ``standardizedSolution`` (loadings, correlations, residual
        variance / implied variance, intercept / implied SD, latent mean / factor
        SD); ``equal`` marks parameters constrained equal across groups.
        """
        rows = []
        m = len(self.factors)
        eq_load = self.level in ("metric", "scalar")
        eq_int = self.level == "scalar"
        for g, lab in enumerate(self.groups):
            sd = np.sqrt(np.diag(self.implied_cov[g]))
            phi = self.factor_cov[g]
            fsd = np.sqrt(np.diag(phi))
            for i, (it, f) in enumerate(zip(self.items, self.factor_of_item)):
                rows.append((lab, f, "=~", it, self.loading[g, i], self.loading_se[g, i],
                             self.std_loading[g, i], eq_load and np.isfinite(self.loading_se[g, i])))
            for i, it in enumerate(self.items):
                rows.append((lab, it, "~~", it, self.residual_variance[g, i], self.residual_variance_se[g, i],
                             self.residual_variance[g, i] / sd[i] ** 2, False))
            for a in range(m):
                for b in range(a, m):
                    rows.append((lab, self.factors[a], "~~", self.factors[b], phi[a, b],
                                 self.factor_cov_se[g, a, b], phi[a, b] / (fsd[a] * fsd[b]), False))
            for i, it in enumerate(self.items):
                rows.append((lab, it, "~1", "", self.intercept[g, i], self.intercept_se[g, i],
                             self.intercept[g, i] / sd[i], eq_int))
            for a in range(m):
                rows.append((lab, self.factors[a], "~1", "", self.latent_mean[g, a], self.latent_mean_se[g, a],
                             self.latent_mean[g, a] / fsd[a], False))
        out = pd.DataFrame(rows, columns=["group", "lhs", "op", "rhs", "est", "se", "std_all", "equal"])
        out.insert(0, "model", self.level)
        return out


def _as_group_moments(data, model, group) -> tuple[list[str], list[str], list[int], GroupMoments]:
    if isinstance(data, GroupMoments):
        available = data.items
    elif isinstance(data, pd.DataFrame):
        available = [str(c) for c in data.columns]
    else:
        raise ValueError("Pass the items as a pandas DataFrame (with a group Series) or as GroupMoments, "
                         f"got {type(data).__name__}.")
    factors, names, fac = _validate_model(model, available)
    if isinstance(data, GroupMoments):
        gm = data.subset(names)
    else:
        if group is None:
            raise ValueError("A multi-group CFA needs a group Series (or group column name) beside the data.")
        gm = group_moments(data, names, group)
    p = len(names)
    for lab, mom in zip(gm.labels, gm.moments):
        if mom.n <= p:
            raise ValueError(f"Group {lab!r} has {mom.n} complete respondents for {p} model items; its covariance "
                             "matrix is singular, so the group cannot be fitted. Use fewer items, or drop or "
                             "merge small groups.")
        sd = np.sqrt(np.clip(np.diag(mom.cov), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            eig = np.linalg.eigvalsh(mom.cov / np.outer(sd, sd)) if np.all(sd > 0) else np.array([0.0])
        if not np.all(np.isfinite(eig)) or eig.min() < 1e-10 * max(eig.max(), 1.0):
            raise ValueError(f"Group {lab!r}: the covariance matrix of the {p} model items is not positive "
                             "definite (an item without variance, or items that are linear combinations of "
                             "others, in this group). Check the items or drop the group.")
    return factors, names, fac, gm


def _start_values(model: _MultiGroup, gm: GroupMoments, previous: "MultiGroupCFAResult | None") -> np.ndarray:
    """Start: per-group principal-component starts (configural), or the previous level's solution."""
    G, p, m = model.G, model.p, model.m
    st = model.struct
    theta = np.zeros(model.q)
    w = np.array([mom.n for mom in gm.moments], dtype=float)
    w /= w.sum()
    locs = []
    for g, mom in enumerate(gm.moments):
        if previous is None:
            cov_part = _cfa_start(st, mom.cov_ml)
        else:
            lam = np.zeros((p, m))
            lam[np.arange(p), st.fac] = previous.loading[g]
            cov_part = st.pack(lam, previous.factor_cov[g], previous.residual_variance[g])
        locs.append(np.concatenate([cov_part, mom.mean, np.zeros(m)]))
    locs = np.array(locs)
    if model.level in ("metric", "scalar"):
        locs[:, model.sl_load] = w @ locs[:, model.sl_load]
    if model.level == "scalar":
        # latent means relative to group 1 from the item-mean differences, then common intercepts
        lam = np.ones(p)
        lam[st.free_items] = locs[0, model.sl_load]
        means = np.array([mom.mean for mom in gm.moments])
        for g in range(1, G):
            for f in range(m):
                on = st.fac == f
                locs[g, model.sl_alpha.start + f] = np.mean((means[g, on] - means[0, on]) / lam[on])
        alpha_item = locs[:, model.sl_alpha][:, st.fac] * lam          # (G, p)
        locs[:, model.sl_nu] = w @ (means - alpha_item)
    for g in range(G):
        idx = model.index[g]
        free = idx >= 0
        theta[idx[free]] = locs[g, free]
    return theta


def _fit(model: _MultiGroup, gm: GroupMoments, theta: np.ndarray, max_iter: int, tol: float):
    w = np.array([mom.n for mom in gm.moments], dtype=float)
    w /= w.sum()
    s_ml = [mom.cov_ml for mom in gm.moments]
    means = [mom.mean for mom in gm.moments]
    logdet = [np.linalg.slogdet(s)[1] for s in s_ml]

    def objective(th):
        total, caches = 0.0, []
        for g in range(model.G):
            f, cache = _group_objective(model, model.local(th, g), s_ml[g], means[g], logdet[g])
            if cache is None:
                return np.inf, None
            total += w[g] * f
            caches.append(cache)
        return total, caches

    def derivatives(th, caches):
        q = model.q
        grad, hess, fisher = np.zeros(q), np.zeros((q, q)), np.zeros((q, q))
        for g in range(model.G):
            gl, hl, el = _group_derivatives(model, model.local(th, g), caches[g])
            idx = model.index[g]
            keep = np.nonzero(idx >= 0)[0]
            gi = idx[keep]
            np.add.at(grad, gi, w[g] * gl[keep])
            np.add.at(hess, (gi[:, None], gi[None, :]), w[g] * hl[np.ix_(keep, keep)])
            np.add.at(fisher, (gi[:, None], gi[None, :]), w[g] * el[np.ix_(keep, keep)])
        return grad, hess, fisher

    fval, caches = objective(theta)
    if caches is None:
        raise ValueError("The start values give a covariance matrix that is not positive definite; "
                         "the model cannot be fitted to these data.")
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        grad, hess, fisher = derivatives(theta, caches)
        if np.max(np.abs(grad)) < tol:
            converged = True
            break
        step = None
        try:
            np.linalg.cholesky(hess)
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            pass
        if step is None or not np.all(np.isfinite(step)) or grad @ step <= 0:
            step = np.linalg.lstsq(fisher, grad, rcond=None)[0]
        t, decrease = 1.0, float(grad @ step)
        # near the optimum the predicted decrease of F is below its rounding error; the
        # Armijo test is then meaningless, so a full step that does not increase F beyond
        # rounding is taken (Newton then drives the gradient to its floor)
        noise = 1e-13 * max(1.0, abs(fval))
        while t > 1e-12:
            new = theta - t * step
            fnew, cnew = objective(new)
            if cnew is not None and (fnew <= fval - 1e-4 * t * max(decrease, 0.0)
                                     or (t == 1.0 and 0 <= decrease < noise and fnew <= fval + noise)):
                break
            t /= 2
        else:
            converged = bool(np.max(np.abs(grad)) < 1e-6)
            break
        theta, fval, caches = new, fnew, cnew
    _, _, fisher = derivatives(theta, caches)
    return theta, fval, caches, fisher, converged, it


def multigroup_cfa(data, model: Mapping[str, Sequence[str]], group=None, level: str = "configural",
                   max_iter: int = 200, tol: float = 1e-10,
                   start: "MultiGroupCFAResult | None" = None) -> MultiGroupCFAResult:
    """Fit one invariance level of a multi-group ML CFA (formulas in the module docstring).

    Parameters
    ----------
    data : DataFrame with the model's item columns, or :class:`GroupMoments`.
    model : ``{factor: [item, ...]}``, each item on one factor (first item = marker).
    group : Series with the same index as ``data`` or a column name (ignored for GroupMoments).
    level : ``"configural"``, ``"metric"`` or ``"scalar"``.
    max_iter, tol : Newton iterations and convergence tolerance (max |gradient of F|).
    start : a fitted less constrained level of the same model and data, to start from.

    Returns
    -------
    MultiGroupCFAResult

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> x = pd.DataFrame(rng.normal(size=(400, 1)) @ np.full((1, 4), 0.7) + rng.normal(scale=0.7, size=(400, 4)),
    ...                  columns=list("abcd"))
    >>> res = multigroup_cfa(x, {"g": list("abcd")}, pd.Series(["u", "v"] * 200), "scalar")
    >>> res.npar, res.df, round(res.chi2, 2), res.latent_mean[:, 0].round(3)
    (18, 10, 11.07, array([0.   , 0.024]))
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}.")
    factors, names, fac, gm = _as_group_moments(data, model, group)
    p, m, G = len(names), len(factors), gm.n_groups
    mg = _MultiGroup(p, np.array(fac), m, G, level)
    n_moments = G * (p * (p + 1) // 2 + p)
    df = n_moments - mg.q
    if df < 0:
        raise ValueError(f"The {level} model has {mg.q} free parameters but only {n_moments} sample moments; "
                         f"it is not identified (df = {df}). Add items.")
    if start is not None and (start.items != tuple(names) or start.groups != gm.labels):
        raise ValueError("start must be a fit of the same model items and groups.")
    with _one_blas_thread():
        theta = _start_values(mg, gm, start)
        theta, fval, caches, fisher, converged, it = _fit(mg, gm, theta, max_iter, tol)
        n_g = np.array([mom.n for mom in gm.moments])
        n = int(n_g.sum())
        try:
            vcov = 2.0 / n * np.linalg.inv(fisher)
            se_glob = np.sqrt(np.clip(np.diag(vcov), 0, None))
        except np.linalg.LinAlgError:
            se_glob = np.full(mg.q, np.nan)
        st = mg.struct
        shape_p, shape_m = (G, p), (G, m)
        loading, loading_se = np.ones(shape_p), np.full(shape_p, np.nan)
        intercept, intercept_se = np.zeros(shape_p), np.full(shape_p, np.nan)
        resid, resid_se = np.zeros(shape_p), np.full(shape_p, np.nan)
        phi, phi_se = np.zeros((G, m, m)), np.full((G, m, m), np.nan)
        alpha, alpha_se = np.zeros(shape_m), np.full(shape_m, np.nan)
        std_loading = np.zeros(shape_p)
        sigmas, mus = np.zeros((G, p, p)), np.zeros((G, p))
        loglik = 0.0
        for g, mom in enumerate(gm.moments):
            loc = mg.local(theta, g)
            idx = mg.index[g]
            se_loc = np.where(idx >= 0, se_glob[np.clip(idx, 0, None)], np.nan)
            lam, ph, rv, sigma, mu = mg.implied(loc)
            loading[g] = lam[np.arange(p), st.fac]
            loading_se[g, st.free_items] = se_loc[mg.sl_load]
            _, ph_se, rv_se = st.unpack(np.nan_to_num(se_loc[:mg.q_cov], nan=0.0))
            phi[g], phi_se[g], resid[g], resid_se[g] = ph, ph_se, rv, rv_se
            intercept[g], intercept_se[g] = loc[mg.sl_nu], se_loc[mg.sl_nu]
            alpha[g], alpha_se[g] = loc[mg.sl_alpha], se_loc[mg.sl_alpha]
            std_loading[g] = loading[g] * np.sqrt(np.diag(ph)[st.fac]) / np.sqrt(np.diag(sigma))
            sigmas[g], mus[g] = sigma, mu
            inv, d = caches[g][3], caches[g][4]
            loglik += -mom.n / 2 * (p * np.log(2 * np.pi) + np.linalg.slogdet(sigma)[1]
                                    + np.sum(mom.cov_ml * inv) + d @ inv @ d)
        chi2 = float(n * max(fval, 0.0))
        base_chi2, base_df = independence_chi2(gm)
        cfi, tli = incremental_fit(chi2, df, base_chi2, base_df)
        rmsea, low, high = multigroup_rmsea(chi2, df, n, G)
        srmr = multigroup_srmr([mom.cov_ml for mom in gm.moments], [mom.mean for mom in gm.moments],
                               sigmas, mus, n_g)
        return MultiGroupCFAResult(
            level=level, factors=tuple(factors), items=tuple(names),
            factor_of_item=tuple(factors[f] for f in fac), groups=gm.labels,
            group_n=tuple(int(v) for v in n_g), n=n, n_groups=G, npar=int(mg.q), chi2=chi2, df=int(df),
            p=float(stats.chi2.sf(chi2, df)) if df > 0 else np.nan, cfi=float(cfi), tli=float(tli),
            rmsea=rmsea, rmsea_low=low, rmsea_high=high, srmr=srmr,
            baseline_chi2=float(base_chi2), baseline_df=int(base_df), loglik=float(loglik),
            aic=float(-2 * loglik + 2 * mg.q), bic=float(-2 * loglik + mg.q * np.log(n)),
            converged=bool(converged), iterations=int(it),
            loading=loading, loading_se=loading_se, std_loading=std_loading, intercept=intercept,
            intercept_se=intercept_se, residual_variance=resid, residual_variance_se=resid_se,
            factor_cov=phi, factor_cov_se=phi_se, latent_mean=alpha, latent_mean_se=alpha_se,
            implied_cov=sigmas, implied_mean=mus,
        )


# ----------------------------------------------------------------------- tables
def _apa(x: float) -> str:
    """Three decimals without the leading zero (APA style): -0.0031 -> '-.003'."""
    s = f"{x:.3f}"
    if s in ("-0.000",):
        s = "0.000"
    return s.replace("-0.", "-.") if s.startswith("-") else s.replace("0.", ".", 1) if s.startswith("0.") else s


def invariance_decision(level: str, delta_cfi: float, delta_rmsea: float, previous_supported: bool = True,
                        converged: bool = True, delta_cfi_min: float = DELTA_CFI_MIN,
                        delta_rmsea_max: float = DELTA_RMSEA_MAX) -> tuple[bool, str]:
    """Chen's (2007) rule for one level, with the decision in words.

    Invariance at ``level`` is supported when ``delta_cfi >= delta_cfi_min``
    (-.010) and ``delta_rmsea <= delta_rmsea_max`` (.015), the deltas taken
    against the previous (less constrained) level, and the previous level was
    itself supported.

    Returns
    -------
    (supported, text)

    Examples
    --------
    >>> invariance_decision("metric", -0.0031, 0.0012)
    (True, 'metric invariance supported (delta CFI = -.003, delta RMSEA = .001)')
    >>> invariance_decision("scalar", -0.021, 0.004)[1]
    'scalar invariance not supported (delta CFI = -.021, delta RMSEA = .004)'
    >>> invariance_decision("scalar", -0.001, 0.0, previous_supported=False)[1]
    'scalar invariance not supported: metric invariance already fails (delta CFI = -.001, delta RMSEA = .000)'
    """
    if level not in LEVELS[1:]:
        raise ValueError(f"level must be 'metric' or 'scalar', got {level!r}.")
    deltas = f"(delta CFI = {_apa(delta_cfi)}, delta RMSEA = {_apa(delta_rmsea)})"
    if not converged:
        return False, f"{level} invariance not assessed: the {level} model did not converge"
    if not (np.isfinite(delta_cfi) and np.isfinite(delta_rmsea)):
        return False, f"{level} invariance not assessed: a fit index is missing"
    if not previous_supported:
        before = LEVELS[LEVELS.index(level) - 1]
        return False, f"{level} invariance not supported: {before} invariance already fails {deltas}"
    ok = bool(delta_cfi >= delta_cfi_min and delta_rmsea <= delta_rmsea_max)
    return ok, f"{level} invariance {'supported' if ok else 'not supported'} {deltas}"


def _fit_levels(data, model, group, levels) -> list[MultiGroupCFAResult]:
    if isinstance(levels, str) or not levels:
        raise ValueError(f"levels must be a non-empty sequence of {LEVELS}, got {levels!r}.")
    bad = [v for v in levels if v not in LEVELS]
    if bad or list(levels) != [v for v in LEVELS if v in levels]:
        raise ValueError(f"levels must be some of {LEVELS} in that order, got {list(levels)}.")
    factors, names, fac, gm = _as_group_moments(data, model, group)
    if gm.n_groups < 2:
        raise ValueError(f"Measurement invariance needs at least 2 groups; the group has "
                         f"{gm.n_groups} ({', '.join(gm.labels)}).")
    spec = {f: [n for n, k in zip(names, fac) if factors[k] == f] for f in factors}
    fits, previous = [], None
    for level in levels:
        res = multigroup_cfa(gm, spec, level=level, start=previous)
        fits.append(res)
        previous = res
    return fits


def invariance_table(data: pd.DataFrame, model: Mapping[str, Sequence[str]], group,
                     levels: Sequence[str] = LEVELS, delta_cfi_min: float = DELTA_CFI_MIN,
                     delta_rmsea_max: float = DELTA_RMSEA_MAX) -> pd.DataFrame:
    """Configural, metric and scalar invariance of a model across groups: one row per level.

    Parameters
    ----------
    data : DataFrame with the model's item columns (reverse-keyed, NaN = missing), or GroupMoments.
    model : ``{factor: [item, ...]}`` (e.g. :func:`instrument_model`).
    group : Series with the same index as ``data`` (cohort or group labels), or a column name.
        Respondents missing an item or the group are left out.
    levels : the levels to fit, in order (default all three).
    delta_cfi_min, delta_rmsea_max : Chen's (2007) cut-offs.

    Returns
    -------
    DataFrame
        Columns :data:`INVARIANCE_COLUMNS`: ``model`` (level), ``n`` (respondents
        analysed), ``n_groups``, ``npar``, ``chi2``, ``df``, ``p``, ``cfi``, ``tli``,
        ``rmsea``, ``rmsea_low``, ``rmsea_high`` (90%), ``srmr``; against the
        previous level ``delta_chi2``, ``delta_df``, ``delta_p`` (likelihood-ratio
        test, lavaan ``lavTestLRT``), ``delta_cfi``, ``delta_rmsea`` (this minus
        previous) and ``decision`` (:func:`invariance_decision`; the configural row
        describes the reference fit); then ``baseline_chi2``, ``baseline_df``,
        ``loglik``, ``aic``, ``bic``, ``converged``.
    """
    fits = _fit_levels(data, model, group, levels)
    rows, supported = [], True
    for k, res in enumerate(fits):
        row = res.fit_row()
        if k == 0:
            row.update(delta_chi2=np.nan, delta_df=np.nan, delta_p=np.nan, delta_cfi=np.nan, delta_rmsea=np.nan)
            row["decision"] = (f"{res.level} model (reference): CFI = {_apa(res.cfi)}, "
                               f"RMSEA = {_apa(res.rmsea)}, SRMR = {_apa(res.srmr)}")
            supported = res.converged
        else:
            prev = fits[k - 1]
            dchi, ddf = res.chi2 - prev.chi2, res.df - prev.df
            row.update(delta_chi2=dchi, delta_df=float(ddf),
                       delta_p=float(stats.chi2.sf(max(dchi, 0.0), ddf)) if ddf > 0 else np.nan,
                       delta_cfi=res.cfi - prev.cfi, delta_rmsea=res.rmsea - prev.rmsea)
            supported, row["decision"] = invariance_decision(
                res.level, row["delta_cfi"], row["delta_rmsea"], previous_supported=supported,
                converged=res.converged and prev.converged, delta_cfi_min=delta_cfi_min,
                delta_rmsea_max=delta_rmsea_max)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(INVARIANCE_COLUMNS))


def invariance_parameters(data: pd.DataFrame, model: Mapping[str, Sequence[str]], group,
                          levels: Sequence[str] = LEVELS) -> pd.DataFrame:
    """Estimates of every level, long: ``model, group, lhs, op, rhs, est, se, std_all, equal``.

    See :meth:`MultiGroupCFAResult.parameters_frame`; lavaan's
    ``parameterEstimates`` / ``standardizedSolution`` names (``=~``, ``~~``, ``~1``).
    """
    fits = _fit_levels(data, model, group, levels)
    return pd.concat([f.parameters_frame() for f in fits], ignore_index=True)
