"""Thin rule script: factor structure of one cohort (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import factors_cohort, run_step

p = snakemake.params
run_step(factors_cohort, p.cohort, p.settings, p.seed, snakemake.input.keyed_items, dict(snakemake.output.items()),
         log_path=snakemake.log[0], outputs=list(snakemake.output))
