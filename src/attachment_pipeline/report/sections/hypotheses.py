"""Report section 10. Hypotheses: APA table, forest plot, verdicts, preregistration status."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import figures as fg
from ..blocks import Bullets, Context, Heading, Image, Para, Section, Table
from ..texts import secondary_description
from ..context import hypothesis_id, readable, RESULT_FILES, _figure
from ..formatting import p_text, BOUNDED, DASH, _finite, fmt_bounded, fmt_ci, fmt_int, fmt_num, fmt_p, fmt_value


_STAT_SYMBOL = {"t": "t", "t_welch": "t", "chi2": "χ²", "chi2_diff": "Δχ²", "r": "r", "r_double_entry": "r", "F": "F",
                "partial_r": "r", "kappa": "κ", "u": "U", "observed_couples": "O", "concordant": "k", "z": "z"}


def fmt_statistic(name: str, value, df, T=None) -> str:
    """``t(145) = 2.31``, ``χ²(3) = 12.40``, ``r = .23``; counts in words with a translator (``observed couples = 12``).

    >>> fmt_statistic("chi2", 12.4, 3), fmt_statistic("r_double_entry", 0.234, float("nan"))
    ('χ²(3) = 12.40', 'r = .23')
    """
    if not _finite(value):
        return DASH
    sym = _STAT_SYMBOL.get(name, name)
    if T is not None and f"stat_{name}" in T.strings:
        sym = T(f"stat_{name}")
    dfs = ""
    if _finite(df):
        dfs = f"({fmt_int(df)})" if float(df).is_integer() else f"({fmt_num(df, 1)})"
    return f"{sym}{dfs} = {fmt_value(value, name)}"


def _is_primary(frame: pd.DataFrame) -> np.ndarray:
    if "primary" in frame:
        return frame["primary"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
    return ~frame["id"].astype(str).str.contains(r"\[", regex=True).to_numpy()


def _supported(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _effect_text(ctx: Context, r) -> str:
    name = r["effect_size_name"]
    label = ctx.T.get(f"effect_{name}", name)
    if not _finite(r["effect_size"]):
        return DASH
    bounded = name in BOUNDED
    ci = fmt_ci(r["ci_low"], r["ci_high"], bounded=bounded)
    return f"{label} = {fmt_value(r['effect_size'], name)}" + (f" {ci}" if ci != DASH else "")


def _hypotheses_tables(ctx: Context, hyp: pd.DataFrame) -> list:
    T = ctx.T
    prim = _is_primary(hyp)
    rows, classes = [], []
    for _, r in hyp[prim].iterrows():
        sup = _supported(r["supported"])
        rows.append([str(r["id"]), readable(ctx, r["description"]), fmt_int(r["n"]),
                     fmt_statistic(r["statistic_name"], r["statistic"], r["df"], T), fmt_p(r["p_value"]),
                     fmt_p(r["p_adjusted"]), _effect_text(ctx, r), fmt_bounded(r["alpha"]),
                     T("yes") if sup else (T("no") if sup is False else DASH)])
        classes.append("supported" if sup else "")
    correction = (ctx.config.get("hypothesis_testing") or {}).get("correction", "holm")
    blocks = [Table(["ID", T("hypothesis"), "n", T("test"), "p", T("p_adjusted"), T("effect_ci"), "α", T("supported")],
                    rows, caption=T("hyp_caption"),
                    note=T("hyp_note", correction=T.get(f"correction_{correction}", correction)),
                    numeric=[2, 4, 5, 7], row_classes=classes, nowrap=[3])]
    sec = hyp[~prim]
    if len(sec):
        srows = [[hypothesis_id(r["id"]), secondary_description(ctx, r["description"]), fmt_int(r["n"]),
                  fmt_statistic(r["statistic_name"], r["statistic"], r["df"], T), fmt_p(r["p_value"]),
                  _effect_text(ctx, r)] for _, r in sec.iterrows()]
        blocks.append(Table(["ID", T("description"), "n", T("test"), "p", T("effect_ci")], srows,
                            caption=T("hyp_secondary_caption"), numeric=[2, 4], nowrap=[3]))
    return blocks


def _verdicts(ctx: Context, hyp: pd.DataFrame) -> Bullets:
    T = ctx.T
    items = []
    for _, r in hyp[_is_primary(hyp)].iterrows():
        sup = _supported(r["supported"])
        key = "verdict_supported" if sup else ("verdict_not_supported" if sup is False else "verdict_none")
        items.append(T(key, id=r["id"], p=p_text(r["p_adjusted"]), alpha=fmt_bounded(r["alpha"]),
                       effect=_effect_text(ctx, r), direction=T.get(f"direction_{r['direction']}", str(r["direction"]))))
    return Bullets(items)


def _designs(ctx: Context, hyp: pd.DataFrame) -> Bullets:
    """One sentence per primary row saying how the hypothesis was tested (by family), and the dyad structure."""
    T = ctx.T
    entries = {str(e.get("id")): e for e in (ctx.config.get("hypotheses") or []) if isinstance(e, dict)}
    items = []
    for _, r in hyp[_is_primary(hyp)].iterrows():
        fam = str(r["family"])
        e = entries.get(str(r["id"]), {})
        text = readable(ctx, T.get(f"design_{fam}", "", id=r["id"], x=e.get("x", "x"), y=e.get("y", "y")))
        if not text:
            continue
        note = str(r.get("note", ""))
        if "indistinguishable" in note:
            text += " " + T("design_dyads_indistinguishable")
        elif "distinguishable" in note:
            text += " " + T("design_dyads_distinguishable")
        items.append(text)
    return Bullets(items)


def _forest_figure(ctx: Context, hyp: pd.DataFrame) -> Image | None:
    T = ctx.T
    rows = hyp[[_finite(x) for x in hyp["effect_size"]]].copy()
    if rows.empty:
        return None
    prim = _is_primary(rows)
    rows["supported"] = [(_supported(s) if p else None) for s, p in zip(rows["supported"], prim)]
    rows["label"] = [str(i) if p else f"{hypothesis_id(i)}: {T.get(f'effect_{n}', n)}"
                     for i, p, n in zip(rows["id"], prim, rows["effect_size_name"])]
    if "null_value" not in rows:
        rows["null_value"] = np.nan
    rows = rows[["label", "effect_size_name", "effect_size", "ci_low", "ci_high", "null_value", "supported"]]
    for c in ("effect_size", "ci_low", "ci_high", "null_value"):
        rows[c] = pd.to_numeric(rows[c], errors="coerce").astype(float)
    texts = {k: T(f"forest_{k}") for k in ("supported", "not_supported", "descriptive", "null")}
    fig = fg.forest_plot(rows, labels=texts,
                         effect_labels={n: T.get(f"effect_{n}", n) for n in rows["effect_size_name"].unique()})
    return _figure(ctx, fig, T("forest_alt"), T("forest_caption"))


def _prereg_block(ctx: Context) -> list:
    T, pr = ctx.T, ctx.prereg
    status = (pr or {}).get("status", "no lock")
    key = {"matches": "prereg_matches", "differs": "prereg_differs"}.get(status, "prereg_none")
    blocks = [Para(T(key, hash=(pr or {}).get("hash", "") or DASH, created=(pr or {}).get("created", "") or DASH),
                   css="prereg " + status.replace(" ", "-"))]
    diffs = (pr or {}).get("differences") or []
    if diffs:
        blocks.append(Bullets([str(d) for d in diffs]))
    return blocks


def section_hypotheses(ctx: Context) -> Section:
    """APA table, verdicts in words, forest plot, preregistration status."""
    T, hyp = ctx.T, ctx.res["hypotheses"]
    blocks = [Heading(T("prereg_heading"))] + _prereg_block(ctx)
    skipped = [what for table, _, what, _ in ctx.res.get("skipped", []) if table == RESULT_FILES["hypotheses"]]
    untested = [Para(T("hypotheses_skipped", ids=", ".join(skipped)))] if skipped else []
    if hyp is None or hyp.empty:
        return Section("hypotheses", T("sec_hypotheses"), (untested or [Para(T("no_hypotheses"))]) + blocks)
    out = [Para(T("hyp_intro"))] + untested + _hypotheses_tables(ctx, hyp) + [
        Heading(T("verdicts_heading")), _verdicts(ctx, hyp), Para(T("supported_meaning"), css="note"),
        Heading(T("design_heading")), _designs(ctx, hyp)]
    forest = _forest_figure(ctx, hyp)
    if forest is not None:
        out.append(forest)
    return Section("hypotheses", T("sec_hypotheses"), out + blocks)
