"""The cohort report (``report.html``) and the study page (``index.html``).

One self-contained HTML file per cohort: figures are embedded PNG ``data:``
URIs, the style sheet is inline, nothing is fetched when the file is opened,
so it can be mailed, archived or printed into a thesis appendix. The report
formats and plots what the pipeline has already computed (the tables in
``results/<study>/<cohort>/``); it computes no statistic of its own beyond
counts (answers per category, couples in the data).

Sections (ids in brackets; each is present in every report, with a plain
sentence when its data are absent):

1. Overview (``overview``): study, cohort, instruments, respondents, date.
2. Data quality (``quality``): reading facts, validation counts, exclusions
   with reasons, missing answers per item (heat map).
3. Items (``items``): answer distributions per item (diverging stacked bars),
   reverse-keyed items shown as answered and marked.
4. Reliability (``reliability``): alpha with Feldt and bootstrap intervals,
   omega; item statistics with flagged items highlighted.
5. Factor structure (``factors``): KMO and Bartlett, scree with parallel
   analysis, EFA loadings heat map with the theoretical subscales, CFA fit
   with the usual cut-offs.
6. Item response theory (``irt``): graded response model fit, item parameters
   with S-X2 item fit, item and test information curves, IRT scores against the
   mean scores, differential item functioning across groups and partner roles.
7. The two dimensions (``dimensions``): anxiety against avoidance with the cut
   lines of the primary method and the quadrants named.
8. Styles (``styles``): counts per method, agreement, min/max index and type
   by style.
9. Couples (``couples``): partner against partner, distinguishability, partner
   similarity, measurement invariance across the roles, pairing table.
10. Hypotheses (``hypotheses``): APA table, forest plot, verdicts in words,
    preregistration status.
11. Provenance (``provenance``): sha256 of every input and table, the config
    and its hash, package versions, seed, git commit, run time.

Privacy: no respondent id, couple id or free-text answer is written; counts
from 1 to ``min_cell - 1`` in tables by group or category are shown as
``<min_cell`` (their percentages as ``–``) and are not drawn in bar charts;
zero counts are shown (a structural zero identifies no one). Numbers follow
APA style: no leading zero for values that cannot exceed 1 (``alpha = .94``,
``p < .001``), a leading zero otherwise (``chi2``, ``t``, means). Decimal points
are kept in Dutch too (as in the CSV tables).

Example
-------
>>> fmt_p(0.0004), fmt_p(0.0312), fmt_bounded(0.9412), fmt_num(12.3456)
('< .001', '.031', '.94', '12.35')
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
import math
from pathlib import Path
from typing import ClassVar

import jinja2
import numpy as np
import pandas as pd
import yaml
from markupsafe import Markup

from . import figures as fg
from .classify import CUTOFF_METHODS, STYLE_LABELS, STYLES, cut_points
from .i18n import Translator
from .instruments import Instrument, load_instrument
from .scoring import MINMAX_TYPES
from .tables import SKIPPED, read_scores, split_skipped

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: The tables a report reads, by key, relative to the cohort folder (all optional but validation.json).
RESULT_FILES = {
    "validation": "qc/validation.json",
    "missingness": "qc/missingness.csv",
    "scores": "scores.csv",
    "items": "items.csv",
    "reliability": "reliability.csv",
    "item_stats": "item_stats.csv",
    "factorability": "factorability.csv",
    "parallel": "parallel_analysis.csv",
    "efa_loadings": "efa_loadings.csv",
    "efa_fit": "efa_fit.csv",
    "cfa_fit": "cfa_fit.csv",
    "cfa_loadings": "cfa_loadings.csv",
    "classification": "classification.csv",
    "style_counts": "style_counts.csv",
    "agreement": "classification_agreement.csv",
    "coverage": "classification_coverage.csv",
    "gmm_profiles": "gmm_profiles.csv",
    "gmm_bic": "gmm_bic.csv",
    "minmax_by_style": "minmax_by_style.csv",
    "hypotheses": "hypotheses.csv",
    "pairing_table": "hypothesis_tables/pairing_table.csv",
    "irt_items": "irt_items.csv",
    "irt_fit": "irt_fit.csv",
    "irt_information": "irt_information.csv",
    "irt_dif": "irt_dif.csv",
    "irt_scores": "irt_scores.csv",
    "distinguishability": "dyads/distinguishability.csv",
    "nonindependence": "dyads/nonindependence.csv",
    "dyadic_invariance": "dyads/invariance.csv",
}

#: Packages whose versions the provenance section lists.
PACKAGES = ("numpy", "pandas", "scipy", "factor_analyzer", "scikit-learn", "snakemake", "matplotlib",
            "jinja2", "pyreadstat", "attachment-pipeline")

#: Statistics and effect sizes that cannot exceed 1 in absolute value: printed without a leading zero.
BOUNDED = {"r", "r_double_entry", "partial_r", "share", "concordance_rate", "kappa", "factor_correlation", "icc",
           "r_cross", "std_path",
           "rank_biserial_r", "proportion", "alpha", "omega", "cfi", "rmsea", "srmr", "kmo", "p"}
#: Statistics that are counts.
COUNTS = {"observed_couples", "concordant", "u"}

# ---------------------------------------------------------------------------
# number formatting (APA)

DASH = "–"


def _finite(x) -> bool:
    try:
        return x is not None and not pd.isna(x) and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_num(x, decimals: int = 2) -> str:
    """A number with a leading zero and a true minus sign; ``–`` when missing.

    >>> fmt_num(-0.5), fmt_num(float("nan"))
    ('−0.50', '–')
    """
    if not _finite(x):
        return DASH
    text = f"{float(x):.{decimals}f}"
    return "−" + text[1:] if text.startswith("-") and text.strip("-0.") else text.lstrip("-")


def fmt_bounded(x, decimals: int = 2) -> str:
    """A value that cannot exceed 1 (correlation, alpha, proportion): no leading zero (``.94``)."""
    return fg.apa_number(float(x), decimals) if _finite(x) else DASH


def fmt_p(p) -> str:
    """A p-value in APA style: ``< .001`` or three decimals without leading zero.

    >>> fmt_p(1.0), fmt_p(0.05)
    ('1.000', '.050')
    """
    if not _finite(p):
        return DASH
    return "< .001" if float(p) < 0.001 else fmt_bounded(p, 3)


def fmt_int(x) -> str:
    """An integer count (``–`` when missing)."""
    return str(int(round(float(x)))) if _finite(x) else DASH


def fmt_count(n, min_cell: int) -> str:
    """A count in a table by group: ``<min_cell`` for 1..min_cell-1 (privacy).

    >>> fmt_count(3, 5), fmt_count(0, 5), fmt_count(12, 5)
    ('<5', '0', '12')
    """
    if not _finite(n):
        return DASH
    return f"<{min_cell}" if 0 < float(n) < min_cell else fmt_int(n)


def suppressed(n, min_cell: int) -> bool:
    """Whether a count is hidden (1..min_cell-1)."""
    return _finite(n) and 0 < float(n) < min_cell


def fmt_ci(lo, hi, bounded: bool = True, decimals: int = 2) -> str:
    """An interval ``[lo, hi]`` (``–`` when either end is missing)."""
    if not (_finite(lo) and _finite(hi)):
        return DASH
    f = fmt_bounded if bounded else fmt_num
    return f"[{f(lo, decimals)}, {f(hi, decimals)}]"


def fmt_value(x, name: str, decimals: int = 2) -> str:
    """Format by the kind of statistic ``name`` (bounded, count or other)."""
    if name in COUNTS:
        return fmt_int(x)
    return fmt_bounded(x, decimals) if name in BOUNDED else fmt_num(x, decimals)


# ---------------------------------------------------------------------------
# report building blocks (the template renders them by ``kind``)


@dataclass
class Heading:
    text: str
    kind: ClassVar[str] = "h3"


@dataclass
class Para:
    text: str
    css: str = ""
    kind: ClassVar[str] = "p"


@dataclass
class Bullets:
    items: list
    kind: ClassVar[str] = "ul"


@dataclass
class DefList:
    items: list  # (term, value)
    kind: ClassVar[str] = "dl"


@dataclass
class Pre:
    text: str
    kind: ClassVar[str] = "pre"


@dataclass
class Table:
    columns: list
    rows: list
    caption: str = ""
    note: str = ""
    numeric: list = field(default_factory=list)  # column indices aligned right (and not wrapped)
    row_classes: list = field(default_factory=list)
    nowrap: list = field(default_factory=list)  # column indices not wrapped
    kind: ClassVar[str] = "table"


@dataclass
class Image:
    uri: str
    alt: str
    caption: str = ""
    kind: ClassVar[str] = "figure"


@dataclass
class Section:
    id: str
    title: str
    blocks: list


@dataclass
class Context:
    """Everything a section builder needs: the tables, instruments, texts and settings."""

    res: dict
    instruments: list
    T: Translator
    language: str
    study: str
    cohort: str
    config: dict
    seed: int
    run_time: str
    prereg: dict | None
    min_cell: int
    primary_method: str
    git_commit: str
    paths: dict

    def instrument(self, name: str) -> Instrument:
        return next(i for i in self.instruments if i.name == name)

    @property
    def dimension_instruments(self) -> list:
        return [i for i in self.instruments if {"anxiety", "avoidance"} <= set(i.subscales)]


# ---------------------------------------------------------------------------
# reading the cohort's tables


def load_results(cohort_dir: Path) -> tuple[dict, dict]:
    """Read every table of :data:`RESULT_FILES` that exists; returns (tables, paths).

    ``scores``, ``items`` and ``classification`` keep their ids as text (for
    joins only; ids are never written to the report). Rows of skipped analyses (a
    ``skipped_reason``) are taken out of their tables into ``res["skipped"]``
    (table, instrument, what, reason); a table with nothing else becomes None.
    """
    cohort_dir = Path(cohort_dir)
    res, paths = {}, {}
    for key, rel in RESULT_FILES.items():
        path = cohort_dir / rel
        if not path.is_file():
            res[key] = None
            continue
        paths[key] = path
        if key == "validation":
            res[key] = json.loads(path.read_text(encoding="utf-8"))
        elif key in ("scores", "items", "irt_scores"):
            res[key] = read_scores(path)
        elif key == "classification":
            id_name = pd.read_csv(path, nrows=0).columns[0]
            res[key] = pd.read_csv(path, dtype={id_name: str}).rename(columns={id_name: "id"})
        else:
            res[key] = pd.read_csv(path)
    res["skipped"] = []
    for key, frame in list(res.items()):
        if isinstance(frame, pd.DataFrame) and SKIPPED in frame.columns:
            kept, skipped = split_skipped(frame)
            for _, r in skipped.iterrows():
                what = " ".join(str(r[c]) for c in ("id", "method") if c in r and isinstance(r[c], str) and r[c])
                res["skipped"].append((RESULT_FILES[key], str(r.get("instrument", "") or ""), what, r[SKIPPED]))
            res[key] = kept if len(kept) else None
    if res["validation"] is None:
        raise FileNotFoundError(f"No qc/validation.json in {cohort_dir}: run the scoring step first.")
    return res, paths


def cohort_instruments(validation: dict, config: dict) -> list[Instrument]:
    """The cohort's instruments, as answered (response format and scale from ``qc/validation.json``)."""
    directory = config.get("instrument_dir")
    out = []
    for name, info in validation.get("items", {}).items():
        inst = load_instrument(name, info.get("response_format"), directory)
        lo, hi = (int(v) for v in info["response_scale"])
        if (lo, hi) != (inst.scale_min, inst.scale_max):
            inst = inst.with_scale(lo, hi)
        out.append(inst)
    return out


