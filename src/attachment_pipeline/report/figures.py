"""Matplotlib figures of the cohort report, readable in grey print, embedded as PNG.

Every function takes data that the pipeline has already computed (tables from
``results/<study>/<cohort>/``) and the texts to show (labels in the report's
language), and returns a :class:`matplotlib.figure.Figure`. Nothing here
computes a statistic; at most it counts answers or places points.
:func:`png_data_uri` turns a figure into a ``data:image/png;base64,...`` URI
for an ``<img>`` tag, with stable bytes (no software or date metadata), so
the same inputs give the same report byte for byte.

Grey print
----------
Categories never differ by hue alone: the four attachment styles have their
own marker (:data:`STYLE_MARKERS`) and hatch (:data:`STYLE_HATCHES`) beside a
fill of clearly different lightness (:data:`STYLE_FILLS`); ordered answer
categories use a palette of monotonically increasing darkness (``cividis``);
heat maps annotate their numbers.

The figures use the object-oriented API (``Figure`` with an Agg canvas, never
``pyplot``), so building a report leaves no global state behind.
"""

from __future__ import annotations

import base64
import io
import textwrap
from contextlib import contextmanager

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, LinearSegmentedColormap, ListedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from .decimal_mark import localise

#: Figure resolution in the report (dots per inch).
DPI = 110
#: Above this many points the dimension plot shows a hexbin density instead of points.
HEXBIN_THRESHOLD = 2000

RC = {
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.6,
    "svg.hashsalt": "attachment-pipeline",
    "path.simplify": True,
}

#: Fills of the four styles (and mixture profiles), light to dark so they differ in grey.
STYLE_FILLS = {"secure": "#f2f2f2", "preoccupied": "#a6bddb", "dismissing": "#3f7fb5", "fearful": "#08306b"}
STYLE_HATCHES = {"secure": "", "preoccupied": "////", "dismissing": "....", "fearful": "xxxx"}
STYLE_MARKERS = {"secure": "o", "preoccupied": "^", "dismissing": "s", "fearful": "D"}
_EXTRA_FILLS = ["#d9d9d9", "#969696", "#636363", "#252525", "#bdbdbd", "#737373"]
_EXTRA_HATCHES = ["\\\\\\\\", "--", "++", "oo", "||", "**"]
_EXTRA_MARKERS = ["v", "P", "X", "*", "<", ">"]
#: Fills and hatches of the min/max types.
MINMAX_FILLS = {"minimiser": "#f0f0f0", "balanced": "#9ecae1", "maximiser": "#08519c"}
MINMAX_HATCHES = {"minimiser": "\\\\\\\\", "balanced": "", "maximiser": "////"}
_METHOD_HATCHES = ["", "////", "....", "xxxx", "\\\\\\\\", "++"]


@contextmanager
def _style():
    with matplotlib.rc_context(RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches with an Agg canvas and constrained layout."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_data_uri(fig: Figure, dpi: int = DPI) -> str:
    """Render ``fig`` as PNG and return it as a ``data:`` URI (stable bytes: no software/date metadata).

    >>> fig = new_figure(1, 1)
    >>> png_data_uri(fig)[:22]
    'data:image/png;base64,'
    """
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def style_look(style: str, k: int = 0) -> tuple[str, str, str]:
    """(fill, hatch, marker) of a style; ``profile_<k>`` and other labels get grey ones by position ``k``."""
    if style in STYLE_FILLS:
        return STYLE_FILLS[style], STYLE_HATCHES[style], STYLE_MARKERS[style]
    i = k % len(_EXTRA_FILLS)
    return _EXTRA_FILLS[i], _EXTRA_HATCHES[i], _EXTRA_MARKERS[i]


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width, break_long_words=False)) or str(text)


# ---------------------------------------------------------------------------
# data quality


