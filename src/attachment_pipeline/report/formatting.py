"""Number formatting of the report in APA style.

No leading zero for values that cannot exceed 1 (``alpha = .94``, ``p < .001``),
a leading zero otherwise (``chi2``, ``t``, means), a true minus sign, ``–`` for
a missing value, and counts from 1 to ``min_cell - 1`` hidden as ``<min_cell``.

Example
-------
>>> fmt_p(0.0004), fmt_p(0.0312), fmt_bounded(0.9412), fmt_num(12.3456)
('< .001', '.031', '.94', '12.35')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import figures as fg
from .decimal_mark import interval_separator, localise


#: Statistics and effect sizes that cannot exceed 1 in absolute value: printed without a leading zero.
BOUNDED = {"r", "r_double_entry", "partial_r", "share", "concordance_rate", "kappa", "factor_correlation", "icc",
           "r_cross", "std_path",
           "rank_biserial_r", "proportion", "alpha", "omega", "cfi", "rmsea", "srmr", "kmo", "p"}
#: Statistics that are counts.
COUNTS = {"observed_couples", "concordant", "u"}

# ---------------------------------------------------------------------------
# number formatting (APA)

DASH = "–"


def _finite(x) -> bool:
    try:
        return x is not None and not pd.isna(x) and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_num(x, decimals: int = 2) -> str:
    """A number with a leading zero and a true minus sign; ``–`` when missing.

    >>> fmt_num(-0.5), fmt_num(float("nan"))
    ('−0.50', '–')
    """
    if not _finite(x):
        return DASH
    text = f"{float(x):.{decimals}f}"
    text = "−" + text[1:] if text.startswith("-") and text.strip("-0.") else text.lstrip("-")
    return localise(text)


def fmt_bounded(x, decimals: int = 2) -> str:
    """A value that cannot exceed 1 (correlation, alpha, proportion): no leading zero (``.94``)."""
    return localise(fg.apa_number(float(x), decimals)) if _finite(x) else DASH


def fmt_p(p) -> str:
    """A p-value in APA style: ``< .001``, ``> .999`` or three decimals without leading zero.

    >>> fmt_p(1.0), fmt_p(0.05), fmt_p(0.9996), fmt_p(0.0004)
    ('> .999', '.050', '> .999', '< .001')
    """
    if not _finite(p):
        return DASH
    if float(p) < 0.001:
        return localise("< .001")
    return localise("> .999") if float(p) >= 0.9995 else fmt_bounded(p, 3)


def p_text(p) -> str:
    """A p-value for running text: ``p < .001``, ``p > .999``, ``p = .023``.

    >>> p_text(0.0231), p_text(1.0), p_text(float("nan"))
    ('p = .023', 'p > .999', 'p = –')
    """
    text = fmt_p(p)
    return f"p {text}" if text[0] in "<>" else f"p = {text}"


def fmt_int(x) -> str:
    """An integer count (``–`` when missing)."""
    return str(int(round(float(x)))) if _finite(x) else DASH


def fmt_count(n, min_cell: int) -> str:
    """A count in a table by group: ``<min_cell`` for 1..min_cell-1 (privacy).

    >>> fmt_count(3, 5), fmt_count(0, 5), fmt_count(12, 5)
    ('<5', '0', '12')
    """
    if not _finite(n):
        return DASH
    return f"<{min_cell}" if 0 < float(n) < min_cell else fmt_int(n)


def suppressed(n, min_cell: int) -> bool:
    """Whether a count is hidden (1..min_cell-1)."""
    return _finite(n) and 0 < float(n) < min_cell


def fmt_ci(lo, hi, bounded: bool = True, decimals: int = 2) -> str:
    """An interval ``[lo, hi]`` (``–`` when either end is missing)."""
    if not (_finite(lo) and _finite(hi)):
        return DASH
    f = fmt_bounded if bounded else fmt_num
    return f"[{f(lo, decimals)}{interval_separator()}{f(hi, decimals)}]"


def fmt_value(x, name: str, decimals: int = 2) -> str:
    """Format by the kind of statistic ``name`` (bounded, count or other)."""
    if name in COUNTS:
        return fmt_int(x)
    return fmt_bounded(x, decimals) if name in BOUNDED else fmt_num(x, decimals)
