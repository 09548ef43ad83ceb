"""File-level steps, one per Snakemake rule: read inputs, call the pure functions, write outputs.

Each step takes plain paths and settings (what the rule passes as ``params``),
so it can be called and tested without Snakemake. :func:`run_step` is what
the thin rule scripts in ``workflow/scripts/`` call: it turns a
:class:`~attachment_pipeline.validate.DataError` (or a read or config error)
into a one-paragraph message on stderr and a non-zero exit, without traceback;
any other failure likewise, with the traceback in the step's log file for a bug
report. A failed step leaves none of its outputs behind; every table is written
to a temporary name and renamed when complete.

An analysis that the data cannot support (too few respondents for a factor
analysis, an item without variance, a classification method needing more
respondents, a hypothesis whose data are not there) does not stop the cohort: its
tables get a row per skipped analysis with the reason in a ``skipped_reason``
column (:data:`SKIPPED`), and the report lists it.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import traceback
import warnings
from pathlib import Path

import pandas as pd

from .config import Classification, Cohort, ConfigError, Factors, Irt, Reliability, Scoring
from .io import ReadError, read_responses
from .tables import (SKIPPED, fresh_dir, read_scores, read_table, skipped_rows, split_skipped,  # noqa: F401 (re-exported)
                     write_csv, write_json)
from .scoring import score_instrument, scoring_counts
from .validate import DataError, text_columns, validate_cohort

log = logging.getLogger("attachment_pipeline")


#: Errors by which a statistics function says "these data cannot support me" (numpy's
#: LinAlgError is a ValueError); anything else is a bug and stops the step.
ANALYSIS_ERRORS = (ValueError, ArithmeticError)


def attempt(what: str, func, *args, **kwargs):
    """``(func(*args, **kwargs), None)``, or ``(None, reason)`` when the data cannot support the analysis.

    The reason is the function's message; the traceback goes to the step's log.
    """
    try:
        return func(*args, **kwargs), None
    except ANALYSIS_ERRORS as exc:
        log.info("skipped %s: %s\n%s", what, exc, traceback.format_exc())
        return None, " ".join(str(exc).split()) or type(exc).__name__


def _concat(parts: list, **keys) -> pd.DataFrame:
    """Concatenate computed parts and skipped rows; an empty list gives a table of its key columns."""
    parts = [p for p in parts if p is not None and len(p.columns)]
    if not parts:
        return pd.DataFrame(columns=list(keys) + [SKIPPED])
    computed = [p for p in parts if SKIPPED not in p.columns]
    frame = pd.concat(computed + [p for p in parts if SKIPPED in p.columns], ignore_index=True)
    if SKIPPED in frame.columns:  # the reason last, after the table's own columns
        frame = frame[[c for c in frame.columns if c != SKIPPED] + [SKIPPED]]
    return frame


def score_cohort(cohort: Cohort, scoring: Scoring, out: dict) -> dict:
    """Validate and score one cohort.

    Writes ``out["validation"]`` (qc/validation.json), ``out["missingness"]``
    (qc/missingness.csv), ``out["keyed_items"]`` (items.csv: id + every instrument's
    keyed items) and ``out["scores"]`` (scores.csv: id, scores, group, couple and
    covariate columns). Returns the validation report.
    """
    raw = read_responses(cohort.responses, text_columns(cohort), sheet=cohort.sheet, header_row=cohort.header_row)
    valid = validate_cohort(raw, cohort)
    id_name = valid.ids.name
    keyed_all, scores_all = [], []
    report = valid.report
    report["scoring"] = {"min_answered": scoring.min_answered, "minmax_band": scoring.minmax_band}
    for inst in cohort.instruments:
        keyed, scores = score_instrument(valid.items[inst.name], inst, scoring.min_answered, scoring.minmax_band)
        keyed_all.append(keyed)
        scores_all.append(scores)
        counts = scoring_counts(scores, inst)
        report["items"][inst.name]["scoring"] = counts
        if counts["scored"] == 0:
            report["warnings"].append(
                f"{inst.name}: none of the {len(scores)} respondents could be scored (each answered fewer than "
                f"{scoring.min_answered:.0%} of a subscale's items); the analyses of {inst.name} are skipped.")
    items = pd.concat(keyed_all, axis=1)
    items.index.name = id_name
    scores = pd.concat(scores_all + [valid.respondents], axis=1)
    scores.index.name = id_name
    write_csv(items, out["keyed_items"], index=True)
    write_csv(scores, out["scores"], index=True)
    write_csv(valid.missingness, out["missingness"])
    write_json(report, out["validation"])
    return report


def instrument_first(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table with its ``instrument`` column moved to the front."""
    return frame[["instrument"] + [c for c in frame.columns if c != "instrument"]]


