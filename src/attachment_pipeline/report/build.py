"""Rendering: the cohort report (``report.html``) and the study page (``index.html``) from the templates (package data)."""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from .i18n import Translator
from .context import build_context
from .formatting import DASH, _finite, fmt_bounded, fmt_ci, fmt_int, fmt_num, fmt_p, fmt_value
from .context import short_name
from ..instruments import load_instrument
from .sections import SECTIONS
from .decimal_mark import decimal_mark

#: The templates (package data of ``attachment_pipeline.report``), found with :mod:`importlib.resources`.
TEMPLATES = resources.files(__package__) / "templates"


def _load_template(name: str) -> str | None:
    resource = TEMPLATES.joinpath(name)
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FunctionLoader(_load_template), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


#: Column headings that carry markup (sub/superscripts); everything else is escaped.
_SAFE_HEADINGS = {"ω<sub>t</sub>", "ω<sub>h</sub>", "r<sub>drop</sub>"}


def render(template: str, **context) -> str:
    """Render a template of ``templates/`` with the report context."""
    env = _environment()
    env.filters["heading"] = lambda s: Markup(s) if s in _SAFE_HEADINGS else s
    return env.get_template(template).render(**context)




def build_report(cohort_dir: Path, *, study: str, cohort: str, config: dict, language: str, seed: int,
                 run_time: str, out: Path, prereg: dict | None = None, min_cell: int = 5,
                 git_commit: str | None = None, docx_out: Path | None = None) -> Path:
    """Write the self-contained cohort report ``out`` (``results/<study>/<cohort>/report.html``).

    Parameters
    ----------
    cohort_dir : ``results/<study>/<cohort>``; needs ``qc/validation.json``, reads every other
        table of :data:`RESULT_FILES` that exists (``hypotheses.csv`` and ``pairing_table.csv``
        are optional; their sections then say so).
    study, cohort : names shown in the report.
    config : the study config dict as Snakemake holds it (shown as YAML with its hash; its
        ``classification.method``, ``classification.reference``/``cut``,
        ``hypothesis_testing.correction`` and ``instrument_dir`` are used).
    language : ``en`` or ``nl``.
    seed : the study seed (shown).
    run_time : the time stamp shown (the only part of the file that changes between identical runs).
    out : the HTML file to write.
    prereg : optional preregistration status ``{"status": "matches" | "differs" | "no lock",
        "differences": [...], "hash": "..."}``; None = no lock.
    min_cell : counts from 1 to ``min_cell - 1`` in tables by group are shown as ``<min_cell``.
    git_commit : the commit shown; None = ``git rev-parse HEAD`` (``unknown`` outside git).
    docx_out : optional path of the same report as a Word file (:mod:`attachment_pipeline.report.word`).

    Returns
    -------
    The path written.
    """
    ctx = build_context(cohort_dir, study=study, cohort=cohort, config=config, language=language, seed=seed,
                        run_time=run_time, prereg=prereg, min_cell=min_cell, git_commit=git_commit)
    with decimal_mark(language):  # Dutch: decimal comma in every number, text and figure of the report
        sections = [f(ctx) for f in SECTIONS]
    html = render("report.html.j2", T=ctx.T, lang=language, study=study, cohort=cohort, sections=sections,
                  run_time=run_time)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8", newline="\n")
    if docx_out is not None:
        from .word import write_word  # python-docx only where a Word file is asked for

        write_word(sections, docx_out, title=f"{ctx.T('report_title')}: {study} / {cohort}",
                   subtitle=ctx.T("report_subtitle", study=study, cohort=cohort), T=ctx.T)
    return out


#: pooled tables shown on the study page: file, title key, columns shown (None: all)
POOLED_TABLES = (
    ("invariance.csv", "pooled_invariance",
     ["instrument", "comparison", "model", "n", "n_groups", "chi2", "cfi", "rmsea", "srmr", "delta_cfi",
      "delta_rmsea", "decision"]),
    ("reliability.csv", "pooled_reliability",
     ["instrument", "subscale", "cohort", "n", "k", "alpha", "test", "statistic", "p"]),
    ("style_prevalence.csv", "pooled_prevalence", None),
    ("meta_analysis.csv", "pooled_meta",
     ["measure", "cohort", "k", "n", "r", "ci_low", "weight", "tau2", "i2", "q_p"]),
)

#: column headings of the study page (keys of :mod:`.i18n`; symbols stay as they are)
_POOLED_HEADINGS = {"instrument": "instrument", "comparison": "col_comparison", "model": "model_level",
                    "n_groups": "col_n_groups", "decision": "decision", "subscale": "subscale", "cohort": "cohort",
                    "test": "test", "statistic": "col_statistic", "measure": "col_measure", "weight": "weight",
                    "style": "style", "method": "method", "percent": "col_percent"}
_POOLED_SYMBOLS = {"chi2": "χ²", "cfi": "CFI", "rmsea": "RMSEA", "srmr": "SRMR", "delta_cfi": "ΔCFI",
                   "delta_rmsea": "ΔRMSEA", "alpha": "α", "p": "p", "q_p": "p (Q)", "r": "r", "ci_low": "95% CI",
                   "tau2": "τ²", "i2": "I²", "n": "n", "k": "k"}
_INTS = {"n", "n_groups", "k", "df", "df2", "n_respondents", "n_classified", "count"}


def _pooled_heading(T, column: str) -> str:
    if column in _POOLED_SYMBOLS:
        return _POOLED_SYMBOLS[column]
    return T.get(_POOLED_HEADINGS.get(column, f"col_{column}"), column.replace("_", " "))