def short_name(inst: Instrument) -> str:
    """``ECR-R`` from "... (ECR-R)"; the title without its bracket when that is not an abbreviation.

    >>> short_name(load_instrument("ecr_r")), short_name(load_instrument("minmax"))
    ('ECR-R', 'Minimiser/maximiser checklist')
    """
    title = inst.title.strip()
    if title.endswith(")") and "(" in title:
        abbr = title[title.rindex("(") + 1:-1]
        if abbr and not any(c.islower() for c in abbr):
            return abbr
        return title[: title.rindex("(")].strip()
    return title


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit_of(directory: Path | None = None) -> str:
    """``git rev-parse HEAD`` of the project (``unknown`` outside a git checkout)."""
    directory = directory or Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def package_versions(packages=PACKAGES) -> list[tuple[str, str]]:
    """(package, version) for each package; ``not installed`` when absent."""
    rows = [("python", platform.python_version())]
    for p in packages:
        try:
            rows.append((p, metadata.version(p)))
        except metadata.PackageNotFoundError:
            rows.append((p, "not installed"))
    return rows


def config_hash(config: dict) -> str:
    """SHA-256 of the config as canonical JSON (keys sorted, no whitespace, UTF-8)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(obj):
    """Config as plain dicts/lists (Snakemake passes its own mapping types)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


# ---------------------------------------------------------------------------
# small helpers shared by sections


def _figure(ctx: Context, fig, alt: str, caption: str = "") -> Image:
    return Image(fg.png_data_uri(fig), alt, caption)


def _subscale_label(ctx: Context, inst: Instrument, sub: str) -> str:
    lab = inst.subscale_labels.get(sub, {})
    return lab.get(ctx.language) or lab.get("en") or sub


def _style_label(ctx: Context, style: str) -> str:
    if style in STYLE_LABELS.get(ctx.language, {}):
        return STYLE_LABELS[ctx.language][style]
    if str(style).startswith("profile_"):
        return ctx.T("profile", k=str(style).split("_", 1)[1])
    return str(style)


def _method_label(ctx: Context, method: str) -> str:
    return ctx.T.get(f"method_{method}", method)


def _scale_text(inst: Instrument) -> str:
    return f"{inst.scale_min}-{inst.scale_max}"


def _dim_label(ctx: Context, inst: Instrument, sub: str) -> str:
    return ctx.T("axis_dimension", dimension=_subscale_label(ctx, inst, sub).lower(), scale=_scale_text(inst))


def _rows(frame: pd.DataFrame | None, **eq) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame()
    mask = np.ones(len(frame), dtype=bool)
    for k, v in eq.items():
        mask &= (frame[k] == v).to_numpy()
    return frame[mask]


def _group_label(ctx: Context, column: str, group: str) -> str:
    return ctx.T("all_respondents") if column == "all" else f"{column} = {group}"


# ---------------------------------------------------------------------------
# 1. overview


def section_overview(ctx: Context) -> Section:
    """Study, cohort, instruments, respondents in and scored, date."""
    T, v = ctx.T, ctx.res["validation"]
    items = [(T("study"), ctx.study), (T("cohort"), ctx.cohort)]
    for inst in ctx.instruments:
        fmt = f"; {T.get('format_' + inst.response_format, inst.response_format)}" if inst.response_format else ""
        items.append((T("instrument"), f"{inst.title} ({inst.n_items} {T('items_word')}, "
                                       f"{T('scale_word')} {_scale_text(inst)}{fmt})"))
    items.append((T("rows_in_file"), fmt_int(v.get("rows_in_file"))))
    items.append((T("respondents"), fmt_int(v.get("respondents"))))
    for inst in ctx.instruments:
        sc = v["items"][inst.name].get("scoring", {})
        items.append((T("scored_on", instrument=short_name(inst)),
                      T("scored_value", scored=fmt_int(sc.get("scored")), partly=fmt_int(sc.get("partly_scored")),
                        unscored=fmt_int(sc.get("unscored")))))
    couples = v.get("couples")
    if couples:
        items.append((T("couples"), T("couples_value", couples=fmt_int(couples.get("couples")),
                                      singles=fmt_int(couples.get("respondents_without_partner")))))
    children = v.get("children")
    if children:
        items.append((T("children"), fmt_int(children.get("records"))))
    if ctx.dimension_instruments:
        items.append((T("primary_method"), _method_label(ctx, ctx.primary_method)))
    items.append((T("report_date"), ctx.run_time))
    blocks = [Para(T("overview_intro", study=ctx.study, cohort=ctx.cohort)), DefList(items)]
    return Section("overview", T("sec_overview"), blocks)


# ---------------------------------------------------------------------------
# 2. data quality

_MISSING_REASONS = ("blank", "missing_code", "out_of_range_set_missing", "non_numeric_set_missing")


def _validation_table(ctx: Context) -> Table:
    T, v = ctx.T, ctx.res["validation"]
    rows = []
    for inst in ctx.instruments:
        info = v["items"][inst.name]
        tot = info.get("totals", {})
        cells = sum(int(tot.get(r, 0)) for r in _MISSING_REASONS)
        share = 100 * cells / (v["respondents"] * inst.n_items) if v.get("respondents") else float("nan")
        codes = ", ".join(f"{c:g}" for c in info.get("missing_codes_applied", [])) or DASH
        rows.append([short_name(inst), _scale_text(inst), codes] + [fmt_int(tot.get(r, 0)) for r in _MISSING_REASONS]
                    + [fmt_num(share, 1)])
    return Table([T("instrument"), T("response_scale"), T("missing_codes")] + [T(f"reason_{r}") for r in _MISSING_REASONS]
                 + [T("percent_missing_answers")], rows, caption=T("validation_caption"),
                 note=T("validation_note", rule_oor=v.get("rules", {}).get("out_of_range", ""),
                        rule_nn=v.get("rules", {}).get("non_numeric", "")),
                 numeric=list(range(3, 8)))


def _exclusion_rows(ctx: Context) -> list:
    T, v, res = ctx.T, ctx.res["validation"], ctx.res
    rows = []
    n_resp = v.get("respondents")
    blank = (v.get("input") or {}).get("blank_rows_skipped") or 0
    if blank:
        rows.append([T("stage_reading"), DASH, fmt_int(blank), T("excl_blank_rows")])
    excluded = v.get("excluded") or {}
    for reason, info in excluded.items():
        rows.append([T("stage_reading"), DASH, fmt_int(info.get("n")),
                     f"{T.get('excl_' + reason, reason)} ({', '.join(info.get('columns', []))})"])
    dropped = (v.get("rows_in_file") or 0) - (n_resp or 0) - sum(int(i.get("n", 0)) for i in excluded.values())
    if dropped:
        rows.append([T("stage_reading"), DASH, fmt_int(dropped), T("excl_rows")])
    for inst in ctx.instruments:
        sc = v["items"][inst.name].get("scoring", {})
        if sc.get("unscored"):
            rows.append([T("stage_scoring"), short_name(inst), fmt_int(sc["unscored"]), T("excl_unscored")])
        if sc.get("partly_scored"):
            rows.append([T("stage_scoring"), short_name(inst), fmt_int(sc["partly_scored"]), T("excl_partly")])
    rel = res["reliability"]
    if rel is not None and n_resp:
        for _, r in rel[(rel["group_column"] == "all")].iterrows():
            if _finite(r["n"]) and r["n"] < n_resp:
                how = T("excl_rel_listwise") if r.get("missing", "listwise") == "listwise" else T("excl_rel_pairwise")
                inst = ctx.instrument(r["instrument"])
                rows.append([T("stage_reliability"), f"{short_name(inst)}: {_subscale_label(ctx, inst, r['subscale'])}",
                             fmt_int(n_resp - r["n"]), how])
    fac = res["factorability"]
    if fac is not None:
        for inst_name, f in fac.groupby("instrument", sort=False):
            ex = f.loc[f["measure"] == "n_excluded", "value"]
            kind = f["missing"].dropna().iloc[0] if "missing" in f and f["missing"].notna().any() else "listwise"
            if len(ex) and ex.iloc[0] > 0:
                rows.append([T("stage_factors"), short_name(ctx.instrument(inst_name)), fmt_int(ex.iloc[0]),
                             T("excl_factors" if kind == "listwise" else "excl_factors_pairwise")])
    cov = res["coverage"]
    if cov is not None:
        for _, r in cov.iterrows():
            if r["n_skipped"] > 0:
                rows.append([T("stage_classification"), f"{short_name(ctx.instrument(r['instrument']))}, "
                             f"{_method_label(ctx, r['method'])}", fmt_int(r["n_skipped"]), T("excl_classification")])
    return rows


def _groups_table(ctx: Context) -> Table | None:
    T, v = ctx.T, ctx.res["validation"]
    rows = []
    notes = [T("min_cell_note", k=ctx.min_cell)]
    for col, info in (v.get("groups") or {}).items():
        for level, n in info.get("levels", {}).items():
            rows.append([col, str(level), fmt_count(n, ctx.min_cell)])
        rows.append([col, T("missing_value"), fmt_count(info.get("missing", 0), ctx.min_cell)])
        hidden = info.get("hidden")
        if hidden:
            notes.append(T("groups_hidden", column=col, levels=hidden["levels"], k=ctx.min_cell, n=hidden["respondents"]))
    for col, info in (v.get("covariates") or {}).items():
        rows.append([col, T("missing_value"), fmt_count(info.get("missing", 0), ctx.min_cell)])
    children = v.get("children")
    if children:
        for code, n in children.get("codes", {}).items():
            rows.append([T("children_codes"), code, fmt_count(n, ctx.min_cell)])
    if not rows:
        return None
    return Table([T("column"), T("level"), T("n")], rows, caption=T("groups_caption"),
                 note=" ".join(notes), numeric=[2])


