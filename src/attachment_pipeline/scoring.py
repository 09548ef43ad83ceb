"""Scoring: reverse keys, subscale means with a minimum-answered rule, and the
minimiser/maximiser scores, index and typology.

Formulas
--------
* Reverse keying (any Likert scale): ``x' = min + max - x``.
* Subscale score: mean of the subscale's (keyed) answered items, reported only when
  ``answered >= min_answered * k`` (k = items in the subscale; default 80 %).
* Minimiser/maximiser checklist (Hendrix 1988; seed section 5.3), scores on 0..1:

  - ``ticks``: minimiser = share of the 11 minimiser statements ticked; maximiser likewise;
  - ``likert``: mean rating of each side rescaled to 0..1, ``(mean - min) / (max - min)``;
  - ``forced_choice``: maximiser = share of pairs where the maximiser statement was
    chosen, minimiser = share where the minimiser statement was chosen.

  Bipolar index = maximiser - minimiser, in -1 (pure minimiser) .. +1 (pure maximiser).
  Typology with band ``b``: ``index <= -b`` minimiser, ``index >= b`` maximiser, else balanced.

Example
-------
>>> import pandas as pd
>>> from attachment_pipeline.instruments import load_instrument
>>> inst = load_instrument("minmax", "forced_choice")
>>> answers = pd.DataFrame([[2] * 8 + [1] * 3], columns=inst.item_columns())
>>> s = score_minmax(answers, inst)
>>> round(float(s["minmax_index"].iloc[0]), 4), s["minmax_type"].iloc[0]
(0.4545, 'maximiser')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .instruments import Instrument
from .vocabulary import MINMAX_TYPES  # noqa: F401  (re-exported: defined once, in vocabulary)



def reverse_key(answers: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Reverse-key the instrument's reverse-keyed items: ``min + max - x``.

    >>> import pandas as pd
    >>> from attachment_pipeline.instruments import load_instrument
    >>> inst = load_instrument("ecr_r")
    >>> a = pd.DataFrame([[1.0] * 36], columns=inst.item_columns())
    >>> reverse_key(a, inst)[["ecr_r_1", "ecr_r_9"]].iloc[0].tolist()
    [1.0, 7.0]
    """
    keyed = answers.copy()
    cols = [f"{instrument.name}_{n}" for n in instrument.reverse_keyed]
    keyed[cols] = instrument.scale_min + instrument.scale_max - keyed[cols]
    return keyed


def _enough(answered: np.ndarray, k: int, min_answered: float) -> np.ndarray:
    # tolerance so that e.g. 0.8 * 10 = 8.000000000000002 does not demand a 9th item
    return answered >= min_answered * k - 1e-9


def subscale_means(keyed: pd.DataFrame, instrument: Instrument, min_answered: float = 0.8) -> pd.DataFrame:
    """Mean of each subscale's keyed items; NaN when fewer than ``min_answered`` of them are answered.

    Columns are ``<instrument>_<subscale>``, e.g. ``ecr_r_anxiety``.

    >>> import pandas as pd
    >>> from attachment_pipeline.instruments import load_instrument
    >>> inst = load_instrument("ecr_r")
    >>> keyed = pd.DataFrame([[2.0] * 18 + [5.0] * 18], columns=inst.item_columns())
    >>> subscale_means(keyed, inst).iloc[0].tolist()
    [2.0, 5.0]
    """
    out = {}
    for sub in instrument.subscales:
        cols = [f"{instrument.name}_{n}" for n in instrument.subscale_items(sub)]
        block = keyed[cols].to_numpy(dtype=float)
        answered = (~np.isnan(block)).sum(axis=1)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(np.where(answered[:, None] > 0, block, 0.0), axis=1) if block.size else np.array([])
        out[f"{instrument.name}_{sub}"] = np.where(_enough(answered, len(cols), min_answered), mean, np.nan)
    return pd.DataFrame(out, index=keyed.index)


