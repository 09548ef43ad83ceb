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
from .formatting import DASH, fmt_int
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


#: pooled tables shown on the study page: file, title key, columns shown
POOLED_TABLES = (
    ("invariance.csv", "pooled_invariance",
     ["instrument", "comparison", "model", "n", "n_groups", "chi2", "df", "cfi", "rmsea", "srmr", "delta_cfi",
      "delta_rmsea", "decision"]),
    ("reliability.csv", "pooled_reliability",
     ["instrument", "subscale", "cohort", "n", "k", "alpha", "test", "statistic", "df", "df2", "p"]),
    ("style_prevalence.csv", "pooled_prevalence", None),
    ("meta_analysis.csv", "pooled_meta",
     ["measure", "cohort", "k", "n", "r", "ci_low", "ci_high", "weight", "tau2", "i2", "q_p"]),
)


def _pooled_cell(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return DASH
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}"
    return str(value)


def pooled_blocks(pooled_dir: Path) -> tuple[list[dict], list[str]]:
    """The study page's pooled tables (title key, columns, rows as text) and forest plots (data URIs)."""
    import base64

    tables = []
    for name, key, columns in POOLED_TABLES:
        path = Path(pooled_dir) / name
        if not path.is_file():
            continue
        frame = pd.read_csv(path)
        cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
        rows = [[_pooled_cell(v) for v in rec] for rec in frame[cols].itertuples(index=False)]
        tables.append({"title": key, "columns": cols, "rows": rows})
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
    for name in cohorts:
        vpath = Path(study_dir) / name / "qc" / "validation.json"
        v = json.loads(vpath.read_text(encoding="utf-8")) if vpath.is_file() else {}
        insts = ", ".join(v.get("items", {}).keys()) or DASH
        couples = (v.get("couples") or {}).get("couples")
        rows.append({"name": name, "href": f"{name}/report.html", "respondents": fmt_int(v.get("respondents")),
                     "instruments": insts, "couples": fmt_int(couples) if couples else DASH})
    pooled, forest = pooled_blocks(Path(study_dir) / "pooled")
    html = render("index.html.j2", T=T, lang=language, study=study, cohorts=rows, run_time=run_time,
                  pooled=pooled, forest=forest)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8", newline="\n")
    return out
