"""Fit a model: data -> sample statistics -> estimator -> the one optimiser -> SEs, tests, fit.

:func:`fit` is the engine's entry point (``lavaan::sem``/``cfa`` with the
options the pipeline uses). Estimators, with lavaan's meaning:

========  ===========  ==============================================================
estimator missing      what is computed
========  ===========  ==============================================================
ml        listwise     ML on complete cases; expected-information SEs; standard test
ml        fiml         casewise ML; observed-information SEs; standard test (LRT vs H1)
mlr       listwise     ML estimates; Huber-White SEs (observed information);
                       Yuan-Bentler (Mplus) scaled test; scaled and robust fit indices
mlr       fiml         as mlr, casewise (Yuan & Bentler, 2000)
wlsmv     listwise     DWLS on thresholds and polychoric correlations; robust SEs;
                       mean-and-variance adjusted (scaled-shifted) test
wlsmv     pairwise     as wlsmv, sample statistics from pairwise available cases
========  ===========  ==============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import inference
from .data import GroupData, data_fingerprint, group_data, group_moments_only, normal_information
from .estimators import DWLSEstimator, FIMLEstimator, MLEstimator
from .linalg import nearest_pd as _nearest_pd
from .linalg import one_blas_thread
from .measures import fit_measures
from .model import Model, vech_indices
from .optimize import OptimResult, minimize
from .syntax import ParTable, build_partable
from .teststats import ScaledTest, scaled_shifted, yuan_bentler_mplus

__all__ = ["ESTIMATORS", "MISSING", "SEMResult", "fit", "SaturatedModel"]

ESTIMATORS = ("ml", "mlr", "wlsmv")
MISSING = ("listwise", "fiml", "pairwise")
_LOG2PI = np.log(2 * np.pi)


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class SEMResult:
    """A fitted model.

    ``estimates``: one row per parameter (lavaan ``parameterEstimates`` +
    ``standardizedSolution``): ``lhs, op, rhs, group, label, free, est, se, z, p,
    std_all``. ``fit``: lavaan ``fitMeasures`` in snake_case (``chisq`` ->
    ``chi2``, ``chisq.scaled`` -> ``chi2_scaled``, ``rmsea.ci.lower`` ->
    ``rmsea_low``, ...). ``vcov``: covariance of the free parameters.
    """

    estimator: str
    missing: str
    groups: tuple[str, ...]
    group_n: tuple[int, ...]
    n: int
    n_excluded: int
    partable: ParTable
    theta: np.ndarray = field(repr=False)
    vcov: np.ndarray = field(repr=False)
    estimates: pd.DataFrame = field(repr=False)
    fit: dict = field(repr=False)
    converged: bool = True
    iterations: int = 0
    message: str = ""
    implied: tuple = field(default=(), repr=False)
    h1: tuple = field(default=(), repr=False)
    scaled: ScaledTest | None = field(default=None, repr=False)
    internals: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def chi2(self) -> float:
        return self.fit["chi2"]

    @property
    def df(self) -> int:
        return self.fit["df"]

    def param(self, lhs: str, op: str, rhs: str = "", group: int = 0) -> pd.Series:
        """The row of one parameter (``group`` 0-based)."""
        e = self.estimates
        hit = e[(e.lhs == lhs) & (e.op == op) & (e.rhs == rhs) & (e.group == group)]
        if hit.empty and op == "~~":
            hit = e[(e.lhs == rhs) & (e.op == op) & (e.rhs == lhs) & (e.group == group)]
        if hit.empty:
            raise KeyError(f"No parameter {lhs} {op} {rhs} in group {group}.")
        return hit.iloc[0]


# ----------------------------------------------------------------------------- saturated
class SaturatedModel:
    """The unrestricted model of a group set: free means and covariances (H1)."""

    saturated = True
    categorical = False

    def __init__(self, p: int, n_groups: int):
        self.p, self.G = p, n_groups
        self.meanstructure = True
        self.vech_rows, self.vech_cols = vech_indices(p)
        self.n_moments = p + len(self.vech_rows)
        self.q = self.n_moments * n_groups

    def _slice(self, theta, g):
        return theta[g * self.n_moments:(g + 1) * self.n_moments]

    def implied(self, theta, g):
        m = self._slice(theta, g)
        cov = np.zeros((self.p, self.p))
        cov[self.vech_rows, self.vech_cols] = m[self.p:]
        cov[self.vech_cols, self.vech_rows] = m[self.p:]
        return {"cov": cov, "mean": m[:self.p].copy()}

    def moments(self, theta, g):
        return self._slice(theta, g).copy()

    def jacobian(self, theta, g):
        out = np.zeros((self.n_moments, self.q))
        out[:, g * self.n_moments:(g + 1) * self.n_moments] = np.eye(self.n_moments)
        return out

    def pack(self, means, covs) -> np.ndarray:
        return np.concatenate([np.concatenate([mu, c[self.vech_rows, self.vech_cols]])
                               for mu, c in zip(means, covs)])


class _SaturatedFIML(FIMLEstimator):
    """FIML for the saturated model: Hessian approximation in the moments (Jacobian = identity)."""

    def gradient(self, theta):
        return np.concatenate([self.c[g] * self.moment_gradient(theta, g) for g in range(self.model.G)])

    def hessian_approx(self, theta):
        blocks = []
        for g in range(self.model.G):
            imp = self.model.implied(theta, g)
            inv = np.linalg.inv(imp["cov"])
            blocks.append(self.c[g] * 2 * normal_information((inv + inv.T) / 2, self.model.vech_rows,
                                                             self.model.vech_cols, True))
        q = self.model.q
        out = np.zeros((q, q))
        k = self.model.n_moments
        for g, b in enumerate(blocks):
            out[g * k:(g + 1) * k, g * k:(g + 1) * k] = b
        return out




#: results that depend only on the data (the groups' sample statistics, saturated model, its
#: information matrices, the baseline model), shared by every model fitted to the same data
#: (the CFA's two models and the EM correlations, the invariance levels); keyed by the groups'
#: data fingerprints, at most 16 entries, of which GroupData with at most _GROUP_BYTES of raw
#: rows in all (the newest always stays)
_DATA_CACHE: dict = {}
_GROUP_BYTES = 2 ** 29


def _cached(key, compute):
    if key not in _DATA_CACHE:
        value = compute()
        if len(_DATA_CACHE) >= 16:
            _DATA_CACHE.pop(next(iter(_DATA_CACHE)))
        _DATA_CACHE[key] = value
        _evict_groups()
    return _DATA_CACHE[key]


def _evict_groups() -> None:
    """Drop the oldest cached GroupData while their raw rows take more than ``_GROUP_BYTES`` (keeping the newest)."""
    held = [(k, v.x.nbytes) for k, v in _DATA_CACHE.items() if isinstance(v, GroupData) and v.x is not None]
    total = sum(b for _, b in held)
    for k, b in held[:-1]:
        if total <= _GROUP_BYTES:
            break
        del _DATA_CACHE[k]
        total -= b


def cached_group_data(x: np.ndarray, items) -> GroupData:
    """:func:`~attachment_pipeline.sem.data.group_data` of an item matrix, built once per distinct matrix.

    The two CFA models of an instrument and its EM correlations
    (:func:`attachment_pipeline.factors.efa_moments`) pass the same matrix; its
    missing-data patterns, and what is computed once per group on them (the
    pattern layout, the moment matrices of the robust statistics), are built
    once. Keyed by the items and the matrix's bytes
    (:func:`~attachment_pipeline.sem.data.data_fingerprint`, which becomes the
    GroupData's ``key``). The matrix is kept read-only: an array of floats that
    owns its memory is taken over (and made read-only), anything else copied.
    """
    x = np.asarray(x)
    if x.dtype != np.float64 or x.base is not None or not x.flags.c_contiguous or not x.flags.owndata:
        x = np.array(x, dtype=float, order="C")
    x.flags.writeable = False
    items = tuple(items)
    key = data_fingerprint(items, (x,))
    return _cached(("group", key), lambda: group_data(x, items, key=key))


def fit_h1_fiml(groups: list[GroupData]) -> tuple[list[np.ndarray], list[np.ndarray], list[float], list]:
    """Saturated (H1) means and covariances with incomplete data, by casewise ML, group by group.

    The EM estimates of lavaan (``lavh1``), found here with the same optimiser
    as every model (Fisher scoring in the moments), from available-case means
    and pairwise covariances. The groups are independent, so each is fitted on
    its own; results are cached by the group's data (the invariance levels of one
    data set share them). Returns means, covariances, log-likelihoods and the
    optimiser's reports, per group.
    """
    def h1(gd):
        sat = SaturatedModel(gd.p, 1)
        est = _SaturatedFIML(sat, [gd])
        opt = minimize(est, sat.pack([gd.mean], [_nearest_pd(gd.cov)]))
        imp = sat.implied(opt.theta, 0)
        return imp["mean"], imp["cov"], est.loglik(imp["mean"], imp["cov"], 0), opt

    means, covs, lls, opts = [], [], [], []
    for gd in groups:
        mu, cov, ll, opt = _cached(("h1", gd.key), lambda: h1(gd))
        means.append(mu)
        covs.append(cov)
        lls.append(ll)
        opts.append(opt)
    return means, covs, lls, opts


# ----------------------------------------------------------------------------- data
def _group_labels(group: pd.Series) -> list:
    if isinstance(group.dtype, pd.CategoricalDtype):
        present = set(group.dropna().unique())
        return [c for c in group.cat.categories if c in present]
    return list(pd.unique(group.dropna()))


def _prepare(data: pd.DataFrame, items: Sequence[str], group, missing: str):
    """Split the data into groups and apply the missing-data rule; returns (labels, arrays, n_excluded)."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise ValueError(f"Model variable(s) {absent} are not columns of the data.")
    x = data.loc[:, list(items)]
    bad = [c for c in items if not (pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]))]
    if bad:
        raise ValueError(f"Model variable(s) {bad} are not numeric; recode answers to numbers first.")
    values = np.empty((len(x), len(items)))                   # row-major, filled column by column (one copy)
    for j, c in enumerate(items):
        values[:, j] = x[c].to_numpy(dtype=float, na_value=np.nan)
    del x
    if np.isinf(values).any():
        raise ValueError("The data hold an infinite value; use NaN for missing answers.")
    if group is None:
        g = pd.Series(np.zeros(len(data), dtype=int), index=data.index)
        labels = [0]
    else:
        g = data[group] if isinstance(group, str) else group
        if not isinstance(g, pd.Series) or not g.index.equals(data.index):
            raise ValueError("group must be a column name of data or a Series with the same index.")
        labels = _group_labels(g)
    miss = np.isnan(values)
    if missing == "listwise":
        keep = ~miss.any(axis=1)
    else:
        keep = ~miss.all(axis=1)
    keep &= g.notna().to_numpy()
    select = [keep & (g == lab).to_numpy() for lab in labels]
    arrays = [values if sel.all() else values[sel] for sel in select]   # all rows: the matrix itself, no copy
    n_excluded = int(len(values) - keep.sum())
    return [str(v) for v in labels], arrays, n_excluded


