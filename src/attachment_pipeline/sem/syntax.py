"""Model syntax: a subset of lavaan's model syntax, turned into a parameter table.

Supported (Rosseel, 2012, section 4; lavaan's ``lavaanify``):

- ``f =~ x1 + x2 + x3``   latent factor ``f`` measured by observed items;
- ``y ~ x1 + x2``          regression (observed or latent variables);
- ``x1 ~~ x2``             (residual) variance or covariance;
- ``x1 ~ 1``               intercept (observed) or mean (latent);
- modifiers before a variable: a number fixes the parameter (``1*x1``), ``NA``
  frees it (``NA*x1``), a name labels it (``a*x1``; parameters sharing a label are
  equal), and ``c(...)`` gives one modifier per group (``c(a, b)*x1``).

Lines are separated by newlines or ``;``; ``#`` and ``!`` start comments.

:func:`build_partable` adds what lavaan's ``cfa()`` / ``sem()`` add by default
(``auto.fix.first``, ``auto.var``, ``auto.cov.lv.x``, ``auto.cov.y``,
``int.ov.free``, thresholds and scale factors for ordered items, ``fixed.x =
FALSE``), and the across-group equality constraints of ``group.equal`` minus
``group.partial``. The result has one row per parameter per group, with a free
parameter index shared by equal parameters: the model every estimator fits.

Example
-------
>>> pt = build_partable("f =~ a + b + c", groups=("g1",))
>>> pt.frame()[["lhs", "op", "rhs", "free", "value"]].to_string(index=False)
'lhs op rhs  free  value\\n  f =~   a     0    1.0\\n  f =~   b     1    NaN\\n  f =~   c     2    NaN\\n  a ~~   a     3    NaN\\n  b ~~   b     4    NaN\\n  c ~~   c     5    NaN\\n  f ~~   f     6    NaN'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

__all__ = ["SyntaxError_", "Statement", "parse", "Param", "ParTable", "build_partable", "GROUP_EQUAL",
           "simple_structure"]

#: ``group.equal`` keywords, as lavaan names them.
GROUP_EQUAL = ("loadings", "intercepts", "means", "thresholds", "regressions", "residuals",
               "residual.covariances", "lv.variances", "lv.covariances")

_OPS = ("=~", "~~", "~")
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class SyntaxError_(ValueError):  # noqa: N801 - not Python's SyntaxError
    """A model description that cannot be read; the message names the line and what to change."""


@dataclass(frozen=True)
class Term:
    """One right-hand-side term: a variable (or ``1`` for intercepts) with its modifiers per group."""

    name: str
    modifiers: tuple = ()  # per group: float (fixed), None (free), str (label); () = none given


@dataclass(frozen=True)
class Statement:
    lhs: str
    op: str
    terms: tuple[Term, ...]
    line: int


def _split_modifier(text: str, lineno: int, raw: str) -> tuple:
    text = text.strip()
    if text.startswith("c(") and text.endswith(")"):
        parts = [t.strip() for t in text[2:-1].split(",")]
    else:
        parts = [text]
    out = []
    for t in parts:
        if t in ("NA", ""):
            out.append(None)
        elif _NUMBER.match(t):
            out.append(float(t))
        elif _NAME.match(t):
            out.append(t)
        else:
            raise SyntaxError_(f"Model line {lineno} ({raw.strip()!r}): cannot read the modifier {t!r}; "
                               "use a number (fixed value), NA (free) or a label.")
    return tuple(out)


def parse(model: str) -> list[Statement]:
    """Parse lavaan-style model syntax into statements.

    >>> [(s.lhs, s.op, [t.name for t in s.terms]) for s in parse("f =~ 1*a + b; b ~~ c")]
    [('f', '=~', ['a', 'b']), ('b', '~~', ['c'])]
    """
    if not isinstance(model, str) or not model.strip():
        raise SyntaxError_("The model is empty; give lavaan-style syntax such as 'f =~ x1 + x2 + x3'.")
    statements: list[Statement] = []
    for lineno, raw in enumerate(model.splitlines(), start=1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        for piece in line.split(";"):
            if not piece.strip():
                continue
            op = next((o for o in _OPS if o in piece), None)
            if op is None:
                raise SyntaxError_(f"Model line {lineno} ({piece.strip()!r}) has no operator; "
                                   "use =~ (measured by), ~ (regressed on) or ~~ (covaries with).")
            lhs, rhs = piece.split(op, 1)
            lhs = lhs.strip()
            if not _NAME.match(lhs):
                raise SyntaxError_(f"Model line {lineno}: {lhs!r} is not a variable name.")
            terms = []
            for tpart in _split_terms(rhs):
                if "*" in tpart:
                    mod, var = tpart.rsplit("*", 1)
                    mods = _split_modifier(mod, lineno, piece)
                else:
                    var, mods = tpart, ()
                var = var.strip()
                if var == "1" and op == "~":
                    terms.append(Term("1", mods))
                    continue
                if not _NAME.match(var):
                    raise SyntaxError_(f"Model line {lineno}: {var!r} is not a variable name.")
                terms.append(Term(var, mods))
            if not terms:
                raise SyntaxError_(f"Model line {lineno} ({piece.strip()!r}) has nothing after {op}.")
            statements.append(Statement(lhs, op, tuple(terms), lineno))
    return statements


def _split_terms(rhs: str) -> list[str]:
    """Split on '+' outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in rhs:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "+" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [t.strip() for t in out if t.strip()]


