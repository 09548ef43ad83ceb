"""Thin rule script: one cohort's HTML report (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import report_cohort, run_step

p = snakemake.params
run_step(report_cohort, p.study, snakemake.wildcards.cohort, p.prereg, snakemake.output[0],
         log_path=snakemake.log[0], outputs=list(snakemake.output))