# ----------------------------------------------------------------------------- starts
def start_values(model: Model, groups: list[GroupData]) -> np.ndarray:
    """Start values from the sample moments (per factor, the first principal component
    of its items' covariance; observed regressions at 0; intercepts at the means)."""
    theta = np.zeros(model.q)
    have = np.zeros(model.q, dtype=bool)
    for g, gd in enumerate(groups):
        if model.categorical:
            s = gd.ordinal.corr
            means = np.zeros(model.p)
        else:
            s = _nearest_pd(gd.cov) if not gd.complete else gd.cov
            means = gd.mean
        lam, psi, th = _start_matrices(model, s, g)
        arr = model._arrays[g]
        vals = {
            "lambda": lambda r, c: lam[r, c],
            "psi": lambda r, c: psi[r, c],
            "theta": lambda r, c: th[r, c],
            "beta": lambda r, c: np.zeros(len(r)),
            "nu": lambda r, c: means[r],
            "alpha": lambda r, c: _phantom_means(model, means, r),
            "tau": lambda r, c: (gd.ordinal.threshold_vector[r] if model.categorical else np.zeros(len(r))),
            "delta": lambda r, c: np.ones(len(r)),
        }
        for key, fn in vals.items():
            r, c, f, _, _ = arr[key]
            sel = f >= 0
            if not sel.any():
                continue
            v = fn(r[sel], c[sel])
            for k, val in zip(f[sel], v):
                if not have[k]:
                    theta[k] = val
                    have[k] = True
    return theta


