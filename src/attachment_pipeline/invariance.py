"""Measurement invariance across groups: multi-group CFA as ``lavaan::cfa(..., group =, group.equal =)``.

An instrument's model (e.g. the ECR-R's two correlated factors, anxiety and
avoidance) is fitted in several groups at once -- cohorts, the levels of a group
column, or partners -- at nested levels of invariance (Meredith, 1993;
Vandenberg & Lance, 2000; Wu & Estabrook, 2016 for ordered items):

``configural``
    the same pattern in every group; every parameter free per group; latent
    means 0 (lavaan: ``cfa(model, data, group = "g")``).
``metric``
    loadings equal (``group.equal = "loadings"``).
``scalar``
    loadings and intercepts equal (``c("loadings", "intercepts")``); for ordered
    items loadings and thresholds (``c("loadings", "thresholds")``). The latent
    means (and, for ordered items, the scale factors) are then free in every group
    but the first, as lavaan does.
``strict``
    scalar plus equal residual variances (``"residuals"``). Not available for
    ordered items: in the delta parameterisation residual variances are not
    parameters (docs/decisions.md).

Partial invariance frees named parameters from the equality constraints
(lavaan ``group.partial``): ``partial=["anxiety=~ecr_r_3", "ecr_r_3~1"]``.

Every model is fitted by the one engine (:func:`attachment_pipeline.sem.fit`)
with the chosen estimator (``ml``, ``mlr``, ``wlsmv``) and missing-data method
(``listwise``, ``fiml``, ``pairwise``). The difference between consecutive
levels is tested as ``lavaan::lavTestLRT`` does for that estimator: the
likelihood-ratio test (ML), Satorra & Bentler's (2001) scaled difference (MLR),
the mean-and-variance adjusted difference of Satorra (2000) (WLSMV). The
decision follows Chen (2007): invariance at a level holds when, compared with
the previous level, ``delta CFI >= -.010`` and ``delta RMSEA <= .015``, using the
estimator's robust indices where lavaan reports them (Brosseau-Liard & Savalei,
2014; Savalei, 2021), and a level whose predecessor failed is not supported.

Agreement with lavaan 0.6-14: ``tests/test_invariance.py`` (references made by
``tests/r/invariance_reference.R`` and ``tests/r/sem_reference.R``).

References
----------
Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. Structural Equation Modeling, 14, 464-504.
Meredith, W. (1993). Measurement invariance, factor analysis and factorial
invariance. Psychometrika, 58, 525-543.
Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic
for moment structure analysis. Psychometrika, 66, 507-514.
Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis of the measurement
invariance literature. Organizational Research Methods, 3, 4-70.
Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models
of different levels of invariance for ordered categorical outcomes. Psychometrika,
81, 1014-1045.

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
[['configural', 16, nan], ['metric', 20, 4.0], ['scalar', 24, 4.0], ['strict', 30, 6.0]]
>>> t.decision[1]
'metric invariance supported (delta CFI = .000, delta RMSEA = -.011)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import sem
from .sem.syntax import simple_structure

__all__ = [
    "LEVELS",
    "DELTA_CFI_MIN",
    "DELTA_RMSEA_MAX",
    "INVARIANCE_COLUMNS",
    "model_syntax",
    "instrument_model",
    "multigroup_cfa",
    "fit_levels",
    "invariance_table",
    "table_of_fits",
    "invariance_parameters",
    "invariance_decision",
]

#: Levels of invariance, from least to most constrained.
LEVELS = ("configural", "metric", "scalar", "strict")
#: Chen (2007): invariance holds when delta CFI >= this ...
DELTA_CFI_MIN = -0.010
#: ... and delta RMSEA <= this.
DELTA_RMSEA_MAX = 0.015

_EQUAL = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}
_EQUAL_ORDERED = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "thresholds")}

_SCALED = ("chi2_scaled", "df_scaled", "p_scaled", "scaling_factor", "cfi_scaled", "tli_scaled", "rmsea_scaled",
           "cfi_robust", "tli_robust", "rmsea_robust")
#: Columns of :func:`invariance_table`.
INVARIANCE_COLUMNS = (
    "model", "estimator", "missing", "n", "n_groups", "npar", "chi2", "df", "p", "cfi", "tli", "rmsea",
    "rmsea_low", "rmsea_high", "srmr", *_SCALED, "delta_chi2", "delta_df", "delta_p", "delta_method", "delta_cfi",
    "delta_rmsea", "decision", "partial", "baseline_chi2", "baseline_df", "loglik", "aic", "bic", "converged",
)


def model_syntax(model) -> str:
    """lavaan syntax of ``{factor: [items]}`` (:func:`attachment_pipeline.sem.syntax.simple_structure`).

    >>> model_syntax({"anx": ["a", "b"], "avo": ["c", "d"]})
    'anx =~ a + b\\navo =~ c + d'
    """
    return simple_structure(model)


def instrument_model(instrument) -> dict[str, list[str]]:
    """The theoretical model of an instrument: ``{subscale: ["<instrument>_<n>", ...]}``.

    >>> from attachment_pipeline.instruments import load_instrument
    >>> m = instrument_model(load_instrument("ecr_r"))
    >>> list(m), m["avoidance"][:2], len(m["anxiety"])
    (['anxiety', 'avoidance'], ['ecr_r_19', 'ecr_r_20'], 18)
    """
    return {s: [f"{instrument.name}_{n}" for n in instrument.subscale_items(s)] for s in instrument.subscales}


def _levels_for(estimator: str) -> tuple[str, ...]:
    return LEVELS[:3] if estimator == "wlsmv" else LEVELS


def multigroup_cfa(data: pd.DataFrame, model, group, level: str = "configural", *, estimator: str = "ml",
                   missing: str = "listwise", partial: Sequence[str] = (), start=None) -> sem.SEMResult:
    """Fit one invariance level (see the module docstring); returns the engine's result.

    Parameters
    ----------
    data : DataFrame with the model's item columns (NaN = missing).
    model : ``{factor: [item, ...]}`` or lavaan syntax.
    group : Series with the same index as ``data`` (group labels), or a column name.
    level : one of :data:`LEVELS`.
    estimator, missing : as :func:`attachment_pipeline.sem.fit`.
    partial : parameters freed from the level's equality constraints (``"f=~x"``, ``"x~1"``).
    start : a fitted less constrained level to start from.
    """
    if group is None:
        raise ValueError("multigroup_cfa needs a group Series (or the name of a group column).")
    levels = _levels_for(estimator)
    if level not in levels:
        raise ValueError(f"level must be one of {levels} for estimator {estimator!r}, got {level!r}.")
    syntax = model if isinstance(model, str) else model_syntax(model)
    equal = (_EQUAL_ORDERED if estimator == "wlsmv" else _EQUAL)[level]
    return sem.fit(syntax, data, group=group, estimator=estimator, missing=missing,
                   ordered=estimator == "wlsmv", group_equal=equal, group_partial=partial, start=start)


def _check_group(data, group) -> pd.Series:
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame with the item columns, got {type(data).__name__}.")
    if isinstance(group, str):
        if group not in data.columns:
            raise ValueError(f"The group column {group!r} is not a column of the data.")
        group = data[group]
    if not isinstance(group, pd.Series):
        raise ValueError(f"group must be a pandas Series (or a column name of data), got {type(group).__name__}.")
    if len(group) != len(data) or not group.index.equals(data.index):
        raise ValueError(f"group ({len(group)} rows) must have the same index as data ({len(data)} rows); "
                         "align them (e.g. group.reindex(data.index)).")
    return group


def fit_levels(data: pd.DataFrame, model, group, levels: Sequence[str] | None = None, *, estimator: str = "ml",
               missing: str = "listwise", partial: Sequence[str] = ()) -> list[sem.SEMResult]:
    """Fit the levels in order, each starting from the previous one's estimates."""
    allowed = _levels_for(estimator)
    levels = allowed if levels is None else tuple(levels)
    if isinstance(levels, str) or not levels or any(v not in allowed for v in levels) \
            or list(levels) != [v for v in allowed if v in levels]:
        raise ValueError(f"levels must be some of {allowed} in that order, got {list(levels)}.")
    group = _check_group(data, group)
    n_levels = group.dropna().nunique()
    if n_levels < 2:
        raise ValueError(f"Measurement invariance needs at least 2 groups; the group has {n_levels}.")
    fits, previous = [], None
    for level in levels:
        res = multigroup_cfa(data, model, group, level, estimator=estimator, missing=missing, partial=partial,
                             start=previous)
        fits.append(res)
        previous = res
    return fits


