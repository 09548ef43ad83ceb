"""End-to-end runs of the Snakefile in a temporary copy of the project."""

import json
import re
import shutil
from pathlib import Path
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from helpers import REPO

pytestmark = pytest.mark.slow
OUTPUTS = ["scores.csv", "items.csv", "reliability.csv", "item_stats.csv", "factorability.csv",
           "parallel_analysis.csv", "efa_loadings.csv", "efa_fit.csv", "cfa_fit.csv", "cfa_loadings.csv", "cfa_thresholds.csv", "qc/validation.json", "qc/missingness.csv", "classification.csv",
           "style_counts.csv", "classification_agreement.csv", "classification_coverage.csv", "gmm_profiles.csv",
           "gmm_bic.csv", "minmax_by_style.csv", "hypotheses.csv", "hypothesis_tables/pairing_table.csv",
           "hypothesis_tables/transmission_table.csv", "hypothesis_tables/prevalence_table.csv",
           "hypothesis_tables/H1c_apim.csv", "dyads/distinguishability.csv", "dyads/nonindependence.csv",
           "dyads/invariance.csv", "report.html",
           "exports/scores.sav", "exports/classification.sav", "exports/cfa_model.lavaan", "irt_items.csv", "irt_fit.csv",
           "irt_information.csv", "irt_dif.csv", "irt_scores.csv"]


def project_copy(dest):
    for part in ["Snakefile", "workflow", "profiles", "config", "data/raw/demo"]:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / part)
    return dest


def snakemake(workdir, *args):
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--quiet"]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    work = project_copy(tmp_path_factory.mktemp("demo"))
    proc = snakemake(work)
    assert proc.returncode == 0, proc.stderr
    (work / "snakemake-stderr.txt").write_text(proc.stderr)
    return work


def test_demo_run_prints_no_raw_warning(demo_run):
    """Library and pipeline warnings go to the step logs (the pipeline's own as one plain line), never as
    a raw ``UserWarning`` with a source path on the console."""
    stderr = (demo_run / "snakemake-stderr.txt").read_text()
    assert "warning" not in stderr.lower(), stderr
    assert not [line for line in stderr.splitlines() if ".py:" in line], stderr
    logs = sorted((demo_run / "results/demo/logs/demo").glob("*.log"))
    assert {p.stem for p in logs} >= {"score_cohort", "reliability", "factors", "irt", "dyads", "classify"}


def test_demo_outputs(demo_run):
    out = demo_run / "results" / "demo" / "demo"
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    scores = pd.read_csv(out / "scores.csv", dtype={"respondent_id": str})
    assert list(scores.columns[:7]) == ["respondent_id", "ecr_r_anxiety", "ecr_r_avoidance", "minmax_minimiser",
                                        "minmax_maximiser", "minmax_index", "minmax_type"]
    raw = pd.read_csv(demo_run / "data/raw/demo/responses.csv")
    assert len(scores) == len(raw)
    report = json.loads((out / "qc/validation.json").read_text())
    scoring = report["items"]["ecr_r"]["scoring"]
    assert scoring["scored"] + scoring["partly_scored"] + scoring["unscored"] == report["rows_in_file"] == len(raw)
    assert scores["ecr_r_anxiety"].between(1, 7).sum() == scoring["per_score"]["ecr_r_anxiety"]["scored"]


def test_demo_classification_tables_agree_with_scores(demo_run):
    out = demo_run / "results" / "demo" / "demo"
    scores = pd.read_csv(out / "scores.csv", dtype={"respondent_id": str}).set_index("respondent_id")
    table = pd.read_csv(out / "classification.csv", dtype={"respondent_id": str})
    complete = scores[["ecr_r_anxiety", "ecr_r_avoidance"]].dropna()
    assert list(dict.fromkeys(table["method"])) == ["midpoint", "median", "kmeans", "gmm"]
    mid = table[table["method"] == "midpoint"].set_index("respondent_id")
    assert len(mid) == len(complete)
    # the midpoint rule by hand: high when above 4 on the 1-7 scale
    hi_anx = complete["ecr_r_anxiety"] > 4
    hi_avo = complete["ecr_r_avoidance"] > 4
    expected = pd.Series("secure", index=complete.index)
    expected[hi_anx & ~hi_avo] = "preoccupied"
    expected[~hi_anx & hi_avo] = "dismissing"
    expected[hi_anx & hi_avo] = "fearful"
    assert (mid.loc[complete.index, "style"] == expected).all()
    counts = pd.read_csv(out / "style_counts.csv")
    assert counts.groupby("method")["n"].sum().eq(len(complete)).all()
    by_style = pd.read_csv(out / "minmax_by_style.csv")
    assert by_style[by_style["method"] == "midpoint"]["n"].sum() == scores.loc[complete.index, "minmax_type"].notna().sum()


def test_same_inputs_give_identical_bytes(demo_run, tmp_path):
    again = project_copy(tmp_path)
    assert snakemake(again).returncode == 0
    for name in OUTPUTS:
        if name == "report.html":  # carries the run time; tests/test_report.py checks it is otherwise identical
            continue
        a = (demo_run / "results/demo/demo" / name).read_bytes()
        b = (again / "results/demo/demo" / name).read_bytes()
        assert a == b, name


def test_study_config_runs_exactly_its_cohorts(tmp_path):
    """A 1-5 ECR export with 0 as missing code and no id column, as a researcher would bring it."""
    work = project_copy(tmp_path)
    rng = np.random.default_rng(5)
    n = 2000
    data = pd.DataFrame(rng.integers(1, 6, size=(n, 36)), columns=[f"Q{k}" for k in range(1, 37)])
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