def _phantom_means(model: Model, means, r):
    out = np.zeros(len(r))
    for k, eta_k in enumerate(r):
        name = model.eta[eta_k]
        if name in model.phantom:
            out[k] = means[model.ov.index(name)]
    return out


def _start_matrices(model: Model, s: np.ndarray, g: int):
    p, m = model.p, model.m
    lam = np.zeros((p, m))
    psi = np.zeros((m, m))
    th = np.diag(np.diag(s) * 0.5)
    arr = model._arrays[g]
    r, c, f, val, _ = arr["lambda"]
    fixed_marker = {}
    for i, k, fi, v in zip(r, c, f, val):
        if fi < 0 and v != 0:
            fixed_marker.setdefault(k, (i, v))
    nlv = len(model.pt.lv)
    for k in range(nlv):
        items = r[c == k]
        if len(items) == 0:
            continue
        block = s[np.ix_(items, items)]
        vals, vecs = np.linalg.eigh(block)
        load = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
        if load.sum() < 0:
            load = -load
        if k in fixed_marker:
            i0, v0 = fixed_marker[k]
            pos = list(items).index(i0)
            marker = load[pos]
            if abs(marker) < 0.1 * np.abs(load).max():
                load = np.full(len(items), np.sqrt(max(np.mean(block), 1e-3)))
                marker = load[pos]
            lam[items, k] = load / marker * v0
            psi[k, k] = (marker / v0) ** 2
        else:
            lam[items, k] = load
            psi[k, k] = 1.0
        resid = np.diag(s)[items] - (lam[items, k] ** 2) * psi[k, k]
        th[items, items] = np.clip(resid, 0.1 * np.diag(s)[items], np.diag(s)[items])
    for k in range(nlv):
        for l2 in range(k):
            ik, il = r[c == k], r[c == l2]
            if len(ik) == 0 or len(il) == 0:
                continue
            denom = lam[ik, k].sum() * lam[il, l2].sum()
            cov = s[np.ix_(ik, il)].sum() / denom if denom != 0 else 0.0
            bound = 0.9 * np.sqrt(psi[k, k] * psi[l2, l2])
            psi[k, l2] = psi[l2, k] = np.clip(cov, -bound, bound)
    # phantom latents: their observed variances and covariances
    ph = [(model._ov_idx[v], model._eta_idx[v]) for v in model.phantom]
    for i, k in ph:
        th[i, i] = 0.0
        psi[k, k] = s[i, i]
        for j, l2 in ph:
            if l2 < k:
                psi[k, l2] = psi[l2, k] = s[i, j]
    return lam, psi, th


# ----------------------------------------------------------------------------- standardising
def _standardized(model: Model, theta: np.ndarray) -> np.ndarray:
    """lavaan's ``std.all`` for every parameter-table row (``cov.std = TRUE``)."""
    out = np.full(len(model.pt.params), np.nan)
    per_group = []
    for g in range(model.G):
        mats = model.matrices(theta, g)
        ib, a, psi_star, common, _ = model._core(mats)
        imp = model.implied(theta, g)
        if model.categorical:
            sd_ov = 1.0 / mats.delta
            th_diag = imp["theta_diag"]
        else:
            sd_ov = np.sqrt(np.diag(imp["cov"]))
            th_diag = np.diag(mats.theta)
        per_group.append((np.sqrt(np.diag(psi_star)), sd_ov, np.diag(mats.psi), th_diag))
    values = model.values(theta)
    for t, par in enumerate(model.pt.params):
        sd_eta, sd_ov, psi_d, th_d = per_group[par.group]
        mat, r, c = model._locate(par)
        v = values[t]
        with np.errstate(divide="ignore", invalid="ignore"):
            if mat == "lambda":
                out[t] = v * sd_eta[c] / sd_ov[r]
            elif mat == "beta":
                out[t] = v * sd_eta[c] / sd_eta[r]
            elif mat == "psi":
                out[t] = v / sd_eta[r] ** 2 if r == c else v / np.sqrt(psi_d[r] * psi_d[c])
            elif mat == "theta":
                out[t] = v / sd_ov[r] ** 2 if r == c else v / np.sqrt(th_d[r] * th_d[c])
            elif mat == "nu":
                out[t] = v / sd_ov[r]
            elif mat == "alpha":
                out[t] = v / sd_eta[r]
            elif mat == "tau":
                item = int(np.searchsorted(model.tau_offset, r, side="right") - 1)
                out[t] = v / sd_ov[item]
            elif mat == "delta":
                out[t] = v
    return out