def _apa(x: float) -> str:
    """Three decimals without the leading zero (APA style): -0.0031 -> '-.003'."""
    s = f"{x:.3f}"
    if s == "-0.000":
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
        raise ValueError(f"level must be 'metric', 'scalar' or 'strict', got {level!r}.")
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


def decision_indices(res: sem.SEMResult) -> tuple[float, float]:
    """The CFI and RMSEA Chen's rule is applied to: robust where reported, else standard."""
    fm = res.fit
    cfi, rmsea = fm.get("cfi_robust", np.nan), fm.get("rmsea_robust", np.nan)
    if not (np.isfinite(cfi) and np.isfinite(rmsea)):
        cfi, rmsea = fm.get("cfi_scaled", np.nan), fm.get("rmsea_scaled", np.nan)
    if not (np.isfinite(cfi) and np.isfinite(rmsea)):
        cfi, rmsea = fm["cfi"], fm["rmsea"]
    return float(cfi), float(rmsea)


def invariance_table(data: pd.DataFrame, model, group, levels: Sequence[str] | None = None, *,
                     estimator: str = "ml", missing: str = "listwise", partial: Sequence[str] = (),
                     delta_cfi_min: float = DELTA_CFI_MIN, delta_rmsea_max: float = DELTA_RMSEA_MAX) -> pd.DataFrame:
    """The invariance levels of a model across groups: one row per level.

    Parameters
    ----------
    data : DataFrame with the model's item columns (reverse-keyed, NaN = missing).
    model : ``{factor: [item, ...]}`` (e.g. :func:`instrument_model`) or lavaan syntax.
    group : Series with the same index as ``data`` (cohort or group labels), or a column name.
    levels : the levels to fit, in order (default all of the estimator's).
    estimator, missing : see :func:`attachment_pipeline.sem.fit`.
    partial : parameters freed at every constrained level (partial invariance).
    delta_cfi_min, delta_rmsea_max : Chen's (2007) cut-offs.

    Returns
    -------
    DataFrame
        Columns :data:`INVARIANCE_COLUMNS`: the fit of each level (lavaan's
        ``fitMeasures`` names; scaled and robust ones for mlr and wlsmv), then
        against the previous level ``delta_chi2``, ``delta_df``, ``delta_p`` (with
        ``delta_method``: ``lrt``, ``satorra.bentler.2001`` or ``satorra.2000``),
        ``delta_cfi``, ``delta_rmsea`` (on :func:`decision_indices`) and ``decision``
        (:func:`invariance_decision`); ``partial`` lists freed parameters.
    """
    chosen = _levels_for(estimator) if levels is None else tuple(levels)
    fits = fit_levels(data, model, group, chosen, estimator=estimator, missing=missing, partial=partial)
    return table_of_fits(fits, chosen, partial, delta_cfi_min, delta_rmsea_max)


