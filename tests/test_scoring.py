"""Scoring against hand calculations."""

import numpy as np
import pandas as pd
import pytest

from attachment_pipeline.instruments import load_instrument
from attachment_pipeline.scoring import (
    minmax_typology, reverse_key, score_instrument, score_minmax, scoring_counts, subscale_means,
)

ECR_R = load_instrument("ecr_r")


def test_reverse_key_on_seven_and_five_points():
    a = pd.DataFrame([np.arange(36) % 7 + 1.0], columns=ECR_R.item_columns())
    k = reverse_key(a, ECR_R)
    assert k["ecr_r_9"].iloc[0] == 8 - a["ecr_r_9"].iloc[0]
    assert k["ecr_r_1"].iloc[0] == a["ecr_r_1"].iloc[0]
    five = load_instrument("ecr").with_scale(1, 5)
    b = pd.DataFrame([[2.0] * 36], columns=five.item_columns())
    assert reverse_key(b, five)["ecr_3"].iloc[0] == 4.0 and reverse_key(b, five)["ecr_1"].iloc[0] == 2.0


def test_subscale_means_hand_example():
    # anxiety items 1..18 answered 1..6 repeating; item 9 and 11 are reverse keyed
    row = np.full(36, 4.0)
    row[:18] = np.tile([1, 2, 3, 4, 5, 6], 3)
    a = pd.DataFrame([row], columns=ECR_R.item_columns())
    keyed, scores = score_instrument(a, ECR_R)
    expected = row[:18].copy()
    expected[8] = 8 - expected[8]    # item 9
    expected[10] = 8 - expected[10]  # item 11
    assert scores["ecr_r_anxiety"].iloc[0] == pytest.approx(expected.mean())
    assert scores["ecr_r_avoidance"].iloc[0] == 4.0


def test_minimum_answered_rule():
    row = np.full(36, 3.0)
    a = pd.DataFrame([row, row], columns=ECR_R.item_columns())
    a.iloc[0, :4] = np.nan   # 14 of 18 answered: 14 < 0.8 * 18 = 14.4 -> unscored
    a.iloc[1, :3] = np.nan   # 15 of 18 answered -> scored
    s = subscale_means(a, ECR_R, 0.8)
    assert np.isnan(s["ecr_r_anxiety"].iloc[0]) and s["ecr_r_anxiety"].iloc[1] == 3.0
    assert subscale_means(a, ECR_R, 0.75)["ecr_r_anxiety"].iloc[0] == 3.0  # 13.5 needed
    counts = scoring_counts(s, ECR_R)
    assert (counts["scored"], counts["partly_scored"], counts["unscored"]) == (1, 1, 0)


def test_minmax_three_formats_agree_on_equivalent_answers():
    # a respondent who recognises themself in 8 maximiser and 3 minimiser statements
    chose_max = np.array([1] * 8 + [0] * 3)
    ticks = load_instrument("minmax", "ticks")
    t = pd.DataFrame([np.r_[1 - chose_max, chose_max]], columns=ticks.item_columns(), dtype=float)
    likert = load_instrument("minmax", "likert")
    lk = pd.DataFrame([np.r_[1 + 4 * (1 - chose_max), 1 + 4 * chose_max]], columns=likert.item_columns(), dtype=float)
    fc = load_instrument("minmax", "forced_choice")
    f = pd.DataFrame([1 + chose_max], columns=fc.item_columns(), dtype=float)
    results = [score_minmax(x, i) for x, i in ((t, ticks), (lk, likert), (f, fc))]
    for r in results:
        assert r["minmax_maximiser"].iloc[0] == pytest.approx(8 / 11)
        assert r["minmax_minimiser"].iloc[0] == pytest.approx(3 / 11)
        assert r["minmax_index"].iloc[0] == pytest.approx(5 / 11)
        assert r["minmax_type"].iloc[0] == "maximiser"


def test_minmax_index_bounds_and_missing():
    ticks = load_instrument("minmax")
    x = pd.DataFrame([[1] * 11 + [0] * 11, [0] * 11 + [1] * 11, [np.nan] * 22], columns=ticks.item_columns(), dtype=float)
    s = score_minmax(x, ticks)
    assert s["minmax_index"].tolist()[:2] == [-1.0, 1.0]
    assert s["minmax_type"].tolist()[:2] == ["minimiser", "maximiser"]
    assert np.isnan(s["minmax_index"].iloc[2]) and pd.isna(s["minmax_type"].iloc[2])


def test_typology_band_edges():
    idx = pd.Series([-3 / 11 + 1 / 11, -0.18, 0.18, 2 / 11 + 0.0000001])
    assert minmax_typology(idx, 2 / 11).tolist() == ["minimiser", "balanced", "balanced", "maximiser"]
    with pytest.raises(ValueError, match="band must lie in"):
        minmax_typology(pd.Series([0.5]), 0.0)