def classify_cohort(cohort: Cohort, settings: Classification, seed: int, scores_path, out: dict) -> None:
    """Four attachment styles per dimension instrument and method (see :mod:`attachment_pipeline.classify`).

    Writes classification.csv, style_counts.csv, classification_agreement.csv,
    classification_coverage.csv and, when ``gmm`` is among the methods,
    gmm_profiles.csv and gmm_bic.csv; every table carries an ``instrument`` column.
    """
    from . import classify as cl  # heavy imports stay out of the other steps' start-up

    scores = read_scores(scores_path)
    tables = {k: [] for k in ("classification", "counts", "agreement", "coverage", "gmm_profiles", "gmm_bic")}
    for inst in cohort.dimension_instruments:
        dims = pd.DataFrame({"anxiety": scores[f"{inst.name}_anxiety"],
                             "avoidance": scores[f"{inst.name}_avoidance"]}, index=scores.index)
        parts, done = [], []
        for method in settings.methods:  # one method at a time: a method the data cannot support is skipped alone
            table, why = attempt(f"{inst.name} {method}", cl.classify_all, dims, [method], instrument=inst.name,
                                 scale_min=inst.scale_min, scale_max=inst.scale_max, seed=seed, ties=settings.ties,
                                 reference=settings.reference, cut=settings.cut)
            if why is None:
                parts.append(table)
                done.append(method)
            else:
                for key in ("classification", "counts", "coverage"):
                    tables[key].append(skipped_rows(why, instrument=inst.name, method=method))
        if parts:
            table = pd.concat(parts, ignore_index=True)
            tables["classification"].append(table.rename(columns={"id": scores.index.name}))
            tables["counts"].append(cl.style_counts(table).assign(instrument=inst.name))
            tables["coverage"].append(cl.classification_coverage(dims, table).assign(instrument=inst.name))
            agreement, why = attempt(f"{inst.name} agreement", cl.agreement, table)
            tables["agreement"].append(agreement.assign(instrument=inst.name) if why is None
                                       else skipped_rows(why, instrument=inst.name))
        if "gmm" in settings.methods:
            fitted, why = attempt(f"{inst.name} gmm profiles", cl.gmm_profiles, dims, seed)
            if why is None:
                tables["gmm_profiles"].append(fitted[0].assign(instrument=inst.name))
                tables["gmm_bic"].append(fitted[1].assign(instrument=inst.name))
            else:
                tables["gmm_profiles"].append(skipped_rows(why, instrument=inst.name))
                tables["gmm_bic"].append(skipped_rows(why, instrument=inst.name))
    for key, parts in tables.items():
        if key not in out:
            continue
        frame = _concat(parts, instrument=None)
        if key == "classification" and scores.index.name in frame.columns:
            frame = frame[[scores.index.name] + [c for c in frame.columns if c != scores.index.name]]
        write_csv(frame if key == "classification" else instrument_first(frame), out[key])


def minmax_by_style_table(classification_path, scores_path, out_path) -> None:
    """Min/max typology by attachment style, per instrument and method (``minmax_by_style.csv``)."""
    from . import classify as cl

    scores = read_scores(scores_path)
    table, skipped = split_skipped(read_table(classification_path, id_column=scores.index.name))
    table = table.rename(columns={scores.index.name: "id"})
    parts = [skipped[["instrument", "method", SKIPPED]]] if len(skipped) else []
    for inst, t in (table.groupby("instrument", sort=False) if len(table) else ()):
        part, why = attempt(f"{inst} min/max by style", cl.minmax_by_style, t, scores["minmax_type"])
        parts.append(part.assign(instrument=inst) if why is None else skipped_rows(why, instrument=inst))
    write_csv(instrument_first(_concat(parts, instrument=None)), out_path)


