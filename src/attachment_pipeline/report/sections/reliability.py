"""Report section 4. Reliability: alpha with intervals, omega, item statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...instruments import Instrument
from ..blocks import Context, Heading, Para, Section, Table
from ..context import _group_label, _rows, _subscale_label, short_name
from ..formatting import DASH, _finite, fmt_bounded, fmt_ci, fmt_count, fmt_int, fmt_num, suppressed
from .items import _item_text


def _reliability_table(ctx: Context, inst: Instrument, rel: pd.DataFrame) -> Table:
    T = ctx.T
    rows = []
    for _, r in rel.iterrows():
        n_hidden = suppressed(r["n"], ctx.min_cell)
        stats = [fmt_bounded(r["alpha"]), fmt_ci(r["alpha_feldt_low"], r["alpha_feldt_high"]),
                 fmt_ci(r["alpha_boot_low"], r["alpha_boot_high"]), fmt_bounded(r["alpha_std"]),
                 fmt_bounded(r["lambda6"]), fmt_bounded(r["omega_total"]), fmt_bounded(r["omega_h"]),
                 fmt_bounded(r["average_r"]), fmt_num(r["mean"]), fmt_num(r["sd"])]
        if n_hidden:
            stats = [DASH] * len(stats)
        rows.append([_subscale_label(ctx, inst, r["subscale"]), _group_label(ctx, r["group_column"], r["group"]),
                     fmt_count(r["n"], ctx.min_cell), fmt_int(r["k"])] + stats)
    cols = [T("subscale"), T("group"), "n", "k", "α", T("ci_feldt"), T("ci_boot"), T("alpha_std"), "λ6",
            "ω<sub>t</sub>", "ω<sub>h</sub>", T("average_r"), "M", "SD"]
    miss = rel["missing"].iloc[0] if "missing" in rel and len(rel) else "listwise"
    return Table(cols, rows, caption=T("rel_caption", instrument=short_name(inst)),
                 note=T("rel_note", missing=T.get(f"missing_{miss}", miss), k=ctx.min_cell),
                 numeric=list(range(2, len(cols))))


_FLAG_REASONS = {"r_drop < 0.30": "flag_r_drop", "alpha if deleted > alpha": "flag_alpha_if_deleted",
                 "no variance": "flag_no_variance"}


def _flag_text(ctx: Context, reason) -> str:
    if not isinstance(reason, str) or not reason:
        return ""
    parts = [p.strip() for p in reason.replace(",", ";").split(";") if p.strip()]
    return "; ".join(ctx.T.get(_FLAG_REASONS.get(p, ""), p) if p in _FLAG_REASONS else p for p in parts)


def _item_stats_table(ctx: Context, inst: Instrument, stats: pd.DataFrame) -> Table:
    T = ctx.T
    by_n = {f"{inst.name}_{it.n}": it for it in inst.items}
    rows, classes = [], []
    for _, r in stats.iterrows():
        item = by_n.get(r["item"])
        flagged = bool(r["flag"]) if _finite(r.get("flag")) or isinstance(r.get("flag"), (bool, np.bool_)) else False
        rows.append([_item_text(ctx, inst, item, 400) if item else r["item"],
                     _subscale_label(ctx, inst, r["subscale"]), fmt_int(r["n"]), fmt_num(r["mean"]), fmt_num(r["sd"]),
                     fmt_bounded(r["r_drop"]), fmt_bounded(r["alpha_if_deleted"]),
                     _flag_text(ctx, r.get("flag_reason")) if flagged else ""])
        classes.append("flag" if flagged else "")
    cols = [T("item"), T("subscale"), "n", "M", "SD", "r<sub>drop</sub>", T("alpha_if_deleted"), T("flag")]
    n_flag = sum(c == "flag" for c in classes)
    return Table(cols, rows, caption=T("item_stats_caption", instrument=short_name(inst)),
                 note=T("item_stats_note", n=n_flag), numeric=[2, 3, 4, 5, 6], row_classes=classes)


def section_reliability(ctx: Context) -> Section:
    """Reliability per subscale and group with intervals; item statistics with flags."""
    T, rel, ist = ctx.T, ctx.res["reliability"], ctx.res["item_stats"]
    blocks = []
    if rel is None:
        return Section("reliability", T("sec_reliability"), [Para(T("no_reliability"))])
    for inst in ctx.instruments:
        r = _rows(rel, instrument=inst.name)
        if r.empty:
            continue
        blocks.append(Heading(inst.title))
        blocks.append(_reliability_table(ctx, inst, r))
        s = _rows(ist, instrument=inst.name, group_column="all")
        if not s.empty:
            blocks.append(_item_stats_table(ctx, inst, s))
    blocks.append(Para(T("item_stats_groups_note"), css="note"))
    return Section("reliability", T("sec_reliability"), blocks)