def table_of_fits(fits: Sequence[sem.SEMResult], levels: Sequence[str], partial: Sequence[str] = (),
                  delta_cfi_min: float = DELTA_CFI_MIN, delta_rmsea_max: float = DELTA_RMSEA_MAX) -> pd.DataFrame:
    """The :func:`invariance_table` rows of already fitted levels (in order, as :func:`fit_levels` returns)."""
    rows, supported = [], True
    for k, (level, res) in enumerate(zip(levels, fits)):
        row = {"model": level, "estimator": res.estimator, "missing": res.missing, "n": res.n,
               "n_groups": len(res.groups), "converged": res.converged, "partial": "; ".join(partial)}
        for key in ("npar", "chi2", "df", "p", "cfi", "tli", "rmsea", "rmsea_low", "rmsea_high", "srmr",
                    *_SCALED, "baseline_chi2", "baseline_df", "loglik", "aic", "bic"):
            row[key] = res.fit.get(key, np.nan)
        cfi, rmsea = decision_indices(res)
        if k == 0:
            row.update(delta_chi2=np.nan, delta_df=np.nan, delta_p=np.nan, delta_method="", delta_cfi=np.nan,
                       delta_rmsea=np.nan)
            row["decision"] = (f"{level} model (reference): CFI = {_apa(cfi)}, RMSEA = {_apa(rmsea)}, "
                               f"SRMR = {_apa(res.fit['srmr'])}")
            supported = res.converged
        else:
            prev = fits[k - 1]
            d = sem.compare(res, prev)
            pcfi, prmsea = decision_indices(prev)
            row.update(delta_chi2=d.delta_chi2, delta_df=float(d.delta_df), delta_p=d.p, delta_method=d.method,
                       delta_cfi=cfi - pcfi, delta_rmsea=rmsea - prmsea)
            supported, row["decision"] = invariance_decision(
                level, row["delta_cfi"], row["delta_rmsea"], previous_supported=supported,
                converged=res.converged and prev.converged, delta_cfi_min=delta_cfi_min,
                delta_rmsea_max=delta_rmsea_max)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(INVARIANCE_COLUMNS))


