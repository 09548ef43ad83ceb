"""Factor structure of an instrument, agreeing with R ``psych`` and ``lavaan``.

An instrument's items are analysed together, listwise (a respondent with any
missing item is left out and counted in ``n_excluded``). The item matrix is a
pandas DataFrame (or numpy array), one row per respondent, one column per item,
float values, NaN = missing, **already reverse-keyed**. Everything here works
from the item means and covariance matrix, computed once in O(n p^2) by
:func:`item_moments`; pass the resulting :class:`ItemMoments` instead of the
DataFrame to every function to reuse it (the cost of all later steps then does
not depend on n).

Public entry points
-------------------
- :func:`factorability` -- Kaiser-Meyer-Olkin measure of sampling adequacy
  (``kmo``) and Bartlett's test of sphericity; :func:`kmo_items` per item.
- :func:`parallel_analysis` -- Horn's parallel analysis (factor and component
  eigenvalues, observed and 95th percentile of random normal data);
  :func:`suggested_factors` applies psych's retention rule.
- :func:`efa` -- exploratory factor analysis (minres, ml or principal;
  oblimin, promax, geomin, varimax or none) with psych's fit statistics;
  :func:`match_factors` matches factors to theoretical subscales (Tucker's
  congruence, Hungarian assignment) and :meth:`EFAResult.reorder` applies it.
- :func:`cfa` -- confirmatory factor analysis of a simple-structure model, as
  ``lavaan::cfa``, fitted by the one engine :mod:`attachment_pipeline.sem` (ML,
  MLR or WLSMV; listwise, FIML or pairwise); :func:`attachment_pipeline.sem.compare`
  tests nested models (e.g. one versus two factors).
- :func:`factorability_table`, :func:`parallel_table`, :func:`efa_tables`,
  :func:`cfa_tables` -- the tidy tables written to ``factorability.csv``,
  ``parallel_analysis.csv``, ``efa_loadings.csv``, ``efa_fit.csv``,
  ``cfa_fit.csv`` and ``cfa_loadings.csv`` (first column ``instrument``).

Output tables
-------------
``factorability.csv`` (long): ``instrument, measure, item, value``. Measures
``n``, ``n_excluded``, ``kmo``, ``bartlett_chi2``, ``bartlett_df``,
``bartlett_p`` (``item`` empty), ``kmo_item`` (one row per item) and, when a
parallel-analysis table is given, ``n_factors_parallel`` (psych's ``nfact``),
``n_components_parallel`` (psych's ``ncomp``) and ``n_factors_theoretical``
(the instrument's number of subscales).

``parallel_analysis.csv``: ``instrument, factor, eigen_observed_fa,
eigen_random_fa, eigen_observed_pc, eigen_random_pc, retain_fa, retain_pc,
theoretical`` -- one row per factor number 1..p; ``retain_*`` marks the factors
(components) psych's rule retains; ``theoretical`` marks factor numbers up to the
instrument's number of subscales.

``efa_loadings.csv``: ``instrument, extraction, rotation, item, F1..Fk,
communality, subscale, matched_factor, flag_low, flag_cross``. Factors are
matched one-to-one to the theoretical subscales and ordered as the subscales
(F1 = first subscale), sign-aligned so that the matched subscale's loadings are
positive; unmatched factors (k > number of subscales) follow, ordered as psych
orders them. ``flag_low``: the (signed) loading on the item's own factor is
below ``low`` (.40); ``flag_cross``: the largest absolute loading on another
factor exceeds ``cross`` (.30). Items of an unmatched subscale have no
``matched_factor`` and NA flags.

``efa_fit.csv`` (long): ``instrument, extraction, rotation, measure, factor,
value``. Per factor (``factor`` = F1..Fk, in the matched order):
``ss_loadings``, ``proportion_var``, ``cumulative_var``,
``proportion_explained``, ``cumulative_proportion`` (psych's ``Vaccounted``;
cumulative sums follow the matched order) and ``congruence`` (Tucker's
coefficient with the matched subscale); per factor pair (``factor`` =
``F1~~F2``): ``phi`` (factor correlation; 0 for orthogonal rotations); for the
model (``factor`` empty): ``n``, ``n_factors``, ``objective``, ``chi2``, ``df``,
``p``, ``tli``, ``rmsea``, ``rmsea_low``, ``rmsea_high`` (90% interval),
``bic``, ``null_chi2``, ``null_df`` and ``converged`` (1/0), all as
``psych::fa`` reports them.

``cfa_fit.csv``: one row per model (``model`` = ``theoretical``: one factor per
subscale, correlated; ``one_factor``: all items on one factor ``general``):
:data:`CFA_FIT_COLUMNS` -- ``estimator``, ``missing``, ``n`` (respondents used),
``n_excluded``, ``npar``, ``chi2``, ``df``, ``p``, ``cfi``, ``tli``, ``rmsea`` (with
its 90% interval), ``srmr``; for ``mlr`` and ``wlsmv`` also ``chi2_scaled``,
``df_scaled``, ``p_scaled``, ``scaling_factor``, ``cfi_scaled``, ``tli_scaled``,
``rmsea_scaled``, ``cfi_robust``, ``tli_robust``, ``rmsea_robust`` (NaN for ``ml``);
``baseline_chi2``, ``baseline_df``, ``loglik``, ``aic``, ``bic`` (NaN for
``wlsmv``), ``converged`` -- lavaan's ``fitMeasures`` in snake_case.

``cfa_loadings.csv``: ``instrument, model, factor, item, loading, se,
std_loading, residual_variance``: one row per item (unstandardised loading,
lavaan's first-indicator ``1`` with ``se`` NaN, the estimator's standard error
-- robust for ``mlr`` and ``wlsmv`` --, ``std.all`` loading and unstandardised
residual variance, implied for ordered items), then one row per factor pair
with ``factor`` = ``item`` = ``"<f1>~~<f2>"``, ``loading`` = the factor
covariance, ``se`` its standard error and ``std_loading`` the factor correlation.

``cfa_thresholds.csv`` (``wlsmv`` only; header alone otherwise): ``instrument,
model, item, threshold, estimate, se``.

Agreement with R (``tests/r/factors_reference.R``; psych 2.2.9, lavaan 0.6-14,
GPArotation 2022.10-2) on the shipped demo and ECR 5-point data (max
deviations): KMO 1e-15, Bartlett chi2 1e-15 (relative), observed
parallel-analysis eigenvalues 5e-14; EFA loadings 8e-6 and factor correlations
4e-6 after matching (minres/ml x oblimin/promax/varimax/geomin, 1-3 factors,
principal components), EFA chi2/TLI/RMSEA/BIC 3e-6 (relative); CFA chi2 6e-11
(relative), CFI/TLI/RMSEA 3e-11, RMSEA interval 9e-9, SRMR 3e-8, estimates 5e-6
and standard errors 1e-6 (lavaan's own convergence tolerance). Tests:
``tests/test_factors.py``. factor_analyzer 0.5.1 agrees with psych for every
rotation offered, so no rotation is re-implemented here.

References
----------
Kaiser, H. F. (1970). A second generation little jiffy. Psychometrika, 35, 401-415.
Bartlett, M. S. (1951). The effect of standardization on a chi square
approximation in factor analysis. Biometrika, 38, 337-344.
Horn, J. L. (1965). A rationale and test for the number of factors in factor
analysis. Psychometrika, 30, 179-185.
Anderson, T. W. (2003). An introduction to multivariate statistical analysis
(3rd ed.). Wiley. (Theorem 7.2.2: (n-1) S of normal data is Wishart.)
Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing residuals
(minres). Psychometrika, 31, 351-368.
Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms and
software for arbitrary rotation criteria in factor analysis. Educational and
Psychological Measurement, 65, 676-696.
Tucker, L. R. (1951). A method for synthesis of factor analysis studies
(Personnel Research Section Report No. 984). Department of the Army.
Lorenzo-Seva, U., & ten Berge, J. M. F. (2006). Tucker's congruence coefficient
as a meaningful index of factor similarity. Methodology, 2, 57-64.
Joreskog, K. G. (1969). A general approach to confirmatory maximum likelihood
factor analysis. Psychometrika, 34, 183-202.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
Journal of Statistical Software, 48(2), 1-36.
Revelle, W. (2022). psych: Procedures for psychological, psychometric, and
personality research (R package 2.2.9).

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> f = rng.normal(size=(400, 2))
>>> lam = np.kron(np.eye(2), np.full((1, 4), 0.7))          # items 1-4 | 5-8
>>> x = pd.DataFrame(f @ lam + rng.normal(scale=0.7, size=(400, 8)),
...                  columns=[f"x{j}" for j in range(1, 9)])
>>> m = item_moments(x)                                      # O(n p^2), once
>>> round(factorability(m).kmo, 3)
0.788
>>> suggested_factors(parallel_analysis(m, n_iter=50, seed=1))
2
>>> res = efa(m, 2)
>>> match = match_factors(res.loadings_frame(), ["a"] * 4 + ["b"] * 4)
>>> L = res.reorder(match.order, match.signs).loadings
>>> L[:4, 0].round(2), bool(np.abs(L[4:, 0]).max() < 0.05)
(array([0.71, 0.74, 0.66, 0.71]), True)
>>> fit = cfa(m, {"a": ["x1", "x2", "x3", "x4"], "b": ["x5", "x6", "x7", "x8"]})
>>> fit.df, round(fit.chi2, 2), round(fit.fit["cfi"], 3), round(fit.fit["rmsea"], 3)
(19, 12.3, 1.0, 0.0)
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import optimize, stats

try:  # installed with scikit-learn (a factor_analyzer dependency)
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None

__all__ = [
    "EXTRACTIONS",
    "ROTATIONS",
    "ItemMoments",
    "item_moments",
    "Factorability",
    "factorability",
    "kmo_items",
    "smc",
    "parallel_analysis",
    "suggested_factors",
    "EFAResult",
    "efa",
    "FactorMatch",
    "match_factors",
    "congruence",
    "CFA_FIT_COLUMNS",
    "cfa",
    "cfa_rows",
    "factorability_table",
    "parallel_table",
    "efa_tables",
    "cfa_tables",
]

#: Factor extraction methods of :func:`efa` (psych ``fm``; ``principal`` = principal components).
EXTRACTIONS = ("minres", "ml", "principal")
#: Rotations of :func:`efa`; ``geomin`` is the oblique geomin (GPArotation ``geominQ``).
ROTATIONS = ("oblimin", "promax", "geomin", "varimax", "none")
OBLIQUE_ROTATIONS = ("oblimin", "promax", "geomin")
#: Default thresholds for the EFA item flags.
LOW_LOADING = 0.40
CROSS_LOADING = 0.30

_CHUNK_ROWS = 65536


def _one_blas_thread():
    """Limit BLAS to one thread for work on p x p matrices.

    Threads only add overhead for such small matrices, and on a busy machine
    OpenBLAS threads can make a 36 x 36 ``eigh`` fifty times slower. The O(n p^2)
    moment computation (:func:`item_moments`) runs outside this limit.
    """
    if _threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _threadpool_limits(limits=1, user_api="blas")


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class ItemMoments:
    """Listwise item means and covariances: the sufficient statistics of every analysis here.

    ``cov`` divides by ``n - 1`` (R's ``cov``); ``corr`` is its correlation
    matrix and ``cov_ml`` the maximum-likelihood covariance (divisor ``n``) that
    lavaan fits. ``n_excluded`` counts respondents dropped for a missing item.
    """

    items: tuple[str, ...]
    n: int
    n_excluded: int
    mean: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    corr: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        cov = np.array(self.cov, dtype=float)
        p = len(self.items)
        if cov.shape != (p, p) or np.shape(self.mean) != (p,):
            raise ValueError(f"ItemMoments of {p} items needs a {p} x {p} covariance and {p} means; "
                             f"got shapes {cov.shape} and {np.shape(self.mean)}.")
        if not (isinstance(self.n, (int, np.integer)) and self.n > 1):
            raise ValueError(f"ItemMoments needs n > 1 respondents, got {self.n!r}.")
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
        np.fill_diagonal(corr, 1.0)
        corr = (corr + corr.T) / 2
        mean = np.array(self.mean, dtype=float)
        for a in (cov, corr, mean):
            a.setflags(write=False)
        object.__setattr__(self, "cov", cov)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "corr", corr)
        object.__setattr__(self, "items", tuple(self.items))

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def cov_ml(self) -> np.ndarray:
        """Covariance with divisor n (lavaan's sample covariance for ML)."""
        return self.cov * ((self.n - 1) / self.n)

    def subset(self, items: Sequence[str]) -> "ItemMoments":
        """The moments of some of the items (same respondents), in the given order."""
        index = {name: j for j, name in enumerate(self.items)}
        missing = [c for c in items if c not in index]
        if missing:
            raise ValueError(
                f"Items {missing} are not among the analysed items ({', '.join(self.items)}); "
                "check the item names in the model or instrument."
            )
        idx = [index[c] for c in items]
        return ItemMoments(tuple(items), self.n, self.n_excluded, self.mean[idx],
                           self.cov[np.ix_(idx, idx)])


def _as_matrix(items) -> tuple[tuple[str, ...], np.ndarray]:
    if isinstance(items, pd.DataFrame):
        bad = [c for c in items.columns
               if not (pd.api.types.is_numeric_dtype(items[c]) or pd.api.types.is_bool_dtype(items[c]))]
        if bad:
            example = items[bad[0]].dropna()
            example = f" (e.g. value {example.iloc[0]!r})" if len(example) else ""
            raise ValueError(
                f"Item columns must be numeric; column(s) {bad} are not{example}. "
                "Recode answers to numbers first."
            )
        names = tuple(str(c) for c in items.columns)
        x = items.to_numpy(dtype=float, na_value=np.nan)
    elif isinstance(items, np.ndarray):
        if items.ndim != 2:
            raise ValueError(f"An item matrix must be 2-dimensional (respondents x items), got shape {items.shape}.")
        names = tuple(f"V{j + 1}" for j in range(items.shape[1]))
        try:
            x = items.astype(float)
        except (TypeError, ValueError):
            raise ValueError("The item array must hold numbers (NaN = missing).") from None
    else:
        raise ValueError(
            f"Expected a pandas DataFrame, a 2-D numpy array or ItemMoments of items, got {type(items).__name__}."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"Item names must be unique; got duplicates in {list(names)}.")
    inf = np.isinf(x)
    if inf.any():
        j = int(np.nonzero(inf.any(axis=0))[0][0])
        raise ValueError(f"Item {names[j]!r} holds an infinite value; use NaN for missing answers.")
    return names, x


def item_moments(items) -> ItemMoments:
    """Listwise means and covariance matrix of an item matrix, computed once.

    Respondents with any missing item are dropped (counted in ``n_excluded``).
    The covariance is ``S = sum_i (x_i - xbar)(x_i - xbar)' / (n - 1)``,
    accumulated over blocks of rows (memory stays O(block x p) beyond the input).

    Parameters
    ----------
    items : DataFrame or 2-D array (respondents x items), or ItemMoments (returned as is).

    Returns
    -------
    ItemMoments

    Examples
    --------
    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, np.nan], "b": [2, 1, 4, 3, 5], "c": [1, 3, 2, 5, 4]})
    >>> m = item_moments(x)
    >>> m.n, m.n_excluded, m.corr[0, 1].round(3)
    (4, 1, np.float64(0.6))
    """
    if isinstance(items, ItemMoments):
        return items
    names, x = _as_matrix(items)
    p = x.shape[1]
    if p < 2:
        raise ValueError(f"Factor analyses need at least 2 items, got {p} ({', '.join(names)}).")
    complete = ~np.isnan(x).any(axis=1)
    n = int(complete.sum())
    n_excluded = int(x.shape[0] - n)
    if n <= p:
        raise ValueError(
            f"Only {n} respondents answered all {p} items ({n_excluded} excluded for missing answers); "
            f"factor analyses need more complete respondents than items."
        )
    total = np.zeros(p)
    for start in range(0, x.shape[0], _CHUNK_ROWS):
        block = x[start:start + _CHUNK_ROWS][complete[start:start + _CHUNK_ROWS]]
        total += block.sum(axis=0)
    mean = total / n
    cross = np.zeros((p, p))
    for start in range(0, x.shape[0], _CHUNK_ROWS):
        block = x[start:start + _CHUNK_ROWS][complete[start:start + _CHUNK_ROWS]] - mean
        cross += block.T @ block
    cov = cross / (n - 1)
    cov = (cov + cov.T) / 2
    var = np.diag(cov)
    flat = [names[j] for j in np.nonzero(var <= 1e-12 * max(1.0, float(np.abs(mean).max()) ** 2))[0]]
    if flat:
        raise ValueError(
            f"Item(s) {flat} have no variance among the {n} complete respondents (everyone gave the same "
            "answer); correlations with them are undefined. Drop them before the factor analyses."
        )
    return ItemMoments(names, n, n_excluded, mean, cov)


def _inverse(r: np.ndarray, items: Sequence[str]) -> np.ndarray:
    """Inverse of a correlation matrix via Cholesky, with a clear error if singular."""
    try:
        np.linalg.cholesky(r)
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inv = None
    if inv is None or not np.all(np.isfinite(inv)) or np.linalg.cond(r) > 1e12:
        raise ValueError(
            "The item correlation matrix is singular (not positive definite): some items are exact "
            f"linear combinations of others (duplicated columns?) among {', '.join(items)}. "
            "Remove the redundant items."
        )
    return (inv + inv.T) / 2


# ------------------------------------------------------------------ factorability
@dataclass(frozen=True)
class Factorability:
    """Overall KMO and Bartlett's test of sphericity (R: ``psych::KMO``, ``psych::cortest.bartlett``)."""

    kmo: float
    bartlett_chi2: float
    bartlett_df: int
    bartlett_p: float
    n: int
    n_excluded: int


def _kmo(r: np.ndarray, items: Sequence[str]) -> tuple[float, np.ndarray]:
    q = _inverse(r, items)
    d = 1 / np.sqrt(np.diag(q))
    a = q * np.outer(d, d)  # cov2cor(R^-1): partial correlations up to sign
    np.fill_diagonal(a, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    r2, a2 = (r0 ** 2).sum(axis=0), (a ** 2).sum(axis=0)
    return float(r2.sum() / (r2.sum() + a2.sum())), r2 / (r2 + a2)


def factorability(items) -> Factorability:
    """Kaiser-Meyer-Olkin measure of sampling adequacy and Bartlett's sphericity test.

    KMO (Kaiser, 1970) compares correlations with partial correlations:
    ``kmo = sum_{i!=j} r_ij^2 / (sum_{i!=j} r_ij^2 + sum_{i!=j} a_ij^2)``, where
    ``a_ij = -q_ij / sqrt(q_ii q_jj)`` and ``Q = R^-1`` (psych::KMO ``MSA``).
    Bartlett (1951): ``chi2 = -(n - 1 - (2p + 5) / 6) ln|R|`` on ``p(p - 1)/2``
    degrees of freedom (psych::cortest.bartlett with ``n`` = complete respondents).

    Parameters
    ----------
    items : DataFrame / array (respondents x items, reverse-keyed) or ItemMoments.

    Returns
    -------
    Factorability

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 1)) + rng.normal(size=(300, 5))
    >>> res = factorability(x)
    >>> round(res.kmo, 3), res.bartlett_df, res.bartlett_p < 1e-10
    (0.849, 10, True)
    """
    m = item_moments(items)
    with _one_blas_thread():
        kmo, _ = _kmo(m.corr, m.items)
        p = m.n_items
        sign, logdet = np.linalg.slogdet(m.corr)
        if sign <= 0:
            _inverse(m.corr, m.items)  # raises the singular-matrix error
        chi2 = float(-logdet * (m.n - 1 - (2 * p + 5) / 6))
        df = p * (p - 1) // 2
        return Factorability(kmo=kmo, bartlett_chi2=chi2, bartlett_df=df,
                             bartlett_p=float(stats.chi2.sf(chi2, df)), n=m.n, n_excluded=m.n_excluded)


def kmo_items(items) -> pd.DataFrame:
    """Per-item KMO (psych::KMO ``MSAi``): columns ``item``, ``kmo_item``.

    ``kmo_item_j = sum_{i!=j} r_ij^2 / (sum_{i!=j} r_ij^2 + sum_{i!=j} a_ij^2)``
    with ``a`` the partial (anti-image) correlations (Kaiser, 1970).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 1)) + rng.normal(size=(300, 3))
    >>> kmo_items(x).round(3)
      item  kmo_item
    0   V1     0.689
    1   V2     0.692
    2   V3     0.741
    """
    m = item_moments(items)
    with _one_blas_thread():
        _, per_item = _kmo(m.corr, m.items)
        return pd.DataFrame({"item": list(m.items), "kmo_item": per_item})


# ------------------------------------------------------------ parallel analysis
def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1 / diag(R^-1)`` of (a stack of) correlation matrices.

    Clipped to [0, 1] as psych::smc does. Works on the last two axes, so a
    stack ``(..., p, p)`` gives ``(..., p)``.

    Examples
    --------
    >>> smc(np.array([[1.0, 0.5], [0.5, 1.0]]))
    array([0.25, 0.25])
    """
    r = np.asarray(r, dtype=float)
    inv = np.linalg.inv(r)
    return np.clip(1 - 1 / np.diagonal(inv, axis1=-2, axis2=-1), 0.0, 1.0)


def _eigen_desc(r: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(r)[..., ::-1]


def _with_smc_diagonal(r: np.ndarray) -> np.ndarray:
    out = np.array(r, dtype=float, copy=True)
    idx = np.arange(r.shape[-1])
    out[..., idx, idx] = smc(r)
    return out


def parallel_analysis(items, n_iter: int = 100, quantile: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Horn's (1965) parallel analysis with factor and component eigenvalues.

    Observed: the eigenvalues of the item correlation matrix R (components,
    ``eigen_observed_pc``) and of R with squared multiple correlations on its
    diagonal (factors, ``eigen_observed_fa``), as ``psych::fa.parallel(x,
    SMC = TRUE)``. Random: the ``quantile`` (default 95th percentile, R's type-7
    quantile) over ``n_iter`` correlation matrices of random normal data of the
    same n x p, of the same two kinds of eigenvalues.

    The random correlation matrices are drawn exactly, without simulating the
    n x p data: for n independent N(0, I_p) rows the scatter matrix
    ``(n - 1) S`` is Wishart(n - 1, I_p) (Anderson, 2003, Thm 7.2.2), and the
    sample correlation matrix is ``D^-1/2 W D^-1/2`` with ``D = diag(W)``.
    ``scipy.stats.wishart`` draws W by the Bartlett decomposition, so the cost
    is O(n_iter p^3), independent of n. All iterations are processed as one
    batch (batched ``eigvalsh`` and ``inv``). The data are not resampled (psych's
    resampled eigenvalues are not used for its suggestion either).

    Note: psych's default ``SMC = FALSE`` puts 1-factor minres communalities on
    the diagonal instead; SMCs are the classic choice and need no iteration.

    Parameters
    ----------
    items : DataFrame / array (respondents x items) or ItemMoments.
    n_iter : number of random data sets (>= 1).
    quantile : quantile of the random eigenvalues, in (0, 1).
    seed : seed of ``numpy.random.default_rng``; the same seed gives identical output.

    Returns
    -------
    DataFrame with columns ``factor`` (1..p), ``eigen_observed_fa``,
    ``eigen_random_fa``, ``eigen_observed_pc``, ``eigen_random_pc``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 1)) + rng.normal(size=(300, 5))
    >>> pa = parallel_analysis(x, n_iter=20, seed=1)
    >>> pa.iloc[:2, :3].round(2)
       factor  eigen_observed_fa  eigen_random_fa
    0       1               2.44             0.30
    1       2               0.01             0.11
    >>> pa.iloc[:2, 3:].round(2)
       eigen_observed_pc  eigen_random_pc
    0               3.02             1.27
    1               0.61             1.10
    >>> suggested_factors(pa), suggested_factors(pa, kind="pc")
    (1, 1)
    """
    if isinstance(n_iter, (bool, np.bool_)) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, got {n_iter!r}.")
    if not (isinstance(quantile, (int, float, np.floating)) and 0 < quantile < 1):
        raise ValueError(f"quantile must be a number strictly between 0 and 1, got {quantile!r}.")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    m = item_moments(items)
    with _one_blas_thread():
        p, n = m.n_items, m.n
        _inverse(m.corr, m.items)  # clear error for a singular matrix
        observed_pc = _eigen_desc(m.corr)
        observed_fa = _eigen_desc(_with_smc_diagonal(m.corr))

        rng = np.random.default_rng(seed)
        w = stats.wishart(df=n - 1, scale=np.eye(p)).rvs(size=int(n_iter), random_state=rng)
        w = np.asarray(w).reshape(int(n_iter), p, p)
        d = 1 / np.sqrt(np.diagonal(w, axis1=1, axis2=2))
        r = w * d[:, :, None] * d[:, None, :]
        idx = np.arange(p)
        r[:, idx, idx] = 1.0
        random_pc = _eigen_desc(r)
        random_fa = _eigen_desc(_with_smc_diagonal(r))
        return pd.DataFrame({
            "factor": np.arange(1, p + 1),
            "eigen_observed_fa": observed_fa,
            "eigen_random_fa": np.quantile(random_fa, quantile, axis=0),
            "eigen_observed_pc": observed_pc,
            "eigen_random_pc": np.quantile(random_pc, quantile, axis=0),
        })


def suggested_factors(pa_table: pd.DataFrame, kind: str = "fa") -> int:
    """Number of factors (``kind="fa"``) or components (``"pc"``) parallel analysis retains.

    psych's rule (``fa.parallel``: ``which(!(observed > random))[1] - 1``):
    the number of leading eigenvalues, counted from the first, that exceed their
    random counterpart; counting stops at the first that does not. If every
    observed eigenvalue exceeds its random one, all p are retained (psych: NA).

    Examples
    --------
    >>> pa = pd.DataFrame({"eigen_observed_fa": [3.0, 0.9, 0.2, 0.5],
    ...                    "eigen_random_fa": [0.5, 0.4, 0.3, 0.2]})
    >>> suggested_factors(pa)
    2
    """
    if kind not in ("fa", "pc"):
        raise ValueError(f"kind must be 'fa' (factors) or 'pc' (components), got {kind!r}.")
    obs, ran = f"eigen_observed_{kind}", f"eigen_random_{kind}"
    if not {obs, ran} <= set(pa_table.columns):
        raise ValueError(f"The parallel-analysis table needs columns {obs!r} and {ran!r}.")
    exceeds = pa_table[obs].to_numpy(float) > pa_table[ran].to_numpy(float)
    return int(exceeds.size if exceeds.all() else np.argmin(exceeds))


# ------------------------------------------------------------------------- EFA
def _factor_analyzer_solution(corr: np.ndarray, n_factors: int, extraction: str,
                              rotation: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """The ONE adapter around factor_analyzer 0.5.1: extraction and rotation of a correlation matrix.

    Extraction ``minres``/``ml`` is ``FactorAnalyzer(is_corr_matrix=True)``
    (L-BFGS-B on the uniquenesses in [0.005, 1] from ``1 - SMC``, as
    psych::fa); ``principal`` is the principal-component solution
    ``V_k diag(sqrt(lambda_k))`` of R (psych::principal; factor_analyzer
    implements it only on raw data). Rotation is ``factor_analyzer.Rotator``:
    oblimin and geomin by the GPA algorithm of Bernaards & Jennrich (2005)
    ported from GPArotation (delta .01 for geomin, max 1000 iterations, tol
    1e-5 as GPArotation), varimax with Kaiser normalisation (stats::varimax) and
    promax (power 4) on Kaiser-normalised loadings (psych's ``kaiser(...,
    "Promax")``). Returns unsorted loadings, phi and whether the extraction converged.
    Keep every factor_analyzer call in this function so that a replacement is local.
    """
    from factor_analyzer import FactorAnalyzer, Rotator

    converged = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if extraction == "principal":
            values, vectors = np.linalg.eigh(corr)
            values, vectors = values[::-1][:n_factors], vectors[:, ::-1][:, :n_factors]
            loadings = vectors * np.sqrt(np.maximum(values, np.finfo(float).eps))
        else:
            fa = FactorAnalyzer(n_factors=n_factors, rotation=None, method=extraction,
                                is_corr_matrix=True, use_smc=True, bounds=(0.005, 1))
            fa.fit(np.array(corr, dtype=float))
            loadings = np.asarray(fa.loadings_, dtype=float).reshape(corr.shape[0], n_factors)
        phi = np.eye(n_factors)
        if rotation != "none" and n_factors > 1:
            method = {"geomin": "geomin_obl"}.get(rotation, rotation)
            rotator = Rotator(method=method, max_iter=1000)
            loadings = np.asarray(rotator.fit_transform(loadings), dtype=float)
            if rotation in OBLIQUE_ROTATIONS:
                phi = np.asarray(rotator.phi_, dtype=float)
    for w in caught:
        if "converge" in str(w.message).lower():
            converged = False
    return loadings, phi, converged


def _smooth_corr(r: np.ndarray) -> np.ndarray:
    """psych::cor.smooth: make a (near) non-positive-definite correlation matrix positive definite."""
    values, vectors = np.linalg.eigh(r)
    if values.min() >= np.finfo(float).eps:
        return r
    values = np.where(values < 1e-12, 100 * 1e-12, values)
    values = values * r.shape[0] / values.sum()
    x = (vectors * values) @ vectors.T
    d = 1 / np.sqrt(np.diag(x))
    return x * np.outer(d, d)


def _psych_rmsea_ci(stat: float, chisq: float, df: float, n: int, rmsea: float,
                    alpha: float = 0.1) -> tuple[float, float]:
    """RMSEA interval exactly as psych's factor.stats (noncentral chi-square, n - 1 in the divisor)."""
    tail = alpha / 2
    upper_x = max(n, chisq) + 2 * n
    cdf0 = stats.chi2.cdf(stat, df)

    def root(target):
        f = lambda x: stats.ncx2.cdf(stat, df, x) - target if x > 0 else cdf0 - target  # noqa: E731
        if f(0.0) * f(upper_x) > 0:
            return np.nan
        return optimize.brentq(f, 0.0, upper_x, xtol=1e-12, rtol=1e-14, maxiter=500)

    high = low = 0.0
    if cdf0 > tail:
        lam = root(tail)
        high = np.sqrt(lam / (n - 1) / df) if np.isfinite(lam) else (0.0 if rmsea <= 0 else np.nan)
    if cdf0 > 1 - tail:
        lam = root(1 - tail)
        low = np.sqrt(lam / (n - 1) / df) if np.isfinite(lam) else np.nan
    if np.isfinite(high) and high < rmsea:
        high = np.nan
    if np.isfinite(low) and low > rmsea:
        low = np.nan
    return float(low), float(high)


def _efa_fit_statistics(r: np.ndarray, loadings: np.ndarray, phi: np.ndarray, n: int) -> dict:
    """psych::fa's fit statistics (``factor.stats``) for a solution of a correlation matrix.

    With model ``M = L Phi L'`` with unit diagonal: objective
    ``F = tr(M^-1 R) - ln|M^-1 R| - p``; ``chi2 = F (n - 1 - (2p + 5)/6 - 2k/3)``
    (floored at 0); ``df = p(p-1)/2 - pk + k(k-1)/2``; null model
    ``F0 = -ln|R|``, ``null_chi2 = F0 (n - 1 - (2p + 5)/6)``, ``null_df = p(p-1)/2``;
    ``TLI = (M0 - Mm) / (M0 - 1/nm)`` with ``M0 = F0 / null_df``, ``Mm = F / df``,
    ``nm`` the chi2 multiplier; ``RMSEA = sqrt(max(chi2 / (df n) - 1/(n - 1), 0))``
    with a 90% interval; ``BIC = chi2 - df ln(n)``.
    """
    p, k = loadings.shape
    model = loadings @ phi @ loadings.T
    np.fill_diagonal(model, np.diag(r))
    model = _smooth_corr(model)
    rs = _smooth_corr(r)
    m_inv_r = np.linalg.solve(model, rs)
    sign, logdet = np.linalg.slogdet(m_inv_r)
    objective = float(np.trace(m_inv_r) - logdet - p)
    df = p * (p - 1) / 2 - p * k + k * (k - 1) / 2
    nm = (n - 1) - (2 * p + 5) / 6 - 2 * k / 3
    chisq = objective * nm
    stat = max(chisq, 0.0)
    f0 = float(np.trace(rs) - np.linalg.slogdet(rs)[1] - p)
    null_df = p * (p - 1) / 2
    out = dict(objective=objective, chi2=stat, df=df, null_chi2=f0 * ((n - 1) - (2 * p + 5) / 6),
               null_df=null_df)
    if df > 0:
        m0, mm = f0 / null_df, objective / df
        out["p"] = float(stats.chi2.sf(stat, df))
        out["tli"] = float((m0 - mm) / (m0 - 1 / nm))
        rmsea = float(np.sqrt(max(chisq / (df * n) - 1 / (n - 1), 0.0)))
        out["rmsea"] = rmsea
        out["rmsea_low"], out["rmsea_high"] = _psych_rmsea_ci(stat, chisq, df, n, rmsea)
        out["bic"] = float(chisq - df * np.log(n))
    else:
        out.update(p=np.nan, tli=np.nan, rmsea=np.nan, rmsea_low=np.nan, rmsea_high=np.nan, bic=np.nan)
    return out


def _variance_accounted(loadings: np.ndarray, phi: np.ndarray, total: float) -> dict:
    ss = np.diag(phi @ loadings.T @ loadings).copy()
    return dict(ss_loadings=ss, proportion_var=ss / total, cumulative_var=np.cumsum(ss / total),
                proportion_explained=ss / ss.sum(), cumulative_proportion=np.cumsum(ss / ss.sum()))


@dataclass(frozen=True)
class EFAResult:
    """An exploratory factor solution (R: ``psych::fa``).

    ``loadings`` is the p x k pattern matrix, ``phi`` the factor correlations
    (identity for orthogonal or no rotation), ``structure`` = loadings @ phi.
    Per factor: ``ss_loadings`` = diag(Phi L'L), ``proportion_var`` = ss / p,
    ``cumulative_var``, ``proportion_explained`` = ss / sum(ss),
    ``cumulative_proportion`` (psych's ``Vaccounted``). Fit statistics as
    psych's ``factor.stats`` (see :func:`efa`). Factors come sorted as psych
    sorts them (decreasing ss_loadings, signs making column sums positive)
    until :meth:`reorder` is applied.
    """

    items: tuple[str, ...]
    factors: tuple[str, ...]
    extraction: str
    rotation: str
    n: int
    n_factors: int
    loadings: np.ndarray
    phi: np.ndarray
    communality: np.ndarray
    uniqueness: np.ndarray
    ss_loadings: np.ndarray
    proportion_var: np.ndarray
    cumulative_var: np.ndarray
    proportion_explained: np.ndarray
    cumulative_proportion: np.ndarray
    objective: float
    chi2: float
    df: float
    p: float
    tli: float
    rmsea: float
    rmsea_low: float
    rmsea_high: float
    bic: float
    null_chi2: float
    null_df: float
    converged: bool

    @property
    def structure(self) -> np.ndarray:
        return self.loadings @ self.phi

    def loadings_frame(self) -> pd.DataFrame:
        """Pattern loadings as a DataFrame (index items, columns factor names)."""
        return pd.DataFrame(self.loadings, index=list(self.items), columns=list(self.factors))

    def reorder(self, order: Sequence[int], signs: Sequence[float] | None = None,
                names: Sequence[str] | None = None) -> "EFAResult":
        """The same solution with factors permuted (``order[j]`` = old column at new position j) and reflected.

        Per-factor variance measures are recomputed in the new order
        (cumulative sums follow it); factor names default to F1..Fk.
        """
        order = [int(j) for j in order]
        if sorted(order) != list(range(self.n_factors)):
            raise ValueError(f"order must be a permutation of 0..{self.n_factors - 1}, got {order}.")
        s = np.ones(self.n_factors) if signs is None else np.asarray(signs, dtype=float)
        if s.shape != (self.n_factors,) or not np.all(np.abs(s) == 1):
            raise ValueError(f"signs must be {self.n_factors} values of +1 or -1, got {signs!r}.")
        loadings = self.loadings[:, order] * s
        phi = self.phi[np.ix_(order, order)] * np.outer(s, s)
        names = tuple(names) if names is not None else tuple(f"F{j + 1}" for j in range(self.n_factors))
        return replace(self, loadings=loadings, phi=phi, factors=names,
                       **_variance_accounted(loadings, phi, len(self.items)))


def efa(items, n_factors: int, extraction: str = "minres", rotation: str = "oblimin") -> EFAResult:
    """Exploratory factor analysis of the item correlation matrix, as ``psych::fa``.

    Extraction (psych ``fm``): ``minres`` (default; unweighted least squares,
    Harman & Jones, 1966), ``ml`` (maximum likelihood, the factanal objective)
    or ``principal`` (principal components, psych::principal). Rotation:
    ``oblimin`` (default, GPArotation::oblimin, gamma 0), ``promax`` (psych's
    Kaiser-normalised Promax, power 4), ``geomin`` (GPArotation::geominQ, delta
    .01), ``varimax`` (stats::varimax) or ``none``; a rotation is the same for
    every extraction (so ``principal`` + ``promax`` is psych::fa's Kaiser-normalised
    Promax, not psych::principal's stats::promax). Computation starts from the
    correlation matrix, so it costs the same for any n. Sign and order as psych:
    each factor's loadings sum to a positive number and factors are sorted by
    decreasing ``ss_loadings``; use :func:`match_factors` to align them to
    subscales.

    Fit statistics (all extractions; psych computes them for every ``fm``):
    ``chi2 = F (n - 1 - (2p + 5)/6 - 2k/3)`` with ``F`` the ML discrepancy of the
    model correlation matrix, ``df = p(p-1)/2 - pk + k(k-1)/2``, ``tli``,
    ``rmsea`` with 90% interval ``rmsea_low``/``rmsea_high``, ``bic = chi2 - df ln n``.

    Parameters
    ----------
    items : DataFrame / array (respondents x items, reverse-keyed) or ItemMoments.
    n_factors : number of factors, 1 <= k < p.
    extraction : one of :data:`EXTRACTIONS`.
    rotation : one of :data:`ROTATIONS` (ignored for one factor).

    Returns
    -------
    EFAResult

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> f = rng.normal(size=(500, 1))
    >>> x = f @ np.full((1, 5), 0.8) + rng.normal(scale=0.6, size=(500, 5))
    >>> res = efa(x, 1, extraction="ml")
    >>> res.loadings[:, 0].round(2), int(res.df)
    (array([0.81, 0.79, 0.79, 0.81, 0.77]), 5)
    """
    if extraction not in EXTRACTIONS:
        raise ValueError(f"extraction must be one of {', '.join(EXTRACTIONS)}; got {extraction!r}.")
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {', '.join(ROTATIONS)}; got {rotation!r}.")
    m = item_moments(items)
    with _one_blas_thread():
        p = m.n_items
        if isinstance(n_factors, (bool, np.bool_)) or not isinstance(n_factors, (int, np.integer)) \
                or not 1 <= n_factors < p:
            raise ValueError(f"n_factors must be an integer from 1 to {p - 1} (fewer than the {p} items); "
                             f"got {n_factors!r}.")
        k = int(n_factors)
        r = m.corr
        _inverse(r, m.items)
        loadings, phi, converged = _factor_analyzer_solution(r, k, extraction, rotation)
        # psych's conventions: positive column sums, factors by decreasing variance accounted for
        signs = np.sign(loadings.sum(axis=0))
        signs[signs == 0] = 1
        loadings = loadings * signs
        phi = phi * np.outer(signs, signs)
        ss = np.diag(phi @ loadings.T @ loadings)
        order = np.argsort(-ss, kind="stable")
        loadings, phi = loadings[:, order], phi[np.ix_(order, order)]
        communality = np.einsum("ij,jk,ik->i", loadings, phi, loadings)
        fit = _efa_fit_statistics(r, loadings, phi, m.n)
        return EFAResult(
            items=m.items, factors=tuple(f"F{j + 1}" for j in range(k)), extraction=extraction,
            rotation=rotation if k > 1 else "none", n=m.n, n_factors=k, loadings=loadings, phi=phi,
            communality=communality, uniqueness=1 - communality,
            **_variance_accounted(loadings, phi, p), **fit, converged=converged,
        )


# ------------------------------------------------------------- factor matching
def congruence(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tucker's (1951) congruence coefficients between the columns of x (p x k) and y (p x s).

    ``phi(x, y) = sum_i x_i y_i / sqrt(sum_i x_i^2 sum_i y_i^2)`` (psych::factor.congruence).

    Examples
    --------
    >>> congruence(np.array([[1.0], [1.0], [0.0]]), np.array([[1.0], [0.0], [0.0]])).round(3)
    array([[0.707]])
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if y.ndim == 1:
        y = y[:, None]
    num = x.T @ y
    den = np.sqrt(np.outer((x ** 2).sum(axis=0), (y ** 2).sum(axis=0)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


@dataclass(frozen=True)
class FactorMatch:
    """How factors map to theoretical subscales.

    ``order[j]``: the original factor (column) placed at new position j;
    ``signs[j]``: its reflection (+1/-1); ``subscale[j]``: the subscale matched
    to new position j (None for surplus factors); ``congruence[j]``: Tucker's
    coefficient of the (reflected) factor with its subscale (NaN if unmatched);
    ``congruence_matrix``: original factors x subscales, unreflected.
    """

    subscales: tuple[str, ...]
    order: tuple[int, ...]
    signs: tuple[float, ...]
    subscale: tuple[str | None, ...]
    congruence: tuple[float, ...]
    congruence_matrix: np.ndarray


def match_factors(loadings, subscale_of_item, subscales: Sequence[str] | None = None) -> FactorMatch:
    """Match factors one-to-one to theoretical subscales by Tucker's congruence.

    The target of a subscale is its indicator vector (1 for its items, 0
    otherwise). Factors and subscales are paired to maximise the summed
    absolute congruence (Hungarian assignment, ``scipy.optimize.linear_sum_assignment``);
    a factor is reflected when its congruence is negative, so that the matched
    subscale's loadings are positive. Matched factors are placed in subscale
    order; surplus factors follow in their original order, reflected to a
    positive column sum. With fewer factors than subscales some subscales stay
    unmatched.

    Parameters
    ----------
    loadings : DataFrame (index = items) or 2-D array (p x k).
    subscale_of_item : mapping item -> subscale (needs a DataFrame), or a sequence
        of subscales aligned with the rows.
    subscales : subscale order; default: order of first appearance.

    Examples
    --------
    >>> L = np.array([[0.1, 0.7], [0.0, 0.6], [-0.8, 0.1], [-0.7, 0.0]])
    >>> mt = match_factors(L, ["anx", "anx", "avo", "avo"])
    >>> mt.order, mt.signs, mt.subscale
    ((1, 0), (1.0, -1.0), ('anx', 'avo'))
    """
    if isinstance(loadings, pd.DataFrame):
        rows = [str(i) for i in loadings.index]
        lmat = loadings.to_numpy(dtype=float)
    else:
        lmat = np.asarray(loadings, dtype=float)
        rows = None
    if lmat.ndim != 2:
        raise ValueError(f"loadings must be a 2-D matrix (items x factors), got shape {lmat.shape}.")
    if isinstance(subscale_of_item, Mapping):
        if rows is None:
            raise ValueError("A mapping item -> subscale needs loadings as a DataFrame indexed by item.")
        missing = [i for i in rows if i not in subscale_of_item]
        if missing:
            raise ValueError(f"No subscale given for item(s) {missing}.")
        labels = [subscale_of_item[i] for i in rows]
    else:
        labels = list(subscale_of_item)
    if len(labels) != lmat.shape[0]:
        raise ValueError(f"Got {len(labels)} subscale labels for {lmat.shape[0]} items.")
    if subscales is None:
        subscales = list(dict.fromkeys(lab for lab in labels if lab is not None))
    subscales = tuple(subscales)
    unknown = sorted({str(lab) for lab in labels if lab is not None and lab not in subscales})
    if unknown:
        raise ValueError(f"Subscale(s) {unknown} are not in the subscale list {list(subscales)}.")
    target = np.array([[lab == s for s in subscales] for lab in labels], dtype=float)
    c = congruence(lmat, target)
    k = lmat.shape[1]
    rows_i, cols_j = optimize.linear_sum_assignment(-np.abs(c))
    by_subscale = dict(zip(cols_j.tolist(), rows_i.tolist()))
    order, signs, matched, coef = [], [], [], []
    for j, s in enumerate(subscales):
        if j in by_subscale:
            f = by_subscale[j]
            sign = -1.0 if c[f, j] < 0 else 1.0
            order.append(f)
            signs.append(sign)
            matched.append(s)
            coef.append(float(sign * c[f, j]))
    for f in range(k):
        if f not in order:
            total = lmat[:, f].sum()
            order.append(f)
            signs.append(-1.0 if total < 0 else 1.0)
            matched.append(None)
            coef.append(np.nan)
    return FactorMatch(subscales=subscales, order=tuple(order), signs=tuple(signs),
                       subscale=tuple(matched), congruence=tuple(coef), congruence_matrix=c)


# ------------------------------------------------------------------------- CFA
#: Columns of ``cfa_fit.csv`` (lavaan ``fitMeasures`` names in snake_case; scaled and robust
#: measures NaN for ``ml``).
CFA_FIT_COLUMNS = (
    "instrument", "model", "estimator", "missing", "n", "n_excluded", "npar", "chi2", "df", "p", "cfi", "tli",
    "rmsea", "rmsea_low", "rmsea_high", "srmr", "chi2_scaled", "df_scaled", "p_scaled", "scaling_factor",
    "cfi_scaled", "tli_scaled", "rmsea_scaled", "cfi_robust", "tli_robust", "rmsea_robust", "baseline_chi2",
    "baseline_df", "loglik", "aic", "bic", "converged",
)
#: Columns of ``cfa_loadings.csv`` and ``cfa_thresholds.csv``.
CFA_LOADING_COLUMNS = ("instrument", "model", "factor", "item", "loading", "se", "std_loading", "residual_variance")
CFA_THRESHOLD_COLUMNS = ("instrument", "model", "item", "threshold", "estimate", "se")


def cfa(items, model: Mapping[str, Sequence[str]], estimator: str = "ml", missing: str = "listwise"):
    """Confirmatory factor analysis of a simple-structure model, as ``lavaan::cfa``, by the engine.

    The model ``{factor: [item, ...]}`` has each item on one factor, the first
    item of each factor fixed to 1 (lavaan's marker), correlated factors and free
    residual variances. Estimation, standard errors, tests and fit measures are
    :func:`attachment_pipeline.sem.fit`'s (ML, MLR or WLSMV; listwise, FIML or
    pairwise): see that module for the formulas and the agreement with lavaan.

    Parameters
    ----------
    items : DataFrame (columns = item names; extra columns ignored), or
        :class:`ItemMoments` (ML on complete data only).
    model : ``{factor: [item, ...]}``; one factor gives the one-factor model.
    estimator, missing : see :func:`attachment_pipeline.sem.fit`.

    Returns
    -------
    attachment_pipeline.sem.SEMResult

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> f = rng.normal(size=(300, 1))
    >>> x = pd.DataFrame(f @ np.full((1, 4), 0.7) + rng.normal(scale=0.7, size=(300, 4)), columns=list("abcd"))
    >>> res = cfa(x, {"g": ["a", "b", "c", "d"]})
    >>> res.df, res.fit["npar"], res.estimates.query("op == '=~'").est.round(2).tolist(), round(res.chi2, 2)
    (2, 8, [1.0, 1.2, 1.34, 1.35], 2.44)
    """
    from . import sem
    from .sem.syntax import simple_structure

    syntax = simple_structure(model)
    names = [str(c) for cols in model.values() for c in cols]
    if isinstance(items, ItemMoments):
        if estimator != "ml" or missing != "listwise":
            raise ValueError("ItemMoments hold complete-data moments: use estimator ml with missing listwise, "
                             "or pass the item DataFrame.")
        m = items.subset(names)
        return sem.fit(syntax, [("1", m.n, m.mean, m.cov_ml)])
    if not isinstance(items, pd.DataFrame):
        raise ValueError("cfa needs a DataFrame with named item columns (or ItemMoments) so that the model "
                         "can name its items.")
    return sem.fit(syntax, items, estimator=estimator, missing=missing, ordered=estimator == "wlsmv")


def cfa_rows(res, instrument_name: str, model_name: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """One fitted CFA as its ``cfa_fit.csv`` row and its ``cfa_loadings.csv`` / ``cfa_thresholds.csv`` rows."""
    row = {"instrument": instrument_name, "model": model_name, "estimator": res.estimator, "missing": res.missing,
           "n_excluded": res.n_excluded, "converged": res.converged}
    for k in CFA_FIT_COLUMNS:
        if k not in row:
            row[k] = res.fit.get(k, np.nan)
    e = res.estimates
    e = e[e.group == 0]
    resid = {r.lhs: r.est for r in e[(e.op == "~~") & (e.lhs == e.rhs)].itertuples()}
    lo = e[e.op == "=~"]
    loadings = pd.DataFrame({"factor": lo.lhs.to_numpy(), "item": lo.rhs.to_numpy(), "loading": lo.est.to_numpy(),
                             "se": lo.se.to_numpy(), "std_loading": lo.std_all.to_numpy(),
                             "residual_variance": [resid.get(i, np.nan) for i in lo.rhs]})
    factors = list(dict.fromkeys(lo.lhs))
    pairs = e[(e.op == "~~") & e.lhs.isin(factors) & e.rhs.isin(factors) & (e.lhs != e.rhs)]
    pair_rows = pd.DataFrame({"factor": [f"{a}~~{b}" for a, b in zip(pairs.lhs, pairs.rhs)],
                              "item": [f"{a}~~{b}" for a, b in zip(pairs.lhs, pairs.rhs)],
                              "loading": pairs.est.to_numpy(), "se": pairs.se.to_numpy(),
                              "std_loading": pairs.std_all.to_numpy(), "residual_variance": np.nan})
    loadings = pd.concat([loadings, pair_rows], ignore_index=True) if len(pair_rows) else loadings
    loadings.insert(0, "model", model_name)
    loadings.insert(0, "instrument", instrument_name)
    th = e[e.op == "|"]
    thresholds = pd.DataFrame({"instrument": instrument_name, "model": model_name, "item": th.lhs.to_numpy(),
                               "threshold": th.rhs.to_numpy(), "estimate": th.est.to_numpy(),
                               "se": th.se.to_numpy()}, columns=list(CFA_THRESHOLD_COLUMNS))
    return row, loadings[list(CFA_LOADING_COLUMNS)], thresholds


# ----------------------------------------------------------- tables for the CSVs
def _instrument_items(items, instrument) -> ItemMoments:
    cols = list(instrument.item_columns())
    if isinstance(items, ItemMoments):
        return items.subset(cols)
    if isinstance(items, pd.DataFrame):
        missing = [c for c in cols if c not in items.columns]
        if missing:
            raise ValueError(f"Instrument {instrument.name}: item column(s) {missing} are missing from the "
                             "item matrix (expected <instrument>_<n> columns).")
        return item_moments(items.loc[:, cols])
    raise ValueError("Pass the items as a DataFrame with <instrument>_<n> columns or as ItemMoments.")


def _subscale_of_item(instrument) -> dict[str, str]:
    return {f"{instrument.name}_{it.n}": it.subscale for it in instrument.items}


def factorability_table(items, instrument, pa_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """``factorability.csv``: long table ``instrument, measure, item, value`` (see module docstring).

    Examples
    --------
    >>> from attachment_pipeline.instruments import load_instrument
    >>> ins = load_instrument("minmax", "forced_choice")
    >>> rng = np.random.default_rng(0)
    >>> x = pd.DataFrame(rng.normal(size=(200, 1)) + rng.normal(size=(200, 11)), columns=ins.item_columns())
    >>> t = factorability_table(x, ins)
    >>> t.loc[t.measure == "kmo", "value"].round(3).tolist(), int((t.measure == "kmo_item").sum())
    ([0.947], 11)
    """
    m = _instrument_items(items, instrument)
    res = factorability(m)
    rows = [(k, None, float(getattr(res, k))) for k in
            ("n", "n_excluded", "kmo", "bartlett_chi2", "bartlett_df", "bartlett_p")]
    per = kmo_items(m)
    rows += [("kmo_item", i, float(v)) for i, v in zip(per["item"], per["kmo_item"])]
    if pa_table is not None:
        rows += [("n_factors_parallel", None, float(suggested_factors(pa_table, "fa"))),
                 ("n_components_parallel", None, float(suggested_factors(pa_table, "pc"))),
                 ("n_factors_theoretical", None, float(len(instrument.subscales)))]
    out = pd.DataFrame(rows, columns=["measure", "item", "value"])
    out.insert(0, "instrument", instrument.name)
    return out


def parallel_table(items, instrument, n_iter: int = 100, quantile: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """``parallel_analysis.csv``: :func:`parallel_analysis` plus ``retain_fa``, ``retain_pc``, ``theoretical``."""
    m = _instrument_items(items, instrument)
    pa = parallel_analysis(m, n_iter=n_iter, quantile=quantile, seed=seed)
    nf, nc = suggested_factors(pa, "fa"), suggested_factors(pa, "pc")
    pa["retain_fa"] = pa["factor"] <= nf
    pa["retain_pc"] = pa["factor"] <= nc
    pa["theoretical"] = pa["factor"] <= len(instrument.subscales)
    pa.insert(0, "instrument", instrument.name)
    return pa


def efa_tables(items, instrument, n_factors: int | None = None, extraction: str = "minres",
               rotation: str = "oblimin", low: float = LOW_LOADING,
               cross: float = CROSS_LOADING) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``efa_loadings.csv`` and ``efa_fit.csv`` for one instrument (layout in the module docstring).

    ``n_factors`` defaults to the instrument's number of subscales. Factors are
    matched to the subscales with :func:`match_factors` before tabulating.
    """
    m = _instrument_items(items, instrument)
    k = len(instrument.subscales) if n_factors is None else n_factors
    res = efa(m, k, extraction=extraction, rotation=rotation)
    sub = _subscale_of_item(instrument)
    match = match_factors(res.loadings_frame(), sub, instrument.subscales)
    res = res.reorder(match.order, match.signs)
    factor_of_subscale = {s: res.factors[j] for j, s in enumerate(match.subscale) if s is not None}
    lo = pd.DataFrame(res.loadings, columns=list(res.factors))
    lo.insert(0, "item", list(res.items))
    lo["communality"] = res.communality
    lo["subscale"] = [sub[i] for i in res.items]
    lo["matched_factor"] = [factor_of_subscale.get(sub[i]) for i in res.items]
    own = np.full(len(res.items), np.nan)
    other = np.full(len(res.items), np.nan)
    for r, f in enumerate(lo["matched_factor"]):
        if f is not None:
            j = res.factors.index(f)
            own[r] = res.loadings[r, j]
            rest = np.delete(res.loadings[r], j)
            other[r] = np.abs(rest).max() if rest.size else 0.0
    has = ~np.isnan(own)
    lo["flag_low"] = pd.array(np.where(has, own < low, False), dtype="boolean")
    lo["flag_cross"] = pd.array(np.where(has, other > cross, False), dtype="boolean")
    lo.loc[~has, ["flag_low", "flag_cross"]] = pd.NA
    lo.insert(0, "rotation", res.rotation)
    lo.insert(0, "extraction", res.extraction)
    lo.insert(0, "instrument", instrument.name)

    rows = []
    for measure in ("ss_loadings", "proportion_var", "cumulative_var", "proportion_explained",
                    "cumulative_proportion"):
        rows += [(measure, f, float(v)) for f, v in zip(res.factors, getattr(res, measure))]
    rows += [("congruence", f, float(c)) for f, c in zip(res.factors, match.congruence)]
    rows += [("phi", f"{a}~~{b}", float(res.phi[i, j]))
             for i, a in enumerate(res.factors) for j, b in enumerate(res.factors) if j > i]
    for measure in ("n", "n_factors", "objective", "chi2", "df", "p", "tli", "rmsea", "rmsea_low",
                    "rmsea_high", "bic", "null_chi2", "null_df", "converged"):
        rows.append((measure, None, float(getattr(res, measure))))
    fit = pd.DataFrame(rows, columns=["measure", "factor", "value"])
    fit.insert(0, "rotation", res.rotation)
    fit.insert(0, "extraction", res.extraction)
    fit.insert(0, "instrument", instrument.name)
    return lo, fit


def cfa_tables(items, instrument, one_factor: bool = True, estimator: str = "ml", missing: str = "listwise"
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``cfa_fit.csv``, ``cfa_loadings.csv`` and ``cfa_thresholds.csv`` for one instrument.

    ``theoretical``: one factor per subscale (named as the subscale), factors
    correlated, each item on its subscale; with ``one_factor`` (and more than one
    subscale) also ``one_factor``: every item on one factor ``general`` (for the
    chi-square difference test of H7). ``items`` is the DataFrame of keyed items
    (``<instrument>_<n>`` columns; NaN = missing). Thresholds exist for
    ``wlsmv`` only (the table is empty otherwise).
    """
    cols = list(instrument.item_columns())
    if isinstance(items, pd.DataFrame):
        absent = [c for c in cols if c not in items.columns]
        if absent:
            raise ValueError(f"Instrument {instrument.name}: item column(s) {absent} are missing from the "
                             "item matrix (expected <instrument>_<n> columns).")
        items = items.loc[:, cols]
    models = {"theoretical": {s: [f"{instrument.name}_{n}" for n in instrument.subscale_items(s)]
                              for s in instrument.subscales}}
    if one_factor and len(instrument.subscales) > 1:
        models["one_factor"] = {"general": cols}
    fit_rows, load_frames, th_frames = [], [], []
    for name, spec in models.items():
        res = cfa(items, spec, estimator=estimator, missing=missing)
        row, lo, th = cfa_rows(res, instrument.name, name)
        fit_rows.append(row)
        load_frames.append(lo)
        th_frames.append(th)
    return (pd.DataFrame(fit_rows, columns=list(CFA_FIT_COLUMNS)), pd.concat(load_frames, ignore_index=True),
            pd.concat(th_frames, ignore_index=True))
