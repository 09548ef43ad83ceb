"""The corpus of messy and broken inputs (tests/corpus/cases.py), each through the pipeline's entry points.

Refused inputs stop the scoring step with one paragraph and no outputs; counted ones run
and are counted in qc/validation.json; data that cannot support every analysis get
every step run, the impossible analyses skipped with their reason; config problems stop
at start-up. tests/test_hostile_workflow.py runs a representative subset through Snakemake.
"""

import json
import re

import pytest
import yaml

from attachment_pipeline import steps
from attachment_pipeline.config import ConfigError, load_study
from corpus.cases import CASES
from helpers import REPO

SCORE_OUTPUTS = {"validation": "qc/validation.json", "missingness": "qc/missingness.csv",
                 "keyed_items": "items.csv", "scores": "scores.csv"}


def names(kind):
    return [n for n, c in CASES.items() if c.kind == kind]


def study_config(cohort: dict) -> dict:
    """The demo's analysis settings (hypotheses included), made quick, over one cohort 'c'."""
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config.update(study="t", cohorts={"c": cohort})
    if "gender" not in cohort.get("groups", []):  # G1 names the demo's gender column explicitly
        config["hypotheses"] = [h for h in config["hypotheses"] if h.get("group") != "gender"]
    config["reliability"]["n_boot"] = 20
    config["factors"]["parallel_iterations"] = 5
    config["hypothesis_testing"].update(n_permutations=99, n_bootstrap=0)
    return config


def build(tmp_path, name):
    built = CASES[name].build(tmp_path)
    return built if isinstance(built, tuple) else (built, None)


def score(tmp_path, cohort_cfg, log=None):
    study = load_study(study_config(cohort_cfg), REPO)
    out = tmp_path / "results/t/c"
    outs = {k: str(out / v) for k, v in SCORE_OUTPUTS.items()}
    steps.run_step(steps.score_cohort, study.cohorts["c"], study.scoring, outs, log_path=log,
                   outputs=list(outs.values()))
    return study, out


def test_the_corpus_is_large_and_described():
    assert len(CASES) >= 60
    assert all(c.what for c in CASES.values())
    assert {c.kind for c in CASES.values()} == {"refused", "counted", "skipped", "config"}


@pytest.mark.parametrize("name", names("refused"))
def test_refused_with_one_paragraph_and_no_outputs(name, tmp_path, capsys):
    cohort_cfg, _ = build(tmp_path, name)
    log = tmp_path / "score.log"
    (tmp_path / "results/t/c/qc").mkdir(parents=True)
    (tmp_path / "results/t/c/scores.csv").write_text("stale\n")  # a previous run's output must not survive
    with pytest.raises(SystemExit) as exit_:
        score(tmp_path, cohort_cfg, log=log)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert CASES[name].fragment in err, err
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert not any(p.is_file() for p in (tmp_path / "results").rglob("*")), "a failed step left outputs behind"
    assert "stopped:" in log.read_text()


@pytest.mark.parametrize("name", names("counted"))
def test_counted(name, tmp_path):
    cohort_cfg, check = build(tmp_path, name)
    _, out = score(tmp_path, cohort_cfg)
    report = json.loads((out / "qc/validation.json").read_text())
    assert check(report, out) is not False


def run_all_steps(study, out):
    c = study.cohorts["c"]
    o = lambda **kv: {k: str(out / v) for k, v in kv.items()}  # noqa: E731
    steps.reliability_cohort(c, study.reliability, study.seed, out / "items.csv", out / "scores.csv",
                             o(reliability="reliability.csv", item_stats="item_stats.csv"))
    steps.factors_cohort(c, study.factors, study.seed, out / "items.csv",
                         o(factorability="factorability.csv", parallel="parallel_analysis.csv",
                           efa_loadings="efa_loadings.csv", efa_fit="efa_fit.csv", cfa_fit="cfa_fit.csv",
                           cfa_loadings="cfa_loadings.csv", cfa_thresholds="cfa_thresholds.csv"))
    steps.classify_cohort(c, study.classification, study.seed, out / "scores.csv",
                          o(classification="classification.csv", counts="style_counts.csv",
                            agreement="classification_agreement.csv", coverage="classification_coverage.csv",
                            gmm_profiles="gmm_profiles.csv", gmm_bic="gmm_bic.csv"))
    steps.minmax_by_style_table(out / "classification.csv", out / "scores.csv", out / "minmax_by_style.csv")
    steps.hypotheses_cohort(c, study.hypotheses_for("c"), study.hypothesis_testing, study.classification.method,
                            study.seed, {"scores": out / "scores.csv", "keyed_items": out / "items.csv",
                                         "reliability": out / "reliability.csv",
                                         "classification": out / "classification.csv"},
                            o(hypotheses="hypotheses.csv", tables="hypothesis_tables"))
    prereg = out.parent / "prereg_status.json"
    steps.prereg_status(study.config, out / "no.lock.json", prereg)
    steps.report_cohort(study, "c", prereg, out / "report.html")
    steps.exports_cohort(c, study.language, out, out / "exports")


@pytest.mark.parametrize("name", names("skipped"))
def test_skipped_analyses_with_reasons_while_the_cohort_goes_on(name, tmp_path):
    cohort_cfg, check = build(tmp_path, name)
    study, out = score(tmp_path, cohort_cfg)
    run_all_steps(study, out)
    check(out)
    html = (out / "report.html").read_text()
    for path in out.glob("*.csv"):
        text = path.read_text()
        if "skipped_reason" in text.splitlines()[0]:
            assert "Analyses not computed" in html, path.name


@pytest.mark.parametrize("name", names("config"))
def test_refused_at_start_up(name, tmp_path):
    config = CASES[name].build(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_study(config, REPO)
    assert CASES[name].fragment in str(err.value)
    assert not (tmp_path / "results").exists()


def test_free_text_group_never_named_anywhere_and_invariance_runs(tmp_path):
    """The issue's case: one person's free text forms a group of 1; nothing names it, nothing is voided."""
    cohort_cfg, _ = build(tmp_path, "free_text_group_value")
    study, out = score(tmp_path, cohort_cfg)
    run_all_steps(study, out)
    pooled = tmp_path / "results/t/pooled"
    inputs = {"items:c": out / "items.csv", "scores:c": out / "scores.csv", "reliability:c": out / "reliability.csv",
              "counts:c": out / "style_counts.csv", "hypotheses:c": out / "hypotheses.csv"}
    steps.pooled_study(study, inputs, {"invariance": str(pooled / "invariance.csv")})
    steps.study_index(study, tmp_path / "results/t/index.html")
    everything = "".join(p.read_text(errors="ignore") for p in (tmp_path / "results").rglob("*") if p.is_file()
                         and p.suffix in (".csv", ".json", ".html", ".txt", ".lavaan"))
    assert "Jane" not in everything and "example.org" not in everything
    import openpyxl
    for book in (out / "exports").glob("*.xlsx"):
        cells = [str(c.value) for ws in openpyxl.load_workbook(book) for row in ws.iter_rows() for c in row]
        assert not any("Jane" in c for c in cells)
    inv = __import__("pandas").read_csv(pooled / "invariance.csv")
    gender = inv[inv["comparison"] == "c:gender"]
    assert "configural" in set(gender["model"]), gender
    assert "Jane" not in gender.to_string()
    html = (out / "report.html").read_text()
    assert re.search(r"1 level\(s\) with fewer than 5 respondents \(1 respondents in all\) are not named", html)