def reliability_cohort(cohort: Cohort, settings: Reliability, seed: int, items_path, scores_path, out: dict) -> None:
    """Reliability of every subscale of every instrument, overall and per group level.

    Writes ``out["reliability"]`` (reliability.csv) and ``out["item_stats"]``
    (item_stats.csv); see :func:`attachment_pipeline.reliability.reliability_tables`.
    A ``missing`` column records the missing-data method used.
    """
    from . import reliability as rel

    items = read_scores(items_path)
    groups = read_scores(scores_path)[list(cohort.groups)]
    groups = groups.astype(object).where(groups.notna(), None)
    rel_parts, item_parts = [], []
    for inst in cohort.instruments:
        subscales = {sub: [f"{inst.name}_{n}" for n in inst.subscale_items(sub)] for sub in inst.subscales}
        tables, why = attempt(f"{inst.name} reliability", rel.reliability_tables, items[inst.item_columns()], groups,
                              subscales, instrument=inst.name, missing=settings.missing, n_boot=settings.n_boot,
                              seed=seed, ci=settings.ci, omega_factors=settings.omega_factors)
        if why is None:
            r, i = tables
            r.insert(4, "missing", settings.missing)
        else:
            r = i = skipped_rows(why, instrument=inst.name)
        rel_parts.append(r)
        item_parts.append(i)
    write_csv(_concat(rel_parts, instrument=None), out["reliability"])
    write_csv(_concat(item_parts, instrument=None), out["item_stats"])


def factors_cohort(cohort: Cohort, settings: Factors, seed: int, items_path, out: dict) -> None:
    """Factor structure of every dimension instrument: factorability, parallel analysis, EFA, CFA.

    The items of an instrument are analysed together. KMO, Bartlett, parallel
    analysis and the EFA share one correlation matrix
    (:func:`attachment_pipeline.factors.efa_moments`: EM correlations for
    ``fiml``, pairwise or listwise Pearson correlations, psych's polychoric ones
    for ``wlsmv``); the CFA uses the configured estimator and missing-data method
    (:func:`attachment_pipeline.factors.cfa_tables`). Parallel analysis uses a seed
    derived from the study seed and the instrument name. Writes the seven tables
    named in ``out``.
    """
    from . import factors as fa
    from .reliability import derive_seed

    items = read_scores(items_path)
    tables = {k: [] for k in ("factorability", "parallel", "efa_loadings", "efa_fit", "cfa_fit", "cfa_loadings",
                              "cfa_thresholds")}
    for inst in cohort.dimension_instruments:
        name = inst.name
        cfa, why = attempt(f"{name} CFA", fa.cfa_tables, items[inst.item_columns()], inst,
                           estimator=settings.estimator, missing=settings.missing)
        for k, key in enumerate(("cfa_fit", "cfa_loadings", "cfa_thresholds")):
            tables[key].append(cfa[k] if why is None else skipped_rows(why, instrument=name))
        moments, why = attempt(f"{name} item moments", fa.efa_moments, items[inst.item_columns()],
                               settings.missing, settings.estimator)
        if why is not None:
            for key in ("factorability", "parallel", "efa_loadings", "efa_fit"):
                tables[key].append(skipped_rows(why, instrument=name))
            continue
        pa, why = attempt(f"{name} parallel analysis", fa.parallel_table, moments, inst,
                          n_iter=settings.parallel_iterations, seed=derive_seed(seed, "parallel_analysis", name),
                          smc=settings.parallel_smc)
        tables["parallel"].append(pa if why is None else skipped_rows(why, instrument=name))
        fact, why = attempt(f"{name} factorability", fa.factorability_table, moments, inst, pa)
        tables["factorability"].append(fact if why is None else skipped_rows(why, instrument=name))
        efa, why = attempt(f"{name} EFA", fa.efa_tables, moments, inst, settings.n_factors, settings.extraction,
                           settings.rotation)
        tables["efa_loadings"].append(efa[0] if why is None else skipped_rows(why, instrument=name))
        tables["efa_fit"].append(efa[1] if why is None else skipped_rows(why, instrument=name))
    for key, parts in tables.items():
        write_csv(_concat(parts, instrument=None), out[key])


