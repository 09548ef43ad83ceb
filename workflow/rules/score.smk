# Ingest, validate and score one cohort (attachment_pipeline.steps.score_cohort).


def cohort_inputs(wildcards):
    cohort = STUDY.cohorts[wildcards.cohort]
    files = [str(cohort.responses)]
    if cohort.children is not None:
        files.append(str(cohort.children))
    return files + instrument_files(wildcards.cohort)


rule score_cohort:
    input:
        cohort_inputs,
    output:
        validation=f"{RESULTS}/{{cohort}}/qc/validation.json",
        missingness=f"{RESULTS}/{{cohort}}/qc/missingness.csv",
        keyed_items=f"{RESULTS}/{{cohort}}/items.csv",
        scores=f"{RESULTS}/{{cohort}}/scores.csv",
    threads: 1
    resources:
        mem_mb=mem_mb(12),
        runtime=runtime(0.05),
    log:
        f"{LOGS}/{{cohort}}/score_cohort.log",
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        scoring=STUDY.scoring,
        # content of the raw and instrument files and the config slice: a change reruns the step
        fingerprint=lambda w: fingerprint(input_content(w.cohort), STUDY.cohorts[w.cohort], STUDY.scoring),
    script:
        "../scripts/score_cohort.py"
