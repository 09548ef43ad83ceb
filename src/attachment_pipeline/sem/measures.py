"""Fit measures as lavaan 0.6's ``fitMeasures``: standard, scaled and robust.

With ``T`` the test statistic on ``df`` degrees of freedom, ``T_0``/``df_0`` the
baseline (independence) model's, N the total sample size and G the number of
groups:

- ``cfi = 1 - max(T - df, 0) / max(T - df, T_0 - df_0, 0)`` (Bentler, 1990);
- ``tli = 1 - (T - df) df_0 / ((T_0 - df_0) df)`` (Tucker & Lewis, 1973);
- ``rmsea = sqrt(max(T / (N df) - 1 / N, 0)) sqrt(G)`` (Steiger, 1998) with the
  90% interval from the noncentral chi-square (Browne & Cudeck, 1993); lavaan uses
  ``N - G`` instead of N for the least-squares (WLSMV) estimators;
- ``srmr``: Bentler's, per group the root mean square of ``(s_ij - sigma_ij) /
  sqrt(s_ii s_jj)`` over ``i <= j`` (and of ``(m_i - mu_i) / sqrt(s_ii)`` with a
  mean structure), weighted by ``n_g / N``; the sample moments are the EM (H1)
  moments with incomplete data;
- scaled versions: the same formulas on the scaled statistics (for the
  Yuan-Bentler statistic the RMSEA uses ``T`` on ``tr(U Gamma)`` degrees of freedom,
  as lavaan);
- robust versions (Brosseau-Liard, Savalei & Li, 2012; Brosseau-Liard & Savalei,
  2014): ``rmsea_robust = sqrt(max(T / (N df) - c / N, 0))``, ``cfi_robust`` with
  ``T - c df`` and ``T_0 - c_0 df_0``; with incomplete data ``T`` and ``c`` are
  Zhang & Savalei's (2022) FIML-corrected versions; with ordered items Savalei's
  (2021) catML versions.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

__all__ = ["cfi", "tli", "rmsea", "rmsea_ci", "srmr", "fit_measures"]


def cfi(x2: float, df: float, x2_null: float, df_null: float, c: float = 1.0, c_null: float = 1.0) -> float:
    """Comparative fit index (robust when ``c``, ``c_null`` differ from 1), lavaan's ``lav_fit_cfi``.

    >>> round(cfi(120.0, 50, 2000.0, 66), 4)
    0.9638
    """
    if not all(np.isfinite(v) for v in (x2, df, x2_null, df_null, c, c_null)):
        return np.nan
    if df > 0 and c != 1 and c_null != 1:
        t1 = max(x2 - c * df, 0.0)
        t2 = max(x2 - c * df, x2_null - c_null * df_null, 0.0)
    else:
        t1 = max(x2 - df, 0.0)
        t2 = max(x2 - df, x2_null - df_null, 0.0)
    if np.isclose(t1, 0, atol=1.5e-8) and np.isclose(t2, 0, atol=1.5e-8):
        return 1.0
    return float(1 - t1 / t2)


def tli(x2: float, df: float, x2_null: float, df_null: float, c: float = 1.0, c_null: float = 1.0) -> float:
    """Tucker-Lewis index, lavaan's ``lav_fit_tli`` (robust with ``c``, ``c_null``).

    >>> round(tli(120.0, 50, 2000.0, 66), 4)
    0.9522
    """
    if not all(np.isfinite(v) for v in (x2, df, x2_null, df_null, c, c_null)):
        return np.nan
    if df > 0 and c != 1 and c_null != 1:
        t1 = (x2 - c * df) * df_null
        t2 = (x2_null - c_null * df_null) * df
    else:
        t1 = (x2 - df) * df_null
        t2 = (x2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return float(1 - t1 / t2)
    return 1.0


def rmsea(x2: float, df: float, n: float, g: int = 1, c: float = 1.0) -> float:
    """``sqrt(max(x2 / (n df) - c / n, 0)) sqrt(g)``; 0 when df = 0.

    >>> round(rmsea(150.0, 100, 600, 2), 4)
    0.0408
    """
    if not all(np.isfinite(v) for v in (x2, df, n, c)):
        return np.nan
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(x2 / n / df - c / n, 0.0)) * np.sqrt(g))


def rmsea_ci(x2: float, df: float, n: float, g: int = 1, c: float = 1.0, level: float = 0.90
             ) -> tuple[float, float]:
    """lavaan's ``lav_fit_rmsea_ci``: roots of the noncentral chi-square cdf of ``x2``.

    >>> [round(v, 4) for v in rmsea_ci(150.0, 100, 600, 2)]
    [0.0265, 0.0538]
    """
    if not all(np.isfinite(v) for v in (x2, df, n, c)):
        return np.nan, np.nan
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam):
        return stats.chi2.cdf(x2, df) if lam <= 0 else stats.ncx2.cdf(x2, df, lam)

    if df < 1 or cdf(0.0) - upper_p < 0:
        low = 0.0
    else:
        try:
            lam = optimize.brentq(lambda v: cdf(v) - upper_p, 0.0, x2, xtol=1e-12, rtol=1e-14, maxiter=500)
            low = float(np.sqrt(c * lam / (n * df)) * np.sqrt(g))
        except ValueError:
            low = np.nan
    n_rmsea = max(n, x2 * 4)
    if df < 1 or cdf(n_rmsea) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        high = 0.0
    else:
        try:
            lam = optimize.brentq(lambda v: cdf(v) - lower_p, 0.0, n_rmsea, xtol=1e-12, rtol=1e-14, maxiter=500)
            high = float(np.sqrt(c * lam / (n * df)) * np.sqrt(g))
        except ValueError:
            high = np.nan
    return low, high


def srmr(sample_covs, sample_means, implied_covs, implied_means, group_n, meanstructure: bool,
         correlation: bool = False) -> float:
    """Bentler's SRMR (lavaan ``srmr`` / ``srmr_bentler``), weighted over groups by ``n_g / N``.

    With ``correlation`` (ordered items) the residuals are those of the polychoric
    correlations; lavaan divides by ``p (p + 1) / 2``, counting the unit diagonal.

    >>> s = [np.array([[1.0, 0.3], [0.3, 1.0]])] * 2
    >>> f = [np.array([[1.0, 0.2], [0.2, 1.0]])] * 2
    >>> round(srmr(s, [np.zeros(2)] * 2, f, [np.zeros(2)] * 2, [100, 300], True), 4)
    0.0447
    """
    n_g = np.asarray(group_n, dtype=float)
    out = np.zeros(len(n_g))
    for g in range(len(n_g)):
        s = np.asarray(sample_covs[g], dtype=float)
        p = s.shape[0]
        sd = np.sqrt(np.diag(s))
        res = (s - implied_covs[g]) / np.outer(sd, sd)
        if correlation:  # lavaan: the unit diagonal counts among the elements (its residuals are 0)
            r = res[np.tril_indices(p, -1)]
            out[g] = np.sqrt(np.sum(r ** 2) / (p * (p + 1) / 2))
            continue
        r = res[np.tril_indices(p)]
        if meanstructure:
            rm = (np.asarray(sample_means[g]) - implied_means[g]) / sd
            out[g] = np.sqrt((np.sum(r ** 2) + np.sum(rm ** 2)) / (len(r) + p))
        else:
            out[g] = np.sqrt(np.mean(r ** 2))
    return float(np.sum(out * n_g) / n_g.sum())


def fit_measures(*, n, group_n, npar, chi2, df, loglik, h1_loglik, baseline, scaled, implied, h1_means, h1_covs,
                 meanstructure, categorical, robust_extra=None) -> dict:
    """The fit-measure dictionary of one model (keys are lavaan's names in snake_case)."""
    G = len(group_n)
    n_fit = n - G if categorical else n   # lavaan: N - G for the least-squares estimators
    out = {"n": int(n), "npar": int(npar), "chi2": float(chi2), "df": int(df),
           "p": float(stats.chi2.sf(chi2, df)) if df > 0 else np.nan}
    if baseline is not None:
        x0, d0 = baseline["chi2"], baseline["df"]
        out.update(baseline_chi2=x0, baseline_df=int(d0), cfi=cfi(chi2, df, x0, d0), tli=tli(chi2, df, x0, d0))
    else:
        out.update(baseline_chi2=np.nan, baseline_df=np.nan, cfi=np.nan, tli=np.nan)
    out["rmsea"] = rmsea(chi2, df, n_fit, G)
    out["rmsea_low"], out["rmsea_high"] = rmsea_ci(chi2, df, n_fit, G)
    if categorical:
        out["srmr"] = srmr(h1_covs, h1_means, [imp["cor"] for imp in implied], None, group_n, False,
                           correlation=True)
    else:
        out["srmr"] = srmr(h1_covs, h1_means, [imp["cov"] for imp in implied], [imp["mean"] for imp in implied],
                           group_n, meanstructure)
    if loglik is not None:
        out["loglik"] = float(loglik)
        out["unrestricted_loglik"] = float(h1_loglik)
        out["aic"] = float(-2 * loglik + 2 * npar)
        out["bic"] = float(-2 * loglik + npar * np.log(n))
    if scaled is not None:
        out.update(chi2_scaled=scaled.stat, df_scaled=scaled.df, p_scaled=scaled.p,
                   scaling_factor=scaled.scaling_factor)
        shifted = categorical
        if shifted:
            out["shift_parameter"] = scaled.shift_parameter
        bs = baseline.get("scaled") if baseline is not None else None
        if bs is not None:
            out.update(baseline_chi2_scaled=bs.stat, baseline_df_scaled=bs.df,
                       baseline_scaling_factor=bs.scaling_factor,
                       cfi_scaled=cfi(scaled.stat, scaled.df, bs.stat, bs.df),
                       tli_scaled=tli(scaled.stat, scaled.df, bs.stat, bs.df))
        else:
            out.update(cfi_scaled=np.nan, tli_scaled=np.nan)
        if shifted:
            x2s, df2 = scaled.stat, df
        else:
            x2s, df2 = chi2, scaled.trace_ugamma
        out["rmsea_scaled"] = rmsea(x2s, df2, n_fit, G)
        out["rmsea_low_scaled"], out["rmsea_high_scaled"] = rmsea_ci(x2s, df2, n_fit, G)
    # robust (population-corrected) indices
    robust = None
    if robust_extra is not None:  # FIML-corrected or catML
        robust = robust_extra
    elif scaled is not None:
        c = scaled.scaling_factor
        if categorical:
            a = 1.0 / scaled.scaling_factor
            c = a * (df - scaled.shift_parameter) / df if df > 0 else np.nan
        robust = {"xx3": chi2, "df3": df, "c_hat3": c, "xx3_scaled": scaled.stat}
        bs = baseline.get("scaled") if baseline is not None else None
        if bs is not None:
            c0 = bs.scaling_factor
            if categorical:
                a0 = 1.0 / bs.scaling_factor
                c0 = a0 * (baseline["df"] - bs.shift_parameter) / baseline["df"]
            robust.update(xx3_null=baseline["chi2"], df3_null=baseline["df"], c_hat3_null=c0)
    if robust is not None:
        xx3, df3, c3 = robust["xx3"], robust["df3"], robust["c_hat3"]
        if "xx3_scaled" not in robust:
            robust["xx3_scaled"] = xx3 / c3 if c3 and np.isfinite(c3) else np.nan
        if "xx3_null" in robust:
            out["cfi_robust"] = cfi(xx3, df, robust["xx3_null"], baseline["df"], c3, robust["c_hat3_null"])
            out["tli_robust"] = tli(xx3, df, robust["xx3_null"], baseline["df"], c3, robust["c_hat3_null"])
        else:
            out["cfi_robust"] = out["tli_robust"] = np.nan
        out["rmsea_robust"] = rmsea(xx3, df3, n_fit, G, c=c3)
        out["rmsea_low_robust"], out["rmsea_high_robust"] = rmsea_ci(robust["xx3_scaled"], df3, n_fit, G, c=c3)
    return out