def minmax_typology(index, band: float) -> pd.Series:
    """Minimiser / balanced / maximiser from the bipolar min/max index (-1..+1).

    ``minimiser`` if ``index <= -band``, ``maximiser`` if ``index >= band``,
    otherwise ``balanced``; NaN stays NaN. An index within ``1e-9`` of
    ``+-band`` counts as on the band (rounding noise does not decide the type).
    The index is maximiser minus minimiser score (seed 5.3, after Hendrix, 1988).

    >>> minmax_typology(pd.Series([-0.5, -0.2, 0.0, 0.2, np.nan]), 0.2).tolist()
    ['minimiser', 'minimiser', 'balanced', 'maximiser', nan]
    """
    try:
        band = float(band)
    except (TypeError, ValueError):
        raise ValueError(f"band must be a number in (0, 1], got {band!r}.") from None
    if not (np.isfinite(band) and 0.0 < band <= 1.0):
        raise ValueError(f"band must lie in (0, 1] (the index runs from -1 to +1), got {band!r}.")
    s = index if isinstance(index, pd.Series) else pd.Series(index)
    if not (pd.api.types.is_numeric_dtype(s) or s.isna().all()):
        raise ValueError(f"The min/max index must be numeric; got dtype {s.dtype}.")
    x = s.astype(float).to_numpy()
    lim = band - 1e-9
    out = np.select([x <= -lim, x >= lim, np.isfinite(x)], ["minimiser", "maximiser", "balanced"], default="")
    out = out.astype(object)
    out[np.isnan(x)] = np.nan
    return pd.Series(out, index=s.index, name=s.name, dtype=object)


def score_minmax(answers: pd.DataFrame, instrument: Instrument, min_answered: float = 0.8,
                 band: float = 0.2) -> pd.DataFrame:
    """Minimiser and maximiser scores (0..1), bipolar index (-1..+1) and typology.

    ``answers`` are the checklist answers as given (no keying applies). Each side is
    scored when at least ``min_answered`` of its items (of the 11 pairs for
    forced choice) are answered. See the module docstring for the formulas.
    """
    name = instrument.name
    lo, hi = instrument.scale_min, instrument.scale_max
    if instrument.response_format == "forced_choice":
        block = answers[instrument.item_columns()].to_numpy(dtype=float)
        answered = (~np.isnan(block)).sum(axis=1)
        ok = _enough(answered, block.shape[1], min_answered)
        with np.errstate(invalid="ignore", divide="ignore"):
            maxi = np.where(ok, (block == hi).sum(axis=1) / answered, np.nan)
            mini = np.where(ok, (block == lo).sum(axis=1) / answered, np.nan)
    else:
        sides = {}
        for side in ("minimiser", "maximiser"):
            cols = [f"{name}_{n}" for n in instrument.subscale_items(side)]
            block = answers[cols].to_numpy(dtype=float)
            answered = (~np.isnan(block)).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.nansum(block, axis=1) / answered
            sides[side] = np.where(_enough(answered, len(cols), min_answered), (mean - lo) / (hi - lo), np.nan)
        mini, maxi = sides["minimiser"], sides["maximiser"]
    index = pd.Series(maxi - mini, index=answers.index)
    return pd.DataFrame({
        f"{name}_minimiser": mini,
        f"{name}_maximiser": maxi,
        f"{name}_index": index,
        f"{name}_type": minmax_typology(index, band),
    }, index=answers.index)


def score_instrument(answers: pd.DataFrame, instrument: Instrument, min_answered: float = 0.8,
                     band: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keyed items and scores of one instrument.

    Returns ``(keyed_items, scores)``: for Likert instruments the reverse-keyed
    items and the subscale means; for the min/max checklist the answers
    unchanged and :func:`score_minmax`.
    """
    if instrument.kind == "minmax":
        return answers, score_minmax(answers, instrument, min_answered, band)
    keyed = reverse_key(answers, instrument)
    return keyed, subscale_means(keyed, instrument, min_answered)


def scoring_counts(scores: pd.DataFrame, instrument: Instrument) -> dict:
    """How many respondents got each score and how many did not, by reason (for qc/validation.json).

    A respondent is ``scored`` on an instrument when every score column is present,
    ``partly_scored`` when some are, ``unscored`` when none is. The three add up to the rows.
    """
    score_cols = [c for c in scores.columns if not c.endswith("_type")]
    present = scores[score_cols].notna().to_numpy()
    all_ok = present.all(axis=1)
    none_ok = ~present.any(axis=1)
    return {
        "scored": int(all_ok.sum()),
        "partly_scored": int((~all_ok & ~none_ok).sum()),
        "unscored": int(none_ok.sum()),
        "reason_unscored": "fewer than min_answered of the subscale's items answered",
        "per_score": {c: {"scored": int(present[:, j].sum()), "unscored_too_few_answered": int((~present[:, j]).sum())}
                      for j, c in enumerate(score_cols)},
    }
