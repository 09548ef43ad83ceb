# Attachment questionnaire pipeline: raw exports -> validated scores -> ... -> report.
# Run the shipped demo:  snakemake --cores 2
# Run your own study:    snakemake --cores 2 --configfile path/to/study.yaml
# (with --configfile, exactly the cohorts of that file are run; the demo config is not merged in)
# The profile profiles/default (beside this file, where Snakemake looks) is used automatically.
import os
import re
from pathlib import Path

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import min_version

from attachment_pipeline import startup
from attachment_pipeline.config import ConfigError, load_study

min_version("9.0")

if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
    # conda jobs (workflow/envs/pipeline.yaml) run the package code beside this Snakefile
    src = str(Path(workflow.basedir) / "src")
    os.environ.update(
        PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    )


if not config:

    configfile: "config/config.yaml"


try:
    STUDY = load_study(config, Path.cwd())
except ConfigError as exc:
    startup.stop(f"Invalid configuration: {exc}")
except Exception as exc:  # a bug: one paragraph, the traceback in a log file
    startup.stop_internal(exc)

unset = startup.placeholder_resources(
    getattr(workflow.resource_settings, "default_resources", None)
)
if unset:
    startup.stop(
        f"The profile's default resources {', '.join(unset)} are still CHANGE_ME. Set them in "
        "profiles/slurm/config.yaml (default-resources: slurm_account: your account, slurm_partition: "
        "a partition of your cluster) or on the command line: --default-resources "
        "slurm_account=myacct slurm_partition=short."
    )

RESULTS = f"results/{STUDY.name}"
COHORTS = list(STUDY.cohorts)
LOGS = f"{RESULTS}/logs"
startup.check_writable(RESULTS)
if workflow.is_main_process:
    startup.clear_stale_locks()


include: "workflow/rules/common.smk"


wildcard_constraints:
    cohort="|".join(re.escape(c) for c in COHORTS),


localrules:
    all,
    prereg_status,


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