def test_demo_reliability_through_the_pipeline_agrees_with_r(demo_run):
    """Raw file -> ingest -> keying -> reliability.csv agrees with psych::alpha on the same file.

    The default reliability.missing is pairwise, psych::alpha's default (use = "pairwise").
    """
    reference = json.loads((REPO / "tests/reference/reliability_demo.json").read_text())
    rel = pd.read_csv(demo_run / "results/demo/demo/reliability.csv")
    overall = rel[(rel["group_column"] == "all") & (rel["instrument"] == "ecr_r")].set_index("subscale")
    assert (overall["missing"] == "pairwise").all()
    for sub in ("anxiety", "avoidance"):
        ref = reference["subscales"][sub]["pairwise"]
        assert overall.loc[sub, "n"] == ref["n"]
        for stat in ("alpha", "alpha_std", "lambda6", "average_r", "mean", "sd"):
            assert overall.loc[sub, stat] == pytest.approx(ref[stat], abs=1e-6), (sub, stat)


def test_demo_factor_structure_through_the_pipeline_agrees_with_r(demo_run):
    """Raw file -> ingest -> keying -> KMO and CFA fit agree with psych/lavaan on the same file.

    The defaults (factors.missing: fiml, estimator: mlr): KMO of the EM correlations
    (tests/r/em_reference.R) and the MLR-FIML CFA (tests/r/sem_reference.R), every respondent used.
    """
    em = json.loads((REPO / "tests/reference/em_demo.json").read_text())
    sem_ref = json.loads((REPO / "tests/reference/sem_cfa.json").read_text())["datasets"]["demo"]["fits"]
    out = demo_run / "results/demo/demo"
    fact = pd.read_csv(out / "factorability.csv")
    assert (fact["missing"] == "fiml").all()
    assert fact.loc[fact["measure"] == "kmo", "value"].item() == pytest.approx(em["kmo"], abs=1e-5)
    assert fact.loc[fact["measure"] == "n", "value"].item() == 400
    assert (pd.read_csv(out / "parallel_analysis.csv")["fa_diagonal"] == "one_factor_communality").all()
    fit = pd.read_csv(out / "cfa_fit.csv").set_index("model")
    assert (fit["estimator"] == "mlr").all() and (fit["missing"] == "fiml").all() and (fit["n"] == 400).all()
    for model, key in (("theoretical", "two_mlr_fiml"), ("one_factor", "one_mlr_fiml")):
        ref = sem_ref[key]["fit"]
        assert fit.loc[model, "chi2"] == pytest.approx(ref["chisq"], rel=0.005)
        assert fit.loc[model, "chi2_scaled"] == pytest.approx(ref["chisq_scaled"], rel=0.005)
        assert fit.loc[model, "df"] == ref["df"]
        for ours, theirs in (("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"), ("srmr", "srmr"),
                             ("cfi_robust", "cfi_robust"), ("rmsea_robust", "rmsea_robust")):
            assert fit.loc[model, ours] == pytest.approx(ref[theirs], abs=0.002), (model, ours)


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


def test_demo_hypotheses_one_per_family_and_planted_complementarity_found(demo_run):
    table = pd.read_csv(demo_run / "results/demo/demo/hypotheses.csv")
    primary = table[table["primary"]]
    assert set(primary["family"]) == {"complementarity", "complementary_pairing", "minmax_complementarity",
                                      "pairing_symmetry", "correlation", "prevalence", "transmission",
                                      "dimensions_distinct", "duration", "group_difference", "apim"}
    h1 = primary.set_index("id").loc["H1"]
    assert h1["supported"] and h1["effect_size"] > 0 and h1["p_adjusted"] < 0.05
    # Holm: adjusted p never below the raw p, and the correction spans the primary rows only
    assert (primary["p_adjusted"] >= primary["p_value"] - 1e-12).all()
    assert table.loc[~table["primary"], "p_adjusted"].isna().all()
    status = json.loads((demo_run / "results/demo/prereg_status.json").read_text())
    assert status["status"] == "no lock"
    # the demo's roles A/B are exchangeable (the simulator draws them alike): indistinguishable dyads
    dist = pd.read_csv(demo_run / "results/demo/demo/dyads/distinguishability.csv")
    assert list(dist.columns[:5]) == ["score_set", "chi2", "df", "p", "distinguishable"]
    assert set(dist.score_set) == {"ecr_r", "minmax_index"} and not dist.distinguishable.any()
    inv = pd.read_csv(demo_run / "results/demo/demo/dyads/invariance.csv")
    assert list(inv.model) == ["configural", "loading", "intercept"] * 2 and inv.converged.all()
    apim = pd.read_csv(demo_run / "results/demo/demo/hypothesis_tables/H1c_apim.csv")
    assert list(apim.columns) == ["effect", "role", "estimate", "se", "z", "p", "ci_low", "ci_high", "std_estimate"]


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


def test_demo_report_is_self_contained_and_private(demo_run):
    html = (demo_run / "results/demo/demo/report.html").read_text()
    for section in ("1. Overview", "2. Method, Table 1 and references", "7. Item response theory", "11. Hypotheses",
                    "12. Provenance"):
        assert section in html
    irt = html[html.index('id="irt"'):html.index('id="dimensions"')]
    assert "Differential item functioning" in irt and "partner role (partner)" in irt and "gender" in irt
    assert "likelihood ratio, scaled for couples" in irt
    assert "src=\"http" not in html and "href=\"http" not in html
    text = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", html)
    scores = pd.read_csv(demo_run / "results/demo/demo/scores.csv", dtype=str)
    for ident in list(scores["respondent_id"]) + list(scores["couple_id"].dropna().unique()):
        assert not re.search(rf"\b{re.escape(ident)}\b", text), ident
    index = (demo_run / "results/demo/index.html").read_text()
    assert 'href="demo/report.html"' in index


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
