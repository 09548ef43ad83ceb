"""Thin rule script: graded response model of one cohort (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import irt_cohort, run_step

p = snakemake.params
i = snakemake.input
run_step(irt_cohort, p.cohort, p.settings, i.keyed_items, i.scores, dict(snakemake.output.items()),
         log_path=snakemake.log[0], outputs=list(snakemake.output))
