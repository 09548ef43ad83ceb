# Reliability per instrument, subscale and group (attachment_pipeline.reliability).


rule reliability:
    input:
        keyed_items=f"{RESULTS}/{{cohort}}/items.csv",
        scores=f"{RESULTS}/{{cohort}}/scores.csv",
    output:
        reliability=f"{RESULTS}/{{cohort}}/reliability.csv",
        item_stats=f"{RESULTS}/{{cohort}}/item_stats.csv",
    log:
        f"{LOGS}/{{cohort}}/reliability.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(6),
        runtime=runtime(0.05),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        settings=STUDY.reliability,
        seed=STUDY.seed,
        fingerprint=lambda w: fingerprint(
            STUDY.cohorts[w.cohort].instruments,
            STUDY.cohorts[w.cohort].groups,
            STUDY.reliability,
            STUDY.seed,
        ),
    script:
        "../scripts/reliability.py"
