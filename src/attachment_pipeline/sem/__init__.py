"""The model-fitting engine: one model representation and one optimiser for every SEM in the pipeline.

CFA (:func:`attachment_pipeline.factors.cfa`), multi-group invariance
(:mod:`attachment_pipeline.invariance`) and the dyadic models all describe their
model in lavaan syntax and call :func:`fit`. Modules:

- :mod:`~attachment_pipeline.sem.syntax` -- model syntax -> parameter table (lavaan's defaults);
- :mod:`~attachment_pipeline.sem.model` -- matrix form, implied moments, analytic Jacobian;
- :mod:`~attachment_pipeline.sem.data` -- sample statistics, missing-data patterns;
- :mod:`~attachment_pipeline.sem.estimators` -- ML, FIML and DWLS discrepancy functions;
- :mod:`~attachment_pipeline.sem.optimize` -- the one optimiser;
- :mod:`~attachment_pipeline.sem.inference` -- information matrices, casewise scores, SEs;
- :mod:`~attachment_pipeline.sem.teststats` -- standard, Yuan-Bentler, scaled-shifted and difference tests;
- :mod:`~attachment_pipeline.sem.measures` -- CFI, TLI, RMSEA, SRMR (standard, scaled, robust);
- :mod:`~attachment_pipeline.sem.engine` -- :func:`fit`, putting them together.

Example
-------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> f = rng.normal(size=(300, 1))
>>> x = pd.DataFrame(f @ np.full((1, 4), 0.7) + rng.normal(scale=0.7, size=(300, 4)), columns=list("abcd"))
>>> res = fit("g =~ a + b + c + d", x, estimator="mlr")
>>> res.df, res.converged, round(res.fit["cfi"], 3), round(float(res.param("g", "=~", "b").est), 2)
(2, True, 0.998, 0.88)
"""

from __future__ import annotations

from .engine import ESTIMATORS, MISSING, SEMResult, fit
from .syntax import build_partable, parse
from .teststats import LRTResult, lrt, satorra_bentler_2001

__all__ = ["ESTIMATORS", "MISSING", "SEMResult", "fit", "compare", "build_partable", "parse", "LRTResult"]


def compare(restricted: SEMResult, general: SEMResult) -> LRTResult:
    """Test a restricted model against a general one it is nested in, as ``lavaan::lavTestLRT``.

    ``ml``: likelihood-ratio (chi-square difference) test; ``mlr``: Satorra & Bentler's
    (2001) scaled difference; ``wlsmv``: the mean-and-variance adjusted difference test
    (Satorra, 2000; lavaan's default for scaled-shifted statistics).
    """
    if restricted.estimator != general.estimator or restricted.missing != general.missing:
        raise ValueError("Both models must be fitted with the same estimator and missing-data method.")
    if restricted.n != general.n:
        raise ValueError(f"Both models must be fitted to the same respondents (n {restricted.n} vs {general.n}).")
    if restricted.estimator == "ml":
        return lrt(restricted.chi2, restricted.df, general.chi2, general.df)
    if restricted.estimator == "mlr":
        return satorra_bentler_2001(restricted.chi2, restricted.df, restricted.fit["scaling_factor"],
                                    general.chi2, general.df, general.fit.get("scaling_factor", 1.0))
    from .engine import satorra_2000
    return satorra_2000(restricted, general)