def simple_structure(model) -> str:
    """lavaan syntax of a simple-structure model ``{factor: [items]}`` (each item on one factor).

    >>> simple_structure({"anx": ["a", "b"], "avo": ["c", "d"]})
    'anx =~ a + b\\navo =~ c + d'
    """
    from collections.abc import Mapping
    if not isinstance(model, Mapping) or not model:
        raise ValueError("model must be a non-empty dict {factor name: [item columns]}.")
    seen: dict[str, str] = {}
    lines = []
    for f, cols in model.items():
        if isinstance(cols, str) or not isinstance(cols, Sequence) or len(cols) < 2:
            raise ValueError(f"Factor {f!r}: give at least 2 items as a list of column names, got {cols!r}.")
        if not _NAME.match(str(f)):
            raise ValueError(f"Factor name {f!r} is not a valid name (letters, digits, '_' and '.').")
        for c in cols:
            if c in seen:
                raise ValueError(f"Item {c!r} is assigned to both {seen[c]!r} and {f!r}; give each item one factor.")
            seen[c] = str(f)
        lines.append(f"{f} =~ " + " + ".join(str(c) for c in cols))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- table
@dataclass(frozen=True)
class Param:
    """One parameter of one group.

    ``op``: ``=~`` loading, ``~`` regression, ``~~`` (co)variance, ``~1`` intercept or
    mean, ``|`` threshold (``rhs`` = ``t1``, ``t2``, ...), ``~*~`` scale factor of an
    ordered item (delta parameterisation). ``free``: 0 for fixed, else the 1-based
    index of the free parameter (shared by parameters constrained equal). ``value``:
    the fixed value (NaN for free parameters without a start). ``label``: user or
    ``group.equal`` label. ``user``: 1 if written in the syntax, 0 if added by default.
    """

    lhs: str
    op: str
    rhs: str
    group: int
    free: int
    value: float
    label: str = ""
    user: int = 0