def _missingness_figure(ctx: Context, inst: Instrument) -> Image | None:
    miss = _rows(ctx.res["missingness"], instrument=inst.name)
    if miss.empty:
        return None
    T = ctx.T
    n = miss["n"].replace(0, np.nan)
    data = {T("reason_all"): miss["percent_missing"].to_numpy(dtype=float)}
    for r in _MISSING_REASONS:
        data[T(f"reason_{r}")] = 100 * miss[f"n_{r}"].to_numpy(dtype=float) / n.to_numpy(dtype=float)
    labels = [str(it).rsplit("_", 1)[-1] for it in miss["item"]]
    frame = pd.DataFrame(data, index=labels).T
    fig = fg.missingness_heatmap(frame, title=T("missing_fig_title", instrument=short_name(inst)),
                                 colorbar_label=T("percent_of_respondents"), xlabel=T("item_number"))
    return _figure(ctx, fig, T("missing_fig_alt", instrument=short_name(inst)),
                   T("missing_fig_caption"))


def section_quality(ctx: Context) -> Section:
    """Reading facts, validation counts, exclusions with reasons, missingness heat map."""
    T, v = ctx.T, ctx.res["validation"]
    inp = v.get("input", {})
    blocks = [Para(T("input_read", file=inp.get("file", DASH), format=inp.get("format", DASH),
                     encoding=inp.get("encoding", DASH), delimiter=inp.get("delimiter", DASH),
                     decimal=inp.get("decimal", DASH), first_row=inp.get("first_data_row", DASH)))]
    if inp.get("notes"):
        blocks.append(Bullets(list(inp["notes"])))
    if v.get("warnings"):
        blocks.append(Heading(T("warnings_heading")))
        blocks.append(Bullets(list(v["warnings"])))
    blocks.append(_validation_table(ctx))
    excl = _exclusion_rows(ctx)
    blocks.append(Heading(T("exclusions")))
    if excl:
        blocks.append(Table([T("stage"), T("instrument"), T("n"), T("reason")], excl, caption=T("exclusions_caption"),
                            numeric=[2]))
    else:
        blocks.append(Para(T("no_exclusions")))
    if ctx.res.get("skipped"):
        blocks.append(Heading(T("skipped_heading")))
        merged: dict = {}  # one row per analysis and reason, naming every table it left out
        for table, inst, what, reason in ctx.res["skipped"]:
            merged.setdefault((inst, what, reason), []).append(table)
        blocks.append(Table([T("skipped_table"), T("instrument"), T("skipped_what"), T("skipped_reason")],
                            [[", ".join(dict.fromkeys(t)), i, w, r] for (i, w, r), t in merged.items()],
                            caption=T("skipped_caption")))
    groups = _groups_table(ctx)
    if groups is not None:
        blocks.append(Heading(T("groups_heading")))
        blocks.append(groups)
    blocks.append(Heading(T("missing_heading")))
    figs = [f for f in (_missingness_figure(ctx, i) for i in ctx.instruments) if f is not None]
    blocks.extend(figs or [Para(T("no_missingness"))])
    return Section("quality", T("sec_quality"), blocks)


# ---------------------------------------------------------------------------
# 3. items


def raw_answers(keyed: pd.DataFrame, inst: Instrument) -> pd.DataFrame:
    """Answers as given, from keyed items: ``min + max - x`` for reverse-keyed items of a Likert instrument.

    >>> inst = load_instrument("ecr_r")
    >>> keyed = pd.DataFrame({"ecr_r_9": [1.0, 7.0], "ecr_r_1": [2.0, None]})
    >>> raw_answers(keyed, inst).to_dict("list")
    {'ecr_r_9': [7.0, 1.0], 'ecr_r_1': [2.0, nan]}
    """
    out = keyed.copy()
    if inst.kind != "likert":
        return out
    for item in inst.items:
        col = f"{inst.name}_{item.n}"
        if item.reverse and col in out:
            out[col] = inst.scale_min + inst.scale_max - out[col]
    return out


def answer_percentages(raw: pd.DataFrame, categories: list[int]) -> pd.DataFrame:
    """Percent of each item's answers per category (rows: items, columns: categories; missing left out).

    >>> answer_percentages(pd.DataFrame({"a": [1, 2, 2, None]}), [1, 2, 3]).loc["a"].round(1).tolist()
    [33.3, 66.7, 0.0]
    """
    rows = {}
    for col in raw.columns:
        s = raw[col].dropna()
        counts = s.value_counts().reindex(categories, fill_value=0).to_numpy(dtype=float)
        rows[col] = 100 * counts / counts.sum() if counts.sum() else np.full(len(categories), np.nan)
    return pd.DataFrame.from_dict(rows, orient="index", columns=categories)


def _item_text(ctx: Context, inst: Instrument, item, width: int = 58) -> str:
    text = item.text.get(ctx.language) or item.text.get("en") or ""
    mark = " (R)" if item.reverse and inst.kind == "likert" else ""
    label = f"{item.n}{mark} {text}".strip()
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def _category_labels(ctx: Context, inst: Instrument, categories: list[int]) -> list[str]:
    out = []
    for c in categories:
        lab = inst.scale_labels.get(c) or inst.scale_labels.get(str(c))
        out.append(f"{c} {ctx.T.scale_label(lab)}" if lab else str(c))
    return out


def _items_figure(ctx: Context, inst: Instrument) -> Image | None:
    items = ctx.res["items"]
    cols = [c for c in inst.item_columns() if items is not None and c in items.columns]
    if not cols:
        return None
    T = ctx.T
    categories = list(range(inst.scale_min, inst.scale_max + 1))
    pct = answer_percentages(raw_answers(items[cols], inst), categories)
    pct.index = [_item_text(ctx, inst, it) for it in inst.items if f"{inst.name}_{it.n}" in cols]
    marked = [it.reverse and inst.kind == "likert" for it in inst.items if f"{inst.name}_{it.n}" in cols]
    fig = fg.diverging_bars(pct, category_labels=_category_labels(ctx, inst, categories),
                            title=T("items_fig_title", instrument=short_name(inst)),
                            xlabel=T("percent_of_answers"), marked=marked, legend_title=T("answer"))
    return _figure(ctx, fig, T("items_fig_alt", instrument=short_name(inst)),
                   T("items_fig_caption_likert") if inst.kind == "likert" else T("items_fig_caption_minmax"))


def section_items(ctx: Context) -> Section:
    """Answer distributions per item (diverging stacked bars); reverse-keyed items marked."""
    T = ctx.T
    blocks = [Para(T("items_intro"))]
    figs = [f for f in (_items_figure(ctx, i) for i in ctx.instruments) if f is not None]
    blocks.extend(figs or [Para(T("no_items"))])
    return Section("items", T("sec_items"), blocks)


# ---------------------------------------------------------------------------
# 4. reliability


def _reliability_table(ctx: Context, inst: Instrument, rel: pd.DataFrame) -> Table:
    T = ctx.T
    rows = []
    for _, r in rel.iterrows():
        n_hidden = suppressed(r["n"], ctx.min_cell)
        stats = [fmt_bounded(r["alpha"]), fmt_ci(r["alpha_feldt_low"], r["alpha_feldt_high"]),
                 fmt_ci(r["alpha_boot_low"], r["alpha_boot_high"]), fmt_bounded(r["alpha_std"]),
                 fmt_bounded(r["lambda6"]), fmt_bounded(r["omega_total"]), fmt_bounded(r["omega_h"]),
                 fmt_bounded(r["average_r"]), fmt_num(r["mean"]), fmt_num(r["sd"])]
        if n_hidden:
            stats = [DASH] * len(stats)
        rows.append([_subscale_label(ctx, inst, r["subscale"]), _group_label(ctx, r["group_column"], r["group"]),
                     fmt_count(r["n"], ctx.min_cell), fmt_int(r["k"])] + stats)
    cols = [T("subscale"), T("group"), "n", "k", "α", T("ci_feldt"), T("ci_boot"), T("alpha_std"), "λ6",
            "ω<sub>t</sub>", "ω<sub>h</sub>", T("average_r"), "M", "SD"]
    miss = rel["missing"].iloc[0] if "missing" in rel and len(rel) else "listwise"
    return Table(cols, rows, caption=T("rel_caption", instrument=short_name(inst)),
                 note=T("rel_note", missing=T.get(f"missing_{miss}", miss), k=ctx.min_cell),
                 numeric=list(range(2, len(cols))))


_FLAG_REASONS = {"r_drop < 0.30": "flag_r_drop", "alpha if deleted > alpha": "flag_alpha_if_deleted",
                 "no variance": "flag_no_variance"}


def _flag_text(ctx: Context, reason) -> str:
    if not isinstance(reason, str) or not reason:
        return ""
    parts = [p.strip() for p in reason.replace(",", ";").split(";") if p.strip()]
    return "; ".join(ctx.T.get(_FLAG_REASONS.get(p, ""), p) if p in _FLAG_REASONS else p for p in parts)


def _item_stats_table(ctx: Context, inst: Instrument, stats: pd.DataFrame) -> Table:
    T = ctx.T
    by_n = {f"{inst.name}_{it.n}": it for it in inst.items}
    rows, classes = [], []
    for _, r in stats.iterrows():
        item = by_n.get(r["item"])
        flagged = bool(r["flag"]) if _finite(r.get("flag")) or isinstance(r.get("flag"), (bool, np.bool_)) else False
        rows.append([_item_text(ctx, inst, item, 400) if item else r["item"],
                     _subscale_label(ctx, inst, r["subscale"]), fmt_int(r["n"]), fmt_num(r["mean"]), fmt_num(r["sd"]),
                     fmt_bounded(r["r_drop"]), fmt_bounded(r["alpha_if_deleted"]),
                     _flag_text(ctx, r.get("flag_reason")) if flagged else ""])
        classes.append("flag" if flagged else "")
    cols = [T("item"), T("subscale"), "n", "M", "SD", "r<sub>drop</sub>", T("alpha_if_deleted"), T("flag")]
    n_flag = sum(c == "flag" for c in classes)
    return Table(cols, rows, caption=T("item_stats_caption", instrument=short_name(inst)),
                 note=T("item_stats_note", n=n_flag), numeric=[2, 3, 4, 5, 6], row_classes=classes)


def section_reliability(ctx: Context) -> Section:
    """Reliability per subscale and group with intervals; item statistics with flags."""
    T, rel, ist = ctx.T, ctx.res["reliability"], ctx.res["item_stats"]
    blocks = []
    if rel is None:
        return Section("reliability", T("sec_reliability"), [Para(T("no_reliability"))])
    for inst in ctx.instruments:
        r = _rows(rel, instrument=inst.name)
        if r.empty:
            continue
        blocks.append(Heading(inst.title))
        blocks.append(_reliability_table(ctx, inst, r))
        s = _rows(ist, instrument=inst.name, group_column="all")
        if not s.empty:
            blocks.append(_item_stats_table(ctx, inst, s))
    blocks.append(Para(T("item_stats_groups_note"), css="note"))
    return Section("reliability", T("sec_reliability"), blocks)


# ---------------------------------------------------------------------------
# 5. factor structure

_FIT_CUTOFFS = {"cfi": ((0.95, "good"), (0.90, "acceptable")), "tli": ((0.95, "good"), (0.90, "acceptable")),
                "rmsea": ((0.06, "good"), (0.08, "acceptable")), "srmr": ((0.08, "good"),)}


