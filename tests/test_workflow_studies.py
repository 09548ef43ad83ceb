"""End-to-end runs of the Snakefile on studies other than the shipped demo (a researcher's own export, two
cohorts, a hypothesis the data cannot support, preregistration, bad input), each in a temporary copy of the
project. The demo run and what is checked on it are in tests/test_workflow.py; the two files run in parallel
under ``make test``."""

import json
from pathlib import Path
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from attachment_pipeline.instruments import load_instrument
from helpers import demo_project as project_copy, run_snakemake as snakemake

pytestmark = pytest.mark.slow


def test_study_config_runs_exactly_its_cohorts(tmp_path):
    """A 1-5 ECR export with 0 as missing code and no id column, as a researcher would bring it (answers from
    two traits, so that the models have something to find)."""
    work = project_copy(tmp_path)
    rng = np.random.default_rng(5)
    n = 2000
    traits = {"anxiety": rng.normal(size=n), "avoidance": rng.normal(size=n)}
    data = pd.DataFrame({f"Q{i.n}": np.clip(np.round(3 + (-1 if i.reverse else 1) * traits[i.subscale]
                                                     + rng.normal(0, 0.8, n)), 1, 5).astype(int)
                         for i in load_instrument("ecr").items})
    data = data.mask(rng.random(data.shape) < 0.02, 0)
    data.iloc[:7, :30] = 0  # seven respondents skipped almost everything
    data["gender"] = rng.integers(1, 4, n)
    data.to_csv(work / "export.csv", index=False)
    (work / "study.yaml").write_text(
        "study: mystudy\n"
        "cohorts:\n"
        "  wave1:\n"
        "    responses: export.csv\n"
        "    instruments: [ecr]\n"
        "    items: {ecr: 'Q{n}'}\n"
        "    response_scale: {ecr: {min: 1, max: 5}}\n"
        "    missing_codes: [0]\n"
        "    groups: [gender]\n")
    proc = snakemake(work, "--configfile", "study.yaml")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (work / "results").iterdir()) == ["mystudy"]
    assert sorted(p.name for p in (work / "results/mystudy").iterdir()) == ["index.html", "logs", "pooled", "prereg_status.json", "wave1"]
    report = json.loads((work / "results/mystudy/wave1/qc/validation.json").read_text())
    s = report["items"]["ecr"]["scoring"]
    assert report["rows_in_file"] == n == s["scored"] + s["partly_scored"] + s["unscored"]
    assert s["unscored"] == 7
    assert report["items"]["ecr"]["totals"]["missing_code"] == int((data.iloc[:, :36] == 0).sum().sum())
    scores = pd.read_csv(work / "results/mystudy/wave1/scores.csv")
    assert scores["respondent_id"].tolist() == list(range(1, n + 1))


def test_bad_data_stops_with_a_clear_message(tmp_path):
    work = project_copy(tmp_path)
    raw = (work / "data/raw/demo/responses.csv").read_text().splitlines()
    fields = raw[5].split(",")
    col = raw[0].split(",").index("ecr_4")
    fields[col] = "9"
    raw[5] = ",".join(fields)
    (work / "data/raw/demo/responses.csv").write_text("\n".join(raw) + "\n")
    proc = snakemake(work)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "row 6, column ecr_4: '9'" in output
    assert "Traceback" not in output
    assert not (work / "results/demo/demo/scores.csv").exists()


def test_bad_config_stops_at_start(tmp_path):
    work = project_copy(tmp_path)
    cfg = (work / "config/config.yaml").read_text().replace("out_of_range: error", "out_of_range: ignore")
    (work / "bad.yaml").write_text(cfg)
    proc = snakemake(work, "--configfile", "bad.yaml")
    assert proc.returncode != 0
    assert "`cohorts.demo.out_of_range`" in proc.stderr
    assert not (work / "results").exists()


def test_slurm_profile_plans_the_workflow(tmp_path):
    """A dry run under the SLURM profile (executor plugin installed, no cluster needed), with the account and
    partition set on the command line (the profile's CHANGE_ME placeholders stop a run: test_snakemake_conventions)."""
    work = project_copy(tmp_path)
    cmd = [sys.executable, "-m", "snakemake", "-n", "--profile", "profiles/slurm", "--default-resources",
           "slurm_account=lab", "slurm_partition=short", "runtime=30", "mem_mb=2000"]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    for rule in ("score_cohort", "reliability", "factors", "classify", "minmax_by_style"):
        assert f"rule {rule}:" in out
    assert "slurm_partition=short" in out and "runtime=" in out
    assert not (work / "results").exists()


