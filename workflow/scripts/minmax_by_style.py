"""Thin rule script: min/max typology by attachment style (logic in attachment_pipeline.steps)."""
from attachment_pipeline.steps import minmax_by_style_table, run_step

run_step(minmax_by_style_table, snakemake.input.classification, snakemake.input.scores, snakemake.output[0],
         log_path=snakemake.log[0], outputs=list(snakemake.output))
