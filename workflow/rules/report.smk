# The report per cohort, the study page and the exports (attachment_pipeline.report, .exports).


rule report:
    input:
        report_inputs,
    output:
        report(
            f"{RESULTS}/{{cohort}}/report.html",
            caption="../report/cohort_report.rst",
            category="Reports",
        ),
        f"{RESULTS}/{{cohort}}/report.docx",
    log:
        f"{LOGS}/{{cohort}}/report.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(8),
        runtime=runtime(0.1),
    params:
        study=STUDY,
        prereg=f"{RESULTS}/prereg_status.json",
        fingerprint=lambda w: fingerprint(
            STUDY.config, STUDY.cohorts[w.cohort], input_content(w.cohort)
        ),
    script:
        "../scripts/report.py"


rule study_index:
    input:
        expand(f"{RESULTS}/{{cohort}}/report.html", cohort=COHORTS),
        list(POOLED_OUTPUTS.values()),
    output:
        f"{RESULTS}/index.html",
    log:
        f"{LOGS}/study_index.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        study=STUDY,
        fingerprint=fingerprint(STUDY.name, tuple(STUDY.cohorts), STUDY.language),
    script:
        "../scripts/study_index.py"


rule exports:
    input:
        f"{RESULTS}/{{cohort}}/scores.csv",
        f"{RESULTS}/{{cohort}}/items.csv",
        lambda w: (
            [f"{RESULTS}/{w.cohort}/classification.csv"]
            if STUDY.cohorts[w.cohort].dimension_instruments
            else []
        ),
        lambda w: (
            [f"{RESULTS}/{w.cohort}/irt_scores.csv"]
            if STUDY.irt.instruments_for(STUDY.cohorts[w.cohort])
            else []
        ),
    output:
        directory(f"{RESULTS}/{{cohort}}/exports"),
    log:
        f"{LOGS}/{{cohort}}/exports.log",
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(10),
        runtime=runtime(0.2),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        language=STUDY.language,
        fingerprint=lambda w: fingerprint(STUDY.cohorts[w.cohort], STUDY.language),
    script:
        "../scripts/exports.py"
