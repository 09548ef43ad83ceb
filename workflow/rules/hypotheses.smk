# Declared hypotheses per cohort (attachment_pipeline.hypotheses) and the preregistration status.


rule hypotheses:
    input:
        unpack(hypothesis_inputs),
    output:
        hypotheses=f"{RESULTS}/{{cohort}}/hypotheses.csv",
        tables=directory(f"{RESULTS}/{{cohort}}/hypothesis_tables"),
    log:
        f"{LOGS}/{{cohort}}/hypotheses.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(6),
        runtime=runtime(0.2),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        entries=lambda w: STUDY.hypotheses_for(w.cohort),
        testing=STUDY.hypothesis_testing,
        primary_method=STUDY.classification.method,
        seed=STUDY.seed,
        fingerprint=lambda w: fingerprint(
            STUDY.cohorts[w.cohort],
            STUDY.hypotheses_for(w.cohort),
            STUDY.hypothesis_testing,
            STUDY.classification.method,
            STUDY.seed,
            input_content(w.cohort),
        ),
    script:
        "../scripts/hypotheses.py"


rule prereg_status:
    input:
        [str(STUDY.preregistration_lock)]
        if STUDY.preregistration_lock.is_file()
        else [],
    output:
        f"{RESULTS}/prereg_status.json",
    log:
        f"{LOGS}/prereg_status.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        config=STUDY.config,
        lock=str(STUDY.preregistration_lock),
    script:
        "../scripts/prereg_status.py"
