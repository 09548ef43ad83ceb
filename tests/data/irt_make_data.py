"""Make the simulated data set of the IRT reference values (tests/data/irt_normal_ogive.csv).

Run from the repository top (it rewrites the file byte-identically)::

    .venv/bin/python tests/data/irt_make_data.py

``irt_normal_ogive.csv``: 1500 respondents, columns ``i1..i8``, answers 1-5 (no missing),
drawn from a **normal-ogive** graded response model with :func:`attachment_pipeline.irt.simulate_grm`
(``link="normal"``), theta ~ N(0, 1), seed 20261127. The true parameters are printed. It is the
data of ``tests/r/irt_reference.R``: lavaan's full-information ordinal factor analysis
(``estimator = "MML"``, probit link) is the same model, so our ``fit_grm(link="normal")`` must
agree with it; lavaan's WLSMV gives the limited-information estimates of the same parameters.

The other IRT data files are public data sets shipped with the R package mirt (GPL-3), written
to CSV with base R's ``load()`` from its repository (github.com/philchalmers/mirt, commit
2fc2b236569fa55839c7acaf396fd595cf4e8b52; see tests/r/irt_reference.R):

``irt_science.csv``  ``data/Science.RData``: 392 respondents, 4 items on 1-4 (Karlheinz & Melich,
                     1992, Eurobarometer; the graded-model example of mirt and ltm).
``irt_lsat7.csv``    ``data/LSAT7.RData``: the 32 response patterns of 5 dichotomous items with
                     their frequencies (1000 respondents; Bock & Lieberman, 1970).
``irt_dif1.csv``     ``tests/testthat/testdata/dif1.rds``: 2 x 1000 respondents, 10 dichotomous items,
                     simulated by mirt's DIF tests (items 1-3 with DIF), column ``group`` D1/D2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from attachment_pipeline.irt import simulate_grm

SEED = 20261127
N, N_ITEMS, N_CATEGORIES = 1500, 8, 5


def true_parameters(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Slopes U(0.8, 2.2) and increasing thresholds around normal quantiles (normal-ogive scale)."""
    a = rng.uniform(0.8, 2.2, N_ITEMS)
    base = np.array([-1.5, -0.5, 0.4, 1.3])
    b = base[None, :] + rng.normal(0.0, 0.3, (N_ITEMS, 1)) + rng.normal(0.0, 0.1, (N_ITEMS, N_CATEGORIES - 1))
    return a, np.sort(b, axis=1)


def main() -> None:
    rng = np.random.default_rng(SEED)
    a, b = true_parameters(rng)
    x = simulate_grm(a, b, rng.standard_normal(N), rng, link="normal") + 1
    out = Path(__file__).resolve().parent / "irt_normal_ogive.csv"
    pd.DataFrame(x, columns=[f"i{j + 1}" for j in range(N_ITEMS)]).to_csv(out, index=False, lineterminator="\n")
    print("a =", np.round(a, 4).tolist())
    print("b =", np.round(b, 4).tolist())


if __name__ == "__main__":
    main()
