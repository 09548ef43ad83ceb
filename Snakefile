# Attachment questionnaire pipeline: raw exports -> validated scores -> ... -> report.
# Run the shipped demo:  snakemake --cores 2
# Run your own study:    snakemake --cores 2 --configfile path/to/study.yaml
# (with --configfile, exactly the cohorts of that file are run; the demo config is not merged in)
# The profile profiles/default (beside this file, where Snakemake looks) is used automatically.
import re
from pathlib import Path

from snakemake.utils import min_version

from attachment_pipeline import startup
from attachment_pipeline.config import ConfigError, load_study


min_version("9.0")


if not config:

    configfile: "config/config.yaml"


try:
    STUDY = load_study(config, Path.cwd())
except ConfigError as exc:
    startup.stop(f"Invalid configuration: {exc}")
except Exception as exc:  # a bug: one paragraph, the traceback in a log file
    startup.stop_internal(exc)

RESULTS = f"results/{STUDY.name}"
COHORTS = list(STUDY.cohorts)
LOGS = f"{RESULTS}/logs"
startup.check_writable(RESULTS)
if workflow.is_main_process:
    startup.clear_stale_locks()


def fingerprint(*parts):
    """A params value that changes exactly when the parts change (content-based reruns)."""
    return startup.fingerprint(*parts)


def instrument_files(name):
    """The instrument files a cohort reads."""
    return [inst.source for inst in STUDY.cohorts[name].instruments]


def input_content(name):
    """sha256 of the cohort's raw files and instrument files (not their time stamps)."""
    cohort = STUDY.cohorts[name]
    files = [cohort.responses] + ([cohort.children] if cohort.children is not None else [])
    return tuple(startup.content_sha256(f) for f in files + instrument_files(name))


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
    cohort="|".join(re.escape(c) for c in COHORTS),


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
    if STUDY.irt.instruments_for(cohort):
        targets.append(f"{base}/irt_fit.csv")
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
include: "workflow/rules/irt.smk"
include: "workflow/rules/classify.smk"
include: "workflow/rules/dyads.smk"
include: "workflow/rules/hypotheses.smk"
include: "workflow/rules/pooled.smk"
include: "workflow/rules/report.smk"