#: the IRT step's outputs (keys of ``out`` in :func:`irt_cohort`), in the order they are written
IRT_OUTPUTS = ("irt_items", "irt_fit", "irt_information", "irt_dif", "irt_scores")


def irt_cohort(cohort: Cohort, settings: Irt, items_path, scores_path, out: dict) -> None:
    """Graded response model of every subscale of the cohort's IRT instruments (:mod:`attachment_pipeline.irt`).

    Writes ``irt_items.csv`` (parameters and S-X2 item fit), ``irt_fit.csv`` (log-likelihood,
    AIC/BIC, M2*/C2, RMSEA2, reliabilities), ``irt_information.csv`` (item and test information
    on a theta grid), ``irt_dif.csv`` (DIF across each group column and the partner roles) and
    ``irt_scores.csv`` (id column, then EAP and ML theta with standard errors per subscale).
    Group, role and couple columns are read as text; with couples, DIF tests are cluster-robust.
    """
    from . import irt

    items = read_scores(items_path)
    labels = pd.read_csv(scores_path, dtype=str, index_col=0, keep_default_na=False, na_values=[""])
    labels = labels.reindex(items.index)  # both files are keyed by the same id strings
    couples = cohort.couples
    roles = labels[couples.role_column] if couples and couples.role_column else None
    couple_ids = labels[couples.couple_column] if couples else None
    tables = {k: [] for k in IRT_OUTPUTS}
    for inst in settings.instruments_for(cohort):
        subscales = {sub: [f"{inst.name}_{n}" for n in inst.subscale_items(sub)] for sub in inst.subscales}
        numbers = (settings.dif_anchors or {}).get(inst.name)
        anchors = ({sub: [f"{inst.name}_{n}" for n in numbers if n in inst.subscale_items(sub)] for sub in subscales}
                   if numbers else None)
        try:
            result = irt.grm_tables(items[inst.item_columns()], subscales, instrument=inst.name,
                                    scale=(inst.scale_min, inst.scale_max), link=settings.link,
                                    quadrature_points=settings.quadrature_points, groups=labels[list(cohort.groups)],
                                    roles=roles, couples=couple_ids, dif=settings.dif, anchors=anchors,
                                    dif_min_group=settings.dif_min_group, mincell=settings.item_fit_mincell)
        except irt.IRTError as exc:
            raise DataError(f"IRT of {inst.name} in cohort {cohort.name}: {exc} Check the item answers, or "
                            f"leave {inst.name} out with `irt.instruments`.") from None
        for key, frame in zip(IRT_OUTPUTS, (result.items, result.fit, result.information, result.dif, result.scores)):
            tables[key].append(frame)
    for key in IRT_OUTPUTS[:-1]:
        write_csv(pd.concat(tables[key], ignore_index=True) if tables[key] else pd.DataFrame(), out[key])
    scores = pd.concat(tables["irt_scores"], axis=1) if tables["irt_scores"] else pd.DataFrame(index=items.index)
    scores.index.name = items.index.name
    write_csv(scores, out["irt_scores"], index=True)