def missingness_heatmap(percent: pd.DataFrame, *, title: str, colorbar_label: str, xlabel: str) -> Figure:
    """Heat map of missing answers: reasons (rows) by items (columns), in percent of respondents.

    Parameters
    ----------
    percent : DataFrame, index = reason labels, columns = item labels, values in percent.
    title, colorbar_label, xlabel : texts.
    """
    with _style():
        n_items = percent.shape[1]
        fig = new_figure(min(11.0, max(6.5, 1.6 + 0.17 * n_items)), 1.5 + 0.28 * percent.shape[0])
        ax = fig.add_subplot()
        vmax = max(1.0, float(np.nanmax(percent.to_numpy())) if percent.size else 1.0)
        im = ax.imshow(percent.to_numpy(dtype=float), aspect="auto", cmap="Greys", vmin=0, vmax=vmax,
                       interpolation="nearest")
        ax.set_yticks(range(percent.shape[0]), list(percent.index))
        ax.set_xticks(range(n_items), list(percent.columns), rotation=90, fontsize=6.5)
        ax.set_xlabel(xlabel)
        ax.set_title(_wrap(title, 70), loc="left")
        ax.spines[:].set_visible(False)
        ax.set_xticks(np.arange(-0.5, n_items, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, percent.shape[0], 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=0.6)
        ax.tick_params(which="minor", length=0)
        fig.colorbar(im, ax=ax, label=colorbar_label, shrink=0.9, pad=0.01)
    return fig


# ---------------------------------------------------------------------------
# items


def diverging_bars(percent: pd.DataFrame, *, category_labels: list[str], title: str, xlabel: str,
                   marked: list[bool] | None = None, legend_title: str = "") -> Figure:
    """Diverging stacked bars of answer distributions, one bar per item, centred on the scale middle.

    Parameters
    ----------
    percent : DataFrame, index = item labels (top to bottom), columns = answer categories
        in scale order, values = percent of the item's answers (rows add up to 100).
    category_labels : legend text per category (e.g. ``"1 strongly disagree"``).
    title, xlabel, legend_title : texts.
    marked : per item, True to set its label in bold (reverse-keyed items).

    Categories below the middle extend to the left of 0, those above to the
    right; an odd scale's middle category is split evenly across 0. The
    palette darkens with the category, so the order survives grey print.
    """
    with _style():
        values = percent.to_numpy(dtype=float)
        n_items, k = values.shape
        fig = new_figure(8.6, 1.3 + 0.24 * n_items)
        ax = fig.add_subplot()
        colors = matplotlib.colormaps["cividis_r"](np.linspace(0.05, 0.95, k))
        half = k // 2
        left = -(values[:, :half].sum(axis=1) + (values[:, half] / 2 if k % 2 else 0))
        y = np.arange(n_items)
        for c in range(k):
            ax.barh(y, values[:, c], left=left, color=colors[c], edgecolor="white", linewidth=0.4, height=0.78,
                    label=category_labels[c])
            left = left + values[:, c]
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, list(percent.index))
        ax.invert_yaxis()
        if marked is not None:
            for lab, m in zip(ax.get_yticklabels(), marked):
                if m:
                    lab.set_fontweight("bold")
        edges = np.r_[left, left - np.nansum(values, axis=1)]
        lim = max(50.0, float(np.nanmax(np.abs(edges))) if n_items and np.isfinite(edges).any() else 50.0)
        lim = min(100.0, np.ceil(lim / 10) * 10)
        ax.set_xlim(-lim, lim)
        step = 25 if lim > 60 else 10
        half_ticks = np.arange(0, lim + 0.1, step)
        ticks = np.r_[-half_ticks[:0:-1], half_ticks]
        ax.set_xticks(ticks, [f"{abs(t):g}" for t in ticks])
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        ax.grid(axis="x", color="0.85", linewidth=0.5)
        ax.set_axisbelow(True)
        fig.legend(loc="outside lower center", ncol=min(k, 7), frameon=False, title=legend_title or None)
    return fig


# ---------------------------------------------------------------------------
# factor structure


def scree_plot(parallel: pd.DataFrame, *, title: str, labels: dict, max_factors: int = 15) -> Figure:
    """Scree plot with Horn's parallel analysis (factor and component eigenvalues).

    Parameters
    ----------
    parallel : rows of ``parallel_analysis.csv`` for one instrument.
    labels : texts ``observed_fa``, ``random_fa``, ``observed_pc``, ``random_pc``, ``xlabel``, ``ylabel``.
    max_factors : show at most this many (the tail is flat).
    """
    with _style():
        p = parallel.sort_values("factor").head(max_factors)
        fig = new_figure(5.6, 3.4)
        ax = fig.add_subplot()
        x = p["factor"].to_numpy()
        ax.plot(x, p["eigen_observed_fa"], "-o", color="black", markersize=4, label=labels["observed_fa"])
        ax.plot(x, p["eigen_random_fa"], "--", color="black", linewidth=1, label=labels["random_fa"])
        ax.plot(x, p["eigen_observed_pc"], "-s", color="0.55", markersize=3.5, markerfacecolor="white",
                label=labels["observed_pc"])
        ax.plot(x, p["eigen_random_pc"], ":", color="0.45", linewidth=1.2, label=labels["random_pc"])
        ax.axhline(0, color="0.8", linewidth=0.5)
        ax.set_xticks(x)
        ax.set_xlabel(labels["xlabel"])
        ax.set_ylabel(labels["ylabel"])
        ax.set_title(title, loc="left")
        ax.legend(frameon=False)
    return fig


