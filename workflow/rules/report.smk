# The report per cohort, the study page and the exports (attachment_pipeline.report, .exports).


def report_inputs(wildcards):
    return cohort_targets(wildcards.cohort) + [f"{RESULTS}/prereg_status.json"]


rule report:
    input:
        report_inputs,
    output:
        report(
            f"{RESULTS}/{{cohort}}/report.html",
            caption="../report/cohort_report.rst",
            category="Reports",
        ),
    threads: 1
    resources:
        mem_mb=mem_mb(8),
        runtime=runtime(0.1),
    params:
        study=STUDY,
        prereg=f"{RESULTS}/prereg_status.json",
    script:
        "../scripts/report.py"


rule study_index:
    input:
        expand(f"{RESULTS}/{{cohort}}/report.html", cohort=COHORTS),
        list(POOLED_OUTPUTS.values()),
    output:
        f"{RESULTS}/index.html",
    params:
        study=STUDY,
    script:
        "../scripts/study_index.py"


rule exports:
    input:
        f"{RESULTS}/{{cohort}}/scores.csv",
        lambda w: (
            [f"{RESULTS}/{w.cohort}/classification.csv"]
            if STUDY.cohorts[w.cohort].dimension_instruments
            else []
        ),
    output:
        directory(f"{RESULTS}/{{cohort}}/exports"),
    threads: 1
    resources:
        mem_mb=mem_mb(10),
        runtime=runtime(0.2),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        language=STUDY.language,
    script:
        "../scripts/exports.py"