def hypotheses_cohort(cohort: Cohort, entries: list, testing, primary_method: str, seed: int,
                      inputs: dict, out: dict) -> None:
    """Run a cohort's declared hypotheses (:func:`attachment_pipeline.hypotheses.run_hypotheses`).

    ``inputs``: scores, keyed_items, reliability and (for cohorts with a dimension
    instrument) classification. Writes ``out["hypotheses"]`` (hypotheses.csv) and the
    family tables (pairing_table.csv, transmission_table.csv, prevalence_table.csv, ...)
    into the folder ``out["tables"]``.
    """
    from . import hypotheses as hy
    from .validate import validate_children

    scores = read_scores(inputs["scores"])
    classification = None
    if "classification" in inputs:
        classification = read_table(inputs["classification"], id_column=scores.index.name, computed=True)
    children = validate_children(cohort.children, scores.index)[0] if cohort.children is not None else None
    data = hy.CohortData(
        cohort=cohort.name, scores=scores, classification=classification, items=read_scores(inputs["keyed_items"]),
        children=children, couple_column=cohort.couples.couple_column if cohort.couples else None,
        role_column=cohort.couples.role_column if cohort.couples else None, primary_method=primary_method,
        instruments=cohort.instruments, reliability=read_table(inputs["reliability"], computed=True),
        distinguishable=cohort.couples.distinguishable if cohort.couples else "auto",
    )
    entries, skipped = list(entries), []
    while True:  # a hypothesis these data cannot support is skipped with the family's reason; the rest run
        result, why = attempt("hypotheses", hy.run_hypotheses, entries, data, testing, seed)
        if why is None:
            break
        failed = next((e for e in entries if why.startswith(f"hypotheses[{e['id']}]")), None)
        if failed is None:  # not one hypothesis' failure: a data problem of the whole step
            raise DataError(f"{why} Check the hypotheses in the config, or the cohort's data.")
        entries.remove(failed)
        skipped.append((failed, why.split(": ", 1)[-1]))
        if not entries:
            result = None
            break
    table = result.table if result is not None else pd.DataFrame(columns=list(hy.HYPOTHESES_COLUMNS))
    if skipped:
        rows = pd.DataFrame([{"id": e["id"], "family": e["family"], "cohort": cohort.name,
                              "description": e.get("description") or "", "n": 0, "primary": True,
                              "direction": e.get("direction"), "alpha": e.get("alpha"), SKIPPED: why}
                             for e, why in skipped])
        table = pd.concat([table, rows], ignore_index=True) if len(table) else rows.reindex(
            columns=list(hy.HYPOTHESES_COLUMNS) + [SKIPPED])
    write_csv(table, out["hypotheses"])
    folder = fresh_dir(out["tables"])
    files = {**result.tables, **result.files} if result is not None else {}
    for name, frame in sorted(files.items()):
        write_csv(frame, folder / f"{name}.csv")


def dyad_score_sets(cohort: Cohort) -> dict:
    """The score sets whose distinguishability and partner similarity ``dyads/*.csv`` report."""
    sets = {}
    for inst in cohort.instruments:
        if inst.kind == "minmax":
            sets[f"{inst.name}_index"] = [f"{inst.name}_index"]
        else:
            sets[inst.name] = [f"{inst.name}_{s}" for s in inst.subscales]
    return sets


def dyads_cohort(cohort: Cohort, factors: Factors, ci: float, inputs: dict, out: dict) -> None:
    """The couples' dyad tables: distinguishability, partner similarity and dyadic measurement invariance.

    Writes ``out["distinguishability"]`` and ``out["nonindependence"]``
    (:func:`attachment_pipeline.dyads.dyad_tables`) and ``out["invariance"]``: for each
    dimension instrument and subscale, configural, loading and intercept invariance
    across the two roles (:func:`attachment_pipeline.invariance.dyadic_invariance_by_subscale`),
    fitted with the ``factors`` estimator and missing-data method (WLSMV: MLR with FIML);
    one explanatory row when the partners are not distinguished by a role.
    """
    from . import dyads as dy
    from .invariance import INVARIANCE_COLUMNS, dyadic_invariance_by_subscale

    scores = read_scores(inputs["scores"])
    cc, rc = cohort.couples.couple_column, cohort.couples.role_column
    try:
        dist, ni = dy.dyad_tables(scores, cc, rc, dyad_score_sets(cohort), cohort.couples.distinguishable, ci)
    except ValueError as exc:
        raise DataError(f"Cohort {cohort.name}: the couples cannot be analysed: {exc}") from None
    write_csv(dist, out["distinguishability"])
    write_csv(ni, out["nonindependence"])
    items = read_scores(inputs["keyed_items"])
    est, miss = (factors.estimator, factors.missing) if factors.estimator in ("ml", "mlr") else ("mlr", "fiml")
    parts = []
    for inst in cohort.dimension_instruments:
        try:
            cf = dy.couples_frame(scores, cc, rc)
        except ValueError as exc:  # no couples at all: nothing to compare
            parts.append(pd.DataFrame([{"instrument": inst.name, "subscale": "", "model": "not fitted",
                                        "decision": f"not fitted: {exc}"}]))
            continue
        if not cf.roles:
            why = ("no role column" if not rc else "a mixed sample (couples without the same two roles)")
            parts.append(pd.DataFrame([{"instrument": inst.name, "subscale": "", "model": "not fitted",
                                        "decision": f"not fitted: {why}; measurement is compared across roles only "
                                                    "when a role distinguishes every couple"}]))
            continue
        try:
            parts.append(dyadic_invariance_by_subscale(items, cf.couples["id_a"], cf.couples["id_b"], inst,
                                                       estimator=est, missing=miss))
        except ValueError as exc:
            parts.append(pd.DataFrame([{"instrument": inst.name, "subscale": "", "model": "not fitted",
                                        "decision": str(exc)}]))
    columns = ["instrument", "subscale", *INVARIANCE_COLUMNS]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    write_csv(table.reindex(columns=columns), out["invariance"])