# ----------------------------------------------------------------------------- fit
def fit(model: str, data: pd.DataFrame, *, group=None, estimator: str = "ml", missing: str = "listwise",
        ordered: bool | Sequence[str] = False, group_equal: Sequence[str] = (), group_partial: Sequence[str] = (),
        std_lv: bool = False, meanstructure: bool | None = None, start: "SEMResult | None" = None,
        baseline: bool = True) -> SEMResult:
    """Fit a model written in lavaan syntax to data, as ``lavaan::sem`` / ``cfa``.

    Parameters
    ----------
    model : lavaan-style syntax (:mod:`attachment_pipeline.sem.syntax`).
    data : DataFrame with the model's observed variables (NaN = missing); or, for ML on
        complete data, the sample moments: a list of ``(group label, n, mean, covariance
        with divisor n)``.
    group : column name or Series of group labels (groups in order of first appearance).
    estimator : ``ml``, ``mlr`` or ``wlsmv`` (see the module docstring).
    missing : ``listwise``, ``fiml`` (ml/mlr) or ``pairwise`` (wlsmv).
    ordered : True (all observed variables) or a list: ordered categorical items (needed for wlsmv).
    group_equal, group_partial : lavaan's across-group equality constraints.
    std_lv : identify factors by unit variance.
    meanstructure : model the means (default: lavaan's choice).
    start : a fitted model whose estimates start this one (same parameters where they match).
    baseline : also fit the independence model for CFI/TLI.

    Returns
    -------
    SEMResult
    """
    with one_blas_thread():
        return _fit(model, data, group=group, estimator=estimator, missing=missing, ordered=ordered,
                    group_equal=group_equal, group_partial=group_partial, std_lv=std_lv,
                    meanstructure=meanstructure, start=start, baseline=baseline)


def _fit(model, data, *, group, estimator, missing, ordered, group_equal, group_partial, std_lv, meanstructure,
         start, baseline) -> SEMResult:
    estimator = str(estimator).lower()
    missing = str(missing).lower()
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}.")
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {', '.join(MISSING)}; got {missing!r}.")
    if estimator == "wlsmv" and missing == "fiml":
        raise ValueError("WLSMV cannot use FIML (lavaan: missing = 'ml' is not available for categorical data); "
                         "use missing: pairwise or listwise, or estimator ml/mlr with fiml.")
    if estimator in ("ml", "mlr") and missing == "pairwise":
        raise ValueError("Pairwise deletion is not a likelihood method; with ml or mlr use missing: fiml "
                         "(or listwise).")
    probe = build_partable(model)
    items = list(probe.ov)
    if ordered is True:
        ordered = items
    ordered = list(ordered or [])
    if estimator == "wlsmv" and not ordered:
        raise ValueError("wlsmv treats items as ordered categories; pass ordered=True.")
    if estimator != "wlsmv" and ordered:
        raise ValueError("Ordered items need estimator wlsmv.")
    if isinstance(data, Sequence) and not isinstance(data, (str, pd.DataFrame)):
        return _fit_moments(model, data, items, group_equal, group_partial, std_lv, meanstructure, baseline,
                            estimator, missing)
    labels, arrays, n_excluded = _prepare(data, items, group, "listwise" if missing == "listwise" else "available")
    for lab, a in zip(labels, arrays):
        if len(a) <= 1:
            raise ValueError(f"Group {lab!r} has {len(a)} usable respondent(s); too few to fit the model.")
    if estimator == "wlsmv":
        return _fit_wlsmv(model, labels, arrays, n_excluded, items, missing, group_equal, group_partial,
                          std_lv, start, baseline)
    fiml = missing == "fiml"
    if meanstructure is None:
        meanstructure = fiml or len(labels) > 1
    groups = [cached_group_data(a, items) for a in arrays]
    del arrays  # the groups hold the rows (a matrix seen before: the cached copy)
    pt = build_partable(model, labels, meanstructure=meanstructure, std_lv=std_lv, group_equal=group_equal,
                        group_partial=group_partial)
    mod = Model(pt)
    _identified(mod)
    if fiml:
        for lab, gd in zip(labels, groups):
            if gd.n <= len(items):
                raise ValueError(f"Only {gd.n} respondents answered any of the {len(items)} items"
                                 + (f" in group {lab!r}" if len(groups) > 1 else "")
                                 + "; the unrestricted model of FIML needs more respondents than items.")
            flat = [v for v, var in zip(items, gd.item_variances) if not var > 0]
            if flat:
                raise ValueError(f"Item(s) {flat} have no variance (everyone who answered gave the same answer"
                                 + (f" in group {lab!r}" if len(groups) > 1 else "")
                                 + "); leave them out of the model.")
        h1_means, h1_covs, h1_ll, _ = fit_h1_fiml(groups)
        est = FIMLEstimator(mod, groups, h1_ll)
    else:
        for gd in groups:
            if gd.n <= len(items):
                raise ValueError(f"Only {gd.n} complete respondents for {len(items)} items: the sample covariance "
                                 "matrix is singular. Use missing: fiml or fewer items.")
        h1_means = [gd.mean for gd in groups]
        h1_covs = [gd.cov for gd in groups]
        h1_ll = [-gd.n / 2 * (gd.p * _LOG2PI + np.linalg.slogdet(gd.cov)[1] + gd.p) for gd in groups]
        est = MLEstimator(mod, groups)
    theta0 = _start_from(start, pt) if start is not None else start_values(mod, groups)
    if not np.isfinite(est.objective(theta0)):
        theta0 = start_values(mod, groups)
    opt = minimize(est, theta0)
    theta = opt.theta
    n = int(est.N)
    robust = estimator == "mlr"
    # information of the saturated model at the H1 moments (robust test, FIML-corrected indices)
    a1 = b1 = None
    if robust or fiml:
        a1 = [_cached(("a1", gd.key, fiml, mod.meanstructure), lambda: (
              inference.fiml_observed_h1_information(mod, gd, h1_means[g], h1_covs[g]) if fiml else
              normal_information(np.linalg.inv(h1_covs[g]), mod.vech_rows, mod.vech_cols, mod.meanstructure)))
              for g, gd in enumerate(groups)]
        b1 = [_cached(("b1", gd.key, fiml, mod.meanstructure),
                      lambda: inference.first_order_moments(mod, gd, h1_means[g], h1_covs[g]))
              for g, gd in enumerate(groups)]
    # standard errors: expected information (complete-data ML), observed (FIML), sandwich (MLR)
    if fiml or robust:
        info = inference.observed_information(est, theta)
    else:
        info = inference.expected_information(est, theta)
    if robust:
        b0 = inference.first_order_information(est, theta)
        vcov = inference.sandwich(info, b0, n)
    else:
        vcov = inference.vcov_from_information(info, n)
    # test statistics
    df = int(mod.G * mod.n_moments - mod.q)
    if fiml:
        ll0 = [est.loglik(mod.implied(theta, g)["mean"], mod.implied(theta, g)["cov"], g) for g in range(mod.G)]
        chi2 = float(max(2 * (sum(h1_ll) - sum(ll0)), 0.0))
    else:
        chi2 = float(max(n * opt.objective, 0.0))
        ll0 = [h1_ll[g] - gd.n * est._f(theta, g) / 2 for g, gd in enumerate(groups)]
    scaled = yuan_bentler_mplus(chi2, df, *_yb_traces(est, theta, a1, b1, info, b0)) if robust else None
    base = None
    if baseline:
        base = _cached(("baseline", tuple(gd.key for gd in groups), tuple(labels), fiml, robust, meanstructure),
                       lambda: _baseline(items, labels, groups, fiml, robust, meanstructure, h1_ll, a1, b1))
    implied = tuple(mod.implied(theta, g) for g in range(mod.G))
    robust_extra = (_fiml_corrected(mod, est, theta, groups, h1_means, h1_covs, a1, b1, scaled, base)
                    if fiml else None)
    fm = fit_measures(
        n=n, group_n=[gd.n for gd in groups], npar=mod.q, chi2=chi2, df=df, loglik=float(sum(ll0)),
        h1_loglik=float(sum(h1_ll)), baseline=base, scaled=scaled, implied=implied, h1_means=h1_means,
        h1_covs=h1_covs, meanstructure=meanstructure, categorical=False, robust_extra=robust_extra)
    estimates = _estimates_frame(mod, theta, vcov)
    inference.forget_pattern_inverses()
    return SEMResult(
        estimator=estimator, missing=missing, groups=tuple(labels), group_n=tuple(gd.n for gd in groups), n=n,
        n_excluded=n_excluded, partable=pt, theta=theta, vcov=vcov, estimates=estimates, fit=fm,
        converged=opt.converged, iterations=opt.iterations, message=opt.message, implied=implied,
        h1=tuple({"mean": mu, "cov": c} for mu, c in zip(h1_means, h1_covs)), scaled=scaled)