def invariance_parameters(data: pd.DataFrame, model, group, levels: Sequence[str] | None = None, *,
                          estimator: str = "ml", missing: str = "listwise", partial: Sequence[str] = ()
                          ) -> pd.DataFrame:
    """Estimates of every level, long: ``model, group, lhs, op, rhs, label, est, se, z, p, std_all``.

    ``group`` is the group label; ``label`` marks parameters constrained equal across groups
    (lavaan ``parameterEstimates`` / ``standardizedSolution`` names: ``=~``, ``~~``, ``~1``, ``|``).
    """
    allowed = _levels_for(estimator)
    chosen = allowed if levels is None else tuple(levels)
    fits = fit_levels(data, model, group, chosen, estimator=estimator, missing=missing, partial=partial)
    frames = []
    for level, res in zip(chosen, fits):
        e = res.estimates.copy()
        e["group"] = [res.groups[g] for g in e["group"]]
        e.insert(0, "model", level)
        frames.append(e[["model", "group", "lhs", "op", "rhs", "label", "est", "se", "z", "p", "std_all"]])
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------
# dyadic invariance: both partners' items in one model (dySEM's dyadic CFA)

#: Levels of dyadic invariance across the two partners (dySEM's names).
DYADIC_LEVELS = ("configural", "loading", "intercept")
_DYADIC_AS = {"loading": "metric", "intercept": "scalar"}


def dyadic_model_syntax(model, level: str = "configural", suffixes=("_p1", "_p2")) -> str:
    """lavaan syntax of a dyadic CFA of ``{factor: [items]}`` for two partners (Kenny, Kashy & Cook, 2006, ch. 6).

    Both partners' items are in one model: factor ``f<suffix>`` measured by
    ``item<suffix>``, the same item's residuals correlated across partners, every
    factor correlated with every other. Scale setting is dySEM's default (fixed
    factor): ``configural`` has both partners' factor variances 1 and means 0;
    ``loading`` equates each item's loading across partners and frees partner 2's
    factor variances; ``intercept`` also equates the item intercepts and frees partner
    2's factor means (Sakaluk, Fisher & Kilshaw, 2021; dySEM ``scriptCFA``).

    >>> print(dyadic_model_syntax({"f": ["x1", "x2"]}, "loading"))
    f_p1 =~ NA*x1_p1 + lf_1*x1_p1 + lf_2*x2_p1
    f_p1 ~~ 1*f_p1
    f_p1 ~ 0*1
    f_p2 =~ NA*x1_p2 + lf_1*x1_p2 + lf_2*x2_p2
    f_p2 ~~ NA*f_p2
    f_p2 ~ 0*1
    x1_p1 ~~ x1_p2
    x2_p1 ~~ x2_p2
    """
    if level not in DYADIC_LEVELS:
        raise ValueError(f"level must be one of {DYADIC_LEVELS}, got {level!r}.")
    simple_structure(model)  # checks the model
    lines = []
    for f, items in model.items():
        for k, suf in enumerate(suffixes):
            lab = [f"l{f}_{j + 1}*" if level != "configural" else "" for j in range(len(items))]
            lines.append(f"{f}{suf} =~ NA*{items[0]}{suf} + " + " + ".join(f"{lb}{it}{suf}" for lb, it in zip(lab, items)))
            lines.append(f"{f}{suf} ~~ {'NA' if (level != 'configural' and k == 1) else '1'}*{f}{suf}")
            lines.append(f"{f}{suf} ~ {'NA' if (level == 'intercept' and k == 1) else '0'}*1")
            if level == "intercept":
                lines += [f"{it}{suf} ~ t{f}_{j + 1}*1" for j, it in enumerate(items)]
        lines += [f"{it}{suffixes[0]} ~~ {it}{suffixes[1]}" for it in items]
    return "\n".join(lines)