def test_preregistration_lock_matches_then_reports_differences(tmp_path):
    work = project_copy(tmp_path)
    lock = subprocess.run([sys.executable, "-m", "attachment_pipeline.prereg", "lock", "--config",
                           "config/config.yaml", "--out", "config/preregistration/demo.lock.json"],
                          cwd=work, capture_output=True, text=True)
    assert lock.returncode == 0, lock.stderr
    assert snakemake(work, str(Path("results/demo/prereg_status.json"))).returncode == 0
    status = json.loads((work / "results/demo/prereg_status.json").read_text())
    assert status["status"] == "matches" and status["differences"] == []
    cfg = (work / "config/config.yaml").read_text().replace("n_permutations: 10000", "n_permutations: 999")
    (work / "config/config.yaml").write_text(cfg)
    assert snakemake(work, str(Path("results/demo/prereg_status.json"))).returncode == 0
    status = json.loads((work / "results/demo/prereg_status.json").read_text())
    assert status["status"] == "differs"
    assert any("n_permutations" in d for d in status["differences"])


def test_study_of_two_cohorts_gets_pooled_outputs(tmp_path):
    work = project_copy(tmp_path)
    sim = subprocess.run([sys.executable, "-m", "attachment_pipeline.simulate", "custom", "--out", "wave2",
                          "--seed", "7", "--n-couples", "60", "--n-singles", "180", "--instrument", "ecr_r",
                          "--minmax-format", "ticks", "--n-children", "0"], cwd=work, capture_output=True, text=True)
    assert sim.returncode == 0, sim.stderr
    cfg = (work / "config/config.yaml").read_text()
    cfg = cfg.replace("cohorts:\n  demo:", "cohorts:\n  wave2:\n"
                      "    responses: wave2/responses.csv\n"
                      "    instruments: [ecr_r, minmax]\n"
                      "    id_column: respondent_id\n"
                      "    items: {ecr_r: \"ecr_{n}\", minmax: \"mm_{n}\"}\n"
                      "    missing_codes: [-1, 99]\n"
                      "    couples: {couple_column: couple_id, role_column: partner}\n"
                      "  demo:").replace("study: demo", "study: two")
    (work / "two.yaml").write_text(cfg)
    proc = snakemake(work, "--configfile", "two.yaml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    pooled = work / "results/two/pooled"
    rel = pd.read_csv(pooled / "reliability.csv")
    assert set(rel["cohort"]) >= {"demo", "wave2"} and rel["p"].notna().any()
    inv = pd.read_csv(pooled / "invariance.csv")
    across = inv[inv["comparison"] == "cohorts"]
    assert list(across["model"]) == ["configural", "metric", "scalar", "strict"]
    assert (across["n_groups"] == 2).all()
    meta = pd.read_csv(pooled / "meta_analysis.csv")
    assert "ecr_r: anxiety ~ avoidance" in set(meta["measure"])
    assert (meta["cohort"] == "pooled").any()
    assert any((pooled / "forest_plots").glob("*.png"))
    prev = pd.read_csv(pooled / "style_prevalence.csv")
    assert {"demo", "wave2"} <= set(prev["cohort"])
    index = (work / "results/two/index.html").read_text()
    assert 'id="pooled"' in index and "data:image/png;base64," in index and "configural" in index


def test_hypothesis_the_data_cannot_support_is_skipped_with_its_reason(tmp_path):
    """A declared level the data lack is known only from the data: that hypothesis is skipped, the rest run."""
    work = project_copy(tmp_path)
    cfg = (work / "config/config.yaml").read_text().replace(
        "group: gender, levels: [female, male]", "group: gender, levels: [female, robot]")
    (work / "bad.yaml").write_text(cfg)
    proc = snakemake(work, "results/demo/demo/report.html", "--configfile", "bad.yaml")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    table = pd.read_csv(work / "results/demo/demo/hypotheses.csv")
    g1 = table.set_index("id").loc["G1"]
    assert "robot" in g1["skipped_reason"] and np.isnan(g1["p_value"])
    assert table.loc[table["id"] == "H1", "skipped_reason"].isna().all()
    html = (work / "results/demo/demo/report.html").read_text()
    assert "Hypotheses not tested: G1" in html and "Analyses not computed" in html