def loadings_heatmap(loadings: pd.DataFrame, factor_labels: list[str], subscales: list[str], *,
                     subscale_labels: dict, title: str, colorbar_label: str) -> Figure:
    """Heat map of rotated loadings (items by factors) with a strip of the theoretical subscales.

    Parameters
    ----------
    loadings : DataFrame, index = item labels (top to bottom), columns = factors, values = loadings.
    factor_labels : column headings (e.g. ``"F1 (anxiety)"``).
    subscales : theoretical subscale of each item (same order as the rows).
    subscale_labels : subscale -> display label.
    title, colorbar_label : texts.

    Loadings are annotated in APA style (two decimals, no leading zero);
    the colour scale is symmetric around 0 and the sign is printed, so the
    figure survives grey print.
    """
    with _style():
        vals = loadings.to_numpy(dtype=float)
        n_items, k = vals.shape
        fig = new_figure(2.6 + 0.9 * k, 1.2 + 0.2 * n_items)
        gs = fig.add_gridspec(1, 2, width_ratios=[0.35, max(1.0, 0.9 * k)], wspace=0.0)
        ax_s = fig.add_subplot(gs[0])
        ax = fig.add_subplot(gs[1], sharey=ax_s)
        order = list(dict.fromkeys(subscales))
        codes = np.array([order.index(s) for s in subscales])[:, None]
        greys = ListedColormap(["#d9d9d9", "#737373", "#bdbdbd", "#525252", "#969696", "#252525"][:max(1, len(order))])
        ax_s.imshow(codes, aspect="auto", cmap=greys, vmin=-0.5, vmax=len(greys.colors) - 0.5,
                    interpolation="nearest")
        for i, s in enumerate(order):
            rows = np.flatnonzero(codes[:, 0] == i)
            dark = i % 2 == 1
            ax_s.text(0, rows.mean(), subscale_labels.get(s, s), rotation=90, ha="center", va="center",
                      fontsize=7.5, color="white" if dark else "black")
        ax_s.set_xticks([])
        ax_s.set_yticks(range(n_items), list(loadings.index), fontsize=6.8)
        ax_s.spines[:].set_visible(False)
        cmap = LinearSegmentedColormap.from_list("div", ["#08306b", "#6baed6", "#f7f7f7", "#f4a582", "#67001f"])
        im = ax.imshow(vals, aspect="auto", cmap=cmap, norm=TwoSlopeNorm(0, -1, 1), interpolation="nearest")
        for i in range(n_items):
            for j in range(k):
                v = vals[i, j]
                ax.text(j, i, apa_number(v), ha="center", va="center", fontsize=6.5,
                        color="white" if abs(v) > 0.55 else "black",
                        fontweight="bold" if abs(v) >= 0.40 else "normal")
        ax.set_xticks(range(k), factor_labels, fontsize=7.5)
        ax.xaxis.tick_top()
        ax.tick_params(axis="y", left=False, labelleft=False)
        ax.spines[:].set_visible(False)
        ax.set_title(title, loc="left", pad=18)
        fig.colorbar(im, ax=ax, label=colorbar_label, shrink=0.5, pad=0.02)
    return fig


def apa_number(value: float, decimals: int = 2) -> str:
    """A value that cannot exceed 1 in APA style: no leading zero, minus sign (``-0.456`` -> ``−.46``).

    >>> apa_number(0.456), apa_number(-0.05), apa_number(1.0)
    ('.46', '−.05', '1.00')
    """
    if value is None or not np.isfinite(value):
        return "–"
    text = f"{value:.{decimals}f}"
    neg = text.startswith("-")
    text = text.lstrip("-")
    if text.startswith("0."):
        text = text[1:]
    if neg and text.strip("0.") != "":
        text = "−" + text
    return localise(text)


