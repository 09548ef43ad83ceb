"""The calibration (quick version of `make calibrate`) and its agreement with the hypothesis families.

The full calibration (1000 data sets of 150 couples per scenario) is a command
whose table is docs/calibration.md. Here every pipeline test runs on 200 data sets
of 150 couples under each null it is designed for; the rejection rate must lie
within 3.5 binomial standard errors of alpha (sqrt(.05 * .95 / 200) = .0154: an
interval of about .00-.104), which catches a test that ignores the pairing
(e.g. the old binomial transmission test rejects in almost every data set) while a
nominal test fails by chance in fewer than 1 in 2000 runs per row. Exact tests may
sit below.
"""

import math

import pandas as pd
import pytest

from attachment_pipeline import calibrate as cal
from attachment_pipeline import hypotheses as hy
from attachment_pipeline.instruments import load_instrument
from attachment_pipeline.vocabulary import STYLES

N_SIM, N_COUPLES = 200, 150
SE = math.sqrt(0.05 * 0.95 / N_SIM)
EXACT = {"H3 symmetric couples", "H6 transmission (family permutation)"}


@pytest.fixture(scope="module")
def quick():
    tests = [t for t, spec in cal.TESTS.items() if spec.in_pipeline]
    designed = sorted({sc for t in tests for sc in cal.TESTS[t].designed})
    table = cal.calibration_table(tests, n_sim=N_SIM, n_couples=N_COUPLES, n_singles=100, scenarios=designed,
                                  seed=20261201)
    return table[table.designed_null]


def test_every_pipeline_test_is_calibrated_under_its_designed_nulls(quick):
    assert set(quick.test) == {t for t, s in cal.TESTS.items() if s.in_pipeline}
    for _, r in quick.iterrows():
        assert r.rejection_rate <= 0.05 + 3.5 * SE, (r.test, r.scenario, r.rejection_rate)
        if r.test not in EXACT:
            assert r.rejection_rate >= 0.05 - 3.5 * SE, (r.test, r.scenario, r.rejection_rate)


def test_the_old_tests_fail_where_the_issue_said():
    t = cal.calibration_table(["before: transmission, binomial test of concordance vs .70",
                               "H6 transmission (family permutation)"], n_sim=60, n_couples=N_COUPLES,
                              scenarios=["families"], seed=3)
    rate = t.set_index("test").rejection_rate
    assert rate["before: transmission, binomial test of concordance vs .70"] > 0.9  # "supported" when independent
    assert rate["H6 transmission (family permutation)"] < 0.1


def test_markdown_and_columns():
    t = cal.calibration_table(["partner similarity (ICC)"], n_sim=20, n_couples=40,
                              scenarios=["independent", "similarity"], seed=1)
    assert tuple(t.columns) == cal.CALIBRATION_COLUMNS
    assert list(t.kind) == ["null", "effect"] and list(t.verdict)[1] == "power"
    md = cal.markdown_table(t)
    assert md.startswith("# Calibration") and "| partner similarity (ICC) | independent | yes |" in md


def _cohort_data(d: cal.SimulatedSets, s: int = 0) -> hy.CohortData:
    """One simulated data set as the hypothesis families see it (roles A/B, alphas in reliability.csv)."""
    n = d.anx_a.shape[1]
    rows = []
    for i in range(n):
        for who, sfx in (("A", "a"), ("B", "b")):
            rows.append({"respondent_id": f"R{i}{who}", "couple_id": f"C{i}", "partner": who,
                         "ecr_r_anxiety": getattr(d, f"anx_{sfx}")[s, i],
                         "ecr_r_avoidance": getattr(d, f"avo_{sfx}")[s, i],
                         "minmax_index": getattr(d, f"mm_{sfx}")[s, i],
                         "minmax_type": ["minimiser", "balanced", "maximiser"][getattr(d, f"type_{sfx}")[s, i]],
                         "_style": STYLES[getattr(d, f"style_{sfx}")[s, i]]})
    scores = pd.DataFrame(rows).set_index("respondent_id")
    cl = pd.DataFrame({"respondent_id": scores.index, "instrument": "ecr_r", "method": "midpoint",
                       "style": scores.pop("_style")})
    rel = pd.DataFrame({"instrument": "ecr_r", "subscale": ["anxiety", "avoidance"], "group_column": "all",
                        "alpha": [d.alpha_anx[s], d.alpha_avo[s]]})
    return hy.CohortData("sim", scores, cl, couple_column="couple_id", role_column="partner",
                         instruments=(load_instrument("ecr_r"),), reliability=rel)


@pytest.mark.parametrize("scenario", ["independent", "role_difference"])
def test_calibration_runs_what_the_families_run(scenario):
    """The batched tests of the calibration give the families' p-values on the same data set."""
    d = cal.simulate_sets(cal.SCENARIOS[scenario], 120, 0, 2, seed=9)
    entries = [{"id": "H1", "family": "complementarity"},
               {"id": "H1b", "family": "complementary_pairing"},
               {"id": "H1c", "family": "apim", "x": "ecr_r_anxiety", "y": "ecr_r_avoidance"},
               {"id": "H2", "family": "minmax_complementarity"}]
    out = hy.run_hypotheses(entries, _cohort_data(d, 1), {"n_permutations": 99, "n_bootstrap": 0}, seed=1)
    p = out.table.set_index("id").p_value
    for hid, fun in (("H1", cal.pvalues_path), ("H1b", cal.pvalues_pairing), ("H1c", cal.pvalues_apim_partner),
                     ("H2", cal.pvalues_minmax_icc)):
        assert fun(d, 0)[1] == pytest.approx(p[hid], rel=1e-9), hid
    if scenario == "role_difference":
        assert "distinguishable" in out.table.set_index("id").note["H1"]
