"""Power of the couple hypotheses by simulation, and its calibration under the null.

For each number of couples ``n`` and planted effect ``c`` (the simulator's
``complementarity_r``: the latent correlation of one partner's anxiety with the
other's avoidance, in both directions), :func:`simulate_couples` draws
``n_sim`` data sets of ``n`` couples in **one** call of
:func:`attachment_pipeline.simulate.simulate_cohort` (``n_sim * n`` couples,
split into ``n_sim`` blocks: couples are independent, so the blocks are
independent data sets), scores them exactly as the pipeline does (reverse
keying, subscale means, min/max index and typology with band 0.2) and
classifies the styles with the ``midpoint`` rule (the default primary method;
it classifies each respondent on its own, so splitting into blocks does not
change it). Item-level measurement error is therefore part of the power.
There is no missing data in these simulations.

:func:`power_table` then runs, on all data sets at once (stacked ``(n_sim, n)``
arrays, permutations as ``(n_sim, k, n)`` index arrays in chunks), the same
re-pairing tests as :mod:`attachment_pipeline.hypotheses`:

- ``complementarity``: double-entry r of anxiety with the partner's avoidance,
  direction ``greater``;
- ``minmax_complementarity``: double-entry (intraclass) r of the min/max index,
  direction ``less`` (under the simulator the min/max propensity is
  ``0.5 anxiety - 0.5 avoidance + noise``, so complementarity ``c`` implies a
  latent within-couple propensity covariance of ``-c / 2``);
- ``complementary_pairing``: preoccupied-dismissing couples against random
  re-pairing, direction ``greater``.

Power is the share of data sets with ``p < alpha`` for one test at the
uncorrected ``alpha`` (a study correcting over k hypotheses with Holm has at
most this power); ``mc_se = sqrt(power (1 - power) / n_sim)`` is its Monte
Carlo standard error. The p-values are the permutation p-values themselves
(``n_permutations`` per data set, default 500; with B permutations a p-value
is a multiple of ``1 / (B + 1)`` and the correlation tests have size
``floor(alpha (B + 1)) / (B + 1)`` under the null, 0.0499 for B = 500), so no
approximation needs checking. The pairing test counts couples, a discrete
statistic: its exact test is conservative (null rejection rate about .027 at
alpha .05 with 150 couples in 6000 simulated null data sets); ``--mid-p``
uses mid-p values, as ``hypothesis_testing.discrete_p: mid`` does.

Command line (``make power``)::

    python -m attachment_pipeline.power --out results/power --n-couples 50 100 200 \\
        --effects 0 0.1 0.2 0.3 --n-sim 200 --seed 20261124

writes ``power.csv`` (family, n_couples, effect_size, n_sim, power, mc_se,
alpha, n_permutations) and ``power.png``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .classify import STYLES, is_high, quadrant_codes
from .dyads import _pair_target, repairing_correlation_test, repairing_count_test
from .instruments import load_instrument
from .reliability import derive_seed
from .scoring import MINMAX_TYPES, reverse_key, score_minmax, subscale_means
from .simulate import DEMO_SEED, SimulationSettings, simulate_cohort

POWER_FAMILIES = ("complementarity", "minmax_complementarity", "complementary_pairing")
POWER_COLUMNS = ("family", "n_couples", "effect_size", "n_sim", "power", "mc_se", "alpha", "n_permutations")
#: Direction of each family's test in the power simulation.
DIRECTION = {"complementarity": "greater", "minmax_complementarity": "less", "complementary_pairing": "greater"}


@dataclass(frozen=True)
class SimulatedCouples:
    """``n_sim`` data sets of ``n`` couples as (n_sim, n) arrays, partner a = simulator's A.

    ``anx_*``, ``avo_*``: subscale means; ``mm_*``: min/max index; ``style_*``:
    style codes (0..3, :data:`~attachment_pipeline.classify.STYLES` order,
    midpoint rule); ``type_*``: min/max type codes (0..2, ``MINMAX_TYPES`` order).
    """

    anx_a: np.ndarray
    avo_a: np.ndarray
    anx_b: np.ndarray
    avo_b: np.ndarray
    mm_a: np.ndarray
    mm_b: np.ndarray
    style_a: np.ndarray
    style_b: np.ndarray
    type_a: np.ndarray
    type_b: np.ndarray


def power_settings(**overrides) -> SimulationSettings:
    """Simulation settings of the power study: the demo's model, couples only, no missing data.

    >>> power_settings(complementarity_r=0.2).complementarity_r
    0.2
    """
    base = SimulationSettings(n_couples=1, n_singles=0, n_sparse=0, missing_code_rate=0.0, missing_codes=(),
                              skip_rate=0.0, n_children=0, minmax_format="ticks")
    return replace(base, **overrides)


def simulate_couples(n_couples: int, n_sim: int, effect: float, seed: int,
                     settings: SimulationSettings | None = None) -> SimulatedCouples:
    """Simulate and score ``n_sim`` data sets of ``n_couples`` couples (see the module docstring).

    >>> d = simulate_couples(20, 3, 0.3, seed=1)
    >>> d.anx_a.shape, bool(np.isfinite(d.mm_b).all()), int(d.style_a.max()) <= 3
    ((3, 20), True, True)
    """
    for name, v in (("n_couples", n_couples), ("n_sim", n_sim)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}.")
    base = settings or power_settings()
    if base.minmax_format is None:
        raise ValueError("The power simulation needs the min/max checklist (minmax_format must not be None).")
    s = replace(base, n_couples=int(n_couples * n_sim), n_singles=0, n_sparse=0, n_children=0,
                complementarity_r=float(effect), missing_code_rate=0.0, skip_rate=0.0, missing_codes=(),
                layout="pipeline", id_column="respondent_id")
    cohort = simulate_cohort(s, seed)
    resp = cohort.responses
    inst = load_instrument(s.instrument).with_scale(s.scale_min, s.scale_max)
    ecr = resp[[f"ecr_{i.n}" for i in inst.items]].astype(float)
    ecr.columns = inst.item_columns()
    dims = subscale_means(reverse_key(ecr, inst), inst)
    mm_inst = load_instrument("minmax", s.minmax_format)
    mm = resp[[f"mm_{k + 1}" for k in range(mm_inst.n_items)]].astype(float)
    mm.columns = mm_inst.item_columns()
    mm_scores = score_minmax(mm, mm_inst)
    anx = dims[f"{inst.name}_anxiety"].to_numpy()
    avo = dims[f"{inst.name}_avoidance"].to_numpy()
    mid = (inst.scale_min + inst.scale_max) / 2
    style = quadrant_codes(is_high(anx, mid), is_high(avo, mid))
    lookup = {t: k for k, t in enumerate(MINMAX_TYPES)}
    mtype = np.array([lookup[t] for t in mm_scores["minmax_type"]], dtype=np.int64)
    index = mm_scores["minmax_index"].to_numpy(dtype=float)

    def split(v):
        v = np.asarray(v)
        return v[0::2].reshape(n_sim, n_couples), v[1::2].reshape(n_sim, n_couples)

    (aa, ab), (va, vb), (ma, mb), (sa, sb), (ta, tb) = (split(v) for v in (anx, avo, index, style, mtype))
    return SimulatedCouples(aa, va, ab, vb, ma, mb, sa, sb, ta, tb)


def family_pvalues(data: SimulatedCouples, family: str, n_permutations: int, seed,
                   mid_p: bool = False) -> np.ndarray:
    """Permutation p-values of one family's test on every simulated data set (shape (n_sim,)).

    ``mid_p`` applies to the count test (``complementary_pairing``), as
    ``hypothesis_testing.discrete_p: mid`` in the pipeline.

    >>> d = simulate_couples(30, 4, 0.0, seed=2)
    >>> family_pvalues(d, "complementarity", 99, seed=0).shape
    (4,)
    """
    if family == "complementarity":
        _, p = repairing_correlation_test(data.anx_a, data.avo_a, data.anx_b, data.avo_b,
                                          direction=DIRECTION[family], n_permutations=n_permutations, seed=seed)
    elif family == "minmax_complementarity":
        _, p = repairing_correlation_test(data.mm_a, data.mm_a, data.mm_b, data.mm_b,
                                          direction=DIRECTION[family], n_permutations=n_permutations, seed=seed)
    elif family == "complementary_pairing":
        target = _pair_target(len(STYLES), [(STYLES.index("preoccupied"), STYLES.index("dismissing"))])
        _, _, p = repairing_count_test(data.style_a, data.style_b, target, direction=DIRECTION[family],
                                       n_permutations=n_permutations, seed=seed, mid_p=mid_p)
    else:
        raise ValueError(f"Unknown power family {family!r}; choose from {', '.join(POWER_FAMILIES)}.")
    return np.asarray(p, dtype=float)


@dataclass(frozen=True)
class PowerResult:
    """One row of ``power.csv``."""

    family: str
    n_couples: int
    effect_size: float
    n_sim: int
    power: float
    mc_se: float
    alpha: float
    n_permutations: int


def power_table(n_couples, effects, *, n_sim: int = 200, n_permutations: int = 500, alpha: float = 0.05,
                families=POWER_FAMILIES, seed: int = DEMO_SEED,
                settings: SimulationSettings | None = None, mid_p: bool = False) -> pd.DataFrame:
    """Simulated power for every (family, number of couples, effect size).

    The data sets of a cell (n, effect) are simulated once with seed
    ``derive_seed(seed, "power", n, effect)`` and shared by the families; each
    family's permutations use ``derive_seed(seed, "power", n, effect, family)``.
    The loop runs over the handful of grid cells only; data sets and
    permutations are arrays.

    >>> t = power_table([30], [0.0], n_sim=20, n_permutations=99, families=["complementarity"], seed=1)
    >>> list(t.columns) == list(POWER_COLUMNS), t["n_sim"].tolist()
    (True, [20])
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}.")
    families = list(families)
    bad = [f for f in families if f not in POWER_FAMILIES]
    if bad:
        raise ValueError(f"Unknown power family {bad}; choose from {', '.join(POWER_FAMILIES)}.")
    rows = []
    for n in n_couples:
        for eff in effects:
            data = simulate_couples(int(n), n_sim, float(eff), derive_seed(seed, "power", int(n), float(eff)), settings)
            for fam in families:
                p = family_pvalues(data, fam, n_permutations, derive_seed(seed, "power", int(n), float(eff), fam),
                                   mid_p)
                pw = float(np.mean(p < alpha))
                rows.append(PowerResult(fam, int(n), float(eff), int(n_sim), pw,
                                        float(np.sqrt(pw * (1 - pw) / n_sim)), float(alpha), int(n_permutations)))
    return pd.DataFrame([asdict(r) for r in rows], columns=list(POWER_COLUMNS))


