"""Thin rule script: a cohort's dyad tables (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import dyads_cohort, run_step

p = snakemake.params
run_step(dyads_cohort, p.cohort, p.factors, p.ci, dict(snakemake.input.items()), dict(snakemake.output.items()),
         log_path=snakemake.log[0], outputs=list(snakemake.output))