def prereg_status(config: dict, lock_path, out_path) -> dict:
    """Whether the hypotheses and analysis settings match the preregistration lock (``prereg_status.json``)."""
    from . import prereg

    lock_path = Path(lock_path)
    if not lock_path.is_file():
        status = {"status": "no lock", "lock": str(lock_path), "differences": [],
                  "statement": f"No preregistration lock ({lock_path}); run `make preregister` before seeing the data."}
    else:
        lock = prereg.read_lock(lock_path)
        check = prereg.check_lock(config, lock)
        status = {"status": "matches" if check.matches else "differs", "lock": str(lock_path),
                  "locked_hash": check.locked_hash, "current_hash": check.current_hash,
                  "differences": list(check.differences), "statement": prereg.lock_statement(check, lock)}
    write_json(status, out_path)
    return status


#: hypothesis effect sizes that are correlations, and so can be pooled across cohorts
_CORRELATION_EFFECTS = ("r", "r_double_entry", "partial_r")


def _group_invariance(items: pd.DataFrame, model: dict, group: pd.Series, comparison: str,
                      estimator: str = "ml", missing: str = "listwise") -> pd.DataFrame:
    """Invariance across the levels of ``group``; levels too small for the model are left out and named."""
    from . import invariance as inv

    answered = items[[c for f in model.values() for c in f]]
    usable = answered.notna().all(axis=1) if missing == "listwise" else answered.notna().any(axis=1)
    complete = usable & group.notna()
    sizes = group[complete].value_counts()
    n_items = sum(len(v) for v in model.values())
    small = sorted(str(k) for k, v in sizes.items() if v <= n_items)
    keep = group.where(~group.isin(small))
    note = (f"left out (n <= {n_items} items, too few for a covariance matrix): {', '.join(small)}"
            if small else "")
    if keep[complete].nunique() < 2:
        return pd.DataFrame([{"comparison": comparison, "model": "not fitted",
                              "decision": f"fewer than two groups large enough; {note}"}])
    try:
        table = inv.invariance_table(items, model, keep, estimator=estimator, missing=missing)
    except ValueError as exc:  # e.g. items without any common factor: reported, not fatal for the study
        return pd.DataFrame([{"comparison": comparison, "model": "not fitted", "decision": str(exc), "note": note}])
    table.insert(0, "comparison", comparison)
    table["note"] = note
    return table