def fit_verdict(index: str, value: float) -> str:
    """``good`` / ``acceptable`` / ``poor`` by the conventional cut-offs (Hu & Bentler, 1999).

    >>> fit_verdict("cfi", 0.93), fit_verdict("rmsea", 0.05), fit_verdict("srmr", 0.09)
    ('acceptable', 'good', 'poor')
    """
    if not _finite(value):
        return "unknown"
    lower_is_better = index in ("rmsea", "srmr")
    for cut, word in _FIT_CUTOFFS[index]:
        if (value <= cut) if lower_is_better else (value >= cut):
            return word
    return "poor"


def _factorability_para(ctx: Context, inst: Instrument) -> Para | None:
    f = _rows(ctx.res["factorability"], instrument=inst.name)
    if f.empty:
        return None
    m = {r["measure"]: r["value"] for _, r in f[f["item"].isna()].iterrows()}
    common = dict(n=fmt_int(m.get("n")), excluded=fmt_int(m.get("n_excluded")),
                  kmo=fmt_bounded(m.get("kmo")), chi2=fmt_num(m.get("bartlett_chi2")),
                  df=fmt_int(m.get("bartlett_df")), p=_p_eq(m.get("bartlett_p")),
                  n_fa=fmt_int(m.get("n_factors_parallel")), n_pc=fmt_int(m.get("n_components_parallel")),
                  n_th=fmt_int(m.get("n_factors_theoretical")))
    kind = f["missing"].dropna().iloc[0] if "missing" in f and f["missing"].notna().any() else "listwise"
    smoothed = ctx.T("factorability_smoothed") if m.get("smoothed") == 1 else ""
    if kind == "pairwise":
        return Para(ctx.T("factorability_text_pairwise", pairs=fmt_int(m.get("n_pairs_min")), smoothed=smoothed,
                          **common))
    if kind in ("fiml", "polychoric"):
        return Para(ctx.T(f"factorability_text_{kind}", smoothed=smoothed, **common))
    return Para(ctx.T("factorability_text", **common))


