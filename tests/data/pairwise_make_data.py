"""Make ``tests/data/pairwise_nonpd.csv``: items whose pairwise correlation matrix is not positive definite.

Run from the repository top (it rewrites the file byte-identically)::

    .venv/bin/python tests/data/pairwise_make_data.py

Six items ``x1..x6`` answered by three groups of 60 respondents, each group
answering four of the six items (planned missingness, as in a three-form
design), rounded to a 1-7 scale. Group A answers x1-x4 with all correlations
positive (.7); group B answers x3-x6 (.7); group C answers x1, x2, x5, x6,
where x1/x2 correlate **negatively** (-.6) with x5/x6. Every pair of items is
answered by at least one group, but the pairwise correlations come from
different people and are mutually inconsistent: the
pairwise-complete correlation matrix has a negative eigenvalue, which
psych::cor.smooth repairs (tests/r/psych_defaults_reference.R).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20261208
N_GROUP = 60
GROUPS = {  # answered items (0-based) and their correlation
    "A": ((0, 1, 2, 3), 0.7),
    "B": ((2, 3, 4, 5), 0.7),
    "C": ((0, 1, 4, 5), None),
}


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    rows = []
    for name, (cols, r) in GROUPS.items():
        if r is None:  # x1, x2 against x5, x6: within +.7, between -.6
            c = np.array([[1, .7, -.6, -.6], [.7, 1, -.6, -.6], [-.6, -.6, 1, .7], [-.6, -.6, .7, 1]])
        else:
            c = np.full((4, 4), r) + (1 - r) * np.eye(4)
        z = rng.normal(size=(N_GROUP, 4)) @ np.linalg.cholesky(c).T
        x = np.full((N_GROUP, 6), np.nan)
        x[:, list(cols)] = np.clip(np.round(4 + 1.4 * z), 1, 7)
        rows.append(x)
    return pd.DataFrame(np.vstack(rows), columns=[f"x{j}" for j in range(1, 7)])


if __name__ == "__main__":
    frame = make()
    frame.to_csv(HERE / "pairwise_nonpd.csv", index=False, float_format="%.0f", lineterminator="\n")
    r = frame.corr()  # pandas: pairwise complete
    print("min eigenvalue of the pairwise correlation matrix:", np.linalg.eigvalsh(r.to_numpy()).min())
