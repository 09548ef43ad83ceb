"""Tests of the seeded simulator and of the shipped simulated data sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from scipy import special

from attachment_pipeline.instruments import load_instrument
from attachment_pipeline.simulate import (
    CHILD_CODE,
    DEMO_SEED,
    ECR5_SEED,
    STYLES,
    SimulationSettings,
    couple_covariance,
    demo_settings,
    ecr5_settings,
    expected_score,
    graded_responses,
    item_parameters,
    main,
    minmax_responses,
    simulate_children,
    simulate_cohort,
    simulate_latent,
    true_style,
    write_cohort,
)

ROOT = Path(__file__).resolve().parents[1]


def keyed_scores(responses: pd.DataFrame, instrument: str, scale_min: int, scale_max: int,
                 pattern: str = "ecr_{n}") -> pd.DataFrame:
    """Subscale means after reverse keying, codes and blanks treated as missing."""
    inst = load_instrument(instrument)
    out = {}
    for sub in inst.subscales:
        cols = [pattern.format(n=n) for n in inst.subscale_items(sub)]
        x = responses[cols].astype("float64")
        x = x.where((x >= scale_min) & (x <= scale_max))
        rev = [pattern.format(n=n) for n in inst.reverse_keyed if n in inst.subscale_items(sub)]
        x[rev] = scale_min + scale_max - x[rev]
        out[sub] = x.mean(axis=1)
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def singles():
    s = SimulationSettings(n_couples=0, n_singles=20_000, n_sparse=10)
    return simulate_cohort(s, seed=11)


@pytest.fixture(scope="module")
def couples():
    s = SimulationSettings(n_couples=5_000, n_singles=0, n_sparse=0, n_children=4_000)
    return simulate_cohort(s, seed=12)


# --- reproducibility and the shipped files ---------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path):
    s = SimulationSettings(n_couples=20, n_singles=10, n_children=8)
    a = write_cohort(simulate_cohort(s, 7), tmp_path / "a", truth=True)
    b = write_cohort(simulate_cohort(s, 7), tmp_path / "b", truth=True)
    assert [p.name for p in a] == ["responses.csv", "children.csv", "truth.csv"]
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes()


def test_different_seed_gives_different_data(tmp_path):
    s = SimulationSettings(n_couples=20, n_singles=10, n_children=8)
    a = write_cohort(simulate_cohort(s, 7), tmp_path / "a")
    b = write_cohort(simulate_cohort(s, 8), tmp_path / "b")
    assert a[0].read_bytes() != b[0].read_bytes()
    assert a[1].read_bytes() != b[1].read_bytes()


def test_item_parameters_do_not_depend_on_sample_size():
    small = simulate_cohort(SimulationSettings(n_couples=1, n_singles=1, n_sparse=0), 3)
    large = simulate_cohort(SimulationSettings(n_couples=50, n_singles=80, n_sparse=0), 3)
    np.testing.assert_array_equal(small.item_parameters.loadings, large.item_parameters.loadings)
    np.testing.assert_array_equal(small.item_parameters.thresholds, large.item_parameters.thresholds)


@pytest.mark.parametrize("command, folder, names", [
    ("demo", "data/raw/demo", ["responses.csv", "children.csv"]),
    ("ecr5", "data/raw/ecr_5point", ["responses.csv"]),
])
def test_shipped_files_equal_cli_output(tmp_path, capsys, command, folder, names):
    assert main([command, "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / name).read_bytes() == (ROOT / folder / name).read_bytes(), name


def test_demo_file_layout_and_validity():
    df = pd.read_csv(ROOT / "data/raw/demo/responses.csv", dtype={"couple_id": str})
    expected = (["respondent_id", "couple_id", "partner", "gender", "age", "relationship_years"]
                + [f"ecr_{i}" for i in range(1, 37)] + [f"mm_{i}" for i in range(1, 23)])
    assert list(df.columns) == expected
    assert len(df) == 400
    assert df["respondent_id"].tolist() == [f"R{i:04d}" for i in range(1, 401)]
    assert df["couple_id"].notna().sum() == 300 and df["couple_id"].nunique() == 150
    assert df["partner"].dropna().tolist() == ["A", "B"] * 150
    assert df["couple_id"].iloc[300:].isna().all() and df["relationship_years"].iloc[300:].isna().all()
    ecr = df[[f"ecr_{i}" for i in range(1, 37)]]
    values = set(pd.unique(ecr.to_numpy().ravel()[~np.isnan(ecr.to_numpy().ravel())]))
    assert values == {-1, 99, 1, 2, 3, 4, 5, 6, 7}
    mm = df[[f"mm_{i}" for i in range(1, 23)]].to_numpy().ravel()
    assert set(pd.unique(mm[~np.isnan(mm)])) == {0, 1}
    code_share = ecr.isin([-1, 99]).to_numpy().mean()
    assert 0.005 < code_share < 0.015
    answered = ecr.isin(range(1, 8))
    sparse = answered.mean(axis=1) < 0.5
    assert sparse.sum() == 3
    assert 0.002 < ecr[~sparse].isna().to_numpy().mean() < 0.01
    children = pd.read_csv(ROOT / "data/raw/demo/children.csv")
    assert list(children.columns) == ["parent_id", "child_id", "ssp_code", "child_age_months"]
    assert len(children) == 120 and children["parent_id"].is_unique
    assert children["parent_id"].isin(df["respondent_id"]).all()
    assert set(children["ssp_code"]) == {"A", "B", "C", "D"}
    assert children["child_age_months"].between(12, 20).all()


def test_ecr5_file_layout_and_validity():
    df = pd.read_csv(ROOT / "data/raw/ecr_5point/responses.csv")
    assert list(df.columns) == [f"Q{i}" for i in range(1, 37)] + ["gender", "age"]
    assert len(df) == 300
    q = df[[f"Q{i}" for i in range(1, 37)]]
    assert q.notna().all().all()
    assert set(np.unique(q.to_numpy())) == {0, 1, 2, 3, 4, 5}
    assert 0.015 < (q == 0).to_numpy().mean() < 0.025
    assert set(df["gender"]) <= {1, 2, 3}
    assert df["age"].between(18, 75).all()


def test_written_csv_format(tmp_path):
    s = SimulationSettings(n_couples=3, n_singles=2, n_sparse=1, skip_rate=0.2, n_children=2)
    paths = write_cohort(simulate_cohort(s, 1), tmp_path)
    raw = paths[0].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert len(lines) == 1 + 8
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    assert all(len(r) == len(header) for r in rows)
    item_cells = [c for r in rows for c in r[6:]]
    assert "" in item_cells  # blanks are empty fields
    assert all(c == "" or c.lstrip("-").isdigit() for c in item_cells)  # ints, no ".0"
    years = [r[5] for r in rows]
    assert all(y == "" or (y.count(".") == 1 and len(y.split(".")[1]) == 1) for y in years)
    assert years[-2:] == ["", ""]  # singles
    assert all(r[4].isdigit() for r in rows)  # age is an integer


# --- known truth recovered ---------------------------------------------------


def test_within_person_latent_correlation(singles):
    r = singles.truth[["anxiety", "avoidance"]].corr().iloc[0, 1]
    assert abs(r - 0.30) < 0.02
    assert abs(singles.truth["anxiety"].mean()) < 0.03
    assert abs(singles.truth["avoidance"].std() - 1) < 0.03


def test_observed_scores_track_the_truth(singles):
    scores = keyed_scores(singles.responses, "ecr_r", 1, 7)
    ok = ~singles.truth["sparse_respondent"].to_numpy()
    scores, truth = scores[ok], singles.truth[ok]
    assert np.corrcoef(scores["anxiety"], truth["anxiety"])[0, 1] > 0.9
    assert np.corrcoef(scores["avoidance"], truth["avoidance"])[0, 1] > 0.9
    assert np.corrcoef(scores["anxiety"], truth["avoidance"])[0, 1] < 0.35
    observed_r = scores.corr().iloc[0, 1]
    assert 0.22 < observed_r < 0.30  # attenuated by measurement error, never inflated
    # realistic ECR-R means on 1-7 (anxiety 3.5, avoidance 2.9)
    assert abs(scores["anxiety"].mean() - 3.5) < 0.05
    assert abs(scores["avoidance"].mean() - 2.9) < 0.05


def test_complementarity_between_partners(couples):
    t = couples.truth
    a = t[t["partner"] == "A"].reset_index(drop=True)
    b = t[t["partner"] == "B"].reset_index(drop=True)
    assert (a["couple_id"] == b["couple_id"]).all()
    assert abs(np.corrcoef(a["anxiety"], b["avoidance"])[0, 1] - 0.25) < 0.04
    assert abs(np.corrcoef(b["anxiety"], a["avoidance"])[0, 1] - 0.25) < 0.04
    assert abs(np.corrcoef(a["anxiety"], b["anxiety"])[0, 1]) < 0.04
    assert abs(np.corrcoef(a["anxiety"], a["avoidance"])[0, 1] - 0.30) < 0.04
    # observed scores show the complementarity too (attenuated)
    scores = keyed_scores(couples.responses, "ecr_r", 1, 7)
    sa, sb = scores[(t["partner"] == "A").to_numpy()], scores[(t["partner"] == "B").to_numpy()]
    assert 0.15 < np.corrcoef(sa["anxiety"], sb["avoidance"])[0, 1] < 0.27


def test_duration_effect_on_security(couples):
    t, r = couples.truth, couples.responses
    log_years = np.log(r["relationship_years"].to_numpy(dtype=float))
    # implied corr(duration z, each latent) = -0.25 * 1.55 / sqrt(6.2) = -0.156 (clipping aside)
    for dim in ("anxiety", "avoidance"):
        assert abs(np.corrcoef(log_years, t[dim])[0, 1] + 0.156) < 0.04
    a, b = r.iloc[0::2], r.iloc[1::2]
    assert (a["relationship_years"].to_numpy() == b["relationship_years"].to_numpy()).all()
    assert r["relationship_years"].between(0.5, 45).all()
    assert r["age"].between(18, 75).all()
    assert (r["age"] >= 18 + r["relationship_years"]).all()
    assert np.corrcoef(r["age"], r["relationship_years"])[0, 1] > 0.5
    assert np.corrcoef(a["age"], b["age"])[0, 1] > 0.8


def test_gender_mix(couples, singles):
    g = singles.responses["gender"].value_counts(normalize=True)
    assert abs(g["female"] - 0.52) < 0.015 and abs(g["male"] - 0.46) < 0.015
    assert abs(g["other"] - 0.02) < 0.005
    r = couples.responses
    a, b = r["gender"].to_numpy()[0::2], r["gender"].to_numpy()[1::2]
    binary = np.isin(a, ["female", "male"])
    assert 0.87 < np.mean((a != b) & np.isin(b, ["female", "male"]) & binary) / binary.mean() < 0.93


def test_children_transmission(couples):
    ch, t = couples.children, couples.truth
    assert len(ch) == 4_000 and ch["parent_id"].is_unique
    assert ch["child_id"].iloc[0] == "K0001"
    m = ch.merge(t, left_on="parent_id", right_on="respondent_id", validate="one_to_one")
    concordant = m["true_style"].map(CHILD_CODE) == m["ssp_code"]
    assert abs(concordant.mean() - 0.70) < 0.025
    # discordant codes are spread over the three other codes
    secure = m[(m["true_style"] == "secure") & ~concordant]
    shares = secure["ssp_code"].value_counts(normalize=True)
    assert set(shares.index) == {"A", "C", "D"}
    assert (abs(shares - 1 / 3) < 0.08).all()
    assert ch["child_age_months"].between(12, 20).all()
    assert set(ch["child_age_months"]) == set(range(12, 21))


def test_children_full_transmission_and_errors():
    ch = simulate_children(np.array(["R1", "R2", "R3", "R4"]), true_style([-1, 1, -1, 1], [-1, -1, 1, 1]),
                           4, 1.0, np.random.default_rng(0))
    assert ch["ssp_code"].tolist() == ["B", "C", "A", "D"]
    with pytest.raises(ValueError, match="exceeds"):
        simulate_children(np.array(["R1"]), np.array(["secure"]), 2, 0.7, np.random.default_rng(0))


def test_minmax_index_follows_dimensions(singles):
    r, t = singles.responses, singles.truth
    mm = r[[f"mm_{k}" for k in range(1, 23)]].astype("float64")
    index = mm.iloc[:, 11:].mean(axis=1) - mm.iloc[:, :11].mean(axis=1)
    assert np.corrcoef(index[index.notna()], t["anxiety"][index.notna()])[0, 1] > 0.25
    assert np.corrcoef(index[index.notna()], t["avoidance"][index.notna()])[0, 1] < -0.25
    assert np.corrcoef(index[index.notna()], t["minmax_propensity"][index.notna()])[0, 1] > 0.6


@pytest.mark.parametrize("fmt, n_cols, values", [
    ("ticks", 22, {0, 1}), ("likert", 22, {1, 2, 3, 4, 5}), ("forced_choice", 11, {1, 2}),
])
def test_minmax_formats(fmt, n_cols, values):
    p = np.random.default_rng(0).standard_normal(3000)
    x = minmax_responses(p, fmt, np.random.default_rng(1))
    assert x.shape == (3000, n_cols)
    assert set(np.unique(x)) == values
    if fmt == "forced_choice":
        assert np.corrcoef(p, x.mean(axis=1))[0, 1] > 0.5
    else:
        assert np.corrcoef(p, x[:, 11:].mean(axis=1) - x[:, :11].mean(axis=1))[0, 1] > 0.5
    with pytest.raises(ValueError, match="response_format"):
        minmax_responses(p, "stars", np.random.default_rng(1))


def test_minmax_format_in_cohort_columns():
    r = simulate_cohort(SimulationSettings(n_couples=2, n_singles=2, minmax_format="forced_choice",
                                           n_sparse=0, skip_rate=0), 1).responses
    assert [c for c in r.columns if c.startswith("mm_")] == [f"mm_{k}" for k in range(1, 12)]
    r = simulate_cohort(SimulationSettings(n_couples=2, n_singles=2, minmax_format=None), 1).responses
    assert not any(c.startswith("mm_") for c in r.columns)


# --- ranges and missingness ---------------------------------------------------


def test_missing_rates(singles):
    s = singles.settings
    ecr = singles.responses[[f"ecr_{i}" for i in range(1, 37)]]
    ok = ~singles.truth["sparse_respondent"].to_numpy()
    cells = ecr[ok].astype("float64")
    codes = cells.isin(list(s.missing_codes)).to_numpy()
    assert abs(codes.mean() - 0.01) < 0.001
    assert abs((cells == -1).to_numpy().mean() - 0.005) < 0.0008
    assert abs(cells.isna().to_numpy().mean() - 0.005) < 0.0008
    mm = singles.responses[[f"mm_{k}" for k in range(1, 23)]][ok]
    assert abs(mm.isna().to_numpy().mean() - 0.005) < 0.001


def test_sparse_respondents_cannot_be_scored(singles):
    ecr = singles.responses[[f"ecr_{i}" for i in range(1, 37)]]
    sparse = singles.truth["sparse_respondent"].to_numpy()
    assert sparse.sum() == 10
    answered = ecr[sparse].notna().sum(axis=1)
    assert (answered == 4).all()
    for sub in (range(1, 19), range(19, 37)):
        share = ecr[sparse][[f"ecr_{i}" for i in sub]].isin(range(1, 8)).mean(axis=1)
        assert (share < 0.8).all()
    assert singles.responses[sparse].filter(like="mm_").isna().all().all()


@hsettings(max_examples=15, deadline=None)
@given(scale_max=st.integers(2, 9), n=st.integers(1, 30), seed=st.integers(0, 2**32 - 1),
       instrument=st.sampled_from(["ecr_r", "ecr"]))
def test_responses_stay_in_range(scale_max, n, seed, instrument):
    s = SimulationSettings(n_couples=n, n_singles=n, instrument=instrument, scale_min=1, scale_max=scale_max,
                           missing_codes=(-9, 99), missing_code_rate=0.05, skip_rate=0.05, n_sparse=1)
    r = simulate_cohort(s, seed).responses
    x = r.filter(like="ecr_").to_numpy(dtype="float64", na_value=np.nan).ravel()
    x = x[~np.isnan(x)]
    assert np.isin(x, [-9, 99, *range(1, scale_max + 1)]).all()


def test_openpsychometrics_layout_and_missing_code_zero():
    s = SimulationSettings(n_couples=0, n_singles=2000, instrument="ecr", scale_max=5, missing_codes=(0,),
                           missing_code_rate=0.02, skip_rate=0.0, n_sparse=0, id_column=None,
                           minmax_format=None, layout="openpsychometrics")
    c = simulate_cohort(s, 4)
    r = c.responses
    assert list(r.columns) == [f"Q{i}" for i in range(1, 37)] + ["gender", "age"]
    assert set(np.unique(r.filter(like="Q").to_numpy(dtype=int))) == {0, 1, 2, 3, 4, 5}
    assert set(r["gender"]) == {1, 2, 3}
    assert c.truth["respondent_id"].tolist()[:3] == [1, 2, 3]
    scores = keyed_scores(r, "ecr", 1, 5, "Q{n}")
    assert abs(scores["anxiety"].mean() - (1 + 2.5 / 6 * 4)) < 0.06
    assert abs(scores["avoidance"].mean() - (1 + 1.9 / 6 * 4)) < 0.06
    # ECR key: odd items avoidance -> observed avoidance tracks latent avoidance
    assert np.corrcoef(scores["avoidance"], c.truth["avoidance"])[0, 1] > 0.85


def test_singles_only_pipeline_layout_has_no_couple_columns():
    r = simulate_cohort(SimulationSettings(n_couples=0, n_singles=5, id_column=None), 1).responses
    assert r.shape[1] == 2 + 36 + 22
    assert list(r.columns[:2]) == ["gender", "age"]


# --- model components ---------------------------------------------------------


def test_graded_response_category_probabilities():
    """With theta ~ N(0, 1), P(x > scale_min + k - 1) = Phi(-tau_k): the normal-ogive GRM."""
    tau = np.array([[-1.0, -0.2, 0.5, 1.3]])
    theta = np.random.default_rng(1).standard_normal(200_000)  # y* ~ N(0, 1) marginally
    x = graded_responses(theta, [0.7], tau, np.random.default_rng(2), 1, 5)[:, 0]
    for k, t in enumerate(tau[0], start=1):
        assert abs((x > k).mean() - special.ndtr(-t)) < 0.004
    assert abs(x.mean() - expected_score(tau)[0]) < 0.01


def test_graded_response_slope():
    """The latent response correlates loading * r(theta) with theta: higher loading, stronger link."""
    theta = np.random.default_rng(0).standard_normal(20_000)
    tau = np.tile(np.linspace(-1.5, 1.5, 6), (2, 1))
    x = graded_responses(theta, [0.3, 0.9], tau, np.random.default_rng(1), 1, 7)
    r = [np.corrcoef(theta, x[:, j])[0, 1] for j in range(2)]
    assert 0.25 < r[0] < 0.32 and 0.82 < r[1] < 0.9


@pytest.mark.parametrize("kwargs, message", [
    (dict(loadings=[1.2], thresholds=[[0.0]]), "loadings"),
    (dict(loadings=[0.5], thresholds=[[0.0, 1.0]]), "shape"),
    (dict(loadings=[0.5], thresholds=[[1.0]], theta=np.zeros((3, 2))), "theta"),
])
def test_graded_responses_bad_arguments(kwargs, message):
    theta = kwargs.pop("theta", np.zeros(3))
    with pytest.raises(ValueError, match=message):
        graded_responses(theta, rng=np.random.default_rng(0), scale_min=1, scale_max=2, **kwargs)
    with pytest.raises(ValueError, match="increasing"):
        graded_responses(np.zeros(3), [0.5], [[1.0, 0.0]], np.random.default_rng(0), 1, 3)


def test_graded_responses_theta_index():
    theta = np.array([[-9.0, 9.0]] * 3)
    tau = np.tile([-1.0, 0.0, 1.0], (3, 1))
    x = graded_responses(theta, [0.9] * 3, tau, np.random.default_rng(0), 1, 4, theta_index=[1, 0, 1])
    assert x.tolist() == [[4, 1, 4]] * 3
    with pytest.raises(ValueError, match="theta_index"):
        graded_responses(theta, [0.9] * 3, tau, np.random.default_rng(0), 1, 4, theta_index=[0, 2, 1])


def test_reverse_keyed_items_are_stored_reversed():
    s = SimulationSettings(n_couples=0, n_singles=5000, n_sparse=0, missing_code_rate=0, skip_rate=0)
    c = simulate_cohort(s, 9)
    r, t = c.responses, c.truth
    inst = load_instrument("ecr_r")
    for it in inst.items:
        rho = np.corrcoef(r[f"ecr_{it.n}"].astype(float), t[it.subscale])[0, 1]
        assert (rho < -0.4) if it.reverse else (rho > 0.4), it.n


def test_item_parameters_hit_target_means():
    s = SimulationSettings(scale_max=5, anxiety_mean=4.0, avoidance_mean=2.0)
    p = item_parameters(s, np.random.default_rng(0))
    assert p.thresholds.shape == (36, 4)
    assert np.all(np.diff(p.thresholds, axis=1) > 0)
    assert ((p.loadings >= 0.6) & (p.loadings <= 0.85)).all()
    np.testing.assert_allclose(expected_score(p.thresholds[:18]).mean(), 1 + 3 / 6 * 4, atol=1e-9)
    np.testing.assert_allclose(expected_score(p.thresholds[18:]).mean(), 1 + 1 / 6 * 4, atol=1e-9)


def test_latent_structure_and_style():
    lat = simulate_latent(SimulationSettings(n_couples=2, n_singles=3), np.random.default_rng(0))
    assert lat["couple"].tolist() == [0, 0, 1, 1, -1, -1, -1]
    assert lat["duration_z"].iloc[:4].notna().all() and lat["duration_z"].iloc[4:].isna().all()
    assert true_style([0.0], [0.0]).tolist() == ["secure"]  # cut: > 0 is high
    assert set(STYLES) == set(CHILD_CODE)


# --- bad settings ---------------------------------------------------------------


def test_non_positive_definite_settings_raise():
    with pytest.raises(ValueError, match="not positive definite"):
        SimulationSettings(anxiety_avoidance_r=0.8, complementarity_r=0.8)
    with pytest.raises(ValueError, match="not positive definite"):
        couple_covariance(0.5, 0.6)  # eigenvalue 1 - r - c + s = -0.1
    assert np.linalg.eigvalsh(couple_covariance(0.3, 0.25)).min() > 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_couples=-1), "n_couples"),
    (dict(n_couples=0, n_singles=0), "nothing to simulate"),
    (dict(n_singles=2.5), "integer"),
    (dict(instrument="ecr_s"), "instrument"),
    (dict(scale_min=5, scale_max=5), "scale_min"),
    (dict(anxiety_avoidance_r=1.0), "anxiety_avoidance_r"),
    (dict(loading_min=0.9, loading_max=0.8), "loading"),
    (dict(minmax_format="stars"), "minmax_format"),
    (dict(missing_code_rate=-0.1), "missing_code_rate"),
    (dict(missing_codes=(3,)), "inside the response scale"),
    (dict(n_sparse=1000), "n_sparse"),
    (dict(n_children=1000), "n_children"),
    (dict(transmission_rate=1.5), "transmission_rate"),
    (dict(layout="openpsychometrics"), "openpsychometrics"),
    (dict(layout="spss"), "layout"),
    (dict(anxiety_mean=7.5), "anxiety_mean"),
    (dict(id_column="age"), "clashes"),
    (dict(id_column="ecr_3"), "clashes"),
    (dict(id_column=""), "non-empty"),
])
def test_bad_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SimulationSettings(**kwargs)


def test_bad_seed_raises():
    with pytest.raises(ValueError, match="seed"):
        simulate_cohort(SimulationSettings(n_couples=1, n_singles=0, n_sparse=0), seed=-1)


# --- command line ----------------------------------------------------------------


def test_cli_custom(tmp_path, capsys):
    out = tmp_path / "c"
    argv = ["custom", "--out", str(out), "--n-couples", "3", "--n-singles", "4", "--instrument", "ecr",
            "--scale-max", "5", "--missing-codes", "0", "--no-id", "--seed", "5", "--minmax-format", "none",
            "--n-children", "2", "--truth"]
    assert main(argv) == 0
    r = pd.read_csv(out / "responses.csv")
    assert list(r.columns[:4]) == ["couple_id", "partner", "gender", "age"]
    assert len(r) == 10 and r.filter(like="ecr_").shape[1] == 36
    ch = pd.read_csv(out / "children.csv")
    assert ch["parent_id"].between(1, 10).all()  # row numbers without an id column
    assert len(pd.read_csv(out / "truth.csv")) == 10
    first = (out / "responses.csv").read_bytes()
    assert main(argv) == 0
    assert (out / "responses.csv").read_bytes() == first


def test_cli_warns_about_clashing_codes_and_reports_errors(tmp_path, capsys):
    assert main(["custom", "--out", str(tmp_path), "--n-singles", "5", "--missing-codes", "0"]) == 0
    assert "checklist" in capsys.readouterr().err
    assert main(["custom", "--out", str(tmp_path), "--n-singles", "5", "--missing-codes", "3"]) == 2
    assert "inside the response scale" in capsys.readouterr().err


def test_shipped_settings_match_readme_claims():
    d, e = demo_settings(), ecr5_settings()
    assert (d.n_couples, d.n_singles, d.n_children, d.n_sparse) == (150, 100, 120, 3)
    assert (e.n_singles, e.scale_max, e.missing_codes, e.id_column) == (300, 5, (0,), None)
    assert DEMO_SEED == 20261124 and ECR5_SEED == 20261125
