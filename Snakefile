# Attachment questionnaire pipeline: raw exports -> validated scores -> ... -> report.
# Run the shipped demo:  snakemake --cores 2
# Run your own study:    snakemake --cores 2 --configfile path/to/study.yaml
# (with --configfile, exactly the cohorts of that file are run; the demo config is not merged in)
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

from attachment_pipeline.config import ConfigError, load_study


min_version("9.0")


if not config:

    configfile: "config/config.yaml"


try:
    STUDY = load_study(config, Path.cwd())
except ConfigError as exc:
    raise WorkflowError(f"Invalid configuration: {exc}") from None

RESULTS = f"results/{STUDY.name}"
COHORTS = list(STUDY.cohorts)


def mem_mb(per_input_mb, base=1000):
    """Memory request growing with the size of a job's inputs (and with each retry)."""

    def request(wildcards, input, attempt):
        return int((base + per_input_mb * input.size_mb) * attempt)

    return request


def runtime(per_input_mb, base=10):
    """Runtime request in minutes growing with the size of a job's inputs."""

    def request(wildcards, input, attempt):
        return int((base + per_input_mb * input.size_mb) * attempt)

    return request


wildcard_constraints:
    cohort="|".join(COHORTS),


def cohort_targets(name):
    """Every output a cohort gets, given its instruments."""
    cohort = STUDY.cohorts[name]
    base = f"{RESULTS}/{name}"
    targets = [f"{base}/scores.csv", f"{base}/qc/validation.json", f"{base}/reliability.csv"]
    if cohort.dimension_instruments:
        targets += [f"{base}/classification.csv", f"{base}/cfa_fit.csv"]
        if any(i.kind == "minmax" for i in cohort.instruments):
            targets.append(f"{base}/minmax_by_style.csv")
    if cohort.couples is not None:
        targets.append(f"{base}/dyads/distinguishability.csv")
    if STUDY.hypotheses_for(name):
        targets.append(f"{base}/hypotheses.csv")
    return targets


localrules:
    all,
    prereg_status,


def all_targets(wildcards):
    """Every cohort's outputs, the preregistration status and the pooled outputs."""
    targets = [t for name in COHORTS for t in cohort_targets(name)]
    targets.append(f"{RESULTS}/prereg_status.json")
    targets += list(POOLED_OUTPUTS.values())  # defined in workflow/rules/pooled.smk
    targets += [f"{RESULTS}/{name}/exports" for name in COHORTS]
    targets.append(f"{RESULTS}/index.html")
    return targets


rule all:
    input:
        all_targets,


include: "workflow/rules/score.smk"
include: "workflow/rules/reliability.smk"
include: "workflow/rules/factors.smk"
include: "workflow/rules/classify.smk"
include: "workflow/rules/dyads.smk"
include: "workflow/rules/hypotheses.smk"
include: "workflow/rules/pooled.smk"
include: "workflow/rules/report.smk"
