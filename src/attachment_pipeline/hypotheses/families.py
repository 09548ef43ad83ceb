"""The hypothesis families: one function per family, from a cohort's data to result rows.

Each family takes the cohort's data (:class:`CohortData`), its checked entry
(defaults filled by :mod:`~attachment_pipeline.hypotheses.registry`), the
``hypothesis_testing`` settings and its own seed, and returns a
:class:`FamilyOutput`: the primary row first, secondary rows after, and extra
tables by name. The runner (:mod:`~attachment_pipeline.hypotheses.runner`) adds
ids, the correction and the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import dyads as dy
from ..dyads import (SSP_LABELS, SSP_STYLE, STYLE_SSP, CouplesFrame, DyadStructure, _pair_target,
                     children_with_styles, couples_frame, pairing_table, partner_values, primary_styles,
                     style_codes)
from ..dyads import _text  # ids as text: the convention shared with dyads
from ..inference import (NAN, _in_direction, cluster_correlation, cluster_equivalence_p, cluster_mean_difference,
                         clustered_auc, correlation_test, equivalence_correlation_p, goodness_of_fit,
                         group_comparison, partial_correlation, rao_scott_goodness_of_fit, wilson_interval)
from ..vocabulary import MINMAX_TYPES, STYLE_DIMENSIONS, STYLES
from .registry import HypothesisTestingSettings, reference_distribution


# ---------------------------------------------------------------------------
# the data a family sees


@dataclass(frozen=True)
class CohortData:
    """Everything the families may use for one cohort (read by the rule from the cohort's outputs).

    Attributes
    ----------
    cohort : the cohort name.
    scores : ``scores.csv`` indexed by respondent id (text).
    classification : ``classification.csv`` (long; first column the id), or None.
    items : ``items.csv`` (keyed items) indexed by id, or None.
    children : validated child records (``parent_id, child_id, ssp_code``), or None.
    couple_column, role_column : names of the couple and role columns in ``scores``.
    distinguishable : ``couples.distinguishable``: ``auto`` (test the roles), ``true`` or ``false``.
    primary_method : the primary classification method (``classification.method``).
    instruments : the cohort's Instrument objects (subscale structure for the CFA).
    reliability : ``reliability.csv`` (for disattenuated correlations), or None.
    """

    cohort: str
    scores: pd.DataFrame
    classification: pd.DataFrame | None = None
    items: pd.DataFrame | None = None
    children: pd.DataFrame | None = None
    couple_column: str | None = None
    role_column: str | None = None
    primary_method: str = "midpoint"
    instruments: tuple = ()
    reliability: pd.DataFrame | None = None
    distinguishable: str = "auto"

    # -- helpers used by the families
    def dimension_instrument(self, name: str | None = None) -> str:
        """The instrument measuring anxiety and avoidance: ``name`` or the cohort's first one."""
        have = [i.name for i in self.instruments if {"anxiety", "avoidance"} <= set(i.subscales)]
        if not have:
            have = [c[: -len("_anxiety")] for c in self.scores.columns
                    if c.endswith("_anxiety") and f"{c[: -len('_anxiety')]}_avoidance" in self.scores.columns]
        if name is None:
            if not have:
                raise ValueError(f"Cohort {self.cohort!r} has no instrument measuring anxiety and avoidance "
                                 "(no <instrument>_anxiety / _avoidance scores).")
            return have[0]
        if name not in have:
            raise ValueError(f"Cohort {self.cohort!r} has no dimension instrument {name!r}; it has {have}.")
        return name

    def instrument(self, name: str):
        """The Instrument object named ``name`` (the shipped definition when not given)."""
        for inst in self.instruments:
            if inst.name == name:
                return inst
        from ..instruments import load_instrument
        return load_instrument(name)

    def numeric(self, column: str) -> pd.Series:
        """A numeric score column."""
        if column not in self.scores.columns:
            raise ValueError(f"Cohort {self.cohort!r}: scores have no column {column!r} "
                             f"(columns: {', '.join(map(str, self.scores.columns))}).")
        s = pd.to_numeric(self.scores[column], errors="coerce")
        if s.notna().sum() == 0:
            raise ValueError(f"Cohort {self.cohort!r}: column {column!r} has no numeric values.")
        return s.astype(float)

    def couples(self, needed, scores: pd.DataFrame | None = None) -> CouplesFrame:
        """Couples whose partners both have the ``needed`` columns (:func:`~attachment_pipeline.dyads.couples_frame`).

        ``scores`` defaults to :attr:`scores` (pass :meth:`with_columns` to use added columns).
        """
        if not self.couple_column:
            raise ValueError(f"Cohort {self.cohort!r} has no couples (no couple column); this hypothesis needs them.")
        return couples_frame(self.scores if scores is None else scores, self.couple_column, self.role_column, needed)

    def dyads(self, columns, scores: pd.DataFrame | None = None, also=()) -> "Dyads":
        """Couples with both partners' ``columns`` (and ``also``) and the decision distinguishable or not.

        With ``distinguishable: auto`` the roles are tested on ``columns``
        (:func:`~attachment_pipeline.dyads.dyad_structure`).
        """
        columns = [columns] if isinstance(columns, str) else list(columns)
        scores = self.scores if scores is None else scores
        cf = self.couples(columns + list(also), scores)
        if cf.n < 2 * len(columns) + 2:
            raise ValueError(f"Cohort {self.cohort!r}: {cf.n} couples with {', '.join(columns)} for both partners; "
                             f"a dyadic analysis needs at least {2 * len(columns) + 2}.")
        xa = np.column_stack([partner_values(scores[c].astype(float), cf)[0] for c in columns])
        xb = np.column_stack([partner_values(scores[c].astype(float), cf)[1] for c in columns])
        return Dyads(cf, xa, xb, dy.dyad_structure(cf, xa, xb, self.distinguishable))

    def clusters(self) -> np.ndarray | None:
        """Couple id per respondent (None for respondents without a partner), or None without couples."""
        if not self.couple_column or self.couple_column not in self.scores.columns:
            return None
        c = self.scores[self.couple_column]
        return np.array([None if (pd.isna(v) or str(v).strip() == "") else str(v) for v in c], dtype=object)

    def styles(self, instrument: str) -> pd.Series:
        """Style per respondent from the primary classification method."""
        if self.classification is None:
            raise ValueError(f"Cohort {self.cohort!r} has no classification table; this hypothesis needs styles.")
        return primary_styles(self.classification, self.primary_method, instrument)

    def with_columns(self, **columns) -> pd.DataFrame:
        """The scores with extra columns (Series aligned by id)."""
        out = self.scores.copy()
        ids = _text(out.index.to_numpy())
        for name, s in columns.items():
            out[name] = pd.Series(s.to_numpy(), index=_text(s.index.to_numpy())).reindex(ids).to_numpy()
        return out


@dataclass(frozen=True)
class Dyads:
    """Couples with complete values of some columns: partner a's and b's values as (n, k) arrays."""

    frame: CouplesFrame
    xa: np.ndarray
    xb: np.ndarray
    structure: DyadStructure

    @property
    def n(self) -> int:
        return self.frame.n


@dataclass(frozen=True)
class Row:
    """One statistical result of a family, before the runner adds id, cohort, correction and support."""

    description: str
    n: int
    statistic_name: str
    statistic: float
    df: float
    p_value: float
    effect_size_name: str
    effect_size: float
    ci_low: float
    ci_high: float
    null_value: float
    in_direction: bool
    note: str = ""
    primary: bool = True
    suffix: str = ""
    direction: str | None = None


@dataclass(frozen=True)
class FamilyOutput:
    """What a family returns: its rows (primary first), tables shared by families (by name, stacked
    with an ``id`` column) and files of its own (``<id>_<name>.csv``, written as they are)."""

    rows: tuple[Row, ...]
    tables: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)


