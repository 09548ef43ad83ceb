"""Thin rule script: the study page linking the cohort reports (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import run_step, study_index

run_step(study_index, snakemake.params.study, snakemake.output[0],
         log_path=snakemake.log[0], outputs=list(snakemake.output))
