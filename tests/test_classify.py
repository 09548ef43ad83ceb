"""Tests for attachment_pipeline.classify: styles from the two dimensions, agreement, min/max by style."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from sklearn.mixture import GaussianMixture
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

from attachment_pipeline import classify as C
from attachment_pipeline.instruments import load_instrument

SCALE = {"scale_min": 1, "scale_max": 7}


def frame(anx, avo, ids=None):
    idx = pd.Index(ids if ids is not None else range(1, len(anx) + 1), name="id")
    return pd.DataFrame({"anxiety": anx, "avoidance": avo}, index=idx, dtype=float)


def blobs(n_per=60, sd=0.15, seed=0, centre=4.0, offset=1.5):
    """Four tight blobs at the quadrant prototypes (raw 1-7 scale), true style per row."""
    rng = np.random.default_rng(seed)
    parts, truth = [], []
    for code, (a, v) in enumerate(C.PROTOTYPES):
        parts.append(rng.normal([centre + offset * a, centre + offset * v], sd, size=(n_per, 2)))
        truth += [C.STYLES[code]] * n_per
    x = np.vstack(parts)
    ids = [f"r{i:03d}" for i in range(len(x))]
    return frame(x[:, 0], x[:, 1], ids), pd.Series(truth, index=pd.Index(ids, name="id"))


# ---------------------------------------------------------------- constants

def test_styles_and_labels():
    assert C.STYLES == ("secure", "preoccupied", "dismissing", "fearful")
    assert C.STYLE_LABELS["nl"] == {"secure": "veilig", "preoccupied": "gepreoccupeerd",
                                    "dismissing": "vermijdend", "fearful": "gedesorganiseerd"}
    assert set(C.STYLE_LABELS["en"]) == set(C.STYLES)
    # prototypes as (anxiety, avoidance)
    assert C.PROTOTYPES.tolist() == [[-1, -1], [1, -1], [-1, 1], [1, 1]]


# ---------------------------------------------------------------- midpoint

def test_midpoint_hand_example_and_certainty():
    # anxiety, avoidance on 1-7 (midpoint 4)
    s = frame([2.0, 6.0, 3.0, 5.0, 4.0], [2.0, 3.0, 6.0, 7.0, 1.0])
    out = C.classify(s, "midpoint", **SCALE)
    assert out["style"].tolist() == ["secure", "preoccupied", "dismissing", "fearful", "secure"]
    # certainty = min(|anx - 4| / sd_anx, |avo - 4| / sd_avo), sample SDs (ddof=1)
    sd_anx = np.sqrt(((np.array([2, 6, 3, 5, 4]) - 4.0) ** 2).sum() / 4)  # sqrt(10/4)
    sd_avo = np.sqrt(((np.array([2, 3, 6, 7, 1]) - 3.8) ** 2).sum() / 4)  # sqrt(26.8/4)
    assert sd_anx == pytest.approx(np.sqrt(2.5))
    assert sd_avo == pytest.approx(np.sqrt(6.7))
    expected = [min(2 / sd_anx, 2 / sd_avo), min(2 / sd_anx, 1 / sd_avo), min(1 / sd_anx, 2 / sd_avo),
                min(1 / sd_anx, 3 / sd_avo), 0.0]
    np.testing.assert_allclose(out["certainty"].to_numpy(), expected, rtol=1e-12)
    assert out.index.tolist() == [1, 2, 3, 4, 5]


def test_midpoint_five_point_scale_uses_three():
    s = frame([2.9, 3.1, 3.0], [3.1, 2.9, 3.0])
    out = C.classify(s, "midpoint", scale_min=1, scale_max=5)
    assert out["style"].tolist() == ["dismissing", "preoccupied", "secure"]
    assert C.cut_points(s, "midpoint", scale_min=1, scale_max=5) == {"anxiety": 3.0, "avoidance": 3.0}
    # an even number of points: the midpoint lies between two answers (1-6: 3.5)
    s6 = frame([3.4, 3.6, 3.5], [3.6, 3.4, 3.5])
    assert C.classify(s6, "midpoint", scale_min=1, scale_max=6)["style"].tolist() == [
        "dismissing", "preoccupied", "secure"]


def test_tie_rule():
    s = frame([4.0, 4.0, 3.0, 4.0], [4.0, 2.0, 4.0, 5.0])
    low = C.classify(s, "midpoint", **SCALE, ties="low")["style"].tolist()
    high = C.classify(s, "midpoint", **SCALE, ties="high")["style"].tolist()
    assert low == ["secure", "secure", "secure", "dismissing"]
    assert high == ["fearful", "preoccupied", "dismissing", "fearful"]
    # default is "low"
    assert C.classify(s, "midpoint", **SCALE)["style"].tolist() == low


def test_tie_tolerates_rounding_noise():
    s = frame([4.0 - 4e-16, 4.0 + 1e-12, 4.0 + 1e-6], [1.0, 1.0, 1.0])
    assert C.classify(s, "midpoint", **SCALE, ties="low")["style"].tolist() == [
        "secure", "secure", "preoccupied"]
    assert C.classify(s, "midpoint", **SCALE, ties="high")["style"].tolist() == [
        "preoccupied", "preoccupied", "preoccupied"]


# ---------------------------------------------------------------- median

def test_median_hand_example_and_ties():
    s = frame([1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 1.0, 4.0, 2.0, 3.0])
    assert C.cut_points(s, "median", **SCALE) == {"anxiety": 3.0, "avoidance": 3.0}
    low = C.classify(s, "median", **SCALE)
    assert low["style"].tolist() == ["dismissing", "secure", "dismissing", "preoccupied", "preoccupied"]
    high = C.classify(s, "median", **SCALE, ties="high")
    assert high["style"].tolist() == ["dismissing", "secure", "fearful", "preoccupied", "fearful"]
    sd = np.sqrt(2.5)  # both columns are a permutation of 1..5
    np.testing.assert_allclose(low["certainty"], [min(2, 2) / sd, min(1, 2) / sd, 0, min(1, 1) / sd, 0])


def test_median_uses_complete_cases_only():
    s = frame([1.0, 2.0, 6.0, 7.0], [1.0, 2.0, 3.0, np.nan])
    # median anxiety over the three complete rows is 2, not 4
    assert C.cut_points(s, "median", **SCALE)["anxiety"] == 2.0
    out = C.classify(s, "median", **SCALE)
    assert out.index.tolist() == [1, 2, 3]


# ---------------------------------------------------------------- zscore

REF = {"anxiety": {"mean": 3.5, "sd": 1.0}, "avoidance": {"mean": 3.0, "sd": 1.2}}


def test_zscore_hand_example():
    s = frame([3.4, 3.6, 5.0, 2.0], [2.9, 3.1, 4.5, 6.0])
    out = C.classify(s, "zscore", **SCALE, reference=REF)
    assert out["style"].tolist() == ["secure", "fearful", "fearful", "dismissing"]
    # cut = 1 SD: cut-offs 4.5 (anxiety) and 4.2 (avoidance)
    assert C.cut_points(s, "zscore", **SCALE, reference=REF, cut=1.0) == pytest.approx(
        {"anxiety": 4.5, "avoidance": 4.2})
    out1 = C.classify(s, "zscore", **SCALE, reference=REF, cut=1.0)
    assert out1["style"].tolist() == ["secure", "secure", "fearful", "dismissing"]
    # certainty in *sample* SD units
    sd_anx, sd_avo = np.std([3.4, 3.6, 5.0, 2.0], ddof=1), np.std([2.9, 3.1, 4.5, 6.0], ddof=1)
    assert out1["certainty"].iloc[2] == pytest.approx(min(0.5 / sd_anx, 0.3 / sd_avo))
    # negative cut, ties high: the score at the cut-off is high
    s2 = frame([3.0], [3.0])
    assert C.classify(s2, "zscore", **SCALE, reference=REF, cut=-0.5, ties="high")["style"].iloc[0] == "fearful"
    assert C.classify(s2, "zscore", **SCALE, reference=REF, cut=-0.5, ties="low")["style"].iloc[0] == "dismissing"


@pytest.mark.parametrize("reference", [
    None,
    {"anxiety": {"mean": 3.0, "sd": 1.0}},
    {"anxiety": {"mean": 3.0, "sd": 0.0}, "avoidance": {"mean": 3.0, "sd": 1.0}},
    {"anxiety": {"mean": "x", "sd": 1.0}, "avoidance": {"mean": 3.0, "sd": 1.0}},
])
def test_zscore_bad_reference(reference):
    with pytest.raises(ValueError, match="reference"):
        C.classify(frame([3.0], [3.0]), "zscore", **SCALE, reference=reference)


# ---------------------------------------------------------------- bad input and missing scores

def test_bad_arguments():
    s = frame([3.0, 5.0], [2.0, 6.0])
    with pytest.raises(ValueError, match="Unknown classification method"):
        C.classify(s, "quartile", **SCALE)
    with pytest.raises(ValueError, match="ties"):
        C.classify(s, "midpoint", **SCALE, ties="middle")
    with pytest.raises(ValueError, match="scale_min < scale_max"):
        C.classify(s, "midpoint", scale_min=7, scale_max=1)
    with pytest.raises(ValueError, match="outside the response scale 1..5"):
        C.classify(s, "midpoint", scale_min=1, scale_max=5)
    with pytest.raises(ValueError, match="lacks column"):
        C.classify(s.rename(columns={"anxiety": "anx"}), "midpoint", **SCALE)
    with pytest.raises(ValueError, match="unique"):
        C.classify(frame([3.0, 5.0], [2.0, 6.0], ids=["a", "a"]), "midpoint", **SCALE)
    with pytest.raises(ValueError, match="DataFrame"):
        C.classify(s.to_numpy(), "midpoint", **SCALE)
    with pytest.raises(ValueError, match="infinite"):
        C.classify(frame([np.inf], [3.0]), "midpoint", **SCALE)
    with pytest.raises(ValueError, match="at least 4"):
        C.classify(s, "kmeans", **SCALE)
    with pytest.raises(ValueError, match="more than once"):
        C.classify_all(s, ["midpoint", "midpoint"], instrument="ecr_r", **SCALE)


def test_missing_scores_are_skipped_and_counted():
    s = frame([2.0, np.nan, 5.0, 6.0, np.nan], [3.0, 4.0, np.nan, 6.0, np.nan], ids=list("abcde"))
    table = C.classify_all(s, ["midpoint", "median"], instrument="ecr_r", **SCALE)
    assert table["id"].tolist() == ["a", "d", "a", "d"]
    cov = C.classification_coverage(s, table)
    assert cov.to_dict("list") == {"method": ["midpoint", "median"], "n_respondents": [5, 5],
                                   "n_classified": [2, 2], "n_skipped": [3, 3]}
    empty = C.classify(frame([np.nan], [np.nan]), "kmeans", **SCALE)
    assert empty.empty and list(empty.columns) == ["style", "certainty"]


def test_classify_all_layout():
    s = frame([2.0, 6.0], [3.0, 6.5], ids=[7, 9])
    t = C.classify_all(s, ["midpoint", "median"], instrument="ecr_r", **SCALE)
    assert list(t.columns) == ["id", "instrument", "method", "anxiety", "avoidance", "style", "certainty"]
    assert t["method"].tolist() == ["midpoint", "midpoint", "median", "median"]
    assert (t["instrument"] == "ecr_r").all()
    assert t["anxiety"].tolist() == [2.0, 6.0, 2.0, 6.0]
    assert t["style"].tolist() == ["secure", "fearful", "secure", "fearful"]


# ---------------------------------------------------------------- k-means

def test_match_prototypes_every_order():
    centres = np.array([[-1.2, -0.9], [1.1, -1.0], [-0.8, 1.3], [0.9, 1.1]])  # in STYLES order
    for perm in itertools.permutations(range(4)):
        perm = list(perm)
        assert C.match_prototypes(centres[perm]).tolist() == perm
    with pytest.raises(ValueError, match="4 centres"):
        C.match_prototypes(centres[:3])


def test_match_prototypes_is_one_to_one():
    # two centres near the secure prototype: the assignment still uses each style once
    centres = np.array([[-1.0, -1.0], [-0.8, -0.6], [0.2, 1.5], [1.5, 0.3]])
    codes = C.match_prototypes(centres)
    assert sorted(codes.tolist()) == [0, 1, 2, 3]
    assert codes[0] == 0


@pytest.mark.parametrize("seed", [0, 1, 20261124])
def test_kmeans_names_planted_blobs_in_any_order(seed):
    s, truth = blobs(seed=3)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(s))
    out = C.classify(s.iloc[perm], "kmeans", **SCALE, seed=seed)
    assert out.index.tolist() == s.index[perm].tolist()
    pd.testing.assert_series_equal(out["style"].reindex(truth.index), truth, check_names=False,
                                   check_dtype=False)


def test_kmeans_unequal_blobs_and_certainty():
    # blobs not centred on the scale midpoint, different sizes; names follow the quadrants
    rng = np.random.default_rng(5)
    centres = {"secure": (2.0, 1.8), "preoccupied": (4.5, 2.0), "dismissing": (2.2, 4.0), "fearful": (4.8, 4.4)}
    sizes = {"secure": 80, "preoccupied": 30, "dismissing": 40, "fearful": 20}
    x = np.vstack([rng.normal(centres[k], 0.2, size=(sizes[k], 2)) for k in C.STYLES])
    truth = np.repeat(C.STYLES, [sizes[k] for k in C.STYLES])
    s = frame(x[:, 0], x[:, 1])
    out = C.classify(s, "kmeans", **SCALE, seed=11)
    assert out["style"].tolist() == truth.tolist()
    # certainty: margin between the two nearest centroid distances in sample-SD units,
    # recomputed here from the true groups (k-means centroids = group means when separated)
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    cents = np.array([z[truth == k].mean(axis=0) for k in C.STYLES])
    d = np.sort(np.linalg.norm(z[:, None, :] - cents[None], axis=2), axis=1)
    np.testing.assert_allclose(out["certainty"].to_numpy(), d[:, 1] - d[:, 0], rtol=1e-9)


# ---------------------------------------------------------------- gmm

def test_gmm_chooses_four_on_four_blobs():
    s, truth = blobs(n_per=50, sd=0.25, seed=7)
    perm = np.random.default_rng(2).permutation(len(s))
    profiles, bic = C.gmm_profiles(s.iloc[perm], seed=3)
    assert bic["n_components"].tolist() == [1, 2, 3, 4, 5, 6]
    assert bic.loc[bic["selected"], "n_components"].tolist() == [4]
    assert int(bic["bic"].idxmin()) == 3
    assert profiles["style"].tolist() == list(C.STYLES)
    assert profiles["profile"].tolist() == [1, 2, 3, 4]
    assert profiles["n"].tolist() == [50, 50, 50, 50]
    assert profiles["weight"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(profiles[["anxiety_mean", "avoidance_mean"]].to_numpy(),
                               4.0 + 1.5 * C.PROTOTYPES, atol=0.1)
    out = C.classify(s.iloc[perm], "gmm", **SCALE, seed=3)
    pd.testing.assert_series_equal(out["style"].reindex(truth.index), truth, check_names=False,
                                   check_dtype=False)
    assert ((out["certainty"] > 0.99) & (out["certainty"] <= 1.0)).all()


def test_gmm_bic_matches_sklearn_on_raw_scores():
    s, _ = blobs(n_per=40, sd=0.3, seed=9)
    _, bic = C.gmm_profiles(s, seed=0, n_init=3, max_components=5)
    x = s.to_numpy()
    for k in (1, 4):  # unimodal and the true model: EM optimum is unique, so fits agree
        ref = GaussianMixture(k, covariance_type="full", n_init=3, random_state=0, max_iter=1000,
                              reg_covar=1e-6).fit(x).bic(x)
        assert bic.loc[bic["n_components"] == k, "bic"].item() == pytest.approx(ref, rel=1e-5)
    assert bic["n_parameters"].tolist() == [5, 11, 17, 23, 29]


def test_gmm_chooses_one_on_a_single_blob():
    rng = np.random.default_rng(4)
    x = rng.multivariate_normal([3.5, 3.0], [[1.0, 0.2], [0.2, 0.8]], size=400).clip(1, 7)
    s = frame(x[:, 0], x[:, 1])
    profiles, bic = C.gmm_profiles(s, seed=1, n_init=2)
    assert bic.loc[bic["selected"], "n_components"].item() == 1
    assert profiles[["profile", "n", "style"]].values.tolist() == [[1, 400, "profile_1"]]
    assert profiles["anxiety_mean"].item() == pytest.approx(x[:, 0].mean())
    assert profiles["avoidance_mean"].item() == pytest.approx(x[:, 1].mean())
    with pytest.warns(UserWarning, match="not four"):
        out = C.classify(s, "gmm", **SCALE, seed=1, n_init=2)
    assert (out["style"] == "profile_1").all()
    np.testing.assert_allclose(out["certainty"], 1.0)


# ---------------------------------------------------------------- Brennan et al. (1998)

def test_brennan1998_hand_computed_example():
    # anxiety 2.5, avoidance 1.5 on the ECR 1-7 scale, by hand with the published coefficients
    anx, avo = 2.5, 1.5
    secure = 1.5 * 3.2893296 + 2.5 * 5.4725318 - 11.5307833      # = 7.0845406
    fearful = 1.5 * 7.2371075 + 2.5 * 8.1776448 - 32.3553266     # = -1.05555335
    preoccupied = 1.5 * 3.9246754 + 2.5 * 9.7102446 - 28.4573220  # = 1.70530260
    dismissing = 1.5 * 7.3654621 + 2.5 * 4.9392039 - 22.2281088  # = 1.16809410
    assert (secure, preoccupied, dismissing, fearful) == pytest.approx(
        (7.0845406, 1.7053026, 1.1680941, -1.05555335), abs=1e-7)
    f = C.brennan1998_scores([anx], [avo])[0]
    np.testing.assert_allclose(f, [secure, preoccupied, dismissing, fearful], rtol=1e-12)
    out = C.classify(frame([anx], [avo]), "brennan1998", **SCALE, instrument="ecr")
    assert out["style"].item() == "secure"
    post = np.exp(f) / np.exp(f).sum()
    assert out["certainty"].item() == pytest.approx(post[0])
    assert post[0] == pytest.approx(0.99, abs=0.01)


def test_brennan1998_each_style_and_instrument_object():
    # (anxiety, avoidance) points well inside each region
    s = frame([1.5, 6.0, 1.5, 6.0], [1.5, 1.5, 6.0, 6.0])
    ecr = load_instrument("ecr")
    out = C.classify(s, "brennan1998", **SCALE, instrument=ecr)
    assert out["style"].tolist() == ["secure", "preoccupied", "dismissing", "fearful"]
    f = C.brennan1998_scores(s["anxiety"], s["avoidance"])
    assert out["style"].tolist() == [C.STYLES[i] for i in f.argmax(axis=1)]
    np.testing.assert_allclose(out["certainty"], np.exp(f).max(axis=1) / np.exp(f).sum(axis=1))


@pytest.mark.parametrize("instrument,scale", [("ecr", (1, 5)), ("ecr_r", (1, 7)), (None, (1, 7)),
                                              ("ecr_r", (1, 5))])
def test_brennan1998_refused(instrument, scale):
    s = frame([2.0], [2.0])
    with pytest.raises(ValueError, match="brennan1998"):
        C.classify(s, "brennan1998", scale_min=scale[0], scale_max=scale[1], instrument=instrument)
    with pytest.raises(ValueError, match="brennan1998"):
        C.classify_all(s, ["midpoint", "brennan1998"], instrument=instrument,
                       scale_min=scale[0], scale_max=scale[1])


# ---------------------------------------------------------------- determinism

def test_same_seed_same_table():
    s, _ = blobs(n_per=25, sd=0.6, seed=12)  # overlapping: results depend on the seed's starts
    kw = dict(instrument="ecr", **SCALE, seed=42, reference=REF)
    methods = ["midpoint", "median", "zscore", "kmeans", "gmm", "brennan1998"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t1 = C.classify_all(s, methods, **kw)
        t2 = C.classify_all(s, methods, **kw)
        t3 = C.classify_all(s.iloc[::-1], methods, **kw)
    pd.testing.assert_frame_equal(t1, t2)
    # row order of the input does not change anyone's class
    key = ["method", "id"]
    pd.testing.assert_frame_equal(t1.sort_values(key).reset_index(drop=True),
                                  t3.sort_values(key).reset_index(drop=True))
    p1 = C.gmm_profiles(s, seed=42)
    p2 = C.gmm_profiles(s, seed=42)
    pd.testing.assert_frame_equal(p1[0], p2[0])
    pd.testing.assert_frame_equal(p1[1], p2[1])


# ---------------------------------------------------------------- counts

def test_style_counts_includes_zero_rows():
    t = pd.DataFrame({"id": [1, 2, 3, 1, 2, 3], "method": ["midpoint"] * 3 + ["gmm"] * 3,
                      "style": ["secure", "secure", "fearful", "profile_1", "profile_2", "profile_1"]})
    out = C.style_counts(t)
    assert list(out.columns) == ["method", "style", "n", "percent"]
    mid = out[out["method"] == "midpoint"]
    assert mid["style"].tolist() == list(C.STYLES) + ["profile_1", "profile_2"]
    assert mid["n"].tolist() == [2, 0, 0, 1, 0, 0]
    np.testing.assert_allclose(mid["percent"], [200 / 3, 0, 0, 100 / 3, 0, 0])
    gmm = out[out["method"] == "gmm"]
    assert gmm["n"].tolist() == [0, 0, 0, 0, 2, 1]
    assert out.groupby("method")["percent"].sum().tolist() == pytest.approx([100.0, 100.0])


# ---------------------------------------------------------------- agreement

def test_cohen_kappa_hand_example():
    # 2x2 table (rater a rows, b columns): [[f,f]=1, [f,s]=1, [s,f]=0, [s,s]=3], n = 5
    # p_o = .8, p_e = .4*.2 + .6*.8 = .56, kappa = .24/.44
    r = C.cohen_kappa(["s", "s", "f", "f", "s"], ["s", "s", "f", "s", "s"])
    assert r.kappa == pytest.approx(0.24 / 0.44)
    k = 0.24 / 0.44
    a = 0.2 * (1 - 0.6 * (1 - k)) ** 2 + 0.6 * (1 - 1.4 * (1 - k)) ** 2
    b = (1 - k) ** 2 * 0.2 * (0.2 + 0.6) ** 2
    c = (k - 0.56 * (1 - k)) ** 2
    assert r.kappa_se == pytest.approx(np.sqrt((a + b - c) / (5 * 0.44 ** 2)))
    assert r.kappa_ci_low == pytest.approx(k - 1.959963985 * r.kappa_se)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cohen_kappa_vs_sklearn_and_statsmodels(seed):
    rng = np.random.default_rng(seed)
    a = rng.choice(C.STYLES, size=300, p=[0.5, 0.2, 0.2, 0.1])
    b = np.where(rng.random(300) < 0.6, a, rng.choice(C.STYLES, size=300))
    r = C.cohen_kappa(a, b)
    assert r.kappa == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    assert r.percent_agreement == pytest.approx(100 * (a == b).mean())
    table = pd.crosstab(pd.Categorical(a, C.STYLES), pd.Categorical(b, C.STYLES), dropna=False).to_numpy()
    ref = sm_cohens_kappa(table)
    assert r.kappa_se == pytest.approx(ref.std_kappa, rel=1e-10)
    assert (r.kappa_ci_low, r.kappa_ci_high) == pytest.approx((ref.kappa_low, ref.kappa_upp), rel=1e-10)


def test_kappa_se_matches_simulation():
    # sampling SD of kappa over repeated samples from a known joint distribution ~ the asymptotic SE
    rng = np.random.default_rng(8)
    p = np.array([[0.30, 0.05, 0.03, 0.02], [0.04, 0.15, 0.01, 0.02],
                  [0.03, 0.01, 0.16, 0.03], [0.01, 0.02, 0.02, 0.10]])
    n, reps = 400, 400
    cells = rng.choice(16, size=(reps, n), p=p.ravel())
    kappas = [C.cohen_kappa(c // 4, c % 4).kappa for c in cells]
    ses = [C.cohen_kappa(c // 4, c % 4).kappa_se for c in cells[:20]]
    assert np.std(kappas, ddof=1) == pytest.approx(np.mean(ses), rel=0.12)


def test_agreement_table_vs_sklearn():
    rng = np.random.default_rng(3)
    ids = np.arange(100)
    a = rng.choice(C.STYLES, size=100)
    b = np.where(rng.random(100) < 0.5, a, rng.choice(C.STYLES, size=100))
    c = rng.choice(C.STYLES, size=100)
    t = pd.concat([
        pd.DataFrame({"id": ids, "method": "midpoint", "style": a}),
        pd.DataFrame({"id": ids[10:], "method": "kmeans", "style": b[10:]}),  # 10 not classified
        pd.DataFrame({"id": ids, "method": "median", "style": c}),
    ], ignore_index=True)
    out = C.agreement(t)
    assert list(out.columns) == ["method_1", "method_2", "n", "percent_agreement", "kappa", "kappa_se",
                                 "kappa_ci_low", "kappa_ci_high"]
    assert out[["method_1", "method_2"]].values.tolist() == [
        ["midpoint", "kmeans"], ["midpoint", "median"], ["kmeans", "median"]]
    assert out["n"].tolist() == [90, 100, 90]
    assert out["kappa"].tolist() == pytest.approx([cohen_kappa_score(a[10:], b[10:]),
                                                   cohen_kappa_score(a, c),
                                                   cohen_kappa_score(b[10:], c[10:])], abs=1e-12)
    assert out["percent_agreement"].iloc[0] == pytest.approx(100 * (a[10:] == b[10:]).mean())
    assert C.agreement(t[t["method"] == "median"]).empty


def test_agreement_with_profiles_is_not_computed():
    t = pd.DataFrame({"id": [1, 2, 3, 1, 2, 3], "method": ["midpoint"] * 3 + ["gmm"] * 3,
                      "style": ["secure", "fearful", "secure", "profile_1", "profile_1", "profile_1"]})
    row = C.agreement(t).iloc[0]
    assert row["n"] == 3
    assert row[["percent_agreement", "kappa", "kappa_se", "kappa_ci_low", "kappa_ci_high"]].isna().all()


def test_kappa_undefined_when_no_variation():
    r = C.cohen_kappa(["secure"] * 4, ["secure"] * 4)
    assert r.percent_agreement == 100.0 and np.isnan(r.kappa) and np.isnan(r.kappa_se)


# ---------------------------------------------------------------- min/max

def test_minmax_typology():
    idx = pd.Series([-1.0, -0.25, -0.2, -0.2 + 1e-12, 0.0, 0.19, 0.2, 3 / 11 - 1 / 11, 1.0, np.nan],
                    index=list("abcdefghij"))
    out = C.minmax_typology(idx, 0.2)
    assert out.index.tolist() == list("abcdefghij")
    assert out.iloc[:9].tolist() == ["minimiser", "minimiser", "minimiser", "minimiser", "balanced",
                                     "balanced", "maximiser", "balanced", "maximiser"]
    assert pd.isna(out.iloc[9])
    assert C.minmax_typology(pd.Series([2 / 11]), 2 / 11).tolist() == ["maximiser"]
    for band in (0, -0.1, 1.5, "x", np.nan):
        with pytest.raises(ValueError, match="band"):
            C.minmax_typology(idx, band)


def test_minmax_by_style():
    t = pd.DataFrame({
        "id": [1, 2, 3, 4, 5, 1, 2, 3, 4, 5],
        "method": ["midpoint"] * 5 + ["kmeans"] * 5,
        "style": ["dismissing", "dismissing", "dismissing", "preoccupied", "secure",
                  "dismissing", "fearful", "fearful", "preoccupied", "secure"],
    })
    mm = pd.Series(["minimiser", "minimiser", "maximiser", "maximiser", np.nan], index=[1, 2, 3, 4, 5])
    out = C.minmax_by_style(t, mm)
    assert list(out.columns) == ["method", "style", "minmax_type", "n", "percent_of_style"]
    assert len(out) == 2 * 4 * 3  # all styles x types, zeros included
    got = out.set_index(["method", "style", "minmax_type"]).sort_index()
    assert got.loc[("midpoint", "dismissing", "minimiser"), "n"] == 2
    assert got.loc[("midpoint", "dismissing", "minimiser"), "percent_of_style"] == pytest.approx(200 / 3)
    assert got.loc[("midpoint", "dismissing", "maximiser"), "percent_of_style"] == pytest.approx(100 / 3)
    assert got.loc[("midpoint", "dismissing", "balanced"), "n"] == 0
    assert got.loc[("midpoint", "preoccupied", "maximiser"), "percent_of_style"] == 100.0
    assert got.loc[("kmeans", "fearful", "minimiser"), "percent_of_style"] == 50.0
    # respondent 5 has no type: secure has nobody with a type, so percentages are NaN
    assert got.loc[("midpoint", "secure"), "n"].tolist() == [0, 0, 0]
    assert got.loc[("midpoint", "secure"), "percent_of_style"].isna().all()
    with pytest.raises(ValueError, match="Unknown min/max type"):
        C.minmax_by_style(t, pd.Series(["minimizer"], index=[1]))
    with pytest.raises(ValueError, match="Series"):
        C.minmax_by_style(t, {"1": "minimiser"})


def test_minmax_by_style_end_to_end():
    # avoidant respondents minimise, anxious ones maximise (H4 direction), on planted data
    s = frame([2.0, 2.5, 6.0, 6.5, 2.0, 6.0], [6.0, 6.5, 2.0, 2.5, 2.0, 6.0])
    idx = pd.Series([-0.6, -0.3, 0.5, 0.1, 0.0, np.nan], index=s.index)
    t = C.classify_all(s, ["midpoint"], instrument="ecr_r", **SCALE)
    out = C.minmax_by_style(t, C.minmax_typology(idx, 0.2)).set_index(["style", "minmax_type"])
    assert out.loc[("dismissing", "minimiser"), "n"] == 2
    assert out.loc[("preoccupied", "maximiser"), "n"] == 1
    assert out.loc[("preoccupied", "balanced"), "n"] == 1
    assert out.loc[("secure", "balanced"), "percent_of_style"] == 100.0
