"""Thin rule script: validate and score one cohort (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import run_step, score_cohort

run_step(score_cohort, snakemake.params.cohort, snakemake.params.scoring, dict(snakemake.output.items()),
         log_path=snakemake.log[0], outputs=list(snakemake.output))
