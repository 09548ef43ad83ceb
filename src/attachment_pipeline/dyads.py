"""Couples and parent-child records: the data structures the hypothesis tests use.

Couples
-------
Couples live inside the responses file: two respondents who share a value of the
couple column are partners; an empty couple value means "no partner in the data"
(see :mod:`attachment_pipeline.validate`). :func:`couples_frame` turns
``scores.csv`` into one row per couple::

    couple_id, id_a, id_b, role_a, role_b

Which partner is *a*:

- with a role column, the partner whose role value comes first in sorted (text)
  order (roles ``A``/``B``: a = A; ``female``/``male``: a = female);
- without one, the partner whose id comes first in sorted (text) order. This
  labelling is arbitrary; statistics that do not depend on it (the double-entry
  correlation, unordered pair counts and the re-pairing tests) are unaffected,
  and the directed per-role statistics are then not computed.

Couples are sorted by couple id (as text), so every result depends on the data,
never on the row order of the file. Couples in which a partner lacks one of the
``needed`` columns are excluded and counted (``CouplesFrame.n_excluded``).

Random re-pairing
-----------------
Under the null hypothesis of no partner choice ("partners are paired at random
with respect to the scores") every matching of the a-partners with the
b-partners is equally likely. :func:`permutation_chunks` yields random
matchings as ``(k, n)`` index arrays (row ``j`` pairs a-partner ``i`` with
b-partner ``perm[j, i]``), generated with ``Generator.permuted`` in chunks that
hold at most ``max_cells`` indices, so memory stays bounded and nothing loops
over single permutations. The same seed and sizes give the same permutations.

Parent-child records
--------------------
:func:`children_with_styles` joins the validated child records (``parent_id,
child_id, ssp_code``) to the parent's style of the primary classification and
maps the Strange Situation code to the corresponding style (:data:`SSP_STYLE`):
B secure, A dismissing (avoidant), C preoccupied (ambivalent), D fearful
(disorganised) (Ainsworth et al., 1978; Main & Solomon, 1990). Records whose
parent has no style (a missing dimension score) are excluded and counted.

Example
-------
>>> s = pd.DataFrame({"anx": [1.0, 2.0, 3.0, np.nan, 5.0], "couple": ["c1", "c1", "c2", "c2", None],
...                   "role": ["B", "A", "A", "B", None]}, index=pd.Index(list("pqrst"), name="id"))
>>> cf = couples_frame(s, "couple", "role", needed=["anx"])
>>> cf.couples.values.tolist(), cf.n_excluded
([['c1', 'q', 'p', 'A', 'B']], 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .classify import STYLES
from .inference import NAN, _alternative, _perm_p, _tol, pearson_rows

#: Strange Situation code -> the adult style it corresponds to (seed 3.1-3.2).
SSP_STYLE = {"B": "secure", "A": "dismissing", "C": "preoccupied", "D": "fearful"}
#: Adult style -> concordant Strange Situation code.
STYLE_SSP = {v: k for k, v in SSP_STYLE.items()}
#: Child-style labels of the codes, as in the Strange Situation literature.
SSP_LABELS = {"A": "avoidant", "B": "secure", "C": "ambivalent", "D": "disorganised"}

COUPLE_COLUMNS = ("couple_id", "id_a", "id_b", "role_a", "role_b")
#: Default bound on the number of indices per chunk of permutations or bootstrap samples.
MAX_CELLS = 2_000_000


@dataclass(frozen=True)
class CouplesFrame:
    """Couples with complete data, one row each, and how many were excluded.

    ``couples`` has the columns :data:`COUPLE_COLUMNS` (role columns empty
    without a role column); ``n_excluded`` counts couples dropped because a
    partner lacks a needed value; ``has_roles`` tells whether a role column
    distinguished the partners.
    """

    couples: pd.DataFrame
    n_excluded: int
    has_roles: bool

    @property
    def n(self) -> int:
        """Number of couples kept."""
        return len(self.couples)


def _text(values) -> np.ndarray:
    """Values as stripped text; missing (None, NaN, '') as ''."""
    s = pd.Series(values, dtype=object)
    out = s.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    return out.to_numpy(dtype=object)


def couples_frame(scores: pd.DataFrame, couple_column: str, role_column: str | None = None,
                  needed=()) -> CouplesFrame:
    """One row per couple from a respondent-level table (see the module docstring).

    Parameters
    ----------
    scores : DataFrame indexed by respondent id, with the couple column (and the
        role column); empty couple values are respondents without a partner.
    couple_column, role_column : column names; ``role_column`` may be None.
    needed : columns both partners must have (non-missing) for the couple to be kept.

    Returns
    -------
    CouplesFrame

    Raises
    ------
    ValueError
        when a column is missing, a couple id has other than two members, or
        both partners of a couple have the same role.

    Examples
    --------
    >>> s = pd.DataFrame({"c": ["k1", "k1", "k2", "k2"]}, index=["r4", "r2", "r1", "r3"])
    >>> couples_frame(s, "c").couples[["couple_id", "id_a", "id_b"]].values.tolist()
    [['k1', 'r2', 'r4'], ['k2', 'r1', 'r3']]
    """
    if not isinstance(scores, pd.DataFrame):
        raise ValueError(f"scores must be a pandas DataFrame, got {type(scores).__name__}.")
    needed = [needed] if isinstance(needed, str) else list(needed)
    cols = [couple_column] + ([role_column] if role_column else []) + needed
    missing = [c for c in cols if c not in scores.columns]
    if missing:
        raise ValueError(f"Couples need column(s) {missing}, which the scores table lacks "
                         f"(columns: {list(scores.columns)}).")
    if not scores.index.is_unique:
        raise ValueError("Respondent ids (the index of the scores table) must be unique.")
    couple = _text(scores[couple_column].to_numpy())
    ids = _text(scores.index.to_numpy())
    role = _text(scores[role_column].to_numpy()) if role_column else np.full(len(scores), "", dtype=object)
    keep = couple != ""
    if not keep.any():
        raise ValueError(f"No couples: column {couple_column!r} is empty for every respondent.")
    ok = (scores[needed].notna().all(axis=1).to_numpy() if needed else np.ones(len(scores), dtype=bool))
    # sort members by couple, then by role (or id), then id
    key2 = role if role_column else ids
    order = np.lexsort((ids[keep], key2[keep], couple[keep]))
    c, i, r, k = couple[keep][order], ids[keep][order], role[keep][order], ok[keep][order]
    sizes = pd.Series(c).value_counts(sort=False)
    bad = sizes[sizes != 2]
    if len(bad):
        raise ValueError(f"Couple {bad.index[0]!r} (column {couple_column}) has {int(bad.iloc[0])} member(s); "
                         f"{len(bad)} couple id(s) in all do not have exactly two. Fix the couple ids.")
    a, b = slice(0, None, 2), slice(1, None, 2)
    if role_column:
        same = np.flatnonzero(r[a] == r[b])
        if len(same):
            raise ValueError(f"Both partners of couple {c[a][same[0]]!r} have the same role {r[a][same[0]]!r} "
                             f"in column {role_column}; give them different roles or drop the role column.")
        blank = np.flatnonzero((r[a] == "") | (r[b] == ""))
        if len(blank):
            raise ValueError(f"A partner of couple {c[a][blank[0]]!r} has no value in the role column {role_column}.")
    complete = k[a] & k[b]
    frame = pd.DataFrame({
        "couple_id": c[a][complete], "id_a": i[a][complete], "id_b": i[b][complete],
        "role_a": r[a][complete] if role_column else None, "role_b": r[b][complete] if role_column else None,
    }, columns=list(COUPLE_COLUMNS))
    return CouplesFrame(couples=frame.reset_index(drop=True), n_excluded=int((~complete).sum()),
                        has_roles=bool(role_column))


def partner_values(values: pd.Series, couples: CouplesFrame | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The values of partner a and partner b of each couple, in the couples' order.

    >>> v = pd.Series([1.0, 2.0, 3.0, 4.0], index=["p", "q", "r", "s"])
    >>> cf = pd.DataFrame({"couple_id": ["c1", "c2"], "id_a": ["q", "r"], "id_b": ["p", "s"]})
    >>> [x.tolist() for x in partner_values(v, cf)]
    [[2.0, 3.0], [1.0, 4.0]]
    """
    frame = couples.couples if isinstance(couples, CouplesFrame) else couples
    if not isinstance(values, pd.Series):
        raise ValueError("values must be a pandas Series indexed by respondent id.")
    index = pd.Index(_text(values.index.to_numpy()))
    pos_a = index.get_indexer(frame["id_a"].to_numpy())
    pos_b = index.get_indexer(frame["id_b"].to_numpy())
    if (pos_a < 0).any() or (pos_b < 0).any():
        raise ValueError("Some partners of the couples frame are not in the values' index.")
    arr = values.to_numpy()
    return arr[pos_a], arr[pos_b]


