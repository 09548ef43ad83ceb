# Study-level outputs across cohorts (attachment_pipeline.steps.pooled_study, invariance, pooled).


rule pooled:
    input:
        unpack(pooled_inputs),
    output:
        **POOLED_OUTPUTS,
    log:
        f"{LOGS}/pooled.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(12),
        runtime=runtime(0.05),
    params:
        study=STUDY,
        fingerprint=fingerprint(
            STUDY.cohorts, STUDY.pooled, STUDY.classification.method
        ),
    script:
        "../scripts/pooled.py"
