"""The decimal mark of the report's language: a point in English, a comma in Dutch.

Number formatting (:mod:`.formatting`, :func:`.figures.apa_number`) reads the mark of
the report being built; :func:`decimal_mark` sets it for the duration of a build, so
``fmt_num(0.5)`` is ``0.50`` in English and ``0,50`` in a Dutch report. Intervals use
a semicolon between their ends where the decimal mark is a comma (``[,10; ,25]``).

>>> with decimal_mark("nl"):
...     localise("r = .25 [.16, .34], 3.50")
'r = ,25 [,16, ,34], 3,50'
>>> localise("3.50")
'3.50'
"""

from __future__ import annotations

import contextvars
import re
from contextlib import contextmanager

_MARK = contextvars.ContextVar("decimal_mark", default=".")
#: a point between digits, or before a digit at the start of a number (".25")
_POINT = re.compile(r"(?<=\d)\.(?=\d)|(?<![\w.])\.(?=\d)")


@contextmanager
def decimal_mark(language: str):
    """Numbers formatted inside the block use the decimal mark of ``language`` (``nl``: comma)."""
    token = _MARK.set("," if language == "nl" else ".")
    try:
        yield
    finally:
        _MARK.reset(token)


def comma() -> bool:
    """Whether the current decimal mark is a comma."""
    return _MARK.get() == ","


def localise(text: str) -> str:
    """``text`` with its decimal points as the current mark."""
    return _POINT.sub(",", text) if comma() else text


def interval_separator() -> str:
    """``, `` between the ends of an interval, ``; `` where the decimal mark is a comma."""
    return "; " if comma() else ", "
