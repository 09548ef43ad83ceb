"""Thin rule script: reliability of one cohort (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import reliability_cohort, run_step

p = snakemake.params
i = snakemake.input
run_step(reliability_cohort, p.cohort, p.settings, p.seed, i.keyed_items, i.scores, dict(snakemake.output.items()),
         log_path=snakemake.log[0], outputs=list(snakemake.output))
