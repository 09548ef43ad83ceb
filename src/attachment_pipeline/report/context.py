"""Reading a cohort's tables into a :class:`~attachment_pipeline.report.blocks.Context` and the small label helpers every section shares."""

from __future__ import annotations

import re

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures as fg
from ..classify import STYLE_LABELS
from .i18n import Translator
from ..instruments import Instrument, load_instrument
from ..tables import SKIPPED, read_scores, split_skipped
from .blocks import Context, Image
from .provenance import git_commit_of


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


_SEED_INSIDE = re.compile(r",\s*seed\s+[\d.,\s\-–]*\d(?=\))")
_SEED_BRACKET = re.compile(r"\s*\(seed\s+[^()]*\)")
_TOKEN = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+\b")


def strip_seed_refs(text: str) -> str:
    """A description without the project's seed-document section numbers.

    >>> strip_seed_refs("Anxiety goes with maximising (seed 3.4)")
    'Anxiety goes with maximising'
    >>> strip_seed_refs("Parent's style (about 70%, seed 3.1-3.2)")
    "Parent's style (about 70%)"
    """
    return _SEED_BRACKET.sub("", _SEED_INSIDE.sub("", str(text))).strip()


def score_label(ctx: Context, name: str, capital: bool = True) -> str:
    """A readable name of a score column or instrument: ``ecr_r_anxiety`` -> "Attachment anxiety (ECR-R)"."""
    name = str(name)
    for inst in ctx.instruments:
        if name == inst.name:
            return short_name(inst)
        for sub in inst.subscales:
            if name in (f"{inst.name}_{sub}", f"{inst.name} {sub}"):
                label = _subscale_label(ctx, inst, sub)
                label = label if capital else label[:1].lower() + label[1:]
                return f"{label} ({short_name(inst)})"
    key = f"label_{name}"
    if key in ctx.T.strings:
        label = ctx.T(key)
        return label[:1].upper() + label[1:] if capital else label
    if name.startswith("style:"):
        parts = name.split(":")
        inst = next((i for i in ctx.instruments if len(parts) > 1 and i.name == parts[1]), None)
        method = _method_label(ctx, parts[2]) if len(parts) > 2 else ""
        what = ", ".join(x for x in (short_name(inst) if inst else "", method) if x)
        return ctx.T("style_of_label", what=what)
    return name


def readable(ctx: Context, text) -> str:
    """Text for readers: seed references dropped, score and instrument names from the code replaced by labels."""
    text = strip_seed_refs(str(text))
    known = {i.name for i in ctx.instruments} | {f"{i.name}_{s}" for i in ctx.instruments for s in i.subscales}
    known |= {k[len("label_"):] for k in ctx.T.strings if k.startswith("label_")}

    def repl(m):
        word = m.group(0)
        return score_label(ctx, word, capital=False) if word in known else word

    return _TOKEN.sub(repl, text)


def hypothesis_id(value) -> str:
    """The hypothesis a result row belongs to: ``H1[r_cross]`` -> ``H1``.

    >>> hypothesis_id("H1[anxiety_A~avoidance_B]"), hypothesis_id("H4a")
    ('H1', 'H4a')
    """
    return str(value).split("[", 1)[0]
