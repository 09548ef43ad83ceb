"""Report section 7. The two dimensions: anxiety against avoidance with the primary method's cut lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import figures as fg
from ...classify import CUTOFF_METHODS, cut_points
from ...vocabulary import STYLE_LABELS, STYLES
from ...instruments import Instrument
from ..blocks import Context, Heading, Para, Section
from ..context import _dim_label, _figure, _method_label, _rows, _style_label, short_name
from ..formatting import fmt_num


def _classification_config(ctx: Context) -> dict:
    return dict(ctx.config.get("classification") or {})


def primary_cuts(ctx: Context, inst: Instrument, dims: pd.DataFrame) -> dict | None:
    """Cut lines of the primary method (:func:`attachment_pipeline.classify.cut_points`), None without lines."""
    if ctx.primary_method not in CUTOFF_METHODS:
        return None
    cfg = _classification_config(ctx)
    try:
        return cut_points(dims, ctx.primary_method, scale_min=inst.scale_min, scale_max=inst.scale_max,
                          reference=cfg.get("reference"), cut=cfg.get("cut", 0.0))
    except ValueError:
        return None


def _primary_styles(ctx: Context, inst: Instrument) -> pd.Series | None:
    cl = _rows(ctx.res["classification"], instrument=inst.name, method=ctx.primary_method)
    if cl.empty:
        return None
    return pd.Series(cl["style"].to_numpy(), index=cl["id"].to_numpy())


def _dimension_block(ctx: Context, inst: Instrument) -> list:
    T, scores = ctx.T, ctx.res["scores"]
    anx, avo = f"{inst.name}_anxiety", f"{inst.name}_avoidance"
    if scores is None or anx not in scores or avo not in scores:
        return []
    dims = scores[[anx, avo]].dropna().rename(columns={anx: "anxiety", avo: "avoidance"})
    if dims.empty:
        return [Heading(inst.title), Para(T("no_dimension_scores"))]
    styles = _primary_styles(ctx, inst)
    style_arr = styles.reindex(dims.index.astype(str)).to_numpy() if styles is not None else None
    if style_arr is not None and pd.isna(style_arr).any():
        style_arr = np.where(pd.isna(style_arr), "unclassified", style_arr)
    cuts = primary_cuts(ctx, inst, dims)
    quadrants = {s: STYLE_LABELS[ctx.language][s] for s in STYLES}
    style_labels = {s: _style_label(ctx, s) for s in (set(style_arr) if style_arr is not None else [])}
    style_labels["unclassified"] = T("unclassified")
    labels = {"xlabel": _dim_label(ctx, inst, "avoidance"), "ylabel": _dim_label(ctx, inst, "anxiety"),
              "count": T("respondents_axis")}
    fig = fg.dimension_plot(dims["avoidance"].to_numpy(), dims["anxiety"].to_numpy(), style_arr,
                            scale=(inst.scale_min, inst.scale_max), cuts=cuts, quadrant_labels=quadrants,
                            style_labels=style_labels, labels=labels)
    method = _method_label(ctx, ctx.primary_method)
    if cuts is None:
        lines = T("cuts_none", method=method)
    else:
        lines = T(f"cuts_{ctx.primary_method}", anxiety=fmt_num(cuts["anxiety"]), avoidance=fmt_num(cuts["avoidance"]))
    if len(dims) > fg.HEXBIN_THRESHOLD:
        hex_note = T("hexbin_note", k=fg.HEXBIN_THRESHOLD)
    else:
        hex_note = T("markers_note", method=method)
    caption = T("dimensions_caption", n=len(dims)) + " " + lines + " " + hex_note
    return [Heading(inst.title), _figure(ctx, fig, T("dimensions_alt", instrument=short_name(inst)), caption)]


def section_dimensions(ctx: Context) -> Section:
    """Anxiety against avoidance with the primary method's cut lines and the quadrants named."""
    T = ctx.T
    blocks = [b for inst in ctx.dimension_instruments for b in _dimension_block(ctx, inst)]
    if not blocks:
        blocks = [Para(T("no_dimensions"))]
    else:
        blocks.insert(0, Para(T("dimensions_intro")))
    return Section("dimensions", T("sec_dimensions"), blocks)
