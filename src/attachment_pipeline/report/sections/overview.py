"""Report section 1. Overview: study, cohort, instruments, respondents, date."""

from __future__ import annotations


from ..blocks import Context, DefList, Para, Section
from ..context import _method_label, _scale_text, short_name
from ..formatting import fmt_int


def section_overview(ctx: Context) -> Section:
    """Study, cohort, instruments, respondents in and scored, date."""
    T, v = ctx.T, ctx.res["validation"]
    items = [(T("study"), ctx.study), (T("cohort"), ctx.cohort)]
    for inst in ctx.instruments:
        fmt = f"; {T.get('format_' + inst.response_format, inst.response_format)}" if inst.response_format else ""
        items.append((T("instrument"), f"{inst.title} ({inst.n_items} {T('items_word')}, "
                                       f"{T('scale_word')} {_scale_text(inst)}{fmt})"))
    items.append((T("rows_in_file"), fmt_int(v.get("rows_in_file"))))
    items.append((T("respondents"), fmt_int(v.get("respondents"))))
    for inst in ctx.instruments:
        sc = v["items"][inst.name].get("scoring", {})
        items.append((T("scored_on", instrument=short_name(inst)),
                      T("scored_value", scored=fmt_int(sc.get("scored")), partly=fmt_int(sc.get("partly_scored")),
                        unscored=fmt_int(sc.get("unscored")))))
    couples = v.get("couples")
    if couples:
        items.append((T("couples"), T("couples_value", couples=fmt_int(couples.get("couples")),
                                      singles=fmt_int(couples.get("respondents_without_partner")))))
    children = v.get("children")
    if children:
        items.append((T("children"), fmt_int(children.get("records"))))
    if ctx.dimension_instruments:
        items.append((T("primary_method"), _method_label(ctx, ctx.primary_method)))
    items.append((T("report_date"), ctx.run_time))
    blocks = [Para(T("overview_intro", study=ctx.study, cohort=ctx.cohort)), DefList(items)]
    return Section("overview", T("sec_overview"), blocks)
