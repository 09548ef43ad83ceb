# Couples analysed as dyads (attachment_pipeline.dyads): distinguishability, partner similarity,
# and measurement invariance across the two roles.


rule dyads:
    input:
        scores=f"{RESULTS}/{{cohort}}/scores.csv",
        keyed_items=f"{RESULTS}/{{cohort}}/items.csv",
    output:
        distinguishability=f"{RESULTS}/{{cohort}}/dyads/distinguishability.csv",
        nonindependence=f"{RESULTS}/{{cohort}}/dyads/nonindependence.csv",
        invariance=f"{RESULTS}/{{cohort}}/dyads/invariance.csv",
    log:
        f"{LOGS}/{{cohort}}/dyads.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(6),
        runtime=runtime(0.5),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        factors=STUDY.factors,
        ci=STUDY.hypothesis_testing.ci,
    script:
        "../scripts/dyads.py"
