"""Thin rule script: preregistration status of the study (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import prereg_status, run_step

run_step(prereg_status, snakemake.params.config, snakemake.params.lock, snakemake.output[0],
         log_path=snakemake.log[0], outputs=list(snakemake.output))
