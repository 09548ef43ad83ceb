"""Couples frame, partner values, double entry, re-pairing permutations, child records."""

from itertools import permutations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from attachment_pipeline.dyads import (SSP_STYLE, STYLE_SSP, bootstrap_chunks, children_with_styles, couples_frame,
                                       double_entry, partner_values, permutation_chunks, primary_styles,
                                       style_codes)


def _scores():
    return pd.DataFrame(
        {"anx": [1.0, 2.0, 3.0, 4.0, 5.0, np.nan, 7.0],
         "avo": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5],
         "couple": ["c2", "c2", "c1", "c1", None, "c3", "c3"],
         "role": ["B", "A", "A", "B", None, "A", "B"]},
        index=pd.Index(["r1", "r2", "r3", "r4", "r5", "r6", "r7"], name="respondent_id"))


def test_couples_frame_roles_and_exclusion():
    cf = couples_frame(_scores(), "couple", "role", needed=["anx", "avo"])
    # sorted by couple id; a = role A; c3 excluded because r6 lacks anx
    assert cf.couples.values.tolist() == [["c1", "r3", "r4", "A", "B"], ["c2", "r2", "r1", "A", "B"]]
    assert cf.n_excluded == 1 and cf.n == 2 and cf.has_roles


def test_couples_frame_without_roles_uses_sorted_ids():
    cf = couples_frame(_scores(), "couple")
    assert cf.couples[["couple_id", "id_a", "id_b"]].values.tolist() == [
        ["c1", "r3", "r4"], ["c2", "r1", "r2"], ["c3", "r6", "r7"]]
    assert cf.n_excluded == 0 and not cf.has_roles
    assert cf.couples["role_a"].isna().all()


def test_couples_frame_does_not_depend_on_row_order():
    s = _scores()
    shuffled = s.sample(frac=1.0, random_state=3)
    a = couples_frame(s, "couple", "role", ["anx"]).couples
    b = couples_frame(shuffled, "couple", "role", ["anx"]).couples
    pd.testing.assert_frame_equal(a, b)


def test_roles_sorted_as_text():
    s = pd.DataFrame({"c": ["k", "k"], "role": ["male", "female"]}, index=["x", "y"])
    assert couples_frame(s, "c", "role").couples[["id_a", "role_a"]].values.tolist() == [["y", "female"]]


@pytest.mark.parametrize("couple, role, match", [
    (["c1", "c1", "c1", None], None, "3 member"),
    (["c1", "c1", "c2", None], None, "1 member"),
    ([None, None, None, None], None, "No couples"),
])
def test_couples_frame_errors(couple, role, match):
    s = pd.DataFrame({"c": couple, "r": role or [None] * 4}, index=list("abcd"))
    with pytest.raises(ValueError, match=match):
        couples_frame(s, "c", "r" if role else None)


def test_mixed_samples_keep_their_role_column():
    # a same-sex couple among different-sex ones: mixed, analysed as indistinguishable
    s = pd.DataFrame({"c": ["k1", "k1", "k2", "k2", "k3", "k3"],
                      "g": ["male", "female", "female", "female", "male", None]}, index=list("abcdef"))
    cf = couples_frame(s, "c", "g")
    assert cf.has_roles and cf.mixed and cf.roles == ()
    assert cf.couples[["id_a", "id_b"]].values.tolist() == [["b", "a"], ["c", "d"], ["f", "e"]]
    both = couples_frame(s.iloc[:2], "c", "g")
    assert both.roles == ("female", "male") and not both.mixed
    assert couples_frame(s, "c").roles == () and not couples_frame(s, "c").mixed


def test_couples_frame_missing_column():
    with pytest.raises(ValueError, match="lacks|need"):
        couples_frame(_scores(), "couple", "role", needed=["nope"])


def test_partner_values_and_double_entry():
    s = _scores()
    cf = couples_frame(s, "couple", "role", ["anx"])
    a, b = partner_values(s["anx"], cf)
    assert a.tolist() == [3.0, 2.0] and b.tolist() == [4.0, 1.0]
    x, y = double_entry(a, b, *partner_values(s["avo"], cf))
    # x = [anx_a, anx_b], y = [avo_b, avo_a]
    assert x.tolist() == [3.0, 2.0, 4.0, 1.0]
    assert y.tolist() == [4.5, 1.5, 3.5, 2.5]
    with pytest.raises(ValueError, match="not in the values"):
        partner_values(pd.Series([1.0], index=["zz"]), cf)