def double_entry(xa, xb, ya, yb) -> tuple[np.ndarray, np.ndarray]:
    """Double-entry (pairwise) vectors of a cross-partner association.

    Each couple enters twice, once in each order (Griffin & Gonzalez, 1995):
    ``x = [x_a, x_b]`` and ``y = [y_b, y_a]``, so the Pearson correlation of
    ``x`` and ``y`` relates one partner's x with the other partner's y over
    ``2n`` entries. With ``x = y`` (e.g. the min/max index) it is the pairwise
    intraclass correlation.

    >>> x, y = double_entry([1, 2], [3, 4], [5, 6], [7, 8])
    >>> x.tolist(), y.tolist()
    ([1.0, 2.0, 3.0, 4.0], [7.0, 8.0, 5.0, 6.0])
    """
    xa, xb, ya, yb = (np.asarray(v, dtype=float) for v in (xa, xb, ya, yb))
    return np.concatenate([xa, xb], axis=-1), np.concatenate([yb, ya], axis=-1)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def permutation_chunks(n: int, n_perm: int, seed, max_cells: int = MAX_CELLS, n_sets: int = 1):
    """Random re-pairings of ``n`` couples as index arrays, in chunks.

    Yields arrays of shape ``(k, n)`` (``n_sets == 1``) or ``(n_sets, k, n)``
    whose rows are independent uniform random permutations of ``0..n-1``; the
    chunk sizes ``k`` add up to ``n_perm``. ``seed`` is an int, a SeedSequence
    or a Generator (consumed). Rows are drawn with ``Generator.permuted`` on a
    tiled ``arange`` (no Python loop over permutations).

    >>> chunks = list(permutation_chunks(4, 5, seed=1, max_cells=8))
    >>> [c.shape for c in chunks]
    [(2, 4), (2, 4), (1, 4)]
    >>> bool(all((np.sort(c, axis=1) == np.arange(4)).all() for c in chunks))
    True
    """
    _check_count(n_perm, "n_permutations", minimum=1)
    if n < 1:
        raise ValueError(f"Re-pairing needs at least one couple; got {n}.")
    rng = _rng(seed)
    per = max(1, int(max_cells) // max(1, n * n_sets))
    done = 0
    base = np.arange(n, dtype=np.int64 if n > np.iinfo(np.int32).max else np.int32)
    while done < n_perm:
        k = min(per, n_perm - done)
        block = rng.permuted(np.broadcast_to(base, (n_sets * k, n)), axis=1)
        yield block if n_sets == 1 else block.reshape(n_sets, k, n)
        done += k


def bootstrap_chunks(n: int, n_boot: int, seed, max_cells: int = MAX_CELLS):
    """Bootstrap resamples of ``n`` units (couples, children) as ``(k, n)`` index arrays, in chunks.

    Each row is ``n`` draws with replacement from ``0..n-1`` (cluster bootstrap
    when the units are couples; Efron & Tibshirani, 1993).

    >>> [c.shape for c in bootstrap_chunks(3, 4, seed=0, max_cells=6)]
    [(2, 3), (2, 3)]
    """
    _check_count(n_boot, "n_bootstrap", minimum=1)
    rng = _rng(seed)
    per = max(1, int(max_cells) // max(1, n))
    done = 0
    while done < n_boot:
        k = min(per, n_boot - done)
        yield rng.integers(0, n, size=(k, n))
        done += k


def _check_count(value, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


# ---------------------------------------------------------------------------
# styles and children


def primary_styles(classification: pd.DataFrame, method: str, instrument: str | None = None) -> pd.Series:
    """The style per respondent id from the long classification table, for one method (and instrument).

    ``classification`` is ``classification.csv``: its first column is the id
    column (named like the cohort's id column, or ``id``), then ``instrument,
    method, ..., style``. Returns a Series of styles indexed by id (as text).

    >>> t = pd.DataFrame({"respondent_id": ["a", "b", "a"], "instrument": "ecr_r",
    ...                   "method": ["midpoint", "midpoint", "median"],
    ...                   "style": ["secure", "fearful", "dismissing"]})
    >>> primary_styles(t, "midpoint").to_dict()
    {'a': 'secure', 'b': 'fearful'}
    """
    if not isinstance(classification, pd.DataFrame) or classification.shape[1] < 1:
        raise ValueError("classification must be the classification table (a DataFrame).")
    need = [c for c in ("method", "style") if c not in classification.columns]
    if need:
        raise ValueError(f"The classification table lacks column(s) {need}.")
    id_col = "id" if "id" in classification.columns else classification.columns[0]
    rows = classification["method"] == method
    if instrument is not None and "instrument" in classification.columns:
        rows &= classification["instrument"] == instrument
    sub = classification.loc[rows]
    if sub.empty:
        have = sorted(set(classification["method"].astype(str)))
        raise ValueError(f"The classification table has no rows for method {method!r}"
                         f"{'' if instrument is None else f' and instrument {instrument!r}'}; methods present: {have}.")
    ids = _text(sub[id_col].to_numpy())
    if pd.Index(ids).has_duplicates:
        raise ValueError(f"The classification table has more than one {method!r} row for a respondent; "
                         "pass the instrument.")
    return pd.Series(sub["style"].to_numpy(dtype=object), index=pd.Index(ids, name=id_col), name="style")


@dataclass(frozen=True)
class ChildRecords:
    """Child records joined to the parent's style.

    ``records``: ``parent_id, child_id, ssp_code, child_style, parent_style``
    (records with a parent style only); ``n_excluded``: records dropped because
    the parent has no style.
    """

    records: pd.DataFrame
    n_excluded: int


def children_with_styles(children: pd.DataFrame, parent_styles: pd.Series) -> ChildRecords:
    """Join child Strange Situation codes to the parents' adult styles (see the module docstring).

    >>> ch = pd.DataFrame({"parent_id": ["p1", "p2", "p3"], "child_id": ["k1", "k2", "k3"],
    ...                    "ssp_code": ["B", "a", "C"]})
    >>> st = pd.Series({"p1": "secure", "p2": "preoccupied"})
    >>> r = children_with_styles(ch, st)
    >>> r.records[["child_style", "parent_style"]].values.tolist(), r.n_excluded
    ([['secure', 'secure'], ['dismissing', 'preoccupied']], 1)
    """
    if not isinstance(children, pd.DataFrame):
        raise ValueError("children must be a DataFrame with parent_id, child_id and ssp_code.")
    missing = [c for c in ("parent_id", "child_id", "ssp_code") if c not in children.columns]
    if missing:
        raise ValueError(f"The child records lack column(s) {missing}; they need parent_id, child_id, ssp_code.")
    if not isinstance(parent_styles, pd.Series):
        raise ValueError("parent_styles must be a Series of styles indexed by respondent id.")
    code = pd.Series(_text(children["ssp_code"].to_numpy())).str.upper().to_numpy(dtype=object)
    bad = sorted(set(code) - set(SSP_STYLE))
    if bad:
        raise ValueError(f"ssp_code must be A, B, C or D; found {bad}.")
    styles = pd.Series(parent_styles.to_numpy(dtype=object), index=_text(parent_styles.index.to_numpy()))
    unknown = sorted(set(styles.dropna()) - set(STYLES))
    if unknown:
        raise ValueError(f"Parent styles must be among {STYLES}; found {unknown} (a mixture with other "
                         "than four profiles cannot be compared with the child codes).")
    parent = _text(children["parent_id"].to_numpy())
    pstyle = styles.reindex(parent).to_numpy(dtype=object)
    has = pd.notna(pstyle)
    records = pd.DataFrame({
        "parent_id": parent[has], "child_id": _text(children["child_id"].to_numpy())[has],
        "ssp_code": code[has], "child_style": np.array([SSP_STYLE[c] for c in code[has]], dtype=object),
        "parent_style": pstyle[has],
    })
    return ChildRecords(records=records, n_excluded=int((~has).sum()))


def style_codes(styles) -> np.ndarray:
    """Styles as codes 0..3 in :data:`~attachment_pipeline.classify.STYLES` order.

    >>> style_codes(["fearful", "secure"]).tolist()
    [3, 0]
    """
    lookup = {s: i for i, s in enumerate(STYLES)}
    arr = np.asarray(styles, dtype=object)
    bad = sorted({str(s) for s in arr.ravel() if s not in lookup})
    if bad:
        raise ValueError(f"Unknown style(s) {bad}; expected {', '.join(STYLES)}.")
    return np.array([lookup[s] for s in arr.ravel()], dtype=np.int64).reshape(arr.shape)


# ---------------------------------------------------------------------------
# couples: double-entry correlation and pair counts under random re-pairing


def _as_sets(*arrays) -> tuple[list[np.ndarray], bool]:
    arrs = [np.asarray(a, dtype=float) for a in arrays]
    shape = arrs[0].shape
    if any(a.shape != shape for a in arrs):
        raise ValueError(f"The partner arrays must have the same shape; got {[a.shape for a in arrs]}.")
    if arrs[0].ndim not in (1, 2):
        raise ValueError("Partner arrays must be 1-D (one data set) or 2-D (data sets x couples).")
    single = arrs[0].ndim == 1
    return [a[None, :] if single else a for a in arrs], single


def repairing_correlation_test(xa, ya, xb, yb, *, direction: str = "greater", n_permutations: int = 10000,
                               seed=0, max_cells: int = 2_000_000):
    """Double-entry correlation and its random re-pairing p-value, for one or many data sets.

    With couple ``i`` = (a_i, b_i), the double-entry vectors are ``x = [x_a, x_b]``
    and ``y = [y_b, y_a]`` (:func:`~attachment_pipeline.dyads.double_entry`) and
    ``r`` is their Pearson correlation over the 2n entries (Griffin & Gonzalez,
    1995). The two rows of a couple are not independent, so the null
    distribution comes from re-pairing: the b-partners are matched to the
    a-partners by a random permutation ``pi`` and ``r`` is recomputed. The
    multisets of x and y do not change, so means and SDs are fixed and only
    ``T = sum_i x_a,i y_b,pi(i) + x_b,pi(i) y_a,i`` (centred values) varies;
    its permutation mean is ``sum(x_a) mean(y_b) + sum(y_a) mean(x_b)``.

    Parameters
    ----------
    xa, ya, xb, yb : arrays of shape (n,) for one data set or (S, n) for S data
        sets of n couples each (no missing values).
    direction : ``greater``, ``less`` or ``two-sided`` (distance from the permutation mean).
    n_permutations : random re-pairings per data set.
    seed : int, SeedSequence or Generator.

    Returns
    -------
    (r, p) : floats for one data set, arrays of shape (S,) for many.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2, 50, 2))
    >>> r, p = repairing_correlation_test(a[:, 0], a[:, 1], b[:, 0], b[:, 1], n_permutations=999, seed=1)
    >>> round(r, 4), bool(0 < p <= 1)
    (-0.1038, True)
    """
    direction = _alternative(direction)
    (xa, ya, xb, yb), single = _as_sets(xa, ya, xb, yb)
    s, n = xa.shape
    if n < 3:
        raise ValueError(f"The double-entry correlation needs at least 3 couples; got {n}.")
    if not all(np.isfinite(v).all() for v in (xa, ya, xb, yb)):
        raise ValueError("Partner values must be finite (exclude couples with a missing score first).")
    mx = (xa.sum(1) + xb.sum(1)) / (2 * n)
    my = (ya.sum(1) + yb.sum(1)) / (2 * n)
    xa_c, xb_c = xa - mx[:, None], xb - mx[:, None]
    ya_c, yb_c = ya - my[:, None], yb - my[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = np.sqrt(((xa_c ** 2).sum(1) + (xb_c ** 2).sum(1)) * ((ya_c ** 2).sum(1) + (yb_c ** 2).sum(1)))
        t_obs = (xa_c * yb_c).sum(1) + (xb_c * ya_c).sum(1)
        r = t_obs / denom
    centre = xa_c.sum(1) * yb_c.mean(1) + ya_c.sum(1) * xb_c.mean(1)
    ge = np.zeros(s, dtype=np.int64)
    le = np.zeros(s, dtype=np.int64)
    far = np.zeros(s, dtype=np.int64)
    tol = _tol(t_obs)[:, None]
    dist = np.abs(t_obs - centre)[:, None]
    rows = np.arange(s)[:, None, None]
    for perm in permutation_chunks(n, n_permutations, seed, max_cells, n_sets=s):
        perm = perm.reshape(s, -1, n)
        tp = (np.einsum("skn,sn->sk", yb_c[rows, perm], xa_c)
              + np.einsum("skn,sn->sk", xb_c[rows, perm], ya_c))
        ge += (tp >= t_obs[:, None] - tol).sum(1)
        le += (tp <= t_obs[:, None] + tol).sum(1)
        far += (np.abs(tp - centre[:, None]) >= dist - tol).sum(1)
    p = _perm_p(ge, le, far, n_permutations, direction)
    p = np.where(np.isfinite(r), p, np.nan)
    return (float(r[0]), float(p[0])) if single else (r, p)


@dataclass(frozen=True)
class DyadicCorrelation:
    """Double-entry (pairwise) correlation of one partner's x with the other's y."""

    n_couples: int
    r: float
    p_value: float
    ci_low: float
    ci_high: float
    n_permutations: int
    n_bootstrap: int


def dyadic_correlation(xa, ya, xb, yb, *, direction: str = "greater", n_permutations: int = 10000,
                       n_bootstrap: int = 2000, seed=0, ci: float = 0.95) -> DyadicCorrelation:
    """Double-entry correlation with a re-pairing p-value and a couple-bootstrap interval.

    ``r`` and ``p`` as :func:`repairing_correlation_test`. The interval is the
    percentile interval of ``r`` over ``n_bootstrap`` resamples of whole couples
    (cluster bootstrap; the double-entry structure is kept inside each couple);
    NaN when ``n_bootstrap`` is 0. In simulations (latent r = .3, 800 data
    sets, 1000 resamples) the 95% interval covered the truth in 95.8% of data
    sets with 120 couples and 92.8% with 40: slightly narrow with few couples. Independent random streams for the
    permutations and the bootstrap are spawned from ``seed``.

    >>> rng = np.random.default_rng(3)
    >>> z = rng.multivariate_normal(np.zeros(4), [[1, 0, 0, .5], [0, 1, .5, 0], [0, .5, 1, 0], [.5, 0, 0, 1]], 200)
    >>> res = dyadic_correlation(z[:, 0], z[:, 1], z[:, 2], z[:, 3], n_permutations=499, n_bootstrap=200, seed=1)
    >>> round(res.r, 3), res.p_value, res.ci_low < res.r < res.ci_high
    (0.549, 0.002, True)
    """
    ss = np.random.SeedSequence(seed) if not isinstance(seed, np.random.SeedSequence) else seed
    s_perm, s_boot = ss.spawn(2)
    r, p = repairing_correlation_test(xa, ya, xb, yb, direction=direction, n_permutations=n_permutations,
                                      seed=np.random.default_rng(s_perm))
    xa, ya, xb, yb = (np.asarray(v, dtype=float) for v in (xa, ya, xb, yb))
    n = xa.size
    lo = hi = NAN
    if n_bootstrap:
        boots = []
        for idx in bootstrap_chunks(n, n_bootstrap, np.random.default_rng(s_boot)):
            boots.append(pearson_rows(np.concatenate([xa[idx], xb[idx]], axis=1),
                                      np.concatenate([yb[idx], ya[idx]], axis=1)))
        b = np.concatenate(boots)
        b = b[np.isfinite(b)]
        if b.size:
            lo, hi = (float(v) for v in np.quantile(b, [(1 - ci) / 2, (1 + ci) / 2]))
    return DyadicCorrelation(n_couples=int(n), r=float(r), p_value=float(p), ci_low=lo, ci_high=hi,
                             n_permutations=int(n_permutations), n_bootstrap=int(n_bootstrap))


def _pair_target(n_categories: int, pairs) -> np.ndarray:
    """Boolean (K, K) matrix marking the ordered cells of the given unordered pairs."""
    t = np.zeros((n_categories, n_categories), dtype=bool)
    for i, j in pairs:
        t[i, j] = t[j, i] = True
    return t


def repairing_count_test(codes_a, codes_b, target, *, direction: str = "greater", n_permutations: int = 10000,
                         seed=0, max_cells: int = 2_000_000, mid_p: bool = False):
    """Number of couples whose (a, b) categories fall in ``target``, against random re-pairing.

    ``target`` is a boolean (K, K) matrix over ordered (a, b) category pairs
    (symmetric for unordered pairs). The observed count is
    ``sum_i target[c_a,i, c_b,i]``; its exact expectation under random
    re-pairing is ``sum_jk target[j, k] n_a,j n_b,k / n`` (the marginals are
    fixed by the permutation); the p-value counts re-pairings at least as
    extreme (two-sided: as far from the expectation).

    A count is discrete, so the exact test is conservative: its size is the
    attainable level just below alpha (about .03 at alpha .05 with some 15
    expected couples). ``mid_p=True`` gives the mid-p value (Lancaster, 1961),
    ``(#{more extreme} + (#{as extreme} + 1) / 2) / (B + 1)``, whose size is
    close to alpha on average but not guaranteed below it.

    Parameters
    ----------
    codes_a, codes_b : int arrays (n,) or (S, n) of category codes 0..K-1.

    Returns
    -------
    (observed, expected, p) : floats, or arrays (S,) for many data sets.

    >>> a = np.array([0, 1, 0, 1]); b = np.array([1, 0, 1, 0])
    >>> obs, exp, p = repairing_count_test(a, b, _pair_target(2, [(0, 1)]), n_permutations=200, seed=0)
    >>> obs, exp, round(p, 3)
    (4.0, 2.0, 0.154)
    """
    direction = _alternative(direction)
    target = np.asarray(target, dtype=bool)
    k = target.shape[0]
    if target.shape != (k, k):
        raise ValueError("target must be a square boolean matrix over the categories.")
    a = np.asarray(codes_a)
    b = np.asarray(codes_b)
    if a.shape != b.shape or a.ndim not in (1, 2):
        raise ValueError("codes_a and codes_b must have the same shape, (n,) or (S, n).")
    single = a.ndim == 1
    a = a[None, :] if single else a
    b = b[None, :] if single else b
    if a.size and (a.min() < 0 or b.min() < 0 or a.max() >= k or b.max() >= k):
        raise ValueError(f"Category codes must lie in 0..{k - 1}.")
    s, n = a.shape
    if n < 2:
        raise ValueError(f"A re-pairing test needs at least 2 couples; got {n}.")
    obs = target[a, b].sum(1).astype(float)
    na = (a[:, :, None] == np.arange(k)).sum(1)
    nb = (b[:, :, None] == np.arange(k)).sum(1)
    expected = np.einsum("sj,jk,sk->s", na, target.astype(float), nb) / n
    gt = np.zeros(s, dtype=np.int64)
    lt = np.zeros(s, dtype=np.int64)
    eq = np.zeros(s, dtype=np.int64)
    farther = np.zeros(s, dtype=np.int64)
    as_far = np.zeros(s, dtype=np.int64)
    dist = np.abs(obs - expected)[:, None]
    rows = np.arange(s)[:, None, None]
    for perm in permutation_chunks(n, n_permutations, seed, max_cells, n_sets=s):
        perm = perm.reshape(s, -1, n)
        cnt = target[a[:, None, :], b[rows, perm]].sum(2)
        gt += (cnt > obs[:, None]).sum(1)
        lt += (cnt < obs[:, None]).sum(1)
        eq += (cnt == obs[:, None]).sum(1)
        d = np.abs(cnt - expected[:, None])
        farther += (d > dist + 1e-9).sum(1)
        as_far += (np.abs(d - dist) <= 1e-9).sum(1)
    if mid_p:
        more = {"greater": gt, "less": lt, "two-sided": farther}[direction]
        tie = eq if direction != "two-sided" else as_far
        p = (more + (tie + 1) / 2.0) / (1.0 + n_permutations)
    else:
        p = _perm_p(gt + eq, lt + eq, farther + as_far, n_permutations, direction)
    return (float(obs[0]), float(expected[0]), float(p[0])) if single else (obs, expected, p)


def pairing_table(codes_a, codes_b, labels) -> pd.DataFrame:
    """Unordered category pairs of couples: observed against random re-pairing.

    One row per unordered pair ``{category_1, category_2}`` (category_1 first in
    ``labels`` order; ``K (K + 1) / 2`` rows): ``observed`` couples,
    ``expected`` under random re-pairing (exact permutation mean from the a-
    and b-marginals, ``(n_a,j n_b,k + n_a,k n_b,j) / n`` for j != k and
    ``n_a,j n_b,j / n`` for j = k), ``percent_observed``, ``percent_expected``
    (of the couples) and ``ratio = observed / expected``. Unordered pairs do
    not depend on which partner is a, so the table means the same with and
    without a role column.

    >>> t = pairing_table([0, 0, 1], [1, 1, 0], ["x", "y"])
    >>> t[["category_1", "category_2", "observed"]].values.tolist(), t["expected"].round(4).tolist()
    ([['x', 'x', 0], ['x', 'y', 3], ['y', 'y', 0]], [0.6667, 1.6667, 0.6667])
    """
    a = np.asarray(codes_a, dtype=np.int64)
    b = np.asarray(codes_b, dtype=np.int64)
    k = len(labels)
    n = a.size
    if n == 0:
        raise ValueError("pairing_table needs at least one couple.")
    obs = np.zeros((k, k))
    np.add.at(obs, (a, b), 1)
    na, nb = obs.sum(1), obs.sum(0)
    exp = np.outer(na, nb) / n
    iu = np.triu_indices(k)
    o_u = (obs + obs.T)[iu] - np.where(iu[0] == iu[1], obs[iu], 0)
    e_u = (exp + exp.T)[iu] - np.where(iu[0] == iu[1], exp[iu], 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(e_u > 0, o_u / e_u, np.nan)
    return pd.DataFrame({
        "category_1": np.asarray(labels, dtype=object)[iu[0]], "category_2": np.asarray(labels, dtype=object)[iu[1]],
        "n_couples": n, "observed": o_u.astype(np.int64), "expected": e_u,
        "percent_observed": 100 * o_u / n, "percent_expected": 100 * e_u / n, "ratio": ratio,
    })