# ---------------------------------------------------------------------------
# the two dimensions


def dimension_plot(avoidance: np.ndarray, anxiety: np.ndarray, styles: np.ndarray | None, *,
                   scale: tuple[float, float], cuts: dict | None, quadrant_labels: dict,
                   style_labels: dict, labels: dict, hexbin_threshold: int = HEXBIN_THRESHOLD) -> Figure:
    """Attachment anxiety (y) against avoidance (x) with marginal histograms.

    Parameters
    ----------
    avoidance, anxiety : the respondents' dimension scores.
    styles : per respondent the primary style (markers by style), or None.
    scale : (min, max) of the response scale (axis limits).
    cuts : ``{"anxiety": c, "avoidance": c}`` cut lines of the primary method, or None (no lines).
    quadrant_labels : style -> text placed in its quadrant (secure bottom left, preoccupied top
        left, dismissing bottom right, fearful top right).
    style_labels : style -> legend text.
    labels : texts ``xlabel``, ``ylabel``, ``count``, ``cut``.
    hexbin_threshold : above this many respondents a hexbin density replaces the points.
    """
    with _style():
        fig = new_figure(6.4, 6.2)
        fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.0, hspace=0.0)
        gs = fig.add_gridspec(2, 2, width_ratios=[4, 1], height_ratios=[1, 4])
        ax = fig.add_subplot(gs[1, 0])
        ax_top = fig.add_subplot(gs[0, 0], sharex=ax)
        ax_right = fig.add_subplot(gs[1, 1], sharey=ax)
        lo, hi = scale
        pad = 0.04 * (hi - lo)
        n = len(anxiety)
        if n > hexbin_threshold:
            hb = ax.hexbin(avoidance, anxiety, gridsize=40, cmap="Greys", mincnt=1,
                           extent=(lo, hi, lo, hi), linewidths=0.1)
            fig.colorbar(hb, ax=ax_right, label=labels["count"], location="right", shrink=0.8)
        elif styles is not None:
            present = list(dict.fromkeys(sorted(set(styles), key=_style_order)))
            for k, s in enumerate(present):
                fill, _, marker = style_look(s, k)
                m = styles == s
                ax.scatter(avoidance[m], anxiety[m], s=14, marker=marker, facecolor=fill, edgecolor="black",
                           linewidth=0.4, alpha=0.85, label=style_labels.get(s, s))
            fig.legend(loc="outside lower center", ncol=min(4, len(present)), frameon=False, markerscale=1.3)
        else:
            ax.scatter(avoidance, anxiety, s=12, facecolor="white", edgecolor="black", linewidth=0.5)
        if cuts:
            ax.axhline(cuts["anxiety"], color="black", linestyle="--", linewidth=0.9)
            ax.axvline(cuts["avoidance"], color="black", linestyle="--", linewidth=0.9)
        corners = {"secure": (0.02, 0.02, "left", "bottom"), "preoccupied": (0.02, 0.98, "left", "top"),
                   "dismissing": (0.98, 0.02, "right", "bottom"), "fearful": (0.98, 0.98, "right", "top")}
        for s, (x, y, ha, va) in corners.items():
            if s in quadrant_labels:
                ax.text(x, y, quadrant_labels[s], transform=ax.transAxes, ha=ha, va=va, fontsize=8.5,
                        fontweight="bold", bbox={"facecolor": "white", "edgecolor": "0.6", "boxstyle": "round,pad=0.25",
                                                 "linewidth": 0.5, "alpha": 0.9})
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel(labels["xlabel"])
        ax.set_ylabel(labels["ylabel"])
        bins = np.linspace(lo, hi, 25)
        ax_top.hist(avoidance, bins=bins, color="0.6", edgecolor="white", linewidth=0.4)
        ax_right.hist(anxiety, bins=bins, orientation="horizontal", color="0.6", edgecolor="white", linewidth=0.4)
        if cuts:
            ax_top.axvline(cuts["avoidance"], color="black", linestyle="--", linewidth=0.9)
            ax_right.axhline(cuts["anxiety"], color="black", linestyle="--", linewidth=0.9)
        ax_top.tick_params(labelbottom=False)
        ax_right.tick_params(labelleft=False)
        ax_top.set_ylabel(labels["count"])
        ax_right.set_xlabel(labels["count"])
    return fig


