"""File-level steps, one per Snakemake rule: read inputs, call the pure functions, write outputs.

Each step takes plain paths and settings (what the rule passes as ``params``),
so it can be called and tested without Snakemake. :func:`run_step` is what
the thin rule scripts in ``workflow/scripts/`` call: it turns a
:class:`~attachment_pipeline.validate.DataError` (or a read or config error)
into a one-paragraph message on stderr and a non-zero exit, without traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from .config import Classification, Cohort, ConfigError, Factors, Reliability, Scoring
from .io import ReadError, read_responses
from .scoring import score_instrument, scoring_counts
from .validate import DataError, text_columns, validate_cohort

#: float format for every CSV the pipeline writes: round-trips doubles, stable bytes
FLOAT_FORMAT = "%.10g"


def write_csv(frame: pd.DataFrame, path: Path | str, index: bool = False) -> None:
    """Write a tidy CSV with the project's fixed float format and ``\\n`` line ends."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=index, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_json(obj: dict, path: Path | str) -> None:
    """Write JSON with sorted-free stable layout (insertion order), 2-space indent, trailing newline."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def score_cohort(cohort: Cohort, scoring: Scoring, out: dict) -> dict:
    """Validate and score one cohort.

    Writes ``out["validation"]`` (qc/validation.json), ``out["missingness"]``
    (qc/missingness.csv), ``out["keyed_items"]`` (items.csv: id + every instrument's
    keyed items) and ``out["scores"]`` (scores.csv: id, scores, group, couple and
    covariate columns). Returns the validation report.
    """
    raw = read_responses(cohort.responses, text_columns(cohort))
    valid = validate_cohort(raw, cohort)
    id_name = valid.ids.name
    keyed_all, scores_all = [], []
    report = valid.report
    report["scoring"] = {"min_answered": scoring.min_answered, "minmax_band": scoring.minmax_band}
    for inst in cohort.instruments:
        keyed, scores = score_instrument(valid.items[inst.name], inst, scoring.min_answered, scoring.minmax_band)
        keyed_all.append(keyed)
        scores_all.append(scores)
        report["items"][inst.name]["scoring"] = scoring_counts(scores, inst)
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


def read_scores(path: Path | str) -> pd.DataFrame:
    """Read ``scores.csv`` (or ``items.csv``) indexed by the id column, ids as text."""
    id_name = pd.read_csv(path, nrows=0).columns[0]
    return pd.read_csv(path, dtype={id_name: str}, index_col=0)


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
        table = cl.classify_all(dims, settings.methods, instrument=inst.name, scale_min=inst.scale_min,
                                scale_max=inst.scale_max, seed=seed, ties=settings.ties,
                                reference=settings.reference, cut=settings.cut)
        tables["classification"].append(table.rename(columns={"id": scores.index.name}))
        tables["counts"].append(cl.style_counts(table).assign(instrument=inst.name))
        tables["agreement"].append(cl.agreement(table).assign(instrument=inst.name))
        tables["coverage"].append(cl.classification_coverage(dims, table).assign(instrument=inst.name))
        if "gmm" in settings.methods:
            profiles, bic = cl.gmm_profiles(dims, seed)
            tables["gmm_profiles"].append(profiles.assign(instrument=inst.name))
            tables["gmm_bic"].append(bic.assign(instrument=inst.name))
    for key, parts in tables.items():
        if key not in out:
            continue
        frame = pd.concat(parts, ignore_index=True)
        write_csv(frame if key == "classification" else instrument_first(frame), out[key])


def minmax_by_style_table(classification_path, scores_path, out_path) -> None:
    """Min/max typology by attachment style, per instrument and method (``minmax_by_style.csv``)."""
    from . import classify as cl

    scores = read_scores(scores_path)
    table = pd.read_csv(classification_path, dtype={scores.index.name: str})
    table = table.rename(columns={scores.index.name: "id"})
    parts = [cl.minmax_by_style(t, scores["minmax_type"]).assign(instrument=inst)
             for inst, t in table.groupby("instrument", sort=False)]
    frame = pd.concat(parts, ignore_index=True)
    write_csv(instrument_first(frame), out_path)


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
        r, i = rel.reliability_tables(items[inst.item_columns()], groups, subscales, instrument=inst.name,
                                      missing=settings.missing, n_boot=settings.n_boot, seed=seed, ci=settings.ci)
        rel_parts.append(r)
        item_parts.append(i)
    reliability = pd.concat(rel_parts, ignore_index=True)
    reliability.insert(4, "missing", settings.missing)
    write_csv(reliability, out["reliability"])
    write_csv(pd.concat(item_parts, ignore_index=True), out["item_stats"])


def factors_cohort(cohort: Cohort, settings: Factors, seed: int, items_path, out: dict) -> None:
    """Factor structure of every dimension instrument: factorability, parallel analysis, EFA, CFA.

    The items of an instrument are analysed together, listwise; their moments are
    computed once (:func:`attachment_pipeline.factors.item_moments`) and shared by
    every analysis. The CFA uses the configured estimator and missing-data method
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
        moments = fa.item_moments(items[inst.item_columns()])
        pa = fa.parallel_table(moments, inst, n_iter=settings.parallel_iterations,
                               seed=derive_seed(seed, "parallel_analysis", inst.name))
        tables["parallel"].append(pa)
        tables["factorability"].append(fa.factorability_table(moments, inst, pa))
        loadings, fit = fa.efa_tables(moments, inst, settings.n_factors, settings.extraction, settings.rotation)
        tables["efa_loadings"].append(loadings)
        tables["efa_fit"].append(fit)
        cfa_fit, cfa_loadings, cfa_thresholds = fa.cfa_tables(items[inst.item_columns()], inst,
                                                              estimator=settings.estimator, missing=settings.missing)
        tables["cfa_fit"].append(cfa_fit)
        tables["cfa_loadings"].append(cfa_loadings)
        tables["cfa_thresholds"].append(cfa_thresholds)
    for key, parts in tables.items():
        write_csv(pd.concat(parts, ignore_index=True), out[key])


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
        classification = pd.read_csv(inputs["classification"], dtype={scores.index.name: str})
    children = validate_children(cohort.children, scores.index)[0] if cohort.children is not None else None
    data = hy.CohortData(
        cohort=cohort.name, scores=scores, classification=classification, items=read_scores(inputs["keyed_items"]),
        children=children, couple_column=cohort.couples.couple_column if cohort.couples else None,
        role_column=cohort.couples.role_column if cohort.couples else None, primary_method=primary_method,
        instruments=cohort.instruments, reliability=pd.read_csv(inputs["reliability"]),
        distinguishable=cohort.couples.distinguishable if cohort.couples else "auto",
    )
    try:
        result = hy.run_hypotheses(entries, data, testing, seed)
    except ValueError as exc:  # a family refused these data: its message names hypothesis and cohort
        raise DataError(f"{exc} Check the hypothesis' keys in the config, or its cohort's data.") from None
    write_csv(result.table, out["hypotheses"])
    folder = Path(out["tables"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in sorted({**result.tables, **result.files}.items()):
        write_csv(table, folder / f"{name}.csv")


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
    if "reliability" in out:
        rel_tables = {c: pd.read_csv(inputs[f"reliability:{c}"]) for c in cohorts}
        write_csv(po.pooled_reliability(rel_tables), out["reliability"])
    if "prevalence" in out:
        counts = {c: pd.read_csv(inputs[f"counts:{c}"]) for c in cohorts if f"counts:{c}" in inputs}
        write_csv(po.prevalence_homogeneity(counts, study.classification.method), out["prevalence"])
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
        table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["instrument", "comparison"])
        write_csv(instrument_first(table), out["invariance"])
    if "meta_analysis" in out:
        rows = []
        for c in cohorts:
            scores = read_scores(inputs[f"scores:{c}"])
            for inst in study.cohorts[c].dimension_instruments:
                both = scores[[f"{inst.name}_anxiety", f"{inst.name}_avoidance"]].dropna()
                if len(both) > 3:
                    r = correlation_test(both.iloc[:, 0], both.iloc[:, 1]).r
                    rows.append({"measure": f"{inst.name}: anxiety ~ avoidance", "cohort": c, "r": r, "n": len(both)})
            if f"hypotheses:{c}" in inputs:
                hyp = pd.read_csv(inputs[f"hypotheses:{c}"])
                hyp = hyp[hyp["effect_size_name"].isin(_CORRELATION_EFFECTS) & hyp["effect_size"].notna()]
                rows += [{"measure": f"{h.id} ({h.effect_size_name})", "cohort": c, "r": h.effect_size, "n": h.n}
                         for h in hyp.itertuples()]
        per = pd.DataFrame(rows, columns=["measure", "cohort", "r", "n"])
        per = per[per.groupby("measure")["cohort"].transform("nunique") >= 2]
        table = po.meta_analysis_table(per) if len(per) else pd.DataFrame(columns=["measure", "cohort"])
        write_csv(table, out["meta_analysis"])
        folder = Path(out["forest_plots"])
        folder.mkdir(parents=True, exist_ok=True)
        for k, measure in enumerate(dict.fromkeys(table["measure"])):
            po.forest_plot(table, measure, folder / f"forest_{k + 1:02d}.png")


def report_cohort(study, cohort: str, prereg_path, out_path) -> None:
    """The cohort's self-contained HTML report (:func:`attachment_pipeline.report.build_report`)."""
    from datetime import datetime, timezone

    from .report import build_report

    prereg = json.loads(Path(prereg_path).read_text(encoding="utf-8"))
    build_report(Path(out_path).parent, study=study.name, cohort=cohort, config=study.config,
                 language=study.language, seed=study.seed, prereg=prereg, out=Path(out_path),
                 run_time=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def study_index(study, out_path) -> None:
    """The study page linking every cohort's report (:func:`attachment_pipeline.report.build_study_index`)."""
    from .report import build_study_index

    build_study_index(Path(out_path).parent, list(study.cohorts), study=study.name, language=study.language,
                      out=Path(out_path))


def exports_cohort(cohort: Cohort, language: str, cohort_dir, out_dir) -> None:
    """SPSS, Excel and lavaan exports of a cohort (:func:`attachment_pipeline.exports.write_exports`)."""
    from .exports import write_exports

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_exports(Path(cohort_dir), cohort, Path(out_dir), language=language)


def run_step(func, *args, **kwargs):
    """Call a step; on a data, read or config error print the message and exit with status 2."""
    try:
        return func(*args, **kwargs)
    except (DataError, ReadError, ConfigError) as exc:
        print(f"\nERROR: {exc}\n", file=sys.stderr)
        sys.exit(2)
