"""Thin rule script: declared hypotheses of one cohort (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import hypotheses_cohort, run_step

p = snakemake.params
inputs = {k: v for k, v in snakemake.input.items()}
run_step(hypotheses_cohort, p.cohort, p.entries, p.testing, p.primary_method, p.seed, inputs,
         dict(snakemake.output.items()),
         log_path=snakemake.log[0], outputs=list(snakemake.output))