@dataclass(frozen=True)
class ParTable:
    """The parameter table of a model over all groups, and the variables it involves.

    ``ov``: observed variables in model order (indicators first, then other observed
    variables in order of appearance); ``lv``: latent variables; ``ordered``: the
    ordered observed variables; ``n_groups``; ``groups``: group labels.
    """

    params: tuple[Param, ...]
    ov: tuple[str, ...]
    lv: tuple[str, ...]
    ordered: tuple[str, ...]
    groups: tuple[str, ...]
    meanstructure: bool
    n_levels: dict = field(default_factory=dict)  # ordered item -> number of categories

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def n_free(self) -> int:
        return max((p.free for p in self.params), default=0)

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (columns as :class:`Param`)."""
        return pd.DataFrame([p.__dict__ for p in self.params])

    def with_free(self, lhs: str, op: str, rhs: str, group: int | None = None, value: float | None = None
                  ) -> "ParTable":
        """A copy with one parameter (all groups if ``group`` is None) fixed to ``value`` or freed."""
        params = list(self.params)
        hit = False
        for k, p in enumerate(params):
            if (p.lhs, p.op, p.rhs) == (lhs, op, rhs) and (group is None or p.group == group):
                params[k] = replace(p, free=0 if value is not None else -1,
                                    value=float(value) if value is not None else np.nan)
                hit = True
        if not hit:
            raise ValueError(f"The model has no parameter {lhs} {op} {rhs}.")
        return replace(self, params=_renumber(params))


def _renumber(params: list[Param]) -> tuple[Param, ...]:
    """Give free parameters consecutive indices; equal labels share one index."""
    out, by_label, nxt = [], {}, 0
    for p in params:
        if p.free == 0:
            out.append(p)
            continue
        if p.label and p.label in by_label:
            out.append(replace(p, free=by_label[p.label]))
            continue
        nxt += 1
        if p.label:
            by_label[p.label] = nxt
        out.append(replace(p, free=nxt))
    return tuple(out)


def _mod_for_group(mods: tuple, g: int, n_groups: int, where: str):
    if not mods:
        return "none"
    if len(mods) == 1:
        return mods[0]
    if len(mods) != n_groups:
        raise SyntaxError_(f"{where}: c(...) gives {len(mods)} modifiers for {n_groups} groups.")
    return mods[g]


def build_partable(model: str, groups: Sequence[str] = ("1",), *, meanstructure: bool = False,
                   ordered: Iterable[str] = (), n_levels: dict | None = None, std_lv: bool = False,
                   group_equal: Iterable[str] = (), group_partial: Iterable[str] = (),
                   auto_cov_y: bool = True) -> ParTable:
    """The full parameter table of a model, with lavaan's ``cfa()``/``sem()`` defaults.

    Parameters
    ----------
    model : lavaan-style syntax (see :func:`parse`).
    groups : group labels (one group by default).
    meanstructure : model intercepts and means (always for several groups, FIML and ordered items).
    ordered : ordered (categorical) observed variables: thresholds (``n_levels - 1`` each)
        replace their intercepts; their residual variances follow from the delta
        parameterisation; scale factors (``~*~``) are fixed to 1.
    n_levels : number of categories of each ordered variable.
    std_lv : identify factors by unit variance instead of a first loading of 1.
    group_equal : lavaan ``group.equal`` keywords (see :data:`GROUP_EQUAL`).
    group_partial : parameters exempt from ``group_equal``, as ``"f=~x2"`` or ``"x3~1"``.
    auto_cov_y : free residual covariances among endogenous variables (lavaan's default).

    Returns
    -------
    ParTable

    Notes
    -----
    As lavaan: with equal intercepts (or thresholds) across groups, the latent means
    are free in every group but the first; with equal thresholds, the scale factors
    of the ordered items are free in every group but the first. Exogenous observed
    variables in regressions are treated as random (``fixed.x = FALSE``): their
    variances, covariances and means are parameters.
    """
    groups = tuple(str(g) for g in groups)
    G = len(groups)
    if G < 1:
        raise ValueError("build_partable needs at least one group.")
    group_equal = tuple(group_equal)
    bad = [k for k in group_equal if k not in GROUP_EQUAL]
    if bad:
        raise ValueError(f"Unknown group_equal keyword(s) {bad}; use some of {', '.join(GROUP_EQUAL)}.")
    partial = {_norm_partial(s) for s in group_partial}
    ordered = tuple(ordered)
    n_levels = dict(n_levels or {})
    statements = parse(model)
    meanstructure = bool(meanstructure or G > 1 or ordered)

    # ---- variables
    lv: list[str] = []
    for s in statements:
        if s.op == "=~" and s.lhs not in lv:
            lv.append(s.lhs)
    indicators: list[str] = []
    for s in statements:
        if s.op == "=~":
            for t in s.terms:
                if t.name not in lv and t.name not in indicators:
                    indicators.append(t.name)
    others: list[str] = []
    for s in statements:
        names = [s.lhs] + [t.name for t in s.terms if t.name != "1"]
        for v in names:
            if v not in lv and v not in indicators and v not in others:
                others.append(v)
    ov = tuple(indicators + others)
    regressed = {s.lhs for s in statements if s.op == "~" and any(t.name != "1" for t in s.terms)}
    predictors = {t.name for s in statements if s.op == "~" for t in s.terms if t.name != "1"}
    in_regression = (regressed | predictors) - set(lv)
    clash = sorted(in_regression & set(indicators))
    if clash:
        raise SyntaxError_(f"Observed variable(s) {clash} are both indicators of a factor and part of a "
                           "regression; this engine does not support that combination.")
    bad_ord = [v for v in ordered if v not in ov]
    if bad_ord:
        raise SyntaxError_(f"Ordered variable(s) {bad_ord} are not observed variables of the model.")
    for v in ordered:
        if v in in_regression:
            raise SyntaxError_(f"Ordered variable {v!r} cannot take part in a regression here.")
        if n_levels.get(v, 0) < 2:
            raise ValueError(f"Ordered variable {v!r} needs its number of categories (>= 2) in n_levels.")
    # endogenous / exogenous (latent and phantom alike)
    endogenous = [v for v in list(lv) + list(others) if v in regressed]
    exogenous_lv = [v for v in lv if v not in regressed]
    exogenous_ov = [v for v in others if v in predictors and v not in regressed]

    params: list[Param] = []
    seen: dict[tuple, int] = {}

    def add(lhs, op, rhs, g, mod, user):
        key = (lhs, op, rhs, g)
        if op == "~~" and (rhs, op, lhs, g) in seen:
            key = (rhs, op, lhs, g)
            lhs, rhs = rhs, lhs
        if key in seen:
            if user:  # user statement overrides a default
                k = seen[key]
                params[k] = _apply_mod(params[k], mod, user=1)
            return
        p = _apply_mod(Param(lhs, op, rhs, g, -1, np.nan, "", user), mod, user)
        seen[key] = len(params)
        params.append(p)

    for g in range(G):
        # user statements, in order
        for s in statements:
            where = f"Model line {s.line}"
            if s.op == "=~":
                for k, t in enumerate(s.terms):
                    mod = _mod_for_group(t.modifiers, g, G, where)
                    if k == 0 and not std_lv and (mod == "none" or isinstance(mod, str)):
                        # lavaan's auto.fix.first: a label does not free the marker loading
                        add(s.lhs, "=~", t.name, g, 1.0, 1)
                        if isinstance(mod, str):
                            params[-1] = replace(params[-1], label=mod)
                        continue
                    add(s.lhs, "=~", t.name, g, mod, 1)
            elif s.op == "~":
                for t in s.terms:
                    mod = _mod_for_group(t.modifiers, g, G, where)
                    if t.name == "1":
                        add(s.lhs, "~1", "", g, mod, 1)
                    else:
                        add(s.lhs, "~", t.name, g, mod, 1)
            else:
                for t in s.terms:
                    mod = _mod_for_group(t.modifiers, g, G, where)
                    if t.name == s.lhs and s.lhs in ordered and mod == "none":
                        mod = 1.0  # delta parameterisation: an ordered item's variance is not a parameter
                    add(s.lhs, "~~", t.name, g, mod, 1)
        # thresholds of ordered items
        for v in ordered:
            for k in range(1, n_levels[v]):
                add(v, "|", f"t{k}", g, "none", 0)
        # residual variances of observed variables; variances of latent and phantom variables
        for v in ov:
            if v in ordered:
                add(v, "~~", v, g, 1.0, 0)  # delta parameterisation: implied, not free
            else:
                add(v, "~~", v, g, "none", 0)
        for v in lv:
            add(v, "~~", v, g, 1.0 if std_lv else "none", 0)
        # covariances among exogenous latent variables, among exogenous observed
        # (fixed.x = FALSE) and among endogenous residuals (auto.cov.y)
        for block in (exogenous_lv, exogenous_ov, endogenous if auto_cov_y else []):
            for i, a in enumerate(block):
                for b in block[i + 1:]:
                    add(a, "~~", b, g, "none", 0)
        # scale factors of ordered items
        for v in ordered:
            add(v, "~*~", v, g, 1.0, 0)
        # intercepts and means
        if meanstructure:
            for v in ov:
                add(v, "~1", "", g, 0.0 if v in ordered else "none", 0)
            for v in lv:
                add(v, "~1", "", g, 0.0, 0)

    # ---- across-group equality (group.equal minus group.partial)
    if G > 1 and group_equal:
        kinds = set(group_equal)
        out = []
        for p in params:
            kind = _equal_kind(p, ov, lv, ordered)
            if (kind in kinds and p.free != 0 and not p.label
                    and (p.lhs + p.op + p.rhs) not in partial and _norm_partial(p.lhs + p.op + p.rhs) not in partial):
                p = replace(p, label=f".eq.{p.lhs}{p.op}{p.rhs}")
            out.append(p)
        params = out
        # identification that lavaan adds: free latent means (and scale factors) in groups 2..G
        means_free = ("intercepts" in kinds and ov and any(v not in ordered for v in ov)) or \
                     ("thresholds" in kinds and ordered)
        if means_free and "means" not in kinds:
            params = [replace(p, free=-1, value=np.nan) if (p.op == "~1" and p.lhs in lv and p.group > 0
                                                           and p.user == 0) else p for p in params]
        if "thresholds" in kinds and ordered:
            params = [replace(p, free=-1, value=np.nan) if (p.op == "~*~" and p.group > 0 and p.user == 0)
                      else p for p in params]
        if "residuals" in kinds and ordered:
            pass  # in the delta parameterisation residual variances are not parameters
    return ParTable(params=_renumber(params), ov=ov, lv=tuple(lv), ordered=ordered, groups=groups,
                    meanstructure=meanstructure, n_levels=n_levels)


def _norm_partial(s: str) -> str:
    s = s.replace(" ", "")
    if s.endswith("~1"):
        return s
    return s


def _equal_kind(p: Param, ov, lv, ordered) -> str | None:
    if p.op == "=~":
        return "loadings"
    if p.op == "|":
        return "thresholds"
    if p.op == "~":
        return "regressions"
    if p.op == "~1":
        if p.lhs in lv:
            return "means"
        return "intercepts"
    if p.op == "~~":
        if p.lhs in lv and p.rhs in lv:
            return "lv.variances" if p.lhs == p.rhs else "lv.covariances"
        return "residuals" if p.lhs == p.rhs else "residual.covariances"
    return None


def _apply_mod(p: Param, mod, user: int) -> Param:
    if mod == "none":
        return replace(p, user=max(p.user, user)) if p.free != 0 or user else p
    if mod is None:
        return replace(p, free=-1, value=np.nan, user=user)
    if isinstance(mod, float):
        return replace(p, free=0, value=mod, user=user)
    return replace(p, free=-1, label=str(mod), user=user)
