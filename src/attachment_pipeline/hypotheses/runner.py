"""Run a cohort's declared hypotheses, correct across them and build ``hypotheses.csv``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..inference import NAN, adjust_pvalues, adjust_pvalues_weighted
from ..reliability import derive_seed
from . import families
from .families import CohortData
from .registry import (FAMILIES, HypothesisTestingSettings, check_alpha_levels, check_hypotheses,
                       check_testing_settings)

HYPOTHESES_COLUMNS = ("id", "family", "cohort", "description", "n", "statistic_name", "statistic", "df",
                      "p_value", "p_adjusted", "effect_size_name", "effect_size", "ci_low", "ci_high",
                      "direction", "alpha", "supported", "null_value", "primary", "note")


# ---------------------------------------------------------------------------
# running a cohort's hypotheses


@dataclass(frozen=True)
class HypothesisResult:
    """One row of ``hypotheses.csv`` (see the module docstring)."""

    id: str
    family: str
    cohort: str
    description: str
    n: int
    statistic_name: str
    statistic: float
    df: float
    p_value: float
    p_adjusted: float
    effect_size_name: str
    effect_size: float
    ci_low: float
    ci_high: float
    direction: str
    alpha: float
    supported: object
    null_value: float
    primary: bool
    note: str


@dataclass(frozen=True)
class HypothesesOutput:
    """``hypotheses.csv`` of one cohort, the extra tables (``pairing_table`` ...) each with an ``id`` column,
    and each hypothesis' own files (``<id>_apim`` ...) by name."""

    table: pd.DataFrame
    tables: dict
    files: dict = field(default_factory=dict)


def run_hypotheses(entries, data: CohortData, settings: HypothesisTestingSettings | dict | None = None,
                   seed: int = 0) -> HypothesesOutput:
    """Run a cohort's hypotheses, correct across them and build ``hypotheses.csv``.

    Parameters
    ----------
    entries : declared hypotheses (checked here again, defaults filled).
    data : the cohort's data (:class:`CohortData`).
    settings : ``hypothesis_testing`` (:class:`HypothesisTestingSettings` or dict).
    seed : the study seed; hypothesis ``id`` uses ``derive_seed(seed, cohort, id)``.

    A family called without its data raises ValueError naming the hypothesis and cohort.
    """
    st = settings if isinstance(settings, HypothesisTestingSettings) else check_testing_settings(settings)
    entries = check_hypotheses(list(entries))
    check_alpha_levels({data.cohort: entries}, st)
    results, tables, files = [], {}, {}
    for e in entries:
        spec = FAMILIES[e["family"]]
        try:
            out = getattr(families, spec.function)(data, e, st, derive_seed(seed, data.cohort, e["id"]))
        except ValueError as exc:
            raise ValueError(f"hypotheses[{e['id']}] ({e['family']}) in cohort {data.cohort!r}: {exc}") from None
        for row in out.rows:
            results.append((e, row))
        for name, t in out.tables.items():
            t = t.copy()
            t.insert(0, "id", e["id"])
            tables.setdefault(name, []).append(t)
        for name, t in out.files.items():
            files[f"{e['id']}_{name}"] = t
    prim = [i for i, (_, r) in enumerate(results) if r.primary]
    pvals = [results[i][1].p_value for i in prim]
    if st.correction == "weighted_holm":
        adj = adjust_pvalues_weighted(pvals, [results[i][0]["alpha"] for i in prim])
        level = float(sum(results[i][0]["alpha"] for i in prim))
    else:
        adj = adjust_pvalues(pvals, st.correction)
        level = None
    p_adj = {i: a for i, a in zip(prim, adj)}
    rows = []
    for i, (e, r) in enumerate(results):
        direction = r.direction or e["direction"]
        if r.primary:
            pa = float(p_adj[i])
            supported = bool(np.isfinite(pa) and pa < (level if level is not None else e["alpha"]) and r.in_direction)
        else:
            pa, supported = NAN, None
        rows.append(HypothesisResult(
            id=e["id"] + r.suffix, family=e["family"], cohort=data.cohort, description=r.description, n=int(r.n),
            statistic_name=r.statistic_name, statistic=float(r.statistic), df=float(r.df),
            p_value=float(r.p_value), p_adjusted=pa, effect_size_name=r.effect_size_name,
            effect_size=float(r.effect_size), ci_low=float(r.ci_low), ci_high=float(r.ci_high),
            direction=direction, alpha=float(e["alpha"]), supported=supported, null_value=float(r.null_value),
            primary=r.primary,
            note=r.note + (f"; weighted Holm: alpha {e['alpha']:g} is this hypothesis' share of the family-wise "
                           f"level {level:g}, supported when p_adjusted < {level:g}" if level is not None and r.primary
                           else "")))
    table = pd.DataFrame([asdict(r) for r in rows], columns=list(HYPOTHESES_COLUMNS))
    table["supported"] = table["supported"].astype("boolean")
    table["n"] = table["n"].astype(np.int64)
    return HypothesesOutput(table, {k: pd.concat(v, ignore_index=True) for k, v in tables.items()}, files)