def _p_eq(p) -> str:
    """``p < .001`` or ``p = .023`` (for running text)."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _scree_figure(ctx: Context, inst: Instrument) -> Image | None:
    pa = _rows(ctx.res["parallel"], instrument=inst.name)
    if pa.empty:
        return None
    T = ctx.T
    labels = {k: T(f"scree_{k}") for k in ("observed_fa", "random_fa", "observed_pc", "random_pc", "xlabel", "ylabel")}
    fig = fg.scree_plot(pa, title=T("scree_title", instrument=short_name(inst)), labels=labels)
    return _figure(ctx, fig, T("scree_alt", instrument=short_name(inst)), T("scree_caption"))


def _loadings_figure(ctx: Context, inst: Instrument) -> Image | None:
    ld = _rows(ctx.res["efa_loadings"], instrument=inst.name)
    if ld.empty:
        return None
    order = {s: i for i, s in enumerate(inst.subscales)}
    ld = ld.assign(_o=ld["subscale"].map(order).fillna(len(order))).sort_values("_o", kind="stable")
    T = ctx.T
    factors = [c for c in ld.columns if c.startswith("F") and c[1:].isdigit()]
    matched = {}
    for fac in factors:
        subs = ld.loc[ld["matched_factor"] == fac, "subscale"].unique()
        matched[fac] = _subscale_label(ctx, inst, subs[0]) if len(subs) == 1 else ""
    by_n = {f"{inst.name}_{it.n}": it for it in inst.items}
    index = [f"{by_n[i].n}{' (R)' if by_n[i].reverse else ''}" if i in by_n else i for i in ld["item"]]
    frame = pd.DataFrame(ld[factors].to_numpy(dtype=float), index=index, columns=factors)
    labels = [f"{f}\n{matched[f]}" if matched[f] else f for f in factors]
    sub_labels = {s: _subscale_label(ctx, inst, s) for s in inst.subscales}
    method = f"{ld['extraction'].iloc[0]}, {ld['rotation'].iloc[0]}"
    fig = fg.loadings_heatmap(frame, labels, list(ld["subscale"]), subscale_labels=sub_labels,
                              title=T("loadings_title", instrument=short_name(inst), method=method),
                              colorbar_label=T("loading"))
    return _figure(ctx, fig, T("loadings_alt", instrument=short_name(inst)), T("loadings_caption"))


def _efa_para(ctx: Context, inst: Instrument) -> Para | None:
    fit = _rows(ctx.res["efa_fit"], instrument=inst.name)
    if fit.empty:
        return None
    model = {r["measure"]: r["value"] for _, r in fit[fit["factor"].isna()].iterrows()}
    phi = fit.loc[fit["measure"] == "phi", ["factor", "value"]]
    cong = fit.loc[fit["measure"] == "congruence", ["factor", "value"]]
    phis = ", ".join(f"{r['factor']}: {fmt_bounded(r['value'])}" for _, r in phi.iterrows()) or DASH
    congs = ", ".join(f"{r['factor']}: {fmt_bounded(r['value'])}" for _, r in cong.iterrows()) or DASH
    ld = _rows(ctx.res["efa_loadings"], instrument=inst.name)
    flagged = []
    if not ld.empty:
        for _, r in ld.iterrows():
            why = [ctx.T("flag_low")] if bool(r["flag_low"]) else []
            why += [ctx.T("flag_cross")] if bool(r["flag_cross"]) else []
            if why:
                flagged.append(f"{r['item']} ({', '.join(why)})")
    text = ctx.T("efa_text", tli=fmt_num(model.get("tli"), 3), rmsea=fmt_bounded(model.get("rmsea"), 3),
                 ci=fmt_ci(model.get("rmsea_low"), model.get("rmsea_high"), decimals=3), phi=phis, congruence=congs,
                 flagged="; ".join(flagged) if flagged else ctx.T("none"))
    return Para(text)


def _cfa_headline(r) -> tuple[str, str, str]:
    """Which chi2 and CFI/TLI/RMSEA a CFA row reports: scaled chi2 and robust indices for mlr/wlsmv."""
    est = r.get("estimator", "ml")
    if est in ("mlr", "wlsmv") and np.isfinite(r.get("chi2_scaled", np.nan)):
        kind = "robust" if np.isfinite(r.get("cfi_robust", np.nan)) else "scaled"
        return "chi2_scaled", f"_{kind}", "p_scaled"
    return "chi2", "", "p"


def _cfa_table(ctx: Context, inst: Instrument) -> Table | None:
    fit = _rows(ctx.res["cfa_fit"], instrument=inst.name)
    if fit.empty:
        return None
    T = ctx.T
    rows = []
    for _, r in fit.iterrows():
        chi, suffix, pcol = _cfa_headline(r)
        idx = {k: r.get(k + suffix, r[k]) for k in ("cfi", "tli", "rmsea")}
        idx["srmr"] = r["srmr"]
        verdicts = {k: T(f"verdict_{fit_verdict(k, v)}") for k, v in idx.items()}
        ci = fmt_ci(r.get("rmsea_low" + suffix, np.nan), r.get("rmsea_high" + suffix, np.nan), decimals=3)
        rows.append([T.get(f"model_{r['model']}", r["model"]), fmt_int(r["n"]), fmt_num(r[chi]), fmt_int(r["df"]),
                     fmt_p(r[pcol]), f"{fmt_bounded(idx['cfi'], 3)} ({verdicts['cfi']})",
                     f"{fmt_num(idx['tli'], 3)} ({verdicts['tli']})",
                     f"{fmt_bounded(idx['rmsea'], 3)} {ci} ({verdicts['rmsea']})",
                     f"{fmt_bounded(r['srmr'], 3)} ({verdicts['srmr']})", fmt_num(r["aic"], 1), fmt_num(r["bic"], 1)])
    cols = [T("model"), "n", "χ²", "df", "p", "CFI", "TLI", T("rmsea_ci"), "SRMR", "AIC", "BIC"]
    first = fit.iloc[0]
    est, miss = first.get("estimator", "ml"), first.get("missing", "listwise")
    caption = T("cfa_caption", instrument=short_name(inst), method=T(f"cfa_method_{est}"),
                missing=T(f"cfa_missing_{miss}"))
    note = T("cfa_note") + (" " + T(f"cfa_note_{est}") if est in ("mlr", "wlsmv") else "")
    excluded = int(first.get("n_excluded", 0) or 0)
    if excluded:
        note += " " + T("cfa_note_excluded", n=fmt_int(excluded))
    return Table(cols, rows, caption=caption, note=note, numeric=list(range(1, len(cols))))


def section_factors(ctx: Context) -> Section:
    """KMO/Bartlett, scree with parallel analysis, loadings heat map, EFA and CFA fit."""
    T = ctx.T
    blocks = []
    for inst in ctx.dimension_instruments:
        parts = [_factorability_para(ctx, inst), _scree_figure(ctx, inst), _loadings_figure(ctx, inst),
                 _efa_para(ctx, inst), _cfa_table(ctx, inst)]
        parts = [p for p in parts if p is not None]
        if parts:
            blocks.append(Heading(inst.title))
            blocks.extend(parts)
    if not blocks:
        return Section("factors", T("sec_factors"), [Para(T("no_factors"))])
    blocks.append(Bullets([T("cutoff_cfi"), T("cutoff_rmsea"), T("cutoff_srmr"), T("cutoff_chi2")]))
    return Section("factors", T("sec_factors"), blocks)


# ---------------------------------------------------------------------------
# 6. item response theory


def _irt_fit_table(ctx: Context, inst: Instrument, fit: pd.DataFrame) -> Table:
    T = ctx.T
    rows = []
    for _, r in fit.iterrows():
        rows.append([_subscale_label(ctx, inst, r["subscale"]), fmt_int(r["n"]), fmt_int(r["n_items"]),
                     fmt_num(r["loglik"], 1), fmt_num(r["aic"], 1), fmt_num(r["bic"], 1),
                     f"{r['m2_statistic']} = {fmt_num(r['m2'])}" if _finite(r["m2"]) else DASH, fmt_int(r["df"]),
                     fmt_p(r["p"]), f"{fmt_bounded(r['rmsea2'], 3)} {fmt_ci(r['rmsea2_low'], r['rmsea2_high'], decimals=3)}",
                     fmt_bounded(r["srmsr"], 3), fmt_bounded(r["marginal_reliability"]),
                     fmt_bounded(r["empirical_reliability"])])
    cols = [T("subscale"), "n", T("items_word"), "log L", "AIC", "BIC", "M2", "df", "p", T("irt_rmsea2"), "SRMSR",
            T("irt_rho_marginal"), T("irt_rho_eap")]
    link = fit["link"].iloc[0] if len(fit) else "logistic"
    return Table(cols, rows, caption=T("irt_fit_caption", instrument=short_name(inst)),
                 note=T("irt_fit_note", link=T.get(f"irt_link_{link}", link), points=fmt_int(fit["quadrature_points"].iloc[0])),
                 numeric=list(range(1, len(cols))))


def _irt_items_table(ctx: Context, inst: Instrument, items: pd.DataFrame, sub: str) -> Table | None:
    rows_df = items[items["subscale"] == sub]
    if rows_df.empty:
        return None
    T = ctx.T
    by_col = {f"{inst.name}_{it.n}": it for it in inst.items}
    n_b = inst.scale_max - inst.scale_min
    rows, classes = [], []
    for _, r in rows_df.iterrows():
        item = by_col.get(r["item"])
        flagged = _finite(r.get("p_adjusted")) and float(r["p_adjusted"]) < 0.05
        b = [fmt_num(r.get(f"b{k}")) for k in range(1, n_b + 1)]
        sx2 = f"{fmt_num(r['s_x2'], 1)} ({fmt_int(r['s_x2_df'])})" if _finite(r.get("s_x2")) else DASH
        rows.append([_item_text(ctx, inst, item, 60) if item else r["item"], f"{fmt_num(r['a'])} ({fmt_num(r['se_a'])})"]
                    + b + [sx2, fmt_p(r["p"])])
        classes.append("flag" if flagged else "")
    cols = [T("item"), "a (SE)"] + [f"b{k}" for k in range(1, n_b + 1)] + ["S-X²", "p"]
    return Table(cols, rows, caption=T("irt_items_caption", instrument=short_name(inst),
                                       subscale=_subscale_label(ctx, inst, sub)),
                 note=T("irt_items_note", n=sum(c == "flag" for c in classes), k=n_b, lo=inst.scale_min + 1,
                        hi=inst.scale_max),
                 numeric=list(range(1, len(cols))), row_classes=classes)


def _irt_information_figure(ctx: Context, inst: Instrument) -> Image | None:
    info = _rows(ctx.res["irt_information"], instrument=inst.name)
    if info.empty:
        return None
    T = ctx.T
    by_col = {f"{inst.name}_{it.n}": it for it in inst.items}
    panels = []
    for sub in inst.subscales:
        part = info[info["subscale"] == sub]
        if part.empty:
            continue
        test = part[part["item"] == "test"].sort_values("theta")
        items = {}
        for item, rows in part[part["item"] != "test"].groupby("item", sort=False):
            it = by_col.get(item)
            label = f"{it.n}{' (R)' if it.reverse else ''}" if it else str(item)
            items[label] = rows.sort_values("theta")["information"].to_numpy()
        panels.append({"title": _subscale_label(ctx, inst, sub), "theta": test["theta"].to_numpy(), "items": items,
                       "test": test["information"].to_numpy(), "se": test["se"].to_numpy()})
    if not panels:
        return None
    labels = {"xlabel": T("irt_theta_axis"), "ylabel": T("irt_information_axis"), "se": T("irt_se_axis"),
              "item": T("irt_item_axis"), "test": T("irt_test_curve"), "colorbar": T("irt_item_information")}
    fig = fg.information_curves(panels, labels=labels)
    return _figure(ctx, fig, T("irt_information_alt", instrument=short_name(inst)), T("irt_information_caption"))


def _irt_scores_block(ctx: Context, inst: Instrument) -> list:
    sc, scores = ctx.res["irt_scores"], ctx.res["scores"]
    if sc is None or scores is None:
        return []
    T = ctx.T
    rows, panels = [], []
    for sub in inst.subscales:
        eap, se, ml = (f"{inst.name}_{sub}_{k}" for k in ("theta_eap", "se_eap", "theta_ml"))
        mean_col = f"{inst.name}_{sub}"
        if eap not in sc:
            continue
        both = pd.concat([sc[[eap, se, ml]], scores[mean_col].reindex(sc.index)], axis=1)
        scored = both[eap].notna()
        pair = both.loc[scored & both[mean_col].notna()]
        r = float(np.corrcoef(pair[eap], pair[mean_col])[0, 1]) if len(pair) > 2 else np.nan
        rows.append([_subscale_label(ctx, inst, sub), fmt_int(scored.sum()), fmt_num(both.loc[scored, eap].mean()),
                     fmt_num(both.loc[scored, eap].std()), fmt_num(both.loc[scored, se].mean()),
                     fmt_int(both[ml].notna().sum()), fmt_bounded(r)])
        panels.append({"title": _subscale_label(ctx, inst, sub), "mean_score": both[mean_col].to_numpy(),
                       "eap": both[eap].to_numpy(), "se": both[se].to_numpy(), "scale": (inst.scale_min, inst.scale_max)})
    if not rows:
        return []
    cols = [T("subscale"), "n", "M (EAP)", "SD (EAP)", T("irt_mean_se"), T("irt_ml_finite"), T("irt_r_mean")]
    table = Table(cols, rows, caption=T("irt_scores_caption", instrument=short_name(inst)), note=T("irt_scores_note"),
                  numeric=list(range(1, len(cols))))
    labels = {"xlabel": T("irt_mean_axis", scale=_scale_text(inst)), "ylabel": T("irt_eap_axis"), "count": T("n")}
    fig = fg.irt_score_plot(panels, labels=labels)
    return [Heading(T("irt_scores_heading")), table,
            _figure(ctx, fig, T("irt_scores_alt", instrument=short_name(inst)), T("irt_scores_fig_caption"))]


def _dif_comparison_label(ctx: Context, r) -> str:
    if r["comparison"] == "partner_role":
        return ctx.T("irt_dif_roles", column=r["group_column"])
    return str(r["comparison"])


def _irt_dif_block(ctx: Context, inst: Instrument) -> list:
    dif = _rows(ctx.res["irt_dif"], instrument=inst.name)
    T = ctx.T
    if dif.empty:
        return [Heading(T("irt_dif_heading")), Para(T("irt_no_dif"))]
    summary, flagged = [], []
    keys = ["subscale", "comparison", "reference", "focal"]
    for key, part in dif.groupby(keys, sort=False, dropna=False):
        first = part.iloc[0]
        label = _dif_comparison_label(ctx, first)
        if first["test"] == "not run":
            note = str(first["note"]) if isinstance(first["note"], str) else ""
            note = re.sub(r"\(n = (\d+)\)", lambda m: f"(n {fmt_count(int(m.group(1)), ctx.min_cell)})"
                          if suppressed(int(m.group(1)), ctx.min_cell) else m.group(0), note)  # privacy
            summary.append([_subscale_label(ctx, inst, first["subscale"]), label, DASH, DASH, DASH,
                            T("irt_dif_not_run"), note])
            continue
        tested = part[part["test"] != "anchor"]
        hits = tested[tested["p_adjusted"] < 0.05]
        largest = tested.loc[tested["essd"].abs().idxmax()] if tested["essd"].notna().any() else None
        by_col = {f"{inst.name}_{it.n}": it.n for it in inst.items}
        summary.append([_subscale_label(ctx, inst, first["subscale"]), label,
                        f"{first['reference']} ({fmt_int(first['n_reference'])})",
                        f"{first['focal']} ({fmt_int(first['n_focal'])})", T.get("irt_test_" + ("scaled" if "cluster" in str(first["test"]) else "lr"), first["test"]),
                        ", ".join(str(by_col.get(i, i)) for i in hits["item"]) or T("none"),
                        (f"{by_col.get(largest['item'], largest['item'])}: {fmt_num(largest['essd'])}"
                         if largest is not None else DASH)])
        for _, h in hits.iterrows():
            flagged.append([_subscale_label(ctx, inst, h["subscale"]), label, str(by_col.get(h["item"], h["item"])),
                            f"{fmt_num(h['statistic'])} ({fmt_int(h['df'])})", fmt_p(h["p"]), fmt_p(h["p_adjusted"]),
                            fmt_num(h["sids"]), fmt_num(h["essd"]), fmt_num(h["a_reference"]), fmt_num(h["a_focal"])])
    blocks = [Heading(T("irt_dif_heading")), Para(T("irt_dif_intro")),
              Table([T("subscale"), T("irt_comparison"), T("irt_reference"), T("irt_focal"), T("irt_test"),
                     T("irt_dif_items"), T("irt_largest_essd")], summary,
                    caption=T("irt_dif_caption", instrument=short_name(inst)), note=T("irt_dif_note"))]
    if flagged:
        blocks.append(Table([T("subscale"), T("irt_comparison"), T("item"), T("irt_statistic"), "p", T("irt_p_bh"), "SIDS",
                             "ESSD", "a (ref.)", "a (focal)"], flagged,
                            caption=T("irt_dif_flagged_caption", instrument=short_name(inst)),
                            numeric=list(range(3, 10))))
    if dif["test"].astype(str).str.contains("cluster").any():
        blocks.append(Para(T("irt_dif_couples"), css="note"))
    return blocks


def section_irt(ctx: Context) -> Section:
    """Graded response model per subscale: fit, item parameters, information curves, scores, DIF."""
    T, fit = ctx.T, ctx.res["irt_fit"]
    if fit is None or fit.empty:
        return Section("irt", T("sec_irt"), [Para(T("no_irt"))])
    blocks = [Para(T("irt_intro"))]
    for inst in ctx.instruments:
        f = _rows(fit, instrument=inst.name)
        if f.empty:
            continue
        fitted = f[f["loglik"].notna()] if "loglik" in f.columns else f.iloc[0:0]
        blocks.append(Heading(inst.title))
        if not fitted.empty:  # subscales not fitted (too few respondents, no answers) have only their note
            blocks.append(_irt_fit_table(ctx, inst, fitted))
        notes = [f"{_subscale_label(ctx, inst, r['subscale'])}: {r['note']}" for _, r in f.iterrows()
                 if isinstance(r.get("note"), str) and r["note"]]
        if notes:
            blocks.append(Bullets(notes))
        items = _rows(ctx.res["irt_items"], instrument=inst.name)
        for sub in inst.subscales:
            table = _irt_items_table(ctx, inst, items, sub) if not items.empty else None
            if table is not None:
                blocks.append(table)
        info = _irt_information_figure(ctx, inst)
        if info is not None:
            blocks += [Heading(T("irt_information_heading")), info]
        blocks += _irt_scores_block(ctx, inst)
        blocks += _irt_dif_block(ctx, inst)
    blocks.append(Bullets([T("irt_note_model"), T("irt_note_m2"), T("irt_note_sx2"), T("irt_note_reliability")]))
    return Section("irt", T("sec_irt"), blocks)


# ---------------------------------------------------------------------------
# 7. the two dimensions


def _classification_config(ctx: Context) -> dict:
    return dict(ctx.config.get("classification") or {})


def primary_cuts(ctx: Context, inst: Instrument, dims: pd.DataFrame) -> dict | None:
    """Cut lines of the primary method (:func:`attachment_pipeline.classify.cut_points`), None without lines."""
    if ctx.primary_method not in CUTOFF_METHODS:
        return None
    cfg = _classification_config(ctx)
    try:
        return cut_points(dims, ctx.primary_method, scale_min=inst.scale_min, scale_max=inst.scale_max,
                          reference=cfg.get("reference"), cut=cfg.get("cut", 0.0))
    except ValueError:
        return None


def _primary_styles(ctx: Context, inst: Instrument) -> pd.Series | None:
    cl = _rows(ctx.res["classification"], instrument=inst.name, method=ctx.primary_method)
    if cl.empty:
        return None
    return pd.Series(cl["style"].to_numpy(), index=cl["id"].to_numpy())


def _dimension_block(ctx: Context, inst: Instrument) -> list:
    T, scores = ctx.T, ctx.res["scores"]
    anx, avo = f"{inst.name}_anxiety", f"{inst.name}_avoidance"
    if scores is None or anx not in scores or avo not in scores:
        return []
    dims = scores[[anx, avo]].dropna().rename(columns={anx: "anxiety", avo: "avoidance"})
    if dims.empty:
        return [Heading(inst.title), Para(T("no_dimension_scores"))]
    styles = _primary_styles(ctx, inst)
    style_arr = styles.reindex(dims.index.astype(str)).to_numpy() if styles is not None else None
    if style_arr is not None and pd.isna(style_arr).any():
        style_arr = np.where(pd.isna(style_arr), "unclassified", style_arr)
    cuts = primary_cuts(ctx, inst, dims)
    quadrants = {s: STYLE_LABELS[ctx.language][s] for s in STYLES}
    style_labels = {s: _style_label(ctx, s) for s in (set(style_arr) if style_arr is not None else [])}
    style_labels["unclassified"] = T("unclassified")
    labels = {"xlabel": _dim_label(ctx, inst, "avoidance"), "ylabel": _dim_label(ctx, inst, "anxiety"),
              "count": T("respondents_axis")}
    fig = fg.dimension_plot(dims["avoidance"].to_numpy(), dims["anxiety"].to_numpy(), style_arr,
                            scale=(inst.scale_min, inst.scale_max), cuts=cuts, quadrant_labels=quadrants,
                            style_labels=style_labels, labels=labels)
    method = _method_label(ctx, ctx.primary_method)
    if cuts is None:
        lines = T("cuts_none", method=method)
    else:
        lines = T(f"cuts_{ctx.primary_method}", anxiety=fmt_num(cuts["anxiety"]), avoidance=fmt_num(cuts["avoidance"]))
    if len(dims) > fg.HEXBIN_THRESHOLD:
        hex_note = T("hexbin_note", k=fg.HEXBIN_THRESHOLD)
    else:
        hex_note = T("markers_note", method=method)
    caption = T("dimensions_caption", n=len(dims)) + " " + lines + " " + hex_note
    return [Heading(inst.title), _figure(ctx, fig, T("dimensions_alt", instrument=short_name(inst)), caption)]


def section_dimensions(ctx: Context) -> Section:
    """Anxiety against avoidance with the primary method's cut lines and the quadrants named."""
    T = ctx.T
    blocks = [b for inst in ctx.dimension_instruments for b in _dimension_block(ctx, inst)]
    if not blocks:
        blocks = [Para(T("no_dimensions"))]
    else:
        blocks.insert(0, Para(T("dimensions_intro")))
    return Section("dimensions", T("sec_dimensions"), blocks)


