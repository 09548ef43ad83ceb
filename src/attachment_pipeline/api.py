"""The public Python API: functions over DataFrames of raw answers (``import attachment_pipeline as ap``).

One verb per statistic, as pingouin has them, each checking its input at the
boundary with an error that names the column, row and value and says what to do:

========================================  =====================================================
:func:`load_instrument`                   an instrument (shipped package data or your folder)
:func:`reverse_key`                       answers with the reverse-keyed items reversed
:func:`score`                             subscale means (or the min/max checklist's scores)
:func:`cronbach_alpha`                    alpha of a block of raw answers
:func:`alpha_from_covariance`             alpha of an item covariance matrix
:func:`classify_styles`                   the four attachment styles from two dimension scores
========================================  =====================================================

Functions that expect raw answers (one row per respondent, one column per item)
refuse a covariance or correlation matrix, and :func:`alpha_from_covariance`
refuses raw answers: both are square-or-not tables of numbers, and mixing them up
gives a plausible but wrong number (alpha computed as if raw answers were a
covariance matrix is about .999 where the answers' alpha is .95).

Example
-------
>>> import attachment_pipeline as ap
>>> ecr_r = ap.load_instrument("ecr_r")
>>> answers = ap.example_answers()            # 397 simulated ECR-R respondents, 1-7
>>> anxiety_items = [f"ecr_r_{n}" for n in ecr_r.subscale_items("anxiety")]
>>> round(ap.cronbach_alpha(ap.reverse_key(answers, ecr_r)[anxiety_items]), 3)
0.95
>>> scores = ap.score(answers, "ecr_r")
>>> list(scores.columns)
['ecr_r_anxiety', 'ecr_r_avoidance']
>>> ap.classify_styles(scores, "midpoint", instrument="ecr_r")["style"].value_counts().index[0]
'secure'
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd

from . import classify as _classify
from . import reliability as _reliability
from . import scoring as _scoring
from .instruments import Instrument, available_instruments, load_instrument

__all__ = ["load_instrument", "available_instruments", "reverse_key", "score", "cronbach_alpha",
           "alpha_from_covariance", "classify_styles", "example_answers"]

_MISSING = ("pairwise", "listwise")


# ----------------------------------------------------------------------------- input checks
def _looks_like_matrix(frame: pd.DataFrame) -> bool:
    """A square, symmetric table whose rows are named like its columns (or a symmetric unnamed one)."""
    if frame.shape[0] != frame.shape[1] or frame.shape[0] < 2:
        return False
    try:
        values = frame.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):  # text somewhere: not a matrix of numbers
        return False
    if np.isnan(values).any() or not np.allclose(values, values.T, rtol=1e-8, atol=1e-10):
        return False
    same_labels = list(map(str, frame.index)) == list(map(str, frame.columns))
    return same_labels or bool(np.all(np.diag(values) > 0))


def _as_frame(data, what: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, np.ndarray) and data.ndim == 2:
        return pd.DataFrame(data)
    raise TypeError(f"{what} must be a pandas DataFrame (one row per respondent, one column per item), "
                    f"got {type(data).__name__}.")


def _check_answers(answers, what: str = "answers") -> pd.DataFrame:
    """Raw answers: numeric, not a covariance/correlation matrix. Returns the frame as floats."""
    frame = _as_frame(answers, what)
    if _looks_like_matrix(frame):
        raise ValueError(
            f"{what} look like a covariance or correlation matrix ({frame.shape[0]} x {frame.shape[1]}, "
            "symmetric, rows named like the columns), not raw answers. Pass the answers themselves "
            "(one row per respondent, one column per item), or use ap.alpha_from_covariance() for a matrix.")
    out = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    bad = out.isna() & frame.notna()
    if bad.to_numpy().any():
        col = bad.any(axis=0).idxmax()
        row = bad[col].idxmax()
        raise ValueError(f"{what}: column {col!r}, row {row!r}: {frame.at[row, col]!r} is not a number. "
                         "Convert text answers to codes (or to NaN for missing) first.")
    return out


def _instrument(instrument) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    if isinstance(instrument, str):
        return load_instrument(instrument)
    raise TypeError(f"instrument must be a name such as 'ecr_r' or an Instrument, got {type(instrument).__name__}.")


def _item_block(answers, inst: Instrument, missing_codes=()) -> pd.DataFrame:
    """The instrument's items as ``<name>_<n>`` columns, checked against the response scale."""
    frame = _as_frame(answers, "answers")
    cols = inst.item_columns()
    if not set(cols) <= set(map(str, frame.columns)):
        if frame.shape[1] == inst.n_items:  # any names, in item order
            frame = frame.set_axis(cols, axis=1)
        else:
            missing = [c for c in cols if c not in set(map(str, frame.columns))]
            raise ValueError(
                f"answers: {inst.name} needs its {inst.n_items} items as columns {cols[0]} .. {cols[-1]} "
                f"(or exactly {inst.n_items} columns in item order); missing {', '.join(missing[:5])}"
                f"{' ...' if len(missing) > 5 else ''}. Rename your columns or select the instrument's items.")
    block = _check_answers(frame[cols])
    if len(missing_codes):
        block = block.mask(block.isin(list(missing_codes)))
    x = block.to_numpy()
    outside = ~np.isnan(x) & ((x < inst.scale_min) | (x > inst.scale_max) | (x != np.round(x)))
    if outside.any():
        r, c = np.argwhere(outside)[0]
        raise ValueError(
            f"answers: column {cols[c]!r}, row {block.index[r]!r}: {x[r, c]:g} is not a whole number on "
            f"{inst.name}'s response scale {inst.scale_min}-{inst.scale_max}. Recode it, or pass missing codes "
            "(e.g. missing_codes=[-1, 99]) so they count as missing.")
    return block


