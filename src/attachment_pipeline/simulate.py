"""Seeded simulator of adult-attachment questionnaire data with a known truth.

The generating model, in the order it is drawn:

1. **Latent dimensions.** Every respondent has a true attachment anxiety and a
   true avoidance z-score. Singles are bivariate normal with within-person
   correlation ``anxiety_avoidance_r``. The two partners of a couple are one
   4-variate normal draw of ``(A_anx, A_avo, B_anx, B_avo)`` whose covariance
   adds the *complementarity* correlation (one partner's anxiety with the
   other's avoidance, in both directions; hypothesis H1) and an optional
   *similarity* correlation (anxiety with anxiety, avoidance with avoidance).
2. **Covariates.** Gender (about 52/46/2 % female/male/other; partners mostly
   of different gender), age (18-75, partners within a few years) and
   relationship duration (0.5-45 years, log-normal, shared by the couple,
   correlated with age). Duration is drawn jointly with the couple's latent
   scores so that longer relationships go with lower anxiety and avoidance
   (hypothesis H8) while the latent covariance above stays exactly as set.
3. **Questionnaire items.** An ordinal-probit (normal-ogive graded response)
   model: the latent response to item *i* is
   ``y* = lambda_i * theta + sqrt(1 - lambda_i**2) * e`` with ``e ~ N(0, 1)``,
   cut at the item's increasing thresholds (Samejima, 1969; Takane & de Leeuw,
   1987). Thresholds are set so the mean item score is realistic for the
   ECR-R (anxiety about 3.5, avoidance about 2.9 on 1-7; Fraley, Waller &
   Brennan, 2000). Reverse-keyed items are stored reversed, as a respondent
   answers them.
4. **Minimiser/maximiser checklist** (Hendrix, 1988). A propensity
   ``p = minmax_anxiety * anxiety + minmax_avoidance * avoidance + noise``
   drives ticks (maximiser statement *k* ticked with probability
   ``logistic(a * p + b_k)``, minimiser statement with ``logistic(-a * p + b_k)``),
   agreement ratings 1-5 (an ordinal-logistic version of the same) or a forced
   choice per pair (2 = maximiser with probability ``logistic(a * p + b_k)``).
5. **Mess.** A share of item cells replaced by missing codes, a share left
   blank, and a few respondents who skip most items (not scorable).
6. **Children.** For some parents, a Strange Situation code (A/B/C/D) that
   matches the parent's true style (secure->B, dismissing->A, preoccupied->C,
   fearful->D) with probability ``transmission_rate`` and is otherwise one of
   the three other codes at random (van IJzendoorn, 1995).

Every random step draws from its own stream spawned from one
:class:`numpy.random.SeedSequence`, so the same seed and settings give the
same data (and, through :func:`write_cohort`, the same bytes), and item
parameters do not change when only the sample size changes. Nothing loops
over respondents.

Command line (see ``data/raw/demo/README.md``)::

    python -m attachment_pipeline.simulate demo --out data/raw/demo
    python -m attachment_pipeline.simulate ecr5 --out data/raw/ecr_5point
    python -m attachment_pipeline.simulate custom --out DIR --n-couples 0 \\
        --n-singles 50000 --instrument ecr --scale-max 5 --missing-codes 0 --no-id --seed 1

Example
-------
>>> cohort = simulate_cohort(SimulationSettings(n_couples=2, n_singles=1), seed=1)
>>> cohort.responses.shape
(5, 64)
>>> list(cohort.responses.columns[:6])
['respondent_id', 'couple_id', 'partner', 'gender', 'age', 'relationship_years']
>>> cohort.truth["true_style"].isin(STYLES).all()
np.True_
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

from attachment_pipeline.instruments import MINMAX_FORMATS, Instrument, load_instrument
from attachment_pipeline.vocabulary import STYLES

#: Seed of the shipped demo cohort (``data/raw/demo``); equal to ``seed`` in config/config.yaml.
DEMO_SEED = 20261124
#: Seed of the shipped 5-point ECR data set (``data/raw/ecr_5point``).
ECR5_SEED = 20261125

#: Concordant Strange Situation code of a parent style (seed 3.1-3.2; Main & Solomon, 1990).
CHILD_CODE = {"secure": "B", "dismissing": "A", "preoccupied": "C", "fearful": "D"}
SSP_CODES = ("A", "B", "C", "D")

LAYOUTS = ("pipeline", "openpsychometrics")
SIMILARITY_MECHANISMS = ("dimension", "profile")
_GENDERS = ("female", "male", "other")
_GENDER_P = (0.52, 0.46, 0.02)
#: Open Psychometrics gender coding: 1 = male, 2 = female, 3 = other.
_GENDER_CODE_OP = {"male": 1, "female": 2, "other": 3}
_STREAMS = ("items", "latent", "covariates", "responses", "minmax", "mess", "children")


@dataclass(frozen=True)
class SimulationSettings:
    """Parameters of one simulated cohort (all have documented defaults).

    Parameters
    ----------
    n_couples, n_singles : number of couples (two rows each) and of single respondents.
    instrument : ``"ecr_r"`` (Fraley et al., 2000) or ``"ecr"`` (Brennan et al., 1998).
    scale_min, scale_max : response scale of the questionnaire (default 1-7).
    anxiety_avoidance_r : within-person correlation of the two latent dimensions
        (published ECR-R values .2-.4).
    complementarity_r : correlation of one partner's latent anxiety with the
        other partner's latent avoidance (both directions).
    similarity_r : correlation of the partners' anxiety with each other and of
        their avoidance with each other (default 0).
    loading_min, loading_max : item loadings are drawn uniformly from this range.
    anxiety_mean, avoidance_mean : expected item mean (after reverse keying) on a
        1-7 metric; rescaled linearly to other response scales.
    minmax_format : ``"ticks"``, ``"likert"``, ``"forced_choice"`` or None (no checklist).
    minmax_anxiety, minmax_avoidance : weights of the latent dimensions in the
        minimiser(-)/maximiser(+) propensity.
    minmax_noise_sd : standard deviation of the propensity's own noise.
    minmax_discrimination : slope ``a`` of the checklist's logistic item model.
    missing_code_rate : share of questionnaire cells replaced by a missing code.
    missing_codes : the codes, chosen with equal probability; must lie outside the scale.
    skip_rate : share of item cells (questionnaire and checklist) left blank.
    n_sparse : respondents who answer only about a tenth of the questionnaire
        and nothing of the checklist, so they cannot be scored.
    id_column : name of the respondent id column, or None for no id column.
    n_children : number of parents (drawn among respondents) with a child record.
    transmission_rate : probability the child's code matches the parent's style.
    duration_r : correlation of the standardised log relationship duration with
        the couple's standardised sum of latent anxiety and avoidance (negative:
        longer relationships, more security).
    layout : ``"pipeline"`` (columns as in ``data/raw/demo``; without couples the
        columns couple_id, partner and relationship_years are left out) or
        ``"openpsychometrics"`` (``Q1..Qk``, gender coded 1/2/3, age; singles only).

    The remaining settings generate the realistic nulls of the calibration
    (:mod:`attachment_pipeline.calibrate`); their defaults leave the data unchanged.

    similarity_mechanism : how ``similarity_r`` arises. ``"dimension"``: partners
        correlate ``similarity_r`` on the same dimension and not at all across
        dimensions (beyond ``complementarity_r``). ``"profile"``: the whole
        profile is shared, the cross-partner block is ``similarity_r`` times the
        within-person correlation matrix, so one partner's anxiety correlates
        ``similarity_r * anxiety_avoidance_r`` with the other's avoidance without
        any complementarity (the null of the cross-partner path).
    couple_factor : loading ``lambda`` of all four latent scores of a couple on one
        shared couple-level factor (a shared insecurity nobody chose): scores are
        ``lambda g + sqrt(1 - lambda^2) e``, so every within-couple correlation rises.
    role_mean_difference : partner B's latent anxiety and avoidance means, and its
        min/max propensity (in its own SD), exceed partner A's by this many SD.
    minmax_similarity_r : correlation of the partners' own min/max propensity noise
        (negative: minimisers pair with maximisers).
    child_code_probs : probabilities of the codes A, B, C, D. When given, a child
        has the parent's concordant code with probability ``transmission_rate`` and
        otherwise a code drawn from these probabilities (``transmission_rate = 0``:
        children independent of parents). When None, the original model (concordant
        with probability ``transmission_rate``, else one of the other three).
    sibling_rate : share of the parents with a child record who have a second child.
    sibling_concordance : probability that a sibling has the first child's code
        (else drawn like a first child).
    two_parent_rate : share of the parents in couples whose partner also has a
        record, of a sibling (same rules), so the family has two parents.
    """

    n_couples: int = 150
    n_singles: int = 100
    instrument: str = "ecr_r"
    scale_min: int = 1
    scale_max: int = 7
    anxiety_avoidance_r: float = 0.30
    complementarity_r: float = 0.25
    similarity_r: float = 0.0
    loading_min: float = 0.60
    loading_max: float = 0.85
    anxiety_mean: float = 3.5
    avoidance_mean: float = 2.9
    minmax_format: str | None = "ticks"
    minmax_anxiety: float = 0.5
    minmax_avoidance: float = -0.5
    minmax_noise_sd: float = 0.8
    minmax_discrimination: float = 1.5
    missing_code_rate: float = 0.01
    missing_codes: tuple[int, ...] = (-1, 99)
    skip_rate: float = 0.005
    n_sparse: int = 3
    id_column: str | None = "respondent_id"
    n_children: int = 0
    transmission_rate: float = 0.70
    duration_r: float = -0.25
    layout: str = "pipeline"
    similarity_mechanism: str = "dimension"
    couple_factor: float = 0.0
    role_mean_difference: float = 0.0
    minmax_similarity_r: float = 0.0
    child_code_probs: tuple | None = None
    sibling_rate: float = 0.0
    sibling_concordance: float = 0.0
    two_parent_rate: float = 0.0

    def __post_init__(self):
        # normalise missing_codes to a tuple of ints so settings stay hashable
        object.__setattr__(self, "missing_codes", tuple(int(c) for c in self.missing_codes))
        if self.child_code_probs is not None:
            object.__setattr__(self, "child_code_probs", tuple(float(v) for v in self.child_code_probs))
        check_settings(self)

    @property
    def n_respondents(self) -> int:
        return 2 * self.n_couples + self.n_singles


def check_settings(settings: SimulationSettings) -> None:
    """Raise ValueError naming the first invalid setting.

    >>> check_settings(SimulationSettings())
    >>> SimulationSettings(skip_rate=1.5)
    Traceback (most recent call last):
    ...
    ValueError: skip_rate must be in [0, 1), got 1.5.
    """
    s = settings
    for name in ("n_couples", "n_singles", "n_sparse", "n_children", "scale_min", "scale_max"):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {value!r}.")
    for name in ("n_couples", "n_singles", "n_sparse", "n_children"):
        if getattr(s, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(s, name)}.")
    if s.n_respondents < 1:
        raise ValueError("n_couples and n_singles are both 0: nothing to simulate.")
    if s.instrument not in ("ecr_r", "ecr"):
        raise ValueError(f"instrument must be 'ecr_r' or 'ecr', got {s.instrument!r}.")
    if s.scale_max - s.scale_min < 1:
        raise ValueError(f"scale_min ({s.scale_min}) must be below scale_max ({s.scale_max}).")
    if s.scale_max - s.scale_min > 20:
        raise ValueError(f"response scale {s.scale_min}-{s.scale_max} has more than 21 points.")
    for name in ("anxiety_avoidance_r", "complementarity_r", "similarity_r", "duration_r"):
        if not -1 < getattr(s, name) < 1:
            raise ValueError(f"{name} must be strictly between -1 and 1, got {getattr(s, name)}.")
    if not 0 < s.loading_min <= s.loading_max < 1:
        raise ValueError(
            f"loadings must satisfy 0 < loading_min <= loading_max < 1, "
            f"got {s.loading_min} and {s.loading_max}."
        )
    for name in ("anxiety_mean", "avoidance_mean"):
        if not 1 < getattr(s, name) < 7:
            raise ValueError(f"{name} is on a 1-7 metric and must be strictly between 1 and 7, "
                             f"got {getattr(s, name)}.")
    if s.minmax_format is not None and s.minmax_format not in MINMAX_FORMATS:
        raise ValueError(f"minmax_format must be one of {MINMAX_FORMATS} or None, got {s.minmax_format!r}.")
    if s.minmax_noise_sd < 0 or s.minmax_discrimination < 0:
        raise ValueError("minmax_noise_sd and minmax_discrimination must be >= 0.")
    for name in ("missing_code_rate", "skip_rate"):
        if not 0 <= getattr(s, name) < 1:
            raise ValueError(f"{name} must be in [0, 1), got {getattr(s, name)}.")
    if s.missing_code_rate > 0 and not s.missing_codes:
        raise ValueError("missing_code_rate > 0 needs at least one missing code.")
    inside = [c for c in s.missing_codes if s.scale_min <= c <= s.scale_max]
    if inside:
        raise ValueError(f"missing codes {inside} lie inside the response scale "
                         f"{s.scale_min}-{s.scale_max}; they would be valid answers.")
    if s.similarity_mechanism not in SIMILARITY_MECHANISMS:
        raise ValueError(f"similarity_mechanism must be one of {SIMILARITY_MECHANISMS}, got {s.similarity_mechanism!r}.")
    if not 0 <= s.couple_factor < 1:
        raise ValueError(f"couple_factor must be in [0, 1), got {s.couple_factor}.")
    if not -1 < s.minmax_similarity_r < 1:
        raise ValueError(f"minmax_similarity_r must be strictly between -1 and 1, got {s.minmax_similarity_r}.")
    for name in ("sibling_rate", "sibling_concordance", "two_parent_rate"):
        if not 0 <= getattr(s, name) <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {getattr(s, name)}.")
    if s.child_code_probs is not None:
        probs = np.asarray(s.child_code_probs, dtype=float)
        if probs.shape != (4,) or np.any(probs < 0) or abs(probs.sum() - 1) > 1e-9:
            raise ValueError(f"child_code_probs must be four probabilities (codes A, B, C, D) summing to 1, "
                             f"got {s.child_code_probs!r}.")
    couple_covariance(s.anxiety_avoidance_r, s.complementarity_r, s.similarity_r,
                      s.similarity_mechanism)  # PD check
    if s.n_sparse > s.n_respondents:
        raise ValueError(f"n_sparse ({s.n_sparse}) exceeds the number of respondents ({s.n_respondents}).")
    if s.n_children > s.n_respondents:
        raise ValueError(f"n_children ({s.n_children}) exceeds the number of respondents "
                         f"({s.n_respondents}).")
    if not 0 <= s.transmission_rate <= 1:
        raise ValueError(f"transmission_rate must be in [0, 1], got {s.transmission_rate}.")
    if s.layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {s.layout!r}.")
    if s.layout == "openpsychometrics" and (s.n_couples or s.minmax_format is not None):
        raise ValueError("layout 'openpsychometrics' has singles only and no checklist: "
                         "set n_couples=0 and minmax_format=None.")
    if s.id_column is not None and not str(s.id_column).strip():
        raise ValueError("id_column must be a non-empty name or None.")
    reserved = {"couple_id", "partner", "gender", "age", "relationship_years"}
    if s.id_column in reserved or re.fullmatch(r"(ecr_|mm_|Q)\d+", s.id_column or ""):
        raise ValueError(f"id_column {s.id_column!r} clashes with another column of the export; "
                         f"choose another name (e.g. 'respondent_id').")


# ---------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class ItemParameters:
    """Ordinal-probit parameters of the questionnaire items (keyed direction).

    ``loadings`` has one value per item, ``thresholds`` one increasing row of
    ``scale_max - scale_min`` cut points per item, on the latent-response scale.
    """

    loadings: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class SimulatedCohort:
    """One simulated cohort: the raw export, the child records and the truth.

    ``responses`` looks like a raw export (item columns hold answers, missing
    codes or ``<NA>`` for blanks). ``children`` has ``parent_id, child_id,
    ssp_code, child_age_months`` (empty without children). ``truth`` has one row
    per respondent, in the order of ``responses``: ``respondent_id`` (the id
    string, or the 1-based row number when there is no id column), ``couple_id``,
    ``partner``, ``anxiety``, ``avoidance`` (true z-scores), ``minmax_propensity``,
    ``true_style`` (true quadrant) and ``sparse_respondent`` (skipped most items).
    """

    settings: SimulationSettings
    seed: int
    responses: pd.DataFrame
    children: pd.DataFrame
    truth: pd.DataFrame
    item_parameters: ItemParameters


# ---------------------------------------------------------------------------
# latent model


def couple_covariance(anxiety_avoidance_r: float, complementarity_r: float,
                      similarity_r: float = 0.0, mechanism: str = "dimension") -> np.ndarray:
    """Correlation matrix of ``(A_anx, A_avo, B_anx, B_avo)`` for one couple.

    Within person: ``anxiety_avoidance_r``; across partners: anxiety with the
    other's avoidance ``complementarity_r`` (both directions), same dimension
    ``similarity_r``; with ``mechanism="profile"`` the cross-partner block is
    ``similarity_r * R + complementarity_r * J`` (R the within-person correlation
    matrix, J the 2 x 2 matrix with ones off the diagonal): similarity of the whole
    profile also links one partner's anxiety with the other's avoidance. With the
    default mechanism the eigenvalues are ``1 + r + s + c``, ``1 + r - s - c``,
    ``1 - r + s - c`` and ``1 - r - s + c`` (r within person, c complementarity,
    s similarity); raises ValueError when the smallest is not positive.

    >>> couple_covariance(0.3, 0.25)[0]
    array([1.  , 0.3 , 0.  , 0.25])
    >>> couple_covariance(0.9, -0.9)
    Traceback (most recent call last):
    ...
    ValueError: The couple correlation matrix is not positive definite (smallest eigenvalue -0.8000) for anxiety_avoidance_r=0.9, complementarity_r=-0.9, similarity_r=0.0; reduce the correlations.
    """
    r, c, s = anxiety_avoidance_r, complementarity_r, similarity_r
    if mechanism not in SIMILARITY_MECHANISMS:
        raise ValueError(f"mechanism must be one of {SIMILARITY_MECHANISMS}, got {mechanism!r}.")
    if mechanism == "profile":
        c = c + s * r
    cov = np.array([[1.0, r, s, c],
                    [r, 1.0, c, s],
                    [s, c, 1.0, r],
                    [c, s, r, 1.0]])
    smallest = float(np.linalg.eigvalsh(cov).min())
    if smallest <= 1e-10:
        raise ValueError(
            f"The couple correlation matrix is not positive definite (smallest eigenvalue "
            f"{smallest:.4f}) for anxiety_avoidance_r={r}, complementarity_r={c}, "
            f"similarity_r={s}; reduce the correlations."
        )
    return cov


def _id_strings(prefix: str, n: int, min_width: int) -> np.ndarray:
    width = max(min_width, len(str(n)))
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)


def simulate_latent(settings: SimulationSettings, rng: np.random.Generator) -> pd.DataFrame:
    """True anxiety and avoidance z-scores per respondent, with the couple structure.

    Couples: ``(A_anx, A_avo, B_anx, B_avo) ~ N(0, Sigma)`` with Sigma from
    :func:`couple_covariance`; singles: ``(anx, avo) ~ N(0, [[1, r], [r, 1]])``.
    Rows are the couples' partners A and B in couple order, then the singles.
    Columns: ``couple`` (0-based couple number, -1 for singles), ``partner``
    (``"A"``, ``"B"`` or ``""``), ``anxiety``, ``avoidance``, and
    ``duration_z`` (the couple's standardised log relationship duration,
    drawn jointly: ``z = duration_r * S + sqrt(1 - duration_r**2) * e`` with S the
    standardised sum of the couple's four latent scores; NaN for singles).

    >>> lat = simulate_latent(SimulationSettings(n_couples=1, n_singles=1), np.random.default_rng(0))
    >>> lat[["couple", "partner"]].values.tolist()
    [[0, 'A'], [0, 'B'], [-1, '']]
    """
    s = settings
    cov = couple_covariance(s.anxiety_avoidance_r, s.complementarity_r, s.similarity_r, s.similarity_mechanism)
    chol = np.linalg.cholesky(cov)
    z = rng.standard_normal((s.n_couples, 4)) @ chol.T
    if s.couple_factor > 0:  # a shared couple-level factor on all four scores (variances stay 1)
        lam = s.couple_factor
        z = lam * rng.standard_normal((s.n_couples, 1)) + np.sqrt(1 - lam ** 2) * z
        cov = lam ** 2 + (1 - lam ** 2) * cov
    sum_sd = np.sqrt(cov.sum())
    insecurity = z.sum(axis=1) / sum_sd
    duration = s.duration_r * insecurity + np.sqrt(1 - s.duration_r ** 2) * rng.standard_normal(s.n_couples)
    r = s.anxiety_avoidance_r
    e = rng.standard_normal((s.n_singles, 2))
    singles = np.column_stack([e[:, 0], r * e[:, 0] + np.sqrt(1 - r ** 2) * e[:, 1]])
    if s.role_mean_difference:
        z[:, 2:] += s.role_mean_difference
    couples = z.reshape(2 * s.n_couples, 2)  # rows A, B of each couple
    n_c = 2 * s.n_couples
    return pd.DataFrame({
        "couple": np.concatenate([np.repeat(np.arange(s.n_couples), 2),
                                  np.full(s.n_singles, -1)]).astype(np.int64),
        "partner": np.concatenate([np.tile(np.array(["A", "B"], dtype=object), s.n_couples),
                                   np.full(s.n_singles, "", dtype=object)]),
        "anxiety": np.concatenate([couples[:, 0], singles[:, 0]]),
        "avoidance": np.concatenate([couples[:, 1], singles[:, 1]]),
        "duration_z": np.concatenate([np.repeat(duration, 2), np.full(s.n_singles, np.nan)])
        if n_c else np.full(s.n_singles, np.nan),
    })


def true_style(anxiety, avoidance) -> np.ndarray:
    """Adult style from the latent quadrant (cut at 0; Bartholomew & Horowitz, 1991).

    secure: anxiety <= 0 and avoidance <= 0; preoccupied: anxiety > 0, avoidance <= 0;
    dismissing: anxiety <= 0, avoidance > 0; fearful: both > 0.

    >>> true_style([-1, 1, -1, 1], [-1, -1, 1, 1]).tolist()
    ['secure', 'preoccupied', 'dismissing', 'fearful']
    """
    anx = np.asarray(anxiety, dtype=float) > 0
    avo = np.asarray(avoidance, dtype=float) > 0
    return np.array(STYLES, dtype=object)[anx.astype(int) + 2 * avo.astype(int)]


# ---------------------------------------------------------------------------
# questionnaire items


def expected_score(thresholds: np.ndarray, scale_min: int = 1) -> np.ndarray:
    """Expected item score when the latent response is N(0, 1).

    ``E[x] = scale_min + sum_k Phi(-tau_k)`` over an item's thresholds ``tau_k``.

    >>> float(expected_score(np.array([[-1.0, 0.0, 1.0]]), 1)[0])
    2.5
    """
    return scale_min + special.ndtr(-np.atleast_2d(thresholds)).sum(axis=1)


def item_parameters(settings: SimulationSettings, rng: np.random.Generator) -> ItemParameters:
    """Draw loadings and thresholds of the questionnaire items (keyed direction).

    Loadings ~ U(loading_min, loading_max). Thresholds of item *i*:
    ``tau_ik = spread_i * Phi^-1(k / K) + delta_i + shift_s`` (K categories;
    spread ~ U(0.85, 1.15), delta ~ N(0, 0.25)) with the subscale shift solved
    (Brent's method) so that the subscale's mean expected item score equals
    ``anxiety_mean`` or ``avoidance_mean``, rescaled from 1-7 to the scale.

    >>> p = item_parameters(SimulationSettings(), np.random.default_rng(0))
    >>> p.thresholds.shape
    (36, 6)
    >>> inst = load_instrument("ecr_r")
    >>> round(float(expected_score(p.thresholds[:18]).mean()), 6)
    3.5
    """
    s = settings
    inst = load_instrument(s.instrument)
    n_items = inst.n_items
    k = s.scale_max - s.scale_min + 1
    loadings = rng.uniform(s.loading_min, s.loading_max, n_items)
    spread = rng.uniform(0.85, 1.15, n_items)
    delta = rng.normal(0.0, 0.25, n_items)
    base = special.ndtri(np.arange(1, k) / k)
    raw = spread[:, None] * base[None, :] + delta[:, None]
    thresholds = np.empty_like(raw)
    for subscale, target17 in (("anxiety", s.anxiety_mean), ("avoidance", s.avoidance_mean)):
        rows = np.array(inst.subscale_items(subscale)) - 1
        target = s.scale_min + (target17 - 1) / 6 * (k - 1)
        shift = optimize.brentq(
            lambda d: expected_score(raw[rows] + d, s.scale_min).mean() - target, -15, 15, xtol=1e-12)
        thresholds[rows] = raw[rows] + shift
    return ItemParameters(loadings=loadings, thresholds=thresholds)


def graded_responses(theta, loadings, thresholds, rng: np.random.Generator,
                     scale_min: int = 1, scale_max: int = 7, theta_index=None) -> np.ndarray:
    """Ordinal responses from a normal-ogive graded response model.

    Latent response ``y*_ij = lambda_j * theta_ij + sqrt(1 - lambda_j**2) * e_ij``
    with ``e ~ N(0, 1)``; the answer is ``scale_min + #{k: y*_ij > tau_jk}``
    (Samejima, 1969, in its ordinal-probit form; Takane & de Leeuw, 1987).
    Answers are in the keyed direction (reverse keying is applied by the caller).

    Parameters
    ----------
    theta : (n,) latent scores shared by all items, (n, n_items) one column per
        item, or (n, m) with ``theta_index`` naming each item's column.
    loadings : (n_items,) values in (0, 1).
    thresholds : (n_items, scale_max - scale_min) increasing cut points.
    rng : numpy Generator; one normal draw per cell, item by item.
    theta_index : optional (n_items,) column of ``theta`` measured by each item.

    Returns
    -------
    (n, n_items) int8 array (int16 when the scale needs it).

    >>> x = graded_responses(np.zeros(4), [0.7, 0.7], [[-9, 9], [-9, -8]], np.random.default_rng(0), 1, 3)
    >>> x.tolist()
    [[2, 3], [2, 3], [2, 3], [2, 3]]
    """
    loadings = np.asarray(loadings, dtype=float)
    thresholds = np.atleast_2d(np.asarray(thresholds, dtype=float))
    theta = np.asarray(theta, dtype=float)
    n_items = loadings.shape[0]
    if np.any((loadings <= -1) | (loadings >= 1)):
        raise ValueError("loadings must lie strictly between -1 and 1.")
    if thresholds.shape != (n_items, scale_max - scale_min):
        raise ValueError(f"thresholds must have shape ({n_items}, {scale_max - scale_min}) "
                         f"for {n_items} items on {scale_min}-{scale_max}, got {thresholds.shape}.")
    if np.any(np.diff(thresholds, axis=1) < 0):
        raise ValueError("each item's thresholds must be increasing.")
    if theta.ndim == 1:
        theta = theta[:, None]
    if theta_index is None:
        if theta.ndim != 2 or theta.shape[1] not in (1, n_items):
            raise ValueError(f"theta must have shape (n,) or (n, {n_items}), got {theta.shape}.")
        theta_index = np.zeros(n_items, dtype=np.int64) if theta.shape[1] == 1 else np.arange(n_items)
    else:
        theta_index = np.asarray(theta_index, dtype=np.int64)
        if theta.ndim != 2 or theta_index.shape != (n_items,) or theta_index.min() < 0 \
                or theta_index.max() >= theta.shape[1]:
            raise ValueError(f"theta_index must give, for each of the {n_items} items, a column "
                             f"of theta (shape {theta.shape}).")
    theta = np.asfortranarray(theta)
    n = theta.shape[0]
    dtype = np.int8 if max(abs(scale_min), abs(scale_max)) < 100 else np.int16
    out = np.empty((n, n_items), dtype=dtype)
    unique = np.sqrt(1.0 - loadings ** 2)
    for j in range(n_items):  # loop over items, vectorised over respondents
        t = theta[:, theta_index[j]]
        ystar = loadings[j] * t + unique[j] * rng.standard_normal(n)
        out[:, j] = scale_min + np.searchsorted(thresholds[j], ystar, side="left")
    return out


def questionnaire_responses(latent: pd.DataFrame, instrument: Instrument, params: ItemParameters,
                            rng: np.random.Generator, scale_min: int, scale_max: int) -> np.ndarray:
    """Answers to every item of ``instrument`` as stored (reverse-keyed items reversed).

    Item *i* measures the latent column of its subscale; reverse-keyed answers
    are stored as ``scale_min + scale_max - x``.

    >>> inst = load_instrument("ecr_r")
    >>> lat = pd.DataFrame({"anxiety": [3.0], "avoidance": [3.0]})
    >>> p = ItemParameters(np.full(36, 0.99), np.tile(np.linspace(-1, 1, 6), (36, 1)))
    >>> x = questionnaire_responses(lat, inst, p, np.random.default_rng(0), 1, 7)
    >>> x[0, 0], x[0, 8]   # item 9 is reverse keyed
    (np.int8(7), np.int8(1))
    """
    subscale_col = np.array([0 if it.subscale == "anxiety" else 1 for it in instrument.items])
    theta = latent[["anxiety", "avoidance"]].to_numpy(dtype=float)
    x = graded_responses(theta, params.loadings, params.thresholds, rng, scale_min, scale_max,
                         theta_index=subscale_col)
    rev = np.array([it.reverse for it in instrument.items])
    x[:, rev] = scale_min + scale_max - x[:, rev]
    return x


# ---------------------------------------------------------------------------
# minimiser / maximiser checklist


def minmax_propensity(anxiety, avoidance, settings: SimulationSettings,
                      rng: np.random.Generator) -> np.ndarray:
    """Latent maximiser(+)/minimiser(-) propensity.

    ``p = minmax_anxiety * anxiety + minmax_avoidance * avoidance + minmax_noise_sd * e``,
    ``e ~ N(0, 1)`` (seed 3.4: the avoidant minimise, the preoccupied maximise). For
    the couples (the first ``2 n_couples`` rows, partners A, B), partner B's ``e``
    correlates ``minmax_similarity_r`` with A's, and with ``role_mean_difference`` d
    partner B's propensity is d SD higher than A's in all.

    >>> s = SimulationSettings(minmax_noise_sd=0.0)
    >>> minmax_propensity([1.0], [-1.0], s, np.random.default_rng(0)).tolist()
    [1.0]
    """
    anx = np.asarray(anxiety, dtype=float)
    avo = np.asarray(avoidance, dtype=float)
    noise = rng.standard_normal(anx.shape[0])
    s = settings
    n_c = 2 * s.n_couples if anx.shape[0] == s.n_respondents else 0
    if n_c and s.minmax_similarity_r:  # partner B's noise correlates with partner A's
        rho = s.minmax_similarity_r
        noise[1:n_c:2] = rho * noise[0:n_c:2] + np.sqrt(1 - rho ** 2) * noise[1:n_c:2]
    out = s.minmax_anxiety * anx + s.minmax_avoidance * avo + s.minmax_noise_sd * noise
    if n_c and s.role_mean_difference:  # in the propensity's own SD, beyond what the dimensions carry
        out[1:n_c:2] -= (s.minmax_anxiety + s.minmax_avoidance) * s.role_mean_difference
        sd = np.sqrt(s.minmax_anxiety ** 2 + s.minmax_avoidance ** 2
                     + 2 * s.minmax_anxiety * s.minmax_avoidance * s.anxiety_avoidance_r + s.minmax_noise_sd ** 2)
        out[1:n_c:2] += s.role_mean_difference * sd
    return out


def minmax_responses(propensity, response_format: str, rng: np.random.Generator,
                     discrimination: float = 1.5) -> np.ndarray:
    """Answers to the Hendrix checklist (11 pairs) given the propensity.

    Statement intercepts ``b_k ~ N(-0.2, 0.4)`` (22 values, drawn first).
    ``ticks``: 22 columns 0/1, maximiser statement *k* (items 12-22) ticked with
    probability ``logistic(a*p + b_k)``, minimiser statement (items 1-11) with
    ``logistic(-a*p + b_k)``. ``likert``: the same 22 statements rated 1-5,
    ``1 + #{c: +-a*p + b_k + L > c}`` for cut points c = -1.5, -0.5, 0.5, 1.5 and
    standard logistic noise L. ``forced_choice``: 11 columns, 2 (maximiser
    statement fits better) with probability ``logistic(a*p + b_k)``, else 1.

    >>> minmax_responses(np.array([9.0, -9.0]), "forced_choice", np.random.default_rng(0), 5).tolist()[0][:4]
    [2, 2, 2, 2]
    """
    p = np.asarray(propensity, dtype=float)[:, None]
    n = p.shape[0]
    b = rng.normal(-0.2, 0.4, 22)
    sign = np.concatenate([-np.ones(11), np.ones(11)])
    a = discrimination
    if response_format == "ticks":
        prob = (a * p) * sign  # in place below: keeps memory at two n x 22 arrays
        prob += b
        special.expit(prob, out=prob)
        return (rng.random((n, 22)) < prob).astype(np.int8)
    if response_format == "likert":
        eta = a * p * sign + b + rng.logistic(size=(n, 22))
        cuts = np.array([-1.5, -0.5, 0.5, 1.5])
        out = np.ones((n, 22), dtype=np.int8)
        for c in cuts:  # loop over 4 cut points
            out += eta > c
        return out
    if response_format == "forced_choice":
        prob = special.expit(a * p + b[11:])
        return (1 + (rng.random((n, 11)) < prob)).astype(np.int8)
    raise ValueError(f"response_format must be one of {MINMAX_FORMATS}, got {response_format!r}.")


# ---------------------------------------------------------------------------
# covariates, mess, children


def simulate_covariates(latent: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Gender, age and relationship duration per respondent.

    Gender ~ female/male/other 52/46/2 %; partner B has the other binary gender
    with probability .90 (same .08, other .02) when A is female or male.
    Duration (couples) = ``clip(exp(log 7 + 0.85 * duration_z), 0.5, 45)`` years,
    1 decimal, shared by the couple. Age: couples
    ``max(18 + years + Gamma(2, 4) + N(0, 2.5), 18 + years)`` per partner, singles
    ``18 + 57 * Beta(1.5, 2.5)``; rounded, clipped to 18-75.

    >>> lat = simulate_latent(SimulationSettings(n_couples=2, n_singles=0), np.random.default_rng(0))
    >>> cov = simulate_covariates(lat, np.random.default_rng(1))
    >>> list(cov.columns), bool(cov["relationship_years"].iloc[0] == cov["relationship_years"].iloc[1])
    (['gender', 'age', 'relationship_years'], True)
    """
    is_couple = latent["couple"].to_numpy() >= 0
    n = len(latent)
    n_c = int(is_couple.sum()) // 2
    genders = np.array(_GENDERS, dtype=object)
    g = rng.choice(3, size=n, p=_GENDER_P)
    # partner B: other binary gender with .90, same .08, other .02 (when A is binary)
    a_idx = np.flatnonzero(is_couple)[0::2]
    b_idx = a_idx + 1
    u = rng.random(n_c)
    ga = g[a_idx]
    other_binary = 1 - ga  # female(0) <-> male(1)
    gb = np.where(u < 0.90, other_binary, np.where(u < 0.98, ga, 2))
    g[b_idx] = np.where(ga == 2, g[b_idx], gb)
    years = np.full(n, np.nan)
    dz = latent["duration_z"].to_numpy()[a_idx]
    y = np.round(np.clip(np.exp(np.log(7.0) + 0.85 * dz), 0.5, 45.0), 1)
    years[a_idx] = y
    years[b_idx] = y
    age = np.empty(n)
    base = 18 + y + rng.gamma(2.0, 4.0, n_c)
    age[a_idx] = base + rng.normal(0, 2.5, n_c)
    age[b_idx] = base + rng.normal(0, 2.5, n_c)
    age[a_idx] = np.maximum(np.round(age[a_idx]), np.ceil(18 + y))  # relationships begin at 18+
    age[b_idx] = np.maximum(np.round(age[b_idx]), np.ceil(18 + y))
    singles = np.flatnonzero(~is_couple)
    age[singles] = 18 + 57 * rng.beta(1.5, 2.5, singles.size)
    age = np.clip(np.round(age), 18, 75).astype(np.int64)
    return pd.DataFrame({"gender": genders[g], "age": age, "relationship_years": years})


def missing_masks(shape, code_rate: float, skip_rate: float, n_codes: int,
                  rng: np.random.Generator):
    """Cells to replace by a missing code, which code, and cells to blank.

    Each cell independently: a missing code with probability ``code_rate``
    (code index uniform over ``n_codes``), otherwise blank with probability
    ``skip_rate / (1 - code_rate)``, so the blank share is ``skip_rate``.

    Returns ``(code_mask, code_index, blank_mask)``.

    >>> c, i, b = missing_masks((1000, 50), 0.1, 0.05, 2, np.random.default_rng(0))
    >>> bool(abs(c.mean() - 0.1) < 0.01), bool(abs(b.mean() - 0.05) < 0.01), bool((c & b).any())
    (True, True, False)
    """
    u = rng.random(shape, dtype=np.float32)
    code = u < code_rate
    blank = u < code_rate + skip_rate
    blank &= ~code
    idx = np.zeros(shape, dtype=np.int8 if n_codes < 128 else np.int64)
    if code_rate > 0:
        idx[code] = np.minimum((u[code] / code_rate * n_codes).astype(np.int64), n_codes - 1)
    return code, idx, blank


def simulate_children(parent_ids: np.ndarray, styles: np.ndarray, n_children: int,
                      transmission_rate: float, rng: np.random.Generator) -> pd.DataFrame:
    """Child Strange Situation records for ``n_children`` parents drawn without replacement.

    The child's code is the parent's concordant code (secure->B, dismissing->A,
    preoccupied->C, fearful->D) with probability ``transmission_rate``, else one
    of the other three codes with equal probability. Age 12-20 months, uniform.
    Rows follow the parents' order in the responses; child ids K0001, K0002, ...

    >>> ch = simulate_children(np.array(["R1", "R2"]), np.array(["secure", "fearful"]), 2, 1.0,
    ...                        np.random.default_rng(0))
    >>> ch["ssp_code"].tolist()
    ['B', 'D']
    """
    if n_children > len(parent_ids):
        raise ValueError(f"n_children ({n_children}) exceeds the number of parents ({len(parent_ids)}).")
    rows = np.sort(rng.choice(len(parent_ids), size=n_children, replace=False))
    codes = np.array(SSP_CODES, dtype=object)
    concordant = np.array([SSP_CODES.index(CHILD_CODE[s]) for s in STYLES])
    lookup = {s: i for i, s in enumerate(STYLES)}
    sidx = np.array([lookup[s] for s in np.asarray(styles, dtype=object)[rows]], dtype=np.int64) \
        if n_children else np.zeros(0, dtype=np.int64)
    conc = concordant[sidx]
    match = rng.random(n_children) < transmission_rate
    offset = rng.integers(1, 4, n_children)  # one of the three other codes
    code = np.where(match, conc, (conc + offset) % 4)
    return pd.DataFrame({
        "parent_id": np.asarray(parent_ids, dtype=object)[rows],
        "child_id": _id_strings("K", n_children, 4) if n_children else np.zeros(0, dtype=object),
        "ssp_code": codes[code],
        "child_age_months": rng.integers(12, 21, n_children).astype(np.int64),
    })


def simulate_families(parent_ids: np.ndarray, styles: np.ndarray, partner: np.ndarray,
                      settings: SimulationSettings, rng: np.random.Generator) -> pd.DataFrame:
    """Child records with families: siblings and both partners of a couple as parents.

    ``n_children`` first parents are drawn without replacement; each has one child
    whose code is the parent's concordant code with probability
    ``transmission_rate`` and otherwise drawn from ``child_code_probs`` (the
    original three-other-codes rule when that is None). With probability
    ``sibling_rate`` the parent has a second child, and with ``two_parent_rate`` a
    parent in a couple has a partner with a record of another child; such siblings
    have the first child's code with probability ``sibling_concordance`` and are
    otherwise drawn like a first child (given their own parent's style). Ages
    12-20 months. ``partner`` gives each respondent's partner row (-1 for none).

    >>> s = SimulationSettings(n_couples=3, n_singles=0, n_children=2, two_parent_rate=1.0,
    ...                        child_code_probs=(0.25, 0.25, 0.25, 0.25))
    >>> ch = simulate_families(np.array(["R1", "R2", "R3", "R4", "R5", "R6"]), np.array(["secure"] * 6),
    ...                        np.array([1, 0, 3, 2, 5, 4]), s, np.random.default_rng(0))
    >>> len(ch), ch["child_id"].is_unique
    (4, True)
    """
    s = settings
    n = len(parent_ids)
    if s.n_children > n:
        raise ValueError(f"n_children ({s.n_children}) exceeds the number of parents ({n}).")
    concordant = np.array([SSP_CODES.index(CHILD_CODE[v]) for v in STYLES])
    lookup = {v: i for i, v in enumerate(STYLES)}
    sidx = np.array([lookup[v] for v in np.asarray(styles, dtype=object)], dtype=np.int64)

    def draw(parent_rows):
        conc = concordant[sidx[parent_rows]]
        match = rng.random(len(parent_rows)) < s.transmission_rate
        if s.child_code_probs is None:
            other = (conc + rng.integers(1, 4, len(parent_rows))) % 4
        else:
            other = rng.choice(4, size=len(parent_rows), p=np.asarray(s.child_code_probs))
        return np.where(match, conc, other)

    first = np.sort(rng.choice(n, size=s.n_children, replace=False))
    code1 = draw(first)
    sib = rng.random(s.n_children) < s.sibling_rate
    code_sib = np.where(rng.random(s.n_children) < s.sibling_concordance, code1, draw(first))
    mate = partner[first]
    taken = np.zeros(n, dtype=bool)
    taken[first] = True
    two = (rng.random(s.n_children) < s.two_parent_rate) & (mate >= 0)
    two &= ~taken[np.where(mate >= 0, mate, 0)]
    # a partner already chosen as a first parent keeps only its own record
    mate_rows = mate[two]
    _, keep = np.unique(mate_rows, return_index=True)
    two_idx = np.flatnonzero(two)[np.sort(keep)]
    code_mate = np.where(rng.random(len(two_idx)) < s.sibling_concordance, code1[two_idx], draw(mate[two_idx]))
    parents = np.concatenate([first, first[sib], mate[two_idx]])
    codes = np.concatenate([code1, code_sib[sib], code_mate])
    order = np.argsort(parents, kind="stable")
    parents, codes = parents[order], codes[order]
    m = len(parents)
    return pd.DataFrame({
        "parent_id": np.asarray(parent_ids, dtype=object)[parents],
        "child_id": _id_strings("K", m, 4) if m else np.zeros(0, dtype=object),
        "ssp_code": np.array(SSP_CODES, dtype=object)[codes],
        "child_age_months": rng.integers(12, 21, m).astype(np.int64),
    })


# ---------------------------------------------------------------------------
# the cohort


def _int_column(values: np.ndarray, blank: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.ascontiguousarray(values), np.ascontiguousarray(blank))


def simulate_cohort(settings: SimulationSettings, seed: int) -> SimulatedCohort:
    """Simulate one cohort (see the module docstring for the model).

    >>> a = simulate_cohort(SimulationSettings(n_couples=3, n_singles=4, n_children=2), seed=5)
    >>> b = simulate_cohort(SimulationSettings(n_couples=3, n_singles=4, n_children=2), seed=5)
    >>> a.responses.equals(b.responses), len(a.children)
    (True, 2)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    s = settings
    streams = dict(zip(_STREAMS, (np.random.default_rng(c)
                                  for c in np.random.SeedSequence(int(seed)).spawn(len(_STREAMS)))))
    inst = load_instrument(s.instrument)
    params = item_parameters(s, streams["items"])
    latent = simulate_latent(s, streams["latent"])
    n = len(latent)
    cov = simulate_covariates(latent, streams["covariates"])
    items = questionnaire_responses(latent, inst, params, streams["responses"], s.scale_min, s.scale_max)
    rng_mm = streams["minmax"]
    propensity = minmax_propensity(latent["anxiety"], latent["avoidance"], s, rng_mm)
    mm = (minmax_responses(propensity, s.minmax_format, rng_mm, s.minmax_discrimination)
          if s.minmax_format is not None else np.zeros((n, 0), dtype=np.int8))

    # mess: missing codes (questionnaire only), blanks (both), sparse respondents
    rng = streams["mess"]
    codes = np.array(s.missing_codes or (0,), dtype=np.int64)
    dtype = np.result_type(np.min_scalar_type(int(codes.min())), np.min_scalar_type(int(codes.max())),
                           np.min_scalar_type(s.scale_min), np.min_scalar_type(s.scale_max), np.int8)
    items = items.astype(dtype)
    code_mask, code_idx, blank = missing_masks(items.shape, s.missing_code_rate, s.skip_rate,
                                               len(codes), rng)
    items[code_mask] = codes[code_idx[code_mask]]
    mm_blank = rng.random(mm.shape, dtype=np.float32) < s.skip_rate
    sparse_rows = np.sort(rng.choice(n, size=s.n_sparse, replace=False))
    keep = max(1, int(np.ceil(0.1 * inst.n_items)))
    rank = np.argsort(rng.random((s.n_sparse, inst.n_items)), axis=1)
    sparse_blank = np.ones((s.n_sparse, inst.n_items), dtype=bool)
    np.put_along_axis(sparse_blank, rank[:, :keep], False, axis=1)
    blank[sparse_rows] = sparse_blank
    mm_blank[sparse_rows] = True
    sparse = np.zeros(n, dtype=bool)
    sparse[sparse_rows] = True

    # ids
    ids = _id_strings("R", n, 4)
    couple_no = latent["couple"].to_numpy()
    couple_ids = np.where(couple_no >= 0, np.char.add(
        "C", np.char.zfill((couple_no + 1).astype(str), max(3, len(str(s.n_couples))))).astype(object),
        None)
    partner = latent["partner"].to_numpy().astype(object)
    styles = true_style(latent["anxiety"], latent["avoidance"])

    cols: dict = {}
    if s.layout == "pipeline":
        if s.id_column is not None:
            cols[s.id_column] = ids
        if s.n_couples:  # a singles-only export has no couple columns
            cols["couple_id"] = couple_ids
            cols["partner"] = np.where(partner == "", None, partner)
        cols["gender"] = cov["gender"].to_numpy()
        cols["age"] = cov["age"].to_numpy()
        if s.n_couples:
            cols["relationship_years"] = cov["relationship_years"].to_numpy()
        item_names = [f"ecr_{i.n}" for i in inst.items]
        mm_names = [f"mm_{k + 1}" for k in range(mm.shape[1])]
    else:
        if s.id_column is not None:
            cols[s.id_column] = ids
        item_names = [f"Q{i.n}" for i in inst.items]
        mm_names = []
    for j, name in enumerate(item_names):
        cols[name] = _int_column(items[:, j], blank[:, j])
    for j, name in enumerate(mm_names):
        cols[name] = _int_column(mm[:, j], mm_blank[:, j])
    if s.layout == "openpsychometrics":
        cols["gender"] = np.array([_GENDER_CODE_OP[g] for g in _GENDERS], dtype=np.int64)[
            pd.Categorical(cov["gender"], categories=_GENDERS).codes]
        cols["age"] = cov["age"].to_numpy()
    responses = pd.DataFrame(cols)

    parent_ids = ids if s.id_column is not None else np.arange(1, n + 1)
    if s.child_code_probs is None and s.sibling_rate == 0 and s.two_parent_rate == 0:
        children = simulate_children(parent_ids, styles, s.n_children, s.transmission_rate,
                                     streams["children"])
    else:
        partner_row = np.full(n, -1, dtype=np.int64)
        n_c = 2 * s.n_couples
        partner_row[0:n_c:2] = np.arange(1, n_c, 2)
        partner_row[1:n_c:2] = np.arange(0, n_c, 2)
        children = simulate_families(parent_ids, styles, partner_row, s, streams["children"])
    if s.id_column is None:
        children["parent_id"] = children["parent_id"].astype(np.int64)
    truth = pd.DataFrame({
        "respondent_id": parent_ids,
        "couple_id": couple_ids,
        "partner": np.where(partner == "", None, partner),
        "anxiety": latent["anxiety"].to_numpy(),
        "avoidance": latent["avoidance"].to_numpy(),
        "minmax_propensity": propensity,
        "true_style": styles,
        "sparse_respondent": sparse,
    })
    return SimulatedCohort(settings=s, seed=int(seed), responses=responses, children=children,
                           truth=truth, item_parameters=params)


def write_cohort(cohort: SimulatedCohort, out_dir, truth: bool = False) -> list[Path]:
    """Write ``responses.csv`` (and ``children.csv`` when there are children).

    UTF-8 without BOM, ``\\n`` line ends, integers as integers, blanks as empty
    fields, floats with one decimal (``truth.csv``: six decimals), so the same
    seed and settings give the same bytes. Returns the paths written.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     s = SimulationSettings(n_couples=1, n_singles=0, n_sparse=0)
    ...     paths = write_cohort(simulate_cohort(s, 1), d)
    ...     [p.name for p in paths]
    ['responses.csv']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "responses.csv"]
    opts = dict(index=False, lineterminator="\n", encoding="utf-8", na_rep="")
    cohort.responses.to_csv(paths[0], float_format="%.1f", chunksize=100_000, **opts)
    if len(cohort.children):
        paths.append(out / "children.csv")
        cohort.children.to_csv(paths[-1], **opts)
    if truth:
        paths.append(out / "truth.csv")
        cohort.truth.to_csv(paths[-1], float_format="%.6f", chunksize=100_000, **opts)
    return paths


# ---------------------------------------------------------------------------
# shipped data sets and command line


def demo_settings() -> SimulationSettings:
    """Settings of the shipped demo cohort ``data/raw/demo`` (seed :data:`DEMO_SEED`).

    >>> demo_settings().n_respondents
    400
    """
    return SimulationSettings(n_couples=150, n_singles=100, instrument="ecr_r", scale_min=1, scale_max=7,
                              minmax_format="ticks", missing_code_rate=0.01, missing_codes=(-1, 99),
                              skip_rate=0.005, n_sparse=3, id_column="respondent_id", n_children=120)


def ecr5_settings() -> SimulationSettings:
    """Settings of ``data/raw/ecr_5point`` (seed :data:`ECR5_SEED`): ECR 1998, 1-5, 0 = missing.

    >>> ecr5_settings().layout
    'openpsychometrics'
    """
    return SimulationSettings(n_couples=0, n_singles=300, instrument="ecr", scale_min=1, scale_max=5,
                              minmax_format=None, missing_code_rate=0.02, missing_codes=(0,),
                              skip_rate=0.0, n_sparse=0, id_column=None, n_children=0,
                              layout="openpsychometrics")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m attachment_pipeline.simulate",
                                description="Simulate attachment questionnaire data with a known truth.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("demo", "regenerate data/raw/demo (seed %d)" % DEMO_SEED),
                       ("ecr5", "regenerate data/raw/ecr_5point (seed %d)" % ECR5_SEED)):
        q = sub.add_parser(name, help=text)
        q.add_argument("--out", required=True, help="output folder")
        q.add_argument("--truth", action="store_true", help="also write truth.csv (latent scores)")
    c = sub.add_parser("custom", help="any settings")
    c.add_argument("--out", required=True)
    c.add_argument("--seed", type=int, default=DEMO_SEED)
    c.add_argument("--n-couples", type=int, default=0)
    c.add_argument("--n-singles", type=int, default=1000)
    c.add_argument("--instrument", choices=("ecr_r", "ecr"), default="ecr_r")
    c.add_argument("--scale-min", type=int, default=1)
    c.add_argument("--scale-max", type=int, default=7)
    c.add_argument("--missing-codes", type=int, nargs="*", default=[-1, 99])
    c.add_argument("--missing-code-rate", type=float, default=0.01)
    c.add_argument("--skip-rate", type=float, default=0.005)
    c.add_argument("--n-sparse", type=int, default=0)
    c.add_argument("--n-children", type=int, default=0)
    c.add_argument("--minmax-format", choices=(*MINMAX_FORMATS, "none"), default="ticks")
    c.add_argument("--no-id", action="store_true", help="no respondent id column")
    c.add_argument("--layout", choices=LAYOUTS, default="pipeline")
    c.add_argument("--anxiety-avoidance-r", type=float, default=0.30)
    c.add_argument("--complementarity-r", type=float, default=0.25)
    c.add_argument("--transmission-rate", type=float, default=0.70)
    c.add_argument("--truth", action="store_true", help="also write truth.csv (latent scores)")
    return p


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            settings, seed = demo_settings(), DEMO_SEED
        elif args.command == "ecr5":
            settings, seed = ecr5_settings(), ECR5_SEED
        else:
            settings = SimulationSettings(
                n_couples=args.n_couples, n_singles=args.n_singles, instrument=args.instrument,
                scale_min=args.scale_min, scale_max=args.scale_max,
                missing_codes=tuple(args.missing_codes),
                missing_code_rate=args.missing_code_rate if args.missing_codes else 0.0,
                skip_rate=args.skip_rate, n_sparse=args.n_sparse, n_children=args.n_children,
                minmax_format=None if args.minmax_format == "none" else args.minmax_format,
                id_column=None if args.no_id else "respondent_id", layout=args.layout,
                anxiety_avoidance_r=args.anxiety_avoidance_r,
                complementarity_r=args.complementarity_r, transmission_rate=args.transmission_rate)
            seed = args.seed
            if settings.minmax_format is not None:
                mm = load_instrument("minmax", settings.minmax_format)
                clash = [c for c in settings.missing_codes if mm.scale_min <= c <= mm.scale_max]
                if clash:
                    print(f"warning: missing code(s) {clash} are valid answers of the checklist "
                          f"({settings.minmax_format}, {mm.scale_min}-{mm.scale_max}); a cohort that "
                          f"declares them as missing codes will misread the checklist. Consider "
                          f"--minmax-format none.", file=sys.stderr)
        paths = write_cohort(simulate_cohort(settings, seed), args.out, truth=args.truth)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
