# Study-level outputs across cohorts (attachment_pipeline.steps.pooled_study, invariance, pooled).


def pooled_outputs():
    """What results/<study>/pooled/ holds for this study (decided by its cohorts and config)."""
    base = f"{RESULTS}/pooled"
    several = len(COHORTS) >= 2
    with_styles = [c for c in COHORTS if STUDY.cohorts[c].dimension_instruments]
    outputs = {}
    if several:
        outputs["reliability"] = f"{base}/reliability.csv"
    if len(with_styles) >= 2:
        outputs["prevalence"] = f"{base}/style_prevalence.csv"
    any_groups = any(STUDY.cohorts[c].groups for c in with_styles)
    if STUDY.pooled.invariance and with_styles and (len(with_styles) >= 2 or any_groups):
        outputs["invariance"] = f"{base}/invariance.csv"
    if STUDY.pooled.meta_analysis and len(with_styles) >= 2:
        outputs["meta_analysis"] = f"{base}/meta_analysis.csv"
        outputs["forest_plots"] = directory(f"{base}/forest_plots")
    return outputs


def pooled_inputs(wildcards):
    files = {}
    for c in COHORTS:
        base = f"{RESULTS}/{c}"
        files[f"items:{c}"] = f"{base}/items.csv"
        files[f"scores:{c}"] = f"{base}/scores.csv"
        files[f"reliability:{c}"] = f"{base}/reliability.csv"
        if STUDY.cohorts[c].dimension_instruments:
            files[f"counts:{c}"] = f"{base}/style_counts.csv"
        if STUDY.hypotheses_for(c):
            files[f"hypotheses:{c}"] = f"{base}/hypotheses.csv"
    return files


POOLED_OUTPUTS = pooled_outputs()


rule pooled:
    input:
        unpack(pooled_inputs),
    output:
        **POOLED_OUTPUTS,
    threads: 1
    resources:
        mem_mb=mem_mb(12),
        runtime=runtime(0.05),
    log:
        f"{LOGS}/pooled.log",
    params:
        study=STUDY,
        fingerprint=fingerprint(STUDY.cohorts, STUDY.pooled, STUDY.classification.method),
    script:
        "../scripts/pooled.py"
