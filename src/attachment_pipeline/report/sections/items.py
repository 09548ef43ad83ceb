"""Report section 3. Items: answer distributions per item (diverging stacked bars)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import figures as fg
from ...instruments import Instrument
from ..blocks import Context, Image, Para, Section
from ..context import _figure, short_name


def raw_answers(keyed: pd.DataFrame, inst: Instrument) -> pd.DataFrame:
    """Answers as given, from keyed items: ``min + max - x`` for reverse-keyed items of a Likert instrument.

    >>> from attachment_pipeline.instruments import load_instrument
    >>> inst = load_instrument("ecr_r")
    >>> keyed = pd.DataFrame({"ecr_r_9": [1.0, 7.0], "ecr_r_1": [2.0, None]})
    >>> raw_answers(keyed, inst).to_dict("list")
    {'ecr_r_9': [7.0, 1.0], 'ecr_r_1': [2.0, nan]}
    """
    out = keyed.copy()
    if inst.kind != "likert":
        return out
    for item in inst.items:
        col = f"{inst.name}_{item.n}"
        if item.reverse and col in out:
            out[col] = inst.scale_min + inst.scale_max - out[col]
    return out


def answer_percentages(raw: pd.DataFrame, categories: list[int]) -> pd.DataFrame:
    """Percent of each item's answers per category (rows: items, columns: categories; missing left out).

    >>> answer_percentages(pd.DataFrame({"a": [1, 2, 2, None]}), [1, 2, 3]).loc["a"].round(1).tolist()
    [33.3, 66.7, 0.0]
    """
    rows = {}
    for col in raw.columns:
        s = raw[col].dropna()
        counts = s.value_counts().reindex(categories, fill_value=0).to_numpy(dtype=float)
        rows[col] = 100 * counts / counts.sum() if counts.sum() else np.full(len(categories), np.nan)
    return pd.DataFrame.from_dict(rows, orient="index", columns=categories)


def _item_text(ctx: Context, inst: Instrument, item, width: int = 58) -> str:
    text = item.text.get(ctx.language) or item.text.get("en") or ""
    mark = " (R)" if item.reverse and inst.kind == "likert" else ""
    label = f"{item.n}{mark} {text}".strip()
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def _category_labels(ctx: Context, inst: Instrument, categories: list[int]) -> list[str]:
    out = []
    for c in categories:
        lab = inst.scale_labels.get(c) or inst.scale_labels.get(str(c))
        out.append(f"{c} {ctx.T.scale_label(lab)}" if lab else str(c))
    return out


def _items_figure(ctx: Context, inst: Instrument) -> Image | None:
    items = ctx.res["items"]
    cols = [c for c in inst.item_columns() if items is not None and c in items.columns]
    if not cols:
        return None
    T = ctx.T
    categories = list(range(inst.scale_min, inst.scale_max + 1))
    pct = answer_percentages(raw_answers(items[cols], inst), categories)
    pct.index = [_item_text(ctx, inst, it) for it in inst.items if f"{inst.name}_{it.n}" in cols]
    marked = [it.reverse and inst.kind == "likert" for it in inst.items if f"{inst.name}_{it.n}" in cols]
    fig = fg.diverging_bars(pct, category_labels=_category_labels(ctx, inst, categories),
                            title=T("items_fig_title", instrument=short_name(inst)),
                            xlabel=T("percent_of_answers"), marked=marked, legend_title=T("answer"))
    return _figure(ctx, fig, T("items_fig_alt", instrument=short_name(inst)),
                   T("items_fig_caption_likert") if inst.kind == "likert" else T("items_fig_caption_minmax"))


def item_text_note(ctx: Context) -> str:
    """Which instruments show their item texts in the report's language and which in the original (English).

    Empty for an English report. An instrument file carries a translation as ``text: {en: ..., nl: ...}``
    per item; items without one are shown as written in the original.
    """
    if ctx.language == "en":
        return ""
    translated = [short_name(i) for i in ctx.instruments if all(it.text.get(ctx.language) for it in i.items)]
    partly = [short_name(i) for i in ctx.instruments
              if any(it.text.get(ctx.language) for it in i.items) and short_name(i) not in translated]
    original = [short_name(i) for i in ctx.instruments if not any(it.text.get(ctx.language) for it in i.items)]
    parts = []
    if translated:
        parts.append(ctx.T("item_texts_translated", instruments=", ".join(translated)))
    if partly:
        parts.append(ctx.T("item_texts_partly", instruments=", ".join(partly)))
    if original:
        parts.append(ctx.T("item_texts_original", instruments=", ".join(original)))
    return " ".join(parts)


def section_items(ctx: Context) -> Section:
    """Answer distributions per item (diverging stacked bars); reverse-keyed items marked."""
    T = ctx.T
    blocks = [Para(T("items_intro"))]
    note = item_text_note(ctx)
    if note:
        blocks.append(Para(note, css="note"))
    figs = [f for f in (_items_figure(ctx, i) for i in ctx.instruments) if f is not None]
    blocks.extend(figs or [Para(T("no_items"))])
    return Section("items", T("sec_items"), blocks)
