"""Texts that come from the pipeline's tables in English, put into the report's language.

The hypothesis runner writes the descriptions of its secondary rows in English
(``hypotheses.csv``: "ECR-R: correlation of one partner's anxiety with the other's
avoidance (double entry)"). :func:`secondary_description` recognises each of those
sentence patterns and writes it in the report's language, with subscale, style and
min/max names from the instrument files and :mod:`.i18n`; a sentence it does not know
is shown as written. Descriptions the user wrote in the config are shown as written.
"""

from __future__ import annotations

import re

from ..classify import STYLE_LABELS
from .blocks import Context
from .context import readable

#: (English pattern of the runner, key of the text in :mod:`.i18n`)
_PATTERNS = (
    (re.compile(r"^(?P<inst>[^:]+): correlation of one partner's (?P<x>\w+) with the other's (?P<y>\w+) "
                r"\(double entry\)$"), "desc_r_cross"),
    (re.compile(r"^(?P<inst>[^:]+): one partner's (?P<y>\w+) predicting the other's (?P<x>\w+) beyond the first "
                r"partner's own (?P=x)(?P<who>.*)$"), "desc_path"),
    (re.compile(r"^(?P<inst>[^:]+): (?P<x>\w+) of (?P<src>\S+) predicting (?P<y>\w+) of (?P<dst>\S+) beyond "
                r"(?P=src)'s own (?P=y)$"), "desc_path_roles"),
    (re.compile(r"^(?P<a>\w+)-(?P<b>\w+) couples against random pairing$"), "desc_styles_random"),
    (re.compile(r"^min-max couples \(one minimiser, one maximiser\) against random pairing$"), "desc_min_max_couples"),
    (re.compile(r"^share of (?P<what>.+?) couples \((?P<variable>[^)]+)\) against random pairing$"), "desc_share"),
    (re.compile(r"^concordance of parent style and child code beside the reference rate (?P<rate>[\d.]+)$"),
     "desc_concordance"),
    (re.compile(r"^(?P<inst>.+?): two correlated factors fit better than one \(chi-square difference\)$"),
     "desc_cfa_two_vs_one"),
    (re.compile(r"^k = partner / actor effect \((?P<role>[^)]+)\): 0 actor-only, 1 couple, -1 contrast pattern$"),
     "desc_k"),
    (re.compile(r"^APIM (?P<which>actor|partner) effect of (?P<x>\S+) on (?P<y>\S+) for (?P<role>.+)$"), "desc_apim"),
)


def _term(ctx: Context, word: str) -> str:
    """A subscale, style or category name in the report's language."""
    word = str(word)
    for inst in ctx.instruments:
        if word in inst.subscale_labels:
            lab = inst.subscale_labels[word]
            text = lab.get(ctx.language) or lab.get("en") or word
            return text[:1].lower() + text[1:]
    styles = STYLE_LABELS.get(ctx.language, {})
    if word in styles:
        return styles[word]
    return ctx.T.get(f"term_{word.split()[0]}", readable(ctx, word))


def secondary_description(ctx: Context, text) -> str:
    """A description of the runner in the report's language (as written when its pattern is unknown).

    The English report gets the same sentence with readable names.
    """
    text = str(text)
    for pattern, key in _PATTERNS:
        m = pattern.match(text)
        if m:
            fields = {k: (v or "") for k, v in m.groupdict().items()}
            for k in ("x", "y", "a", "b", "what"):
                if k in fields:
                    fields[k] = _term(ctx, fields[k])
            for k in ("inst", "variable"):
                if k in fields:
                    fields[k] = readable(ctx, fields[k])
            if "role" in fields:
                fields["role"] = ctx.T.get(f"term_{fields['role']}", fields["role"])
            if "which" in fields:
                fields["which"] = ctx.T(f"term_{fields['which']}")
            if "who" in fields and fields["who"].strip():
                fields["who"] = " " + fields["who"].strip()
            return ctx.T(key, **fields)
    return readable(ctx, text)