# ---------------------------------------------------------------------------
# 8. styles


def _style_order(styles) -> list:
    styles = list(dict.fromkeys(styles))
    return [s for s in STYLES if s in styles] + sorted(s for s in styles if s not in STYLES)


def _counts_table(ctx: Context, inst: Instrument, counts: pd.DataFrame) -> Table:
    T = ctx.T
    used = counts.groupby("style")["n"].sum()
    styles = _style_order([s for s in counts["style"] if s in STYLES or used.get(s, 0) > 0])
    cov = _rows(ctx.res["coverage"], instrument=inst.name)
    rows = []
    for method, c in counts.groupby("method", sort=False):
        c = c.set_index("style")
        cells = []
        for s in styles:
            n = c["n"].get(s, 0)
            cells.append(fmt_count(n, ctx.min_cell) + ("" if suppressed(n, ctx.min_cell)
                                                       else f" ({fmt_num(c['percent'].get(s, 0), 1)})"))
        k = cov.loc[cov["method"] == method, "n_classified"] if not cov.empty else pd.Series(dtype=float)
        rows.append([_method_label(ctx, method)] + cells + [fmt_int(k.iloc[0]) if len(k) else DASH])
    return Table([T("method")] + [_style_label(ctx, s) for s in styles] + [T("n_classified")], rows,
                 caption=T("counts_caption", instrument=short_name(inst)), note=T("counts_note", k=ctx.min_cell),
                 numeric=list(range(1, len(styles) + 2)))


def _counts_figure(ctx: Context, inst: Instrument, counts: pd.DataFrame) -> Image:
    T = ctx.T
    used = counts.groupby("style")["n"].sum()
    styles = _style_order([s for s in counts["style"] if s in STYLES or used.get(s, 0) > 0])
    masked = counts.assign(percent=np.where([suppressed(n, ctx.min_cell) for n in counts["n"]], np.nan,
                                            counts["percent"]))
    pct = masked.pivot_table(index="method", columns="style", values="percent", sort=False, dropna=False)
    pct = pct.reindex(index=list(dict.fromkeys(counts["method"])), columns=styles)
    fig = fg.style_count_bars(pct, style_labels={s: _style_label(ctx, s) for s in styles},
                              method_labels={m: _method_label(ctx, m) for m in pct.index},
                              xlabel=T("percent_classified"), title=T("counts_fig_title", instrument=short_name(inst)),
                              hidden_label=T("hidden_segment", k=ctx.min_cell))
    return _figure(ctx, fig, T("counts_fig_alt", instrument=short_name(inst)), T("counts_fig_caption", k=ctx.min_cell))


def _agreement_table(ctx: Context, inst: Instrument) -> Table | None:
    ag = _rows(ctx.res["agreement"], instrument=inst.name)
    if ag.empty:
        return None
    T = ctx.T
    rows = [[_method_label(ctx, r["method_1"]), _method_label(ctx, r["method_2"]), fmt_int(r["n"]),
             fmt_num(r["percent_agreement"], 1), fmt_bounded(r["kappa"]), fmt_ci(r["kappa_ci_low"], r["kappa_ci_high"])]
            for _, r in ag.iterrows()]
    return Table([T("method") + " 1", T("method") + " 2", "n", T("percent_agreement"), "κ", T("ci95")], rows,
                 caption=T("agreement_caption", instrument=short_name(inst)), note=T("agreement_note"),
                 numeric=[2, 3, 4, 5])


def _gmm_block(ctx: Context, inst: Instrument) -> list:
    prof = _rows(ctx.res["gmm_profiles"], instrument=inst.name)
    if prof.empty or set(prof["style"]) <= set(STYLES):
        return []
    T = ctx.T
    rows = [[_style_label(ctx, r["style"]), fmt_count(r["n"], ctx.min_cell), fmt_num(r["anxiety_mean"]),
             fmt_num(r["avoidance_mean"]), fmt_bounded(r["weight"])] for _, r in prof.iterrows()]
    return [Para(T("gmm_note", k=len(prof))),
            Table([T("profile_word"), "n", T("mean_anxiety"), T("mean_avoidance"), T("weight")], rows,
                  caption=T("gmm_caption", instrument=short_name(inst)), numeric=[1, 2, 3, 4])]


def _minmax_block(ctx: Context, inst: Instrument) -> list:
    mbs = _rows(ctx.res["minmax_by_style"], instrument=inst.name, method=ctx.primary_method)
    if not mbs.empty:
        totals = mbs.groupby("style")["n"].transform("sum")
        mbs = mbs[(totals > 0) | mbs["style"].isin(STYLES)]
    scores, styles = ctx.res["scores"], _primary_styles(ctx, inst)
    if mbs.empty or scores is None or "minmax_index" not in scores or styles is None:
        return []
    T = ctx.T
    index = scores["minmax_index"]
    present = _style_order(styles.unique())
    by_style = {s: index.reindex(styles.index[styles.to_numpy() == s]).to_numpy(dtype=float) for s in present}
    types = [t for t in MINMAX_TYPES if t in set(mbs["minmax_type"])]
    hidden = [suppressed(n, ctx.min_cell) for n in mbs["n"]]
    pct = (mbs.assign(percent_of_style=np.where(hidden, np.nan, mbs["percent_of_style"]))
           .pivot_table(index="style", columns="minmax_type", values="percent_of_style", dropna=False)
           .reindex(index=_style_order(mbs["style"]), columns=types))
    labels = {"index": T("minmax_index_axis"), "percent": T("percent_of_style"),
              "title_index": T("minmax_index_title"), "title_types": T("minmax_types_title")}
    style_labels = {s: _style_label(ctx, s) for s in present + list(pct.index)}
    fig = fg.minmax_by_style_plot(by_style, pct, style_labels=style_labels,
                                  type_labels={t: T(f"minmax_{t}") for t in types}, labels=labels,
                                  min_cell=ctx.min_cell)
    rows = []
    for s, g in mbs.groupby("style", sort=False):
        g = g.set_index("minmax_type")
        rows.append([_style_label(ctx, s)] + [
            fmt_count(g["n"].get(t, 0), ctx.min_cell) + ("" if suppressed(g["n"].get(t, 0), ctx.min_cell)
                                                         or not _finite(g["percent_of_style"].get(t))
                                                         else f" ({fmt_num(g['percent_of_style'].get(t, 0), 1)})")
            for t in types])
    order = {s: i for i, s in enumerate(_style_order(mbs["style"]))}
    rows.sort(key=lambda r: next((order[s] for s in order if _style_label(ctx, s) == r[0]), 99))
    table = Table([T("style")] + [T(f"minmax_{t}") for t in types], rows,
                  caption=T("minmax_table_caption", method=_method_label(ctx, ctx.primary_method)),
                  note=T("counts_note", k=ctx.min_cell), numeric=list(range(1, len(types) + 1)))
    return [Heading(T("minmax_heading")),
            _figure(ctx, fig, T("minmax_fig_alt"), T("minmax_fig_caption", method=_method_label(ctx, ctx.primary_method),
                                                     k=ctx.min_cell)), table]


def section_styles(ctx: Context) -> Section:
    """Style counts per method, agreement between methods, min/max index and type by style."""
    T, counts = ctx.T, ctx.res["style_counts"]
    blocks = []
    for inst in ctx.dimension_instruments:
        c = _rows(counts, instrument=inst.name)
        if c.empty:
            continue
        blocks.append(Heading(inst.title))
        blocks += [_counts_table(ctx, inst, c), _counts_figure(ctx, inst, c)]
        blocks += _gmm_block(ctx, inst)
        ag = _agreement_table(ctx, inst)
        if ag is not None:
            blocks.append(ag)
        blocks += _minmax_block(ctx, inst)
    if not blocks:
        blocks = [Para(T("no_styles"))]
    else:
        blocks.insert(0, Para(T("styles_intro", method=_method_label(ctx, ctx.primary_method))))
    return Section("styles", T("sec_styles"), blocks)


