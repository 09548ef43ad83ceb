"""Report section 2. Method, Table 1 and references: text to paste into a thesis, from what ran."""

from __future__ import annotations

from ..blocks import Context, Heading, Para, References, Section
from ..methods import methods_paragraphs, reference_runs, table1


def section_methods(ctx: Context) -> Section:
    """The methods paragraph, APA Table 1 and the APA 7 reference list of the works cited."""
    T = ctx.T
    paras, refs = methods_paragraphs(ctx)
    blocks = [Para(T("methods_intro"), css="note"), Heading(T("methods_heading"))] + [Para(p) for p in paras]
    t1 = table1(ctx)
    if t1 is not None:
        blocks += [Heading(T("table1_heading")), t1]
    blocks += [Heading(T("references_heading")), References([reference_runs(r) for r in refs])]
    return Section("methods", T("sec_methods"), blocks)
