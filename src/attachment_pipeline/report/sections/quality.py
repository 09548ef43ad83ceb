"""Report section 2. Data quality: reading facts, validation counts, exclusions with reasons, missing answers per item."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import figures as fg
from ...instruments import Instrument
from ..blocks import Bullets, Context, Heading, Image, Para, Section, Table
from ..context import _figure, _method_label, _rows, _scale_text, _subscale_label, short_name
from ..formatting import DASH, _finite, fmt_count, fmt_int, fmt_num


_MISSING_REASONS = ("blank", "missing_code", "out_of_range_set_missing", "non_numeric_set_missing")


def _validation_table(ctx: Context) -> Table:
    T, v = ctx.T, ctx.res["validation"]
    rows = []
    for inst in ctx.instruments:
        info = v["items"][inst.name]
        tot = info.get("totals", {})
        cells = sum(int(tot.get(r, 0)) for r in _MISSING_REASONS)
        share = 100 * cells / (v["respondents"] * inst.n_items) if v.get("respondents") else float("nan")
        codes = ", ".join(f"{c:g}" for c in info.get("missing_codes_applied", [])) or DASH
        rows.append([short_name(inst), _scale_text(inst), codes] + [fmt_int(tot.get(r, 0)) for r in _MISSING_REASONS]
                    + [fmt_num(share, 1)])
    return Table([T("instrument"), T("response_scale"), T("missing_codes")] + [T(f"reason_{r}") for r in _MISSING_REASONS]
                 + [T("percent_missing_answers")], rows, caption=T("validation_caption"),
                 note=T("validation_note", rule_oor=v.get("rules", {}).get("out_of_range", ""),
                        rule_nn=v.get("rules", {}).get("non_numeric", "")),
                 numeric=list(range(3, 8)))


def _exclusion_rows(ctx: Context) -> list:
    T, v, res = ctx.T, ctx.res["validation"], ctx.res
    rows = []
    n_resp = v.get("respondents")
    blank = (v.get("input") or {}).get("blank_rows_skipped") or 0
    if blank:
        rows.append([T("stage_reading"), DASH, fmt_int(blank), T("excl_blank_rows")])
    excluded = v.get("excluded") or {}
    for reason, info in excluded.items():
        rows.append([T("stage_reading"), DASH, fmt_int(info.get("n")),
                     f"{T.get('excl_' + reason, reason)} ({', '.join(info.get('columns', []))})"])
    dropped = (v.get("rows_in_file") or 0) - (n_resp or 0) - sum(int(i.get("n", 0)) for i in excluded.values())
    if dropped:
        rows.append([T("stage_reading"), DASH, fmt_int(dropped), T("excl_rows")])
    for inst in ctx.instruments:
        sc = v["items"][inst.name].get("scoring", {})
        if sc.get("unscored"):
            rows.append([T("stage_scoring"), short_name(inst), fmt_int(sc["unscored"]), T("excl_unscored")])
        if sc.get("partly_scored"):
            rows.append([T("stage_scoring"), short_name(inst), fmt_int(sc["partly_scored"]), T("excl_partly")])
    rel = res["reliability"]
    if rel is not None and n_resp:
        for _, r in rel[(rel["group_column"] == "all")].iterrows():
            if _finite(r["n"]) and r["n"] < n_resp:
                how = T("excl_rel_listwise") if r.get("missing", "listwise") == "listwise" else T("excl_rel_pairwise")
                inst = ctx.instrument(r["instrument"])
                rows.append([T("stage_reliability"), f"{short_name(inst)}: {_subscale_label(ctx, inst, r['subscale'])}",
                             fmt_int(n_resp - r["n"]), how])
    fac = res["factorability"]
    if fac is not None:
        for inst_name, f in fac.groupby("instrument", sort=False):
            ex = f.loc[f["measure"] == "n_excluded", "value"]
            kind = f["missing"].dropna().iloc[0] if "missing" in f and f["missing"].notna().any() else "listwise"
            if len(ex) and ex.iloc[0] > 0:
                rows.append([T("stage_factors"), short_name(ctx.instrument(inst_name)), fmt_int(ex.iloc[0]),
                             T("excl_factors" if kind == "listwise" else "excl_factors_pairwise")])
    cov = res["coverage"]
    if cov is not None:
        for _, r in cov.iterrows():
            if r["n_skipped"] > 0:
                rows.append([T("stage_classification"), f"{short_name(ctx.instrument(r['instrument']))}, "
                             f"{_method_label(ctx, r['method'])}", fmt_int(r["n_skipped"]), T("excl_classification")])
    return rows


def _groups_table(ctx: Context) -> Table | None:
    T, v = ctx.T, ctx.res["validation"]
    rows = []
    notes = [T("min_cell_note", k=ctx.min_cell)]
    for col, info in (v.get("groups") or {}).items():
        for level, n in info.get("levels", {}).items():
            rows.append([col, str(level), fmt_count(n, ctx.min_cell)])
        rows.append([col, T("missing_value"), fmt_count(info.get("missing", 0), ctx.min_cell)])
        hidden = info.get("hidden")
        if hidden:
            notes.append(T("groups_hidden", column=col, levels=hidden["levels"], k=ctx.min_cell, n=hidden["respondents"]))
    for col, info in (v.get("covariates") or {}).items():
        rows.append([col, T("missing_value"), fmt_count(info.get("missing", 0), ctx.min_cell)])
    children = v.get("children")
    if children:
        for code, n in children.get("codes", {}).items():
            rows.append([T("children_codes"), code, fmt_count(n, ctx.min_cell)])
    if not rows:
        return None
    return Table([T("column"), T("level"), T("n")], rows, caption=T("groups_caption"),
                 note=" ".join(notes), numeric=[2])


def _missingness_figure(ctx: Context, inst: Instrument) -> Image | None:
    miss = _rows(ctx.res["missingness"], instrument=inst.name)
    if miss.empty:
        return None
    T = ctx.T
    n = miss["n"].replace(0, np.nan)
    data = {T("reason_all"): miss["percent_missing"].to_numpy(dtype=float)}
    for r in _MISSING_REASONS:
        data[T(f"reason_{r}")] = 100 * miss[f"n_{r}"].to_numpy(dtype=float) / n.to_numpy(dtype=float)
    labels = [str(it).rsplit("_", 1)[-1] for it in miss["item"]]
    frame = pd.DataFrame(data, index=labels).T
    fig = fg.missingness_heatmap(frame, title=T("missing_fig_title", instrument=short_name(inst)),
                                 colorbar_label=T("percent_of_respondents"), xlabel=T("item_number"))
    return _figure(ctx, fig, T("missing_fig_alt", instrument=short_name(inst)),
                   T("missing_fig_caption"))


def section_quality(ctx: Context) -> Section:
    """Reading facts, validation counts, exclusions with reasons, missingness heat map."""
    T, v = ctx.T, ctx.res["validation"]
    inp = v.get("input", {})
    blocks = [Para(T("input_read", file=inp.get("file", DASH), format=inp.get("format", DASH),
                     encoding=inp.get("encoding", DASH), delimiter=inp.get("delimiter", DASH),
                     decimal=inp.get("decimal", DASH), first_row=inp.get("first_data_row", DASH)))]
    if inp.get("notes"):
        blocks.append(Bullets(list(inp["notes"])))
    if v.get("warnings"):
        blocks.append(Heading(T("warnings_heading")))
        blocks.append(Bullets(list(v["warnings"])))
    blocks.append(_validation_table(ctx))
    excl = _exclusion_rows(ctx)
    blocks.append(Heading(T("exclusions")))
    if excl:
        blocks.append(Table([T("stage"), T("instrument"), T("n"), T("reason")], excl, caption=T("exclusions_caption"),
                            numeric=[2]))
    else:
        blocks.append(Para(T("no_exclusions")))
    if ctx.res.get("skipped"):
        blocks.append(Heading(T("skipped_heading")))
        merged: dict = {}  # one row per analysis and reason, naming every table it left out
        for table, inst, what, reason in ctx.res["skipped"]:
            merged.setdefault((inst, what, reason), []).append(table)
        blocks.append(Table([T("skipped_table"), T("instrument"), T("skipped_what"), T("skipped_reason")],
                            [[", ".join(dict.fromkeys(t)), i, w, r] for (i, w, r), t in merged.items()],
                            caption=T("skipped_caption")))
    groups = _groups_table(ctx)
    if groups is not None:
        blocks.append(Heading(T("groups_heading")))
        blocks.append(groups)
    blocks.append(Heading(T("missing_heading")))
    figs = [f for f in (_missingness_figure(ctx, i) for i in ctx.instruments) if f is not None]
    blocks.extend(figs or [Para(T("no_missingness"))])
    return Section("quality", T("sec_quality"), blocks)
