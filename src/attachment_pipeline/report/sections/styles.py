"""Report section 8. Styles: counts per method, agreement, mixture profiles, min/max index by style."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import figures as fg
from ...classify import STYLES
from ...instruments import Instrument
from ...scoring import MINMAX_TYPES
from ..blocks import Context, Heading, Image, Para, Section, Table
from ..context import _figure, _method_label, _rows, _style_label, short_name
from ..formatting import DASH, _finite, fmt_bounded, fmt_ci, fmt_count, fmt_int, fmt_num, suppressed
from .dimensions import _primary_styles


def _style_order(styles) -> list:
    styles = list(dict.fromkeys(styles))
    return [s for s in STYLES if s in styles] + sorted(s for s in styles if s not in STYLES)


def _counts_table(ctx: Context, inst: Instrument, counts: pd.DataFrame) -> Table:
    T = ctx.T
    # methods whose groups are not the four styles (a mixture's profiles) have their own table;
    # a style no method of this table found is left out (no rows of "0 (0.0)")
    style_methods = [m for m, c in counts.groupby("method", sort=False) if (c["style"].isin(STYLES) & (c["n"] > 0)).any()]
    counts = counts[counts["method"].isin(style_methods) & counts["style"].isin(STYLES)]
    used = counts.groupby("style")["n"].sum()
    styles = _style_order([s for s in counts["style"] if used.get(s, 0) > 0])
    cov = _rows(ctx.res["coverage"], instrument=inst.name)
    rows = []
    for method, c in counts.groupby("method", sort=False):
        c = c.set_index("style")
        cells = []
        for s in styles:
            n = c["n"].get(s, 0)
            cells.append(fmt_count(n, ctx.min_cell) + ("" if suppressed(n, ctx.min_cell)
                                                       else f" ({fmt_num(c['percent'].get(s, 0), 1)})"))
        k = cov.loc[cov["method"] == method, "n_classified"] if not cov.empty else pd.Series(dtype=float)
        rows.append([_method_label(ctx, method)] + cells + [fmt_int(k.iloc[0]) if len(k) else DASH])
    return Table([T("method")] + [_style_label(ctx, s) for s in styles] + [T("n_classified")], rows,
                 caption=T("counts_caption", instrument=short_name(inst)), note=T("counts_note", k=ctx.min_cell),
                 numeric=list(range(1, len(styles) + 2)))


def _counts_figure(ctx: Context, inst: Instrument, counts: pd.DataFrame) -> Image:
    T = ctx.T
    used = counts.groupby("style")["n"].sum()
    styles = _style_order([s for s in counts["style"] if s in STYLES or used.get(s, 0) > 0])
    masked = counts.assign(percent=np.where([suppressed(n, ctx.min_cell) for n in counts["n"]], np.nan,
                                            counts["percent"]))
    pct = masked.pivot_table(index="method", columns="style", values="percent", sort=False, dropna=False)
    pct = pct.reindex(index=list(dict.fromkeys(counts["method"])), columns=styles)
    fig = fg.style_count_bars(pct, style_labels={s: _style_label(ctx, s) for s in styles},
                              method_labels={m: _method_label(ctx, m) for m in pct.index},
                              xlabel=T("percent_classified"), title=T("counts_fig_title", instrument=short_name(inst)),
                              hidden_label=T("hidden_segment", k=ctx.min_cell))
    return _figure(ctx, fig, T("counts_fig_alt", instrument=short_name(inst)), T("counts_fig_caption", k=ctx.min_cell))


def _agreement_table(ctx: Context, inst: Instrument) -> Table | None:
    ag = _rows(ctx.res["agreement"], instrument=inst.name)
    if ag.empty:
        return None
    T = ctx.T
    rows = [[_method_label(ctx, r["method_1"]), _method_label(ctx, r["method_2"]), fmt_int(r["n"]),
             fmt_num(r["percent_agreement"], 1), fmt_bounded(r["kappa"]), fmt_ci(r["kappa_ci_low"], r["kappa_ci_high"])]
            for _, r in ag.iterrows()]
    return Table([T("method") + " 1", T("method") + " 2", "n", T("percent_agreement"), "κ", T("ci95")], rows,
                 caption=T("agreement_caption", instrument=short_name(inst)), note=T("agreement_note"),
                 numeric=[2, 3, 4, 5])


def _gmm_block(ctx: Context, inst: Instrument) -> list:
    prof = _rows(ctx.res["gmm_profiles"], instrument=inst.name)
    if prof.empty or set(prof["style"]) <= set(STYLES):
        return []
    T = ctx.T
    rows = [[_style_label(ctx, r["style"]), fmt_count(r["n"], ctx.min_cell), fmt_num(r["anxiety_mean"]),
             fmt_num(r["avoidance_mean"]), fmt_bounded(r["weight"])] for _, r in prof.iterrows()]
    return [Para(T("gmm_note", k=len(prof))),
            Table([T("profile_word"), "n", T("mean_anxiety"), T("mean_avoidance"), T("weight")], rows,
                  caption=T("gmm_caption", instrument=short_name(inst)), numeric=[1, 2, 3, 4])]


def _minmax_block(ctx: Context, inst: Instrument) -> list:
    mbs = _rows(ctx.res["minmax_by_style"], instrument=inst.name, method=ctx.primary_method)
    if not mbs.empty:
        totals = mbs.groupby("style")["n"].transform("sum")
        mbs = mbs[totals > 0]
    scores, styles = ctx.res["scores"], _primary_styles(ctx, inst)
    if mbs.empty or scores is None or "minmax_index" not in scores or styles is None:
        return []
    T = ctx.T
    index = scores["minmax_index"]
    present = _style_order(styles.unique())
    by_style = {s: index.reindex(styles.index[styles.to_numpy() == s]).to_numpy(dtype=float) for s in present}
    types = [t for t in MINMAX_TYPES if t in set(mbs["minmax_type"])]
    hidden = [suppressed(n, ctx.min_cell) for n in mbs["n"]]
    pct = (mbs.assign(percent_of_style=np.where(hidden, np.nan, mbs["percent_of_style"]))
           .pivot_table(index="style", columns="minmax_type", values="percent_of_style", dropna=False)
           .reindex(index=_style_order(mbs["style"]), columns=types))
    labels = {"index": T("minmax_index_axis"), "percent": T("percent_of_style"),
              "title_index": T("minmax_index_title"), "title_types": T("minmax_types_title")}
    style_labels = {s: _style_label(ctx, s) for s in present + list(pct.index)}
    fig = fg.minmax_by_style_plot(by_style, pct, style_labels=style_labels,
                                  type_labels={t: T(f"minmax_{t}") for t in types}, labels=labels,
                                  min_cell=ctx.min_cell)
    rows = []
    for s, g in mbs.groupby("style", sort=False):
        g = g.set_index("minmax_type")
        rows.append([_style_label(ctx, s)] + [
            fmt_count(g["n"].get(t, 0), ctx.min_cell) + ("" if suppressed(g["n"].get(t, 0), ctx.min_cell)
                                                         or not _finite(g["percent_of_style"].get(t))
                                                         else f" ({fmt_num(g['percent_of_style'].get(t, 0), 1)})")
            for t in types])
    order = {s: i for i, s in enumerate(_style_order(mbs["style"]))}
    rows.sort(key=lambda r: next((order[s] for s in order if _style_label(ctx, s) == r[0]), 99))
    table = Table([T("style")] + [T(f"minmax_{t}") for t in types], rows,
                  caption=T("minmax_table_caption", method=_method_label(ctx, ctx.primary_method)),
                  note=T("counts_note", k=ctx.min_cell), numeric=list(range(1, len(types) + 1)))
    return [Heading(T("minmax_heading")),
            _figure(ctx, fig, T("minmax_fig_alt"), T("minmax_fig_caption", method=_method_label(ctx, ctx.primary_method),
                                                     k=ctx.min_cell)), table]


def section_styles(ctx: Context) -> Section:
    """Style counts per method, agreement between methods, min/max index and type by style."""
    T, counts = ctx.T, ctx.res["style_counts"]
    blocks = []
    for inst in ctx.dimension_instruments:
        c = _rows(counts, instrument=inst.name)
        if c.empty:
            continue
        blocks.append(Heading(inst.title))
        blocks += [_counts_table(ctx, inst, c), _counts_figure(ctx, inst, c)]
        blocks += _gmm_block(ctx, inst)
        ag = _agreement_table(ctx, inst)
        if ag is not None:
            blocks.append(ag)
        blocks += _minmax_block(ctx, inst)
    if not blocks:
        blocks = [Para(T("no_styles"))]
    else:
        blocks.insert(0, Para(T("styles_intro", method=_method_label(ctx, ctx.primary_method))))
    return Section("styles", T("sec_styles"), blocks)
