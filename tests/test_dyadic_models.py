"""Dyadic models against lavaan 0.6-14 and psych (tests/reference/dyads.json, tests/r/dyads_reference.R).

The I-SAT and saturated models, the distinguishability test, the cross-partner
paths and correlation, the APIM (distinguishable and indistinguishable, ML and
MLR), the ICC; then properties lavaan cannot show: every number for
indistinguishable dyads is the same under any labelling of the partners, and the
closed forms equal the engine's fit of the same lavaan syntax.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attachment_pipeline import dyads as dy
from attachment_pipeline import sem

REPO = Path(__file__).resolve().parents[1]
REF = json.loads((REPO / "tests/reference/dyads.json").read_text())


def _md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def test_reference_data_unchanged():
    assert _md5(REPO / "tests/data/dyads_scores.csv") == REF["md5"]["scores"]
    assert _md5(REPO / "tests/data/dyads_items.csv") == REF["md5"]["items"]


def wide():
    long = pd.read_csv(REPO / "tests/data/dyads_scores.csv")
    cp = long.dropna(subset=["couple"])
    a = cp[cp.role == "A"].sort_values("couple").reset_index(drop=True)
    b = cp[cp.role == "B"].sort_values("couple").reset_index(drop=True)
    return a, b


def labelled(table):
    return {lab: (e, s, sd) for lab, e, s, sd in zip(table["label"], table["est"], table["se"], table["std_all"])
            if lab}


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_isat_moments_and_paths_agree_with_lavaan(est):
    a, b = wide()
    res = dy.cross_partner_paths(a.anxiety, a.avoidance, b.anxiety, b.avoidance, distinguishable=False,
                                 robust=est == "MLR")
    lab = labelled(REF["isat"][est]["two"]["estimates"])
    mom = res["moments"]
    theta, se = mom.theta[0], np.sqrt(np.diag(mom.vcov[0]))
    r, c = np.tril_indices(4)
    pos = {(int(i), int(j)): 4 + t for t, (i, j) in enumerate(zip(r, c))}
    where = {"ma": 0, "mv": 1, "va": pos[(0, 0)], "vv": pos[(1, 1)], "w": pos[(1, 0)], "sa": pos[(2, 0)],
             "sv": pos[(3, 1)], "c": pos[(3, 0)]}
    for name, k in where.items():
        assert theta[k] == pytest.approx(lab[name][0], abs=1e-6), name
        assert se[k] == pytest.approx(lab[name][1], rel=1e-5), name
    for ours, theirs in (("path", "path_av"), ("reverse", "path_va"), ("r_cross", "r_cross")):
        e = res[ours][0]
        assert e.role == "both"
        assert e.estimate[0] == pytest.approx(lab[theirs][0], abs=1e-6)
        assert e.se[0] == pytest.approx(lab[theirs][1], rel=1e-5)


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_saturated_paths_agree_with_lavaan(est):
    a, b = wide()
    res = dy.cross_partner_paths(a.anxiety, a.avoidance, b.anxiety, b.avoidance, distinguishable=True,
                                 robust=est == "MLR", roles=("A", "B"))
    lab = labelled(REF["isat"][est]["saturated"]["estimates"])
    pa, pb = res["path"]
    assert (pa.role, pb.role) == ("A", "B")
    for e, name in ((pa, "pathA"), (pb, "pathB"), (res["mean_path"][0], "path_mean"), (res["r_cross"][1], "rB"),
                    (res["r_cross"][0], "rA")):
        assert e.estimate[0] == pytest.approx(lab[name][0], abs=1e-6), name
        assert e.se[0] == pytest.approx(lab[name][1], rel=1e-5), name


def test_distinguishability_test_is_the_isat_chi_square():
    a, b = wide()
    two = dy.distinguishability_test(np.c_[a.anxiety, a.avoidance], np.c_[b.anxiety, b.avoidance])
    one = dy.distinguishability_test(a.minmax_index, b.minmax_index)
    for t, ref in ((two, REF["isat"]["ML"]["two"]), (one, REF["isat"]["ML"]["one"])):
        assert t.df == ref["df"]
        assert t.chi2[0] == pytest.approx(ref["chisq"], rel=1e-6)
        assert t.p[0] == pytest.approx(ref["pvalue"], rel=1e-5)


@pytest.mark.parametrize("est", ["ML", "MLR"])
@pytest.mark.parametrize("dist", [True, False])
def test_apim_agrees_with_lavaan(est, dist):
    """The issue's bar: estimates 1e-4, standard errors 1 %, std.all 1e-3 (we reach about 1e-7)."""
    a, b = wide()
    res = dy.apim(a.anxiety, a.avoidance, b.anxiety, b.avoidance, distinguishable=dist, robust=est == "MLR",
                  roles=("A", "B"))
    table = res.table()
    lab = labelled(REF["apim"][est]["distinguishable" if dist else "indistinguishable"])
    names = ({("actor", "A"): "aA", ("actor", "B"): "aB", ("partner", "A"): "pA", ("partner", "B"): "pB",
              ("k", "A"): "kA", ("k", "B"): "kB"} if dist else
             {("actor", "both"): "a", ("partner", "both"): "p", ("k", "both"): "k"})
    assert len(table) == len(names)
    for row in table.itertuples():
        e, s, sd = lab[names[(row.effect, row.role)]]
        assert row.estimate == pytest.approx(e, abs=1e-6)
        assert row.se == pytest.approx(s, rel=1e-5)
        assert row.std_estimate == pytest.approx(sd, abs=1e-6)
        assert row.z == pytest.approx(row.estimate / row.se)