# ---------------------------------------------------------------------------
# 9. couples


def partner_pairs(scores: pd.DataFrame, couple_column: str, role_column: str | None) -> pd.DataFrame:
    """One row per couple with both partners in the data: ``a`` and ``b`` positions into ``scores``.

    Partner *a* has the role value that sorts first (as text) when there is a role
    column, else the id that sorts first (the rule of :mod:`attachment_pipeline.dyads`).
    Returns columns ``a``, ``b`` (integer row positions) and ``role_a``, ``role_b``;
    no couple id is kept.

    >>> s = pd.DataFrame({"c": ["x", "x", "y", None], "r": ["B", "A", "A", None]}, index=["p", "q", "r", "s"])
    >>> partner_pairs(s, "c", "r")[["a", "b"]].values.tolist()
    [[1, 0]]
    """
    if couple_column not in scores:
        return pd.DataFrame(columns=["a", "b", "role_a", "role_b"])
    couple = scores[couple_column].astype(object)
    has = couple.notna() & (couple.astype(str).str.strip() != "")
    key = (scores[role_column].astype(str).to_numpy() if role_column and role_column in scores
           else scores.index.astype(str).to_numpy())
    frame = pd.DataFrame({"couple": couple.astype(str).to_numpy(), "key": key, "pos": np.arange(len(scores))})
    frame = frame[has.to_numpy()]
    rows = []
    for _, g in frame.groupby("couple", sort=True):
        if len(g) != 2:
            continue
        g = g.sort_values("key", kind="stable")
        rows.append((int(g["pos"].iloc[0]), int(g["pos"].iloc[1]), g["key"].iloc[0], g["key"].iloc[1]))
    out = pd.DataFrame(rows, columns=["a", "b", "role_a", "role_b"])
    if not (role_column and role_column in scores):
        out["role_a"], out["role_b"] = "", ""
    return out


def _partner_panels(ctx: Context, pairs: pd.DataFrame) -> tuple[list, list, list]:
    T, scores = ctx.T, ctx.res["scores"]
    roles = pairs[["role_a", "role_b"]].drop_duplicates()
    ra, rb = ("A", "B") if len(roles) != 1 or not roles.iloc[0, 0] else (roles.iloc[0, 0], roles.iloc[0, 1])
    pa, pb = T("partner_named", role=ra), T("partner_named", role=rb)
    panels, scales, counts = [], [], []

    def values(col, who):
        return scores[col].to_numpy(dtype=float)[pairs[who].to_numpy()]

    for inst in ctx.dimension_instruments:
        anx, avo = f"{inst.name}_anxiety", f"{inst.name}_avoidance"
        if anx not in scores or avo not in scores:
            continue
        for (yw, ylab), (xw, xlab) in (((("a", pa)), ("b", pb)), (("b", pb), ("a", pa))):
            y, x = values(anx, yw), values(avo, xw)
            ok = np.isfinite(x) & np.isfinite(y)
            panels.append({"x": x[ok], "y": y[ok], "ylabel": f"{ylab}: {_dim_label(ctx, inst, 'anxiety')}",
                           "xlabel": f"{xlab}: {_dim_label(ctx, inst, 'avoidance')}",
                           "title": T("partner_panel_title", y=ylab, x=xlab, n=int(ok.sum()))})
            scales.append((inst.scale_min, inst.scale_max))
            counts.append(int(ok.sum()))
    if "minmax_index" in scores:
        y, x = values("minmax_index", "a"), values("minmax_index", "b")
        ok = np.isfinite(x) & np.isfinite(y)
        panels.append({"x": x[ok], "y": y[ok], "ylabel": f"{pa}: {T('minmax_index_axis')}",
                       "xlabel": f"{pb}: {T('minmax_index_axis')}",
                       "title": T("partner_minmax_title", n=int(ok.sum()))})
        scales.append((-1.0, 1.0))
        counts.append(int(ok.sum()))
    return panels, scales, counts


def _pairing_figures(ctx: Context) -> list:
    pt, T = ctx.res["pairing_table"], ctx.T
    if pt is None or pt.empty:
        return [Para(T("no_pairing_table"))]
    blocks = []
    ids = pt["id"].unique() if "id" in pt else [None]
    for hid in ids:
        t = pt[pt["id"] == hid] if hid is not None else pt
        cats = list(dict.fromkeys(list(t["category_1"]) + list(t["category_2"])))
        label = {c: (_style_label(ctx, c) if c in STYLES else T.get(f"minmax_{c}", c)) for c in cats}
        obs = pd.DataFrame(np.nan, index=[label[c] for c in cats], columns=[label[c] for c in cats])
        exp = obs.copy()
        for _, r in t.iterrows():
            i, j = label[r["category_1"]], label[r["category_2"]]
            obs.loc[i, j], exp.loc[i, j] = r["observed"], r["expected"]
        n_couples = int(t["n_couples"].iloc[0]) if "n_couples" in t else int(t["observed"].sum())
        fig = fg.pairing_heatmap(obs, exp, title=T("pairing_title", id=hid or "", n=n_couples),
                                 labels={"ratio": T("pairing_ratio")}, min_cell=ctx.min_cell)
        blocks.append(_figure(ctx, fig, T("pairing_alt", id=hid or ""), T("pairing_caption", k=ctx.min_cell)))
    return blocks


def section_couples(ctx: Context) -> Section:
    """Partner against partner (from scores.csv couple and role columns) and the pairing table."""
    T, v, scores = ctx.T, ctx.res["validation"], ctx.res["scores"]
    info = v.get("couples") or {}
    if not info or not info.get("couples") or scores is None:
        return Section("couples", T("sec_couples"), [Para(T("no_couples"))])
    pairs = partner_pairs(scores, info["couple_column"], info.get("role_column"))
    blocks = [Para(T("couples_intro", couples=len(pairs), role=info.get("role_column") or T("no_role_column")))]
    if len(pairs):
        panels, scales, _ = _partner_panels(ctx, pairs)
        if panels:
            for start in range(0, len(panels), 3):
                fig = fg.partner_plots(panels[start:start + 3], scale_by_panel=scales[start:start + 3])
                blocks.append(_figure(ctx, fig, T("partner_alt"), T("partner_caption")))
    blocks.extend(_dyad_blocks(ctx))
    blocks.append(Heading(T("pairing_heading")))
    blocks.extend(_pairing_figures(ctx))
    return Section("couples", T("sec_couples"), blocks)


def _dyad_blocks(ctx: Context) -> list:
    """Distinguishability, partner similarity and measurement invariance across the roles (``dyads/*.csv``)."""
    T, res = ctx.T, ctx.res
    dist, ni, inv = res.get("distinguishability"), res.get("nonindependence"), res.get("dyadic_invariance")
    if dist is None and ni is None and inv is None:
        return []
    blocks = [Heading(T("dyads_heading")), Para(T("dyads_intro"))]
    if dist is not None and len(dist):
        rows = [[str(r["score_set"]), fmt_int(r["n_couples"]), fmt_statistic("chi2", r["chi2"], r["df"]),
                 fmt_p(r["p"]), str(r["decision"])] for _, r in dist.iterrows()]
        blocks.append(Table([T("score_set"), "n", "χ²", "p", T("decision")], rows, caption=T("dist_caption"),
                            note=T("dist_note"), numeric=[1, 3], nowrap=[2]))
    if ni is not None and len(ni):
        rows = []
        for _, r in ni.iterrows():
            label = "ICC" if r["statistic"] == "icc" else "r"
            test = (f"F({fmt_int(r['df1'])}, {fmt_int(r['df2'])}) = {fmt_num(r['test_statistic'])}"
                    if r["test"] == "F" else fmt_statistic("t", r["test_statistic"], r["df1"]))
            rows.append([str(r["score"]), fmt_int(r["n_couples"]),
                         f"{label} = {fmt_bounded(r['estimate'])} {fmt_ci(r['ci_low'], r['ci_high'])}", test,
                         fmt_p(r["p"])])
        blocks.append(Table([T("score"), "n", T("similarity"), T("test"), "p"], rows, caption=T("ni_caption"),
                            note=T("ni_note"), numeric=[1, 4], nowrap=[2, 3]))
    if inv is not None and len(inv):
        fitted = inv[inv["model"] != "not fitted"]
        for _, r in inv[inv["model"] == "not fitted"].iterrows():
            blocks.append(Para(T("dinv_not_fitted", decision=str(r["decision"])), css="note"))
        if len(fitted):
            rows = []
            for _, r in fitted.iterrows():
                cfi = r.get("cfi_robust") if _finite(r.get("cfi_robust", np.nan)) else r["cfi"]
                rmsea = r.get("rmsea_robust") if _finite(r.get("rmsea_robust", np.nan)) else r["rmsea"]
                delta = (fmt_statistic("chi2", r["delta_chi2"], r["delta_df"]) + f", p = {fmt_p(r['delta_p'])}"
                         if _finite(r["delta_chi2"]) else DASH)
                rows.append([f"{r['instrument']} {r['subscale']}", T.get(f"model_{r['model']}", str(r["model"])),
                             fmt_int(r["n"]), fmt_statistic("chi2", r["chi2"], r["df"]), fmt_bounded(cfi, 3),
                             fmt_bounded(rmsea, 3), delta, str(r["decision"])])
            blocks.append(Table([T("score"), T("model_level"), "n", "χ²", "CFI", "RMSEA", T("delta_test"),
                                 T("decision")], rows, caption=T("dinv_caption"), note=T("dinv_note"),
                                numeric=[2, 4, 5], nowrap=[3, 6]))
    return blocks


# ---------------------------------------------------------------------------
# 10. hypotheses

_STAT_SYMBOL = {"t": "t", "t_welch": "t", "chi2": "χ²", "chi2_diff": "Δχ²", "r": "r", "r_double_entry": "r", "F": "F",
                "partial_r": "r", "kappa": "κ", "u": "U", "observed_couples": "O", "concordant": "k", "z": "z"}


def fmt_statistic(name: str, value, df) -> str:
    """``t(145) = 2.31``, ``χ²(3) = 12.40``, ``r = .23``, ``O = 12`` (APA).

    >>> fmt_statistic("chi2", 12.4, 3), fmt_statistic("r_double_entry", 0.234, float("nan"))
    ('χ²(3) = 12.40', 'r = .23')
    """
    if not _finite(value):
        return DASH
    sym = _STAT_SYMBOL.get(name, name)
    dfs = ""
    if _finite(df):
        dfs = f"({fmt_int(df)})" if float(df).is_integer() else f"({fmt_num(df, 1)})"
    return f"{sym}{dfs} = {fmt_value(value, name)}"


