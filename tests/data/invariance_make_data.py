"""Make the small data sets of the measurement-invariance tests (tests/data/invariance_*.csv).

Run from the repository top (it rewrites both files byte-identically)::

    .venv/bin/python tests/data/invariance_make_data.py

Both files hold ECR-R answers on 1-7 **in the keyed direction** (as the
pipeline's ``items.csv``: reverse-keyed items already reversed), columns
``ecr_r_1..ecr_r_36`` (anxiety = 1-18, avoidance = 19-36), empty = missing.
They are drawn with :mod:`attachment_pipeline.simulate` (normal-ogive graded
responses of two correlated latent dimensions, r = .30):

``invariance_cohorts.csv``
    Columns ``cohort, gender, ecr_r_1..36``. Three cohorts ``A`` (n = 400),
    ``B`` (350) and ``C`` (450), each with its own latent-score seed but the
    **same item parameters** (loadings and thresholds), so the measurement is
    invariant; cohort B's latent anxiety mean is 0.3 SD higher (a true
    latent mean difference, which scalar invariance allows). Gender is drawn
    as the simulator does (about 52/46/2 % female/male/other), a few genders
    are blank and about 0.3 % of item cells are missing.

``invariance_intercepts.csv``
    Columns ``cohort, ecr_r_1..36``. Two cohorts ``X`` and ``Y`` (n = 400
    each) with the same latent distribution and item parameters except that
    in cohort ``Y`` the thresholds of items 3, 10 and 25 are lowered by
    ``SHIFT`` latent SDs: their answers (intercepts) are higher at the same
    latent score, so scalar invariance fails while metric invariance holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from attachment_pipeline.instruments import load_instrument
from attachment_pipeline.simulate import (SimulationSettings, graded_responses, item_parameters,
                                          simulate_covariates, simulate_latent)

HERE = Path(__file__).resolve().parent
#: Seed of the shared item parameters; cohort latent seeds are SEED + 1, 2, ...
SEED = 20261207
COHORTS = {"A": (400, 0.0), "B": (350, 0.3), "C": (450, 0.0)}
INTERCEPT_COHORTS = {"X": 400, "Y": 400}
SHIFTED_ITEMS = (3, 10, 25)
SHIFT = 0.8
MISSING_RATE = 0.003
ITEMS = [f"ecr_r_{j}" for j in range(1, 37)]


def _settings(n: int) -> SimulationSettings:
    return SimulationSettings(n_couples=0, n_singles=n, minmax_format=None, missing_code_rate=0.0,
                              skip_rate=0.0, n_sparse=0)


def _answers(latent: pd.DataFrame, loadings, thresholds, rng) -> np.ndarray:
    inst = load_instrument("ecr_r")
    col = np.array([0 if it.subscale == "anxiety" else 1 for it in inst.items])
    theta = latent[["anxiety", "avoidance"]].to_numpy(dtype=float)
    return graded_responses(theta, loadings, thresholds, rng, 1, 7, theta_index=col)


def _frame(x: np.ndarray, rng, missing_rate: float) -> pd.DataFrame:
    out = pd.DataFrame(x.astype(float), columns=ITEMS)
    if missing_rate > 0:
        out = out.mask(rng.random(x.shape) < missing_rate)
    return out.astype("Int64")


def make_cohorts() -> pd.DataFrame:
    """``invariance_cohorts.csv`` (see the module docstring)."""
    params = item_parameters(_settings(1), np.random.default_rng(SEED))
    frames = []
    for k, (name, (n, anxiety_shift)) in enumerate(COHORTS.items(), start=1):
        rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(SEED + k).spawn(4)]
        latent = simulate_latent(_settings(n), rngs[0])
        latent["anxiety"] += anxiety_shift
        gender = simulate_covariates(latent, rngs[1])["gender"].astype(object)
        gender[rngs[3].random(n) < 0.01] = None
        items = _frame(_answers(latent, params.loadings, params.thresholds, rngs[2]), rngs[3], MISSING_RATE)
        items.insert(0, "gender", gender.to_numpy())
        items.insert(0, "cohort", name)
        frames.append(items)
    return pd.concat(frames, ignore_index=True)


def make_intercepts() -> pd.DataFrame:
    """``invariance_intercepts.csv`` (see the module docstring)."""
    params = item_parameters(_settings(1), np.random.default_rng(SEED))
    frames = []
    for k, (name, n) in enumerate(INTERCEPT_COHORTS.items(), start=11):
        thresholds = params.thresholds.copy()
        if name == "Y":
            rows = np.array(SHIFTED_ITEMS) - 1
            thresholds[rows] -= SHIFT
        rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(SEED + k).spawn(3)]
        latent = simulate_latent(_settings(n), rngs[0])
        items = _frame(_answers(latent, params.loadings, thresholds, rngs[1]), rngs[2], 0.0)
        items.insert(0, "cohort", name)
        frames.append(items)
    return pd.concat(frames, ignore_index=True)


def write(out_dir: Path = HERE) -> list[Path]:
    paths = []
    for name, frame in (("invariance_cohorts.csv", make_cohorts()),
                        ("invariance_intercepts.csv", make_intercepts())):
        path = Path(out_dir) / name
        frame.to_csv(path, index=False, lineterminator="\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
