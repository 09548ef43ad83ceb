# Ingest, validate and score one cohort (attachment_pipeline.steps.score_cohort).


rule score_cohort:
    input:
        cohort_inputs,
    output:
        validation=f"{RESULTS}/{{cohort}}/qc/validation.json",
        missingness=f"{RESULTS}/{{cohort}}/qc/missingness.csv",
        keyed_items=f"{RESULTS}/{{cohort}}/items.csv",
        scores=f"{RESULTS}/{{cohort}}/scores.csv",
    log:
        f"{LOGS}/{{cohort}}/score_cohort.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(12),
        runtime=runtime(0.05),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        scoring=STUDY.scoring,
        # content of the raw and instrument files and the config slice: a change reruns the step
        fingerprint=lambda w: fingerprint(
            input_content(w.cohort), STUDY.cohorts[w.cohort], STUDY.scoring
        ),
    script:
        "../scripts/score_cohort.py"