def pooled_study(study, inputs: dict, out: dict) -> None:
    """Study-level outputs across cohorts (``results/<study>/pooled/``).

    ``inputs`` maps ``<kind>:<cohort>`` (kinds: items, scores, reliability, counts,
    hypotheses) to files. Writes ``out["reliability"]`` (alphas by cohort with a test of
    equal alphas: Feldt 1969 for two, Hakstian & Whalen 1976 for more),
    ``out["prevalence"]`` (style counts by cohort, chi-square test of homogeneity), and
    when configured ``out["invariance"]`` (configural/metric/scalar across cohorts and
    across each cohort's group levels) and ``out["meta_analysis"]`` (+ forest plots).
    """
    from . import invariance as inv
    from . import pooled as po
    from .inference import correlation_test

    cohorts = list(study.cohorts)

    def table(kind: str, c: str) -> pd.DataFrame:
        return read_table(inputs[f"{kind}:{c}"], computed=True)

    if "reliability" in out:
        rel_tables = {c: table("reliability", c) for c in cohorts}
        rel, why = attempt("pooled reliability", po.pooled_reliability, {c: t for c, t in rel_tables.items() if len(t)})
        write_csv(rel if why is None else skipped_rows(why, instrument=None), out["reliability"])
    if "prevalence" in out:
        counts = {c: table("counts", c) for c in cohorts if f"counts:{c}" in inputs}
        counts = {c: t for c, t in counts.items() if len(t) and (t["method"] == study.classification.method).any()}
        prev, why = attempt("style prevalence", po.prevalence_homogeneity, counts, study.classification.method)
        write_csv(prev if why is None else skipped_rows(why, cohort=None), out["prevalence"])
    if "invariance" in out:
        parts = []
        shared = {}
        for c in cohorts:
            for inst in study.cohorts[c].dimension_instruments:
                shared.setdefault((inst.name, inst.scale_min, inst.scale_max), []).append(c)
        for (name, lo, hi), members in shared.items():
            inst = study.cohorts[members[0]].instrument(name)
            model = inv.instrument_model(inst)
            cols = inst.item_columns()
            frames = {c: read_scores(inputs[f"items:{c}"])[cols] for c in members}
            if len(members) >= 2:
                data = pd.concat(frames.values(), ignore_index=True)
                group = pd.Series([c for c in members for _ in range(len(frames[c]))], index=data.index)
                parts.append(_group_invariance(data, model, group, "cohorts", study.factors.estimator,
                                               study.factors.missing).assign(instrument=name))
            for c in members:
                scores = read_scores(inputs[f"scores:{c}"])
                for g in study.cohorts[c].groups:
                    part = _group_invariance(frames[c], model, scores[g].reindex(frames[c].index), f"{c}:{g}",
                                             study.factors.estimator, study.factors.missing)
                    parts.append(part.assign(instrument=name))
        table_ = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["instrument", "comparison"])
        write_csv(instrument_first(table_), out["invariance"])
    if "meta_analysis" in out:
        rows = []
        for c in cohorts:
            scores = read_scores(inputs[f"scores:{c}"])
            for inst in study.cohorts[c].dimension_instruments:
                both = scores[[f"{inst.name}_anxiety", f"{inst.name}_avoidance"]].dropna()
                if len(both) > 3:
                    r, why = attempt(f"{c} anxiety-avoidance correlation", correlation_test, both.iloc[:, 0], both.iloc[:, 1])
                    if why is None:
                        rows.append({"measure": f"{inst.name}: anxiety ~ avoidance", "cohort": c, "r": r.r, "n": len(both)})
            if f"hypotheses:{c}" in inputs:
                hyp = table("hypotheses", c)
                if len(hyp):
                    hyp = hyp[hyp["effect_size_name"].isin(_CORRELATION_EFFECTS) & hyp["effect_size"].notna()]
                    rows += [{"measure": f"{h.id} ({h.effect_size_name})", "cohort": c, "r": h.effect_size, "n": h.n}
                             for h in hyp.itertuples()]
        per = pd.DataFrame(rows, columns=["measure", "cohort", "r", "n"])
        per = per[per.groupby("measure")["cohort"].transform("nunique") >= 2]
        meta, why = attempt("meta-analysis", po.meta_analysis_table, per) if len(per) else (None, None)
        if meta is None:
            meta = pd.DataFrame(columns=["measure", "cohort"]) if why is None else skipped_rows(why, measure=None)
        write_csv(meta, out["meta_analysis"])
        folder = fresh_dir(out["forest_plots"])
        for k, measure in enumerate(dict.fromkeys(split_skipped(meta)[0]["measure"])):
            po.forest_plot(meta, measure, folder / f"forest_{k + 1:02d}.png")


def report_cohort(study, cohort: str, prereg_path, out_path, docx_path=None) -> None:
    """The cohort's self-contained HTML report and its Word version (:func:`attachment_pipeline.report.build_report`).

    ``docx_path`` defaults to ``report.docx`` beside ``out_path``.
    """
    from datetime import datetime, timezone

    from .report import build_report

    prereg = json.loads(Path(prereg_path).read_text(encoding="utf-8"))
    build_report(Path(out_path).parent, study=study.name, cohort=cohort, config=study.config,
                 language=study.language, seed=study.seed, prereg=prereg, out=Path(out_path),
                 run_time=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 min_cell=study.cohorts[cohort].min_cell,
                 docx_out=Path(docx_path) if docx_path else Path(out_path).with_name("report.docx"))


