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
- without one, or in a couple whose partners share a role (a same-sex couple in a
  sample coded by gender), the partner whose id comes first in sorted (text)
  order. This labelling is arbitrary: statistics for indistinguishable dyads are
  computed so that they do not depend on it (see *Dyad structure* below).

Dyad structure
--------------
Dyads are *distinguishable* when a role column gives every couple the same two
different roles (``female``/``male`` in a sample of different-sex couples) and
*indistinguishable* otherwise (Kenny, Kashy & Cook, 2006, ch. 1). A sample in
which some couples share a role or lack one (same-sex and different-sex couples
together) is *mixed* and analysed as indistinguishable: :attr:`CouplesFrame.roles`
is then empty. Whether distinguishable roles also differ in their scores is
tested, not assumed (:func:`distinguishability_test`).

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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .vocabulary import STYLES
from .inference import NAN, _alternative, _perm_p, _tol, fisher_intervals, pearson_rows

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
    partner lacks a needed value; ``has_roles`` tells whether a role column was
    given; ``roles`` holds the two roles (a's, b's) when every couple has the same
    two different roles, and is empty otherwise (no role column, or a mixed sample).
    """

    couples: pd.DataFrame
    n_excluded: int
    has_roles: bool
    roles: tuple = ()

    @property
    def n(self) -> int:
        """Number of couples kept."""
        return len(self.couples)

    @property
    def mixed(self) -> bool:
        """A role column is given but does not give every couple the same two different roles."""
        return self.has_roles and not self.roles


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
        when a column is missing or a couple id has other than two members. Partners
        sharing a role, or without one, make the sample mixed (``roles`` empty).

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
    roles = ()
    if role_column:
        pairs = set(zip(r[a], r[b]))
        if len(pairs) == 1:
            ra, rb = next(iter(pairs))
            if ra != rb and ra != "" and rb != "":
                roles = (ra, rb)
    complete = k[a] & k[b]
    frame = pd.DataFrame({
        "couple_id": c[a][complete], "id_a": i[a][complete], "id_b": i[b][complete],
        "role_a": r[a][complete] if role_column else None, "role_b": r[b][complete] if role_column else None,
    }, columns=list(COUPLE_COLUMNS))
    return CouplesFrame(couples=frame.reset_index(drop=True), n_excluded=int((~complete).sum()),
                        has_roles=bool(role_column), roles=roles)


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


class _CountTally:
    """Counts of permuted statistics above, below, equal to and as far from the null as the observed ones.

    ``obs`` and ``expected`` hold one value per data set (S); :meth:`add` takes the
    permuted counts (S, B) of one chunk. Exact p-values count ties with the observed
    value (:func:`~attachment_pipeline.inference._perm_p`); mid-p counts half of them.
    """

    def __init__(self, obs: np.ndarray, expected: np.ndarray):
        self.obs, self.expected = obs[:, None], expected[:, None]
        self.dist = np.abs(obs - expected)[:, None]
        self.gt, self.lt, self.eq, self.farther, self.as_far = (np.zeros(len(obs), dtype=np.int64) for _ in range(5))

    def add(self, cnt: np.ndarray) -> None:
        self.gt += (cnt > self.obs).sum(1)
        self.lt += (cnt < self.obs).sum(1)
        self.eq += (cnt == self.obs).sum(1)
        d = np.abs(cnt - self.expected)
        self.farther += (d > self.dist + 1e-9).sum(1)
        self.as_far += (np.abs(d - self.dist) <= 1e-9).sum(1)

    def p(self, n_permutations: int, direction: str, mid_p: bool) -> np.ndarray:
        if mid_p:
            more = {"greater": self.gt, "less": self.lt, "two-sided": self.farther}[direction]
            tie = self.eq if direction != "two-sided" else self.as_far
            return (more + (tie + 1) / 2.0) / (1.0 + n_permutations)
        return _perm_p(self.gt + self.eq, self.lt + self.eq, self.farther + self.as_far, n_permutations, direction)


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
    tally = _CountTally(obs, expected)
    rows = np.arange(s)[:, None, None]
    for perm in permutation_chunks(n, n_permutations, seed, max_cells, n_sets=s):
        perm = perm.reshape(s, -1, n)
        tally.add(target[a[:, None, :], b[rows, perm]].sum(2))
    p = tally.p(n_permutations, direction, mid_p)
    return (float(obs[0]), float(expected[0]), float(p[0])) if single else (obs, expected, p)


def pairing_table(codes_a, codes_b, labels, exchangeable: bool = False) -> pd.DataFrame:
    """Unordered category pairs of couples: observed against random pairing.

    One row per unordered pair ``{category_1, category_2}`` (category_1 first in
    ``labels`` order; ``K (K + 1) / 2`` rows): ``observed`` couples,
    ``expected`` under random pairing, ``percent_observed``, ``percent_expected``
    (of the couples) and ``ratio = observed / expected``. Distinguishable dyads:
    random re-pairing of the roles (exact permutation mean from the a- and
    b-marginals, ``(n_a,j n_b,k + n_a,k n_b,j) / n`` for j != k and ``n_a,j n_b,j / n``
    for j = k). Indistinguishable dyads (``exchangeable``): random matching of the
    2n people, ``n 2 n_j n_k / (2n (2n - 1))`` and ``n n_j (n_j - 1) / (2n (2n - 1))``,
    which does not depend on who is partner a.

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
    if exchangeable:
        m = na + nb
        exp = (np.outer(m, m) - np.diag(m)) / (2 * (2 * n - 1))
    else:
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


# ---------------------------------------------------------------------------
# dyad moments: the saturated model and the I-SAT model
#
# A couple is the vector z = (x_1, x_2) of both partners' k scores. Every dyadic
# model used here (APIM, the cross-partner paths, correlations across partners) is
# saturated in z's mean and covariance: distinguishable dyads get the saturated
# model, indistinguishable dyads the I-SAT model (Olsen & Kenny, 2006), the
# saturated model under exchangeability: equal means, equal variances and
# within-person covariances for both partners, and a symmetric cross-partner block.
# The model's parameters are then functions of (mean, covariance), and their
# estimates and standard errors follow by the delta method from those of the moments.


def _as_partners(x1, x2) -> tuple[np.ndarray, np.ndarray, bool]:
    """Partner arrays as (S, n, k): (n,) -> one set, one score; (n, k) -> one set; (S, n, k) -> S sets."""
    a = np.asarray(x1, dtype=float)
    b = np.asarray(x2, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"Both partners need arrays of the same shape; got {a.shape} and {b.shape}.")
    if a.ndim == 1:
        a, b = a[None, :, None], b[None, :, None]
    elif a.ndim == 2:
        a, b = a[None], b[None]
    elif a.ndim != 3:
        raise ValueError("Partner arrays must be (n,), (n, k) or (S, n, k) (data sets x couples x scores).")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("Partner scores must be finite; exclude couples with a missing score first.")
    return a, b, np.asarray(x1).ndim < 3