# ----------------------------------------------------------------------------- verbs
def reverse_key(answers: pd.DataFrame, instrument, *, missing_codes=()) -> pd.DataFrame:
    """The instrument's items with reverse-keyed items reversed: ``x' = min + max - x``.

    Parameters
    ----------
    answers : DataFrame, one row per respondent; columns ``<name>_<n>`` (``ecr_r_1`` ..) or exactly
        the instrument's number of columns in item order. NaN = not answered.
    instrument : name (``"ecr_r"``, ``"ecr"``, ``"minmax"``) or an :class:`Instrument`.
    missing_codes : answers that mean "missing" (e.g. ``[-1, 99]``); set to NaN first.

    Returns
    -------
    DataFrame of the items (``<name>_<n>`` columns), index as ``answers``.

    >>> import attachment_pipeline as ap
    >>> a = pd.DataFrame([[1] * 36], columns=[f"Q{n}" for n in range(1, 37)])
    >>> ap.reverse_key(a, "ecr_r")[["ecr_r_1", "ecr_r_9"]].iloc[0].tolist()
    [1.0, 7.0]
    """
    inst = _instrument(instrument)
    block = _item_block(answers, inst, missing_codes)
    return block if inst.kind == "minmax" else _scoring.reverse_key(block, inst)


def score(answers: pd.DataFrame, instrument, *, min_answered: float = 0.8, band: float = 0.2,
          missing_codes=()) -> pd.DataFrame:
    """Scores of one instrument from raw answers, as the pipeline's ``scores.csv`` has them.

    Likert instruments: the mean of each subscale's keyed items, NaN when fewer than
    ``min_answered`` of them are answered (columns ``<name>_<subscale>``). The min/max
    checklist: minimiser and maximiser scores, the bipolar index and the type with the
    band ``band`` (see :mod:`attachment_pipeline.scoring`).

    Parameters
    ----------
    answers, instrument, missing_codes : as :func:`reverse_key`.
    min_answered : share of a subscale's items that must be answered (0 < share <= 1).
    band : min/max typology band.

    >>> import attachment_pipeline as ap
    >>> a = pd.DataFrame([[2] * 18 + [5] * 18], columns=[f"ecr_r_{n}" for n in range(1, 37)])
    >>> ap.score(a, "ecr_r").round(3).iloc[0].tolist()
    [2.444, 3.667]
    """
    inst = _instrument(instrument)
    if not 0 < float(min_answered) <= 1:
        raise ValueError(f"min_answered must be a share in (0, 1], got {min_answered!r}.")
    block = _item_block(answers, inst, missing_codes)
    _, scores = _scoring.score_instrument(block, inst, float(min_answered), float(band))
    return scores


def cronbach_alpha(answers: pd.DataFrame, *, missing: str = "pairwise") -> float:
    """Cronbach's (1951) alpha of a block of raw item answers (already keyed).

    ``alpha = k / (k - 1) * (1 - tr(C) / sum(C))`` with ``C`` the items' covariance matrix:
    pairwise-complete (psych::alpha's default ``use = "pairwise"``) or listwise.
    Equals psych's ``raw_alpha`` and SPSS RELIABILITY's alpha (listwise) on the same items.

    Parameters
    ----------
    answers : DataFrame, one row per respondent, one column per item (keyed: reverse-keyed
        items already reversed, see :func:`reverse_key`). NaN = not answered.
    missing : ``"pairwise"`` or ``"listwise"``.

    Raises
    ------
    ValueError : a covariance or correlation matrix was passed (use :func:`alpha_from_covariance`),
        fewer than 2 items, or a non-numeric answer.

    >>> import attachment_pipeline as ap
    >>> a = pd.DataFrame({"i1": [1, 2, 3, 4, 5], "i2": [2, 2, 3, 5, 4], "i3": [1, 3, 3, 4, 5]})
    >>> round(ap.cronbach_alpha(a), 4)
    0.9451
    >>> ap.cronbach_alpha(a.cov())
    Traceback (most recent call last):
    ...
    ValueError: answers look like a covariance or correlation matrix (3 x 3, symmetric, rows named like the columns), not raw answers. Pass the answers themselves (one row per respondent, one column per item), or use ap.alpha_from_covariance() for a matrix.
    """
    if missing not in _MISSING:
        raise ValueError(f"missing must be one of {', '.join(_MISSING)}, got {missing!r}.")
    block = _check_answers(answers)
    if block.shape[1] < 2:
        raise ValueError(f"answers: alpha needs at least 2 item columns, got {block.shape[1]}.")
    C, _ = _reliability.covariance_matrix(block.to_numpy(), missing)
    return _reliability.cronbach_alpha(C)