def study_index(study, out_path) -> None:
    """The study page linking every cohort's report (:func:`attachment_pipeline.report.build_study_index`)."""
    from .report import build_study_index

    build_study_index(Path(out_path).parent, list(study.cohorts), study=study.name, language=study.language,
                      out=Path(out_path))


def exports_cohort(cohort: Cohort, language: str, cohort_dir, out_dir) -> None:
    """SPSS, Excel and lavaan exports of a cohort (:func:`attachment_pipeline.exports.write_exports`)."""
    from .exports import write_exports

    write_exports(Path(cohort_dir), cohort, fresh_dir(out_dir), language=language)


def _remove(paths) -> None:
    """Remove a failed step's outputs (files and folders), so that nothing stale or partial stays behind."""
    for p in paths or ():
        p = Path(p)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists() or p.is_symlink():
            p.unlink(missing_ok=True)
        for tmp in p.parent.glob(f".{p.name}.tmp*") if p.parent.is_dir() else ():
            tmp.unlink(missing_ok=True)


def _paragraph(text: str) -> str:
    return " ".join(str(text).split())


def run_step(func, *args, log_path=None, outputs=(), **kwargs):
    """Call a step; on any failure print one paragraph on stderr, remove its outputs and exit non-zero.

    Data, read and config errors (:class:`~attachment_pipeline.validate.DataError`,
    :class:`~attachment_pipeline.io.ReadError`, :class:`~attachment_pipeline.config.ConfigError`)
    exit with status 2 and their own message. A file that cannot be written, or memory
    that runs out, exits with status 3 and says so. Anything else is a bug: status 3, a
    paragraph naming the step and the error, and the traceback in ``log_path``. The log
    also receives the reasons of skipped analyses and every warning (the pipeline's own and the
    libraries'), which therefore stay off the console. ``outputs`` (files or folders) are removed on failure.
    """
    handler = None
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.NullHandler()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    name = getattr(func, "__name__", str(func))
    log.info("step %s", name)

    def show(message, category, filename, lineno, file=None, line=None):
        # every warning goes to the step's log, never to the console: the pipeline's own (e.g. a mixture
        # that chose other than four profiles) as one plain line first, with the source after it; what
        # they mean for the results is in the tables and the report (e.g. gmm_bic.csv, profile labels)
        text = " ".join(str(message).split())
        if issubclass(category, UserWarning) and "attachment_pipeline" in str(filename):
            log.info("warning (%s): %s", name, text)
        log.info("%s:%s: %s: %s", filename, lineno, category.__name__, text)

    code, message = 0, ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = show
            return func(*args, **kwargs)
    except (DataError, ReadError, ConfigError) as exc:
        code, message = 2, _paragraph(exc)
        log.info("stopped: %s", message)
    except MemoryError:
        code, message = 3, (f"the step {func.__name__} ran out of memory. Run it with more memory (Snakemake asks "
                            "for more on a retry: --retries 1), or on a machine with more.")
        log.info("%s\n%s", message, traceback.format_exc())
    except OSError as exc:
        target = exc.filename or "a file"
        code, message = 3, _paragraph(f"cannot read or write {target}: {exc.strerror or exc}. Check that the results "
                                      "folder is writable and the disk has space, then run again.")
        log.info("%s\n%s", message, traceback.format_exc())
    except Exception as exc:  # a bug: one paragraph here, the traceback in the log for a bug report
        where = f" The traceback is in {log_path}; please attach it to a bug report." if log_path else ""
        code, message = 3, _paragraph(f"internal error in the step {getattr(func, '__name__', func)}: "
                                      f"{type(exc).__name__}: {exc}. This is a bug in the pipeline, not in your "
                                      f"data.{where}")
        log.info("%s\n%s", message, traceback.format_exc())
    finally:
        log.removeHandler(handler)
        handler.close()
    _remove(outputs)
    print(f"\nERROR: {message}\n", file=sys.stderr)
    sys.exit(code)