def test_permutation_chunks_are_permutations_reproducible_and_uniform():
    chunks = list(permutation_chunks(5, 23, seed=7, max_cells=50))
    assert [c.shape[0] for c in chunks] == [10, 10, 3]
    allp = np.concatenate(chunks)
    assert (np.sort(allp, axis=1) == np.arange(5)).all()
    again = np.concatenate(list(permutation_chunks(5, 23, seed=7, max_cells=50)))
    assert (allp == again).all()
    # uniform over the 120 permutations: chi-square goodness of fit on 24000 draws
    big = np.concatenate(list(permutation_chunks(5, 24000, seed=1)))
    code = (big * 5 ** np.arange(5)).sum(axis=1)
    counts = np.unique(code, return_counts=True)[1]
    assert len(counts) == 120
    assert stats.chisquare(counts).pvalue > 0.001


def test_permutation_chunks_many_sets_shape():
    shapes = [c.shape for c in permutation_chunks(4, 5, seed=0, max_cells=24, n_sets=3)]
    assert shapes == [(3, 2, 4), (3, 2, 4), (3, 1, 4)]


def test_bootstrap_chunks():
    b = np.concatenate(list(bootstrap_chunks(6, 1000, seed=2, max_cells=600)))
    assert b.shape == (1000, 6) and b.min() == 0 and b.max() == 5
    # each index drawn with probability 1/6
    assert abs((b == 0).mean() - 1 / 6) < 0.01
    with pytest.raises(ValueError, match="n_bootstrap"):
        list(bootstrap_chunks(3, 0, seed=0))


def test_primary_styles_filters_method_and_instrument():
    t = pd.DataFrame({"respondent_id": ["a", "b", "a", "a"], "instrument": ["ecr_r", "ecr_r", "ecr_r", "ecr"],
                      "method": ["midpoint", "midpoint", "median", "midpoint"],
                      "style": ["secure", "fearful", "dismissing", "preoccupied"]})
    assert primary_styles(t, "midpoint", "ecr_r").to_dict() == {"a": "secure", "b": "fearful"}
    with pytest.raises(ValueError, match="more than one"):
        primary_styles(t, "midpoint")
    with pytest.raises(ValueError, match="no rows for method 'kmeans'"):
        primary_styles(t, "kmeans")


def test_children_with_styles_mapping_and_exclusion():
    ch = pd.DataFrame({"parent_id": ["p1", "p2", "p3", "p1"], "child_id": ["k1", "k2", "k3", "k4"],
                       "ssp_code": ["A", "B", "C", "d"]})
    styles = pd.Series({"p1": "dismissing", "p2": "fearful"})
    r = children_with_styles(ch, styles)
    assert r.n_excluded == 1
    assert r.records[["child_id", "ssp_code", "child_style", "parent_style"]].values.tolist() == [
        ["k1", "A", "dismissing", "dismissing"], ["k2", "B", "secure", "fearful"], ["k4", "D", "fearful", "dismissing"]]
    with pytest.raises(ValueError, match="A, B, C or D"):
        children_with_styles(ch.assign(ssp_code=["A", "B", "X", "D"]), styles)
    with pytest.raises(ValueError, match="four profiles"):
        children_with_styles(ch, pd.Series({"p1": "profile_1"}))


def test_ssp_mapping_is_the_seed_mapping():
    assert SSP_STYLE == {"B": "secure", "A": "dismissing", "C": "preoccupied", "D": "fearful"}
    assert all(SSP_STYLE[STYLE_SSP[s]] == s for s in STYLE_SSP)


def test_style_codes():
    assert style_codes(["secure", "preoccupied", "dismissing", "fearful"]).tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="Unknown style"):
        style_codes(["calm"])


def test_permutation_mean_of_cross_products_matches_enumeration():
    # sanity of the re-pairing model: enumerating all 4! matchings
    xa, yb = np.array([1.0, 2, 4, 8]), np.array([3.0, 1, 0, 5])
    perms = np.array(list(permutations(range(4))))
    t = (xa * yb[perms]).sum(axis=1)
    assert np.isclose(t.mean(), xa.sum() * yb.mean())