def _opposite(direction: str) -> str:
    return {"greater": "less", "less": "greater"}.get(direction, "two-sided")


def _excluded_note(n_excluded: int, what: str, why: str) -> str:
    return f"{n_excluded} {what} excluded ({why})" if n_excluded else f"no {what} excluded"


def _opposite(direction: str) -> str:
    return {"greater": "less", "less": "greater"}.get(direction, "two-sided")


def _excluded_note(n_excluded: int, what: str, why: str) -> str:
    return f"{n_excluded} {what} excluded ({why})" if n_excluded else f"no {what} excluded"


def _f(x) -> float:
    return float(np.asarray(x).ravel()[0])


def _effect_row(desc, n, eff, effect_name, direction, note, primary=True, suffix="", null=0.0) -> Row:
    """A row from a :class:`~attachment_pipeline.dyads.DyadicEffect` (data set 0): Wald z, p, interval."""
    est = _f(eff.estimate)
    return Row(desc, n, "z", _f(eff.z), NAN, _f(eff.p), effect_name, est, _f(eff.ci_low), _f(eff.ci_high), null,
               _in_direction(est, null, direction), note, primary, suffix, None if primary else direction)


def _clustered_note(n_clusters: int, n: int) -> str:
    return (f"{n} respondents in {n_clusters} clusters (couples; respondents without a partner on their own): "
            "cluster-robust standard error")


# ---------------------------------------------------------------------------
# the families


def _attenuation(data: CohortData, columns, correct: bool):
    """Reliabilities (alpha) of the columns for the true-score correction, and the note saying so."""
    if not correct:
        return None, "scores as measured (no correction for measurement error)"
    rel = [_reliability_of(data, c) for c in columns]
    return rel, ("true scores: error variances fixed at (1 - alpha) x variance, alpha = "
                 + ", ".join(f"{v:.3f}" for v in rel))


