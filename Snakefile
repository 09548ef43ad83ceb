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


wildcard_constraints:
    cohort="|".join(COHORTS),


rule all:
    input:
        expand(f"{RESULTS}/{{cohort}}/scores.csv", cohort=COHORTS),
        expand(f"{RESULTS}/{{cohort}}/qc/validation.json", cohort=COHORTS),


include: "workflow/rules/score.smk"