def alpha_from_covariance(cov) -> float:
    """Cronbach's alpha from an item covariance matrix: ``k / (k - 1) * (1 - tr(C) / sum(C))``.

    Raises ValueError for anything that is not a square symmetric matrix with a positive
    diagonal (e.g. raw answers: use :func:`cronbach_alpha`).

    >>> import attachment_pipeline as ap
    >>> ap.alpha_from_covariance(np.array([[1.0, 0.5], [0.5, 1.0]]))
    0.6666666666666667
    >>> ap.alpha_from_covariance(np.array([[1, 2], [2, 3], [3, 5]]))
    Traceback (most recent call last):
    ...
    ValueError: cov is 3 x 2, not a square symmetric covariance matrix with a positive diagonal. For raw answers (one row per respondent) use ap.cronbach_alpha().
    """
    C = np.asarray(cov, dtype=float)
    ok = (C.ndim == 2 and C.shape[0] == C.shape[1] and C.shape[0] >= 2 and not np.isnan(C).any()
          and np.allclose(C, C.T, rtol=1e-8, atol=1e-10) and bool(np.all(np.diag(C) > 0)))
    if not ok:
        shape = " x ".join(map(str, C.shape))
        raise ValueError(f"cov is {shape}, not a square symmetric covariance matrix with a positive diagonal. "
                         "For raw answers (one row per respondent) use ap.cronbach_alpha().")
    return _reliability.cronbach_alpha(C)


def classify_styles(scores: pd.DataFrame, method: str = "midpoint", *, instrument="ecr_r", seed: int = 0,
             ties: str = "low", reference: dict | None = None, cut: float = 0.0) -> pd.DataFrame:
    """The four attachment styles (Bartholomew & Horowitz, 1991) from anxiety and avoidance scores.

    A thin checked front to :func:`attachment_pipeline.classify.classify` (its docstring
    gives every method's rule): ``midpoint`` (scale midpoint), ``median``, ``zscore``
    (``reference`` norms), ``kmeans``, ``gmm``, ``brennan1998``.

    Parameters
    ----------
    scores : DataFrame with ``anxiety`` and ``avoidance`` columns, or ``<instrument>_anxiety`` /
        ``<instrument>_avoidance`` as :func:`score` returns them; one row per respondent.
    method : classification method.
    instrument : name or Instrument whose response scale the scores are on.
    seed, ties, reference, cut : as in :func:`attachment_pipeline.classify.classify`.

    Returns
    -------
    DataFrame with ``style`` and ``certainty``, complete cases only, index as ``scores``.

    >>> import attachment_pipeline as ap
    >>> s = pd.DataFrame({"ecr_r_anxiety": [2.0, 4.0, 6.0], "ecr_r_avoidance": [4.0, 5.0, 1.0]})
    >>> ap.classify_styles(s)["style"].tolist()
    ['secure', 'dismissing', 'preoccupied']
    """
    inst = _instrument(instrument)
    frame = _as_frame(scores, "scores")
    names = {}
    for dim in ("anxiety", "avoidance"):
        for col in (dim, f"{inst.name}_{dim}"):
            if col in frame.columns:
                names[col] = dim
                break
        else:
            raise ValueError(f"scores: no column {dim!r} or {inst.name + '_' + dim!r}; pass the two dimension scores "
                             f"(e.g. ap.score(answers, {inst.name!r})).")
    dims = _check_answers(frame[list(names)].rename(columns=names), "scores")
    if not isinstance(seed, Integral):
        raise ValueError(f"seed must be a whole number, got {seed!r}.")
    return _classify.classify(dims, method, scale_min=inst.scale_min, scale_max=inst.scale_max, seed=int(seed),
                              ties=ties, reference=reference, cut=cut, instrument=inst.name)


def example_answers(n: int = 397, seed: int = 20261124) -> pd.DataFrame:
    """Simulated ECR-R answers (1-7, columns ``ecr_r_1`` .. ``ecr_r_36``) for trying the API.

    Two correlated latent dimensions drive the items through a graded model, as
    :mod:`attachment_pipeline.simulate` draws them; same ``n`` and ``seed``, same answers.
    """
    from .simulate import SimulationSettings, simulate_cohort

    settings = SimulationSettings(n_couples=0, n_singles=int(n), minmax_format=None, missing_code_rate=0.0,
                                  skip_rate=0.0, n_sparse=0, n_children=0)
    responses = simulate_cohort(settings, seed).responses
    items = responses.filter(regex=r"^ecr_\d+$").astype(float)
    return items.rename(columns=lambda c: "ecr_r_" + c.split("_")[1]).reset_index(drop=True)