def _style_order(s: str):
    order = ["secure", "preoccupied", "dismissing", "fearful"]
    return (order.index(s), "") if s in order else (len(order), s)


# ---------------------------------------------------------------------------
# styles


def style_count_bars(percent: pd.DataFrame, *, style_labels: dict, method_labels: dict, xlabel: str,
                     title: str, hidden_label: str = "") -> Figure:
    """100% stacked horizontal bars: the share of each style (segments) per method (bars).

    Parameters
    ----------
    percent : DataFrame, index = methods (top to bottom), columns = styles, values = percent;
        NaN marks a segment that is too small to show (privacy): drawn blank and hatched grey.
    style_labels, method_labels : display texts.
    hidden_label : legend text of the hidden segments (shown when there are any).

    Segments of 6% or more carry their percentage, so the figure reads in grey print.
    """
    with _style():
        methods, styles = list(percent.index), list(percent.columns)
        fig = new_figure(7.6, 1.3 + 0.42 * len(methods))
        ax = fig.add_subplot()
        y = np.arange(len(methods))
        left = np.zeros(len(methods))
        any_hidden = False
        for j, s in enumerate(styles):
            v = percent[s].to_numpy(dtype=float)
            fill, hatch, _ = style_look(s, j)
            shown = np.where(np.isfinite(v), v, 0.0)
            if (shown > 0).any():
                ax.barh(y, shown, left=left, color=fill, hatch=hatch, edgecolor="black", linewidth=0.5, height=0.62,
                        label=style_labels.get(s, s))
            for i in np.flatnonzero(shown >= 6):
                # black on a white box: readable on every fill and hatch (dark fills, stars, grey print)
                ax.text(left[i] + shown[i] / 2, y[i], f"{shown[i]:.0f}", ha="center", va="center", fontsize=7,
                        color="black", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.2})
            left = left + shown
        gap = 100 - left
        if np.nanmax(np.abs(gap)) > 0.05 and percent.isna().to_numpy().any():
            any_hidden = True
            ax.barh(y, np.clip(gap, 0, None), left=left, color="white", hatch="....", edgecolor="0.6",
                    linewidth=0.5, height=0.62, label=hidden_label)
        ax.set_yticks(y, [method_labels.get(m, m) for m in methods])
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        ncol = min(4, len(styles) + int(any_hidden))
        fig.legend(loc="outside lower center", ncol=ncol, frameon=False)
    return fig


def minmax_by_style_plot(index_by_style: dict, type_percent: pd.DataFrame, *, style_labels: dict,
                         type_labels: dict, labels: dict, min_cell: int = 5) -> Figure:
    """Min/max index by style (box plots) and the min/max typology by style (100% stacked bars).

    Parameters
    ----------
    index_by_style : style -> array of min/max index values of the respondents of that style
        (styles with fewer than ``min_cell`` respondents are not drawn).
    type_percent : DataFrame, index = styles, columns = min/max types, values = percent of style.
    labels : texts ``index``, ``percent``, ``title_index``, ``title_types``, ``too_few``.
    """
    with _style():
        fig = new_figure(8.6, 3.6)
        ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.1, 1])
        styles = list(index_by_style)
        data, pos, ticks = [], [], []
        for i, s in enumerate(styles):
            v = np.asarray(index_by_style[s], dtype=float)
            v = v[np.isfinite(v)]
            ticks.append(f"{_wrap(style_labels.get(s, s), 14)}\nn = {v.size if v.size >= min_cell else f'<{min_cell}'}")
            if v.size >= min_cell:
                data.append(v)
                pos.append(i)
        if data:
            bp = ax1.boxplot(data, positions=pos, widths=0.55, patch_artist=True, showfliers=True,
                             medianprops={"color": "black", "linewidth": 1.4},
                             flierprops={"marker": "o", "markersize": 2.5, "markerfacecolor": "white"})
            for patch, i in zip(bp["boxes"], pos):
                fill, hatch, _ = style_look(styles[i], i)
                patch.set(facecolor=fill, hatch=hatch, edgecolor="black", linewidth=0.6)
        ax1.axhline(0, color="0.5", linewidth=0.6, linestyle=":")
        ax1.set_xticks(range(len(styles)), ticks, fontsize=7)
        ax1.set_xlim(-0.6, len(styles) - 0.4)
        ax1.set_ylim(-1.05, 1.05)
        ax1.set_ylabel(labels["index"])
        ax1.set_title(labels["title_index"], loc="left")
        left = np.zeros(len(type_percent))
        y = np.arange(len(type_percent))
        for t in type_percent.columns:
            v = type_percent[t].to_numpy(dtype=float)
            ax2.barh(y, v, left=left, color=MINMAX_FILLS.get(t, "0.7"), hatch=MINMAX_HATCHES.get(t, ""),
                     edgecolor="black", linewidth=0.5, height=0.6, label=type_labels.get(t, t))
            left += np.nan_to_num(v)
        ax2.set_yticks(y, [_wrap(style_labels.get(s, s), 16) for s in type_percent.index], fontsize=7.5)
        ax2.invert_yaxis()
        ax2.set_xlim(0, 100)
        ax2.set_xlabel(labels["percent"])
        ax2.set_title(labels["title_types"], loc="left")
        ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    return fig


