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

from .config import Cohort, ConfigError, Scoring
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


def run_step(func, *args, **kwargs):
    """Call a step; on a data, read or config error print the message and exit with status 2."""
    try:
        return func(*args, **kwargs)
    except (DataError, ReadError, ConfigError) as exc:
        print(f"\nERROR: {exc}\n", file=sys.stderr)
        sys.exit(2)
