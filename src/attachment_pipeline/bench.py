"""Benchmark: the whole pipeline end to end on simulated cohorts of growing size, beside R.

``make bench`` runs ``python -m attachment_pipeline.bench``. For each size it
simulates a cohort (ECR-R, 36 items on 1-7, 1.5% of answers missing (42% of the
respondents miss at least one), missing codes -1/99, no couples, no checklist: the
same work a researcher would do in R), writes a study config, runs
``snakemake --cores 2`` on it in a temporary folder with the default settings
(pairwise alpha with 1,000 bootstrap samples, EM correlations for the EFA family,
MLR + FIML CFAs, four classification methods, the graded response model), and
reports the wall time and the peak resident memory of the largest process
(``ru_maxrss`` of the children). On the 50,000-respondent file, with ``Rscript`` on
the machine, it also times R doing the same analyses (``tests/r/bench_timing.R``:
psych, lavaan, mclust), lavaan's FIML, MLR + FIML and WLSMV CFAs beside the engine's
(``tests/r/bench_estimators.R``), and the IRT step alone (R's mirt is not
packaged for this machine, so the GRM has no R line).

Timings are measurements of this machine at this moment; nothing here asserts
on them (the test suite never times anything).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def simulate(n: int, out: Path, seed: int) -> Path:
    """Write a simulated ECR-R cohort of ``n`` respondents to ``out/responses.csv``."""
    cmd = [sys.executable, "-m", "attachment_pipeline.simulate", "custom", "--out", str(out), "--seed", str(seed),
           "--n-couples", "0", "--n-singles", str(n), "--instrument", "ecr_r", "--minmax-format", "none",
           "--n-children", "0"]
    subprocess.run(cmd, check=True, capture_output=True)
    return out / "responses.csv"


def study_config(responses: Path, name: str) -> str:
    return (f"study: speed\n"
            f"cohorts:\n"
            f"  {name}:\n"
            f"    responses: {responses}\n"
            f"    instruments: [ecr_r]\n"
            f"    id_column: respondent_id\n"
            f"    items: {{ecr_r: 'ecr_{{n}}'}}\n"
            f"    missing_codes: [-1, 99]\n")


def many_cohorts(folder: Path, n_cohorts: int, size: int, seed: int) -> Path:
    """Simulate ``n_cohorts`` cohorts of ``size`` respondents and a cohort sheet naming them; return the config."""
    rows = ["name\tresponses\tinstruments\tid_column\titems\tmissing_codes"]
    for k in range(n_cohorts):
        sub = folder / f"c{k + 1:02d}"
        sub.mkdir()
        responses = simulate(size, sub, seed + k)
        rows.append(f"c{k + 1:02d}\t{responses}\t[ecr_r]\trespondent_id\t{{ecr_r: 'ecr_{{n}}'}}\t[-1, 99]")
    (folder / "cohorts.tsv").write_text("\n".join(rows) + "\n")
    config = folder / "study.yaml"
    config.write_text(f"study: speed\ncohorts: {folder / 'cohorts.tsv'}\n")
    return config


#: the analysis tables of a cohort (issue 3's "raw file to these tables"): their rules are
#: score_cohort, reliability, factors and classify
ANALYSIS_TABLES = ("scores.csv", "reliability.csv", "cfa_fit.csv", "classification.csv")


#: runs a command and prints the peak RSS (kB) of its largest descendant and the CPU seconds of all of
#: them: a fresh process per measurement, because RUSAGE_CHILDREN accumulates over a process's whole life
_PEAK_WRAPPER = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
                 "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
                 "print(u.ru_maxrss, u.ru_utime + u.ru_stime, file=sys.stderr); sys.exit(rc)")


def run_pipeline(workdir: Path, config: Path, targets: list[str] = ()) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (all processes) and peak RSS (MB) of the largest process of one
    snakemake run (default target: all). CPU seconds are the fairer measure on a shared machine."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), *targets, "--cores", "2", "--quiet",
           "--configfile", str(config), "--directory", str(workdir)]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, *cmd], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"pipeline failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    peak_kb, cpu = proc.stderr.strip().splitlines()[-1].split()
    return seconds, float(cpu), int(peak_kb) / 1024


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def time_r(responses: Path) -> dict | None:
    """Seconds R takes for the same analyses, per part and in total (None without Rscript or the R packages).

    ``tests/r/bench_timing.R``: psych alpha (pairwise, 1,000 bootstrap samples) and omega per
    subscale; EM correlations, KMO, Bartlett, parallel analysis (100 iterations) and EFA;
    lavaan MLR + FIML CFAs of the two models with fit measures; k-means and mclust.
    """
    if shutil.which("Rscript") is None:
        return None
    script = REPO / "tests" / "r" / "bench_timing.R"
    proc = subprocess.run(["Rscript", str(script), str(responses)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  (R timing failed: {proc.stderr.strip().splitlines()[-1:]})")
        return None
    return {row["part"]: float(row["seconds"]) for row in _json_lines(proc.stdout)}


#: the CFA estimator settings timed by :func:`estimator_timings` (label, estimator, missing)
ESTIMATOR_CASES = (("fiml", "ml", "fiml"), ("mlr_fiml", "mlr", "fiml"), ("wlsmv", "wlsmv", "pairwise"))


def estimator_timings(responses: Path, with_r: bool = True) -> list[dict]:
    """Seconds of the engine's FIML, MLR and WLSMV CFAs of the ECR-R two-factor model on ``responses``,
    beside lavaan's on the same file (``tests/r/bench_estimators.R``) when R is available."""
    import pandas as pd

    from . import sem

    raw = pd.read_csv(responses)
    x = raw[[f"ecr_{j}" for j in range(1, 37)]].astype(float)
    x = x.mask(x.isin([-1, 99]))
    for j in (9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36):
        x[f"ecr_{j}"] = 8 - x[f"ecr_{j}"]
    x.columns = [f"ecr_r_{j}" for j in range(1, 37)]
    model = ("anxiety =~ " + " + ".join(f"ecr_r_{j}" for j in range(1, 19)) + "\navoidance =~ "
             + " + ".join(f"ecr_r_{j}" for j in range(19, 37)))
    r_times = None
    if with_r and shutil.which("Rscript") is not None:
        proc = subprocess.run(["Rscript", str(REPO / "tests" / "r" / "bench_estimators.R"), str(responses)],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            r_times = {row["case"]: {"seconds": row["seconds"], "chisq": row["chisq"]} for row in _json_lines(proc.stdout)}
        else:
            print(f"  (R estimator timing failed: {proc.stderr.strip().splitlines()[-1:]})")
    rows = []
    for label, estimator, missing in ESTIMATOR_CASES:
        sem.engine._DATA_CACHE.clear()  # each case from scratch, as lavaan
        start, cpu = time.perf_counter(), time.process_time()
        res = sem.fit(model, x, estimator=estimator, missing=missing, ordered=estimator == "wlsmv")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        row = {"case": label, "seconds": seconds, "cpu": cpu, "chi2": res.chi2, "n": res.n}
        if r_times is not None and label in r_times:
            row.update(r_seconds=r_times[label]["seconds"], r_chi2=r_times[label]["chisq"])
        rows.append(row)
    return rows


def time_grm(folder: Path, config: Path, cohort: str) -> tuple[float, float]:
    """Wall and CPU seconds of the IRT step alone (graded response model of both ECR-R subscales:
    EM + Newton with standard errors, EAP/ML scores, M2*, S-X2, information; no groups, so no DIF),
    in this process, on the items.csv the pipeline wrote."""
    from attachment_pipeline.config import load_study, read_config_file
    from attachment_pipeline.steps import IRT_OUTPUTS, irt_cohort

    study = load_study(read_config_file(config), folder)
    base = folder / "results" / "speed" / cohort
    out = {k: folder / "grm" / f"{k}.csv" for k in IRT_OUTPUTS}
    start, cpu = time.perf_counter(), time.process_time()
    irt_cohort(study.cohorts[cohort], study.irt, base / "items.csv", base / "scores.csv", out)
    return time.perf_counter() - start, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--no-r", action="store_true", help="skip the side-by-side R timing")
    parser.add_argument("--many-cohorts", type=int, default=20, help="cohorts in the many-cohort case (0 = skip)")
    parser.add_argument("--cohort-size", type=int, default=2000, help="respondents per cohort in that case")
    parser.add_argument("--estimators-only", action="store_true",
                        help="only time the CFA estimators (FIML, MLR, WLSMV) beside lavaan on 50,000 respondents")
    args = parser.parse_args(argv)
    if args.estimators_only:
        args.sizes, args.many_cohorts = [], 0
        with tempfile.TemporaryDirectory(prefix="ap-bench-") as tmp:
            _print_estimators(simulate(50_000, Path(tmp), args.seed), not args.no_r)
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="ap-bench-") as tmp:
        tmp = Path(tmp)
        for n in args.sizes:
            folder = tmp / f"n{n}"
            folder.mkdir()
            t0 = time.perf_counter()
            responses = simulate(n, folder, args.seed)
            sim_s = time.perf_counter() - t0
            config = folder / "study.yaml"
            config.write_text(study_config(responses, f"n{n}"))
            tables = [f"results/speed/n{n}/{t}" for t in ANALYSIS_TABLES]
            seconds, cpu, peak = run_pipeline(folder, config, tables)
            rest, rest_cpu, peak_all = run_pipeline(folder, config)
            rows.append((n, seconds, peak))
            print(f"n = {n:>9,}: raw file to tables {seconds:7.1f} s wall, {cpu:7.1f} s CPU "
                  f"({1e6 * seconds / n:6.1f} us per respondent); IRT, report, exports and the rest "
                  f"{rest:6.1f} s wall, {rest_cpu:6.1f} s CPU more; whole pipeline {seconds + rest:7.1f} s; "
                  f"peak memory of the largest process {max(peak, peak_all):6.0f} MB   [simulation {sim_s:.1f} s]",
                  flush=True)
            if n == 50_000:
                _print_estimators(responses, not args.no_r)
                wall, cpu = time_grm(folder, config, f"n{n}")
                print(f"             GRM alone (IRT step, 50,000 respondents x 36 items = two 18-item subscales, "
                      f"standard errors, scores, M2*, S-X2): {wall:6.1f} s wall, {cpu:6.1f} s CPU", flush=True)
            if n == 50_000 and not args.no_r:
                r_parts = time_r(responses)
                if r_parts is not None:
                    parts = ", ".join(f"{k} {v:.1f} s" for k, v in r_parts.items() if k != "total")
                    r_seconds = r_parts["total"]
                    print(f"             R (psych + lavaan + mclust, same analyses, same file): {r_seconds:7.1f} s "
                          f"wall ({parts}); R / pipeline (raw file to tables, wall) = {r_seconds / seconds:.1f}x",
                          flush=True)
            shutil.rmtree(folder)
        if args.many_cohorts:
            folder = tmp / "many"
            folder.mkdir()
            config = many_cohorts(folder, args.many_cohorts, args.cohort_size, args.seed)
            seconds, _, peak = run_pipeline(folder, config)
            print(f"{args.many_cohorts} cohorts x {args.cohort_size:,} respondents (cohort sheet): pipeline "
                  f"{seconds:7.1f} s, peak memory of the largest process {peak:7.0f} MB", flush=True)
    if len(rows) > 1:
        (n0, s0, _), (n1, s1, _) = rows[0], rows[-1]
        print(f"growth: {n1 / n0:.0f}x respondents -> {s1 / s0:.1f}x time "
              f"(linear would be {n1 / n0:.0f}x; fixed start-up costs make small runs relatively slow)")
    return 0


def _print_estimators(responses: Path, with_r: bool) -> None:
    for row in estimator_timings(responses, with_r):
        line = (f"  CFA {row['case']:<9} n = {row['n']:,}: engine {row['seconds']:6.1f} s wall, {row['cpu']:6.1f} s CPU "
                f"(chi2 {row['chi2']:.1f})")
        if "r_seconds" in row:
            line += (f"; lavaan {row['r_seconds']:6.1f} s (chi2 {row['r_chi2']:.1f}); "
                     f"lavaan / engine = {row['r_seconds'] / row['seconds']:.1f}x")
        print(line, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