# ---------------------------------------------------------------------------
# couples


def partner_plots(panels: list[dict], *, scale_by_panel: list[tuple[float, float]]) -> Figure:
    """Partner-against-partner scatter plots, one panel each.

    Parameters
    ----------
    panels : dicts with ``x``, ``y`` (arrays, one value per couple), ``xlabel``, ``ylabel``, ``title``.
    scale_by_panel : (min, max) axis range of each panel.
    """
    with _style():
        n = len(panels)
        fig = new_figure(3.2 * n + 0.4, 3.5)
        axes = np.atleast_1d(fig.subplots(1, n))
        for ax, p, (lo, hi) in zip(axes, panels, scale_by_panel):
            pad = 0.04 * (hi - lo)
            ax.scatter(p["x"], p["y"], s=14, facecolor="white", edgecolor="black", linewidth=0.6)
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(lo - pad, hi + pad)
            ax.set_aspect("equal", adjustable="box")
            ax.set_xlabel(_wrap(p["xlabel"], 34))
            ax.set_ylabel(_wrap(p["ylabel"], 34))
            ax.set_title(_wrap(p["title"], 40), loc="left", fontsize=8.5)
            ax.grid(color="0.9", linewidth=0.5)
            ax.set_axisbelow(True)
    return fig


def pairing_heatmap(observed: pd.DataFrame, expected: pd.DataFrame, *, title: str, labels: dict,
                    min_cell: int = 5) -> Figure:
    """Observed against expected couples per category pair (unordered; lower triangle blank).

    Parameters
    ----------
    observed, expected : square DataFrames (same labels on both axes), NaN where no pair is listed.
    labels : texts ``ratio`` (colour bar), ``axis`` (both axes), ``suppressed``.
    min_cell : observed counts 1..min_cell-1 are shown as ``<min_cell`` and not coloured.

    Each cell shows ``observed / expected`` and is coloured by the ratio
    observed / expected on a log scale centred on 1 (as many as random pairing gives).
    """
    with _style():
        o = observed.to_numpy(dtype=float)
        e = expected.to_numpy(dtype=float)
        k = o.shape[0]
        fig = new_figure(1.9 + 1.05 * k, 1.4 + 0.8 * k)
        ax = fig.add_subplot()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log2(np.where((e > 0) & np.isfinite(o), (o + 0.0) / e, np.nan))
        small = (o > 0) & (o < min_cell)
        ratio = np.where(small, np.nan, ratio)
        ratio = np.where(np.isinf(ratio), -3.0, ratio)
        cmap = LinearSegmentedColormap.from_list("oe", ["#2166ac", "#d1e5f0", "#f7f7f7", "#fddbc7", "#b2182b"])
        bounds = np.array([-3, -1.5, -0.75, -0.25, 0.25, 0.75, 1.5, 3])
        norm = BoundaryNorm(bounds, cmap.N, extend="both")
        im = ax.imshow(np.clip(ratio, -3, 3), cmap=cmap, norm=norm, interpolation="nearest")
        for i in range(k):
            for j in range(k):
                if not np.isfinite(e[i, j]):
                    continue
                if small[i, j]:
                    ax.add_patch(matplotlib.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white",
                                                              hatch="////", edgecolor="0.6", linewidth=0))
                    txt = localise(f"<{min_cell} / {e[i, j]:.1f}")
                else:
                    txt = localise(f"{int(o[i, j])} / {e[i, j]:.1f}")
                ax.text(j, i, txt, ha="center", va="center", fontsize=7.5,
                        color="white" if np.isfinite(ratio[i, j]) and abs(ratio[i, j]) > 1.4 else "black")
        ticks = [_wrap(c, 13) for c in observed.columns]
        ax.set_xticks(range(k), ticks, fontsize=7.5)
        ax.set_yticks(range(k), [_wrap(c, 16) for c in observed.index], fontsize=7.5)
        ax.xaxis.tick_top()
        ax.spines[:].set_visible(False)
        ax.set_title(_wrap(title, 30 + 8 * k), loc="left", pad=24)
        cb = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.03)
        cb.set_ticks([-3, -1.5, -0.75, 0, 0.75, 1.5, 3])
        cb.set_ticklabels(["1/8", "0.35", "0.6", "1", "1.7", "2.8", "8"])
        cb.set_label(labels["ratio"])
    return fig