def test_apim_role_names_the_predicted_partner():
    """Role B's partner effect is A's x on B's y: plant it and find it under B."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 2))
    ya = 0.3 * x[:, 0] + rng.normal(size=400)
    yb = 0.3 * x[:, 1] + 0.5 * x[:, 0] + rng.normal(size=400)
    t = dy.apim(x[:, 0], ya, x[:, 1], yb, distinguishable=True, roles=("A", "B")).table().set_index(["effect", "role"])
    assert t.loc[("partner", "B"), "estimate"] == pytest.approx(0.5, abs=0.12)
    assert abs(t.loc[("partner", "A"), "estimate"]) < 0.15


def test_icc_agrees_with_psych():
    a, b = wide()
    res = dy.nonindependence(a.minmax_index, b.minmax_index, distinguishable=False)
    ref = REF["icc"]
    assert res.estimate[0] == pytest.approx(ref["icc1"], abs=1e-10)
    assert res.test_statistic[0] == pytest.approx(ref["F"], rel=1e-10)
    assert (res.df1, res.df2) == (ref["df1"], ref["df2"])
    assert res.ci_low[0] == pytest.approx(ref["lower"], abs=1e-8)
    assert res.ci_high[0] == pytest.approx(ref["upper"], abs=1e-8)
    assert res.p[0] == pytest.approx(2 * (1 - ref["p"]), rel=1e-8)  # psych's p is P(F >= f); ours two-sided
    r = dy.nonindependence(a.minmax_index, b.minmax_index, distinguishable=True)
    assert r.estimate[0] == pytest.approx(ref["pearson"], abs=1e-12)


# ---------------------------------------------------------------------------
# the engine fits the same models (one model-fitting engine for every SEM)

APIM_INDIST = """
y1 ~ a*x1 + p*x2
y2 ~ a*x2 + p*x1
x1 ~ mx*1
x2 ~ mx*1
y1 ~ iy*1
y2 ~ iy*1
x1 ~~ vx*x1
x2 ~~ vx*x2
y1 ~~ ve*y1
y2 ~~ ve*y2
x1 ~~ x2
y1 ~~ y2
"""


def test_closed_forms_equal_the_engine_fit():
    a, b = wide()
    data = pd.DataFrame({"x1": a.anxiety, "y1": a.avoidance, "x2": b.anxiety, "y2": b.avoidance})
    fit = sem.fit(APIM_INDIST, data, estimator="ml", meanstructure=True)
    ours = dy.apim(data.x1, data.y1, data.x2, data.y2, distinguishable=False).table().set_index("effect")
    act, par = fit.param("y1", "~", "x1"), fit.param("y1", "~", "x2")
    assert ours.loc["actor", "estimate"] == pytest.approx(act.est, abs=1e-7)
    assert ours.loc["partner", "se"] == pytest.approx(par.se, rel=1e-5)
    assert ours.loc["actor", "std_estimate"] == pytest.approx(act.std_all, abs=1e-7)
    assert fit.chi2 == pytest.approx(REF["apim"]["ML"]["indistinguishable_chisq"], rel=1e-6)
    assert fit.df == REF["apim"]["ML"]["indistinguishable_df"] == 6


# ---------------------------------------------------------------------------
# indistinguishable dyads: the same numbers under any labelling


def _relabel(a, b, seed):
    """Swap the partners of a random half of the couples and shuffle the couples."""
    rng = np.random.default_rng(seed)
    swap = rng.random(len(a)) < 0.5
    order = rng.permutation(len(a))
    a2 = np.where(swap[:, None], b, a)[order]
    b2 = np.where(swap[:, None], a, b)[order]
    return a2, b2


def test_indistinguishable_numbers_do_not_depend_on_labelling():
    a, b = wide()
    xa = a[["anxiety", "avoidance", "minmax_index"]].to_numpy()
    xb = b[["anxiety", "avoidance", "minmax_index"]].to_numpy()
    base = dy.cross_partner_paths(xa[:, 0], xa[:, 1], xb[:, 0], xb[:, 1], distinguishable=False, robust=True)
    ap = dy.apim(xa[:, 0], xa[:, 1], xb[:, 0], xb[:, 1], distinguishable=False, n_bootstrap=50, seed=3).table()
    icc = dy.nonindependence(xa[:, 2], xb[:, 2], distinguishable=False)
    for seed in range(3):
        ra, rb = _relabel(xa, xb, seed)
        other = dy.cross_partner_paths(ra[:, 0], ra[:, 1], rb[:, 0], rb[:, 1], distinguishable=False, robust=True)
        for key in ("path", "r_cross", "reverse"):
            np.testing.assert_allclose(other[key][0].estimate, base[key][0].estimate, rtol=1e-12)
            np.testing.assert_allclose(other[key][0].se, base[key][0].se, rtol=1e-10)
        t2 = dy.apim(ra[:, 0], ra[:, 1], rb[:, 0], rb[:, 1], distinguishable=False, n_bootstrap=50, seed=3).table()
        np.testing.assert_allclose(t2.drop(columns=["effect", "role", "ci_low", "ci_high"]).to_numpy(),
                                   ap.drop(columns=["effect", "role", "ci_low", "ci_high"]).to_numpy(), rtol=1e-10)
        i2 = dy.nonindependence(ra[:, 2], rb[:, 2], distinguishable=False)
        np.testing.assert_allclose([i2.estimate, i2.p, i2.ci_low], [icc.estimate, icc.p, icc.ci_low], rtol=1e-12)


def test_batched_equals_one_by_one():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 40, 4))
    batch = dy.cross_partner_paths(x[..., 0], x[..., 1], x[..., 2], x[..., 3], distinguishable=False)
    for s in range(3):
        one = dy.cross_partner_paths(x[s, :, 0], x[s, :, 1], x[s, :, 2], x[s, :, 3], distinguishable=False)
        assert one["path"][0].se[0] == pytest.approx(batch["path"][0].se[s], rel=1e-12)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="same shape"):
        dy.dyad_moments(np.ones(5), np.ones(6), exchangeable=True)
    with pytest.raises(ValueError, match="finite"):
        dy.dyad_moments([1.0, np.nan, 2, 3, 4, 5], [1.0, 2, 3, 4, 5, 6], exchangeable=True)
    with pytest.raises(ValueError, match="too few"):
        dy.dyad_moments([1.0, 2, 3], [1.0, 2, 3], exchangeable=False)


# ---------------------------------------------------------------------------
# pairing tables

STYLES = ["secure", "preoccupied", "dismissing", "fearful"]


@pytest.mark.parametrize("exchangeable, key", [(True, "unordered"), (False, "ordered")])
def test_pairing_loglinear_agrees_with_glm(exchangeable, key):
    a, b = wide()
    ca = np.array([STYLES.index(s) for s in a["style"]])
    cb = np.array([STYLES.index(s) for s in b["style"]])
    m = dy.pairing_loglinear(ca, cb, STYLES, [("preoccupied", "dismissing")], exchangeable=exchangeable)
    ref = REF["loglinear"][key]
    assert m.gamma[0] == pytest.approx(ref["gamma"], abs=1e-7)
    assert m.se[0] == pytest.approx(ref["gamma_se"], rel=1e-6)
    assert m.deviance_homogamy[0] == pytest.approx(ref["deviance0"], rel=1e-7)
    assert m.lr_chi2[0] == pytest.approx(ref["deviance0"] - ref["deviance1"], abs=1e-7)
    assert m.df_homogamy == ref["df0"]
    if exchangeable:
        tab = m.table.assign(i=[STYLES.index(c) for c in m.table.category_1],
                             j=[STYLES.index(c) for c in m.table.category_2]).sort_values(["j", "i"])
        assert tab["observed"].tolist() == ref["counts"]  # R's cells: (1,1), (1,2), (2,2), (1,3), ...
        # swapping partners does not change the unordered table or the test
        m2 = dy.pairing_loglinear(cb, ca, STYLES, [("dismissing", "preoccupied")], exchangeable=True)
        assert m2.p[0] == pytest.approx(m.p[0], rel=1e-12)


def test_pairing_loglinear_refuses_saturated_and_diagonal_pairs():
    with pytest.raises(ValueError, match="saturated"):
        dy.pairing_loglinear([0, 1, 2] * 10, [2, 1, 0] * 10, ["min", "bal", "max"], [("min", "max")],
                             exchangeable=True)
    with pytest.raises(ValueError, match="different categories"):
        dy.pairing_loglinear([0, 1] * 10, [1, 0] * 10, STYLES[:2] + ["x", "y"], [("secure", "secure")],
                             exchangeable=True)


def _all_matchings(people):
    if not people:
        yield []
        return
    first, rest = people[0], people[1:]
    for i in range(len(rest)):
        for m in _all_matchings(rest[:i] + rest[i + 1:]):
            yield [(first, rest[i])] + m


def test_matching_test_agrees_with_all_perfect_matchings():
    a = np.array([0, 1, 2, 1, 0])
    b = np.array([0, 2, 1, 1, 2])
    target = np.zeros((3, 3), dtype=bool)
    target[0, 0] = target[1, 1] = target[2, 2] = True
    pool = list(np.concatenate([a, b]))
    counts = [sum(target[pool[i], pool[j]] for i, j in m) for m in _all_matchings(list(range(10)))]
    obs = target[a, b].sum()
    exact_p = np.mean(np.array(counts) >= obs)
    o, e, p = dy.matching_count_test(a, b, target, exchangeable=True, n_permutations=40000, seed=5)
    assert o == obs and e == pytest.approx(np.mean(counts), rel=1e-12)
    assert p == pytest.approx(exact_p, abs=0.01)
    # the same p for any labelling of the partners and any order of the couples
    swap = np.array([True, False, True, True, False])
    a2, b2 = np.where(swap, b, a)[::-1], np.where(swap, a, b)[::-1]
    assert dy.matching_count_test(a2, b2, target, exchangeable=True, n_permutations=40000, seed=5)[2] == p


# ---------------------------------------------------------------------------
# dyadic measurement invariance (dySEM's dyadic CFA) against lavaan


@pytest.mark.parametrize("missing, key", [("listwise", "listwise"), ("fiml", "ml")])
def test_dyadic_invariance_agrees_with_lavaan(missing, key):
    from attachment_pipeline.invariance import dyadic_invariance_table

    d = pd.read_csv(REPO / "tests/data/dyads_items.csv")
    names = [f"x{j}" for j in range(1, 13)]
    a = d[[f"a_{j}" for j in range(1, 13)]].set_axis(names, axis=1)
    b = d[[f"b_{j}" for j in range(1, 13)]].set_axis(names, axis=1)
    t = dyadic_invariance_table(a, b, {"anx": names[:6], "avo": names[6:]}, estimator="ml", missing=missing)
    assert list(t.model) == ["configural", "loading", "intercept"]
    for _, r in t.iterrows():
        ref = REF["invariance"][key][r.model]["fit"]
        assert r.n == ref["ntotal"] and r.df == ref["df"] and r.npar == ref["npar"]
        assert r.chi2 == pytest.approx(ref["chisq"], rel=1e-6)
        for ours, theirs in (("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"), ("srmr", "srmr"),
                             ("loglik", "logl"), ("bic", "bic")):
            assert r[ours] == pytest.approx(ref[theirs], abs=1e-5), ours
    assert t.delta_df.tolist()[1:] == [10.0, 10.0] and t.decision.str.contains("invariance supported").iloc[1:].all()


def test_dyad_tables_decide_per_score_set():
    long = pd.read_csv(REPO / "tests/data/dyads_scores.csv").set_index("id")
    sets = {"dims": ["anxiety", "avoidance"], "mm": ["minmax_index"]}
    dist, ni = dy.dyad_tables(long, "couple", "role", sets)
    assert list(dist.columns[:5]) == ["score_set", "chi2", "df", "p", "distinguishable"]
    assert dist.set_index("score_set").loc["dims", "chi2"] == pytest.approx(REF["isat"]["ML"]["two"]["chisq"])
    assert dist.set_index("score_set").loc["mm", "df"] == 2
    mm = ni.set_index("score").loc["minmax_index"]
    assert mm.statistic == "icc" and mm.estimate == pytest.approx(REF["icc"]["icc1"], abs=1e-10)
    # declared distinguishable: Pearson r between the roles
    _, ni2 = dy.dyad_tables(long, "couple", "role", sets, setting="true")
    assert ni2.set_index("score").loc["minmax_index", "estimate"] == pytest.approx(REF["icc"]["pearson"], abs=1e-10)
    # without roles, and in a mixed sample (one couple shares a role)
    d3, _ = dy.dyad_tables(long, "couple", None, sets)
    assert d3.chi2.isna().all() and d3.decision.str.startswith("no role column").all()
    mixed = long.copy()
    mixed.loc[mixed.couple == "K001", "role"] = "A"
    d4, _ = dy.dyad_tables(mixed, "couple", "role", sets)
    assert d4.decision.str.startswith("mixed sample").all() and not d4.distinguishable.any()
    with pytest.raises(ValueError, match="distinguishable is true"):
        dy.dyad_tables(mixed, "couple", "role", sets, setting="true")


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_true_score_path_agrees_with_lavaan_single_indicators(est):
    """Error variances fixed from the reliabilities: the latent (single-indicator) I-SAT path."""
    a, b = wide()
    ref = REF["true_path"][est]
    res = dy.cross_partner_paths(a.anxiety, a.avoidance, b.anxiety, b.avoidance, distinguishable=False,
                                 robust=est == "MLR", reliability=ref["reliability"])
    np.testing.assert_allclose(dy.error_variances(res["moments"], ref["reliability"])[0, :2], ref["theta"],
                               rtol=1e-12)
    lab = labelled(ref["estimates"])
    assert res["path"][0].estimate[0] == pytest.approx(lab["path_av"][0], abs=1e-6)
    assert res["path"][0].se[0] == pytest.approx(lab["path_av"][1], rel=1e-4)
    plain = dy.cross_partner_paths(a.anxiety, a.avoidance, b.anxiety, b.avoidance, distinguishable=False)
    assert res["path"][0].estimate[0] != pytest.approx(plain["path"][0].estimate[0], abs=1e-3)


def test_dyads_step_writes_tables_without_couples_or_roles(tmp_path):
    from attachment_pipeline.config import Couples, Factors
    from attachment_pipeline.instruments import load_instrument
    from attachment_pipeline.steps import dyads_cohort

    long = pd.read_csv(REPO / "tests/data/dyads_scores.csv")
    scores = long.rename(columns={"anxiety": "ecr_r_anxiety", "avoidance": "ecr_r_avoidance"}).set_index("id")
    scores.index.name = "respondent_id"
    items = pd.DataFrame(index=scores.index, columns=[f"ecr_r_{k}" for k in range(1, 37)], dtype=float)

    class _Cohort:
        name = "c"
        instruments = (load_instrument("ecr_r"),)
        dimension_instruments = list(instruments)
        couples = Couples("couple", None, "auto")

    scores.to_csv(tmp_path / "scores.csv")
    items.to_csv(tmp_path / "items.csv")
    out = {k: tmp_path / f"{k}.csv" for k in ("distinguishability", "nonindependence", "invariance")}
    dyads_cohort(_Cohort(), Factors(), 0.95, {"scores": tmp_path / "scores.csv",
                                              "keyed_items": tmp_path / "items.csv"}, out)
    dist = pd.read_csv(out["distinguishability"])
    assert dist.score_set.tolist() == ["ecr_r"] and dist.decision.str.startswith("no role column").all()
    assert pd.read_csv(out["invariance"]).model.tolist() == ["not fitted"]
    scores["couple"] = np.nan  # a couple column without couples
    scores.to_csv(tmp_path / "scores.csv")
    dyads_cohort(_Cohort(), Factors(), 0.95, {"scores": tmp_path / "scores.csv",
                                              "keyed_items": tmp_path / "items.csv"}, out)
    assert pd.read_csv(out["distinguishability"]).decision.tolist() == ["not tested: no couples in the data"]
    assert pd.read_csv(out["nonindependence"]).empty
