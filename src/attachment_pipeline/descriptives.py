"""Descriptive statistics of scores: means, SDs and Pearson correlations with intervals (APA Table 1).

- :func:`describe` -- n, mean and SD (``ddof = 1``) of each score column.
- :func:`correlation_table` -- Pearson r of every pair of score columns, pairwise
  complete, with the Fisher (1921) z interval and the two-sided t-test p.

The p-value is the usual ``t = r sqrt(n - 2) / sqrt(1 - r^2)`` on ``n - 2`` df; the
interval is ``tanh(atanh(r) -+ z_(1 - (1 - ci)/2) / sqrt(n - 3))`` (Fisher, 1921), as
``cor.test`` in R and ``scipy.stats.pearsonr(...).confidence_interval()`` give it.
Partners of a couple are not independent: these are descriptive intervals of the
respondents (the hypothesis tests treat couples as clusters).

References
----------
Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
from a small sample. Metron, 1, 3-32.

Example
-------
>>> x = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 1, 4, 3, 5]})
>>> row = correlation_table(x).iloc[0]
>>> row["variable_1"], row["variable_2"], int(row["n"]), float(round(row["r"], 2)), float(round(row["p"], 3))
('a', 'b', 5, 0.8, 0.104)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["describe", "correlation_table"]


def _numeric(scores: pd.DataFrame, what: str) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame) or scores.shape[1] == 0:
        raise ValueError(f"{what}: expected a DataFrame with one column per score; got {type(scores).__name__}.")
    bad = [c for c in scores.columns if not pd.api.types.is_numeric_dtype(scores[c])]
    if bad:
        raise ValueError(f"{what}: column(s) {', '.join(map(str, bad))} are not numeric; pass score columns only.")
    return scores.astype(float)


def describe(scores: pd.DataFrame) -> pd.DataFrame:
    """n, mean and SD (``ddof = 1``) of each column, missing values left out.

    >>> describe(pd.DataFrame({"a": [1.0, 2.0, None, 3.0]})).round(3).values.tolist()
    [['a', 3, 2.0, 1.0]]
    """
    x = _numeric(scores, "describe")
    out = pd.DataFrame({"variable": list(x.columns), "n": x.notna().sum().to_numpy(),
                        "mean": x.mean().to_numpy(), "sd": x.std(ddof=1).to_numpy()})
    return out


def correlation_table(scores: pd.DataFrame, ci: float = 0.95) -> pd.DataFrame:
    """Pearson r of every pair of columns (pairwise complete) with Fisher-z interval and p.

    Parameters
    ----------
    scores : one numeric column per score; missing values are left out pair by pair.
    ci : level of the interval.

    Returns
    -------
    DataFrame with one row per pair ``i < j`` in column order: ``variable_1``,
    ``variable_2``, ``n``, ``r``, ``ci_low``, ``ci_high``, ``p`` (two-sided). r is NaN
    below 3 pairs or with a constant column; the interval is NaN below 4 pairs.

    Notes
    -----
    ``z = atanh(r)``, ``se = 1 / sqrt(n - 3)``, interval ``tanh(z -+ q se)`` with
    ``q`` the normal quantile of ``1 - (1 - ci) / 2`` (Fisher, 1921);
    ``t = r sqrt((n - 2) / (1 - r^2))`` on ``n - 2`` df.
    """
    if not 0 < ci < 1:
        raise ValueError(f"correlation_table: ci must lie between 0 and 1; got {ci}.")
    x = _numeric(scores, "correlation_table")
    values = x.to_numpy()
    ok = ~np.isnan(values)
    k = values.shape[1]
    i, j = np.triu_indices(k, 1)
    both = ok[:, i] & ok[:, j]                      # respondents x pairs
    n = both.sum(axis=0).astype(float)
    a = np.where(both, values[:, i], 0.0)
    b = np.where(both, values[:, j], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma, mb = a.sum(axis=0) / n, b.sum(axis=0) / n
        da, db = np.where(both, a - ma, 0.0), np.where(both, b - mb, 0.0)
        r = (da * db).sum(axis=0) / np.sqrt((da ** 2).sum(axis=0) * (db ** 2).sum(axis=0))
        r = np.where(n >= 3, np.clip(r, -1.0, 1.0), np.nan)
        q = stats.norm.ppf(1 - (1 - ci) / 2)
        z = np.arctanh(r)
        se = np.where(n > 3, 1 / np.sqrt(n - 3), np.nan)
        low, high = np.tanh(z - q * se), np.tanh(z + q * se)
        t = r * np.sqrt((n - 2) / (1 - r ** 2))
        p = np.where(np.abs(r) >= 1, 0.0, 2 * stats.t.sf(np.abs(t), n - 2))
    p = np.where(np.isnan(r), np.nan, p)
    return pd.DataFrame({"variable_1": [x.columns[c] for c in i], "variable_2": [x.columns[c] for c in j],
                         "n": n.astype(int), "r": r, "ci_low": low, "ci_high": high, "p": p})