def _wishart_vcov(cov: np.ndarray, rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """Normal-theory covariance of the ML covariance estimates (divisor n) at ``cov``.

    ``Cov(s_ij, s_kl) = (sigma_ik sigma_jl + sigma_il sigma_jk) / n`` (Anderson, 2003, thm 3.4.4).
    """
    return (cov[:, rows[:, None], rows[None, :]] * cov[:, cols[:, None], cols[None, :]]
            + cov[:, rows[:, None], cols[None, :]] * cov[:, cols[:, None], rows[None, :]]) / n


@dataclass(frozen=True)
class DyadMoments:
    """ML mean and covariance of z = (x_1, x_2) under the saturated or the I-SAT model, for S data sets.

    ``mean``: (S, 2k); ``cov``: (S, 2k, 2k) with divisor n; ``vcov``: (S, q, q), the
    asymptotic covariance of ``theta = [mean, cov[tril]]`` (``q = 2k + k(2k + 1)``;
    lower triangle in row order, :func:`numpy.tril_indices`), normal-theory (``robust``
    False, as lavaan's ML with expected information) or sandwich (``robust`` True, as
    lavaan's MLR with complete data). Under the I-SAT model ``vcov`` is singular: the
    estimates lie on the exchangeable subspace.
    """

    n: int
    k: int
    exchangeable: bool
    robust: bool
    mean: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    vcov: np.ndarray = field(repr=False)

    @property
    def theta(self) -> np.ndarray:
        """``[mean, cov[tril]]`` per data set, (S, q)."""
        r, c = np.tril_indices(2 * self.k)
        return np.concatenate([self.mean, self.cov[:, r, c]], axis=1)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``theta`` (S, q), real or complex, back to (mean, symmetric covariance)."""
        p = 2 * self.k
        r, c = np.tril_indices(p)
        cov = np.zeros(theta.shape[:1] + (p, p), dtype=theta.dtype)
        cov[:, r, c] = theta[:, p:]
        cov[:, c, r] = theta[:, p:]
        return theta[:, :p], cov


def _isat_map(k: int) -> np.ndarray:
    """Linear map L from ``phi = [m_u, Su[tril], Sd[tril]]`` to ``theta = [mean, cov[tril]]`` of z.

    With ``u = (x_1 + x_2) / sqrt 2`` and ``d = (x_1 - x_2) / sqrt 2``: ``mean = (m_u, m_u) / sqrt 2``
    and ``cov(x_s,i, x_t,j) = (Su_ij + Sd_ij) / 2`` for the same partner (s = t),
    ``(Su_ij - Sd_ij) / 2`` across partners.
    """
    p = 2 * k
    tk_r, tk_c = np.tril_indices(k)
    pos = {(int(i), int(j)): t for t, (i, j) in enumerate(zip(tk_r, tk_c))}
    m = len(tk_r)
    r, c = np.tril_indices(p)
    out = np.zeros((p + len(r), k + 2 * m))
    for s in range(2):
        out[s * k + np.arange(k), np.arange(k)] = 1 / np.sqrt(2)
    for t, (i, j) in enumerate(zip(r, c)):
        a, b = i % k, j % k
        idx = pos[(max(a, b), min(a, b))]
        out[p + t, k + idx] = 0.5
        out[p + t, k + m + idx] = 0.5 if (i // k) == (j // k) else -0.5
    return out


def dyad_moments(x1, x2, *, exchangeable: bool, robust: bool = False, vcov: bool = True) -> DyadMoments:
    """Mean and covariance of both partners' scores, saturated or I-SAT, with their sampling covariance.

    Saturated (distinguishable dyads): the sample mean and covariance (divisor n) of
    ``z = (x_1, x_2)``. I-SAT (``exchangeable``; Olsen & Kenny, 2006): from the couple
    sums ``u = (x_1 + x_2) / sqrt 2`` and differences ``d = (x_1 - x_2) / sqrt 2``, which
    are uncorrelated with ``E d = 0`` exactly when the dyad is exchangeable, the ML
    estimates are ``Su = cov(u)`` and ``Sd = mean(d d')``; then ``V = (Su + Sd) / 2``
    (each partner's covariance) and ``C = (Su - Sd) / 2`` (across partners). ``u`` and
    ``d d'`` do not change when the partners of a couple are swapped, so every estimate
    is the same for any labelling of the partners.

    Standard errors: normal theory (the inverse expected information, as lavaan's ML;
    Wishart covariances of Su and Sd, independent) or robust (``robust=True``: the
    empirical covariance of the casewise influence functions, as lavaan's MLR
    sandwich with complete data).

    Parameters
    ----------
    x1, x2 : partner scores, (n,), (n, k) or (S, n, k) for S data sets; finite.
    exchangeable : fit the I-SAT model (indistinguishable dyads) instead of the saturated one.
    robust : sandwich instead of normal-theory covariance of the estimates.
    vcov : compute the covariance of the estimates (False: NaN, faster for the bootstrap).

    Examples
    --------
    >>> m = dyad_moments([1.0, 2, 4, 3], [2.0, 4, 3, 5], exchangeable=True)
    >>> m.mean.round(4).tolist(), m.cov[0].round(4).tolist()
    ([[3.0, 3.0]], [[1.5, 0.25], [0.25, 1.5]])
    >>> float(dyad_moments([1.0, 2, 4, 3], [2.0, 4, 3, 5], exchangeable=False).cov[0, 0, 1])
    0.5
    """
    a, b, _ = _as_partners(x1, x2)
    s_sets, n, k = a.shape
    if n < 2 * k + 2:
        raise ValueError(f"{n} couples are too few for a dyadic model of {k} score(s) per partner "
                         f"(at least {2 * k + 2} needed).")
    p = 2 * k
    r, c = np.tril_indices(p)
    nan_v = np.full((s_sets, p + len(r), p + len(r)), np.nan)
    if not exchangeable:
        z = np.concatenate([a, b], axis=2)
        mean = z.mean(axis=1)
        zc = z - mean[:, None, :]
        cov = np.einsum("sni,snj->sij", zc, zc) / n
        if not vcov:
            return DyadMoments(n, k, False, robust, mean, cov, nan_v)
        if robust:
            inf = np.concatenate([zc, zc[:, :, r] * zc[:, :, c] - cov[:, None, r, c]], axis=2)
            v = np.einsum("sni,snj->sij", inf, inf) / n ** 2
        else:
            v = np.zeros_like(nan_v)
            v[:, :p, :p] = cov / n
            v[:, p:, p:] = _wishart_vcov(cov, r, c, n)
        return DyadMoments(n, k, False, robust, mean, cov, v)
    u = (a + b) / np.sqrt(2.0)
    d = (a - b) / np.sqrt(2.0)
    mu = u.mean(axis=1)
    uc = u - mu[:, None, :]
    su = np.einsum("sni,snj->sij", uc, uc) / n
    sd = np.einsum("sni,snj->sij", d, d) / n
    half = np.sqrt(0.5)
    mean = np.concatenate([mu * half, mu * half], axis=1)
    vv, cc = (su + sd) / 2, (su - sd) / 2
    cov = np.concatenate([np.concatenate([vv, cc], axis=2), np.concatenate([cc, vv], axis=2)], axis=1)
    if not vcov:
        return DyadMoments(n, k, True, robust, mean, cov, nan_v)
    kr, kc = np.tril_indices(k)
    m = len(kr)
    if robust:
        inf = np.concatenate([uc, uc[:, :, kr] * uc[:, :, kc] - su[:, None, kr, kc],
                              d[:, :, kr] * d[:, :, kc] - sd[:, None, kr, kc]], axis=2)
        vphi = np.einsum("sni,snj->sij", inf, inf) / n ** 2
    else:
        vphi = np.zeros((s_sets, k + 2 * m, k + 2 * m))
        vphi[:, :k, :k] = su / n
        vphi[:, k:k + m, k:k + m] = _wishart_vcov(su, kr, kc, n)
        vphi[:, k + m:, k + m:] = _wishart_vcov(sd, kr, kc, n)
    lmap = _isat_map(k)
    v = np.einsum("ia,sab,jb->sij", lmap, vphi, lmap)
    return DyadMoments(n, k, True, robust, mean, cov, v)


def delta_method(fun, moments: DyadMoments, *, step: float = 1e-30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates, standard errors and covariance of smooth functions of the dyad moments.

    ``fun(mean, cov)`` maps (S, 2k) and (S, 2k, 2k) arrays to (S, m) values and must
    accept complex arrays (no ``abs``, comparisons or real parts). The Jacobian
    ``J = d fun / d theta`` is exact to rounding by the complex step
    ``Im fun(theta + i h e_j) / h`` (Squire & Trapp, 1998); then
    ``Cov(fun) = J vcov J'`` (the delta method; lavaan's ``:=`` and
    ``standardizedSolution`` standard errors).

    Returns
    -------
    (estimate, se, covariance) : (S, m), (S, m), (S, m, m).

    >>> m = dyad_moments(np.array([[1.0, 2], [2, 1], [3, 5], [4, 3], [6, 4], [5, 7]]),
    ...                  np.array([[2.0, 1], [4, 3], [3, 3], [5, 6], [5, 5], [7, 6]]), exchangeable=False)
    >>> est, se, _ = delta_method(lambda mu, s: mu[:, :1] - mu[:, 2:3], m)
    >>> round(float(est[0, 0]), 4), round(float(se[0, 0]), 4)
    (-0.8333, 0.4357)
    """
    theta = moments.theta
    est = np.asarray(fun(moments.mean, moments.cov)).real
    if est.ndim != 2 or est.shape[0] != theta.shape[0]:
        raise ValueError(f"fun must return an (S, m) array; got shape {est.shape}.")
    jac = np.empty(est.shape + (theta.shape[1],))
    for j in range(theta.shape[1]):  # one complex-step evaluation per moment
        t = theta.astype(complex)
        t[:, j] += 1j * step
        jac[:, :, j] = np.asarray(fun(*moments.unpack(t))).imag / step
    cov = np.einsum("smq,sqr,snr->smn", jac, moments.vcov, jac)
    se = np.sqrt(np.clip(np.einsum("smm->sm", cov), 0.0, None))
    return est, se, cov


def regression_coefficients(cov, y: int, xs, standardized: bool = False):
    """Coefficients of the regression of variable ``y`` on ``xs`` implied by a covariance matrix.

    ``b = Sigma_xx^-1 sigma_xy``; standardized (lavaan's ``std.all``):
    ``b_j sd(x_j) / sd(y)``. ``cov`` is (S, p, p), real or complex; returns (S, len(xs)).

    >>> c = np.array([[[1.0, 0.3, 0.5], [0.3, 1.0, 0.2], [0.5, 0.2, 1.0]]])
    >>> regression_coefficients(c, 2, [0, 1]).round(4).tolist()
    [[0.4835, 0.0549]]
    """
    xs = list(xs)
    sxx = cov[:, xs][:, :, xs]
    sxy = cov[:, xs, y]
    b = np.linalg.solve(sxx, sxy[..., None])[..., 0]
    if standardized:
        sd_x = np.sqrt(cov[:, xs, xs])
        b = b * sd_x / np.sqrt(cov[:, y, y])[:, None]
    return b


def correlation_from_cov(cov, i: int, j: int):
    """``sigma_ij / sqrt(sigma_ii sigma_jj)`` for each of S covariance matrices (complex-safe).

    >>> float(correlation_from_cov(np.array([[[4.0, 1.0], [1.0, 1.0]]]), 0, 1)[0])
    0.5
    """
    return cov[:, i, j] / np.sqrt(cov[:, i, i] * cov[:, j, j])


def _z_p(z: np.ndarray, direction: str) -> np.ndarray:
    """Normal p-values of z statistics for a direction."""
    direction = _alternative(direction)
    if direction == "greater":
        return stats.norm.sf(z)
    if direction == "less":
        return stats.norm.cdf(z)
    return 2 * stats.norm.sf(np.abs(z))


@dataclass(frozen=True)
class DistinguishabilityTest:
    """Likelihood-ratio test of the I-SAT against the saturated model (arrays over data sets)."""

    n_couples: int
    chi2: np.ndarray
    df: int
    p: np.ndarray


def distinguishability_test(x1, x2) -> DistinguishabilityTest:
    """Test whether the two roles differ in means, variances or covariances (Kenny, Kashy & Cook, 2006).

    The I-SAT model (Olsen & Kenny, 2006: equal means, variances, within-person and
    cross-partner covariances for both roles) against the saturated model, by the
    likelihood ratio ``chi2 = n (ln|Su| + ln|Sd| - ln|S|)`` with ``Su = cov(u)``,
    ``Sd = mean(d d')`` (u, d the scaled couple sums and differences of
    :func:`dyad_moments`) and ``S`` the ML covariance of ``(u, d)``, on
    ``df = k (k + 1)`` degrees of freedom for k scores per partner (k means, k
    variances, ``k (k - 1) / 2`` within-person and as many cross-partner
    covariances). Equal to the chi-square of the I-SAT model in lavaan (ML; tested
    against lavaan 0.6-14). ``x1`` must be the first role's scores, ``x2`` the second's.

    >>> t = distinguishability_test([1.0, 2, 3, 4, 5, 6], [2.0, 2, 5, 5, 6, 8])
    >>> t.df, round(float(t.chi2[0]), 4), round(float(t.p[0]), 4)
    (2, 11.1342, 0.0038)
    """
    a, b, _ = _as_partners(x1, x2)
    s_sets, n, k = a.shape
    if n < 2 * k + 2:
        raise ValueError(f"The distinguishability test of {k} score(s) needs at least {2 * k + 2} couples; got {n}.")
    u = (a + b) / np.sqrt(2.0)
    d = (a - b) / np.sqrt(2.0)
    uc = u - u.mean(axis=1, keepdims=True)
    su = np.einsum("sni,snj->sij", uc, uc) / n
    sd = np.einsum("sni,snj->sij", d, d) / n
    w = np.concatenate([uc, d - d.mean(axis=1, keepdims=True)], axis=2)
    s_all = np.einsum("sni,snj->sij", w, w) / n
    chi2 = n * (np.linalg.slogdet(su)[1] + np.linalg.slogdet(sd)[1] - np.linalg.slogdet(s_all)[1])
    chi2 = np.maximum(chi2, 0.0)
    df = k * (k + 1)
    return DistinguishabilityTest(int(n), chi2, df, stats.chi2.sf(chi2, df))


@dataclass(frozen=True)
class NonIndependence:
    """Partner similarity of one score: ICC (indistinguishable) or Pearson r (distinguishable), arrays."""

    n_couples: int
    statistic_name: str
    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    test_name: str
    test_statistic: np.ndarray
    df1: float
    df2: float
    p: np.ndarray


def nonindependence(x1, x2, *, distinguishable: bool, ci: float = 0.95,
                    direction: str = "two-sided") -> NonIndependence:
    """How similar partners are on one score, with an interval and a two-sided test of independence.

    Indistinguishable dyads (Kenny, Kashy & Cook, 2006, sec. 2.3): the ANOVA
    intraclass correlation ``ICC = (MSB - MSW) / (MSB + MSW)`` with ``MSB = 2 sum_i
    (m_i - m)^2 / (n - 1)`` (m_i couple means) and ``MSW = sum_i (x_i1 - x_i2)^2 /
    (2 n)``; ``F = MSB / MSW`` on (n - 1, n) df tests ICC = 0 (two-sided:
    ``2 min(P(F <= f), P(F >= f))``), and the exact interval is McGraw & Wong's
    (1996): ``F_L = F / F_{1-a/2}(n-1, n)``, ``F_U = F F_{1-a/2}(n, n-1)``,
    ``ICC = (F - 1) / (F + 1)`` at each limit (psych::ICC's ICC1). Swapping the
    partners of any couple changes nothing.

    Distinguishable dyads: Pearson's r between the roles, t test on n - 2 df and the
    Fisher-z interval. ``direction`` ``greater`` / ``less`` gives the one-sided p
    (similar / dissimilar partners: ``P(F >= f)`` / ``P(F <= f)``).

    >>> res = nonindependence([1.0, 2, 3, 4, 5], [2.0, 1, 4, 3, 6], distinguishable=False)
    >>> round(float(res.estimate[0]), 4), round(float(res.p[0]), 4)
    (0.8361, 0.0208)
    """
    a, b, _ = _as_partners(x1, x2)
    if a.shape[2] != 1:
        raise ValueError("nonindependence takes one score per partner.")
    a, b = a[:, :, 0], b[:, :, 0]
    n = a.shape[1]
    if n < 4:
        raise ValueError(f"Partner similarity needs at least 4 couples; got {n}.")
    if distinguishable:
        r = pearson_rows(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = r * np.sqrt((n - 2) / (1 - r ** 2))
        low, high = fisher_intervals(r, n, ci)
        p = {"two-sided": 2 * stats.t.sf(np.abs(t), n - 2), "greater": stats.t.sf(t, n - 2),
             "less": stats.t.cdf(t, n - 2)}[_alternative(direction)]
        return NonIndependence(n, "r", r, low, high, "t", t, float(n - 2), NAN, p)
    m = (a + b) / 2
    msb = 2 * ((m - m.mean(axis=1, keepdims=True)) ** 2).sum(axis=1) / (n - 1)
    msw = ((a - b) ** 2).sum(axis=1) / (2 * n)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = msb / msw
        icc = (msb - msw) / (msb + msw)
        fl = f / stats.f.ppf(0.5 + ci / 2, n - 1, n)
        fu = f * stats.f.ppf(0.5 + ci / 2, n, n - 1)
    lo_p, hi_p = stats.f.cdf(f, n - 1, n), stats.f.sf(f, n - 1, n)
    p = {"two-sided": np.minimum(1.0, 2 * np.minimum(lo_p, hi_p)), "greater": hi_p,
         "less": lo_p}[_alternative(direction)]
    return NonIndependence(n, "icc", icc, (fl - 1) / (fl + 1), (fu - 1) / (fu + 1), "F", f, float(n - 1),
                           float(n), p)


@dataclass(frozen=True)
class DyadicEffect:
    """Estimates of one dyadic effect over data sets: per role (or ``both``), with delta-method SEs."""

    name: str
    role: str
    estimate: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    std_estimate: np.ndarray


def error_variances(moments: DyadMoments, reliability) -> np.ndarray | None:
    """Measurement-error variances ``(1 - rel_j) sigma_jj`` of both partners' scores, (S, 2k), or None.

    ``reliability`` gives one value per score (the same for both partners), e.g.
    Cronbach's alpha, or an (S, k) array with one row per data set. Subtracting them from the diagonal of the fitted covariance
    gives the covariance of the true scores: the single-indicator latent variables
    of SEM with error variances fixed from the reliability (Bollen, 1989, p. 168;
    Coffman & MacCallum, 2005); the error variances are then constants, as in lavaan.
    """
    if reliability is None:
        return None
    rel = np.atleast_2d(np.asarray(reliability, dtype=float))
    if rel.shape[1] != moments.k or rel.shape[0] not in (1, moments.cov.shape[0]) or np.any(rel <= 0) \
            or np.any(rel > 1):
        raise ValueError(f"reliability needs one value in (0, 1] per score ({moments.k}), or one row per data set; "
                         f"got {reliability!r}.")
    diag = np.einsum("sii->si", moments.cov)
    return (1 - np.concatenate([rel, rel], axis=1)) * diag


def _true_score(cov, theta):
    """The covariance minus fixed error variances on the diagonal (complex-safe)."""
    if theta is None:
        return cov
    out = cov.copy()
    idx = np.arange(cov.shape[1])
    out[:, idx, idx] = out[:, idx, idx] - theta
    return out


def dyadic_effects(name, roles, est, se, std, ci, direction="two-sided") -> list[DyadicEffect]:
    """One :class:`DyadicEffect` per role from (S, roles) estimates, SEs and standardized values."""
    q = stats.norm.ppf(0.5 + ci / 2)
    out = []
    for j, role in enumerate(roles):
        with np.errstate(divide="ignore", invalid="ignore"):
            z = est[:, j] / se[:, j]
        out.append(DyadicEffect(name, role, est[:, j], se[:, j], z, _z_p(z, direction), est[:, j] - q * se[:, j],
                                est[:, j] + q * se[:, j], std[:, j]))
    return out


def cross_partner_paths(x1, y1, x2, y2, *, distinguishable: bool, robust: bool = False, ci: float = 0.95,
                        direction: str = "two-sided", roles=("1", "2"), reliability=None) -> dict:
    """Complementarity beyond similarity: one partner's x predicting the other's y beyond the first's own y.

    In the model of both partners' (x, y) (saturated, or I-SAT for indistinguishable
    dyads), the path of partner 1's x to partner 2's y controlling for partner 1's y
    is the coefficient of ``x_1`` in the regression of ``y_2`` on ``(x_1, y_1)``
    implied by the covariance matrix, standardized (``std.all``):
    ``b = (s_y1y1 s_x1y2 - s_x1y1 s_y1y2) / (s_x1x1 s_y1y1 - s_x1y1^2) sqrt(s_x1x1 / s_y2y2)``.
    It is zero when the cross-partner association of x and y is only what the
    similarity of y (``s_y1y2``) and the within-person association of x and y
    (``s_x1y1``) produce. The mirror path (partner 2's x to partner 1's y) is the
    same with the partners exchanged; for indistinguishable dyads the two are
    equal. Standard errors by the delta method (:func:`delta_method`); equal to
    lavaan's ``:=`` on the same model (tested).

    ``reliability`` (x's and y's, e.g. Cronbach's alpha) removes the measurement error
    of the scores first (:func:`error_variances`): with fallible scores, controlling
    for the first partner's y leaves part of the similarity in the path (a
    partial regression on an unreliable covariate under-corrects; Cochran, 1968), so
    the path of true scores is the one that is zero under similarity alone.

    Returns a dict with
    ``path``: the paths per role of the *predicted* partner (distinguishable:
    ``roles[1]`` is predicted by ``roles[0]``'s x and the reverse; indistinguishable:
    one effect, role ``both``), ``mean_path``: the mean of the two standardized paths
    (distinguishable only), ``r_cross``: the cross-partner correlation of x and y
    (per role of the y partner), ``reverse``: the paths of y to the other's x beyond
    the own x, each a list of :class:`DyadicEffect` (``estimate`` standardized).
    """
    a, b, single = _as_partners(np.stack([np.asarray(x1, float), np.asarray(y1, float)], axis=-1),
                                np.stack([np.asarray(x2, float), np.asarray(y2, float)], axis=-1))
    mom = dyad_moments(a, b, exchangeable=not distinguishable, robust=robust)
    theta = error_variances(mom, reliability)
    # z = (x1, y1, x2, y2): indices 0, 1, 2, 3

    def paths(mu, s):
        s = _true_score(s, theta)
        p2 = regression_coefficients(s, 3, [0, 1], standardized=True)[:, 0]   # y2 ~ x1 + y1
        p1 = regression_coefficients(s, 1, [2, 3], standardized=True)[:, 0]   # y1 ~ x2 + y2
        r2 = correlation_from_cov(s, 0, 3)                                     # x1 with y2
        r1 = correlation_from_cov(s, 2, 1)                                     # x2 with y1
        q2 = regression_coefficients(s, 2, [1, 0], standardized=True)[:, 0]   # x2 ~ y1 + x1
        q1 = regression_coefficients(s, 0, [3, 2], standardized=True)[:, 0]   # x1 ~ y2 + x2
        return np.stack([p1, p2, (p1 + p2) / 2, r1, r2, q1, q2], axis=1)

    est, se, _ = delta_method(paths, mom)
    if distinguishable:
        names = [roles[0], roles[1]]
        parts = {"path": (names, [0, 1]), "mean_path": (["both"], [2]), "r_cross": (names, [3, 4]),
                 "reverse": (names, [5, 6])}
        out = {k: dyadic_effects(k, lab, est[:, i], se[:, i], est[:, i], ci, direction) for k, (lab, i) in parts.items()}
    else:
        parts = {"path": [0], "r_cross": [3], "reverse": [5]}
        out = {k: dyadic_effects(k, ["both"], est[:, i], se[:, i], est[:, i], ci, direction) for k, i in parts.items()}
    out["moments"] = mom
    return out


APIM_COLUMNS = ("effect", "role", "estimate", "se", "z", "p", "ci_low", "ci_high", "std_estimate")


@dataclass(frozen=True)
class APIMResult:
    """Actor-partner interdependence model of one x and one y, over S data sets.

    ``effects``: :class:`DyadicEffect` per effect (``actor``, ``partner``, ``k``) and
    role (the role whose outcome is predicted, or ``both``); ``k_boot_low`` /
    ``k_boot_high``: percentile bootstrap interval of k per role (NaN without a
    bootstrap); ``moments``: the fitted dyad moments.
    """

    distinguishable: bool
    roles: tuple
    effects: tuple
    k_boot_low: np.ndarray
    k_boot_high: np.ndarray
    n_bootstrap: int
    moments: DyadMoments = field(repr=False)

    def table(self, s: int = 0) -> pd.DataFrame:
        """The effects of data set ``s`` as the APIM table (:data:`APIM_COLUMNS`).

        The k rows carry the delta-method se, z and p of lavaan's ``k := p / a`` and,
        when bootstrapped, the percentile interval (Kenny & Ledermann, 2010).
        """
        rows = []
        for e in self.effects:
            lo, hi = float(e.ci_low[s]), float(e.ci_high[s])
            if e.name == "k" and self.n_bootstrap:
                j = list(self._k_roles).index(e.role)
                lo, hi = float(self.k_boot_low[s, j]), float(self.k_boot_high[s, j])
            rows.append({"effect": e.name, "role": e.role, "estimate": float(e.estimate[s]), "se": float(e.se[s]),
                         "z": float(e.z[s]), "p": float(e.p[s]), "ci_low": lo, "ci_high": hi,
                         "std_estimate": float(e.std_estimate[s])})
        return pd.DataFrame(rows, columns=list(APIM_COLUMNS))

    @property
    def _k_roles(self) -> tuple:
        return self.roles if self.distinguishable else ("both",)


def _apim_functions(standardized: bool, theta=None):
    def fun(mu, s):
        s = _true_score(s, theta)
        # z = (x1, y1, x2, y2); role 1's outcome y1 ~ x1 (actor) + x2 (partner); role 2's y2 ~ x2 + x1
        b1 = regression_coefficients(s, 1, [0, 2], standardized=standardized)
        b2 = regression_coefficients(s, 3, [2, 0], standardized=standardized)
        return np.stack([b1[:, 0], b2[:, 0], b1[:, 1], b2[:, 1], b1[:, 1] / b1[:, 0], b2[:, 1] / b2[:, 0]], axis=1)
    return fun


def apim(x1, y1, x2, y2, *, distinguishable: bool, robust: bool = False, ci: float = 0.95,
         direction: str = "two-sided", roles=("1", "2"), n_bootstrap: int = 0, seed=0,
         reliability=None) -> APIMResult:
    """Actor-partner interdependence model (Kenny, Kashy & Cook, 2006, ch. 7) of y on x.

    ``y_1 = i_1 + a_1 x_1 + p_1 x_2 + e_1`` and ``y_2 = i_2 + a_2 x_2 + p_2 x_1 + e_2``
    with correlated x's and correlated residuals (x random: lavaan's ``fixed.x =
    FALSE``). Distinguishable dyads: every parameter free, the model is saturated
    and the effects are the regressions implied by the sample covariance matrix.
    Indistinguishable dyads: ``a_1 = a_2``, ``p_1 = p_2`` with equal intercepts,
    means, variances and residual variances -- a reparameterisation of the I-SAT
    model, so the ML estimates are the regressions implied by its covariance
    (:func:`dyad_moments`) and are the same for any labelling of the partners.
    ``role`` names the person whose outcome is predicted: role 1's partner effect
    is partner 2's x on partner 1's y (lavaan's convention). ``k = p / a`` (Kenny &
    Ledermann, 2010): 0 actor-only, 1 couple, -1 contrast pattern.

    Standard errors by the delta method from the moments (normal theory = lavaan ML
    with expected information; ``robust`` = lavaan MLR), Wald intervals;
    ``std_estimate`` is lavaan's ``std.all`` (k: the ratio of the standardized
    effects). With ``n_bootstrap`` > 0, k also gets a percentile interval from
    resampled couples (Kenny & Ledermann recommend it: k's sampling distribution is
    skewed).

    Parameters
    ----------
    x1, y1, x2, y2 : arrays (n,) or (S, n): partner 1's and partner 2's x and y.
    distinguishable : roles differ (partner 1 = ``roles[0]``).
    direction : of the z tests of the actor and partner effects.
    reliability : (rel_x, rel_y) to estimate the APIM of true scores (:func:`error_variances`;
        the latent APIM with single indicators), or None for lavaan's manifest APIM.
    """
    xa = np.stack([np.asarray(x1, float), np.asarray(y1, float)], axis=-1)
    xb = np.stack([np.asarray(x2, float), np.asarray(y2, float)], axis=-1)
    a, b, _ = _as_partners(xa, xb)
    mom = dyad_moments(a, b, exchangeable=not distinguishable, robust=robust)
    theta = error_variances(mom, reliability)
    est, se, _ = delta_method(_apim_functions(False, theta), mom)
    std = _apim_functions(True, theta)(mom.mean, mom.cov)
    names = list(roles) if distinguishable else ["both"]
    cols = {"actor": [0, 1], "partner": [2, 3], "k": [4, 5]}
    effects = []
    for name, idx in cols.items():
        idx = idx if distinguishable else idx[:1]
        effects += dyadic_effects(name, names, est[:, idx], se[:, idx], std[:, idx], ci,
                            direction if name != "k" else "two-sided")
    s_sets, n = a.shape[:2]
    k_lo = np.full((s_sets, len(names)), np.nan)
    k_hi = np.full((s_sets, len(names)), np.nan)
    if n_bootstrap:
        # resample couples in an order given by their scores only (for indistinguishable dyads by what does not
        # change when the partners are swapped), so the interval does not depend on row order, ids or labels
        if distinguishable:
            keys = [b[..., 1], b[..., 0], a[..., 1], a[..., 0]]
        else:
            keys = [np.abs(a[..., 1] - b[..., 1]), np.abs(a[..., 0] - b[..., 0]), a[..., 1] + b[..., 1],
                    a[..., 0] + b[..., 0]]
        order = np.lexsort([k for k in keys], axis=-1)
        a = np.take_along_axis(a, order[..., None], axis=1)
        b = np.take_along_axis(b, order[..., None], axis=1)
        boots = []
        for idx in bootstrap_chunks(n, n_bootstrap, seed):
            bm = dyad_moments(a[:, idx].reshape(-1, n, 2), b[:, idx].reshape(-1, n, 2),
                              exchangeable=not distinguishable, vcov=False)
            bt = None if theta is None else np.repeat(theta, len(idx), axis=0)
            kk = _apim_functions(False, bt)(bm.mean, bm.cov)[:, [4, 5]]
            boots.append(kk.reshape(s_sets, len(idx), 2))
        kb = np.concatenate(boots, axis=1)[:, :, :len(names)]
        k_lo = np.nanquantile(kb, (1 - ci) / 2, axis=1)
        k_hi = np.nanquantile(kb, (1 + ci) / 2, axis=1)
    return APIMResult(distinguishable, tuple(names) if distinguishable else ("both",), tuple(effects), k_lo, k_hi,
                      int(n_bootstrap), mom)


# ---------------------------------------------------------------------------
# pairing tables: log-linear models with homogamy, and random matching


def _pair_cells(k: int, exchangeable: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cells of a pairing table: unordered (j <= k) or ordered (j, k), as row/column code arrays."""
    if exchangeable:
        j, kk = np.triu_indices(k)
        return j, kk
    j, kk = np.indices((k, k))
    return j.ravel(), kk.ravel()


def pairing_counts(codes_a, codes_b, n_categories: int, exchangeable: bool) -> np.ndarray:
    """Couples per cell of the pairing table, (S, cells); unordered cells put the smaller code first.

    >>> pairing_counts([0, 1, 1], [1, 0, 1], 2, True).tolist()
    [[0, 2, 1]]
    """
    a = np.atleast_2d(np.asarray(codes_a, dtype=np.int64))
    b = np.atleast_2d(np.asarray(codes_b, dtype=np.int64))
    k = n_categories
    if exchangeable:
        a, b = np.minimum(a, b), np.maximum(a, b)
    flat = a * k + b
    counts = np.zeros((a.shape[0], k * k), dtype=np.int64)
    np.add.at(counts, (np.arange(a.shape[0])[:, None], flat), 1)
    j, kk = _pair_cells(k, exchangeable)
    return counts[:, j * k + kk]


def _poisson_fit(y: np.ndarray, x: np.ndarray, offset: np.ndarray, iterations: int = 100):
    """Poisson log-linear ML for S count vectors sharing a design, by Newton's method (IRLS).

    Steps are halved while the deviance rises; stops when no deviance changes by more
    than 1e-10 (relative). A small ridge keeps the Hessian invertible when a fitted
    count goes to zero (an empty category or homogamy cell), where the deviance
    still converges. Returns (beta, fitted, deviance, covariance of beta).
    """
    s_sets = y.shape[0]
    yf = y.astype(float)
    beta = np.linalg.lstsq(x, (np.log(yf + 0.5) - offset).T, rcond=None)[0].T

    def deviance(mu):
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(yf > 0, yf * np.log(yf / mu), 0.0)
        return 2 * (term - (yf - mu)).sum(axis=1)

    mu = np.exp(offset + beta @ x.T)
    dev = deviance(mu)
    p = x.shape[1]
    for _ in range(iterations):
        grad = (yf - mu) @ x
        hess = np.einsum("sc,ci,cj->sij", mu, x, x)
        hess += 1e-10 * np.trace(hess, axis1=1, axis2=2)[:, None, None] * np.eye(p)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        scale = np.ones(s_sets)
        for _ in range(30):  # step halving, per data set
            new_beta = beta + scale[:, None] * step
            new_mu = np.exp(np.clip(offset + new_beta @ x.T, -700, 700))
            new_dev = deviance(new_mu)
            worse = new_dev > dev + 1e-12 * np.maximum(1.0, dev)
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        change = np.abs(dev - new_dev)
        beta, mu, dev = new_beta, new_mu, new_dev
        if np.all(change <= 1e-10 * np.maximum(1.0, dev)):
            break
    hess = np.einsum("sc,ci,cj->sij", mu, x, x)
    cov = np.linalg.pinv(hess, hermitian=True)
    return beta, mu, dev, cov


@dataclass(frozen=True)
class PairingModel:
    """Log-linear test of a pairing beyond homogamy, arrays over data sets (see :func:`pairing_loglinear`)."""

    n_couples: int
    exchangeable: bool
    observed: np.ndarray
    expected_homogamy: np.ndarray
    gamma: np.ndarray
    se: np.ndarray
    ratio: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    lr_chi2: np.ndarray
    z: np.ndarray
    p: np.ndarray
    deviance_homogamy: np.ndarray
    df_homogamy: int
    table: pd.DataFrame | None = field(default=None, repr=False)


def pairing_loglinear(codes_a, codes_b, labels, pairs, *, exchangeable: bool, direction: str = "greater",
                      ci: float = 0.95, agreement=None) -> PairingModel:
    """Are couples of the given category pairs more frequent than homogamy and the margins imply?

    The couples' pairing table is fitted by two Poisson log-linear models
    (Bishop, Fienberg & Holland, 1975, ch. 5; Agresti, 2013, sec. 11.2):

    - *homogamy*: main effects of the categories and either one parameter per
      diagonal cell (couples of the same category; quasi-independence, the default)
      or, with ``agreement``, one parameter per attribute of the categories for
      couples who agree on it (e.g. for the four styles: both high or both low in
      anxiety, and in avoidance -- homogamy on each dimension, which also expects
      fewer couples who differ on both), so similarity in any amount is part of
      the null;
    - *homogamy + pairing*: one more parameter ``gamma`` shared by the cells of
      ``pairs`` (e.g. preoccupied with dismissing, in either order).

    Indistinguishable dyads use the unordered table (``K (K + 1) / 2`` cells) with
    symmetric main effects (each partner counts once in its category) and offset
    ``ln 2`` off the diagonal (two orders); distinguishable dyads the ordered K x K
    table with row and column effects per role, so role differences in the
    category shares only move the margins and do not bias ``gamma``.

    ``ratio = exp(gamma)``: couples of the pair relative to what the homogamy model
    gives, with a Wald interval. Test: likelihood ratio of the two models, signed
    root ``z = sign(gamma) sqrt(LR)``, one-sided for ``greater`` / ``less`` (normal
    p). Agrees with R's ``glm(family = poisson)`` (tested).

    Parameters
    ----------
    codes_a, codes_b : category codes 0..K-1 of the partners, (n,) or (S, n).
    labels : the K category names.
    pairs : unordered pairs of category names counted by ``gamma``.
    agreement : None (diagonal homogamy) or a list of K-vectors of category attributes.
    """
    direction = _alternative(direction)
    labels = list(labels)
    k = len(labels)
    bad = [q for pair in pairs for q in pair if q not in labels]
    if bad or not pairs:
        raise ValueError(f"pairs must name pairs of {labels}; got {pairs!r}.")
    target = {(min(labels.index(u), labels.index(v)), max(labels.index(u), labels.index(v))) for u, v in pairs}
    if any(i == j for i, j in target):
        raise ValueError("A pairing test beyond homogamy needs pairs of two different categories.")
    counts = pairing_counts(codes_a, codes_b, k, exchangeable)
    n = int(counts[0].sum())
    rows, cols = _pair_cells(k, exchangeable)
    cells = len(rows)
    columns = [np.ones(cells)]
    if exchangeable:
        columns += [((rows == m).astype(float) + (cols == m)) for m in range(1, k)]
        offset = np.where(rows == cols, 0.0, np.log(2.0))
    else:
        columns += [(rows == m).astype(float) for m in range(1, k)] + [(cols == m).astype(float) for m in range(1, k)]
        offset = np.zeros(cells)
    if agreement is None:
        columns += [((rows == m) & (cols == m)).astype(float) for m in range(k)]
    else:
        for attr in agreement:
            attr = np.asarray(attr)
            if attr.shape != (k,):
                raise ValueError(f"Each agreement attribute needs one value per category ({k}).")
            columns.append((attr[rows] == attr[cols]).astype(float))
    x0 = np.column_stack(columns)
    tgt = np.array([(min(i, j), max(i, j)) in target for i, j in zip(rows, cols)], dtype=float)
    x1 = np.column_stack([x0, tgt])
    free = cells - np.linalg.matrix_rank(x1)
    if free < 1:
        raise ValueError(f"With {k} categories the homogamy model plus the pairing term is saturated; "
                         "the pairing cannot be tested beyond homogamy.")
    _, mu0, dev0, _ = _poisson_fit(counts, x0, offset)
    beta1, _, dev1, cov1 = _poisson_fit(counts, x1, offset)
    gamma, se = beta1[:, -1], np.sqrt(np.maximum(cov1[:, -1, -1], 0.0))
    lr = np.maximum(dev0 - dev1, 0.0)
    z = np.sign(gamma) * np.sqrt(lr)
    q = stats.norm.ppf(0.5 + ci / 2)
    obs = (counts * tgt).sum(axis=1).astype(float)
    exp0 = (mu0 * tgt).sum(axis=1)
    table = None
    if counts.shape[0] == 1:
        lab = np.asarray(labels, dtype=object)
        table = pd.DataFrame({"category_1": lab[rows], "category_2": lab[cols], "observed": counts[0],
                              "expected_homogamy": mu0[0], "pairing_term": tgt.astype(bool)})
    with np.errstate(over="ignore"):  # an empty pairing cell sends gamma to -inf, an empty rest to +inf
        ratio, lo, hi = np.exp(gamma), np.exp(gamma - q * se), np.exp(gamma + q * se)
    return PairingModel(n, exchangeable, obs, exp0, gamma, se, ratio, lo, hi, lr, z, _z_p(z, direction), dev0,
                        int(cells - np.linalg.matrix_rank(x0)), table)


def matching_count_test(codes_a, codes_b, target, *, exchangeable: bool, direction: str = "greater",
                        n_permutations: int = 10000, seed=0, max_cells: int = MAX_CELLS, mid_p: bool = False):
    """Couples of the target category pairs against random pairing, for either kind of dyad.

    Distinguishable dyads: the role-2 partners are re-paired with the role-1 partners
    at random (:func:`repairing_count_test`). Indistinguishable dyads: the 2n people
    are matched into n couples at random (a uniform perfect matching), which does not
    depend on who was called partner a; the expected count is
    ``n sum_jk T_jk n_j (n_k - [j = k]) / (2n (2n - 1))`` (``n_j`` people in category j,
    T the symmetric target). In both cases the couples (or people) are first put in
    an order given by their categories only, so the p-value depends neither on the
    row order nor on the ids or the labelling of the partners.

    Returns (observed, expected, p) as :func:`repairing_count_test`.

    >>> obs, exp, p = matching_count_test([0, 0, 1, 1], [0, 0, 1, 1], np.eye(2, dtype=bool),
    ...                                   exchangeable=True, n_permutations=999, seed=1)
    >>> obs, round(exp, 4), round(p, 3)
    (4.0, 1.7143, 0.082)
    """
    target = np.asarray(target, dtype=bool)
    a = np.asarray(codes_a, dtype=np.int64)
    b = np.asarray(codes_b, dtype=np.int64)
    single = a.ndim == 1
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    if not exchangeable:
        order = np.lexsort((b, a), axis=1)
        a, b = np.take_along_axis(a, order, 1), np.take_along_axis(b, order, 1)
        out = repairing_count_test(a, b, target, direction=direction, n_permutations=n_permutations, seed=seed,
                                   max_cells=max_cells, mid_p=mid_p)
        return tuple(float(v[0]) for v in out) if single else out
    direction = _alternative(direction)
    if not (target == target.T).all():
        raise ValueError("With indistinguishable dyads the target pairs must be unordered (a symmetric matrix).")
    s_sets, n = a.shape
    if n < 2:
        raise ValueError(f"A matching test needs at least 2 couples; got {n}.")
    k = target.shape[0]
    pool = np.sort(np.concatenate([a, b], axis=1), axis=1)
    obs = target[a, b].sum(axis=1).astype(float)
    nk = (pool[:, :, None] == np.arange(k)).sum(axis=1).astype(float)
    expected = n * (np.einsum("sj,jk,sk->s", nk, target.astype(float), nk) - (nk * np.diag(target)).sum(axis=1)) \
        / (2 * n * (2 * n - 1))
    tally = _CountTally(obs, expected)
    rows = np.arange(s_sets)[:, None, None]
    for perm in permutation_chunks(2 * n, n_permutations, seed, max_cells, n_sets=s_sets):
        perm = perm.reshape(s_sets, -1, 2 * n)
        first, second = pool[rows, perm[:, :, 0::2]], pool[rows, perm[:, :, 1::2]]
        tally.add(target[first, second].sum(axis=2))
    p = tally.p(n_permutations, direction, mid_p)
    return (float(obs[0]), float(expected[0]), float(p[0])) if single else (obs, expected, p)


# ---------------------------------------------------------------------------
# parent-child transmission with families as clusters


@dataclass(frozen=True)
class TransmissionTest:
    """Association of parents' styles with their children's, families as units (see :func:`transmission_test`)."""

    n_links: int
    n_families: int
    n_strata: int
    concordant: int
    kappa: float
    kappa_ci_low: float
    kappa_ci_high: float
    concordance: float
    concordance_ci_low: float
    concordance_ci_high: float
    expected_concordance: float
    p: float
    n_permutations: int
    n_bootstrap: int
    table: np.ndarray = field(repr=False)


def _family_blocks(parent_codes, child_codes, family, parent):
    """Per family: parent styles in slot order and child-code counts per slot; the shape of each family."""
    frame = pd.DataFrame({"f": _text(family), "p": _text(parent), "ps": np.asarray(parent_codes, dtype=np.int64),
                          "cc": np.asarray(child_codes, dtype=np.int64)})
    if frame.groupby("p")["ps"].nunique().max() > 1:
        raise ValueError("A parent has two different styles in the child records.")
    counts = np.zeros((len(frame), 4), dtype=np.int64)
    counts[np.arange(len(frame)), frame["cc"].to_numpy()] = 1
    per_parent = pd.DataFrame(counts, columns=list(range(4))).assign(f=frame["f"].to_numpy(), p=frame["p"].to_numpy(),
                                                                     ps=frame["ps"].to_numpy())
    pp = per_parent.groupby(["f", "p"], sort=False).agg({0: "sum", 1: "sum", 2: "sum", 3: "sum", "ps": "first"})
    pp["size"] = pp[[0, 1, 2, 3]].sum(axis=1)
    # slot order within a family: more children first, then by the children's codes (child side only, which
    # the permutation leaves in place), so the order never depends on ids or on the parents' styles
    pp["key"] = [tuple(r) for r in pp[[0, 1, 2, 3]].to_numpy()]
    # parents alike in children (same number and codes) are ordered by style, so the order never depends on ids
    pp = pp.reset_index().sort_values(["f", "size", "key", "ps"], ascending=[True, False, False, True],
                                      kind="mergesort")
    families = []
    for _, g in pp.groupby("f", sort=False):
        kids = g[[0, 1, 2, 3]].to_numpy()
        # slots with the same children form a tie group (numbered in slot order); the permutation shuffles
        # parents within them at random, since their order is arbitrary
        _, tie = np.unique(kids, axis=0, return_inverse=True)
        tie = pd.factorize(tie.ravel())[0]
        families.append((tuple(int(v) for v in g["size"]), g["ps"].to_numpy(), kids, tie))
    # canonical family order (content only): shape, child side, parent side
    families.sort(key=lambda t: (t[0], t[2].ravel().tolist(), t[1].tolist()))
    return families


def transmission_test(parent_codes, child_codes, family, parent=None, *, n_permutations: int = 10000,
                      n_bootstrap: int = 2000, seed=0, ci: float = 0.95, mid_p: bool = False) -> TransmissionTest:
    """Do children's attachment codes follow their parents' styles? A family-level permutation test.

    Each record links a parent (style code 0..3) to a child whose Strange Situation
    code is mapped to the corresponding style (B secure, A dismissing/avoidant, C
    preoccupied/ambivalent, D fearful/disorganised). Records of one family -- a
    parent with several children, or both partners of a couple -- are not
    independent, so the family is the unit: under the null hypothesis that
    children's codes do not depend on their parents' styles, the parents' styles
    of a family (as a block, in a fixed slot order) can be exchanged with those of
    any family of the same shape (number of parents and children per parent);
    parents whose children are alike (same number and codes) are in no particular
    order, so they are also shuffled among themselves at random.
    The statistic is the sum of the diagonal Pearson residuals of the parent style by
    child code table, ``sum_k (n_kk - e_kk) / sqrt(e_kk)`` (both margins, hence e, are
    fixed by these permutations; within a category it orders tables as the
    concordance and kappa do, with far fewer ties than the plain count, which made
    the exact test conservative: .024 at nominal .05 in the calibration); p is one-sided (greater),
    ``(1 + #{T* >= T}) / (1 + B)``, or with ``mid_p`` ``(#{T* > T} + (#{T* = T} + 1) / 2)
    / (1 + B)`` (Lancaster, 1961): the count is discrete, so the exact p is
    conservative. Families are put in an order given by their content only, so the
    p-value does not depend on ids or row order.

    Effect sizes: Cohen's (1960) kappa of the parent style by child code table and
    the concordance rate, each with a percentile interval from resampled families
    (cluster bootstrap); ``expected_concordance`` is the rate the margins give
    without any transmission.

    Parameters
    ----------
    parent_codes, child_codes : (n,) style codes 0..3 of the parent and of the child.
    family : (n,) family labels (e.g. the couple id of the parent, else the parent id).
    parent : (n,) parent ids (default: one parent per family).
    """
    pc = np.asarray(parent_codes, dtype=np.int64)
    cc = np.asarray(child_codes, dtype=np.int64)
    n = pc.size
    if n < 2 or cc.size != n:
        raise ValueError("The transmission test needs at least 2 parent-child records of equal length.")
    if pc.min() < 0 or pc.max() > 3 or cc.min() < 0 or cc.max() > 3:
        raise ValueError("Style codes must lie in 0..3.")
    fam = np.asarray(family, dtype=object)
    par = fam if parent is None else np.asarray(parent, dtype=object)
    families = _family_blocks(pc, cc, fam, par)
    table = np.zeros((4, 4))
    np.add.at(table, (pc, cc), 1)
    conc = int(np.trace(table))
    row, col = table.sum(1) / n, table.sum(0) / n
    pe = float(row @ col)
    kappa = (conc / n - pe) / (1 - pe) if pe < 1 else NAN
    rng_perm, rng_boot = (np.random.default_rng(s) for s in np.random.SeedSequence(
        seed if not isinstance(seed, np.random.SeedSequence) else seed.entropy).spawn(2))
    # the statistic: concordant records weighted by 1 / sqrt(expected), i.e. the sum of the diagonal Pearson
    # residuals up to a constant (the margins are fixed by the permutations)
    expected = table.sum(1) * table.sum(0) / n
    weight = np.where(expected > 0, 1 / np.sqrt(np.where(expected > 0, expected, 1.0)), 0.0)
    t_obs = float((weight * np.diag(table)).sum())
    strata: dict = {}
    for shape, styles, counts, tie in families:
        strata.setdefault(shape, []).append((styles, counts, tie))
    t_perm = np.zeros(n_permutations)
    for shape, members in strata.items():  # a few shapes; permutations vectorised within each
        ps = np.stack([m[0] for m in members])            # (F, P)
        cs = np.stack([m[1] for m in members])            # (F, P, 4)
        ties = np.stack([m[2] for m in members])          # (F, P) tie group of each slot, increasing
        f_n, p_n = ps.shape
        done = 0
        for perm in permutation_chunks(f_n, n_permutations, rng_perm):
            k = perm.shape[0]
            styles = ps[perm]                                # (k, F, P): whole families' parents moved
            if p_n > 1:  # and shuffled within the tie groups of the family they come from
                order = np.argsort(ties[perm] + 0.5 * rng_perm.random((k, f_n, p_n)), axis=2)
                styles = np.take_along_axis(styles, order, axis=2)
            t_perm[done:done + k] += (weight[styles] * cs[np.arange(f_n)[None, :, None],
                                                           np.arange(p_n)[None, None, :], styles]).sum(axis=(1, 2))
            done += k
    tol = 1e-9 * max(1.0, abs(t_obs))
    more, tie = np.sum(t_perm > t_obs + tol), np.sum(np.abs(t_perm - t_obs) <= tol)
    p = (more + (tie + 1) / 2) / (1 + n_permutations) if mid_p else (1 + more + tie) / (1 + n_permutations)
    klo = khi = clo = chi = NAN
    if n_bootstrap:
        tabs = np.zeros((len(families), 16))
        for i, (_, styles, counts, _) in enumerate(families):
            for slot, s in enumerate(styles):
                tabs[i, s * 4:(s + 1) * 4] += counts[slot]
        boot = np.concatenate([tabs[idx].sum(axis=1) for idx in bootstrap_chunks(len(families), n_bootstrap,
                                                                                 rng_boot)])
        tb = boot.reshape(-1, 4, 4)
        nb = tb.sum(axis=(1, 2))
        po = np.einsum("bii->b", tb) / nb
        peb = np.einsum("bi,bi->b", tb.sum(2), tb.sum(1)) / nb ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            kb = (po - peb) / (1 - peb)
        klo, khi = (float(v) for v in np.nanquantile(kb, [(1 - ci) / 2, (1 + ci) / 2]))
        clo, chi = (float(v) for v in np.quantile(po, [(1 - ci) / 2, (1 + ci) / 2]))
    return TransmissionTest(n, len(families), len(strata), conc, float(kappa), klo, khi, conc / n, clo, chi, pe,
                            float(p), int(n_permutations), int(n_bootstrap), table)


# ---------------------------------------------------------------------------
# distinguishable or not: the decision every dyadic analysis starts from

DISTINGUISHABLE_SETTINGS = ("auto", "true", "false")
#: Level of the distinguishability test with ``distinguishable: auto``.
DISTINGUISHABILITY_ALPHA = 0.05


@dataclass(frozen=True)
class DyadStructure:
    """Whether a set of couples is analysed as distinguishable, and why (a sentence for the report)."""

    distinguishable: bool
    roles: tuple
    reason: str
    test: DistinguishabilityTest | None = None

    @property
    def labels(self) -> tuple:
        """Role labels of the two partners (the roles, or ``both`` for indistinguishable dyads)."""
        return self.roles if self.distinguishable else ("both",)


def dyad_structure(couples: CouplesFrame, x1=None, x2=None, setting: str = "auto",
                   alpha: float = DISTINGUISHABILITY_ALPHA) -> DyadStructure:
    """Decide how the couples are analysed (config ``couples.distinguishable``).

    - no role column, or a mixed sample (some couples without the two roles):
      indistinguishable, whatever the setting (``true`` is then an error);
    - ``false``: indistinguishable; ``true``: distinguishable by the roles;
    - ``auto``: distinguishable when the roles differ in the means, variances or
      covariances of the scores ``x1``, ``x2`` (partner a = first role, b = second):
      :func:`distinguishability_test` at ``alpha`` (Kenny, Kashy & Cook, 2006, ch. 6).

    >>> cf = CouplesFrame(pd.DataFrame(columns=list(COUPLE_COLUMNS)), 0, False)
    >>> dyad_structure(cf).reason
    'no role column: the partners are indistinguishable dyads'
    """
    if setting not in DISTINGUISHABLE_SETTINGS:
        raise ValueError(f"couples.distinguishable must be one of {DISTINGUISHABLE_SETTINGS}; got {setting!r}.")
    if not couples.has_roles:
        if setting == "true":
            raise ValueError("couples.distinguishable is true but the cohort has no role column; give "
                             "couples.role_column or set distinguishable: auto.")
        return DyadStructure(False, (), "no role column: the partners are indistinguishable dyads")
    if not couples.roles:
        odd = couples.couples
        pairs = pd.Series(list(zip(odd["role_a"], odd["role_b"]))).value_counts()
        text = ", ".join(f"{a or '?'}/{b or '?'}: {k}" for (a, b), k in pairs.items())
        if setting == "true":
            raise ValueError(f"couples.distinguishable is true but the couples do not all have the same two "
                             f"roles ({text}); set distinguishable: auto or false.")
        return DyadStructure(False, (), f"mixed sample (roles {text}): analysed as indistinguishable dyads")
    ra, rb = couples.roles
    if setting == "false":
        return DyadStructure(False, (), f"declared indistinguishable (couples.distinguishable: false; roles {ra}/{rb} "
                                        "not used)")
    if setting == "true":
        return DyadStructure(True, (ra, rb), f"declared distinguishable by role ({ra}/{rb})")
    if x1 is None or x2 is None:
        raise ValueError("distinguishable: auto needs the partners' scores to test the roles.")
    t = distinguishability_test(x1, x2)
    chi2, p = float(t.chi2[0]), float(t.p[0])
    dist = bool(p < alpha)
    verdict = "distinguishable" if dist else "indistinguishable"
    return DyadStructure(dist, (ra, rb) if dist else (),
                         f"roles {ra}/{rb} {'differ' if dist else 'do not differ'} in means, variances or "
                         f"covariances (I-SAT test chi2({t.df}) = {chi2:.2f}, p = {p:.3f}): {verdict} dyads", t)


# ---------------------------------------------------------------------------
# the cohort's dyad tables: dyads/distinguishability.csv and dyads/nonindependence.csv

DISTINGUISHABILITY_COLUMNS = ("score_set", "chi2", "df", "p", "distinguishable", "n_couples", "roles", "decision")
NONINDEPENDENCE_COLUMNS = ("score", "score_set", "n_couples", "statistic", "estimate", "ci_low", "ci_high",
                           "test", "test_statistic", "df1", "df2", "p", "distinguishable")


def dyad_tables(scores: pd.DataFrame, couple_column: str, role_column: str | None, score_sets: dict,
                setting: str = "auto", ci: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Distinguishability per score set and partner similarity per score (``dyads/*.csv``).

    ``score_sets``: ``{name: [score columns]}`` (e.g. an instrument's anxiety and
    avoidance). For each set: the decision of :func:`dyad_structure` with its I-SAT
    test (``chi2, df, p``; empty without roles or in a mixed sample), on the couples
    with all of the set's scores. For each score of the set: :func:`nonindependence`
    (ICC for indistinguishable, Pearson r between the roles for distinguishable dyads)
    with its interval and two-sided test. Sets with fewer than ``2 k + 2`` complete
    couples are reported as not tested.

    >>> s = pd.DataFrame({"c": ["k1", "k1", "k2", "k2", "k3", "k3", "k4", "k4"],
    ...                   "x": [1.0, 2, 3, 3.5, 5, 4, 2, 2.5]}, index=list("abcdefgh"))
    >>> dist, ni = dyad_tables(s, "c", None, {"x": ["x"]})
    >>> dist["decision"].iloc[0], round(float(ni["estimate"].iloc[0]), 3)
    ('no role column: the partners are indistinguishable dyads', 0.831)
    """
    dist_rows, ni_rows = [], []
    for name, cols in score_sets.items():
        cols = list(cols)
        frame = scores.copy()
        for c in cols:
            frame[c] = pd.to_numeric(frame[c], errors="coerce")
        try:
            cf = couples_frame(frame, couple_column, role_column, cols)
        except ValueError as exc:
            if not str(exc).startswith("No couples"):
                raise
            dist_rows.append({"score_set": name, "chi2": NAN, "df": NAN, "p": NAN, "distinguishable": False,
                              "n_couples": 0, "roles": "", "decision": "not tested: no couples in the data"})
            continue
        if cf.n < 2 * len(cols) + 2:
            dist_rows.append({"score_set": name, "chi2": NAN, "df": NAN, "p": NAN, "distinguishable": False,
                              "n_couples": cf.n, "roles": "", "decision": f"not tested: {cf.n} complete couples"})
            continue
        xa = np.column_stack([partner_values(frame[c], cf)[0] for c in cols])
        xb = np.column_stack([partner_values(frame[c], cf)[1] for c in cols])
        st = dyad_structure(cf, xa, xb, setting)
        t = st.test
        dist_rows.append({"score_set": name, "chi2": float(t.chi2[0]) if t else NAN, "df": t.df if t else NAN,
                          "p": float(t.p[0]) if t else NAN, "distinguishable": st.distinguishable, "n_couples": cf.n,
                          "roles": "/".join(cf.roles), "decision": st.reason})
        for j, c in enumerate(cols):
            ni = nonindependence(xa[:, j], xb[:, j], distinguishable=st.distinguishable, ci=ci)
            ni_rows.append({"score": c, "score_set": name, "n_couples": cf.n, "statistic": ni.statistic_name,
                            "estimate": float(ni.estimate[0]), "ci_low": float(ni.ci_low[0]),
                            "ci_high": float(ni.ci_high[0]), "test": ni.test_name,
                            "test_statistic": float(ni.test_statistic[0]), "df1": ni.df1, "df2": ni.df2,
                            "p": float(ni.p[0]), "distinguishable": st.distinguishable})
    return (pd.DataFrame(dist_rows, columns=list(DISTINGUISHABILITY_COLUMNS)),
            pd.DataFrame(ni_rows, columns=list(NONINDEPENDENCE_COLUMNS)))
