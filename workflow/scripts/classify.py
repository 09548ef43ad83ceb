"""Thin rule script: attachment styles of one cohort (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import classify_cohort, run_step

p = snakemake.params
run_step(classify_cohort, p.cohort, p.settings, p.seed, snakemake.input.scores, dict(snakemake.output.items()),
         log_path=snakemake.log[0], outputs=list(snakemake.output))