def _fit_moments(model, moments, items, group_equal, group_partial, std_lv, meanstructure, baseline, estimator,
                 missing) -> SEMResult:
    """ML from sample moments only: ``data`` = [(label, n, mean, covariance with divisor n), ...]."""
    if estimator != "ml" or missing != "listwise":
        raise ValueError("Fitting from sample moments supports only estimator ml with complete data.")
    labels, groups = [], []
    for entry in moments:
        label, n, mean, cov = entry
        labels.append(str(label))
        gd = group_moments_only(items, int(n), np.asarray(mean, float), np.asarray(cov, float))
        groups.append(gd)
    if meanstructure is None:
        meanstructure = len(groups) > 1
    pt = build_partable(model, labels, meanstructure=meanstructure, std_lv=std_lv, group_equal=group_equal,
                        group_partial=group_partial)
    mod = Model(pt)
    _identified(mod)
    est = MLEstimator(mod, groups)
    opt = minimize(est, start_values(mod, groups))
    theta, n = opt.theta, int(est.N)
    vcov = inference.vcov_from_information(inference.expected_information(est, theta), n)
    df = int(mod.G * mod.n_moments - mod.q)
    chi2 = float(max(n * opt.objective, 0.0))
    h1_ll = [-gd.n / 2 * (gd.p * _LOG2PI + np.linalg.slogdet(gd.cov)[1] + gd.p) for gd in groups]
    ll0 = [h1_ll[g] - gd.n * est._f(theta, g) / 2 for g, gd in enumerate(groups)]
    base = _baseline(items, labels, groups, False, False, meanstructure, h1_ll, None, None) if baseline else None
    implied = tuple(mod.implied(theta, g) for g in range(mod.G))
    fm = fit_measures(n=n, group_n=[gd.n for gd in groups], npar=mod.q, chi2=chi2, df=df, loglik=float(sum(ll0)),
                      h1_loglik=float(sum(h1_ll)), baseline=base, scaled=None, implied=implied,
                      h1_means=[gd.mean for gd in groups], h1_covs=[gd.cov for gd in groups],
                      meanstructure=meanstructure, categorical=False)
    return SEMResult(estimator="ml", missing="listwise", groups=tuple(labels), group_n=tuple(gd.n for gd in groups),
                     n=n, n_excluded=0, partable=pt, theta=theta, vcov=vcov,
                     estimates=_estimates_frame(mod, theta, vcov), fit=fm, converged=opt.converged,
                     iterations=opt.iterations, message=opt.message, implied=implied,
                     h1=tuple({"mean": gd.mean, "cov": gd.cov} for gd in groups))


def _identified(mod: Model) -> None:
    """Refuse a model with more free parameters than sample moments (df < 0)."""
    moments = mod.G * mod.n_moments
    if mod.q > moments:
        raise ValueError(f"The model has {mod.q} free parameters but only {moments} sample moments; it is not "
                         f"identified (df = {moments - mod.q}). Add items or constrain parameters.")


def _start_from(prev: SEMResult, pt: ParTable) -> np.ndarray:
    """Start values taken from a previous fit, parameter by parameter (by lhs, op, rhs, group)."""
    old = {(r.lhs, r.op, r.rhs, r.group): r.est for r in prev.estimates.itertuples()}
    theta = np.zeros(pt.n_free)
    have = np.zeros(pt.n_free, dtype=bool)
    for par in pt.params:
        if par.free > 0 and not have[par.free - 1]:
            v = old.get((par.lhs, par.op, par.rhs, par.group))
            if v is not None and np.isfinite(v):
                theta[par.free - 1] = v
                have[par.free - 1] = True
            elif par.op == "~~" and par.lhs == par.rhs:
                theta[par.free - 1] = 1.0
            elif par.op == "~*~":
                theta[par.free - 1] = 1.0
    return theta


