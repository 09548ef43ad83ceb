# Factor structure of the two-dimension instruments (attachment_pipeline.factors).


rule factors:
    input:
        keyed_items=f"{RESULTS}/{{cohort}}/items.csv",
    output:
        factorability=f"{RESULTS}/{{cohort}}/factorability.csv",
        parallel=f"{RESULTS}/{{cohort}}/parallel_analysis.csv",
        efa_loadings=f"{RESULTS}/{{cohort}}/efa_loadings.csv",
        efa_fit=f"{RESULTS}/{{cohort}}/efa_fit.csv",
        cfa_fit=f"{RESULTS}/{{cohort}}/cfa_fit.csv",
        cfa_loadings=f"{RESULTS}/{{cohort}}/cfa_loadings.csv",
        cfa_thresholds=f"{RESULTS}/{{cohort}}/cfa_thresholds.csv",
    log:
        f"{LOGS}/{{cohort}}/factors.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(6),
        runtime=runtime(0.02),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        settings=STUDY.factors,
        seed=STUDY.seed,
        fingerprint=lambda w: fingerprint(
            STUDY.cohorts[w.cohort].dimension_instruments, STUDY.factors, STUDY.seed
        ),
    script:
        "../scripts/factors.py"