# ---------------------------------------------------------------------------
# hypotheses


def forest_plot(rows: pd.DataFrame, *, labels: dict, effect_labels: dict) -> Figure:
    """Forest plot of effect sizes with intervals, one panel per kind of effect size.

    Parameters
    ----------
    rows : columns ``label`` (row text), ``effect_size_name``, ``effect_size``, ``ci_low``,
        ``ci_high``, ``null_value``, ``supported`` (True / False / NA).
    labels : texts ``supported``, ``not_supported``, ``descriptive``, ``null``.
    effect_labels : effect size name -> axis label.

    Filled markers: supported; open: not supported; grey diamonds: rows
    without a verdict (secondary, descriptive rows). The null value of each
    row is a short vertical bar.
    """
    with _style():
        groups = list(dict.fromkeys(rows["effect_size_name"]))
        sizes = [int((rows["effect_size_name"] == g).sum()) for g in groups]
        fig = new_figure(7.2, 0.9 + 0.85 * len(groups) + 0.3 * sum(sizes))
        axes = np.atleast_1d(fig.subplots(len(groups), 1, height_ratios=[s + 1.2 for s in sizes]))
        handles = {}
        for ax, g in zip(axes, groups):
            sub = rows[rows["effect_size_name"] == g].reset_index(drop=True)
            y = np.arange(len(sub))
            for i, r in sub.iterrows():
                lo, hi = r["ci_low"], r["ci_high"]
                if np.isfinite(lo) and np.isfinite(hi):
                    ax.plot([lo, hi], [i, i], color="black", linewidth=1.1, solid_capstyle="butt")
                    ax.plot([lo, lo], [i - 0.15, i + 0.15], color="black", linewidth=1.1)
                    ax.plot([hi, hi], [i - 0.15, i + 0.15], color="black", linewidth=1.1)
                sup = r["supported"]
                if pd.isna(sup):
                    key, kw = "descriptive", {"marker": "D", "facecolor": "0.6", "edgecolor": "0.3", "s": 26}
                elif bool(sup):
                    key, kw = "supported", {"marker": "o", "facecolor": "black", "edgecolor": "black", "s": 34}
                else:
                    key, kw = "not_supported", {"marker": "o", "facecolor": "white", "edgecolor": "black", "s": 34}
                handles[key] = ax.scatter([r["effect_size"]], [i], zorder=3, linewidth=1, **kw)
                if np.isfinite(r["null_value"]):
                    handles["null"] = ax.scatter([r["null_value"]], [i], marker="|", s=160, color="0.45",
                                                 linewidth=1.2, zorder=2)
            ax.set_yticks(y, [_wrap(t, 46) for t in sub["label"]], fontsize=7.5)
            ax.set_ylim(len(sub) - 0.4, -0.6)
            ax.set_xlabel(effect_labels.get(g, g))
            ax.grid(axis="x", color="0.9", linewidth=0.5)
            ax.set_axisbelow(True)
        order = [k for k in ("supported", "not_supported", "descriptive", "null") if k in handles]
        fig.legend([handles[k] for k in order], [labels[k] for k in order], loc="outside lower center",
                   ncol=len(order), frameon=False)
    return fig


# ---------------------------------------------------------------------------
# item response theory


