# Functions and values the rules share (kept apart from the rules, as Snakemake's linter asks):
# target lists, input functions, content fingerprints and resource requests.


def fingerprint(*parts):
    """A params value that changes exactly when the parts change (content-based reruns)."""
    return startup.fingerprint(*parts)


def instrument_files(name):
    """The instrument files a cohort reads."""
    return [inst.source for inst in STUDY.cohorts[name].instruments]


def input_content(name):
    """sha256 of the cohort's raw files and instrument files (not their time stamps)."""
    cohort = STUDY.cohorts[name]
    files = [cohort.responses] + (
        [cohort.children] if cohort.children is not None else []
    )
    return tuple(startup.content_sha256(f) for f in files + instrument_files(name))


def mem_mb(per_input_mb, base=1000):
    """Memory request growing with the size of a job's inputs (and with each retry)."""

    def request(wildcards, input, attempt):
        return int((base + per_input_mb * input.size_mb) * attempt)

    return request


def runtime(per_input_mb, base=10):
    """Runtime request in minutes growing with the size of a job's inputs."""

    def request(wildcards, input, attempt):
        return int((base + per_input_mb * input.size_mb) * attempt)

    return request


def cohort_targets(name):
    """Every output a cohort gets, given its instruments."""
    cohort = STUDY.cohorts[name]
    base = f"{RESULTS}/{name}"
    targets = [
        f"{base}/scores.csv",
        f"{base}/qc/validation.json",
        f"{base}/reliability.csv",
    ]
    if cohort.dimension_instruments:
        targets += [f"{base}/classification.csv", f"{base}/cfa_fit.csv"]
        if any(i.kind == "minmax" for i in cohort.instruments):
            targets.append(f"{base}/minmax_by_style.csv")
    if cohort.couples is not None:
        targets.append(f"{base}/dyads/distinguishability.csv")
    if STUDY.hypotheses_for(name):
        targets.append(f"{base}/hypotheses.csv")
    if STUDY.irt.instruments_for(cohort):
        targets.append(f"{base}/irt_fit.csv")
    return targets


def all_targets(wildcards):
    """Every cohort's outputs, the preregistration status and the pooled outputs."""
    targets = [t for name in COHORTS for t in cohort_targets(name)]
    targets.append(f"{RESULTS}/prereg_status.json")
    targets += list(POOLED_OUTPUTS.values())
    targets += [f"{RESULTS}/{name}/exports" for name in COHORTS]
    targets.append(f"{RESULTS}/index.html")
    return targets


def cohort_inputs(wildcards):
    cohort = STUDY.cohorts[wildcards.cohort]
    files = [str(cohort.responses)]
    if cohort.children is not None:
        files.append(str(cohort.children))
    return files + instrument_files(wildcards.cohort)


def hypothesis_inputs(wildcards):
    base = f"{RESULTS}/{wildcards.cohort}"
    files = {
        "scores": f"{base}/scores.csv",
        "keyed_items": f"{base}/items.csv",
        "reliability": f"{base}/reliability.csv",
    }
    if STUDY.cohorts[wildcards.cohort].dimension_instruments:
        files["classification"] = f"{base}/classification.csv"
    if STUDY.cohorts[wildcards.cohort].children is not None:
        files["children"] = str(STUDY.cohorts[wildcards.cohort].children)
    return files


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
    if (
        STUDY.pooled.invariance
        and with_styles
        and (len(with_styles) >= 2 or any_groups)
    ):
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


def report_inputs(wildcards):
    return cohort_targets(wildcards.cohort) + [f"{RESULTS}/prereg_status.json"]