def _robust(r, name: str):
    for col in (f"{name}_robust", f"{name}_scaled", name):
        if col in r and _finite(r[col]):
            return r[col]
    return float("nan")


def _pooled_cell(T, r, column: str, instruments: dict) -> str:
    """One cell of a pooled table, formatted as in the report (APA numbers, words for codes)."""
    value = r.get(column)
    if column == "instrument":
        return instruments.get(str(value), str(value))
    if column == "subscale":
        inst = instruments.get(f"{r.get('instrument')}:{value}")
        return inst or str(value)
    if column == "model":
        return T.get(f"model_{value}", str(value))
    if column == "comparison":
        return str(value).replace(":", ": ")
    if column == "test":
        return T.get(f"test_{value}", str(value)) if isinstance(value, str) else DASH
    if column == "decision":
        return _decision_words(T, r)
    if column == "chi2":
        chi, df = _robust(r, "chi2"), r.get("df_scaled") if _finite(r.get("df_scaled")) else r.get("df")
        return f"χ²({fmt_int(df)}) = {fmt_num(chi)}" if _finite(chi) else DASH
    if column in ("cfi", "rmsea", "tli"):
        return fmt_bounded(_robust(r, column), 3)
    if column in ("delta_cfi", "delta_rmsea", "srmr"):
        return fmt_bounded(value, 3)
    if column == "ci_low":
        return fmt_ci(r.get("ci_low"), r.get("ci_high"))
    if column in ("p", "q_p"):
        return fmt_p(value)
    if column in _INTS:
        return fmt_int(value)
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, bool):
        return fmt_value(value, column) if _finite(value) else DASH
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    return str(value)


def _decision_words(T, r) -> str:
    decision = str(r.get("decision", ""))
    if not decision or decision == "nan":
        return DASH
    if not _finite(r.get("delta_cfi")) and not _finite(r.get("delta_chi2")):
        return T("dinv_reference")
    key = "dinv_not_supported" if "not supported" in decision else "dinv_supported"
    return T(key, level=T.get(f"model_{r.get('model')}", str(r.get("model"))), dcfi=fmt_bounded(r.get("delta_cfi"), 3),
             drmsea=fmt_bounded(r.get("delta_rmsea"), 3))


def _instrument_names(frames: list) -> dict:
    """Short names of the instruments in the pooled tables, and ``instrument:subscale`` -> subscale label."""
    out = {}
    names = {str(v) for f in frames if "instrument" in f for v in f["instrument"].dropna().unique()}
    for name in names:
        try:
            inst = load_instrument(name)
        except (ValueError, OSError):  # InstrumentError: an instrument of another folder, shown by its name
            continue
        out[name] = short_name(inst)
        for sub in inst.subscales:
            out[f"{name}:{sub}"] = inst.subscale_labels.get(sub, {})
    return out


def pooled_blocks(pooled_dir: Path, T=None) -> tuple[list[dict], list[str]]:
    """The study page's pooled tables (title key, headings, rows as text, numeric columns) and forest plots."""
    import base64

    T = T or Translator("en")
    frames = []
    for name, key, columns in POOLED_TABLES:
        path = Path(pooled_dir) / name
        if path.is_file():
            frames.append((key, columns, pd.read_csv(path)))
    names = _instrument_names([f for _, _, f in frames])
    instruments = {k: (v.get(T.language) or v.get("en") or k) if isinstance(v, dict) else v for k, v in names.items()}
    tables = []
    for key, columns, frame in frames:
        cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
        rows = [[_pooled_cell(T, r, c, instruments) for c in cols] for r in frame.to_dict("records")]
        numeric = [j for j, c in enumerate(cols) if c in _POOLED_SYMBOLS or c in _INTS or c == "weight"]
        tables.append({"title": key, "columns": [_pooled_heading(T, c) for c in cols], "rows": rows,
                       "numeric": numeric})
    plots = ["data:image/png;base64," + base64.b64encode(p.read_bytes()).decode("ascii")
             for p in sorted((Path(pooled_dir) / "forest_plots").glob("*.png"))]
    return tables, plots


def build_study_index(study_dir: Path, cohorts: list[str], *, study: str, language: str, out: Path,
                      run_time: str | None = None) -> Path:
    """Write ``results/<study>/index.html``: one line per cohort with its counts and a link to its report,
    then the pooled results (``results/<study>/pooled/``: invariance, equal alphas, style
    prevalence, meta-analysis with its forest plots) where they exist.

    Parameters
    ----------
    study_dir : ``results/<study>``; reads ``<cohort>/qc/validation.json`` where it exists.
    cohorts : cohort names, in the order to list them.
    study, language : as for :func:`build_report`.
    out : the HTML file to write (links are relative: ``<cohort>/report.html``).
    run_time : optional time stamp shown at the bottom.
    """
    T = Translator(language)
    rows = []
    with decimal_mark(language):
        for name in cohorts:
            vpath = Path(study_dir) / name / "qc" / "validation.json"
            v = json.loads(vpath.read_text(encoding="utf-8")) if vpath.is_file() else {}
            names = _instrument_names([pd.DataFrame({"instrument": list(v.get("items", {}))})])
            insts = ", ".join(names.get(i, i) for i in v.get("items", {})) or DASH
            couples = (v.get("couples") or {}).get("couples")
            rows.append({"name": name, "href": f"{name}/report.html", "respondents": fmt_int(v.get("respondents")),
                         "instruments": insts, "couples": fmt_int(couples) if couples else DASH})
        pooled, forest = pooled_blocks(Path(study_dir) / "pooled", T)
    html = render("index.html.j2", T=T, lang=language, study=study, cohorts=rows, run_time=run_time,
                  pooled=pooled, forest=forest)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8", newline="\n")
    return out