def _estimates_frame(mod: Model, theta: np.ndarray, vcov: np.ndarray) -> pd.DataFrame:
    values = mod.values(theta)
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None)) if vcov.size else np.zeros(0)
    rows = []
    std = _standardized(mod, theta)
    for t, par in enumerate(mod.pt.params):
        se = se_free[par.free - 1] if par.free > 0 else np.nan
        est_v = values[t]
        z = est_v / se if par.free > 0 and se > 0 else np.nan
        rows.append({"lhs": par.lhs, "op": par.op, "rhs": par.rhs, "group": par.group, "label": par.label,
                     "free": par.free, "est": est_v, "se": se, "z": z,
                     "p": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan, "std_all": std[t]})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- robust pieces
def _yb_traces(est, theta, a1, b1, info, b0=None) -> tuple[float, float]:
    """``(sum_g tr(B1_g A1_g^-1), tr(B0 I0^-1))``: the two traces of lavaan's yuan.bentler.mplus test.

    ``A1_g``/``B1_g``: observed and first-order information of the saturated model at
    the H1 moments (unweighted per group, as lavaan); ``B0``: first-order
    information of the model; ``I0``: its observed information.
    """
    trace_h1 = float(sum(np.sum(b * np.linalg.inv(a).T) for a, b in zip(a1, b1)))
    if b0 is None:
        b0 = inference.first_order_information(est, theta)
    trace_h0 = float(np.sum(b0 * np.linalg.inv(info).T))
    return trace_h1, trace_h0


def _fiml_corrected(mod, est, theta, groups, h1_means, h1_covs, a1, b1, scaled, base):
    """Zhang & Savalei's (2022) FIML-corrected chi-square and scaling for robust CFI/RMSEA (lavaan 0.6-13+).

    ``XX3``: the complete-data ML statistic of the FIML estimates against the EM (H1)
    moments as if they were sample moments; ``k = tr(Wc Wm^-1 U Wm^-1)`` (version V6,
    without a scaled test) or ``tr(U Wm^-1 Wc Wm^-1 U Gamma)`` with
    ``Gamma = Wm^-1 Jm Wm^-1`` (V3, with MLR), where ``Wm``/``Jm`` are the observed and
    first-order information of the saturated model with incomplete data at the EM
    moments, ``Wc`` the complete-data (normal) information there, ``U = Wm - Wm D
    E^-1 D' Wm`` and ``E = D' Wm D`` (all weighted by ``f_g = n_g / N``); ``c = k / df``.
    The baseline (independence) model gets the same with its own ``D``.
    """
    fg = est.n_g / est.N
    version = "V3" if scaled is not None else "V6"
    G = mod.G
    # per-group blocks of the block-diagonal matrices (weighted as lavaan does)
    wm = [fg[g] * a1[g] for g in range(G)]
    wmi = [np.linalg.inv(a1[g]) / fg[g] for g in range(G)]
    wc = [fg[g] * normal_information(np.linalg.inv(h1_covs[g]), mod.vech_rows, mod.vech_cols, True) for g in range(G)]
    gam = [wmi[g] @ b1[g] @ wmi[g] * fg[g] for g in range(G)] if version == "V3" else None
    wmi_wc = [wmi[g] @ wc[g] for g in range(G)]
    m_blk = [wmi_wc[g] @ wmi[g] for g in range(G)]                   # M = Wm^-1 Wc Wm^-1

    def pieces(model, th):
        # U = Wm - F E^-1 F' with F = Wm D (low rank), so every trace reduces to q x q matrices
        xx3 = 0.0
        for g, gd in enumerate(groups):
            imp = model.implied(th, g)
            inv = np.linalg.inv(imp["cov"])
            d = h1_means[g] - imp["mean"]
            xx3 += gd.n * (np.linalg.slogdet(imp["cov"])[1] + np.sum((h1_covs[g] + np.outer(d, d)) * inv)
                           - np.linalg.slogdet(h1_covs[g])[1] - model.p)
        dl = [model.jacobian(th, g) for g in range(G)]
        f = [wm[g] @ dl[g] for g in range(G)]
        e_inv = np.linalg.inv(sum(dl[g].T @ f[g] for g in range(G)))
        fmf = sum(f[g].T @ m_blk[g] @ f[g] for g in range(G))
        if version == "V3":
            k = sum(float(np.sum(wc[g] * gam[g].T)) for g in range(G))
            a_1 = sum(f[g].T @ wmi_wc[g] @ gam[g] @ f[g] for g in range(G))
            a_2 = sum(f[g].T @ gam[g] @ wmi_wc[g].T @ f[g] for g in range(G))
            cgc = sum(f[g].T @ gam[g] @ f[g] for g in range(G))
            k += -np.trace(e_inv @ a_1) - np.trace(e_inv @ a_2) + np.trace(e_inv @ fmf @ e_inv @ cgc)
        else:
            k = sum(float(np.trace(wmi_wc[g])) for g in range(G)) - float(np.trace(e_inv @ fmf))
        df = int(model.G * model.n_moments - model.q)
        return float(xx3), df, (float(k) / df if df > 0 else np.nan)

    xx3, df3, c3 = pieces(mod, theta)
    out = {"xx3": xx3, "df3": df3, "c_hat3": c3}
    if base is not None:
        xx0, df0, c0 = pieces(base["model"], base["theta"])
        out.update(xx3_null=xx0, df3_null=df0, c_hat3_null=c0)
    return out


