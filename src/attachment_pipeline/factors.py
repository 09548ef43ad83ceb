"""Factor structure of an instrument, agreeing with R ``psych`` and ``lavaan``.

An instrument's items are analysed together. The item matrix is a pandas
DataFrame (or numpy array), one row per respondent, one column per item, float
values, NaN = missing, **already reverse-keyed**. Everything here works from the
item means, covariances and correlations, computed once in O(n p^2) by
:func:`item_moments`; pass the resulting :class:`ItemMoments` instead of the
DataFrame to every function to reuse it (the cost of all later steps then does
not depend on n). How missing answers are handled is part of the moments
(``ItemMoments.missing``): ``listwise`` (a respondent with any missing item is
left out and counted in ``n_excluded``) or ``pairwise`` (each correlation from
the respondents who answered both items, psych's default ``use = "pairwise"``
for ``KMO``, ``cortest.bartlett``, ``fa`` and ``fa.parallel``; a matrix that is
not positive definite is smoothed as ``psych::cor.smooth``). Moments estimated
elsewhere (e.g. an EM covariance) enter through the same class with their own
``missing`` name and ``n``. The CFA uses listwise moments.

Public entry points
-------------------
- :func:`factorability` -- Kaiser-Meyer-Olkin measure of sampling adequacy
  (``kmo``) and Bartlett's test of sphericity; :func:`kmo_items` per item.
- :func:`parallel_analysis` -- Horn's parallel analysis (factor and component
  eigenvalues, observed and 95th percentile of random normal data; factor
  eigenvalues with one-factor minres communalities on the diagonal, psych's
  default ``SMC = FALSE``, or SMCs); :func:`random_eigenvalues` draws the random
  ones, :func:`one_factor_communalities` fits a stack of one-factor models at
  once and :func:`suggested_factors` applies psych's retention rule.
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
``factorability.csv`` (long): ``instrument, missing, measure, item, value``
(``missing``: ``listwise`` or ``pairwise``). Measures ``n`` (listwise: complete
respondents; pairwise: respondents with any answer, psych's ``nrow(x)``),
``n_excluded``, ``n_pairs_min`` (fewest respondents behind a correlation),
``smoothed`` (1 if the correlation matrix was not positive definite and was
smoothed), ``min_eigen`` (its smallest eigenvalue before smoothing), ``kmo``,
``bartlett_chi2``, ``bartlett_df``,
``bartlett_p`` (``item`` empty), ``kmo_item`` (one row per item) and, when a
parallel-analysis table is given, ``n_factors_parallel`` (psych's ``nfact``),
``n_components_parallel`` (psych's ``ncomp``) and ``n_factors_theoretical``
(the instrument's number of subscales).

``parallel_analysis.csv``: ``instrument, missing, fa_diagonal, factor,
eigen_observed_fa, eigen_random_fa, eigen_observed_pc, eigen_random_pc,
retain_fa, retain_pc, theoretical`` -- one row per factor number 1..p;
``fa_diagonal`` is ``one_factor_communality`` (psych's ``SMC = FALSE``, the
default) or ``smc``: what the factor eigenvalues had on the diagonal of R;
``retain_*`` marks the factors
(components) psych's rule retains; ``theoretical`` marks factor numbers up to the
instrument's number of subscales.

``efa_loadings.csv``: ``instrument, missing, extraction, rotation, item, F1..Fk,
communality, subscale, matched_factor, flag_low, flag_cross``. Factors are
matched one-to-one to the theoretical subscales and ordered as the subscales
(F1 = first subscale), sign-aligned so that the matched subscale's loadings are
positive; unmatched factors (k > number of subscales) follow, ordered as psych
orders them. ``flag_low``: the (signed) loading on the item's own factor is
below ``low`` (.40); ``flag_cross``: the largest absolute loading on another
factor exceeds ``cross`` (.30). Items of an unmatched subscale have no
``matched_factor`` and NA flags.

``efa_fit.csv`` (long): ``instrument, missing, extraction, rotation, measure,
factor, value``. Per factor (``factor`` = F1..Fk, in the matched order):
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

psych's defaults with missing answers (``tests/r/psych_defaults_reference.R``,
``tests/test_psych_defaults.py``), pairwise on the same two files: KMO 1e-15,
Bartlett chi2 1e-15 (relative, n = nrow(x)), EFA loadings 8e-7 and fit 1e-9
(n.obs = nrow(x)); a non-positive-definite pairwise matrix: cor.smooth 5e-15,
KMO 1e-15, fa of the smoothed matrix chi2 2e-7 (relative). Parallel analysis
with ``SMC = FALSE``: observed factor eigenvalues 2e-8 (pairwise) and 1.1e-6
(listwise, where psych's optim stops 3e-6 short of the minres solution; from
psych's own communalities the eigenvalues agree to 4e-14); random eigenvalues
(means and 95th percentiles) within Monte-Carlo error of psych's 200 simulated
data sets.

References
----------
Kaiser, H. F. (1970). A second generation little jiffy. Psychometrika, 35, 401-415.
Bartlett, M. S. (1951). The effect of standardization on a chi square
approximation in factor analysis. Biometrika, 38, 337-344.
Horn, J. L. (1965). A rationale and test for the number of factors in factor
analysis. Psychometrika, 30, 179-185.
Humphreys, L. G., & Ilgen, D. R. (1969). Note on a criterion for the number of
common factors. Educational and Psychological Measurement, 29, 571-578.
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

from .inference import noncentrality_root, smc

try:  # installed with scikit-learn (a factor_analyzer dependency)
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None

__all__ = [
    "EXTRACTIONS",
    "ROTATIONS",
    "ItemMoments",
    "item_moments",
    "efa_moments",
    "Factorability",
    "factorability",
    "kmo_items",
    "smc",
    "MISSING_METHODS",
    "one_factor_communalities",
    "parallel_analysis",
    "random_eigenvalues",
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
#: How item moments can be made from data with missing answers (``factors.missing``).
MISSING_METHODS = ("listwise", "pairwise")


@dataclass(frozen=True)
class ItemMoments:
    """Item means, covariances and correlations: the sufficient statistics of every analysis here.

    ``cov`` divides by ``n - 1`` (R's ``cov``) and ``cov_ml`` by ``n`` (the
    maximum-likelihood covariance lavaan fits). ``corr`` is the correlation
    matrix every correlation-based analysis (KMO, Bartlett, parallel analysis,
    EFA) uses; when not given it is the correlation matrix of ``cov``.

    ``missing`` says how the moments were made from data with missing answers:

    - ``"listwise"``: from the respondents who answered every item; ``n`` are
      those respondents and ``n_excluded`` the others.
    - ``"pairwise"``: each covariance and correlation from the respondents who
      answered both items (R ``cov``/``cor(use = "pairwise")``: pair-specific
      means and standard deviations), means and variances from everyone who
      answered the item; ``n`` counts the respondents with at least one answer
      (psych's ``nrow(x)``, the n of its fit statistics), ``n_excluded`` those
      without any, ``n_pairs`` the per-pair counts. ``cov`` is the pairwise
      covariance matrix and ``corr`` is **not** ``cov2cor(cov)``.
    - any other name (e.g. ``"fiml"``) for moments estimated elsewhere (an EM
      covariance) and passed in with their own ``n``.

    ``smoothed`` is True when the correlation matrix was not positive definite
    and was made so by psych's ``cor.smooth`` (``min_eigen`` keeps its smallest
    eigenvalue before smoothing). :attr:`description` says all of this in words.
    """

    items: tuple[str, ...]
    n: int
    n_excluded: int
    mean: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    corr: np.ndarray | None = field(default=None, repr=False)
    missing: str = "listwise"
    n_pairs: np.ndarray | None = field(default=None, repr=False)
    smoothed: bool = False
    min_eigen: float = float("nan")

    def __post_init__(self):
        cov = np.array(self.cov, dtype=float)
        p = len(self.items)
        if cov.shape != (p, p) or np.shape(self.mean) != (p,):
            raise ValueError(f"ItemMoments of {p} items needs a {p} x {p} covariance and {p} means; "
                             f"got shapes {cov.shape} and {np.shape(self.mean)}.")
        if not (isinstance(self.n, (int, np.integer)) and self.n > 1):
            raise ValueError(f"ItemMoments needs n > 1 respondents, got {self.n!r}.")
        if not isinstance(self.missing, str) or not self.missing:
            raise ValueError(f"ItemMoments.missing must name how the moments were made, got {self.missing!r}.")
        if self.corr is None:
            sd = np.sqrt(np.diag(cov))
            corr = cov / np.outer(sd, sd)
        else:
            corr = np.array(self.corr, dtype=float)
            if corr.shape != (p, p):
                raise ValueError(f"ItemMoments of {p} items needs a {p} x {p} correlation matrix, "
                                 f"got shape {corr.shape}.")
        np.fill_diagonal(corr, 1.0)
        corr = (corr + corr.T) / 2
        n_pairs = (np.full((p, p), int(self.n)) if self.n_pairs is None
                   else np.array(self.n_pairs, dtype=np.int64))
        if n_pairs.shape != (p, p):
            raise ValueError(f"ItemMoments.n_pairs must be {p} x {p}, got shape {n_pairs.shape}.")
        mean = np.array(self.mean, dtype=float)
        for a in (cov, corr, mean, n_pairs):
            a.setflags(write=False)
        object.__setattr__(self, "cov", cov)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "corr", corr)
        object.__setattr__(self, "n_pairs", n_pairs)
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "smoothed", bool(self.smoothed))
        object.__setattr__(self, "min_eigen", float(self.min_eigen))

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def cov_ml(self) -> np.ndarray:
        """Covariance with divisor n (lavaan's sample covariance for ML)."""
        return self.cov * ((self.n - 1) / self.n)

    @property
    def description(self) -> str:
        """How the moments were made, in words (for notes in tables and reports).

        >>> x = pd.DataFrame({"a": [1, 2, 3, 4, np.nan], "b": [2, 1, 4, 3, 5], "c": [1, 3, 2, 5, 4]})
        >>> item_moments(x).description
        'listwise: 4 respondents who answered every item (1 excluded)'
        >>> item_moments(x, "pairwise").description
        'pairwise-complete correlations: 5 respondents with any answer (0 excluded), 4 to 5 per pair'
        """
        if self.missing == "listwise":
            text = f"listwise: {self.n} respondents who answered every item ({self.n_excluded} excluded)"
        elif self.missing == "pairwise":
            off = self.n_pairs[~np.eye(self.n_items, dtype=bool)]
            lo, hi = (int(off.min()), int(off.max())) if off.size else (self.n, self.n)
            text = (f"pairwise-complete correlations: {self.n} respondents with any answer "
                    f"({self.n_excluded} excluded), {lo} to {hi} per pair")
        else:
            text = f"{self.missing}: n = {self.n} ({self.n_excluded} excluded)"
        if self.smoothed:
            text += (f"; not positive definite (smallest eigenvalue {self.min_eigen:.3g}), "
                     "smoothed as psych::cor.smooth")
        return text

    def subset(self, items: Sequence[str]) -> "ItemMoments":
        """The moments of some of the items (same respondents and ``n``), in the given order."""
        index = {name: j for j, name in enumerate(self.items)}
        missing = [c for c in items if c not in index]
        if missing:
            raise ValueError(
                f"Items {missing} are not among the analysed items ({', '.join(self.items)}); "
                "check the item names in the model or instrument."
            )
        idx = [index[c] for c in items]
        block = np.ix_(idx, idx)
        return ItemMoments(tuple(items), self.n, self.n_excluded, self.mean[idx], self.cov[block],
                           corr=self.corr[block], missing=self.missing, n_pairs=self.n_pairs[block],
                           smoothed=self.smoothed, min_eigen=self.min_eigen)


def _as_matrix(items, by_rows: bool = False) -> tuple[tuple[str, ...], np.ndarray]:
    """Item names and the item matrix (floats, NaN = missing) of a DataFrame or array, checked.

    ``by_rows``: a row-major matrix, filled column by column from a DataFrame (one copy of the
    data instead of pandas' column-major one and a row-major copy of it).
    """
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
        if by_rows:
            x = np.empty(items.shape)
            for j in range(items.shape[1]):
                x[:, j] = items.iloc[:, j].to_numpy(dtype=float, na_value=np.nan)
        else:
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


def item_moments(items, missing: str | None = None) -> ItemMoments:
    """Item means, covariances and correlations of an item matrix, computed once.

    ``missing="listwise"`` (default for data): respondents with any missing item
    are dropped (counted in ``n_excluded``); the covariance is
    ``S = sum_i (x_i - xbar)(x_i - xbar)' / (n - 1)`` and ``corr`` its
    correlation matrix.

    ``missing="pairwise"``: R's ``cor(x, use = "pairwise")``, which is what
    psych's ``KMO(x)``, ``cortest.bartlett(x)``, ``fa(x)`` and
    ``fa.parallel(x)`` use for raw data with missing answers. For items i, j
    and the ``n_ij`` respondents who answered both,
    ``r_ij = sum (x_i - xbar_i(ij))(x_j - xbar_j(ij)) / sqrt(sum (x_i - xbar_i(ij))^2 sum (x_j - xbar_j(ij))^2)``
    with the means ``xbar(ij)`` of those respondents (Pearson's r of the pair's
    complete cases); the covariance matrix is R's ``cov(x, use = "pairwise")``.
    ``n`` is the number of respondents with at least one answer: psych uses
    ``nrow(x)`` as the n of Bartlett's test, of fa's fit statistics and of the
    random data in fa.parallel (respondents without any answer, which psych
    would count, are left out here and counted in ``n_excluded``); ``n_pairs``
    holds every ``n_ij``. A pairwise matrix need not be positive definite: if
    its smallest eigenvalue is below machine epsilon it is smoothed exactly as
    ``psych::cor.smooth`` does (eigenvalues below 1e-12 set to 1e-10, rescaled
    to sum to p, back to a correlation matrix), ``smoothed`` is set and a
    warning says so; every analysis then uses the smoothed matrix (psych's fa
    smooths for its fit statistics; here KMO, Bartlett and the extraction see
    the same positive definite matrix).

    All sums are accumulated over blocks of rows (memory O(block x p) beyond the input).

    Parameters
    ----------
    items : DataFrame or 2-D array (respondents x items), or ItemMoments (returned as is).
    missing : ``"listwise"`` or ``"pairwise"`` (:data:`MISSING_METHODS`); None means
        listwise for data and "as made" for ItemMoments (a different explicit value
        for ItemMoments is an error).

    Returns
    -------
    ItemMoments

    Examples
    --------
    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, np.nan], "b": [2, 1, 4, 3, 5], "c": [1, 3, 2, 5, 4]})
    >>> m = item_moments(x)
    >>> m.n, m.n_excluded, m.corr[0, 1].round(3)
    (4, 1, np.float64(0.6))
    >>> mp = item_moments(x, "pairwise")       # R: cor(x, use = "pairwise")
    >>> mp.n, mp.n_excluded, mp.corr[0, 2].round(6), mp.corr[1, 2].round(6), mp.n_pairs[0, 1]
    (5, 0, np.float64(0.831522), np.float64(0.3), np.int64(4))
    """
    if isinstance(items, ItemMoments):
        if missing is not None and missing != items.missing:
            raise ValueError(f"These item moments were made {items.missing}; they cannot be used as "
                             f"{missing!r}. Compute them from the data with item_moments(items, {missing!r}).")
        return items
    missing = "listwise" if missing is None else missing
    if missing not in MISSING_METHODS:
        raise ValueError(f"missing must be one of {', '.join(MISSING_METHODS)} for item data; got {missing!r}.")
    names, x = _as_matrix(items)
    p = x.shape[1]
    if p < 2:
        raise ValueError(f"Factor analyses need at least 2 items, got {p} ({', '.join(names)}).")
    if missing == "pairwise":
        return _pairwise_moments(names, x)
    complete = ~np.isnan(x).any(axis=1)
    n = int(complete.sum())
    n_excluded = int(x.shape[0] - n)
    if n <= p:
        raise ValueError(
            f"Only {n} respondents answered all {p} items ({n_excluded} excluded for missing answers); "
            f"factor analyses need more complete respondents than items. With missing answers spread "
            f"over many items use factors.missing: pairwise."
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
    sd = np.sqrt(var)
    with _one_blas_thread():
        min_eigen = float(np.linalg.eigvalsh(cov / np.outer(sd, sd)).min())
    return ItemMoments(names, n, n_excluded, mean, cov, missing="listwise", min_eigen=min_eigen)


def _pairwise_moments(names: tuple[str, ...], x: np.ndarray) -> ItemMoments:
    """Pairwise-complete moments (see :func:`item_moments`), two passes over blocks of rows."""
    p = x.shape[1]
    anyone = ~np.isnan(x).all(axis=1)
    n = int(anyone.sum())
    n_excluded = int(x.shape[0] - n)
    if n <= p:
        raise ValueError(f"Only {n} respondents answered any of the {p} items; factor analyses need more "
                         "respondents than items.")
    count, total = np.zeros(p), np.zeros(p)
    for start in range(0, x.shape[0], _CHUNK_ROWS):
        block = x[start:start + _CHUNK_ROWS]
        count += (~np.isnan(block)).sum(axis=0)
        total += np.nansum(block, axis=0)
    few = [f"{names[j]} ({int(count[j])})" for j in np.nonzero(count < 3)[0]]
    if few:
        raise ValueError(f"Item(s) {', '.join(few)} were answered by fewer than 3 respondents; their "
                         "correlations are undefined. Drop them before the factor analyses.")
    centre = total / count  # item means; correlations do not depend on the centre, accuracy does
    pairs, sx, sxx, sxy = (np.zeros((p, p)) for _ in range(4))
    for start in range(0, x.shape[0], _CHUNK_ROWS):
        block = x[start:start + _CHUNK_ROWS]
        m = (~np.isnan(block)).astype(float)
        x0 = np.where(m > 0, block - centre, 0.0)
        pairs += m.T @ m           # n_ij
        sx += x0.T @ m             # [i, j]: sum of x_i over respondents answering i and j
        sxx += (x0 * x0).T @ m     # [i, j]: sum of x_i^2 over the same respondents
        sxy += x0.T @ x0           # cross products over respondents answering both
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = sxy - sx * sx.T / pairs              # (n_ij - 1) cov_ij
        ss = sxx - sx * sx / pairs                   # [i, j]: (n_ij - 1) var of item i within pair (i, j)
        corr = cross / np.sqrt(ss * ss.T)
        cov = cross / (pairs - 1)
    var = np.diag(cov)
    flat = [names[j] for j in np.nonzero(~(var > 1e-12 * max(1.0, float(np.abs(centre).max()) ** 2)))[0]]
    if flat:
        raise ValueError(
            f"Item(s) {flat} have no variance (everyone who answered gave the same answer); correlations "
            "with them are undefined. Drop them before the factor analyses."
        )
    bad = np.argwhere(np.triu(~np.isfinite(corr) | (pairs < 3), 1))
    if len(bad):
        i, j = bad[0]
        raise ValueError(
            f"Items {names[i]} and {names[j]} "
            + (f"were answered together by only {int(pairs[i, j])} respondent(s)" if pairs[i, j] < 3 else
               f"do not vary among the {int(pairs[i, j])} respondents who answered both")
            + f"; their pairwise correlation is undefined ({len(bad)} such pair(s)). "
            "Use factors.missing: listwise or drop one of the items."
        )
    corr = np.clip((corr + corr.T) / 2, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    cov = (cov + cov.T) / 2
    with _one_blas_thread():
        min_eigen = float(np.linalg.eigvalsh(corr).min())
        smoothed = min_eigen < np.finfo(float).eps
        if smoothed:
            warnings.warn(
                f"The pairwise-complete correlation matrix of {', '.join(names[:3])}{', ...' if p > 3 else ''} "
                f"is not positive definite (smallest eigenvalue {min_eigen:.3g}); it was smoothed as "
                "psych::cor.smooth does before the factor analyses.", UserWarning, stacklevel=3)
            corr = _smooth_corr(corr)
    return ItemMoments(names, n, n_excluded, centre, cov, corr=corr, missing="pairwise",
                       n_pairs=pairs.round().astype(np.int64), smoothed=smoothed, min_eigen=min_eigen)


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


def efa_moments(items: pd.DataFrame, missing: str = "pairwise", estimator: str = "ml") -> ItemMoments:
    """The correlations KMO, Bartlett, parallel analysis and the EFA of one instrument share.

    - ``estimator = "wlsmv"``: psych's polychoric correlations
      (:func:`attachment_pipeline.polychoric.psych_polychoric`, as ``psych::fa(cor = "poly")``),
      n = respondents with any answer;
    - ``missing = "fiml"``: the EM (saturated FIML) means and covariances of
      :func:`attachment_pipeline.sem.engine.fit_h1_fiml` -- the maximum-likelihood
      estimate of the correlations under MAR from every respondent who answered,
      the same H1 the FIML CFA is tested against; n = those respondents;
    - ``pairwise`` / ``listwise``: :func:`item_moments`.

    >>> x = pd.DataFrame(np.random.default_rng(1).normal(size=(50, 3)), columns=list("abc"))
    >>> x.iloc[0, 0] = np.nan
    >>> m = efa_moments(x, "fiml")
    >>> m.missing, m.n, m.n_excluded
    ('fiml', 50, 0)
    """
    if estimator == "wlsmv":
        from .polychoric import psych_polychoric
        frame = _as_matrix(items)[1]
        keep = ~np.isnan(frame).all(axis=1)
        pc = psych_polychoric(items.loc[keep] if isinstance(items, pd.DataFrame) else items[keep])
        names = tuple(str(c) for c in (items.columns if isinstance(items, pd.DataFrame) else pc.items))
        p = len(names)
        return ItemMoments(names, int(keep.sum()), int((~keep).sum()), np.zeros(p), pc.rho, corr=pc.rho,
                           missing="polychoric", smoothed=pc.smoothed)
    if missing != "fiml":
        return item_moments(items, missing)
    from .sem.engine import cached_group_data, fit_h1_fiml
    names, x = _as_matrix(items, by_rows=True)
    keep = ~np.isnan(x).all(axis=1)
    n = int(keep.sum())
    if n <= x.shape[1]:
        raise ValueError(f"Only {n} respondents answered any of the {x.shape[1]} items; the EM correlations "
                         "(FIML) need more respondents than items.")
    gd = cached_group_data(x if keep.all() else x[keep], names)
    flat = [nm for nm, v in zip(names, gd.item_variances) if not v > 0]
    if flat:
        raise ValueError(f"Item(s) {flat} have no variance (everyone who answered gave the same answer); "
                         "correlations with them are undefined. Drop them before the factor analyses.")
    means, covs, _, _ = fit_h1_fiml([gd])
    cov = covs[0] * n / (n - 1)
    return ItemMoments(names, n, int((~keep).sum()), means[0], cov, missing="fiml")


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
    missing: str = "listwise"
    n_pairs_min: int = 0
    smoothed: bool = False
    min_eigen: float = float("nan")


def _kmo(r: np.ndarray, items: Sequence[str]) -> tuple[float, np.ndarray]:
    q = _inverse(r, items)
    d = 1 / np.sqrt(np.diag(q))
    a = q * np.outer(d, d)  # cov2cor(R^-1): partial correlations up to sign
    np.fill_diagonal(a, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    r2, a2 = (r0 ** 2).sum(axis=0), (a ** 2).sum(axis=0)
    return float(r2.sum() / (r2.sum() + a2.sum())), r2 / (r2 + a2)


def factorability(items, missing: str | None = None) -> Factorability:
    """Kaiser-Meyer-Olkin measure of sampling adequacy and Bartlett's sphericity test.

    KMO (Kaiser, 1970) compares correlations with partial correlations:
    ``kmo = sum_{i!=j} r_ij^2 / (sum_{i!=j} r_ij^2 + sum_{i!=j} a_ij^2)``, where
    ``a_ij = -q_ij / sqrt(q_ii q_jj)`` and ``Q = R^-1`` (psych::KMO ``MSA``).
    Bartlett (1951): ``chi2 = -(n - 1 - (2p + 5) / 6) ln|R|`` on ``p(p - 1)/2``
    degrees of freedom (psych::cortest.bartlett; ``n``: listwise, the complete
    respondents; pairwise, the respondents with any answer, as psych's
    ``cortest.bartlett(x)`` uses ``nrow(x)``). ``R`` is the moments' correlation
    matrix: Pearson, listwise or pairwise (psych's ``KMO(x)`` default), smoothed
    when not positive definite (see :func:`item_moments`). Also reported:
    ``missing``, ``n_pairs_min`` (smallest number of respondents behind a
    correlation), ``smoothed`` and ``min_eigen`` (smallest eigenvalue of R before
    any smoothing).

    Parameters
    ----------
    items : DataFrame / array (respondents x items, reverse-keyed) or ItemMoments.
    missing : ``"listwise"`` or ``"pairwise"`` for data (see :func:`item_moments`).

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
    m = item_moments(items, missing)
    with _one_blas_thread():
        kmo, _ = _kmo(m.corr, m.items)
        p = m.n_items
        sign, logdet = np.linalg.slogdet(m.corr)
        if sign <= 0:
            _inverse(m.corr, m.items)  # raises the singular-matrix error
        chi2 = float(-logdet * (m.n - 1 - (2 * p + 5) / 6))
        df = p * (p - 1) // 2
        off = m.n_pairs[~np.eye(p, dtype=bool)]
        return Factorability(kmo=kmo, bartlett_chi2=chi2, bartlett_df=df,
                             bartlett_p=float(stats.chi2.sf(chi2, df)), n=m.n, n_excluded=m.n_excluded,
                             missing=m.missing, n_pairs_min=int(off.min()), smoothed=m.smoothed,
                             min_eigen=m.min_eigen if np.isfinite(m.min_eigen) else float(
                                 np.linalg.eigvalsh(m.corr).min()))


def kmo_items(items, missing: str | None = None) -> pd.DataFrame:
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
    m = item_moments(items, missing)
    with _one_blas_thread():
        _, per_item = _kmo(m.corr, m.items)
        return pd.DataFrame({"item": list(m.items), "kmo_item": per_item})


# ------------------------------------------------------------ parallel analysis
def _eigen_desc(r: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(r)[..., ::-1]


def _with_diagonal(r: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    out = np.array(r, dtype=float, copy=True)
    idx = np.arange(r.shape[-1])
    out[..., idx, idx] = diagonal
    return out


def _with_smc_diagonal(r: np.ndarray) -> np.ndarray:
    return _with_diagonal(r, smc(r))


#: psych's bounds on the uniquenesses of a minres fit of a correlation matrix: [0.005, 1]
_H_MAX = 0.995
#: convergence of the one-factor minres fits: max |h_i - lambda v_i^2| (projected on the box) below
#: _ONE_FACTOR_TOL, or below _ONE_FACTOR_FLOOR where no step can lower the criterion any more (its
#: rounding level: the gradient of a flat criterion computed through ``eigh`` is accurate to ~1e-10)
_ONE_FACTOR_TOL = 1e-10
_ONE_FACTOR_FLOOR = 1e-7
_ONE_FACTOR_MAX_ITER = 200
#: correlation matrices per batch in the one-factor fits (memory only; results do not depend on it)
_BATCH = 256


def _one_factor_state(r: np.ndarray, h: np.ndarray):
    """Eigen-decomposition of R_h, the model communalities lambda v^2 and the minres criterion."""
    vals, vecs = np.linalg.eigh(_with_diagonal(r, h))
    lam, v = vals[:, -1], vecs[:, :, -1]
    crit = 0.5 * (vals[:, :-1] ** 2).sum(axis=1)  # 1/2 ||R_h - l l'||^2 = 1/2 sum_{m>1} lambda_m^2
    return vals, vecs, lam[:, None] * v * v, crit


def one_factor_communalities(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Communalities of one-factor minres fits of a stack of correlation matrices, as ``psych::fa(r, 1)``.

    Minres (Harman & Jones, 1966) fits ``R ~ l l' + diag(psi)`` by least squares
    over the uniquenesses ``psi = 1 - h`` in [0.005, 1] (psych's bounds), with
    ``l = sqrt(lambda) v`` the first principal axis of ``R_h`` (``R`` with
    diagonal ``h``). The criterion is ``F(h) = 1/2 ||R_h - l l'||^2 = 1/2
    sum_{m>1} lambda_m(R_h)^2`` with gradient ``h - lambda v^2`` (psych's
    ``FAgr.minres``), so an interior solution is the principal-axis fixed point
    ``h = lambda v^2``; at a Heywood case ``h_i`` stays at 0.995. ``F`` is
    minimised by a projected Newton method on the box with the analytic Hessian
    ``I - (v^2)(v^2)' - 2 lambda diag(v) B diag(v)``, ``B = sum_{m>1} v_m v_m' /
    (lambda - lambda_m)`` (first-order eigenvector perturbation), its
    eigenvalues replaced by their absolute values (floored at 1e-8) so that
    every step descends, and a backtracking (Armijo) line search; started at
    the SMCs as psych does. All matrices of the stack are iterated at once
    (batched ``eigh``, no loop over matrices), until the projected gradient is
    below 1e-10, or 1e-7 where the criterion can no longer decrease
    (its rounding level; psych's ``optim`` stops near 1e-6). Random correlation
    matrices often have a flat criterion and a Heywood solution, which plain
    principal-axis iteration approaches only after thousands of steps.

    Parameters
    ----------
    r : correlation matrix (p x p) or stack (b x p x p).

    Returns
    -------
    (communality, converged): the model communalities ``lambda v^2`` at the
    solution (psych's ``fa(...)$communality``; psych's ``fa(...)$values`` are the
    eigenvalues of ``R`` with these on the diagonal), shape (p,) or (b, p), and
    whether each fit converged (bool or (b,)).

    Examples
    --------
    >>> R = np.full((4, 4), 0.36) + np.diag([0.64] * 4)      # one factor, loadings 0.6
    >>> h, ok = one_factor_communalities(R)
    >>> h.round(10), bool(ok)
    (array([0.36, 0.36, 0.36, 0.36]), True)
    """
    r = np.asarray(r, dtype=float)
    single = r.ndim == 2
    stack = r[None] if single else r
    out = np.empty(stack.shape[:-1])
    ok = np.empty(stack.shape[0], dtype=bool)
    with _one_blas_thread():
        for start in range(0, stack.shape[0], _BATCH):  # batches bound memory; results do not depend on them
            out[start:start + _BATCH], ok[start:start + _BATCH] = _one_factor_batch(stack[start:start + _BATCH])
    return (out[0], bool(ok[0])) if single else (out, ok)


def _one_factor_batch(rs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`one_factor_communalities` of a (b, p, p) stack: projected Newton, all matrices at once."""
    p = rs.shape[-1]
    eye = np.eye(p)
    h = np.clip(smc(rs), 0.0, _H_MAX)
    vals, vecs, model, crit = _one_factor_state(rs, h)
    done = np.zeros(len(rs), dtype=bool)
    ok = np.zeros(len(rs), dtype=bool)
    for _ in range(_ONE_FACTOR_MAX_ITER):  # Newton iterations, vectorised over the stack
        grad = h - model
        active = ((h <= 0.0) & (grad > 0)) | ((h >= _H_MAX) & (grad < 0))
        pgrad = np.where(active, 0.0, grad)
        err = np.abs(pgrad).max(axis=1)
        newly = ~done & (err < _ONE_FACTOR_TOL)
        ok |= newly
        done |= newly
        if done.all():
            break
        j = np.nonzero(~done)[0]  # the matrices still iterating
        lam, v, vj, vecj = vals[j, -1], vecs[j, :, -1], vals[j], vecs[j]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            w = vecj[:, :, :-1] / (lam[:, None] - vj[:, :-1])[:, None, :]
            hess = eye - (np.einsum("bi,bj->bij", v * v, v * v)
                          + 2 * lam[:, None, None] * v[:, :, None] * v[:, None, :]
                          * np.einsum("bim,bjm->bij", w, vecj[:, :, :-1]))
        free = ~active[j]
        hess = np.where(free[:, :, None] & free[:, None, :], hess, eye)
        finite = np.isfinite(hess).all(axis=(1, 2))
        hess = np.where(finite[:, None, None], (hess + hess.swapaxes(1, 2)) / 2, eye)
        mu, q = np.linalg.eigh(hess)
        mu = np.maximum(np.abs(mu), 1e-8)
        step = -np.einsum("bij,bj,bkj,bk->bi", q, 1 / mu, q, pgrad[j], optimize=True)
        # backtracking (Armijo) line search on F, each matrix with its own step length; near the
        # rounding floor of the gradient a step that does not lower F ends the iteration
        t = np.ones(len(j))
        halvings = np.where(err[j] < _ONE_FACTOR_FLOOR, 2, 50)
        accepted = np.zeros(len(j), dtype=bool)
        pending = np.arange(len(j))
        for halving in range(50):
            k = j[pending]
            trial = np.clip(h[k] + t[pending, None] * step[pending], 0.0, _H_MAX)
            t_state = _one_factor_state(rs[k], trial)
            moved = trial - h[k]
            good = ((t_state[3] <= crit[k] + 1e-4 * (pgrad[k] * moved).sum(axis=1))
                    & (np.abs(moved).max(axis=1) > 0))
            kg = k[good]
            h[kg] = trial[good]
            vals[kg], vecs[kg], model[kg], crit[kg] = (a[good] for a in t_state)
            accepted[pending[good]] = True
            pending = pending[~good & (halvings[pending] > halving + 1)]
            if not len(pending):
                break
            t[pending] /= 2
        stalled = j[~accepted]  # F cannot decrease any more: at its rounding level
        ok[stalled] = err[stalled] < _ONE_FACTOR_FLOOR
        done[stalled] = True
    return model, ok




def parallel_analysis(items, n_iter: int = 100, quantile: float = 0.95, seed: int = 0, *,
                      smc: bool = False, missing: str | None = None) -> pd.DataFrame:
    """Horn's (1965) parallel analysis with factor and component eigenvalues, as ``psych::fa.parallel``.

    Observed: the eigenvalues of the item correlation matrix R (components,
    ``eigen_observed_pc``) and of R with communality estimates on its diagonal
    (factors, ``eigen_observed_fa``). Which estimates (psych's ``SMC``):

    - ``smc=False`` (psych's default): the communalities of a one-factor minres
      fit, :func:`one_factor_communalities` (psych ``fa(R, 1)$values``);
    - ``smc=True``: squared multiple correlations (Humphreys & Ilgen, 1969),
      which also carry minor factors and so tend to retain more factors.

    Random: the ``quantile`` (default 95th percentile, R's type-7 quantile) over
    ``n_iter`` correlation matrices of random normal data of the same n x p, of
    the same two kinds of eigenvalues (with ``smc=False`` every random matrix gets
    its own one-factor fit, all fitted together as one batch).

    The random correlation matrices are drawn exactly, without simulating the
    n x p data: for n independent N(0, I_p) rows the scatter matrix
    ``(n - 1) S`` is Wishart(n - 1, I_p) (Anderson, 2003, Thm 7.2.2), and the
    sample correlation matrix is ``D^-1/2 W D^-1/2`` with ``D = diag(W)``.
    ``scipy.stats.wishart`` draws W by the Bartlett decomposition, so the cost
    is O(n_iter p^3), independent of n. With pairwise moments n is the number of
    respondents with any answer (psych simulates ``nrow(x)`` complete rows).
    The data are not resampled: psych 2.2.9 also resamples the columns of raw
    data and bases its suggestion (``nfact``, ``ncomp``) on the resampled
    quantiles; its documentation notes both "tend to agree".

    Parameters
    ----------
    items : DataFrame / array (respondents x items) or ItemMoments.
    n_iter : number of random data sets (>= 1).
    quantile : quantile of the random eigenvalues, in (0, 1).
    seed : seed of ``numpy.random.default_rng``; the same seed gives identical output.
    smc : SMCs (True) or one-factor communalities (False, psych's default) on the diagonal.
    missing : how to compute the moments of data (:func:`item_moments`).

    Returns
    -------
    DataFrame with columns ``factor`` (1..p), ``eigen_observed_fa``,
    ``eigen_random_fa``, ``eigen_observed_pc``, ``eigen_random_pc``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 1)) + rng.normal(size=(300, 5))
    >>> pa = parallel_analysis(x, n_iter=20, seed=1, smc=True)
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
    >>> pa1 = parallel_analysis(x, n_iter=20, seed=1)           # psych's default SMC = FALSE
    >>> pa1.iloc[:2, :3].round(2)
       factor  eigen_observed_fa  eigen_random_fa
    0       1               2.53             1.01
    1       2               0.09             0.11
    """
    if isinstance(n_iter, (bool, np.bool_)) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, got {n_iter!r}.")
    if not (isinstance(quantile, (int, float, np.floating)) and 0 < quantile < 1):
        raise ValueError(f"quantile must be a number strictly between 0 and 1, got {quantile!r}.")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    if not isinstance(smc, (bool, np.bool_)):
        raise ValueError(f"smc must be True or False, got {smc!r}.")
    m = item_moments(items, missing)
    with _one_blas_thread():
        _inverse(m.corr, m.items)  # clear error for a singular matrix
        observed_pc = _eigen_desc(m.corr)
        if smc:
            observed_fa = _eigen_desc(_with_smc_diagonal(m.corr))
        else:
            h, ok = one_factor_communalities(m.corr)
            if not ok:
                raise ValueError(f"The one-factor minres fit of {', '.join(m.items[:3])}, ... did not converge; "
                                 "use factors.parallel_smc: true for this instrument.")
            observed_fa = _eigen_desc(_with_diagonal(m.corr, h))
    random = random_eigenvalues(m.n, m.n_items, n_iter, seed, smc=smc)
    return pd.DataFrame({
        "factor": np.arange(1, m.n_items + 1),
        "eigen_observed_fa": observed_fa,
        "eigen_random_fa": np.quantile(random["fa"], quantile, axis=0),
        "eigen_observed_pc": observed_pc,
        "eigen_random_pc": np.quantile(random["pc"], quantile, axis=0),
    })


def random_eigenvalues(n: int, p: int, n_iter: int = 100, seed: int = 0, *, smc: bool = False) -> dict:
    """Eigenvalues of the correlation matrices of ``n_iter`` random normal data sets of size n x p.

    The correlation matrices are drawn exactly as normalised Wishart(n - 1, I_p)
    matrices (see :func:`parallel_analysis`), then ``pc``: their eigenvalues;
    ``fa``: the eigenvalues with SMCs (``smc=True``) or one-factor minres
    communalities (:func:`one_factor_communalities`, psych's ``SMC = FALSE``) on
    the diagonal. Each is an (n_iter, p) array, rows in decreasing order; the
    same seed gives the same arrays.

    Examples
    --------
    >>> ev = random_eigenvalues(200, 6, n_iter=50, seed=2)
    >>> ev["pc"].shape, bool(np.allclose(ev["pc"].sum(axis=1), 6))
    ((50, 6), True)
    """
    for name, value, low in (("n", n, 2), ("p", p, 2), ("n_iter", n_iter, 1)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if n <= p:
        raise ValueError(f"Random correlation matrices of {p} items need n > p respondents, got n = {n}.")
    with _one_blas_thread():
        rng = np.random.default_rng(seed)
        w = stats.wishart(df=n - 1, scale=np.eye(p)).rvs(size=int(n_iter), random_state=rng)
        w = np.asarray(w).reshape(int(n_iter), p, p)
        d = 1 / np.sqrt(np.diagonal(w, axis1=1, axis2=2))
        r = w * d[:, :, None] * d[:, None, :]
        idx = np.arange(p)
        r[:, idx, idx] = 1.0
        out = {"pc": _eigen_desc(r)}
        if smc:
            out["fa"] = _eigen_desc(_with_smc_diagonal(r))
        else:
            h, ok = one_factor_communalities(r)
            if not ok.all():
                warnings.warn(f"{int((~ok).sum())} of {n_iter} one-factor fits of random correlation matrices "
                              "did not converge; their eigenvalues are kept.", UserWarning, stacklevel=3)
            out["fa"] = _eigen_desc(_with_diagonal(r, h))
    return out


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
        return noncentrality_root(stat, df, target, upper_x)

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
    missing: str = "listwise"

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


def efa(items, n_factors: int, extraction: str = "minres", rotation: str = "oblimin",
        missing: str | None = None) -> EFAResult:
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
    ``n`` is the moments' n: listwise the complete respondents; pairwise the
    respondents with any answer (psych's ``n.obs = nrow(x)`` for raw data, whose
    correlations are ``cor(x, use = "pairwise")``). psych computes the fit on
    ``cor.smooth``-ed matrices; a pairwise matrix that needs smoothing is
    smoothed before the extraction here (:func:`item_moments`).

    Parameters
    ----------
    items : DataFrame / array (respondents x items, reverse-keyed) or ItemMoments.
    n_factors : number of factors, 1 <= k < p.
    extraction : one of :data:`EXTRACTIONS`.
    rotation : one of :data:`ROTATIONS` (ignored for one factor).
    missing : ``"listwise"`` or ``"pairwise"`` for data (see :func:`item_moments`).

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
    m = item_moments(items, missing)
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
            **_variance_accounted(loadings, phi, p), **fit, converged=converged, missing=m.missing,
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
        if items.missing != "listwise":
            raise ValueError(f"cfa from ItemMoments needs listwise moments, not {items.missing!r} ones; pass the "
                             "item DataFrame (the engine then uses FIML or pairwise statistics itself).")
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
def _instrument_items(items, instrument, missing: str | None = None) -> ItemMoments:
    cols = list(instrument.item_columns())
    if isinstance(items, ItemMoments):
        return item_moments(items, missing).subset(cols)
    if isinstance(items, pd.DataFrame):
        absent = [c for c in cols if c not in items.columns]
        if absent:
            raise ValueError(f"Instrument {instrument.name}: item column(s) {absent} are missing from the "
                             "item matrix (expected <instrument>_<n> columns).")
        return item_moments(items.loc[:, cols], missing)
    raise ValueError("Pass the items as a DataFrame with <instrument>_<n> columns or as ItemMoments.")


def _subscale_of_item(instrument) -> dict[str, str]:
    return {f"{instrument.name}_{it.n}": it.subscale for it in instrument.items}


def factorability_table(items, instrument, pa_table: pd.DataFrame | None = None,
                        missing: str | None = None) -> pd.DataFrame:
    """``factorability.csv``: long table ``instrument, missing, measure, item, value`` (see module docstring).

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
    m = _instrument_items(items, instrument, missing)
    res = factorability(m)
    rows = [(k, None, float(getattr(res, k))) for k in
            ("n", "n_excluded", "n_pairs_min", "smoothed", "min_eigen", "kmo", "bartlett_chi2", "bartlett_df",
             "bartlett_p")]
    per = kmo_items(m)
    rows += [("kmo_item", i, float(v)) for i, v in zip(per["item"], per["kmo_item"])]
    if pa_table is not None:
        rows += [("n_factors_parallel", None, float(suggested_factors(pa_table, "fa"))),
                 ("n_components_parallel", None, float(suggested_factors(pa_table, "pc"))),
                 ("n_factors_theoretical", None, float(len(instrument.subscales)))]
    out = pd.DataFrame(rows, columns=["measure", "item", "value"])
    out.insert(0, "missing", m.missing)
    out.insert(0, "instrument", instrument.name)
    return out


#: ``fa_diagonal`` of parallel_analysis.csv: what the factor eigenvalues put on the diagonal of R
FA_DIAGONAL = {True: "smc", False: "one_factor_communality"}


def parallel_table(items, instrument, n_iter: int = 100, quantile: float = 0.95, seed: int = 0, *,
                   smc: bool = False, missing: str | None = None) -> pd.DataFrame:
    """``parallel_analysis.csv``: :func:`parallel_analysis` plus ``retain_fa``, ``retain_pc``, ``theoretical``.

    Columns ``instrument, missing, fa_diagonal, factor, ...``: ``missing`` says
    how the correlations were made (``listwise``/``pairwise``) and ``fa_diagonal``
    what the factor eigenvalues had on the diagonal (``smc``, or
    ``one_factor_communality``: psych's default ``SMC = FALSE``).
    """
    m = _instrument_items(items, instrument, missing)
    pa = parallel_analysis(m, n_iter=n_iter, quantile=quantile, seed=seed, smc=smc)
    nf, nc = suggested_factors(pa, "fa"), suggested_factors(pa, "pc")
    pa["retain_fa"] = pa["factor"] <= nf
    pa["retain_pc"] = pa["factor"] <= nc
    pa["theoretical"] = pa["factor"] <= len(instrument.subscales)
    pa.insert(0, "fa_diagonal", FA_DIAGONAL[bool(smc)])
    pa.insert(0, "missing", m.missing)
    pa.insert(0, "instrument", instrument.name)
    return pa


def efa_tables(items, instrument, n_factors: int | None = None, extraction: str = "minres",
               rotation: str = "oblimin", low: float = LOW_LOADING,
               cross: float = CROSS_LOADING, missing: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``efa_loadings.csv`` and ``efa_fit.csv`` for one instrument (layout in the module docstring).

    ``n_factors`` defaults to the instrument's number of subscales. Factors are
    matched to the subscales with :func:`match_factors` before tabulating. Both
    tables carry a ``missing`` column (listwise / pairwise correlations).
    """
    m = _instrument_items(items, instrument, missing)
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
    lo.insert(0, "missing", res.missing)
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
    fit.insert(0, "missing", res.missing)
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
