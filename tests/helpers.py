"""Test helpers: small, hand-made cohorts (importable as `helpers`; tests/ is on pytest's pythonpath)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from attachment_pipeline.config import load_study

REPO = Path(__file__).resolve().parents[1]


def make_responses(n: int = 12, seed: int = 0, couples: bool = True) -> pd.DataFrame:
    """A valid raw export: ids, couples (pairs of rows), gender, age, ECR-R items 1-7, min/max ticks."""
    rng = np.random.default_rng(seed)
    d = {
        "respondent_id": [f"P{i:03d}" for i in range(n)],
        "couple_id": [f"C{i // 2}" if couples else "" for i in range(n)],
        "partner": [("A", "B")[i % 2] if couples else "" for i in range(n)],
        "gender": rng.choice(["female", "male"], n),
        "age": rng.integers(20, 60, n),
    }
    for k in range(1, 37):
        d[f"ecr_{k}"] = rng.integers(1, 8, n)
    for k in range(1, 23):
        d[f"mm_{k}"] = rng.integers(0, 2, n)
    return pd.DataFrame(d)


def cohort_config(path: Path, **over) -> dict:
    cfg = {
        "responses": str(path),
        "instruments": ["ecr_r", "minmax"],
        "id_column": "respondent_id",
        "items": {"ecr_r": "ecr_{n}", "minmax": "mm_{n}"},
        "missing_codes": [-1, 99],
        "groups": ["gender"],
        "covariates": ["age"],
        "couples": {"couple_column": "couple_id", "role_column": "partner"},
    }
    cfg.update(over)
    cfg = {k: v for k, v in cfg.items() if v is not None or k == "id_column"}
    return cfg


def study_for(path: Path, **over):
    """Load a one-cohort study (cohort name 'c') over a responses file."""
    config = {"study": "t", "cohorts": {"c": cohort_config(path, **over)}}
    return load_study(config, REPO)