# ----------------------------------------------------------------------------- baseline
def _baseline(items, labels, groups, fiml, robust, meanstructure, h1_ll, a1, b1) -> dict:
    """The independence model: free means and variances, no covariances (lavaan's baseline).

    Its estimates have a closed form (each item's mean and variance over the
    respondents who answered it); the optimiser confirms them in one step.
    """
    syntax = "\n".join(f"{v} ~~ {v}" for v in items)
    pt = build_partable(syntax, labels, meanstructure=meanstructure)
    mod = Model(pt)
    est = FIMLEstimator(mod, groups, h1_ll) if fiml else MLEstimator(mod, groups)
    theta0 = np.zeros(mod.q)
    for par in pt.params:
        if par.free > 0:
            gd = groups[par.group]
            j = items.index(par.lhs)
            if par.op == "~~":
                theta0[par.free - 1] = gd.item_variances[j]
            elif par.op == "~1":
                theta0[par.free - 1] = gd.mean[j]
    opt = minimize(est, theta0)
    df = int(mod.G * mod.n_moments - mod.q)
    if fiml:
        ll0 = sum(est.loglik(mod.implied(opt.theta, g)["mean"], mod.implied(opt.theta, g)["cov"], g)
                  for g in range(mod.G))
        chi2 = float(max(2 * (sum(h1_ll) - ll0), 0.0))
    else:
        chi2 = float(max(est.N * opt.objective, 0.0))
    out = {"chi2": chi2, "df": df, "model": mod, "theta": opt.theta}
    if robust:
        info = inference.observed_information(est, opt.theta)
        out["scaled"] = yuan_bentler_mplus(chi2, df, *_yb_traces(est, opt.theta, a1, b1, info))
    return out


# ----------------------------------------------------------------------------- WLSMV
def _fit_wlsmv(model, labels, arrays, n_excluded, items, missing, group_equal, group_partial, std_lv, start,
               baseline) -> SEMResult:
    """DWLS on thresholds and polychoric correlations with robust SEs and the scaled-shifted test."""
    from ..polychoric import observed_categories, ordinal_moments

    frames = [pd.DataFrame(a, columns=items) for a in arrays]
    cats = observed_categories(pd.concat(frames, ignore_index=True))
    oms = [ordinal_moments(f, missing=missing, categories=cats) for f in frames]
    n_excluded += sum(om.n_excluded for om in oms)
    groups = [GroupData(tuple(items), om.n, np.zeros(len(items)), om.corr, None, (), True, om) for om in oms]
    n_levels = {v: len(cats[v]) for v in items}
    pt = build_partable(model, labels, ordered=items, n_levels=n_levels, std_lv=std_lv, group_equal=group_equal,
                        group_partial=group_partial)
    mod = Model(pt)
    _identified(mod)
    est = DWLSEstimator(mod, groups)
    theta0 = _start_from(start, pt) if start is not None else start_values(mod, groups)
    opt = minimize(est, theta0)
    theta = opt.theta
    n_total = float(est.N)
    fg = est.n_g / est.N
    deltas = [mod.jacobian(theta, g) for g in range(mod.G)]
    e = sum(fg[g] * (deltas[g].T * est.w[g]) @ deltas[g] for g in range(mod.G))
    e_inv = np.linalg.inv((e + e.T) / 2)
    meat = sum(fg[g] * (deltas[g].T * est.w[g]) @ oms[g].gamma @ (est.w[g][:, None] * deltas[g])
               for g in range(mod.G))
    vcov = e_inv @ meat @ e_inv / (n_total - mod.G)
    vcov = (vcov + vcov.T) / 2
    df = int(mod.G * mod.n_moments - mod.q)
    chi2 = float(max(n_total * opt.objective, 0.0))
    tr_ug, tr_ug2 = _ug_traces(deltas, est.w, [om.gamma for om in oms], fg, e_inv)
    scaled = scaled_shifted(chi2, df, tr_ug, tr_ug2)
    base = _baseline_ordinal(items, labels, groups, n_levels, est) if baseline else None
    implied = tuple(mod.implied(theta, g) for g in range(mod.G))
    robust_extra = _catml(mod, theta, groups, oms, est, e_inv, deltas, df) if base is not None else None
    if robust_extra is not None and base is not None:
        robust_extra.setdefault("xx3_null", np.nan)
    fm = fit_measures(
        n=int(n_total), group_n=[gd.n for gd in groups], npar=mod.q, chi2=chi2, df=df, loglik=None,
        h1_loglik=None, baseline=base, scaled=scaled, implied=implied, h1_means=None,
        h1_covs=[om.corr for om in oms], meanstructure=True, categorical=True, robust_extra=robust_extra)
    estimates = _estimates_frame(mod, theta, vcov)
    return SEMResult(
        estimator="wlsmv", missing=missing, groups=tuple(labels), group_n=tuple(gd.n for gd in groups),
        n=int(n_total), n_excluded=n_excluded, partable=pt, theta=theta, vcov=vcov, estimates=estimates, fit=fm,
        converged=opt.converged, iterations=opt.iterations, message=opt.message, implied=implied,
        h1=tuple({"cor": om.corr, "th": om.threshold_vector} for om in oms), scaled=scaled,
        internals={"deltas": deltas, "weights": est.w, "gammas": [om.gamma for om in oms], "fg": fg,
                   "information": e})


def satorra_2000(restricted: SEMResult, general: SEMResult):
    """Mean-and-variance adjusted difference test of nested WLSMV models (lavaan ``lavTestLRT``'s default).

    Satorra (2000) with lavaan's ``A.method = "delta"`` and ``scaled.shifted = TRUE``:
    ``H = Delta_1^+ Delta_0`` (Jacobians of the general and restricted model at their
    estimates), ``A`` a basis of the orthogonal complement of the columns of H,
    ``M = P^-1 A' (A P^-1 A')^+ A P^-1`` with P the general model's information
    ``sum_g f_g Delta_g' W_g Delta_g``; ``U = V Delta_1 M Delta_1' V`` with
    ``V = diag(W_g)``; ``tr(U Gamma)`` with ``Gamma = diag(f_g Gamma_g)``;
    ``a = sqrt(m / tr((U Gamma)^2))``, ``b = m - a tr(U Gamma)``,
    ``T = a (T_0 - T_1) + b`` on ``m = df_0 - df_1`` degrees of freedom.
    """
    from scipy.linalg import block_diag, null_space

    from .teststats import LRTResult
    m = restricted.df - general.df
    if m <= 0:
        raise ValueError(f"The restricted model must have more degrees of freedom ({restricted.df} vs {general.df}).")
    g1, g0 = general.internals, restricted.internals
    d1 = np.vstack(g1["deltas"])
    d0 = np.vstack(g0["deltas"])
    h = np.linalg.pinv(d1) @ d0
    a = null_space(h.T).T                       # rows: orthogonal complement of the columns of H
    p_inv = np.linalg.inv(g1["information"])
    apa = a @ p_inv @ a.T
    mid = p_inv @ a.T @ np.linalg.pinv(apa) @ a @ p_inv
    fg = g1["fg"]
    v_all = block_diag(*[np.diag(w) for w in g1["weights"]])
    g_all = block_diag(*[fg[g] * gam for g, gam in enumerate(g1["gammas"])])
    u = v_all @ d1 @ mid @ d1.T @ v_all
    ug = u @ g_all
    tr_ug, tr_ug2 = float(np.trace(ug)), float(np.sum(ug * ug.T))
    aa = np.sqrt(m / tr_ug2)
    b = m - aa * tr_ug
    t = (restricted.chi2 - general.chi2) * aa + b
    return LRTResult(float(t), m, float(stats.chi2.sf(max(t, 0.0), m)), "satorra.2000", float(1 / aa))