def family_complementarity(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H1: one partner's anxiety predicting the other's avoidance beyond the first partner's own avoidance."""
    inst = data.dimension_instrument(e["instrument"])
    xs, ys = e["x_subscale"], e["y_subscale"]
    xcol, ycol = f"{inst}_{xs}", f"{inst}_{ys}"
    scores = data.with_columns(**{xcol: data.numeric(xcol), ycol: data.numeric(ycol)})
    d = data.dyads([xcol, ycol], scores)
    s = d.structure
    robust = e["estimator"] == "mlr"
    rel, rel_note = _attenuation(data, [xcol, ycol], e["correct_attenuation"])
    res = dy.cross_partner_paths(d.xa[:, 0], d.xa[:, 1], d.xb[:, 0], d.xb[:, 1], distinguishable=s.distinguishable,
                                 robust=robust, ci=st.ci, direction=e["direction"], roles=s.roles or ("a", "b"),
                                 reliability=rel)
    excl = _excluded_note(d.frame.n_excluded, "couple(s)", f"a partner lacks {xcol} or {ycol}")
    model = ("saturated model of both partners' scores" if s.distinguishable else
             "I-SAT model (partners exchangeable)")
    common = (f"{d.n} couples, {excl}; {s.reason}; {model} of {rel_note}; {'MLR' if robust else 'ML'} standard "
              "errors by the delta method; Wald interval")
    desc = e["description"] or (f"{inst}: one partner's {xs} predicting the other's {ys} beyond the first "
                                f"partner's own {ys} (standardized cross-partner path)")
    meaning = (f"null: the cross-partner link of {xs} and {ys} is only what {ys} similarity and the within-person "
               f"{xs}-{ys} correlation produce (path 0); a shared couple-level factor also makes the path "
               "positive and cannot be told apart (docs/calibration.md)")
    prim = res["mean_path"][0] if s.distinguishable else res["path"][0]
    rows = [_effect_row(desc, d.n, prim, "std_path", e["direction"],
                        common + ("; effect: the mean of the two directions" if s.distinguishable else "")
                        + "; " + meaning)]
    if s.distinguishable:
        (ra, rb) = s.roles
        for eff, src, dst in ((res["path"][1], ra, rb), (res["path"][0], rb, ra)):
            rows.append(_effect_row(f"{inst}: {xs} of {src} predicting {ys} of {dst} beyond {src}'s own {ys}", d.n,
                                    eff, "std_path", e["direction"], "secondary; " + common, False,
                                    f"[path_{xs}_{src}~{ys}_{dst}]"))
        for eff, src, dst in ((res["r_cross"][1], ra, rb), (res["r_cross"][0], rb, ra)):
            rows.append(_effect_row(f"{inst}: correlation of {xs} of {src} with {ys} of {dst}", d.n, eff, "r_cross",
                                    e["direction"], "secondary, descriptive: includes what similarity produces; "
                                    + common, False, f"[r_{xs}_{src}~{ys}_{dst}]"))
    else:
        rows.append(_effect_row(f"{inst}: correlation of one partner's {xs} with the other's {ys} (double entry)",
                                d.n, res["r_cross"][0], "r_cross", e["direction"],
                                "secondary, descriptive: the pairwise (Griffin & Gonzalez, 1995) correlation, which "
                                "includes what similarity produces; " + common, False, "[r_cross]"))
    rev = res["reverse"]
    for k, eff in enumerate(rev):
        who = "" if not s.distinguishable else f" ({['of ' + s.roles[1] + ' to ' + s.roles[0], 'of ' + s.roles[0] + ' to ' + s.roles[1]][k]})"
        rows.append(_effect_row(f"{inst}: one partner's {ys} predicting the other's {xs} beyond the first partner's "
                                f"own {xs}{who}", d.n, eff, "std_path", e["direction"], "secondary; " + common, False,
                                f"[path_{ys}~{xs}{'' if not s.distinguishable else '_' + str(k + 1)}]"))
    return FamilyOutput(tuple(rows))


def _style_dyads(data: CohortData, inst: str):
    """Couples with both partners' styles, their style codes and the dyad structure (tested on the dimensions)."""
    styles = data.styles(inst)
    anx, avo = f"{inst}_anxiety", f"{inst}_avoidance"
    scores = data.with_columns(_style=styles, **{anx: data.numeric(anx), avo: data.numeric(avo)})
    d = data.dyads([anx, avo], scores, also=["_style"])
    sa, sb = partner_values(scores["_style"], d.frame)
    return d, style_codes(sa), style_codes(sb)


def _pair_indices(labels, pair, key: str) -> tuple[int, int]:
    bad = [p for p in pair if p not in labels]
    if len(pair) != 2 or bad:
        raise ValueError(f"{key} must name two of {', '.join(labels)}; got {pair!r}.")
    return labels.index(pair[0]), labels.index(pair[1])


def _count_row(desc, n, obs, exp, p, e, st, what, suffix="", primary=True, direction=None, extra="", null_text=""):
    from ..inference import poisson_interval
    ratio = obs / exp if exp > 0 else NAN
    lo, hi = poisson_interval(int(obs), st.ci)
    lo, hi = (lo / exp, hi / exp) if exp > 0 else (NAN, NAN)
    d = direction or e["direction"]
    note = (f"{extra}{what}: {int(obs)} observed, {exp:.2f} expected under random {null_text or 'pairing'} "
            f"(exact permutation mean); {'mid-' if st.mid_p else ''}p from {st.n_permutations} random pairings; "
            f"CI: exact Poisson interval of the count / expected")
    return Row(desc, n, "observed_couples", float(obs), NAN, p, "ratio_observed_expected", ratio, lo, hi,
               1.0, _in_direction(ratio, 1.0, d), note, primary, suffix, direction)


def _pairing_table(a, b, labels, exchangeable, variable, model=None) -> pd.DataFrame:
    table = pairing_table(a, b, labels, exchangeable=exchangeable)
    if model is not None and model.table is not None:
        mt = model.table
        i = [labels.index(c) for c in mt["category_1"]]
        j = [labels.index(c) for c in mt["category_2"]]
        key = [(labels[min(u, v)], labels[max(u, v)]) for u, v in zip(i, j)]
        folded = pd.Series(mt["expected_homogamy"].to_numpy(), index=pd.MultiIndex.from_tuples(key)).groupby(
            level=[0, 1]).sum()
        table["expected_homogamy"] = [folded.get((c1, c2), NAN) for c1, c2 in zip(table.category_1,
                                                                                  table.category_2)]
    table.insert(0, "variable", variable)
    return table


def family_complementary_pairing(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H1 in categories: couples of a style pair beyond homogamy (log-linear), and against random pairing."""
    inst = data.dimension_instrument(e["instrument"])
    d, a, b = _style_dyads(data, inst)
    s = d.structure
    i, j = _pair_indices(list(STYLES), list(e["pair"]), "pair")
    by_dimension = e["homogamy"] == "dimensions"
    m = dy.pairing_loglinear(a, b, list(STYLES), [(STYLES[i], STYLES[j])], exchangeable=not s.distinguishable,
                             direction=e["direction"], ci=st.ci,
                             agreement=list(STYLE_DIMENSIONS.values()) if by_dimension else None)
    excl = _excluded_note(d.frame.n_excluded, "couple(s)", "a partner has no style")
    table_kind = ("ordered table (role margins)" if s.distinguishable else
                  "unordered table (symmetric margins)")
    homogamy = ("one homogamy parameter for agreeing on anxiety and one for agreeing on avoidance (Kalmijn, 1998)"
                if by_dimension else "one homogamy parameter per style (quasi-independence)")
    desc = e["description"] or (f"{STYLES[i]}-{STYLES[j]} couples ({inst}, {data.primary_method}) beyond homogamy "
                                "(log-linear)")
    note = (f"{d.n} couples, {excl}; {s.reason}; Poisson log-linear model of the {table_kind} with {homogamy}: "
            f"{int(m.observed[0])} {STYLES[i]}-{STYLES[j]} couples, "
            f"{float(m.expected_homogamy[0]):.2f} expected from homogamy and the margins; likelihood-ratio "
            f"chi2(1) = {float(m.lr_chi2[0]):.3f}, signed root z; effect exp(gamma) with Wald interval")
    rows = [Row(desc, d.n, "z", _f(m.z), NAN, _f(m.p), "ratio_beyond_homogamy", _f(m.ratio), _f(m.ci_low),
                _f(m.ci_high), 1.0, _in_direction(_f(m.ratio), 1.0, e["direction"]), note)]
    target = _pair_target(4, [(i, j)])
    obs, exp, p = dy.matching_count_test(a, b, target, exchangeable=not s.distinguishable, direction=e["direction"],
                                         n_permutations=st.n_permutations, seed=seed, mid_p=st.mid_p)
    rows.append(_count_row(f"{STYLES[i]}-{STYLES[j]} couples against random pairing", d.n, obs, exp, p, e, st,
                           f"{STYLES[i]}-{STYLES[j]} couples", "[vs_random_pairing]", False, e["direction"],
                           "secondary: random pairing also removes similarity, so this is not a test of "
                           "complementarity beyond similarity; ",
                           "re-pairing of the roles" if s.distinguishable else "matching of all partners"))
    table = _pairing_table(a, b, list(STYLES), not s.distinguishable, f"style:{inst}:{data.primary_method}", m)
    return FamilyOutput(tuple(rows), {"pairing_table": table})


def _minmax_dyads(data: CohortData, index_col: str, type_col: str):
    """Couples with both partners' min/max index and type, the type codes and the dyad structure."""
    if type_col not in data.scores.columns:
        raise ValueError(f"Cohort {data.cohort!r}: scores have no column {type_col!r} (the min/max typology).")
    types = data.scores[type_col]
    bad = sorted(set(types.dropna().astype(str)) - set(MINMAX_TYPES))
    if bad:
        raise ValueError(f"Column {type_col!r} holds unknown types {bad}; expected {', '.join(MINMAX_TYPES)}.")
    scores = data.with_columns(**{index_col: data.numeric(index_col)})
    d = data.dyads([index_col], scores, also=[type_col])
    ta, tb = partner_values(scores[type_col].astype(object), d.frame)
    lookup = {t: k for k, t in enumerate(MINMAX_TYPES)}
    return d, np.array([lookup[t] for t in ta]), np.array([lookup[t] for t in tb])


def family_minmax_complementarity(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H2: partner similarity of the min/max index (ICC or r by dyad structure); min-max couples."""
    d, ta, tb = _minmax_dyads(data, e["index_column"], e["type_column"])
    s = d.structure
    ni = dy.nonindependence(d.xa[:, 0], d.xb[:, 0], distinguishable=s.distinguishable, ci=st.ci,
                            direction=e["direction"])
    excl = _excluded_note(d.frame.n_excluded, "couple(s)", f"a partner lacks {e['index_column']}")
    desc = e["description"] or (f"partner similarity of {e['index_column']} (negative: minimisers pair with "
                                "maximisers)")
    if s.distinguishable:
        how = (f"Pearson r between the roles, t test on {d.n - 2} df, Fisher-z interval")
        row = Row(desc, d.n, "t", _f(ni.test_statistic), ni.df1, _f(ni.p), "r", _f(ni.estimate), _f(ni.ci_low),
                  _f(ni.ci_high), 0.0, _in_direction(_f(ni.estimate), 0.0, e["direction"]),
                  f"{d.n} couples, {excl}; {s.reason}; {how}")
    else:
        how = (f"ANOVA intraclass correlation (pairwise, does not depend on who is partner a), exact F test on "
               f"({d.n - 1}, {d.n}) df, McGraw-Wong interval")
        row = Row(desc, d.n, "F", _f(ni.test_statistic), ni.df1, _f(ni.p), "icc", _f(ni.estimate), _f(ni.ci_low),
                  _f(ni.ci_high), 0.0, _in_direction(_f(ni.estimate), 0.0, e["direction"]),
                  f"{d.n} couples, {excl}; {s.reason}; {how}")
    rows = [row]
    d2 = _opposite(e["direction"])
    obs, exp, p = dy.matching_count_test(ta, tb, _pair_target(3, [(0, 2)]), exchangeable=not s.distinguishable,
                                         direction=d2, n_permutations=st.n_permutations, seed=seed, mid_p=st.mid_p)
    rows.append(_count_row("min-max couples (one minimiser, one maximiser) against random pairing", d.n, obs, exp, p,
                           e, st, "min-max couples", "[min_max_couples]", False, d2,
                           f"secondary, direction {d2}; with three types a homogamy model leaves nothing to test "
                           "beyond similarity, so this count is against random pairing; ",
                           "re-pairing of the roles" if s.distinguishable else "matching of all partners"))
    table = _pairing_table(ta, tb, list(MINMAX_TYPES), not s.distinguishable, e["type_column"])
    return FamilyOutput(tuple(rows), {"pairing_table": table})


def family_pairing_symmetry(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H3: share of symmetric couples (and of complementary ones) with Wilson intervals, against random pairing."""
    if e["by"] == "minmax_type":
        d, a, b = _minmax_dyads(data, e["index_column"], e["type_column"])
        labels = list(MINMAX_TYPES)
        sym, comp = [(0, 0), (2, 2)], [(0, 2)]
        sym_text, comp_text = "min-min or max-max", "min-max"
        variable = e["type_column"]
    else:
        inst = data.dimension_instrument(e["instrument"])
        d, a, b = _style_dyads(data, inst)
        labels = list(STYLES)
        sym, comp = [(k, k) for k in range(4)], [(1, 2)]
        sym_text, comp_text = "same style", "preoccupied-dismissing"
        variable = f"style:{inst}:{data.primary_method}"
    s = d.structure
    s1, s2 = np.random.SeedSequence(seed).spawn(2)
    rows = []
    null_text = "re-pairing of the roles" if s.distinguishable else "matching of all partners"
    for what, pairs, ss, primary in ((f"symmetric ({sym_text})", sym, s1, True),
                                     (f"complementary ({comp_text})", comp, s2, False)):
        obs, exp, p = dy.matching_count_test(a, b, _pair_target(len(labels), pairs),
                                             exchangeable=not s.distinguishable, direction=e["direction"],
                                             n_permutations=st.n_permutations, seed=ss, mid_p=st.mid_p)
        share, null = obs / d.n, exp / d.n
        lo, hi = wilson_interval(int(obs), d.n, st.ci)
        desc = (e["description"] if primary and e["description"] else
                f"share of {what} couples ({variable}) against random pairing")
        note = (("" if primary else "secondary; ")
                + _excluded_note(d.frame.n_excluded, "couple(s)", "a partner lacks the category")
                + f"; {s.reason}; {int(obs)} of {d.n} couples, expected share {null:.4f} under random {null_text}; "
                f"{'mid-' if st.mid_p else ''}p from {st.n_permutations} random pairings; Wilson CI")
        rows.append(Row(desc, d.n, "observed_couples", obs, NAN, p, "share", share, lo, hi, null,
                        _in_direction(share, null, e["direction"]), note, primary,
                        "" if primary else "[complementary_share]"))
    table = _pairing_table(a, b, labels, not s.distinguishable, variable)
    return FamilyOutput(tuple(rows), {"pairing_table": table})


def _alpha_from_items(data: CohortData, column: str) -> float | None:
    """Cronbach's alpha of a subscale score from the keyed items (listwise), or None when not derivable."""
    if data.items is None or "_" not in column:
        return None
    for inst in data.instruments:
        prefix = f"{inst.name}_"
        if column.startswith(prefix) and column[len(prefix):] in getattr(inst, "subscales", ()):
            cols = [f"{inst.name}_{k}" for k in inst.subscale_items(column[len(prefix):])]
            if not set(cols) <= set(data.items.columns):
                return None
            from ..reliability import cronbach_alpha
            x = data.items[cols].apply(pd.to_numeric, errors="coerce").dropna()
            return float(cronbach_alpha(np.cov(x.to_numpy(), rowvar=False))) if len(x) > len(cols) else None
    return None


def _reliability_of(data: CohortData, column: str) -> float:
    rel = data.reliability
    if rel is None:
        alpha = _alpha_from_items(data, column)
        if alpha is not None:
            return alpha
        raise ValueError(f"Disattenuation needs the reliability of {column!r}: give it in the hypothesis "
                         "(reliability_x / reliability_y) or provide reliability.csv.")
    need = {"instrument", "subscale", "alpha"}
    if not need <= set(rel.columns):
        raise ValueError(f"reliability table lacks column(s) {sorted(need - set(rel.columns))}.")
    mask = (rel["instrument"].astype(str) + "_" + rel["subscale"].astype(str)) == column
    if "group_column" in rel.columns:
        mask &= rel["group_column"].astype(str) == "all"
    vals = rel.loc[mask, "alpha"].astype(float).to_numpy()
    if len(vals) != 1 or not np.isfinite(vals[0]):
        raise ValueError(f"No reliability (alpha) of {column!r} in reliability.csv; give "
                         f"reliability_x / reliability_y in the hypothesis.")
    return float(vals[0])


def _with_clusters(data: CohortData, mask: np.ndarray):
    """Cluster labels of the respondents in ``mask``, or None when the cohort has no couples."""
    clusters = data.clusters()
    if clusters is None:
        return None
    cl = clusters[mask]
    return cl if any(v is not None for v in cl) else None


def family_correlation(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H4 (and any two score columns): Pearson/Spearman correlation, couple-clustered when partners are in the data."""
    x, y = data.numeric(e["x"]), data.numeric(e["y"])
    rx, ry = e["reliability_x"], e["reliability_y"]
    if e["disattenuate"]:
        rx = rx if rx is not None else _reliability_of(data, e["x"])
        ry = ry if ry is not None else _reliability_of(data, e["y"])
    else:
        rx = ry = None
    ok = (x.notna() & y.notna()).to_numpy()
    cl = _with_clusters(data, ok)
    n_missing = int(len(x) - ok.sum())
    desc = e["description"] or f"{e['method'].capitalize()} correlation of {e['x']} with {e['y']}"
    name = "r" if e["method"] == "pearson" else "rho"
    if cl is None:
        c = correlation_test(x.to_numpy(), y.to_numpy(), method=e["method"], direction=e["direction"], ci=st.ci,
                             reliability_x=rx, reliability_y=ry)
        r, stat, df, p, lo, hi, n = c.r, c.t, c.df, c.p_value, c.ci_low, c.ci_high, c.n
        note = f"{n_missing} respondent(s) without both scores excluded; Fisher-z CI"
    else:
        if ok.sum() < 4:
            raise ValueError(f"A correlation test needs at least 4 complete pairs; got {int(ok.sum())}.")
        c = cluster_correlation(x.to_numpy()[ok], y.to_numpy()[ok], cl, method=e["method"], direction=e["direction"],
                                ci=st.ci)
        r, stat, df, p, lo, hi, n = c.r, c.t, c.df, c.p, c.ci_low, c.ci_high, c.n
        note = (f"{n_missing} respondent(s) without both scores excluded; {_clustered_note(c.n_clusters, c.n)} "
                f"(linearisation), t on {c.df} df, Fisher-z CI")
    if rx is not None:
        f = float(np.sqrt(rx * ry))
        note += (f"; effect size and CI corrected for attenuation with reliabilities {rx:.4g} and {ry:.4g} "
                 f"(observed r = {r:.4f}); the test is that of the observed r")
        eff, lo, hi = (float(np.clip(v / f, -1, 1)) for v in (r, lo, hi))
        name = "r_disattenuated"
    else:
        eff = r
    return FamilyOutput((Row(desc, n, "t", float(stat), float(df), float(p), name, float(eff), float(lo), float(hi),
                             0.0, _in_direction(float(r), 0.0, e["direction"]), note),))


def family_prevalence(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H5: style counts against a reference distribution (chi-square goodness of fit, Cohen's w; Rao-Scott with couples)."""
    inst = data.dimension_instrument(e["instrument"])
    styles = data.styles(inst)
    props, style_map = reference_distribution(e["reference"], e["fearful"])
    unknown = sorted(set(styles) - set(STYLES))
    if unknown:
        raise ValueError(f"The primary classification has labels {unknown}, not the four styles; the "
                         "prevalence test needs the four styles.")
    cats = styles.map(style_map)
    excluded = int(cats.isna().sum())
    cats = cats.dropna()
    ids = _text(cats.index.to_numpy())
    clusters = data.clusters()
    cl = None
    if clusters is not None:
        by_id = pd.Series(clusters, index=_text(data.scores.index.to_numpy()))
        cl = by_id.reindex(ids).to_numpy(dtype=object)
        cl = cl if any(v is not None and not (isinstance(v, float) and np.isnan(v)) for v in cl) else None
    ref_name = e["reference"] if isinstance(e["reference"], str) else "explicit proportions"
    base = (f"reference {ref_name}; " + (f"{excluded} fearful respondent(s) excluded (no such class in the "
                                          f"reference); " if excluded else "")
            + ("two-sided: supported means the distribution differs from the reference; "
               if e["direction"] == "two-sided" else f"equivalence test: supported means w < {e['w_margin']}; "))
    if cl is None:
        obs = {c: int((cats == c).sum()) for c in props}
        g = goodness_of_fit(obs, props, direction=e["direction"], w_margin=e["w_margin"], ci=st.ci)
        stat, df, p, note = g.chi2, g.df, g.p_value, base + "CI of w from the noncentral chi-square"
    else:
        g = rao_scott_goodness_of_fit(cats.to_numpy(dtype=object), props, cl, direction=e["direction"],
                                      w_margin=e["w_margin"], ci=st.ci)
        stat, df, p = g.chi2, g.df, g.p
        note = (base + f"{_clustered_note(g.n_clusters, g.n)}: Rao-Scott (Satterthwaite) corrected chi-square, "
                f"X2 / {g.scale:.3f} on {g.df:.2f} df (design effects "
                + ", ".join(f"{v:.2f}" for v in g.design_effects) + "); CI of w from the noncentral chi-square of "
                "the first-order corrected statistic")
    desc = e["description"] or f"style distribution ({inst}, {data.primary_method}) against {ref_name}"
    null = 0.0 if e["direction"] == "two-sided" else float(e["w_margin"])
    in_dir = bool(g.w > 0) if e["direction"] == "two-sided" else bool(g.w < e["w_margin"])
    row = Row(desc, g.n, "chi2", stat, float(df), p, "cohens_w", g.w, g.w_ci_low, g.w_ci_high, null, in_dir, note)
    observed = np.array(g.observed)
    table = pd.DataFrame({"category": list(g.categories), "observed": list(observed),
                          "expected": list(g.expected), "percent_observed": 100 * observed / g.n,
                          "percent_reference": [100 * props[c] for c in g.categories]})
    table.insert(0, "reference", ref_name)
    return FamilyOutput((row,), {"prevalence_table": table})


def transmission_table(records: pd.DataFrame) -> pd.DataFrame:
    """Parent style by child Strange Situation code, all 16 cells, long format.

    Columns ``parent_style, ssp_code, child_style, concordant, n, percent_of_parent``
    (percent of the parent style's children; NaN when that style has none).

    >>> r = pd.DataFrame({"parent_style": ["secure", "secure"], "ssp_code": ["B", "A"]})
    >>> t = transmission_table(r)
    >>> t[t.n > 0][["parent_style", "ssp_code", "concordant", "n", "percent_of_parent"]].values.tolist()
    [['secure', 'A', False, 1, 50.0], ['secure', 'B', True, 1, 50.0]]
    """
    codes = sorted(SSP_STYLE)
    full = pd.MultiIndex.from_product([list(STYLES), codes], names=["parent_style", "ssp_code"])
    n = records.groupby(["parent_style", "ssp_code"]).size().reindex(full, fill_value=0)
    out = n.rename("n").reset_index()
    out["n"] = out["n"].astype(np.int64)
    out.insert(2, "child_style", [f"{SSP_LABELS[c]} ({SSP_STYLE[c]})" for c in out["ssp_code"]])
    out.insert(3, "concordant", [STYLE_SSP[s] == c for s, c in zip(out["parent_style"], out["ssp_code"])])
    tot = out.groupby("parent_style")["n"].transform("sum")
    out["percent_of_parent"] = np.where(tot > 0, 100 * out["n"] / tot.where(tot > 0), np.nan)
    return out


def family_transmission(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H6: do children's Strange Situation codes follow their parents' styles? Families as units."""
    if data.children is None:
        raise ValueError(f"Cohort {data.cohort!r} has no parent-child records; the transmission test needs them.")
    inst = data.dimension_instrument(e["instrument"])
    ch = children_with_styles(data.children, data.styles(inst))
    rec = ch.records
    n = len(rec)
    if n < 2:
        raise ValueError(f"Cohort {data.cohort!r}: fewer than 2 child records with a parent style ({n}).")
    clusters = data.clusters()
    parent = rec["parent_id"].to_numpy(dtype=object)
    if clusters is not None:
        couple_of = pd.Series(clusters, index=_text(data.scores.index.to_numpy()))
        fam = couple_of.reindex(parent).to_numpy(dtype=object)
        family = np.array([("couple:" + str(c)) if c is not None and not (isinstance(c, float) and np.isnan(c))
                           else ("parent:" + str(p)) for c, p in zip(fam, parent)], dtype=object)
    else:
        family = np.array(["parent:" + str(p) for p in parent], dtype=object)
    res = dy.transmission_test(style_codes(rec["parent_style"].to_numpy()), style_codes(rec["child_style"].to_numpy()),
                               family, parent, n_permutations=st.n_permutations, n_bootstrap=st.n_bootstrap,
                               seed=seed, ci=st.ci, mid_p=st.mid_p)
    excl = _excluded_note(ch.n_excluded, "child record(s)", "the parent has no style")
    desc = e["description"] or (f"children's Strange Situation codes follow their parents' styles ({inst}, "
                                f"{data.primary_method}): agreement beyond chance")
    note = (f"{n} parent-child records in {res.n_families} families (a parent with all children, both partners of a "
            f"couple together), {excl}; {res.concordant} concordant, {100 * res.expected_concordance:.1f}% expected "
            f"from the margins alone; one-sided {'mid-' if st.mid_p else ''}p from {st.n_permutations} permutations of whole families' parent "
            f"styles among families of the same shape ({res.n_strata} shape(s)), statistic the sum of the diagonal "
            f"Pearson residuals; Cohen's kappa, CI: family bootstrap percentile ({st.n_bootstrap})")
    rows = [Row(desc, n, "kappa", res.kappa, NAN, res.p, "kappa", res.kappa, res.kappa_ci_low, res.kappa_ci_high,
                0.0, _in_direction(res.kappa, 0.0, "greater"), note)]
    rate0 = float(e["reference_rate"])
    rows.append(Row(f"concordance of parent style and child code beside the reference rate {rate0:g}", n,
                    "concordant", float(res.concordant), NAN, NAN, "concordance_rate", res.concordance,
                    res.concordance_ci_low, res.concordance_ci_high, rate0, bool(res.concordance > rate0),
                    f"secondary, an estimate, not a test: {100 * res.concordance:.1f}% concordant against the "
                    f"reference {100 * rate0:g}% (seed 3.1-3.2) and {100 * res.expected_concordance:.1f}% from the "
                    "margins alone; CI: family bootstrap percentile", False, "[concordance]", "two-sided"))
    return FamilyOutput(tuple(rows), {"transmission_table": transmission_table(rec)})


def family_dimensions_distinct(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H7: |r(anxiety, avoidance)| below r_max (TOST, Fisher z; couple-clustered) and two factors against one."""
    inst = data.dimension_instrument(e["instrument"])
    xs, ys = data.numeric(f"{inst}_anxiety"), data.numeric(f"{inst}_avoidance")
    x, y = xs.to_numpy(), ys.to_numpy()
    r_max = float(e["r_max"])
    ok = np.isfinite(x) & np.isfinite(y)
    cl = _with_clusters(data, ok)
    desc = e["description"] or f"{inst} anxiety and avoidance are distinct: |r| < {r_max:g}"
    if cl is None:
        c = correlation_test(x, y, ci=st.ci)
        r, lo, hi, n = c.r, c.ci_low, c.ci_high, c.n
        p = equivalence_correlation_p(c.r, c.n, r_max)
        how = "two one-sided Fisher-z tests"
    else:
        c = cluster_correlation(x[ok], y[ok], cl, ci=st.ci)
        r, lo, hi, n = c.r, c.ci_low, c.ci_high, c.n
        p = float(cluster_equivalence_p(c.r, c.se, r_max, c.df))
        how = f"two one-sided Fisher-z tests with a {_clustered_note(c.n_clusters, c.n)}"
    rows = [Row(desc, n, "r", r, NAN, p, "r", r, lo, hi, r_max, bool(abs(r) < r_max),
                f"{how} of -{r_max:g} < rho < {r_max:g}; Fisher-z CI; "
                f"{int(len(x) - ok.sum())} respondent(s) without both scores excluded")]
    if e["cfa"] and data.items is not None:
        from ..factors import cfa
        from ..sem import compare
        instrument = data.instrument(inst)
        model = {sub: [f"{inst}_{k}" for k in instrument.subscale_items(sub)] for sub in ("anxiety", "avoidance")}
        cols = model["anxiety"] + model["avoidance"]
        missing = [col for col in cols if col not in data.items.columns]
        if missing:
            raise ValueError(f"items lack {inst} item column(s) {missing[:3]}...; the CFA needs the keyed items.")
        items = data.items[cols].apply(pd.to_numeric, errors="coerce")
        two = cfa(items, model, estimator="ml", missing="fiml")
        one = cfa(items, {"general": cols}, estimator="ml", missing="fiml")
        d = compare(one, two)
        r12 = float(two.param("anxiety", "~~", "avoidance").std_all)
        rows.append(Row(f"{inst}: two correlated factors fit better than one (chi-square difference)", two.n,
                        "chi2_diff", d.delta_chi2, d.delta_df, d.p, "factor_correlation", r12,
                        NAN, NAN, NAN, bool(d.delta_chi2 > 0),
                        f"secondary; ML CFA with FIML ({two.n} respondents"
                        + (", partners counted as independent respondents" if cl is not None else "")
                        + f"); one factor: chi2 {one.chi2:.2f} "
                        f"(df {one.df}), two factors: chi2 {two.chi2:.2f} (df {two.df}), cfi {two.fit['cfi']:.3f}",
                        False, "[cfa_two_vs_one]", "greater"))
    return FamilyOutput(tuple(rows))


def family_duration(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H8: security against relationship duration, controlling for covariates (partial correlation)."""
    inst = data.dimension_instrument(e["instrument"])
    anx, avo = data.numeric(f"{inst}_anxiety"), data.numeric(f"{inst}_avoidance")
    dur = data.numeric(e["duration"])
    covs = pd.DataFrame({c: data.numeric(c) for c in e["covariates"]}, index=data.scores.index)
    frame = pd.DataFrame({"anx": anx, "avo": avo, "dur": dur}, index=data.scores.index).join(covs)
    n_all = len(frame)
    frame = frame.dropna()
    n_complete = len(frame)
    if e["transform"] == "log":
        if (frame["dur"] <= 0).any():
            raise ValueError(f"transform: log needs positive values of {e['duration']!r}.")
        frame["dur"] = np.log(frame["dur"])
    if len(frame) < 5:
        raise ValueError(f"Cohort {data.cohort!r}: fewer than 5 respondents with {inst} scores, "
                         f"{e['duration']} and {', '.join(e['covariates']) or 'no covariates'}.")
    za = (frame["anx"] - frame["anx"].mean()) / frame["anx"].std(ddof=1)
    zv = (frame["avo"] - frame["avo"].mean()) / frame["avo"].std(ddof=1)
    frame["outcome"] = {"security": -(za + zv) / 2, "anxiety": frame["anx"], "avoidance": frame["avo"]}[e["outcome"]]
    unit_note = "respondents"
    clusters = None
    if data.couple_column:
        cid = data.scores[data.couple_column].reindex(frame.index)
        key = pd.Series(np.where(cid.isna() | (cid.astype(str).str.strip() == ""), "id:" + frame.index.astype(str),
                                 "couple:" + cid.astype(str)), index=frame.index)
        if e["unit"] == "couple":
            frame = frame.groupby(key.to_numpy(), sort=True).mean()
            unit_note = "units (couple means; respondents without partner as themselves)"
        else:
            clusters = key.to_numpy(dtype=object)
    covariates = frame[list(e["covariates"])].to_numpy() if e["covariates"] else None
    res = partial_correlation(frame["outcome"].to_numpy(), frame["dur"].to_numpy(), covariates,
                              direction=e["direction"], ci=st.ci)
    r, t, df, p, lo, hi, how = res.r, res.t, res.df, res.p_value, res.ci_low, res.ci_high, \
        "partial correlation (residualisation), t test, Fisher-z CI"
    if clusters is not None and len(set(clusters)) < len(clusters):
        design = np.column_stack([np.ones(len(frame))] + ([covariates] if covariates is not None else []))
        resid = [v - design @ np.linalg.lstsq(design, v, rcond=None)[0]
                 for v in (frame["outcome"].to_numpy(), frame["dur"].to_numpy())]
        c = cluster_correlation(resid[0], resid[1], clusters, direction=e["direction"], ci=st.ci)
        r, t, df, p, lo, hi = c.r, c.t, c.df, c.p, c.ci_low, c.ci_high
        how = ("partial correlation (residualisation) with a " + _clustered_note(c.n_clusters, c.n)
               + f", t on {c.df} df")
    outcome = {"security": "security (-(z anxiety + z avoidance) / 2)", "anxiety": "anxiety",
               "avoidance": "avoidance"}[e["outcome"]]
    desc = e["description"] or (f"{inst} {outcome} with {'log ' if e['transform'] == 'log' else ''}"
                                f"{e['duration']}" + (f", controlling for {', '.join(e['covariates'])}"
                                                      if e["covariates"] else ""))
    note = f"{n_all - n_complete} respondent(s) without every variable excluded; {res.n} {unit_note}; {how}"
    return FamilyOutput((Row(desc, res.n, "t", float(t), float(df), float(p), "partial_r", float(r), float(lo),
                             float(hi), 0.0, _in_direction(float(r), 0.0, e["direction"]), note),))


def family_group_difference(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """A score between two groups: Welch t / Hedges' g or Mann-Whitney; couple-clustered (paired) with couples."""
    score = data.numeric(e["score"])
    if e["group"] not in data.scores.columns:
        raise ValueError(f"Cohort {data.cohort!r}: scores have no group column {e['group']!r}.")
    grp = data.scores[e["group"]]
    gtext = grp.map(lambda v: None if pd.isna(v) else str(v))
    if e["levels"] is None:
        counts = gtext.dropna().value_counts()
        order = sorted(counts.index, key=lambda v: (-counts[v], v))
        if len(order) < 2:
            raise ValueError(f"Group column {e['group']!r} has fewer than two levels.")
        levels = order[:2]
    else:
        levels = [str(v) for v in e["levels"]]
        absent = [v for v in levels if v not in set(gtext.dropna())]
        if absent:
            raise ValueError(f"Group column {e['group']!r} has no level(s) {absent}; levels: "
                             f"{sorted(set(gtext.dropna()))}.")
    in1, in2 = (gtext == levels[0]).to_numpy(), (gtext == levels[1]).to_numpy()
    ok = (in1 | in2) & np.isfinite(score.to_numpy())
    desc = e["description"] or f"{e['score']}: {e['group']} {levels[0]} vs {levels[1]}"
    n_other = int(len(score) - ok.sum())
    cl = _with_clusters(data, ok)
    if cl is None:
        g = group_comparison(score.to_numpy()[in1], score.to_numpy()[in2], test=e["test"], direction=e["direction"],
                             ci=st.ci)
        note = (f"group 1 = {levels[0]} (n {g.n_1}, mean {g.mean_1:.4g}), group 2 = {levels[1]} (n {g.n_2}, "
                f"mean {g.mean_2:.4g}); {n_other} respondent(s) in other levels or without the score left out; "
                + ("Welch t, Hedges g with Hedges-Olkin CI (t quantile)" if e["test"] == "welch"
                   else "Mann-Whitney U, rank-biserial r with Hanley-McNeil CI"))
        return FamilyOutput((Row(desc, g.n_1 + g.n_2, g.statistic_name, g.statistic, g.df, g.p_value,
                                 g.effect_size_name, g.effect_size, g.ci_low, g.ci_high, 0.0,
                                 _in_direction(g.effect_size, 0.0, e["direction"]), note),))
    y, g1 = score.to_numpy()[ok], in1[ok]
    codes = pd.Series(cl).map(lambda v: v)
    split = pd.DataFrame({"c": codes, "g": g1}).dropna().groupby("c")["g"].agg(["size", "sum"])
    paired = int(((split["size"] == 2) & (split["sum"] == 1)).sum())
    design = (f"{paired} couple(s) have a partner in each group (paired), the other respondents count alone or "
              "with a partner in the same group")
    if e["test"] == "welch":
        r = cluster_mean_difference(y, g1, cl, direction=e["direction"], ci=st.ci)
        note = (f"group 1 = {levels[0]} (n {r.n_1}, mean {float(r.mean_1):.4g}), group 2 = {levels[1]} "
                f"(n {r.n_2}, mean {float(r.mean_2):.4g}); {n_other} respondent(s) in other levels or without the score "
                f"left out; {design}; mean difference with a {_clustered_note(r.n_clusters, r.n_1 + r.n_2)} (CR1), "
                f"t on {r.df} df; Hedges g with an interval from the same standard error")
        return FamilyOutput((Row(desc, r.n_1 + r.n_2, "t", float(r.t), float(r.df), float(r.p), "hedges_g",
                                 float(r.hedges_g), float(r.g_ci_low), float(r.g_ci_high), 0.0,
                                 _in_direction(float(r.hedges_g), 0.0, e["direction"]), note),))
    r = clustered_auc(y, g1, cl, direction=e["direction"], ci=st.ci)
    note = (f"group 1 = {levels[0]} (n {r.n_1}), group 2 = {levels[1]} (n {r.n_2}); {n_other} respondent(s) in "
            f"other levels or without the score left out; {design}; Mann-Whitney probability with Obuchowski's "
            f"clustered variance ({r.n_clusters} clusters), z test; rank-biserial r")
    return FamilyOutput((Row(desc, r.n_1 + r.n_2, "z", float(r.z), NAN, float(r.p), "rank_biserial_r",
                             float(r.rank_biserial), float(r.ci_low), float(r.ci_high), 0.0,
                             _in_direction(float(r.rank_biserial), 0.0, e["direction"]), note),))


def family_apim(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """APIM of y on x: actor and partner effects (per role, or equal for indistinguishable dyads) and k."""
    x, y = e["x"], e["y"]
    scores = data.with_columns(**{x: data.numeric(x), y: data.numeric(y)})
    d = data.dyads([x, y], scores)
    s = d.structure
    robust = e["estimator"] == "mlr"
    rel, rel_note = _attenuation(data, [x, y], e["correct_attenuation"])
    res = dy.apim(d.xa[:, 0], d.xa[:, 1], d.xb[:, 0], d.xb[:, 1], distinguishable=s.distinguishable, robust=robust,
                  ci=st.ci, direction=e["direction"], roles=s.roles or ("a", "b"), n_bootstrap=st.n_bootstrap,
                  seed=seed, reliability=rel)
    table = res.table()
    which = e["effect"]
    excl = _excluded_note(d.frame.n_excluded, "couple(s)", f"a partner lacks {x} or {y}")
    model = ("distinguishable APIM (saturated)" if s.distinguishable else
             "indistinguishable APIM (equal actor and partner effects, intercepts, means and variances: the I-SAT "
             "model)")
    common = (f"{d.n} couples, {excl}; {s.reason}; {model} of {rel_note}; {'MLR' if robust else 'ML'} standard "
              f"errors; effects unstandardized, std_estimate in hypothesis_tables/{e['id']}_apim.csv")
    desc = e["description"] or (f"APIM {which} effect of {x} on {y} (" +
                                ("one partner's x on the other's y" if which == "partner" else "own x on own y") + ")")
    if s.distinguishable:
        j = 0 if which == "actor" else 1

        def mean_effect(mu, cov):
            b1 = dy.regression_coefficients(cov, 1, [0, 2])   # role 1: y1 ~ x1 + x2
            b2 = dy.regression_coefficients(cov, 3, [2, 0])   # role 2: y2 ~ x2 + x1
            return ((b1[:, j] + b2[:, j]) / 2)[:, None]

        est, se, _ = dy.delta_method(mean_effect, res.moments)
        eff = dy.dyadic_effects("mean", ["both"], est, se, est, st.ci, e["direction"])[0]
        prim = _effect_row(desc, d.n, eff, f"apim_{which}", e["direction"],
                           common + f"; effect: the mean of the two roles' {which} effects")
    else:
        row = table[(table.effect == which)].iloc[0]
        prim = Row(desc, d.n, "z", float(row.z), NAN, float(row.p), f"apim_{which}", float(row.estimate),
                   float(row.ci_low), float(row.ci_high), 0.0, _in_direction(float(row.estimate), 0.0, e["direction"]),
                   common)
    rows = [prim]
    for r in table.itertuples():
        if r.effect == "k":
            ci_how = ("percentile bootstrap of couples" if st.n_bootstrap else "Wald")
            rows.append(Row(f"k = partner / actor effect ({r.role}): 0 actor-only, 1 couple, -1 contrast pattern",
                            d.n, "k", r.estimate, NAN, NAN, "k", r.estimate, r.ci_low, r.ci_high, NAN,
                            bool(np.isfinite(r.estimate)),
                            f"secondary, descriptive (Kenny & Ledermann, 2010); delta-method se {r.se:.4g}; CI: {ci_how}",
                            False, f"[k_{r.role}]", "two-sided"))
        elif s.distinguishable or r.effect != which:
            rows.append(Row(f"APIM {r.effect} effect of {x} on {y} for {r.role}", d.n, "z", r.z, NAN, r.p,
                            f"apim_{r.effect}", r.estimate, r.ci_low, r.ci_high, 0.0,
                            _in_direction(r.estimate, 0.0, e["direction"]), "secondary; " + common, False,
                            f"[{r.effect}_{r.role}]", e["direction"]))
    return FamilyOutput(tuple(rows), files={"apim": table})