def information_curves(panels: list[dict], *, labels: dict) -> Figure:
    """Item and test information of graded response models, one row per subscale.

    Parameters
    ----------
    panels : per subscale ``{"title", "theta", "items": {label: information}, "test": information,
        "se": conditional standard error}`` (rows of ``irt_information.csv``).
    labels : texts ``xlabel``, ``ylabel``, ``se``, ``item``, ``test``, ``colorbar``.

    Left: a heat map of item information (rows: items, columns: theta; darker = more
    information), so the reader sees where on the trait each item measures. Right: the
    test information (solid) and the conditional standard error ``1 / sqrt(I)`` (dashed,
    right axis).
    """
    with _style():
        heights = [max(2.6, 0.16 * len(p["items"]) + 1.0) for p in panels]
        fig = new_figure(7.6, sum(heights))
        grid = fig.add_gridspec(len(panels), 2, width_ratios=[1.35, 1], height_ratios=heights)
        vmax = max(float(np.nanmax(np.vstack(list(p["items"].values())))) for p in panels)
        for row, p in enumerate(panels):
            theta = np.asarray(p["theta"], dtype=float)
            ax = fig.add_subplot(grid[row, 0])
            names = list(p["items"])
            values = np.vstack([np.asarray(p["items"][n], dtype=float) for n in names])
            step = theta[1] - theta[0] if theta.size > 1 else 1.0
            mesh = ax.imshow(values, aspect="auto", cmap="Greys", vmin=0, vmax=vmax, interpolation="nearest",
                             extent=(theta[0] - step / 2, theta[-1] + step / 2, len(names) - 0.5, -0.5))
            ax.set_yticks(range(len(names)), names, fontsize=6.5)
            ax.set_xlabel(labels["xlabel"])
            ax.set_ylabel(labels["item"])
            ax.set_title(p["title"], loc="left")
            fig.colorbar(mesh, ax=ax, label=labels["colorbar"], shrink=0.85, pad=0.02)
            ax_t = fig.add_subplot(grid[row, 1])
            ax_t.plot(theta, p["test"], color="black", linewidth=1.8, label=labels["test"])
            ax_t.set_xlim(theta.min(), theta.max())
            ax_t.set_ylim(bottom=0)
            ax_t.set_xlabel(labels["xlabel"])
            ax_t.set_ylabel(labels["ylabel"])
            ax_se = ax_t.twinx()
            ax_se.plot(theta, p["se"], color="black", linestyle="--", linewidth=1.0, label=labels["se"])
            ax_se.set_ylim(0, min(2.0, float(np.nanmax(p["se"])) * 1.05))
            ax_se.set_ylabel(labels["se"])
            ax_se.spines["right"].set_visible(True)
            h1, l1 = ax_t.get_legend_handles_labels()
            h2, l2 = ax_se.get_legend_handles_labels()
            ax_t.legend(h1 + h2, l1 + l2, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=7)
    return fig


def irt_score_plot(panels: list[dict], *, labels: dict, hexbin_threshold: int = HEXBIN_THRESHOLD) -> Figure:
    """EAP trait estimates against the subscale mean score, one panel per subscale.

    Parameters
    ----------
    panels : per subscale ``{"title", "mean_score", "eap", "se", "scale": (min, max)}``.
    labels : texts ``xlabel``, ``ylabel``, ``count``.

    Points (a hexbin density above ``hexbin_threshold`` respondents); the vertical bars are
    the EAP standard errors.
    """
    with _style():
        fig = new_figure(3.5 * len(panels), 3.4)
        axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
        for ax, p in zip(axes, panels):
            x, y, se = (np.asarray(p[k], dtype=float) for k in ("mean_score", "eap", "se"))
            ok = np.isfinite(x) & np.isfinite(y)
            x, y, se = x[ok], y[ok], se[ok]
            if x.size > hexbin_threshold:
                hb = ax.hexbin(x, y, gridsize=35, cmap="Greys", mincnt=1, linewidths=0.1)
                fig.colorbar(hb, ax=ax, label=labels["count"], shrink=0.8)
            else:
                ax.errorbar(x, y, yerr=se, fmt="none", ecolor="0.75", elinewidth=0.6)
                ax.scatter(x, y, s=10, facecolor="white", edgecolor="black", linewidth=0.5, zorder=3)
            ax.set_xlim(p["scale"][0] - 0.1, p["scale"][1] + 0.1)
            ax.set_xlabel(labels["xlabel"])
            ax.set_title(p["title"], loc="left")
            ax.grid(color="0.92", linewidth=0.5)
            ax.set_axisbelow(True)
        axes[0].set_ylabel(labels["ylabel"])
    return fig
