"""Thin rule script: SPSS, Excel and lavaan exports of one cohort (logic in attachment_pipeline.steps)."""
from pathlib import Path

from attachment_pipeline.steps import exports_cohort, run_step

p = snakemake.params
run_step(exports_cohort, p.cohort, p.language, Path(snakemake.input[0]).parent, snakemake.output[0],
         log_path=snakemake.log[0], outputs=list(snakemake.output))
