"""Thin rule script: study-level pooled outputs (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import pooled_study, run_step

run_step(pooled_study, snakemake.params.study, dict(snakemake.input.items()), dict(snakemake.output.items()),
         log_path=snakemake.log[0], outputs=list(snakemake.output))
