"""Test statistics: standard, Yuan-Bentler (Mplus variant, MLR), scaled-shifted (WLSMV), and differences.

- standard: ``T = N F_min`` (ML, DWLS) or ``T = 2 (logL_1 - logL_0)`` (FIML).
- MLR (lavaan ``test = "yuan.bentler.mplus"``; Yuan & Bentler, 2000; Muthen &
  Muthen): scaling factor ``c = (tr(B1 A1^-1) - tr(B0 I0^-1)) / df`` with ``A1``,
  ``B1`` the observed and first-order information of the saturated model at its
  estimates (per group, weighted), ``B0`` the first-order information of the
  model and ``I0`` its observed information; ``T_scaled = T / c``.
- WLSMV (lavaan ``test = "scaled.shifted"``; Asparouhov & Muthen, 2010):
  ``U = V - V D E^-1 D' V`` with ``V = diag(f_g W_g)``, ``D`` the stacked Jacobians,
  ``E = D' V D``; ``Gamma_f = diag(Gamma_g / f_g)``; ``a = sqrt(df / tr((U Gamma_f)^2))``,
  ``b = df - a tr(U Gamma_f)``; ``T_scaled = a T + b``; lavaan reports the
  scaling factor ``1 / a`` and the shift ``b``.
- Differences of nested models: likelihood ratio; Satorra & Bentler (2001) scaled
  difference ``T_d = (T_0 - T_1) / c_d``, ``c_d = (df_0 c_0 - df_1 c_1) / (df_0 - df_1)``
  (lavaan ``lavTestLRT(method = "satorra.bentler.2001")``); for WLSMV the
  mean-and-variance adjusted difference of Asparouhov & Muthen (2006) / Satorra
  (2000) as lavaan's ``lavTestLRT(method = "satorra.2000")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["ScaledTest", "yuan_bentler_mplus", "scaled_shifted", "LRTResult", "lrt", "satorra_bentler_2001"]


@dataclass(frozen=True)
class ScaledTest:
    stat: float
    df: float
    p: float
    scaling_factor: float
    shift_parameter: float = 0.0
    trace_ugamma: float = np.nan


def yuan_bentler_mplus(t: float, df: int, trace_h1: float, trace_h0: float) -> ScaledTest:
    """``c = (trace_h1 - trace_h0) / df``; ``T_scaled = T / c`` (NaN when df = 0 or c < 0)."""
    if df <= 0:
        return ScaledTest(np.nan, df, np.nan, np.nan, 0.0, trace_h1 - trace_h0)
    tr = trace_h1 - trace_h0
    c = tr / df
    if not c > 0:
        return ScaledTest(np.nan, df, np.nan, np.nan, 0.0, tr)
    stat = t / c
    return ScaledTest(float(stat), float(df), float(stats.chi2.sf(stat, df)), float(c), 0.0, float(tr))


def scaled_shifted(t: float, df: int, trace_ug: float, trace_ug2: float) -> ScaledTest:
    """Mean-and-variance adjusted (scaled and shifted) statistic, lavaan's ``scaled.shifted``."""
    if df <= 0 or not trace_ug2 > 0:
        return ScaledTest(np.nan, df, np.nan, np.nan, np.nan, trace_ug)
    a = np.sqrt(df / trace_ug2)
    b = df - a * trace_ug
    stat = t * a + b
    return ScaledTest(float(stat), float(df), float(stats.chi2.sf(stat, df)), float(1 / a), float(b),
                      float(trace_ug))


@dataclass(frozen=True)
class LRTResult:
    """A test of nested models: ``delta_chi2`` on ``delta_df`` degrees of freedom with ``p``;
    ``method`` names the statistic (``lrt``, ``satorra.bentler.2001``, ``satorra.2000``)."""

    delta_chi2: float
    delta_df: float
    p: float
    method: str
    scaling_factor: float = np.nan


def lrt(t_restricted: float, df_restricted: int, t_general: float, df_general: int) -> LRTResult:
    """Chi-square difference (likelihood-ratio) test of nested models.

    >>> r = lrt(25.0, 10, 10.0, 8)
    >>> r.delta_chi2, r.delta_df, round(r.p, 6)
    (15.0, 2, 0.000553)
    """
    ddf = df_restricted - df_general
    if ddf <= 0:
        raise ValueError(f"The restricted model must have more degrees of freedom ({df_restricted} vs "
                         f"{df_general}); swap the models?")
    d = t_restricted - t_general
    return LRTResult(float(d), ddf, float(stats.chi2.sf(max(d, 0.0), ddf)), "lrt")


def satorra_bentler_2001(t0: float, df0: int, c0: float, t1: float, df1: int, c1: float) -> LRTResult:
    """Satorra & Bentler's (2001) scaled chi-square difference from two scaled fits.

    ``T0``, ``T1``: unscaled statistics of the restricted (0) and general (1) model;
    ``c0``, ``c1`` their scaling factors. ``c_d = (df0 c0 - df1 c1) / (df0 - df1)``,
    ``T_d = (T0 - T1) / c_d``. With a general model of df 0, ``c1`` is taken as 1
    (irrelevant: it is multiplied by 0). A negative ``c_d`` gives NaN (lavaan
    then recommends the 2010 strictly positive version).

    >>> r = satorra_bentler_2001(120.0, 50, 1.2, 100.0, 45, 1.1)
    >>> round(r.delta_chi2, 4), r.delta_df, round(r.scaling_factor, 4)
    (9.5238, 5, 2.1)
    """
    ddf = df0 - df1
    if ddf <= 0:
        raise ValueError(f"The restricted model must have more degrees of freedom ({df0} vs {df1}).")
    c1 = c1 if df1 > 0 else 1.0
    cd = (df0 * c0 - df1 * c1) / ddf
    if not cd > 0:
        return LRTResult(np.nan, ddf, np.nan, "satorra.bentler.2001", float(cd))
    td = (t0 - t1) / cd
    return LRTResult(float(td), ddf, float(stats.chi2.sf(max(td, 0.0), ddf)), "satorra.bentler.2001", float(cd))