def plot_power(table: pd.DataFrame, path) -> Path:
    """Power curves (PNG): one panel per family, power against couples, one line per effect size.

    Error bars are +-1.96 Monte Carlo standard errors; the dashed line marks 0.80.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    missing = [c for c in POWER_COLUMNS[:6] if c not in table.columns]
    if missing:
        raise ValueError(f"The power table lacks column(s) {missing}.")
    fams = list(dict.fromkeys(table["family"]))
    fig, axes = plt.subplots(1, len(fams), figsize=(4.2 * len(fams), 3.6), squeeze=False, sharey=True)
    for ax, fam in zip(axes[0], fams):
        sub = table[table["family"] == fam]
        for eff, g in sub.groupby("effect_size", sort=True):
            g = g.sort_values("n_couples")
            ax.errorbar(g["n_couples"], g["power"], yerr=1.96 * g["mc_se"], marker="o", capsize=3,
                        label=f"c = {eff:g}")
        ax.axhline(0.8, color="grey", linestyle="--", linewidth=0.8)
        ax.set_title(fam)
        ax.set_xlabel("couples")
        ax.set_ylim(-0.02, 1.02)
    axes[0][0].set_ylabel("power")
    axes[0][-1].legend(title="complementarity_r", fontsize="small")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)
    return path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m attachment_pipeline.power",
                                description="Simulated power of the couple hypotheses (power.csv, power.png).")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n-couples", type=int, nargs="+", default=[50, 100, 200])
    p.add_argument("--effects", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3],
                   help="latent complementarity correlations")
    p.add_argument("--n-sim", type=int, default=200, help="simulated data sets per cell")
    p.add_argument("--n-permutations", type=int, default=500, help="re-pairings per data set")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--families", nargs="+", default=list(POWER_FAMILIES), choices=POWER_FAMILIES)
    p.add_argument("--seed", type=int, default=DEMO_SEED)
    p.add_argument("--mid-p", action="store_true", help="mid-p values for the pairing (count) test")
    return p


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        table = power_table(args.n_couples, args.effects, n_sim=args.n_sim, n_permutations=args.n_permutations,
                            alpha=args.alpha, families=args.families, seed=args.seed, mid_p=args.mid_p)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "power.csv", index=False, float_format="%.10g", lineterminator="\n")
    plot_power(table, out / "power.png")
    print(out / "power.csv")
    print(out / "power.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