def dyadic_invariance_table(items_1: pd.DataFrame, items_2: pd.DataFrame, model, *, estimator: str = "mlr",
                            missing: str = "fiml", levels: Sequence[str] = DYADIC_LEVELS,
                            delta_cfi_min: float = DELTA_CFI_MIN,
                            delta_rmsea_max: float = DELTA_RMSEA_MAX) -> pd.DataFrame:
    """Measurement invariance across the two partners of distinguishable dyads: one row per level.

    ``items_1`` and ``items_2`` hold partner 1's and partner 2's answers to the items
    of ``model`` (one row per couple, in the same order). Each level of
    :func:`dyadic_model_syntax` is fitted by the engine; consecutive levels are
    compared as :func:`invariance_table` does (the estimator's difference test and
    Chen's rule on the changes in CFI and RMSEA). Columns :data:`INVARIANCE_COLUMNS`
    with ``model`` = the dyadic level. Agrees with lavaan (tested).
    """
    if estimator not in ("ml", "mlr"):
        raise ValueError("Dyadic invariance is fitted with ml or mlr (continuous items).")
    cols = [c for f in model.values() for c in f]
    if list(items_1.columns) != cols and not set(cols) <= set(items_1.columns):
        raise ValueError("items_1 lacks some of the model's items.")
    if len(items_1) != len(items_2):
        raise ValueError(f"Both partners need one row per couple ({len(items_1)} and {len(items_2)} rows).")
    wide = pd.concat([items_1[cols].add_suffix("_p1").reset_index(drop=True),
                      items_2[cols].add_suffix("_p2").reset_index(drop=True)], axis=1)
    wide = wide.apply(pd.to_numeric, errors="coerce")
    fits, prev = [], None
    for level in levels:
        prev = sem.fit(dyadic_model_syntax(model, level), wide, estimator=estimator, missing=missing,
                       meanstructure=True, start=prev)
        fits.append(prev)
    # judged as the multi-group levels they correspond to (loading = metric, intercept = scalar), then named
    # by their dyadic level
    table = table_of_fits(fits, [_DYADIC_AS.get(level, level) for level in levels], (), delta_cfi_min,
                          delta_rmsea_max)
    for k, level in enumerate(levels):
        as_ = _DYADIC_AS.get(level, level)
        table.loc[k, "decision"] = (table.loc[k, "decision"]
                                    .replace("metric invariance already", "loading invariance already")
                                    .replace(f"{as_} invariance", f"{level} invariance")
                                    .replace(f"{as_} model (reference)", f"{level} model (reference)"))
    table["model"] = list(levels)
    return table


def dyadic_invariance_by_subscale(items: pd.DataFrame, ids_1, ids_2, instrument, *, estimator: str = "mlr",
                                  missing: str = "fiml") -> pd.DataFrame:
    """:func:`dyadic_invariance_table` for each subscale of an instrument (one construct per model).

    ``items``: keyed items indexed by respondent id; ``ids_1`` / ``ids_2``: the first
    and second role's respondent of each couple. One model per subscale keeps the
    model at the size dySEM's one-construct scripts fit (36 ECR-R items per model
    rather than 72). Adds the columns ``instrument`` and ``subscale`` first.
    """
    model = instrument_model(instrument)
    parts = []
    for sub, cols in model.items():
        x = items[cols].apply(pd.to_numeric, errors="coerce")
        t = dyadic_invariance_table(x.loc[list(ids_1)], x.loc[list(ids_2)], {sub: cols}, estimator=estimator,
                                    missing=missing)
        t.insert(0, "subscale", sub)
        t.insert(0, "instrument", instrument.name)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)