def _is_primary(frame: pd.DataFrame) -> np.ndarray:
    if "primary" in frame:
        return frame["primary"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
    return ~frame["id"].astype(str).str.contains(r"\[", regex=True).to_numpy()


def _supported(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _effect_text(ctx: Context, r) -> str:
    name = r["effect_size_name"]
    label = ctx.T.get(f"effect_{name}", name)
    if not _finite(r["effect_size"]):
        return DASH
    bounded = name in BOUNDED
    ci = fmt_ci(r["ci_low"], r["ci_high"], bounded=bounded)
    return f"{label} = {fmt_value(r['effect_size'], name)}" + (f" {ci}" if ci != DASH else "")


def _hypotheses_tables(ctx: Context, hyp: pd.DataFrame) -> list:
    T = ctx.T
    prim = _is_primary(hyp)
    rows, classes = [], []
    for _, r in hyp[prim].iterrows():
        sup = _supported(r["supported"])
        rows.append([str(r["id"]), str(r["description"]), fmt_int(r["n"]),
                     fmt_statistic(r["statistic_name"], r["statistic"], r["df"]), fmt_p(r["p_value"]),
                     fmt_p(r["p_adjusted"]), _effect_text(ctx, r), fmt_bounded(r["alpha"]),
                     T("yes") if sup else (T("no") if sup is False else DASH)])
        classes.append("supported" if sup else "")
    correction = (ctx.config.get("hypothesis_testing") or {}).get("correction", "holm")
    blocks = [Table(["ID", T("hypothesis"), "n", T("test"), "p", T("p_adjusted"), T("effect_ci"), "α", T("supported")],
                    rows, caption=T("hyp_caption"),
                    note=T("hyp_note", correction=T.get(f"correction_{correction}", correction)),
                    numeric=[2, 4, 5, 7], row_classes=classes, nowrap=[3])]
    sec = hyp[~prim]
    if len(sec):
        srows = [[str(r["id"]), str(r["description"]), fmt_int(r["n"]),
                  fmt_statistic(r["statistic_name"], r["statistic"], r["df"]), fmt_p(r["p_value"]),
                  _effect_text(ctx, r)] for _, r in sec.iterrows()]
        blocks.append(Table(["ID", T("description"), "n", T("test"), "p", T("effect_ci")], srows,
                            caption=T("hyp_secondary_caption"), numeric=[2, 4], nowrap=[3]))
    return blocks


def _verdicts(ctx: Context, hyp: pd.DataFrame) -> Bullets:
    T = ctx.T
    items = []
    for _, r in hyp[_is_primary(hyp)].iterrows():
        sup = _supported(r["supported"])
        key = "verdict_supported" if sup else ("verdict_not_supported" if sup is False else "verdict_none")
        items.append(T(key, id=r["id"], p=_p_eq(r["p_adjusted"]), alpha=fmt_bounded(r["alpha"]),
                       effect=_effect_text(ctx, r), direction=T.get(f"direction_{r['direction']}", str(r["direction"]))))
    return Bullets(items)


def _designs(ctx: Context, hyp: pd.DataFrame) -> Bullets:
    """One sentence per primary row saying how the hypothesis was tested (by family), and the dyad structure."""
    T = ctx.T
    entries = {str(e.get("id")): e for e in (ctx.config.get("hypotheses") or []) if isinstance(e, dict)}
    items = []
    for _, r in hyp[_is_primary(hyp)].iterrows():
        fam = str(r["family"])
        e = entries.get(str(r["id"]), {})
        text = T.get(f"design_{fam}", "", id=r["id"], x=e.get("x", "x"), y=e.get("y", "y"))
        if not text:
            continue
        note = str(r.get("note", ""))
        if "indistinguishable" in note:
            text += " " + T("design_dyads_indistinguishable")
        elif "distinguishable" in note:
            text += " " + T("design_dyads_distinguishable")
        items.append(text)
    return Bullets(items)


def _forest_figure(ctx: Context, hyp: pd.DataFrame) -> Image | None:
    T = ctx.T
    rows = hyp[[_finite(x) for x in hyp["effect_size"]]].copy()
    if rows.empty:
        return None
    prim = _is_primary(rows)
    rows["supported"] = [(_supported(s) if p else None) for s, p in zip(rows["supported"], prim)]
    rows["label"] = [f"{i}" for i in rows["id"]]
    if "null_value" not in rows:
        rows["null_value"] = np.nan
    rows = rows[["label", "effect_size_name", "effect_size", "ci_low", "ci_high", "null_value", "supported"]]
    for c in ("effect_size", "ci_low", "ci_high", "null_value"):
        rows[c] = pd.to_numeric(rows[c], errors="coerce").astype(float)
    texts = {k: T(f"forest_{k}") for k in ("supported", "not_supported", "descriptive", "null")}
    fig = fg.forest_plot(rows, labels=texts,
                         effect_labels={n: T.get(f"effect_{n}", n) for n in rows["effect_size_name"].unique()})
    return _figure(ctx, fig, T("forest_alt"), T("forest_caption"))


def _prereg_block(ctx: Context) -> list:
    T, pr = ctx.T, ctx.prereg
    status = (pr or {}).get("status", "no lock")
    key = {"matches": "prereg_matches", "differs": "prereg_differs"}.get(status, "prereg_none")
    blocks = [Para(T(key, hash=(pr or {}).get("hash", "") or DASH, created=(pr or {}).get("created", "") or DASH),
                   css="prereg " + status.replace(" ", "-"))]
    diffs = (pr or {}).get("differences") or []
    if diffs:
        blocks.append(Bullets([str(d) for d in diffs]))
    return blocks


def section_hypotheses(ctx: Context) -> Section:
    """APA table, verdicts in words, forest plot, preregistration status."""
    T, hyp = ctx.T, ctx.res["hypotheses"]
    blocks = [Heading(T("prereg_heading"))] + _prereg_block(ctx)
    skipped = [what for table, _, what, _ in ctx.res.get("skipped", []) if table == RESULT_FILES["hypotheses"]]
    untested = [Para(T("hypotheses_skipped", ids=", ".join(skipped)))] if skipped else []
    if hyp is None or hyp.empty:
        return Section("hypotheses", T("sec_hypotheses"), (untested or [Para(T("no_hypotheses"))]) + blocks)
    out = [Para(T("hyp_intro"))] + untested + _hypotheses_tables(ctx, hyp) + [
        Heading(T("verdicts_heading")), _verdicts(ctx, hyp), Para(T("supported_meaning"), css="note"),
        Heading(T("design_heading")), _designs(ctx, hyp)]
    forest = _forest_figure(ctx, hyp)
    if forest is not None:
        out.append(forest)
    return Section("hypotheses", T("sec_hypotheses"), out + blocks)


# ---------------------------------------------------------------------------
# 11. provenance


def section_provenance(ctx: Context) -> Section:
    """Input hashes, table hashes, config and its hash, package versions, seed, git commit, run time."""
    T, v = ctx.T, ctx.res["validation"]
    inputs = [[T("responses_file"), str(v.get("input", {}).get("file", DASH)), v.get("input", {}).get("sha256", DASH)]]
    if v.get("children"):
        inputs.append([T("children_file"), str(v["children"].get("file", DASH)), v["children"].get("sha256", DASH)])
    tables = [[RESULT_FILES[k], sha256_file(p)] for k, p in ctx.paths.items()]
    plain = _plain(ctx.config)
    blocks = [
        DefList([(T("run_time"), ctx.run_time), (T("seed"), str(ctx.seed)), (T("git_commit"), ctx.git_commit),
                 (T("config_hash"), config_hash(plain))]),
        Table([T("input"), T("file"), "SHA-256"], inputs, caption=T("inputs_caption")),
        Table([T("file"), "SHA-256"], tables, caption=T("tables_caption")),
        Table([T("package"), T("version")], [list(r) for r in package_versions()], caption=T("packages_caption")),
        Heading(T("config_heading")),
        Para(T("config_intro")),
        Pre(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)),
    ]
    return Section("provenance", T("sec_provenance"), blocks)


def prereg_status(config: dict, lock_path: Path | str | None) -> dict:
    """The ``prereg`` argument of :func:`build_report` from a lock file of :mod:`attachment_pipeline.prereg`.

    Returns ``{"status": "matches" | "differs" | "no lock", "differences": [...], "hash": ...,
    "created": ...}``; no path or no file gives ``"no lock"``.
    """
    if lock_path is None or not Path(lock_path).is_file():
        return {"status": "no lock", "differences": []}
    from .prereg import check_lock, read_lock

    lock = read_lock(lock_path)
    status = check_lock(config, lock)
    return {"status": "matches" if status.matches else "differs", "differences": list(status.differences),
            "hash": str(lock.get("hash", "")), "created": str(lock.get("created_utc", ""))}


SECTIONS = (section_overview, section_quality, section_items, section_reliability, section_factors, section_irt,
            section_dimensions, section_styles, section_couples, section_hypotheses, section_provenance)


# ---------------------------------------------------------------------------
# rendering


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


#: Column headings that carry markup (sub/superscripts); everything else is escaped.
_SAFE_HEADINGS = {"ω<sub>t</sub>", "ω<sub>h</sub>", "r<sub>drop</sub>"}


def render(template: str, **context) -> str:
    """Render a template of ``templates/`` with the report context."""
    env = _environment()
    env.filters["heading"] = lambda s: Markup(s) if s in _SAFE_HEADINGS else s
    return env.get_template(template).render(**context)


def _primary_method(config: dict, classification: pd.DataFrame | None) -> str:
    method = (config.get("classification") or {}).get("method")
    if classification is not None and len(classification):
        methods = list(dict.fromkeys(classification["method"]))
        if method not in methods:
            method = methods[0]
    return method or "midpoint"


def build_context(cohort_dir: Path, *, study: str, cohort: str, config: dict, language: str, seed: int,
                  run_time: str, prereg: dict | None = None, min_cell: int = 5,
                  git_commit: str | None = None) -> Context:
    """Read a cohort's tables and gather what the sections need (see :func:`build_report`)."""
    res, paths = load_results(Path(cohort_dir))
    return Context(res=res, instruments=cohort_instruments(res["validation"], config), T=Translator(language),
                   language=language, study=study, cohort=cohort, config=config, seed=seed, run_time=run_time,
                   prereg=prereg, min_cell=int(min_cell), primary_method=_primary_method(config, res["classification"]),
                   git_commit=git_commit if git_commit is not None else git_commit_of(), paths=paths)


def build_report(cohort_dir: Path, *, study: str, cohort: str, config: dict, language: str, seed: int,
                 run_time: str, out: Path, prereg: dict | None = None, min_cell: int = 5,
                 git_commit: str | None = None) -> Path:
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

    Returns
    -------
    The path written.
    """
    ctx = build_context(cohort_dir, study=study, cohort=cohort, config=config, language=language, seed=seed,
                        run_time=run_time, prereg=prereg, min_cell=min_cell, git_commit=git_commit)
    sections = [f(ctx) for f in SECTIONS]
    html = render("report.html.j2", T=ctx.T, lang=language, study=study, cohort=cohort, sections=sections,
                  run_time=run_time)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8", newline="\n")
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
