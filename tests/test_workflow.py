"""End-to-end runs of the Snakefile in a temporary copy of the project."""

import json
import re

import pandas as pd
import pytest

from helpers import REPO, demo_project as project_copy, run_snakemake as snakemake

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
