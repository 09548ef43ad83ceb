"""Report section 9. Couples: partner against partner, distinguishability, similarity, invariance, pairing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import figures as fg
from ...classify import STYLES
from ..blocks import Context, Heading, Para, Section, Table
from ..context import readable, score_label, _dim_label, _figure, _style_label
from ..formatting import p_text, DASH, _finite, fmt_bounded, fmt_ci, fmt_int, fmt_num, fmt_p
from .hypotheses import fmt_statistic


def partner_pairs(scores: pd.DataFrame, couple_column: str, role_column: str | None) -> pd.DataFrame:
    """One row per couple with both partners in the data: ``a`` and ``b`` positions into ``scores``.

    Partner *a* has the role value that sorts first (as text) when there is a role
    column, else the id that sorts first (the rule of :mod:`attachment_pipeline.dyads`).
    Returns columns ``a``, ``b`` (integer row positions) and ``role_a``, ``role_b``;
    no couple id is kept.

    >>> s = pd.DataFrame({"c": ["x", "x", "y", None], "r": ["B", "A", "A", None]}, index=["p", "q", "r", "s"])
    >>> partner_pairs(s, "c", "r")[["a", "b"]].values.tolist()
    [[1, 0]]
    """
    if couple_column not in scores:
        return pd.DataFrame(columns=["a", "b", "role_a", "role_b"])
    couple = scores[couple_column].astype(object)
    has = couple.notna() & (couple.astype(str).str.strip() != "")
    key = (scores[role_column].astype(str).to_numpy() if role_column and role_column in scores
           else scores.index.astype(str).to_numpy())
    frame = pd.DataFrame({"couple": couple.astype(str).to_numpy(), "key": key, "pos": np.arange(len(scores))})
    frame = frame[has.to_numpy()]
    rows = []
    for _, g in frame.groupby("couple", sort=True):
        if len(g) != 2:
            continue
        g = g.sort_values("key", kind="stable")
        rows.append((int(g["pos"].iloc[0]), int(g["pos"].iloc[1]), g["key"].iloc[0], g["key"].iloc[1]))
    out = pd.DataFrame(rows, columns=["a", "b", "role_a", "role_b"])
    if not (role_column and role_column in scores):
        out["role_a"], out["role_b"] = "", ""
    return out


def _partner_panels(ctx: Context, pairs: pd.DataFrame) -> tuple[list, list, list]:
    T, scores = ctx.T, ctx.res["scores"]
    roles = pairs[["role_a", "role_b"]].drop_duplicates()
    ra, rb = ("A", "B") if len(roles) != 1 or not roles.iloc[0, 0] else (roles.iloc[0, 0], roles.iloc[0, 1])
    pa, pb = T("partner_named", role=ra), T("partner_named", role=rb)
    panels, scales, counts = [], [], []

    def values(col, who):
        return scores[col].to_numpy(dtype=float)[pairs[who].to_numpy()]

    for inst in ctx.dimension_instruments:
        anx, avo = f"{inst.name}_anxiety", f"{inst.name}_avoidance"
        if anx not in scores or avo not in scores:
            continue
        for (yw, ylab), (xw, xlab) in (((("a", pa)), ("b", pb)), (("b", pb), ("a", pa))):
            y, x = values(anx, yw), values(avo, xw)
            ok = np.isfinite(x) & np.isfinite(y)
            panels.append({"x": x[ok], "y": y[ok], "ylabel": f"{ylab}: {_dim_label(ctx, inst, 'anxiety')}",
                           "xlabel": f"{xlab}: {_dim_label(ctx, inst, 'avoidance')}",
                           "title": T("partner_panel_title", y=ylab, x=xlab, n=int(ok.sum()))})
            scales.append((inst.scale_min, inst.scale_max))
            counts.append(int(ok.sum()))
    if "minmax_index" in scores:
        y, x = values("minmax_index", "a"), values("minmax_index", "b")
        ok = np.isfinite(x) & np.isfinite(y)
        panels.append({"x": x[ok], "y": y[ok], "ylabel": f"{pa}: {T('minmax_index_axis')}",
                       "xlabel": f"{pb}: {T('minmax_index_axis')}",
                       "title": T("partner_minmax_title", n=int(ok.sum()))})
        scales.append((-1.0, 1.0))
        counts.append(int(ok.sum()))
    return panels, scales, counts


def _pairing_figures(ctx: Context) -> list:
    pt, T = ctx.res["pairing_table"], ctx.T
    if pt is None or pt.empty:
        return [Para(T("no_pairing_table"))]
    blocks = []
    # H2 and H3 both cross-tabulate the partners' min/max types: the same table, drawn once for both
    if "id" in pt:
        key = pt["variable"].astype(str) if "variable" in pt else pt["id"].astype(str)
        groups = [(", ".join(dict.fromkeys(pt.loc[key == k, "id"].astype(str))), pt[(key == k).to_numpy()
                   & (pt["id"] == pt.loc[key == k, "id"].iloc[0]).to_numpy()]) for k in dict.fromkeys(key)]
    else:
        groups = [(None, pt)]
    for hid, t in groups:
        cats = list(dict.fromkeys(list(t["category_1"]) + list(t["category_2"])))
        label = {c: (_style_label(ctx, c) if c in STYLES else T.get(f"minmax_{c}", c)) for c in cats}
        obs = pd.DataFrame(np.nan, index=[label[c] for c in cats], columns=[label[c] for c in cats])
        exp = obs.copy()
        for _, r in t.iterrows():
            i, j = label[r["category_1"]], label[r["category_2"]]
            obs.loc[i, j], exp.loc[i, j] = r["observed"], r["expected"]
        n_couples = int(t["n_couples"].iloc[0]) if "n_couples" in t else int(t["observed"].sum())
        fig = fg.pairing_heatmap(obs, exp, title=T("pairing_title", id=hid or "", n=n_couples),
                                 labels={"ratio": T("pairing_ratio")}, min_cell=ctx.min_cell)
        blocks.append(_figure(ctx, fig, T("pairing_alt", id=hid or ""), T("pairing_caption", k=ctx.min_cell)))
    return blocks


def section_couples(ctx: Context) -> Section:
    """Partner against partner (from scores.csv couple and role columns) and the pairing table."""
    T, v, scores = ctx.T, ctx.res["validation"], ctx.res["scores"]
    info = v.get("couples") or {}
    if not info or not info.get("couples") or scores is None:
        return Section("couples", T("sec_couples"), [Para(T("no_couples"))])
    pairs = partner_pairs(scores, info["couple_column"], info.get("role_column"))
    blocks = [Para(T("couples_intro", couples=len(pairs), role=info.get("role_column") or T("no_role_column")))]
    if len(pairs):
        panels, scales, _ = _partner_panels(ctx, pairs)
        if panels:
            for start in range(0, len(panels), 3):
                fig = fg.partner_plots(panels[start:start + 3], scale_by_panel=scales[start:start + 3])
                blocks.append(_figure(ctx, fig, T("partner_alt"), T("partner_caption")))
    blocks.extend(_dyad_blocks(ctx))
    blocks.append(Heading(T("pairing_heading")))
    blocks.extend(_pairing_figures(ctx))
    return Section("couples", T("sec_couples"), blocks)


def _dist_decision(ctx: Context, r) -> str:
    """The I-SAT decision in words (the CSV's ``decision`` is for the log, with code notation)."""
    dist = r.get("distinguishable")
    if isinstance(dist, str):
        dist = dist.lower() == "true"
    if dist is True or dist is False:
        return ctx.T("dist_yes" if dist else "dist_no", roles=str(r.get("roles", "A/B")))
    return readable(ctx, r["decision"])


def _invariance_decision(ctx: Context, r) -> str:
    """Reference model, or the level supported / not supported with its ΔCFI and ΔRMSEA (APA numbers)."""
    decision = str(r.get("decision", ""))
    if not _finite(r.get("delta_chi2", np.nan)) and not _finite(r.get("delta_cfi", np.nan)):
        return ctx.T("dinv_reference")
    level = ctx.T.get(f"model_{r['model']}", str(r["model"]))
    key = "dinv_not_supported" if "not supported" in decision else "dinv_supported"
    return ctx.T(key, level=level, dcfi=fmt_bounded(r.get("delta_cfi"), 3), drmsea=fmt_bounded(r.get("delta_rmsea"), 3))


def _dyad_blocks(ctx: Context) -> list:
    """Distinguishability, partner similarity and measurement invariance across the roles (``dyads/*.csv``)."""
    T, res = ctx.T, ctx.res
    dist, ni, inv = res.get("distinguishability"), res.get("nonindependence"), res.get("dyadic_invariance")
    if dist is None and ni is None and inv is None:
        return []
    blocks = [Heading(T("dyads_heading")), Para(T("dyads_intro"))]
    if dist is not None and len(dist):
        rows = [[score_label(ctx, r["score_set"]), fmt_int(r["n_couples"]), fmt_statistic("chi2", r["chi2"], r["df"]),
                 fmt_p(r["p"]), _dist_decision(ctx, r)] for _, r in dist.iterrows()]
        blocks.append(Table([T("score_set"), "n", "χ²", "p", T("decision")], rows, caption=T("dist_caption"),
                            note=T("dist_note"), numeric=[1, 3], nowrap=[2]))
    if ni is not None and len(ni):
        rows = []
        for _, r in ni.iterrows():
            label = "ICC" if r["statistic"] == "icc" else "r"
            test = (f"F({fmt_int(r['df1'])}, {fmt_int(r['df2'])}) = {fmt_num(r['test_statistic'])}"
                    if r["test"] == "F" else fmt_statistic("t", r["test_statistic"], r["df1"]))
            rows.append([score_label(ctx, r["score"]), fmt_int(r["n_couples"]),
                         f"{label} = {fmt_bounded(r['estimate'])} {fmt_ci(r['ci_low'], r['ci_high'])}", test,
                         fmt_p(r["p"])])
        blocks.append(Table([T("score"), "n", T("similarity"), T("test"), "p"], rows, caption=T("ni_caption"),
                            note=T("ni_note"), numeric=[1, 4], nowrap=[2, 3]))
    if inv is not None and len(inv):
        fitted = inv[inv["model"] != "not fitted"]
        for _, r in inv[inv["model"] == "not fitted"].iterrows():
            blocks.append(Para(T("dinv_not_fitted", decision=str(r["decision"])), css="note"))
        if len(fitted):
            rows = []
            for _, r in fitted.iterrows():
                cfi = r.get("cfi_robust") if _finite(r.get("cfi_robust", np.nan)) else r["cfi"]
                rmsea = r.get("rmsea_robust") if _finite(r.get("rmsea_robust", np.nan)) else r["rmsea"]
                delta = (fmt_statistic("chi2", r["delta_chi2"], r["delta_df"]) + f", {p_text(r['delta_p'])}"
                         if _finite(r["delta_chi2"]) else DASH)
                rows.append([score_label(ctx, f"{r['instrument']}_{r['subscale']}"),
                             T.get(f"model_{r['model']}", str(r["model"])),
                             fmt_int(r["n"]), fmt_statistic("chi2", r["chi2"], r["df"]), fmt_bounded(cfi, 3),
                             fmt_bounded(rmsea, 3), delta, _invariance_decision(ctx, r)])
            blocks.append(Table([T("score"), T("model_level"), "n", "χ²", "CFI", "RMSEA", T("delta_test"),
                                 T("decision")], rows, caption=T("dinv_caption"), note=T("dinv_note"),
                                numeric=[2, 4, 5], nowrap=[3, 6]))
    return blocks
