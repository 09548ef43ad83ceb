"""The hypothesis family registry: keys, defaults, directions and schemas of every family.

Light on purpose (no numpy, pandas or scipy): the config check at start-up imports
it. One declaration per family (:data:`FAMILIES`) gives the JSON schema
(:func:`hypotheses_schema`), the defaults and checks (:func:`check_hypothesis`) and
the plan of which cohort runs what (:func:`plan_hypotheses`); the family's function
is named here and found in :mod:`attachment_pipeline.hypotheses.families` when it runs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ..vocabulary import CORRECTIONS, DIRECTIONS, STYLES

#: What a cohort may offer; a family lists the kinds it needs in ``FamilySpec.required_data``.
DATA_KINDS = ("dimensions", "classification", "items", "minmax", "couples", "children")
COMMON_KEYS = ("id", "family", "cohorts", "direction", "alpha", "description")

#: Reference distributions of attachment styles by name (proportions).
#: Three-category references use the categories secure / avoidant / anxious.
PREVALENCE_PRESETS = {
    # seed 2.1 (children, Ainsworth's three categories): 65 / 25 / 10
    "children_seed": {"secure": 0.65, "avoidant": 0.25, "anxious": 0.10},
    # Mickelson, Kessler & Shaver (1997), US National Comorbidity Survey: 59 / 25 / 11, 5% unclassified;
    # the unclassified 5% are left out and the three proportions renormalised (divided by 0.95)
    "mickelson1997": {"secure": 0.59 / 0.95, "avoidant": 0.25 / 0.95, "anxious": 0.11 / 0.95},
    # Hazan & Shaver (1987), newspaper sample: 56 / 25 / 19 (secure / avoidant / anxious-ambivalent)
    "hazan_shaver1987": {"secure": 0.56, "avoidant": 0.25, "anxious": 0.19},
}
#: Adult style -> category of a three-category reference (fearful: see the ``fearful`` parameter).
THREE_CATEGORY_MAP = {"secure": "secure", "dismissing": "avoidant", "preoccupied": "anxious"}



@dataclass(frozen=True)
class HypothesisTestingSettings:
    """``hypothesis_testing`` settings: correction, permutations, bootstrap samples, interval level."""

    correction: str = "holm"
    n_permutations: int = 10000
    n_bootstrap: int = 2000
    ci: float = 0.95
    discrete_p: str = "exact"

    @property
    def mid_p(self) -> bool:
        """Mid-p values for the count-based re-pairing tests (see :func:`repairing_count_test`)."""
        return self.discrete_p == "mid"


def reference_distribution(reference, fearful: str = "exclude") -> tuple[dict, dict]:
    """Reference proportions and the map from adult styles to the reference's categories.

    ``reference`` is a preset name (:data:`PREVALENCE_PRESETS`) or a mapping of
    the four styles to proportions (positive, summing to 1 within 1e-6).
    Presets have three categories, *secure*, *avoidant* and *anxious*
    (ambivalent): secure -> secure, dismissing -> avoidant, preoccupied ->
    anxious, and ``fearful`` decides the fourth adult style: ``exclude``
    (default; fearful respondents are left out and counted, since the
    three-category systems have no such class), ``avoidant`` (Bartholomew,
    1990, read Hazan & Shaver's avoidant description as fearful avoidance) or
    ``anxious``.

    Returns
    -------
    (proportions, style_map) : ``{category: p}`` and ``{style: category or None}``.

    >>> p, m = reference_distribution("hazan_shaver1987")
    >>> p, m["fearful"]
    ({'secure': 0.56, 'avoidant': 0.25, 'anxious': 0.19}, None)
    """
    if fearful not in ("exclude", "avoidant", "anxious"):
        raise ValueError(f"fearful must be 'exclude', 'avoidant' or 'anxious'; got {fearful!r}.")
    if isinstance(reference, str):
        if reference not in PREVALENCE_PRESETS:
            raise ValueError(f"Unknown reference {reference!r}; presets: {', '.join(PREVALENCE_PRESETS)}, "
                             "or give proportions for secure, preoccupied, dismissing and fearful.")
        props = dict(PREVALENCE_PRESETS[reference])
        style_map = dict(THREE_CATEGORY_MAP)
        style_map["fearful"] = None if fearful == "exclude" else fearful
        return props, style_map
    if not isinstance(reference, dict):
        raise ValueError(f"reference must be a preset name or a mapping of the four styles; got {reference!r}.")
    if set(reference) != set(STYLES):
        raise ValueError(f"An explicit reference must give proportions for exactly the four styles "
                         f"{', '.join(STYLES)}; got {sorted(reference)}.")
    props = {}
    for s in STYLES:
        v = reference[s]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            raise ValueError(f"reference.{s} must be a proportion in (0, 1); got {v!r}.")
        props[s] = float(v)
    if abs(sum(props.values()) - 1) > 1e-6:
        raise ValueError(f"The reference proportions must sum to 1 (within 1e-6); they sum to "
                         f"{sum(props.values()):.8f}.")
    return props, {s: s for s in STYLES}


# ---------------------------------------------------------------------------
# registry


@dataclass(frozen=True)
class Param:
    """A family parameter: default, JSON-schema fragment of allowed values, description.

    ``column`` marks parameters that name score columns (a string or a list of
    strings) the cohort must have for the hypothesis to apply.
    """

    default: object
    schema: dict
    description: str
    column: bool = False


@dataclass(frozen=True)
class FamilySpec:
    """One family of hypothesis tests."""

    function: str  # name of the function in hypotheses.families
    required_data: tuple[str, ...]
    params: dict
    description: str
    directions: tuple[str, ...] = DIRECTIONS
    default_direction: str = "two-sided"
    tables: tuple[str, ...] = ()


_INSTRUMENT = Param(None, {"type": ["string", "null"]},
                    "dimension instrument (default: the cohort's first instrument with anxiety and avoidance)")
_PROPORTION = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}

FAMILIES: dict[str, FamilySpec] = {
    "complementarity": FamilySpec(
        "family_complementarity", ("dimensions", "couples"),
        {"instrument": _INSTRUMENT,
         "x_subscale": Param("anxiety", {"type": "string"}, "subscale of the predicting partner"),
         "y_subscale": Param("avoidance", {"type": "string"}, "subscale of the predicted partner"),
         "estimator": Param("ml", {"enum": ["ml", "mlr"]},
                            "standard errors of the dyadic model: ml (normal theory, default) or mlr (robust)"),
         "correct_attenuation": Param(True, {"type": "boolean"},
                                      "analyse true scores: error variances fixed from alpha (reliability.csv)")},
        "H1: one partner's anxiety predicting the other's avoidance beyond the first partner's own avoidance "
        "(standardized cross-partner path in the saturated or I-SAT dyadic model)", default_direction="greater"),
    "complementary_pairing": FamilySpec(
        "family_complementary_pairing", ("classification", "couples"),
        {"instrument": _INSTRUMENT,
         "pair": Param(["preoccupied", "dismissing"],
                       {"type": "array", "items": {"enum": list(STYLES)}, "minItems": 2, "maxItems": 2},
                       "the unordered style pair counted"),
         "homogamy": Param("dimensions", {"enum": ["dimensions", "diagonal"]},
                           "homogamy in the null model: agreement on each dimension (anxiety, avoidance) or "
                           "the same style only (quasi-independence)")},
        "H1 (categories): couples of a style pair beyond homogamy (log-linear quasi-independence model); "
        "writes pairing_table",
        default_direction="greater", tables=("pairing_table",)),
    "minmax_complementarity": FamilySpec(
        "family_minmax_complementarity", ("minmax", "couples"),
        {"index_column": Param("minmax_index", {"type": "string"}, "the bipolar min/max index", column=True),
         "type_column": Param("minmax_type", {"type": "string"}, "the min/max typology", column=True)},
        "H2: partner similarity of the min/max index (ICC, or r for distinguishable dyads); min-max couples "
        "against random pairing",
        default_direction="less", tables=("pairing_table",)),
    "pairing_symmetry": FamilySpec(
        "family_pairing_symmetry", ("couples",),
        {"by": Param("minmax_type", {"enum": ["minmax_type", "style"]},
                     "symmetric = min-min/max-max (minmax_type) or the same style (style)"),
         "type_column": Param("minmax_type", {"type": "string"}, "the min/max typology (by: minmax_type)"),
         "index_column": Param("minmax_index", {"type": "string"},
                               "the min/max index (by: minmax_type; tests whether the roles differ)"),
         "instrument": _INSTRUMENT},
        "H3: share of symmetric and of complementary couples (Wilson CI) against random pairing",
        default_direction="two-sided", tables=("pairing_table",)),
    "correlation": FamilySpec(
        "family_correlation", (),
        {"x": Param(None, {"type": "string"}, "score column", column=True),
         "y": Param(None, {"type": "string"}, "score column", column=True),
         "method": Param("pearson", {"enum": ["pearson", "spearman"]}, "correlation coefficient"),
         "disattenuate": Param(False, {"type": "boolean"}, "correct for attenuation (Spearman 1904)"),
         "reliability_x": Param(None, {"anyOf": [_PROPORTION, {"const": 1}, {"type": "null"}]},
                                "reliability of x (default: alpha from reliability.csv)"),
         "reliability_y": Param(None, {"anyOf": [_PROPORTION, {"const": 1}, {"type": "null"}]},
                                "reliability of y (default: alpha from reliability.csv)")},
        "H4: correlation of two score columns with a Fisher-z interval"),
    "prevalence": FamilySpec(
        "family_prevalence", ("classification",),
        {"instrument": _INSTRUMENT,
         "reference": Param("hazan_shaver1987", {"anyOf": [
             {"enum": list(PREVALENCE_PRESETS)},
             {"type": "object", "properties": {s: _PROPORTION for s in STYLES}, "required": list(STYLES),
              "additionalProperties": False}]},
             "preset (children_seed, mickelson1997, hazan_shaver1987) or proportions of the four styles"),
         "fearful": Param("exclude", {"enum": ["exclude", "avoidant", "anxious"]},
                          "how fearful adults enter a three-category preset"),
         "w_margin": Param(0.1, {"type": "number", "exclusiveMinimum": 0},
                           "equivalence margin for Cohen's w (direction: less)")},
        "H5: chi-square goodness of fit of the style counts against a reference; Cohen's w",
        directions=("two-sided", "less"), default_direction="two-sided", tables=("prevalence_table",)),
    "transmission": FamilySpec(
        "family_transmission", ("classification", "children"),
        {"instrument": _INSTRUMENT,
         "reference_rate": Param(0.70, _PROPORTION, "published concordance rate shown beside the estimate")},
        "H6: children's Strange Situation codes follow their parents' styles: Cohen's kappa, one-sided family "
        "permutation test; concordance beside the reference rate",
        directions=("greater",), default_direction="greater", tables=("transmission_table",)),
    "dimensions_distinct": FamilySpec(
        "family_dimensions_distinct", ("dimensions",),
        {"instrument": _INSTRUMENT,
         "r_max": Param(0.5, _PROPORTION, "distinct when |r(anxiety, avoidance)| < r_max"),
         "cfa": Param(True, {"type": "boolean"}, "also compare the two- with the one-factor CFA (needs items)")},
        "H7: anxiety and avoidance distinct: |r| < r_max (TOST) and two factors against one",
        directions=("less",), default_direction="less"),
    "duration": FamilySpec(
        "family_duration", ("dimensions",),
        {"instrument": _INSTRUMENT,
         "duration": Param("relationship_years", {"type": "string"}, "relationship duration column", column=True),
         "covariates": Param(["age"], {"type": "array", "items": {"type": "string"}}, "columns partialled out",
                             column=True),
         "outcome": Param("security", {"enum": ["security", "anxiety", "avoidance"]},
                          "security = -(z anxiety + z avoidance) / 2, or one dimension"),
         "unit": Param("couple", {"enum": ["couple", "respondent"]},
                       "analyse couple means (partners share the duration) or respondents"),
         "transform": Param("none", {"enum": ["none", "log"]}, "transform of the duration")},
        "H8: security with relationship duration controlling for age (partial correlation)",
        default_direction="greater"),
    "group_difference": FamilySpec(
        "family_group_difference", (),
        {"score": Param(None, {"type": "string"}, "score column", column=True),
         "group": Param(None, {"type": "string"}, "group column", column=True),
         "levels": Param(None, {"anyOf": [{"type": "null"}, {"type": "array", "minItems": 2, "maxItems": 2,
                                                              "items": {"type": ["string", "number"]}}]},
                         "the two levels compared (default: the two most frequent)"),
         "test": Param("welch", {"enum": ["welch", "mann_whitney"]}, "Welch t or Mann-Whitney U")},
        "a score between two groups: Welch t and Hedges g, or Mann-Whitney U and the rank-biserial r "
        "(couple-clustered, paired within couples, when partners are in the data)"),
    "apim": FamilySpec(
        "family_apim", ("couples",),
        {"x": Param(None, {"type": "string"}, "predictor score column (both partners)", column=True),
         "y": Param(None, {"type": "string"}, "outcome score column (both partners)", column=True),
         "effect": Param("partner", {"enum": ["partner", "actor"]}, "the effect tested in the primary row"),
         "estimator": Param("ml", {"enum": ["ml", "mlr"]},
                            "ml (lavaan's default: normal-theory SEs) or mlr (robust SEs)"),
         "correct_attenuation": Param(False, {"type": "boolean"},
                                      "APIM of true scores (error variances fixed from alpha) instead of lavaan's "
                                      "manifest APIM")},
        "APIM: actor and partner effects of x on y (per role, or equal for indistinguishable dyads) and "
        "k = partner / actor; writes <id>_apim.csv"),
}

#: Parameters without a default that must be given.
_REQUIRED = {"correlation": ("x", "y"), "group_difference": ("score", "group"), "apim": ("x", "y")}


def _common_schema() -> dict:
    return {
        "id": {"type": "string", "minLength": 1, "pattern": r"^[A-Za-z0-9_.\-]+$",
               "description": "hypothesis id (letters, digits, _ . -), unique"},
        "family": {"enum": list(FAMILIES), "description": "family of tests"},
        "cohorts": {"type": ["array", "null"], "items": {"type": "string"}, "default": None,
                    "description": "cohorts to test (default: every cohort with the data)"},
        "direction": {"enum": list(DIRECTIONS), "description": "greater | less | two-sided (default per family)"},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.05,
                  "description": "significance level"},
        "description": {"type": ["string", "null"], "default": None, "description": "text for the report"},
    }


def hypotheses_schema() -> dict:
    """JSON schema (draft 7) of the ``hypotheses`` list, generated from :data:`FAMILIES`.

    >>> s = hypotheses_schema()
    >>> s["type"], s["items"]["required"]
    ('array', ['id', 'family'])
    """
    branches = []
    for name, spec in FAMILIES.items():
        props = _common_schema()
        props["direction"] = {"enum": list(spec.directions), "default": spec.default_direction,
                              "description": "direction of the alternative"}
        for key, p in spec.params.items():
            props[key] = {**p.schema, "description": p.description}
            if p.default is not None or key not in _REQUIRED.get(name, ()):
                props[key]["default"] = p.default
        branches.append({"if": {"properties": {"family": {"const": name}}, "required": ["family"]},
                         "then": {"properties": props, "required": ["id", "family", *_REQUIRED.get(name, ())],
                                  "additionalProperties": False}})
    return {"type": "array", "default": [],
            "items": {"type": "object", "required": ["id", "family"], "properties": _common_schema(),
                      "allOf": branches}}


def hypothesis_testing_schema() -> dict:
    """JSON schema of ``hypothesis_testing``.

    >>> sorted(hypothesis_testing_schema()["properties"])
    ['ci', 'correction', 'discrete_p', 'n_bootstrap', 'n_permutations']
    """
    return {"type": "object", "additionalProperties": False, "default": {}, "properties": {
        "correction": {"enum": list(CORRECTIONS), "default": "holm",
                       "description": "multiple-testing correction across a cohort's hypotheses: holm, bh (one "
                                      "alpha for all), weighted_holm (each alpha is that hypothesis' share of the "
                                      "family-wise level, their sum) or none"},
        "n_permutations": {"type": "integer", "minimum": 99, "default": 10000,
                           "description": "random re-pairings / permutations per test"},
        "n_bootstrap": {"type": "integer", "minimum": 0, "default": 2000,
                        "description": "couple bootstrap samples for double-entry intervals (0 = none)"},
        "ci": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.95,
               "description": "level of the confidence intervals"},
        "discrete_p": {"enum": ["exact", "mid"], "default": "exact",
                       "description": "count-based re-pairing tests: exact (conservative) or mid-p permutation p"}}}


def _schema_error(where: str, schema: dict, value) -> str | None:
    import jsonschema

    err = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(value))
    return None if err is None else f"{where}: {err.message}"


def check_testing_settings(settings: dict | None) -> HypothesisTestingSettings:
    """Validate ``hypothesis_testing`` and fill its defaults.

    >>> check_testing_settings({"correction": "bh"})
    HypothesisTestingSettings(correction='bh', n_permutations=10000, n_bootstrap=2000, ci=0.95, discrete_p='exact')
    """
    settings = {} if settings is None else settings
    if not isinstance(settings, dict):
        raise ValueError(f"hypothesis_testing must be a mapping; got {settings!r}.")
    schema = hypothesis_testing_schema()
    for key, value in settings.items():
        if key not in schema["properties"]:
            raise ValueError(f"hypothesis_testing.{key}: unknown key; allowed: {', '.join(schema['properties'])}.")
        msg = _schema_error(f"hypothesis_testing.{key}", schema["properties"][key], value)
        if msg:
            raise ValueError(msg)
    return HypothesisTestingSettings(**settings)


def check_hypothesis(entry: dict) -> dict:
    """Validate one declared hypothesis and return it with every default filled in.

    Raises ValueError naming the key for an unknown family, an unknown key, a
    missing required key or a bad value (``hypotheses[H1].direction: ...``).

    >>> e = check_hypothesis({"id": "H1", "family": "complementarity"})
    >>> e["direction"], e["alpha"], e["x_subscale"], e["cohorts"]
    ('greater', 0.05, 'anxiety', None)
    >>> check_hypothesis({"id": "H2", "family": "correlation", "x": "a", "y": "b", "tails": 1})
    Traceback (most recent call last):
    ...
    ValueError: hypotheses[H2].tails: unknown key for family correlation; allowed: id, family, cohorts, direction, alpha, description, x, y, method, disattenuate, reliability_x, reliability_y.
    """
    if not isinstance(entry, dict):
        raise ValueError(f"hypotheses: each entry must be a mapping with id and family; got {entry!r}.")
    hid = entry.get("id")
    where = f"hypotheses[{hid}]"
    common = _common_schema()
    if hid is None:
        raise ValueError("hypotheses: an entry has no id.")
    msg = _schema_error(f"{where}.id", common["id"], hid)
    if msg:
        raise ValueError(msg)
    family = entry.get("family")
    if family not in FAMILIES:
        raise ValueError(f"{where}.family: unknown family {family!r}; choose one of {', '.join(FAMILIES)}.")
    spec = FAMILIES[family]
    allowed = list(COMMON_KEYS) + list(spec.params)
    for key in entry:
        if key not in allowed:
            raise ValueError(f"{where}.{key}: unknown key for family {family}; allowed: {', '.join(allowed)}.")
    for key in _REQUIRED.get(family, ()):
        if entry.get(key) is None:
            raise ValueError(f"{where}.{key}: required for family {family}.")
    out = {"id": hid, "family": family, "cohorts": None, "direction": spec.default_direction, "alpha": 0.05,
           "description": None}
    out.update({k: copy.deepcopy(p.default) for k, p in spec.params.items()})
    for key, value in entry.items():
        if key in ("id", "family"):
            continue
        if key == "direction":
            if value not in spec.directions:
                raise ValueError(f"{where}.direction: {value!r} is not allowed for family {family}; "
                                 f"choose {', '.join(spec.directions)}.")
        else:
            schema = common[key] if key in common else spec.params[key].schema
            msg = _schema_error(f"{where}.{key}", schema, value)
            if msg:
                raise ValueError(msg)
        out[key] = copy.deepcopy(value)
    if family == "prevalence":
        try:
            reference_distribution(out["reference"], out["fearful"])
        except ValueError as exc:
            raise ValueError(f"{where}.reference: {exc}") from None
    if family == "correlation" and (out["reliability_x"] is not None or out["reliability_y"] is not None) \
            and not out["disattenuate"]:
        raise ValueError(f"{where}.disattenuate: reliabilities are given but disattenuate is false; set "
                         "disattenuate: true or remove them.")
    return out


def check_hypotheses(entries) -> list[dict]:
    """:func:`check_hypothesis` for every entry, and unique ids.

    >>> [e["id"] for e in check_hypotheses([{"id": "H1", "family": "complementarity"}])]
    ['H1']
    """
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ValueError("hypotheses must be a list of entries.")
    out = [check_hypothesis(e) for e in entries]
    ids = [e["id"] for e in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"hypotheses: id(s) {dup} occur more than once; ids must be unique.")
    return out


def check_alpha_levels(plan: dict, settings: HypothesisTestingSettings) -> None:
    """Refuse a correction that cannot respect the declared alpha levels of a cohort's hypotheses.

    Holm and Benjamini-Hochberg control one family-wise level: the hypotheses a cohort
    tests together must declare the same alpha. ``weighted_holm`` reads each alpha as
    that hypothesis' share of the family-wise level, which is their sum and must stay
    below 1 (:func:`attachment_pipeline.inference.adjust_pvalues_weighted`).

    >>> e = check_hypotheses([{"id": "H1", "family": "complementarity"},
    ...                       {"id": "H2", "family": "minmax_complementarity", "alpha": 0.01}])
    >>> check_alpha_levels({"demo": e}, HypothesisTestingSettings(correction="weighted_holm"))
    >>> check_alpha_levels({"demo": e}, HypothesisTestingSettings())
    Traceback (most recent call last):
    ...
    ValueError: hypothesis_testing.correction: holm needs one alpha for the hypotheses cohort demo tests together, but they declare 0.01 (H2), 0.05 (H1). Give them the same alpha, or use correction: weighted_holm (each alpha is then that hypothesis' share of the family-wise level) or none.
    """
    for cohort, entries in plan.items():
        alphas: dict = {}
        for e in entries:
            alphas.setdefault(float(e["alpha"]), []).append(e["id"])
        if settings.correction in ("holm", "bh") and len(alphas) > 1:
            text = ", ".join(f"{a:g} ({', '.join(ids)})" for a, ids in sorted(alphas.items()))
            raise ValueError(f"hypothesis_testing.correction: {settings.correction} needs one alpha for the "
                             f"hypotheses cohort {cohort} tests together, but they declare {text}. Give them the "
                             "same alpha, or use correction: weighted_holm (each alpha is then that hypothesis' "
                             "share of the family-wise level) or none.")
        if settings.correction == "weighted_holm":
            total = sum(float(e["alpha"]) for e in entries)
            if total >= 1:
                raise ValueError(f"hypothesis_testing.correction: weighted_holm reads each alpha as a share of the "
                                 f"family-wise level; cohort {cohort}'s alphas sum to {total:g}, which is not below 1. "
                                 "Declare smaller shares (e.g. 0.05 divided among the hypotheses).")


def required_columns(entry: dict) -> list[str]:
    """Score columns a (checked) hypothesis names, which a cohort must have for it to apply.

    >>> required_columns(check_hypothesis({"id": "H8", "family": "duration"}))
    ['relationship_years', 'age']
    """
    spec = FAMILIES[entry["family"]]
    cols = []
    for key, p in spec.params.items():
        if p.column and entry.get(key) is not None:
            v = entry[key]
            cols.extend([v] if isinstance(v, str) else list(v))
    return cols


def cohort_capabilities(cohort) -> tuple[set, set]:
    """The data kinds and score columns a configured cohort (:class:`attachment_pipeline.config.Cohort`) offers.

    Kinds: ``dimensions``, ``classification`` and ``items`` when an instrument
    measures anxiety and avoidance; ``minmax`` with the checklist; ``couples``
    with a couple column; ``children`` with child records (and a dimension
    instrument). Columns: the score columns, groups and covariates.
    """
    kinds, cols = set(), set()
    for inst in cohort.instruments:
        if inst.kind == "minmax":
            kinds.add("minmax")
            cols |= {f"{inst.name}_minimiser", f"{inst.name}_maximiser", f"{inst.name}_index", f"{inst.name}_type"}
        else:
            cols |= {f"{inst.name}_{s}" for s in inst.subscales}
            if {"anxiety", "avoidance"} <= set(inst.subscales):
                kinds |= {"dimensions", "classification", "items"}
    if cohort.couples is not None:
        kinds.add("couples")
    if cohort.children is not None and "dimensions" in kinds:
        kinds.add("children")
    cols |= set(cohort.groups) | set(cohort.covariates)
    return kinds, cols


def plan_hypotheses(entries, cohorts: dict) -> dict:
    """Which hypotheses run in which cohort.

    Parameters
    ----------
    entries : checked hypotheses (:func:`check_hypotheses`).
    cohorts : ``{name: (kinds, columns)}`` as from :func:`cohort_capabilities`.

    A hypothesis without ``cohorts`` runs in every cohort offering its family's
    ``required_data`` and the columns it names; one naming cohorts must name
    existing cohorts with those data, else ValueError (naming the key).
    By the family: ``pairing_symmetry`` with ``by: minmax_type`` needs
    ``minmax``, with ``by: style`` ``classification``.

    Returns ``{cohort: [entry, ...]}`` in the declared order.

    >>> e = check_hypotheses([{"id": "H1", "family": "complementarity"}])
    >>> plan_hypotheses(e, {"a": ({"dimensions", "couples"}, set()), "b": ({"dimensions"}, set())})["b"]
    []
    """
    plan = {name: [] for name in cohorts}
    for e in entries:
        need = set(FAMILIES[e["family"]].required_data)
        if e["family"] == "pairing_symmetry":
            need.add("minmax" if e["by"] == "minmax_type" else "classification")
        cols = set(required_columns(e))
        targets = e["cohorts"]
        if targets is not None:
            unknown = [c for c in targets if c not in cohorts]
            if unknown:
                raise ValueError(f"hypotheses[{e['id']}].cohorts: unknown cohort(s) {unknown}; "
                                 f"cohorts: {', '.join(cohorts)}.")
        for name, (kinds, columns) in cohorts.items():
            ok = need <= set(kinds) and cols <= set(columns)
            if targets is None:
                if ok:
                    plan[name].append(e)
            elif name in targets:
                if not ok:
                    what = sorted(need - set(kinds)) + sorted(cols - set(columns))
                    raise ValueError(f"hypotheses[{e['id']}].cohorts: cohort {name!r} lacks {what}, which family "
                                     f"{e['family']} needs.")
                plan[name].append(e)
    return plan