def _ug_traces(deltas, weights, gammas, fg, e_inv) -> tuple[float, float]:
    """``tr(U Gamma)`` and ``tr((U Gamma)^2)`` over all groups (lavaan's Satorra-Bentler 'original')."""
    from scipy.linalg import block_diag
    v_all = block_diag(*[np.diag(fg[g] * weights[g]) for g in range(len(deltas))])
    d_all = np.vstack(deltas)
    g_all = block_diag(*[gammas[g] / fg[g] for g in range(len(deltas))])
    u = v_all - v_all @ d_all @ e_inv @ d_all.T @ v_all
    ug = u @ g_all
    return float(np.trace(ug)), float(np.sum(ug * ug.T))


def _baseline_ordinal(items, labels, groups, n_levels, est_model) -> dict:
    """The independence model for ordered items: free thresholds, zero correlations."""
    syntax = "\n".join(f"{v} ~~ {v}" for v in items)
    pt = build_partable(syntax, labels, ordered=items, n_levels=n_levels)
    mod = Model(pt)
    est = DWLSEstimator(mod, groups)
    opt = minimize(est, start_values(mod, groups))
    df = int(mod.G * mod.n_moments - mod.q)
    chi2 = float(max(est.N * opt.objective, 0.0))
    fg = est.n_g / est.N
    deltas = [mod.jacobian(opt.theta, g) for g in range(mod.G)]
    e = sum(fg[g] * (deltas[g].T * est.w[g]) @ deltas[g] for g in range(mod.G))
    e_inv = np.linalg.inv((e + e.T) / 2)
    tr_ug, tr_ug2 = _ug_traces(deltas, est.w, [gd.ordinal.gamma for gd in groups], fg, e_inv)
    return {"chi2": chi2, "df": df, "model": mod, "theta": opt.theta, "scaled": scaled_shifted(chi2, df, tr_ug, tr_ug2)}


def _catml(mod, theta, groups, oms, est, e_inv, deltas, df) -> dict | None:
    """Savalei's (2021) catML ingredients of the robust CFI/TLI/RMSEA with ordered items (lavaan 0.6-13+).

    ``XX3 = sum_g n_g F_ML(R_g, Sigma_g)``: the normal-theory ML discrepancy of the
    polychoric matrix R from the DWLS-implied correlation matrix; ``k = tr(A' V A
    Gamma)`` on the correlations with ``A = I - D E^-1 D' W``, ``V`` the normal-theory
    weight of a correlation structure at Sigma (``1/2 D_c' (Sigma^-1 x Sigma^-1) D_c``),
    ``W`` the DWLS weight and ``Gamma`` the polychoric NACOV (weighted by ``f_g``);
    ``c = k / df``. Baseline: ``XX3_0 = -sum_g n_g ln|R_g|``, ``c_0 = tr(Gamma) / df_0``.
    None when a polychoric matrix is not positive definite (lavaan then reports NA).
    """
    from scipy.linalg import block_diag

    from .data import trace_pairs
    fg = est.n_g / est.N
    ntau = mod.n_tau
    rows, cols = mod.cor_rows, mod.cor_cols
    xx3 = xx0 = 0.0
    v_g, w_g, gam_g, d_g = [], [], [], []
    for g, om in enumerate(oms):
        r = om.corr
        if np.linalg.eigvalsh(r).min() < np.sqrt(np.finfo(float).eps):
            return None
        sigma = mod.implied(theta, g)["cor"]
        inv = np.linalg.inv(sigma)
        p = r.shape[0]
        ld_r = np.linalg.slogdet(r)[1]
        xx3 += om.n * (np.linalg.slogdet(sigma)[1] + np.sum(r * inv) - ld_r - p)
        xx0 += om.n * (-ld_r)
        v_g.append(fg[g] * trace_pairs(inv, inv, rows, cols) / 2)
        w_g.append(np.diag(fg[g] * est.w[g][ntau:]))
        gam_g.append(om.gamma[ntau:, ntau:] / fg[g])
        d_g.append(deltas[g][ntau:])
    v_all, w_all, g_all = block_diag(*v_g), block_diag(*w_g), block_diag(*gam_g)
    d_all = np.vstack(d_g)
    a = np.eye(len(v_all)) - d_all @ e_inv @ d_all.T @ w_all
    k = float(np.trace(a.T @ v_all @ a @ g_all))
    n_struct = sum(1 for par in mod.pt.params if par.free > 0 and par.op not in ("|", "~1"))
    free_struct = len({par.free for par in mod.pt.params if par.free > 0 and par.op not in ("|", "~1")})
    del n_struct
    df3 = int(mod.G * len(rows) - free_struct)
    df0 = int(mod.G * len(rows))
    return {"xx3": float(xx3), "df3": df3, "c_hat3": k / df3 if df3 > 0 else np.nan,
            "xx3_null": float(xx0), "df3_null": df0, "c_hat3_null": float(np.trace(g_all)) / df0}
