"""Declared hypotheses: the families of tests, their registry, the correction and ``hypotheses.csv``.

A researcher declares hypotheses in the config, never in code::

    hypothesis_testing: {correction: holm, n_permutations: 10000}
    hypotheses:
      - {id: H1, family: complementarity, direction: greater, alpha: 0.05}
      - {id: H5, family: prevalence, reference: hazan_shaver1987}
      - {id: H4a, family: correlation, x: minmax_index, y: ecr_r_anxiety, direction: greater}

Every entry has ``id`` and ``family``; optional ``cohorts`` (default: every
cohort with the data the family needs), ``direction`` (``greater``, ``less``,
``two-sided``; the default depends on the family), ``alpha`` (default 0.05)
and ``description`` (default: generated); the family's own keys sit beside
them (:data:`FAMILIES`; :func:`check_hypothesis` fills the defaults and
rejects unknown keys; :func:`hypotheses_schema` is the JSON schema).

Families (seed claims H1-H8, see ``DESIGN.md``)
----------------------------------------------
Couples are analysed as dyads (Kenny, Kashy & Cook, 2006): ``couples.distinguishable``
(``auto`` by default) decides per analysis whether the roles are distinguishable
(:func:`attachment_pipeline.dyads.dyad_structure`); for indistinguishable dyads every
number is the same under any labelling of the partners. Respondent-level tests on
couple data use the couple as a cluster. ``docs/calibration.md`` shows each test's
type I error under realistic nulls (``make calibrate``).

=========================  ==================================================================
family                     test (primary row; secondary rows in brackets)
=========================  ==================================================================
complementarity            H1: standardized cross-partner path -- one partner's anxiety
                           predicting the other's avoidance beyond the first partner's own
                           avoidance -- in the I-SAT (indistinguishable) or saturated
                           model of both partners' true scores (error variances from
                           alpha), ML delta-method z test. [Per-role paths, the cross-partner
                           correlation, the reverse path.]
complementary_pairing      H1 in categories: a style pair (preoccupied-dismissing) beyond
                           homogamy on each dimension (log-linear; or quasi-independence),
                           likelihood-ratio test, ratio exp(gamma). [Against random
                           pairing.] Writes ``pairing_table``.
minmax_complementarity     H2: partner similarity of the min/max index: ICC (exact F) for
                           indistinguishable, r between the roles for distinguishable dyads
                           (default direction ``less``). [min-max couples against random
                           pairing.] Writes ``pairing_table``.
pairing_symmetry           H3: share of symmetric couples (min-min or max-max; or the same
                           style) with a Wilson interval, against random pairing
                           (re-pairing of roles, or matching of all partners). [Share of
                           complementary couples.] Writes ``pairing_table``.
correlation                H4 and any two score columns: Pearson or Spearman over
                           respondents, couple-clustered standard error when partners are in
                           the data; Fisher-z interval, optional correction for attenuation.
prevalence                 H5: goodness of fit of the style counts against a reference,
                           Rao-Scott corrected with couples; Cohen's w;
                           ``direction: less`` = equivalence test (w < w_margin).
                           Writes ``prevalence_table``.
transmission               H6: agreement of parent style and child Strange Situation code
                           beyond chance (Cohen's kappa), one-sided permutation of whole
                           families. [Concordance rate beside ``reference_rate``, no test.]
                           Writes ``transmission_table``.
dimensions_distinct        H7: |r(anxiety, avoidance)| < r_max (two one-sided Fisher-z
                           tests, couple-clustered). [One- against two-factor CFA.]
duration                   H8: partial correlation of security with relationship duration,
                           controlling for age (per couple by default).
group_difference           a score between two groups: Welch t and Hedges' g, or
                           Mann-Whitney U and the rank-biserial r; with couples a
                           couple-clustered (paired) difference or clustered Mann-Whitney.
apim                       actor and partner effects of x on y (per role, or equal for
                           indistinguishable dyads) with k = partner / actor; primary row the
                           ``effect`` (partner). Writes ``<id>_apim.csv``.
=========================  ==================================================================

``hypotheses.csv``
------------------
One row per declared hypothesis and cohort (the *primary* row), plus secondary
rows that carry the family's further statistics (their ``id`` is the
hypothesis id with a bracketed suffix, e.g. ``H1[r_cross]``;
``primary`` is False; they are descriptive: ``p_adjusted`` and ``supported``
are empty and they take no part in the correction). Columns
(:data:`HYPOTHESES_COLUMNS`): ``id, family, cohort, description, n,
statistic_name, statistic, df, p_value, p_adjusted, effect_size_name,
effect_size, ci_low, ci_high, direction, alpha, supported, null_value,
primary, note``. ``null_value`` is the value of the effect size under the
null hypothesis (0 for a correlation, the re-pairing expectation for a share,
1 for a ratio, ``reference_rate``, ``r_max``); ``note`` says what was excluded
and how p and the interval were obtained.

``supported`` = ``p_adjusted < alpha`` and the effect lies on the declared side
of ``null_value`` (two-sided: any side). Read it with the test in mind: for a
two-sided goodness-of-fit (prevalence) test ``supported`` means *the sample
differs from the reference*, not that it matches it; ``prevalence`` offers an
equivalence test (``direction: less``). Transmission is supported only by an
association of parent and child beyond chance, never by a concordance rate.

Correction
----------
``holm`` (default; Holm, 1979), ``bh`` (Benjamini & Hochberg, 1995) or ``none``,
over the primary rows of one cohort with a finite p-value
(:func:`adjust_pvalues`, equal to ``statsmodels.stats.multitest.multipletests``).
Holm and BH need one alpha for a cohort's hypotheses (mixed levels stop the run at
start-up); ``weighted_holm`` reads each declared alpha as that hypothesis' share of
the family-wise level (their sum; Holm, 1979, weighted form;
:func:`attachment_pipeline.inference.adjust_pvalues_weighted`).

Randomness
----------
Hypothesis ``id`` in cohort ``c`` uses the seed
``derive_seed(seed, c, id)`` (:func:`attachment_pipeline.reliability.derive_seed`),
so adding or removing a hypothesis does not change another's permutation
p-value. Permutation p-values are ``(1 + #{T* at least as extreme as T}) /
(1 + B)`` (Phipson & Smyth, 2010), so never 0; two-sided tests measure the
distance from the exact permutation mean.

References
----------
Griffin, D., & Gonzalez, R. (1995). Correlational analysis of dyad-level data in the
exchangeable case. Psychological Bulletin, 118, 430-439.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Statist., 6, 65-70.
Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B, 57, 289-300.
Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero. SAGMB, 9(1).
"""

