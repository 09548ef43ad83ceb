"""Test helpers: small, hand-made cohorts (importable as `helpers`; tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import shutil
import subprocess
import sys
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




def load_items(dataset: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The recoded ECR item matrix of a shipped data set and its item -> subscale map.

    The same recoding as the R reference scripts (``tests/r/*.R``): ``demo`` is the
    ECR-R (1-7; -1 and 99 missing; reverse keys as 8 - x; columns ``ecr_r_<n>``),
    ``ecr_5point``/``ecr5`` the ECR 1998 (1-5; 0 missing; 6 - x; columns ``ecr_<n>``).
    """
    if dataset == "demo":
        raw = pd.read_csv(REPO / "data/raw/demo/responses.csv")
        x = raw[[f"ecr_{j}" for j in range(1, 37)]].astype(float)
        x = x.mask(x.isin([-1, 99]))
        for j in (9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36):
            x[f"ecr_{j}"] = 8 - x[f"ecr_{j}"]
        x.columns = [f"ecr_r_{j}" for j in range(1, 37)]
        sub = {f"ecr_r_{j}": "anxiety" if j <= 18 else "avoidance" for j in range(1, 37)}
    elif dataset in ("ecr_5point", "ecr5"):
        raw = pd.read_csv(REPO / "data/raw/ecr_5point/responses.csv")
        x = raw[[f"Q{j}" for j in range(1, 37)]].astype(float)
        x = x.mask(x == 0)
        for j in (3, 15, 19, 22, 25, 27, 29, 31, 33, 35):
            x[f"Q{j}"] = 6 - x[f"Q{j}"]
        x.columns = [f"ecr_{j}" for j in range(1, 37)]
        sub = {f"ecr_{j}": "anxiety" if j % 2 == 0 else "avoidance" for j in range(1, 37)}
    else:
        raise ValueError(f"Unknown shipped data set {dataset!r}.")
    return x, sub


def demo_project(dest: Path) -> Path:
    """A copy of the project (Snakefile, workflow, profiles, config, the demo data) in ``dest``, to run Snakemake in."""
    for part in ["Snakefile", "workflow", "profiles", "config", "data/raw/demo"]:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / part)
    return dest


def run_snakemake(workdir: Path, *args) -> subprocess.CompletedProcess:
    """``snakemake ARGS --cores 2 --quiet`` in ``workdir`` (15-minute limit), output captured."""
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--quiet"]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900)
