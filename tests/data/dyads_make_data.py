"""Make the data sets of the dyadic reference tests (tests/data/dyads_*.csv).

Run from the repository top (it rewrites the files byte-identically)::

    .venv/bin/python tests/data/dyads_make_data.py

``dyads_scores.csv``
    One row per respondent: ``id, couple, role, gender, anxiety, avoidance,
    minmax_index, style``. 150 couples (roles ``A``/``B``) and 60 respondents
    without a partner (empty couple and role). Latent (anxiety, avoidance) of a
    couple: within-person r = .3, partner similarity .3, complementarity
    (anxiety of one with avoidance of the other) .15, role B's anxiety 0.3 SD
    higher; the min/max index has a partner correlation of -.3 and goes with
    anxiety (.4). Scores are skewed and bounded as questionnaire scale means are:
    ``1 + 6 Phi(0.9 z)`` (1-7), the index ``tanh(0.8 z)`` (-1..1); four decimals.
    ``style`` is the midpoint quadrant (cut at 4). Gender: couples female/male
    (20 same-sex couples), singles either. Used by ``tests/r/dyads_reference.R``.

``dyads_items.csv``
    One row per couple (200 couples): ``couple, a_1..a_12, b_1..b_12``, answers
    1-7 of partner A and partner B to six anxiety items (1-6) and six avoidance
    items (7-12), normal-ogive graded responses with the same item parameters for
    both partners (measurement invariant), latent partner similarity .4 and
    within-person r = .3; about 1 % of answers missing (empty).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from attachment_pipeline.simulate import graded_responses

HERE = Path(__file__).resolve().parent
SEED = 20261201


def scores_data(rng: np.random.Generator) -> pd.DataFrame:
    n_c, n_s = 150, 60
    r, s, c = 0.3, 0.3, 0.15
    cov = np.array([[1, r, s, c, 0.4, 0.4 * s], [r, 1, c, s, 0, 0], [s, c, 1, r, 0.4 * s, 0.4],
                    [c, s, r, 1, 0, 0], [0.4, 0, 0.4 * s, 0, 1, -0.3], [0.4 * s, 0, 0.4, 0, -0.3, 1]])
    # order: anx_A, avo_A, anx_B, avo_B, mm_A, mm_B
    z = rng.multivariate_normal(np.zeros(6), cov, n_c)
    z[:, 2] += 0.3
    single = rng.multivariate_normal(np.zeros(3), [[1, r, 0.4], [r, 1, 0], [0.4, 0, 1]], n_s)
    anx = np.concatenate([np.column_stack([z[:, 0], z[:, 2]]).ravel(), single[:, 0]])
    avo = np.concatenate([np.column_stack([z[:, 1], z[:, 3]]).ravel(), single[:, 1]])
    mm = np.concatenate([np.column_stack([z[:, 4], z[:, 5]]).ravel(), single[:, 2]])
    n = 2 * n_c + n_s
    ids = [f"P{i + 1:03d}" for i in range(n)]
    couple = [f"K{i // 2 + 1:03d}" for i in range(2 * n_c)] + [""] * n_s
    role = ["A", "B"] * n_c + [""] * n_s
    g_a = rng.choice(["female", "male"], n_c)
    same = np.zeros(n_c, dtype=bool)
    same[rng.choice(n_c, 20, replace=False)] = True
    g_b = np.where(same, g_a, np.where(g_a == "female", "male", "female"))
    gender = list(np.column_stack([g_a, g_b]).ravel()) + list(rng.choice(["female", "male"], n_s))
    anxiety = np.round(1 + 6 * special.ndtr(0.9 * anx), 4)
    avoidance = np.round(1 + 6 * special.ndtr(0.9 * avo), 4)
    style = np.array(["secure", "preoccupied", "dismissing", "fearful"])[(anxiety > 4).astype(int)
                                                                        + 2 * (avoidance > 4).astype(int)]
    return pd.DataFrame({"id": ids, "couple": couple, "role": role, "gender": gender, "anxiety": anxiety,
                         "avoidance": avoidance, "minmax_index": np.round(np.tanh(0.8 * mm), 4), "style": style})


def items_data(rng: np.random.Generator) -> pd.DataFrame:
    n_c = 200
    r, s = 0.3, 0.4
    cov = np.array([[1, r, s, 0], [r, 1, 0, s], [s, 0, 1, r], [0, s, r, 1]])
    theta = rng.multivariate_normal(np.zeros(4), cov, n_c)  # anx_A, avo_A, anx_B, avo_B
    loadings = rng.uniform(0.6, 0.85, 12)
    base = special.ndtri(np.arange(1, 7) / 7)
    thresholds = base[None, :] * rng.uniform(0.85, 1.15, (12, 1)) + rng.normal(0.3, 0.25, (12, 1))
    which = np.repeat([0, 1], 6)
    a = graded_responses(theta[:, :2], loadings, thresholds, rng, 1, 7, theta_index=which).astype(float)
    b = graded_responses(theta[:, 2:], loadings, thresholds, rng, 1, 7, theta_index=which).astype(float)
    x = np.concatenate([a, b], axis=1)
    x[rng.random(x.shape) < 0.01] = np.nan
    cols = [f"a_{j + 1}" for j in range(12)] + [f"b_{j + 1}" for j in range(12)]
    out = pd.DataFrame(x, columns=cols).astype("Int64")
    out.insert(0, "couple", [f"K{i + 1:03d}" for i in range(n_c)])
    return out


def main() -> None:
    rng = np.random.default_rng(SEED)
    opts = dict(index=False, lineterminator="\n", encoding="utf-8")
    scores_data(rng).to_csv(HERE / "dyads_scores.csv", float_format="%.4f", **opts)
    items_data(rng).to_csv(HERE / "dyads_items.csv", **opts)


if __name__ == "__main__":
    main()
