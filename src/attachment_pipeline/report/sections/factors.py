"""Report section 5. Factor structure: KMO and Bartlett, scree with parallel analysis, EFA loadings, CFA fit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import figures as fg
from ...instruments import Instrument
from ..blocks import Bullets, Context, Heading, Image, Para, Section, Table
from ..context import _figure, _rows, _subscale_label, short_name
from ..formatting import p_text, DASH, _finite, fmt_bounded, fmt_ci, fmt_int, fmt_num, fmt_p


_FIT_CUTOFFS = {"cfi": ((0.95, "good"), (0.90, "acceptable")), "tli": ((0.95, "good"), (0.90, "acceptable")),
                "rmsea": ((0.06, "good"), (0.08, "acceptable")), "srmr": ((0.08, "good"),)}


def fit_verdict(index: str, value: float) -> str:
    """``good`` / ``acceptable`` / ``poor`` by the conventional cut-offs (Hu & Bentler, 1999).

    >>> fit_verdict("cfi", 0.93), fit_verdict("rmsea", 0.05), fit_verdict("srmr", 0.09)
    ('acceptable', 'good', 'poor')
    """
    if not _finite(value):
        return "unknown"
    lower_is_better = index in ("rmsea", "srmr")
    for cut, word in _FIT_CUTOFFS[index]:
        if (value <= cut) if lower_is_better else (value >= cut):
            return word
    return "poor"


def _factorability_para(ctx: Context, inst: Instrument) -> Para | None:
    f = _rows(ctx.res["factorability"], instrument=inst.name)
    if f.empty:
        return None
    m = {r["measure"]: r["value"] for _, r in f[f["item"].isna()].iterrows()}
    common = dict(n=fmt_int(m.get("n")), excluded=fmt_int(m.get("n_excluded")),
                  kmo=fmt_bounded(m.get("kmo")), chi2=fmt_num(m.get("bartlett_chi2")),
                  df=fmt_int(m.get("bartlett_df")), p=p_text(m.get("bartlett_p")),
                  n_fa=fmt_int(m.get("n_factors_parallel")), n_pc=fmt_int(m.get("n_components_parallel")),
                  n_th=fmt_int(m.get("n_factors_theoretical")))
    kind = f["missing"].dropna().iloc[0] if "missing" in f and f["missing"].notna().any() else "listwise"
    smoothed = ctx.T("factorability_smoothed") if m.get("smoothed") == 1 else ""
    if kind == "pairwise":
        return Para(ctx.T("factorability_text_pairwise", pairs=fmt_int(m.get("n_pairs_min")), smoothed=smoothed,
                          **common))
    if kind in ("fiml", "polychoric"):
        return Para(ctx.T(f"factorability_text_{kind}", smoothed=smoothed, **common))
    return Para(ctx.T("factorability_text", **common))


def _scree_figure(ctx: Context, inst: Instrument) -> Image | None:
    pa = _rows(ctx.res["parallel"], instrument=inst.name)
    if pa.empty:
        return None
    T = ctx.T
    labels = {k: T(f"scree_{k}") for k in ("observed_fa", "random_fa", "observed_pc", "random_pc", "xlabel", "ylabel")}
    fig = fg.scree_plot(pa, title=T("scree_title", instrument=short_name(inst)), labels=labels)
    return _figure(ctx, fig, T("scree_alt", instrument=short_name(inst)), T("scree_caption"))


def _loadings_figure(ctx: Context, inst: Instrument) -> Image | None:
    ld = _rows(ctx.res["efa_loadings"], instrument=inst.name)
    if ld.empty:
        return None
    order = {s: i for i, s in enumerate(inst.subscales)}
    ld = ld.assign(_o=ld["subscale"].map(order).fillna(len(order))).sort_values("_o", kind="stable")
    T = ctx.T
    factors = [c for c in ld.columns if c.startswith("F") and c[1:].isdigit()]
    matched = {}
    for fac in factors:
        subs = ld.loc[ld["matched_factor"] == fac, "subscale"].unique()
        matched[fac] = _subscale_label(ctx, inst, subs[0]) if len(subs) == 1 else ""
    by_n = {f"{inst.name}_{it.n}": it for it in inst.items}
    index = [f"{by_n[i].n}{' (R)' if by_n[i].reverse else ''}" if i in by_n else i for i in ld["item"]]
    frame = pd.DataFrame(ld[factors].to_numpy(dtype=float), index=index, columns=factors)
    labels = [f"{f}\n{matched[f]}" if matched[f] else f for f in factors]
    sub_labels = {s: _subscale_label(ctx, inst, s) for s in inst.subscales}
    method = f"{ld['extraction'].iloc[0]}, {ld['rotation'].iloc[0]}"
    fig = fg.loadings_heatmap(frame, labels, list(ld["subscale"]), subscale_labels=sub_labels,
                              title=T("loadings_title", instrument=short_name(inst), method=method),
                              colorbar_label=T("loading"))
    return _figure(ctx, fig, T("loadings_alt", instrument=short_name(inst)), T("loadings_caption"))


def _factor_names(ctx: Context, inst: Instrument) -> dict:
    """``F1`` -> "factor 1 (attachment anxiety)": the subscale a factor matches (Tucker congruence), where one does."""
    ld = _rows(ctx.res["efa_loadings"], instrument=inst.name)
    out = {}
    factors = [c for c in ld.columns if c.startswith("F") and c[1:].isdigit()]
    for fac in factors:
        subs = ld.loc[ld["matched_factor"] == fac, "subscale"].unique()
        label = _subscale_label(ctx, inst, subs[0]).lower() if len(subs) == 1 else ""
        out[fac] = ctx.T("factor_named", k=fac[1:], name=label) if label else ctx.T("factor_k", k=fac[1:])
    return out


def _efa_para(ctx: Context, inst: Instrument) -> Para | None:
    fit = _rows(ctx.res["efa_fit"], instrument=inst.name)
    if fit.empty:
        return None
    model = {r["measure"]: r["value"] for _, r in fit[fit["factor"].isna()].iterrows()}
    phi = fit.loc[fit["measure"] == "phi", ["factor", "value"]]
    cong = fit.loc[fit["measure"] == "congruence", ["factor", "value"]]
    names = _factor_names(ctx, inst)

    def pair(f):
        a, _, b = str(f).partition("~~")
        return ctx.T("factor_pair", a=names.get(a, a), b=names.get(b, b)) if b else names.get(a, a)

    phis = ", ".join(f"{pair(r['factor'])}: {fmt_bounded(r['value'])}" for _, r in phi.iterrows()) or DASH
    congs = ", ".join(f"{names.get(r['factor'], r['factor'])}: {fmt_bounded(r['value'])}"
                      for _, r in cong.iterrows()) or DASH
    ld = _rows(ctx.res["efa_loadings"], instrument=inst.name)
    flagged = []
    if not ld.empty:
        for _, r in ld.iterrows():
            why = [ctx.T("flag_low")] if bool(r["flag_low"]) else []
            why += [ctx.T("flag_cross")] if bool(r["flag_cross"]) else []
            if why:
                number = str(r["item"]).rsplit("_", 1)[-1]
                flagged.append(f"{ctx.T('item_n', n=number)} ({', '.join(why)})")
    text = ctx.T("efa_text", tli=fmt_num(model.get("tli"), 3), rmsea=fmt_bounded(model.get("rmsea"), 3),
                 ci=fmt_ci(model.get("rmsea_low"), model.get("rmsea_high"), decimals=3), phi=phis, congruence=congs,
                 flagged="; ".join(flagged) if flagged else ctx.T("none"))
    return Para(text)


def _cfa_headline(r) -> tuple[str, str, str]:
    """Which chi2 and CFI/TLI/RMSEA a CFA row reports: scaled chi2 and robust indices for mlr/wlsmv."""
    est = r.get("estimator", "ml")
    if est in ("mlr", "wlsmv") and np.isfinite(r.get("chi2_scaled", np.nan)):
        kind = "robust" if np.isfinite(r.get("cfi_robust", np.nan)) else "scaled"
        return "chi2_scaled", f"_{kind}", "p_scaled"
    return "chi2", "", "p"


def _cfa_table(ctx: Context, inst: Instrument) -> Table | None:
    fit = _rows(ctx.res["cfa_fit"], instrument=inst.name)
    if fit.empty:
        return None
    T = ctx.T
    rows = []
    for _, r in fit.iterrows():
        chi, suffix, pcol = _cfa_headline(r)
        idx = {k: r.get(k + suffix, r[k]) for k in ("cfi", "tli", "rmsea")}
        idx["srmr"] = r["srmr"]
        verdicts = {k: T(f"verdict_{fit_verdict(k, v)}") for k, v in idx.items()}
        ci = fmt_ci(r.get("rmsea_low" + suffix, np.nan), r.get("rmsea_high" + suffix, np.nan), decimals=3)
        rows.append([T.get(f"model_{r['model']}", r["model"]), fmt_int(r["n"]), fmt_num(r[chi]), fmt_int(r["df"]),
                     fmt_p(r[pcol]), f"{fmt_bounded(idx['cfi'], 3)} ({verdicts['cfi']})",
                     f"{fmt_num(idx['tli'], 3)} ({verdicts['tli']})",
                     f"{fmt_bounded(idx['rmsea'], 3)} {ci} ({verdicts['rmsea']})",
                     f"{fmt_bounded(r['srmr'], 3)} ({verdicts['srmr']})", fmt_num(r["aic"], 1), fmt_num(r["bic"], 1)])
    cols = [T("model"), "n", "χ²", "df", "p", "CFI", "TLI", T("rmsea_ci"), "SRMR", "AIC", "BIC"]
    first = fit.iloc[0]
    est, miss = first.get("estimator", "ml"), first.get("missing", "listwise")
    caption = T("cfa_caption", instrument=short_name(inst), method=T(f"cfa_method_{est}"),
                missing=T(f"cfa_missing_{miss}"))
    # robust indices: Zhang & Savalei's FIML-corrected ones with FIML, Brosseau-Liard & Savalei's otherwise
    robust = "Zhang & Savalei, 2023" if miss == "fiml" else "Brosseau-Liard & Savalei, 2014"
    note = T("cfa_note") + (" " + T(f"cfa_note_{est}", robust=robust) if est in ("mlr", "wlsmv") else "")
    excluded = int(first.get("n_excluded", 0) or 0)
    if excluded:
        note += " " + T("cfa_note_excluded", n=fmt_int(excluded))
    return Table(cols, rows, caption=caption, note=note, numeric=list(range(1, len(cols))))


def section_factors(ctx: Context) -> Section:
    """KMO/Bartlett, scree with parallel analysis, loadings heat map, EFA and CFA fit."""
    T = ctx.T
    blocks = []
    for inst in ctx.dimension_instruments:
        parts = [_factorability_para(ctx, inst), _scree_figure(ctx, inst), _loadings_figure(ctx, inst),
                 _efa_para(ctx, inst), _cfa_table(ctx, inst)]
        parts = [p for p in parts if p is not None]
        if parts:
            blocks.append(Heading(inst.title))
            blocks.extend(parts)
    if not blocks:
        return Section("factors", T("sec_factors"), [Para(T("no_factors"))])
    blocks.append(Bullets([T("cutoff_cfi"), T("cutoff_rmsea"), T("cutoff_srmr"), T("cutoff_chi2")]))
    return Section("factors", T("sec_factors"), blocks)