from __future__ import annotations

import importlib

#: Public names and the submodule (or sibling statistics module) that defines them.
_EXPORTS = {
    "registry": ("DATA_KINDS", "COMMON_KEYS", "PREVALENCE_PRESETS", "THREE_CATEGORY_MAP", "Param", "FamilySpec",
                 "FAMILIES", "HypothesisTestingSettings", "reference_distribution", "hypotheses_schema",
                 "hypothesis_testing_schema", "check_testing_settings", "check_hypothesis", "check_hypotheses",
                 "check_alpha_levels", "required_columns", "cohort_capabilities", "plan_hypotheses"),
    "families": ("CohortData", "Dyads", "Row", "FamilyOutput", "transmission_table"),
    "runner": ("HYPOTHESES_COLUMNS", "HypothesisResult", "HypothesesOutput", "run_hypotheses"),
    "..inference": ("fisher_interval", "wilson_interval", "poisson_interval", "adjust_pvalues", "pearson_rows",
                    "CorrelationResult", "correlation_test", "equivalence_correlation_p", "GoodnessOfFit",
                    "goodness_of_fit", "PartialCorrelation", "partial_correlation", "GroupComparison",
                    "group_comparison", "adjust_pvalues_weighted", "_in_direction"),
    "..dyads": ("repairing_correlation_test", "DyadicCorrelation", "dyadic_correlation", "_pair_target",
                "repairing_count_test", "pairing_table"),
    "..vocabulary": ("DIRECTIONS", "CORRECTIONS"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(n for n in _WHERE if not n.startswith("_"))


def __getattr__(name: str):
    """Resolve public names lazily, so importing the light registry does not load numpy."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    where = _WHERE[name]
    target = f"attachment_pipeline.{where[2:]}" if where.startswith("..") else f"{__name__}.{where}"
    return getattr(importlib.import_module(target), name)
