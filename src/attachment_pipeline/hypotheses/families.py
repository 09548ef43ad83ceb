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
from scipy import stats

from ..classify import STYLES, cohen_kappa
from ..dyads import (SSP_LABELS, SSP_STYLE, STYLE_SSP, CouplesFrame, _pair_target, children_with_styles,
                     couples_frame, dyadic_correlation, pairing_table, partner_values, primary_styles,
                     repairing_count_test, style_codes)
from ..dyads import _text  # ids as text: the convention shared with dyads
from ..inference import (NAN, _in_direction, correlation_test, equivalence_correlation_p, goodness_of_fit,
                         group_comparison, partial_correlation, poisson_interval, wilson_interval)
from ..scoring import MINMAX_TYPES
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
    """What a family returns: its rows (primary first) and extra tables by name."""

    rows: tuple[Row, ...]
    tables: dict = field(default_factory=dict)


def _opposite(direction: str) -> str:
    return {"greater": "less", "less": "greater"}.get(direction, "two-sided")


def _excluded_note(n_excluded: int, what: str, why: str) -> str:
    return f"{n_excluded} {what} excluded ({why})" if n_excluded else f"no {what} excluded"


# ---------------------------------------------------------------------------
# the families


def family_complementarity(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H1: double-entry correlation of one partner's anxiety with the other's avoidance."""
    inst = data.dimension_instrument(e["instrument"])
    xs, ys = e["x_subscale"], e["y_subscale"]
    xcol, ycol = f"{inst}_{xs}", f"{inst}_{ys}"
    scores = data.with_columns(**{xcol: data.numeric(xcol), ycol: data.numeric(ycol)})
    cf = data.couples([xcol, ycol], scores)
    xa, xb = partner_values(scores[xcol], cf)
    ya, yb = partner_values(scores[ycol], cf)
    ss = np.random.SeedSequence(seed)
    res = dyadic_correlation(xa, ya, xb, yb, direction=e["direction"], n_permutations=st.n_permutations,
                             n_bootstrap=st.n_bootstrap, seed=ss, ci=st.ci)
    excl = _excluded_note(cf.n_excluded, "couple(s)", f"a partner lacks {xcol} or {ycol}")
    note = (f"{excl}; double entry over both orders of {cf.n} couples; p from {st.n_permutations} random "
            f"re-pairings; CI: couple bootstrap percentile ({st.n_bootstrap})")
    desc = e["description"] or (f"{inst} {xs} of one partner with {ys} of the other "
                                f"(double-entry r, Griffin & Gonzalez 1995)")
    rows = [Row(desc, cf.n, "r_double_entry", res.r, NAN, res.p_value, "r_double_entry", res.r,
                res.ci_low, res.ci_high, 0.0, _in_direction(res.r, 0.0, e["direction"]), note)]
    if cf.has_roles:
        roles_a = sorted(set(cf.couples["role_a"]))
        roles_b = sorted(set(cf.couples["role_b"]))
        la = roles_a[0] if len(roles_a) == 1 else "a"
        lb = roles_b[0] if len(roles_b) == 1 else "b"
        for x, y, lx, ly in ((xa, yb, la, lb), (xb, ya, lb, la)):
            c = correlation_test(x, y, direction=e["direction"], ci=st.ci)
            rows.append(Row(f"{inst} {xs} of partner {lx} with {ys} of partner {ly} (directed, one row per couple)",
                            c.n, "t", c.t, c.df, c.p_value, "r", c.r, c.ci_low, c.ci_high, 0.0,
                            _in_direction(c.r, 0.0, e["direction"]),
                            "secondary: Pearson test over couples (couples independent); Fisher-z CI"
                            + ("" if len(roles_a) == 1 else f"; a = first role in sorted order ({roles_a})"),
                            primary=False, suffix=f"[{xs}_{lx}~{ys}_{ly}]"))
    return FamilyOutput(tuple(rows))


def _style_couples(data: CohortData, inst: str):
    styles = data.styles(inst)
    scores = data.with_columns(_style=styles)
    cf = data.couples(["_style"], scores)
    sa, sb = partner_values(scores["_style"], cf)
    return cf, style_codes(sa), style_codes(sb)


def _pair_indices(labels, pair, key: str) -> tuple[int, int]:
    bad = [p for p in pair if p not in labels]
    if len(pair) != 2 or bad:
        raise ValueError(f"{key} must name two of {', '.join(labels)}; got {pair!r}.")
    return labels.index(pair[0]), labels.index(pair[1])


def _count_row(desc, cf, obs, exp, p, e, st, what, suffix="", primary=True, direction=None, extra=""):
    ratio = obs / exp if exp > 0 else NAN
    lo, hi = poisson_interval(int(obs), st.ci)
    lo, hi = (lo / exp, hi / exp) if exp > 0 else (NAN, NAN)
    d = direction or e["direction"]
    note = (f"{extra}{what}: {int(obs)} observed, {exp:.2f} expected under random re-pairing "
            f"(exact permutation mean); {'mid-' if st.mid_p else ''}p from {st.n_permutations} re-pairings; "
            f"CI: exact Poisson interval of the count / expected")
    return Row(desc, cf.n, "observed_couples", float(obs), NAN, p, "ratio_observed_expected", ratio, lo, hi,
               1.0, _in_direction(ratio, 1.0, d), note, primary, suffix, direction)


def family_complementary_pairing(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H1 in categories: couples of a given style pair (default preoccupied-dismissing) against re-pairing."""
    inst = data.dimension_instrument(e["instrument"])
    cf, a, b = _style_couples(data, inst)
    i, j = _pair_indices(list(STYLES), list(e["pair"]), "pair")
    obs, exp, p = repairing_count_test(a, b, _pair_target(4, [(i, j)]), direction=e["direction"],
                                       n_permutations=st.n_permutations, seed=seed, mid_p=st.mid_p)
    excl = _excluded_note(cf.n_excluded, "couple(s)", "a partner has no style") + "; "
    desc = e["description"] or (f"{STYLES[i]}-{STYLES[j]} couples ({inst}, {data.primary_method}) against "
                                "random re-pairing")
    row = _count_row(desc, cf, obs, exp, p, e, st, f"{STYLES[i]}-{STYLES[j]} couples", extra=excl)
    table = pairing_table(a, b, list(STYLES))
    table.insert(0, "variable", f"style:{inst}:{data.primary_method}")
    return FamilyOutput((row,), {"pairing_table": table})


def _minmax_couples(data: CohortData, index_col: str | None, type_col: str):
    """Couples with the min/max type (and index, when ``index_col`` is given) of both partners."""
    if type_col not in data.scores.columns:
        raise ValueError(f"Cohort {data.cohort!r}: scores have no column {type_col!r} (the min/max typology).")
    types = data.scores[type_col]
    bad = sorted(set(types.dropna().astype(str)) - set(MINMAX_TYPES))
    if bad:
        raise ValueError(f"Column {type_col!r} holds unknown types {bad}; expected {', '.join(MINMAX_TYPES)}.")
    if index_col is None:
        scores, needed = data.scores, [type_col]
    else:
        scores, needed = data.with_columns(_idx=data.numeric(index_col)), ["_idx", type_col]
    cf = data.couples(needed, scores)
    ma, mb = partner_values(scores["_idx"], cf) if index_col is not None else (None, None)
    ta, tb = partner_values(scores[type_col].astype(object), cf)
    lookup = {t: k for k, t in enumerate(MINMAX_TYPES)}
    return cf, ma, mb, np.array([lookup[t] for t in ta]), np.array([lookup[t] for t in tb])


def family_minmax_complementarity(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H2: within-couple (intraclass, double-entry) correlation of the min/max index; min-max couples."""
    cf, ma, mb, ta, tb = _minmax_couples(data, e["index_column"], e["type_column"])
    s1, s2 = np.random.SeedSequence(seed).spawn(2)
    res = dyadic_correlation(ma, ma, mb, mb, direction=e["direction"], n_permutations=st.n_permutations,
                             n_bootstrap=st.n_bootstrap, seed=s1, ci=st.ci)
    excl = _excluded_note(cf.n_excluded, "couple(s)", f"a partner lacks {e['index_column']}")
    desc = e["description"] or (f"within-couple correlation of {e['index_column']} (double entry; "
                                "minimisers pair with maximisers when negative)")
    rows = [Row(desc, cf.n, "r_double_entry", res.r, NAN, res.p_value, "r_double_entry", res.r, res.ci_low,
                res.ci_high, 0.0, _in_direction(res.r, 0.0, e["direction"]),
                f"{excl}; p from {st.n_permutations} random re-pairings; CI: couple bootstrap percentile "
                f"({st.n_bootstrap})")]
    d2 = _opposite(e["direction"])
    obs, exp, p = repairing_count_test(ta, tb, _pair_target(3, [(0, 2)]), direction=d2,
                                       n_permutations=st.n_permutations, seed=s2, mid_p=st.mid_p)
    rows.append(_count_row("min-max couples (one minimiser, one maximiser) against random re-pairing", cf,
                           obs, exp, p, e, st, "min-max couples", suffix="[min_max_couples]", primary=False,
                           direction=d2, extra=f"secondary, direction {d2}; "))
    table = pairing_table(ta, tb, list(MINMAX_TYPES))
    table.insert(0, "variable", e["type_column"])
    return FamilyOutput(tuple(rows), {"pairing_table": table})


def family_pairing_symmetry(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H3: share of symmetric couples (and of complementary ones) with Wilson intervals, against re-pairing."""
    if e["by"] == "minmax_type":
        cf, _, _, a, b = _minmax_couples(data, None, e["type_column"])
        labels = list(MINMAX_TYPES)
        sym, comp = [(0, 0), (2, 2)], [(0, 2)]
        sym_text, comp_text = "min-min or max-max", "min-max"
        variable = e["type_column"]
    else:
        inst = data.dimension_instrument(e["instrument"])
        cf, a, b = _style_couples(data, inst)
        labels = list(STYLES)
        sym, comp = [(k, k) for k in range(4)], [(1, 2)]
        sym_text, comp_text = "same style", "preoccupied-dismissing"
        variable = f"style:{inst}:{data.primary_method}"
    s1, s2 = np.random.SeedSequence(seed).spawn(2)
    rows = []
    for what, pairs, ss, primary in ((f"symmetric ({sym_text})", sym, s1, True),
                                     (f"complementary ({comp_text})", comp, s2, False)):
        obs, exp, p = repairing_count_test(a, b, _pair_target(len(labels), pairs), direction=e["direction"],
                                           n_permutations=st.n_permutations, seed=ss, mid_p=st.mid_p)
        share, null = obs / cf.n, exp / cf.n
        lo, hi = wilson_interval(int(obs), cf.n, st.ci)
        desc = (e["description"] if primary and e["description"] else
                f"share of {what} couples ({variable}) against random re-pairing")
        note = (("" if primary else "secondary; ")
                + _excluded_note(cf.n_excluded, "couple(s)", "a partner lacks the category")
                + f"; {int(obs)} of {cf.n} couples, expected share {null:.4f} under random re-pairing; "
                f"{'mid-' if st.mid_p else ''}p from {st.n_permutations} re-pairings; Wilson CI")
        rows.append(Row(desc, cf.n, "observed_couples", obs, NAN, p, "share", share, lo, hi, null,
                        _in_direction(share, null, e["direction"]), note, primary,
                        "" if primary else "[complementary_share]"))
    table = pairing_table(a, b, labels)
    table.insert(0, "variable", variable)
    return FamilyOutput(tuple(rows), {"pairing_table": table})


def _reliability_of(data: CohortData, column: str) -> float:
    rel = data.reliability
    if rel is None:
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


def family_correlation(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H4 (and any two score columns): Pearson/Spearman correlation, Fisher-z CI, optional disattenuation."""
    x, y = data.numeric(e["x"]), data.numeric(e["y"])
    rx, ry = e["reliability_x"], e["reliability_y"]
    if e["disattenuate"]:
        rx = rx if rx is not None else _reliability_of(data, e["x"])
        ry = ry if ry is not None else _reliability_of(data, e["y"])
    else:
        rx = ry = None
    c = correlation_test(x.to_numpy(), y.to_numpy(), method=e["method"], direction=e["direction"], ci=st.ci,
                         reliability_x=rx, reliability_y=ry)
    n_missing = int(len(x) - c.n)
    note = f"{n_missing} respondent(s) without both scores excluded; Fisher-z CI"
    desc = e["description"] or f"{e['method'].capitalize()} correlation of {e['x']} with {e['y']}"
    if rx is not None:
        note += (f"; effect size and CI corrected for attenuation with reliabilities {rx:.4g} and {ry:.4g} "
                 f"(observed r = {c.r:.4f}); the test is that of the observed r")
        eff, lo, hi, name = c.r_disattenuated, c.ci_low_disattenuated, c.ci_high_disattenuated, "r_disattenuated"
    else:
        eff, lo, hi, name = c.r, c.ci_low, c.ci_high, ("r" if e["method"] == "pearson" else "rho")
    return FamilyOutput((Row(desc, c.n, "t", c.t, c.df, c.p_value, name, eff, lo, hi, 0.0,
                             _in_direction(c.r, 0.0, e["direction"]), note),))


def family_prevalence(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H5: style counts against a reference distribution (chi-square goodness of fit, Cohen's w)."""
    inst = data.dimension_instrument(e["instrument"])
    styles = data.styles(inst)
    props, style_map = reference_distribution(e["reference"], e["fearful"])
    counts = styles.value_counts().reindex(list(STYLES), fill_value=0)
    unknown = sorted(set(styles) - set(STYLES))
    if unknown:
        raise ValueError(f"The primary classification has labels {unknown}, not the four styles; the "
                         "prevalence test needs the four styles.")
    obs = {c: 0 for c in props}
    excluded = 0
    for s, k in counts.items():
        cat = style_map[s]
        if cat is None:
            excluded += int(k)
        else:
            obs[cat] += int(k)
    g = goodness_of_fit(obs, props, direction=e["direction"], w_margin=e["w_margin"], ci=st.ci)
    ref_name = e["reference"] if isinstance(e["reference"], str) else "explicit proportions"
    note = (f"reference {ref_name}; " + (f"{excluded} fearful respondent(s) excluded (no such class in the "
                                          f"reference); " if excluded else "")
            + ("two-sided: supported means the distribution differs from the reference; "
               if e["direction"] == "two-sided" else f"equivalence test: supported means w < {e['w_margin']}; ")
            + "CI of w from the noncentral chi-square")
    desc = e["description"] or f"style distribution ({inst}, {data.primary_method}) against {ref_name}"
    null = 0.0 if e["direction"] == "two-sided" else float(e["w_margin"])
    in_dir = bool(g.w > 0) if e["direction"] == "two-sided" else bool(g.w < e["w_margin"])
    row = Row(desc, g.n, "chi2", g.chi2, g.df, g.p_value, "cohens_w", g.w, g.w_ci_low, g.w_ci_high, null, in_dir, note)
    table = pd.DataFrame({"category": list(g.categories), "observed": list(g.observed),
                          "expected": list(g.expected), "percent_observed": 100 * np.array(g.observed) / g.n,
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
    """H6: parent style against the child's Strange Situation code: concordance, binomial test, kappa."""
    if data.children is None:
        raise ValueError(f"Cohort {data.cohort!r} has no parent-child records; the transmission test needs them.")
    inst = data.dimension_instrument(e["instrument"])
    ch = children_with_styles(data.children, data.styles(inst))
    rec = ch.records
    n = len(rec)
    if n < 2:
        raise ValueError(f"Cohort {data.cohort!r}: fewer than 2 child records with a parent style ({n}).")
    conc = (rec["parent_style"] == rec["child_style"]).to_numpy()
    k = int(conc.sum())
    rate0 = float(e["reference_rate"])
    bt = stats.binomtest(k, n, rate0, alternative=e["direction"])
    lo, hi = stats.binomtest(k, n, rate0).proportion_ci(st.ci, method="exact")
    excl = _excluded_note(ch.n_excluded, "child record(s)", "the parent has no style")
    desc = e["description"] or (f"concordance of parent style ({inst}, {data.primary_method}) and child "
                                f"Strange Situation code against {rate0:g}")
    rows = [Row(desc, n, "concordant", float(k), NAN, float(bt.pvalue), "concordance_rate", k / n, float(lo),
                float(hi), rate0, _in_direction(k / n, rate0, e["direction"]),
                f"{excl}; exact binomial test; Clopper-Pearson CI"
                + ("; two-sided: supported means the rate differs from the reference rate"
                   if e["direction"] == "two-sided" else ""))]
    kap = cohen_kappa(rec["parent_style"].to_numpy(), rec["child_style"].to_numpy())
    pa, pc = style_codes(rec["parent_style"].to_numpy()), style_codes(rec["child_style"].to_numpy())
    _, _, p_k = repairing_count_test(pa, pc, np.eye(4, dtype=bool), direction="greater",
                                     n_permutations=st.n_permutations, seed=seed, mid_p=st.mid_p)
    rows.append(Row("agreement of parent and child style beyond chance (Cohen's kappa)", kap.n, "kappa",
                    kap.kappa, NAN, p_k, "kappa", kap.kappa, kap.kappa_ci_low, kap.kappa_ci_high, 0.0,
                    _in_direction(kap.kappa, 0.0, "greater"),
                    f"secondary, direction greater; {'mid-' if st.mid_p else ''}p from {st.n_permutations} permutations "
                    "of the child codes; "
                    "Wald CI with the Fleiss-Cohen-Everitt SE", False, "[kappa]", "greater"))
    return FamilyOutput(tuple(rows), {"transmission_table": transmission_table(rec)})


def family_dimensions_distinct(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """H7: |r(anxiety, avoidance)| below r_max (TOST, Fisher z) and the two- against the one-factor CFA."""
    inst = data.dimension_instrument(e["instrument"])
    x, y = data.numeric(f"{inst}_anxiety").to_numpy(), data.numeric(f"{inst}_avoidance").to_numpy()
    c = correlation_test(x, y, ci=st.ci)
    r_max = float(e["r_max"])
    p = equivalence_correlation_p(c.r, c.n, r_max)
    desc = e["description"] or f"{inst} anxiety and avoidance are distinct: |r| < {r_max:g}"
    rows = [Row(desc, c.n, "r", c.r, NAN, p, "r", c.r, c.ci_low, c.ci_high, r_max, bool(abs(c.r) < r_max),
                f"two one-sided Fisher-z tests of -{r_max:g} < rho < {r_max:g}; Fisher-z CI; "
                f"{int(len(x) - c.n)} respondent(s) without both scores excluded")]
    if e["cfa"] and data.items is not None:
        from ..factors import cfa
        from ..sem import compare
        instrument = data.instrument(inst)
        model = {s: [f"{inst}_{k}" for k in instrument.subscale_items(s)] for s in ("anxiety", "avoidance")}
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
                        f"secondary; ML CFA with FIML ({two.n} respondents); one factor: chi2 {one.chi2:.2f} "
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
    if e["unit"] == "couple" and data.couple_column:
        cid = data.scores[data.couple_column].reindex(frame.index)
        key = pd.Series(np.where(cid.isna() | (cid.astype(str).str.strip() == ""), "id:" + frame.index.astype(str),
                                 "couple:" + cid.astype(str)), index=frame.index)
        frame = frame.groupby(key.to_numpy(), sort=True).mean()
        unit_note = "units (couple means; respondents without partner as themselves)"
    res = partial_correlation(frame["outcome"].to_numpy(), frame["dur"].to_numpy(),
                              frame[list(e["covariates"])].to_numpy() if e["covariates"] else None,
                              direction=e["direction"], ci=st.ci)
    outcome = {"security": "security (-(z anxiety + z avoidance) / 2)", "anxiety": "anxiety",
               "avoidance": "avoidance"}[e["outcome"]]
    desc = e["description"] or (f"{inst} {outcome} with {'log ' if e['transform'] == 'log' else ''}"
                                f"{e['duration']}" + (f", controlling for {', '.join(e['covariates'])}"
                                                      if e["covariates"] else ""))
    note = (f"{n_all - n_complete} respondent(s) without every variable excluded; {res.n} {unit_note}; "
            "partial correlation (residualisation), t test, Fisher-z CI")
    return FamilyOutput((Row(desc, res.n, "t", res.t, res.df, res.p_value, "partial_r", res.r, res.ci_low,
                             res.ci_high, 0.0, _in_direction(res.r, 0.0, e["direction"]), note),))


def family_group_difference(data: CohortData, e: dict, st: HypothesisTestingSettings, seed: int) -> FamilyOutput:
    """A score between two groups: Welch t with Hedges' g, or Mann-Whitney U with the rank-biserial r."""
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
    x1 = score[gtext == levels[0]].to_numpy()
    x2 = score[gtext == levels[1]].to_numpy()
    g = group_comparison(x1, x2, test=e["test"], direction=e["direction"], ci=st.ci)
    desc = e["description"] or f"{e['score']}: {e['group']} {levels[0]} vs {levels[1]}"
    n_other = int(len(score) - np.isfinite(x1).sum() - np.isfinite(x2).sum())
    note = (f"group 1 = {levels[0]} (n {g.n_1}, mean {g.mean_1:.4g}), group 2 = {levels[1]} (n {g.n_2}, "
            f"mean {g.mean_2:.4g}); {n_other} respondent(s) in other levels or without the score left out; "
            + ("Welch t, Hedges g with Hedges-Olkin CI (t quantile)" if e["test"] == "welch"
               else "Mann-Whitney U, rank-biserial r with Hanley-McNeil CI"))
    return FamilyOutput((Row(desc, g.n_1 + g.n_2, g.statistic_name, g.statistic, g.df, g.p_value,
                             g.effect_size_name, g.effect_size, g.ci_low, g.ci_high, 0.0,
                             _in_direction(g.effect_size, 0.0, e["direction"]), note),))
