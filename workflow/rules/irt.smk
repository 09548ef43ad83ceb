# Item response theory: the graded response model per subscale (attachment_pipeline.irt).


rule irt:
    input:
        keyed_items=f"{RESULTS}/{{cohort}}/items.csv",
        scores=f"{RESULTS}/{{cohort}}/scores.csv",
    output:
        irt_items=f"{RESULTS}/{{cohort}}/irt_items.csv",
        irt_fit=f"{RESULTS}/{{cohort}}/irt_fit.csv",
        irt_information=f"{RESULTS}/{{cohort}}/irt_information.csv",
        irt_dif=f"{RESULTS}/{{cohort}}/irt_dif.csv",
        irt_scores=f"{RESULTS}/{{cohort}}/irt_scores.csv",
    log:
        f"{LOGS}/{{cohort}}/irt.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(20),
        runtime=runtime(0.5),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        settings=STUDY.irt,
    script:
        "../scripts/irt.py"
