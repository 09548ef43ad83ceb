"""Power of the couple hypotheses by simulation, with the tests the families run.

For each number of couples ``n`` and planted effect ``c`` (the simulator's
``complementarity_r``: the latent correlation of one partner's anxiety with the
other's avoidance, in both directions), :func:`simulate_couples` draws ``n_sim``
data sets of ``n`` couples in **one** call of the simulator and scores them as
the pipeline does (:func:`attachment_pipeline.calibrate.simulate_sets`: reverse
keying, subscale means, min/max index and typology, midpoint styles, each data
set's alphas). Item-level measurement error is part of the power; there is no
missing data.

:func:`power_table` then runs, on all data sets at once, the primary tests of
three families exactly as :mod:`attachment_pipeline.hypotheses` runs them with
``couples.distinguishable: auto`` (:mod:`attachment_pipeline.calibrate` holds the
batched versions, tested to give the families' p-values):

- ``complementarity``: the standardized cross-partner path of true scores
  (one partner's anxiety to the other's avoidance beyond the first partner's own
  avoidance), direction ``greater``;
- ``minmax_complementarity``: partner similarity (ICC) of the min/max index,
  direction ``less`` (the simulator's min/max propensity is
  ``0.5 anxiety - 0.5 avoidance + noise``, so complementarity ``c`` gives a negative
  within-couple propensity covariance of ``-c / 2``);
- ``complementary_pairing``: preoccupied-dismissing couples beyond homogamy on
  each dimension (log-linear), direction ``greater``.

Power is the share of data sets with ``p < alpha`` for one test at the
uncorrected ``alpha`` (a study correcting over k hypotheses with Holm has at most
this power); ``mc_se = sqrt(power (1 - power) / n_sim)`` is its Monte Carlo
standard error. Type I error under realistic nulls (similarity, role differences,
a shared couple factor, clustering) is ``make calibrate``'s job
(:mod:`attachment_pipeline.calibrate`, ``docs/calibration.md``).

Command line (``make power``)::

    python -m attachment_pipeline.power --out results/power --n-couples 50 100 200 \\
        --effects 0 0.1 0.2 0.3 --n-sim 200 --seed 20261124

writes ``power.csv`` (family, n_couples, effect_size, n_sim, power, mc_se,
alpha, n_permutations) and ``power.png``. ``n_permutations`` is kept for the
table's layout; the three tests above need none.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import calibrate as cal
from .reliability import derive_seed
from .simulate import DEMO_SEED, SimulationSettings
from .tables import write_csv

POWER_FAMILIES = ("complementarity", "minmax_complementarity", "complementary_pairing")
POWER_COLUMNS = ("family", "n_couples", "effect_size", "n_sim", "power", "mc_se", "alpha", "n_permutations")
#: Direction of each family's test in the power simulation.
DIRECTION = {"complementarity": "greater", "minmax_complementarity": "less", "complementary_pairing": "greater"}
_TESTS = {"complementarity": cal.pvalues_path, "minmax_complementarity": cal.pvalues_minmax_icc,
          "complementary_pairing": cal.pvalues_pairing}

#: Simulated and scored data sets (arrays (n_sim, n) per partner; see :class:`attachment_pipeline.calibrate.SimulatedSets`).
SimulatedCouples = cal.SimulatedSets


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
    keep = {f: getattr(base, f) for f in ("instrument", "scale_min", "scale_max", "anxiety_avoidance_r", "similarity_r",
                                          "similarity_mechanism", "minmax_format", "minmax_anxiety",
                                          "minmax_avoidance", "minmax_noise_sd", "loading_min", "loading_max")}
    scenario = cal.Scenario("power", {**keep, "complementarity_r": float(effect)})
    return cal.simulate_sets(scenario, int(n_couples), 0, int(n_sim), seed)


def family_pvalues(data: SimulatedCouples, family: str, seed=0) -> np.ndarray:
    """p-values of one family's primary test on every simulated data set (shape (n_sim,)).

    >>> d = simulate_couples(30, 4, 0.0, seed=2)
    >>> family_pvalues(d, "complementarity").shape
    (4,)
    """
    if family not in _TESTS:
        raise ValueError(f"Unknown power family {family!r}; choose from {', '.join(POWER_FAMILIES)}.")
    return np.asarray(_TESTS[family](data, seed), dtype=float)


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


def power_table(n_couples, effects, *, n_sim: int = 200, n_permutations: int = 0, alpha: float = 0.05,
                families=POWER_FAMILIES, seed: int = DEMO_SEED,
                settings: SimulationSettings | None = None) -> pd.DataFrame:
    """Simulated power for every (family, number of couples, effect size).

    The data sets of a cell (n, effect) are simulated once with seed
    ``derive_seed(seed, "power", n, effect)`` and shared by the families.
    The loop runs over the handful of grid cells only; data sets and
    permutations are arrays.

    >>> t = power_table([30], [0.0], n_sim=20, families=["complementarity"], seed=1)
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
                p = family_pvalues(data, fam, derive_seed(seed, "power", int(n), float(eff), fam))
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
    p.add_argument("--n-permutations", type=int, default=0, help="recorded in the table (the tests need none)")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--families", nargs="+", default=list(POWER_FAMILIES), choices=POWER_FAMILIES)
    p.add_argument("--seed", type=int, default=DEMO_SEED)
    return p


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        table = power_table(args.n_couples, args.effects, n_sim=args.n_sim, n_permutations=args.n_permutations,
                            alpha=args.alpha, families=args.families, seed=args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / "power.csv")
    plot_power(table, out / "power.png")
    print(out / "power.csv")
    print(out / "power.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
