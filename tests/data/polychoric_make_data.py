"""Make the small data sets of the polychoric tests (tests/data/polychoric_*.csv).

Run from the repository top (it rewrites both files byte-identically)::

    .venv/bin/python tests/data/polychoric_make_data.py

``polychoric_edge.csv`` (n = 300; empty = missing)
    Five ordinal items cut from correlated normals (all correlations .5), built to
    reach lavaan's and psych's special cases:

    - ``e1``: 7-point codes 1-7 with code 4 never used (lavaan: 5 thresholds, not 6);
      about 10 % missing;
    - ``e2``: 5-point, about 10 % missing (7 x 5 tables with empty cells, which lavaan
      does not correct);
    - ``e3``, ``e4``: 0/1 split exactly at the median (150 / 150), so both thresholds
      are exactly 0 and lavaan uses its closed form ``-cos(2 pi p11)``;
    - ``e5``: 0/1, 1 only where ``e3`` is 1 (one empty cell in ``e3 x e5``: lavaan adds
      0.5 keeping the margins); about 5 % missing.

    The items have different numbers of categories, so psych uses per-pair
    thresholds and its continuity correction.

``polychoric_nonpd.csv`` (n = 300)
    Three 5-point items ``a, b, c`` answered in pairs by three blocks of 100
    respondents (``a, b`` positively related, ``a, c`` positively, ``b, c``
    negatively, each r = .8): the pairwise polychoric matrix is not positive
    definite, so psych smooths it (``cor.smooth``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent
SEED = 20261124


def edge(rng: np.random.Generator) -> pd.DataFrame:
    n = 300
    cov = np.full((5, 5), 0.5) + 0.5 * np.eye(5)
    z = rng.multivariate_normal(np.zeros(5), cov, size=n, method="cholesky")
    e1 = np.array([1, 2, 3, 5, 6, 7])[np.digitize(z[:, 0], [-1.2, -0.6, 0.0, 0.6, 1.2])]
    e2 = np.digitize(z[:, 1], [-1.0, -0.3, 0.3, 1.0]) + 1
    e3 = (z[:, 2] > np.median(z[:, 2])).astype(int)
    e4 = (z[:, 3] > np.median(z[:, 3])).astype(int)
    e5 = ((z[:, 4] > 0.3) & (e3 == 1)).astype(int)
    d = pd.DataFrame({"e1": e1, "e2": e2, "e3": e3, "e4": e4, "e5": e5}).astype("Int64")
    for col, rate in (("e1", 0.10), ("e2", 0.10), ("e5", 0.05)):
        d.loc[rng.random(n) < rate, col] = pd.NA
    return d


def nonpd(rng: np.random.Generator) -> pd.DataFrame:
    blocks = []
    for cols, r in ((("a", "b"), 0.8), (("a", "c"), 0.8), (("b", "c"), -0.8)):
        z = rng.multivariate_normal([0, 0], [[1, r], [r, 1]], size=100, method="cholesky")
        block = pd.DataFrame(pd.NA, index=range(100), columns=["a", "b", "c"], dtype="Int64")
        for k, col in enumerate(cols):
            block[col] = np.digitize(z[:, k], [-1.0, -0.3, 0.3, 1.0]) + 1
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def main() -> None:
    rng = np.random.default_rng(SEED)
    edge(rng).to_csv(OUT / "polychoric_edge.csv", index=False)
    nonpd(rng).to_csv(OUT / "polychoric_nonpd.csv", index=False)


if __name__ == "__main__":
    main()
