"""Report section 6. Item response theory: GRM fit, item parameters, information, IRT scores, DIF."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .. import figures as fg
from ...instruments import Instrument
from ..blocks import Bullets, Context, Heading, Image, Para, Section, Table
from ..context import _figure, _rows, _scale_text, _subscale_label, short_name
from ..formatting import DASH, _finite, fmt_bounded, fmt_ci, fmt_count, fmt_int, fmt_num, fmt_p, suppressed
from .items import _item_text


def _irt_fit_table(ctx: Context, inst: Instrument, fit: pd.DataFrame) -> Table:
    T = ctx.T
    rows = []
    for _, r in fit.iterrows():
        rows.append([_subscale_label(ctx, inst, r["subscale"]), fmt_int(r["n"]), fmt_int(r["n_items"]),
                     fmt_num(r["loglik"], 1), fmt_num(r["aic"], 1), fmt_num(r["bic"], 1),
                     f"{r['m2_statistic']} = {fmt_num(r['m2'])}" if _finite(r["m2"]) else DASH, fmt_int(r["df"]),
                     fmt_p(r["p"]), f"{fmt_bounded(r['rmsea2'], 3)} {fmt_ci(r['rmsea2_low'], r['rmsea2_high'], decimals=3)}",
                     fmt_bounded(r["srmsr"], 3), fmt_bounded(r["marginal_reliability"]),
                     fmt_bounded(r["empirical_reliability"])])
    cols = [T("subscale"), "n", T("items_word"), "log L", "AIC", "BIC", "M2", "df", "p", T("irt_rmsea2"), "SRMSR",
            T("irt_rho_marginal"), T("irt_rho_eap")]
    link = fit["link"].iloc[0] if len(fit) else "logistic"
    return Table(cols, rows, caption=T("irt_fit_caption", instrument=short_name(inst)),
                 note=T("irt_fit_note", link=T.get(f"irt_link_{link}", link), points=fmt_int(fit["quadrature_points"].iloc[0])),
                 numeric=list(range(1, len(cols))))


def _irt_items_table(ctx: Context, inst: Instrument, items: pd.DataFrame, sub: str) -> Table | None:
    rows_df = items[items["subscale"] == sub]
    if rows_df.empty:
        return None
    T = ctx.T
    by_col = {f"{inst.name}_{it.n}": it for it in inst.items}
    n_b = inst.scale_max - inst.scale_min
    rows, classes = [], []
    for _, r in rows_df.iterrows():
        item = by_col.get(r["item"])
        flagged = _finite(r.get("p_adjusted")) and float(r["p_adjusted"]) < 0.05
        b = [fmt_num(r.get(f"b{k}")) for k in range(1, n_b + 1)]
        sx2 = f"{fmt_num(r['s_x2'], 1)} ({fmt_int(r['s_x2_df'])})" if _finite(r.get("s_x2")) else DASH
        rows.append([_item_text(ctx, inst, item, 60) if item else r["item"], f"{fmt_num(r['a'])} ({fmt_num(r['se_a'])})"]
                    + b + [sx2, fmt_p(r["p"])])
        classes.append("flag" if flagged else "")
    cols = [T("item"), "a (SE)"] + [f"b{k}" for k in range(1, n_b + 1)] + ["S-X²", "p"]
    return Table(cols, rows, caption=T("irt_items_caption", instrument=short_name(inst),
                                       subscale=_subscale_label(ctx, inst, sub)),
                 note=T("irt_items_note", n=sum(c == "flag" for c in classes), k=n_b, lo=inst.scale_min + 1,
                        hi=inst.scale_max),
                 numeric=list(range(1, len(cols))), row_classes=classes)


def _irt_information_figure(ctx: Context, inst: Instrument) -> Image | None:
    info = _rows(ctx.res["irt_information"], instrument=inst.name)
    if info.empty:
        return None
    T = ctx.T
    by_col = {f"{inst.name}_{it.n}": it for it in inst.items}
    panels = []
    for sub in inst.subscales:
        part = info[info["subscale"] == sub]
        if part.empty:
            continue
        test = part[part["item"] == "test"].sort_values("theta")
        items = {}
        for item, rows in part[part["item"] != "test"].groupby("item", sort=False):
            it = by_col.get(item)
            label = f"{it.n}{' (R)' if it.reverse else ''}" if it else str(item)
            items[label] = rows.sort_values("theta")["information"].to_numpy()
        panels.append({"title": _subscale_label(ctx, inst, sub), "theta": test["theta"].to_numpy(), "items": items,
                       "test": test["information"].to_numpy(), "se": test["se"].to_numpy()})
    if not panels:
        return None
    labels = {"xlabel": T("irt_theta_axis"), "ylabel": T("irt_information_axis"), "se": T("irt_se_axis"),
              "item": T("irt_item_axis"), "test": T("irt_test_curve"), "colorbar": T("irt_item_information")}
    fig = fg.information_curves(panels, labels=labels)
    return _figure(ctx, fig, T("irt_information_alt", instrument=short_name(inst)), T("irt_information_caption"))


def _irt_scores_block(ctx: Context, inst: Instrument) -> list:
    sc, scores = ctx.res["irt_scores"], ctx.res["scores"]
    if sc is None or scores is None:
        return []
    T = ctx.T
    rows, panels = [], []
    for sub in inst.subscales:
        eap, se, ml = (f"{inst.name}_{sub}_{k}" for k in ("theta_eap", "se_eap", "theta_ml"))
        mean_col = f"{inst.name}_{sub}"
        if eap not in sc:
            continue
        both = pd.concat([sc[[eap, se, ml]], scores[mean_col].reindex(sc.index)], axis=1)
        scored = both[eap].notna()
        pair = both.loc[scored & both[mean_col].notna()]
        r = float(np.corrcoef(pair[eap], pair[mean_col])[0, 1]) if len(pair) > 2 else np.nan
        rows.append([_subscale_label(ctx, inst, sub), fmt_int(scored.sum()), fmt_num(both.loc[scored, eap].mean()),
                     fmt_num(both.loc[scored, eap].std()), fmt_num(both.loc[scored, se].mean()),
                     fmt_int(both[ml].notna().sum()), fmt_bounded(r)])
        panels.append({"title": _subscale_label(ctx, inst, sub), "mean_score": both[mean_col].to_numpy(),
                       "eap": both[eap].to_numpy(), "se": both[se].to_numpy(), "scale": (inst.scale_min, inst.scale_max)})
    if not rows:
        return []
    cols = [T("subscale"), "n", "M (EAP)", "SD (EAP)", T("irt_mean_se"), T("irt_ml_finite"), T("irt_r_mean")]
    table = Table(cols, rows, caption=T("irt_scores_caption", instrument=short_name(inst)), note=T("irt_scores_note"),
                  numeric=list(range(1, len(cols))))
    labels = {"xlabel": T("irt_mean_axis", scale=_scale_text(inst)), "ylabel": T("irt_eap_axis"), "count": T("n")}
    fig = fg.irt_score_plot(panels, labels=labels)
    return [Heading(T("irt_scores_heading")), table,
            _figure(ctx, fig, T("irt_scores_alt", instrument=short_name(inst)), T("irt_scores_fig_caption"))]


def _dif_comparison_label(ctx: Context, r) -> str:
    if r["comparison"] == "partner_role":
        return ctx.T("irt_dif_roles", column=r["group_column"])
    return str(r["comparison"])


def _irt_dif_block(ctx: Context, inst: Instrument) -> list:
    dif = _rows(ctx.res["irt_dif"], instrument=inst.name)
    T = ctx.T
    if dif.empty:
        return [Heading(T("irt_dif_heading")), Para(T("irt_no_dif"))]
    summary, flagged = [], []
    keys = ["subscale", "comparison", "reference", "focal"]
    for key, part in dif.groupby(keys, sort=False, dropna=False):
        first = part.iloc[0]
        label = _dif_comparison_label(ctx, first)
        if first["test"] == "not run":
            note = str(first["note"]) if isinstance(first["note"], str) else ""
            note = re.sub(r"\(n = (\d+)\)", lambda m: f"(n {fmt_count(int(m.group(1)), ctx.min_cell)})"
                          if suppressed(int(m.group(1)), ctx.min_cell) else m.group(0), note)  # privacy
            summary.append([_subscale_label(ctx, inst, first["subscale"]), label, DASH, DASH, DASH,
                            T("irt_dif_not_run"), note])
            continue
        tested = part[part["test"] != "anchor"]
        hits = tested[tested["p_adjusted"] < 0.05]
        largest = tested.loc[tested["essd"].abs().idxmax()] if tested["essd"].notna().any() else None
        by_col = {f"{inst.name}_{it.n}": it.n for it in inst.items}
        summary.append([_subscale_label(ctx, inst, first["subscale"]), label,
                        f"{first['reference']} ({fmt_int(first['n_reference'])})",
                        f"{first['focal']} ({fmt_int(first['n_focal'])})", T.get("irt_test_" + ("scaled" if "cluster" in str(first["test"]) else "lr"), first["test"]),
                        ", ".join(str(by_col.get(i, i)) for i in hits["item"]) or T("none"),
                        (f"{by_col.get(largest['item'], largest['item'])}: {fmt_num(largest['essd'])}"
                         if largest is not None else DASH)])
        for _, h in hits.iterrows():
            flagged.append([_subscale_label(ctx, inst, h["subscale"]), label, str(by_col.get(h["item"], h["item"])),
                            f"{fmt_num(h['statistic'])} ({fmt_int(h['df'])})", fmt_p(h["p"]), fmt_p(h["p_adjusted"]),
                            fmt_num(h["sids"]), fmt_num(h["essd"]), fmt_num(h["a_reference"]), fmt_num(h["a_focal"])])
    blocks = [Heading(T("irt_dif_heading")), Para(T("irt_dif_intro")),
              Table([T("subscale"), T("irt_comparison"), T("irt_reference"), T("irt_focal"), T("irt_test"),
                     T("irt_dif_items"), T("irt_largest_essd")], summary,
                    caption=T("irt_dif_caption", instrument=short_name(inst)), note=T("irt_dif_note"))]
    if flagged:
        blocks.append(Table([T("subscale"), T("irt_comparison"), T("item"), T("irt_statistic"), "p", T("irt_p_bh"), "SIDS",
                             "ESSD", "a (ref.)", "a (focal)"], flagged,
                            caption=T("irt_dif_flagged_caption", instrument=short_name(inst)),
                            numeric=list(range(3, 10))))
    if dif["test"].astype(str).str.contains("cluster").any():
        blocks.append(Para(T("irt_dif_couples"), css="note"))
    return blocks


def section_irt(ctx: Context) -> Section:
    """Graded response model per subscale: fit, item parameters, information curves, scores, DIF."""
    T, fit = ctx.T, ctx.res["irt_fit"]
    if fit is None or fit.empty:
        return Section("irt", T("sec_irt"), [Para(T("no_irt"))])
    blocks = [Para(T("irt_intro"))]
    for inst in ctx.instruments:
        f = _rows(fit, instrument=inst.name)
        if f.empty:
            continue
        fitted = f[f["loglik"].notna()] if "loglik" in f.columns else f.iloc[0:0]
        blocks.append(Heading(inst.title))
        if not fitted.empty:  # subscales not fitted (too few respondents, no answers) have only their note
            blocks.append(_irt_fit_table(ctx, inst, fitted))
        notes = [f"{_subscale_label(ctx, inst, r['subscale'])}: {r['note']}" for _, r in f.iterrows()
                 if isinstance(r.get("note"), str) and r["note"]]
        if notes:
            blocks.append(Bullets(notes))
        items = _rows(ctx.res["irt_items"], instrument=inst.name)
        for sub in inst.subscales:
            table = _irt_items_table(ctx, inst, items, sub) if not items.empty else None
            if table is not None:
                blocks.append(table)
        info = _irt_information_figure(ctx, inst)
        if info is not None:
            blocks += [Heading(T("irt_information_heading")), info]
        blocks += _irt_scores_block(ctx, inst)
        blocks += _irt_dif_block(ctx, inst)
    blocks.append(Bullets([T("irt_note_model"), T("irt_note_m2"), T("irt_note_sx2"), T("irt_note_reliability")]))
    return Section("irt", T("sec_irt"), blocks)
