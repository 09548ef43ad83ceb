# Four attachment styles from the two dimensions (attachment_pipeline.classify).

GMM_OUTPUTS = (
    {
        "gmm_profiles": f"{RESULTS}/{{cohort}}/gmm_profiles.csv",
        "gmm_bic": f"{RESULTS}/{{cohort}}/gmm_bic.csv",
    }
    if "gmm" in STUDY.classification.methods
    else {}
)


rule classify:
    input:
        scores=f"{RESULTS}/{{cohort}}/scores.csv",
    output:
        **GMM_OUTPUTS,
        classification=f"{RESULTS}/{{cohort}}/classification.csv",
        counts=f"{RESULTS}/{{cohort}}/style_counts.csv",
        agreement=f"{RESULTS}/{{cohort}}/classification_agreement.csv",
        coverage=f"{RESULTS}/{{cohort}}/classification_coverage.csv",
    log:
        f"{LOGS}/{{cohort}}/classify.log",
    # the longest job of a cohort (mixture models): start it first when cores are scarce
    priority: 10
    conda:
        "../envs/pipeline.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb(4),
        runtime=runtime(0.5),
    params:
        cohort=lambda w: STUDY.cohorts[w.cohort],
        settings=STUDY.classification,
        seed=STUDY.seed,
        fingerprint=lambda w: fingerprint(
            STUDY.cohorts[w.cohort].dimension_instruments,
            STUDY.classification,
            STUDY.seed,
        ),
    script:
        "../scripts/classify.py"


rule minmax_by_style:
    input:
        classification=f"{RESULTS}/{{cohort}}/classification.csv",
        scores=f"{RESULTS}/{{cohort}}/scores.csv",
    output:
        f"{RESULTS}/{{cohort}}/minmax_by_style.csv",
    log:
        f"{LOGS}/{{cohort}}/minmax_by_style.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../scripts/minmax_by_style.py"
