"""The study configuration: schema check, defaults, and checks the schema cannot express.

``load_study(config)`` is called once, by the Snakefile at start-up. It validates
the config dict against ``workflow/schemas/config.schema.yaml`` (filling in the
documented defaults), then checks what needs the file system: that every
responses file exists, every instrument file exists, every instrument has an
``items`` mapping and the response formats and scale overrides name instruments
of the cohort. Any problem raises :class:`ConfigError` naming the key.
Inside the pipeline, code trusts the returned frozen :class:`Study`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import yaml

from .instruments import INSTRUMENT_DIR, Instrument, InstrumentError, available_instruments, load_instrument

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The study configuration is wrong; the message names the key."""


@dataclass(frozen=True)
class Couples:
    couple_column: str
    role_column: str | None = None
    distinguishable: str = "auto"  # auto (test the roles) | true | false


@dataclass(frozen=True)
class Cohort:
    """One cohort's settings, defaults filled in (see config/README.md)."""

    name: str
    responses: Path
    instruments: tuple[Instrument, ...]
    item_columns: dict  # instrument name -> list of raw column names, in item order
    id_column: str | None
    missing_codes: tuple[float, ...]
    out_of_range: str
    non_numeric: str
    groups: tuple[str, ...]
    covariates: tuple[str, ...]
    couples: Couples | None
    children: Path | None

    @property
    def dimension_instruments(self) -> list[Instrument]:
        """The instruments measuring both attachment dimensions (anxiety and avoidance)."""
        return [i for i in self.instruments if {"anxiety", "avoidance"} <= set(i.subscales)]

    def instrument(self, name: str) -> Instrument:
        for inst in self.instruments:
            if inst.name == name:
                return inst
        raise KeyError(name)


@dataclass(frozen=True)
class Scoring:
    min_answered: float = 0.8
    minmax_band: float = 0.2


@dataclass(frozen=True)
class Reliability:
    missing: str = "listwise"
    n_boot: int = 1000
    ci: float = 0.95


@dataclass(frozen=True)
class Factors:
    n_factors: int | None = None
    extraction: str = "minres"
    rotation: str = "oblimin"
    parallel_iterations: int = 100
    estimator: str = "mlr"
    missing: str = "fiml"


@dataclass(frozen=True)
class Classification:
    method: str = "midpoint"
    compare: tuple[str, ...] = ("median", "kmeans", "gmm")
    ties: str = "low"
    reference: dict | None = None
    cut: float = 0.0

    @property
    def methods(self) -> list[str]:
        """The primary method first, then the comparison methods (without repeats)."""
        return [self.method] + [m for m in self.compare if m != self.method]


@dataclass(frozen=True)
class Pooled:
    invariance: bool = True
    meta_analysis: bool = True


@dataclass(frozen=True)
class Study:
    name: str
    seed: int
    language: str
    cohorts: dict  # name -> Cohort
    scoring: Scoring
    reliability: Reliability = Reliability()
    factors: Factors = Factors()
    classification: Classification = Classification()
    pooled: Pooled = Pooled()
    hypothesis_testing: object = None  # hypotheses.HypothesisTestingSettings
    hypothesis_plan: dict | None = None  # cohort name -> list of checked hypothesis entries
    preregistration_lock: Path | None = None
    config: dict | None = None  # the checked config, defaults filled (what a preregistration lock hashes)

    def hypotheses_for(self, cohort: str) -> list:
        """The declared hypotheses that apply to a cohort (its data offer what the family needs)."""
        return list((self.hypothesis_plan or {}).get(cohort, []))


def _schema_errors(config: dict) -> list[str]:
    """Validate with Snakemake's validator (fills defaults); return readable messages."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    try:
        validate(config, str(SCHEMA), set_default=True)
    except WorkflowError as exc:
        return [_explain_schema_error(exc)]
    return []


def _explain_schema_error(exc: Exception) -> str:
    import jsonschema

    cause = exc
    while cause is not None and not isinstance(cause, jsonschema.ValidationError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return str(exc)
    key = ".".join(str(p) for p in cause.absolute_path) or "(top level)"
    msg = cause.message
    if cause.validator == "additionalProperties":
        allowed = sorted(cause.schema.get("properties", {}))
        msg += f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
    return f"config key `{key}`: {msg}"


def _resolve_items(cohort: str, inst: Instrument, spec) -> list[str]:
    if isinstance(spec, str):
        return [spec.replace("{n}", str(item.n)) for item in inst.items]
    if len(spec) != inst.n_items:
        raise ConfigError(
            f"config key `cohorts.{cohort}.items.{inst.name}`: the list names {len(spec)} columns, "
            f"but {inst.name} ({inst.response_format or 'standard'} format) has {inst.n_items} items. "
            "List one column per item, in item order, or give a pattern such as \"q{n}\"."
        )
    return [str(c) for c in spec]


def _cohort(name: str, raw: dict, instrument_dir: Path, root: Path) -> Cohort:
    where = f"cohorts.{name}"
    responses = Path(raw["responses"])
    if not (root / responses).is_file():
        raise ConfigError(f"config key `{where}.responses`: file {raw['responses']} does not exist "
                          f"(looked in {(root / responses).parent}). Paths are relative to the folder you run snakemake in.")
    known = available_instruments(instrument_dir)
    instruments = []
    for inst_name in raw["instruments"]:
        if inst_name not in known:
            raise ConfigError(f"config key `{where}.instruments`: unknown instrument {inst_name!r}; "
                              f"known: {', '.join(known)} (files in {instrument_dir}).")
        fmt = raw["response_format"].get(inst_name)
        try:
            inst = load_instrument(inst_name, fmt, instrument_dir)
        except InstrumentError as exc:
            raise ConfigError(f"config key `{where}.response_format.{inst_name}`: {exc}") from None
        override = raw["response_scale"].get(inst_name)
        if override:
            try:
                inst = inst.with_scale(override["min"], override["max"])
            except InstrumentError as exc:
                raise ConfigError(f"config key `{where}.response_scale.{inst_name}`: {exc}") from None
        instruments.append(inst)
    names = [i.name for i in instruments]
    for key in ("items", "response_format", "response_scale"):
        extra = sorted(set(raw[key]) - set(names))
        if extra:
            raise ConfigError(f"config key `{where}.{key}`: names {', '.join(extra)}, which is not in "
                              f"`{where}.instruments` ({', '.join(names)}).")
    missing = [n for n in names if n not in raw["items"]]
    if missing:
        raise ConfigError(f"config key `{where}.items`: no column mapping for {', '.join(missing)}. "
                          f"Add e.g. `{missing[0]}: \"{missing[0]}_{{n}}\"` (pattern) or a list of column names.")
    for fmt_inst in raw["response_format"]:
        if instruments[names.index(fmt_inst)].kind != "minmax":
            raise ConfigError(f"config key `{where}.response_format.{fmt_inst}`: {fmt_inst} has only one format; remove the key.")
    item_columns = {i.name: _resolve_items(name, i, raw["items"][i.name]) for i in instruments}
    children = raw.get("children")
    if children is not None and not (root / children).is_file():
        raise ConfigError(f"config key `{where}.children`: file {children} does not exist.")
    couples = raw.get("couples")
    return Cohort(
        name=name, responses=responses, instruments=tuple(instruments), item_columns=item_columns,
        id_column=raw.get("id_column"), missing_codes=tuple(float(c) for c in raw["missing_codes"]),
        out_of_range=raw["out_of_range"], non_numeric=raw["non_numeric"],
        groups=tuple(raw["groups"]), covariates=tuple(raw["covariates"]),
        couples=(Couples(couples["couple_column"], couples.get("role_column"),
                         _distinguishable_setting(couples.get("distinguishable", "auto"), where))
                 if couples else None),
        children=Path(children) if children else None,
    )


def _distinguishable_setting(value, where: str) -> str:
    """``couples.distinguishable`` as text: YAML reads true/false as booleans."""
    text = {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else str(value)
    if text not in ("auto", "true", "false"):
        raise ConfigError(f"config key `{where}.couples.distinguishable`: {value!r} is not allowed; use auto (test "
                          "whether the roles differ), true or false.")
    return text


def read_cohort_sheet(path: Path, root: Path) -> dict:
    r"""Cohorts from a tab-separated sheet: one row per cohort, one column per cohort key.

    Column ``name`` holds the cohort name; the other columns are the keys of the inline
    form (``responses``, ``instruments``, ``items``, ...). A cell holds the value as it
    would be written in YAML (``[ecr_r, minmax]``, ``{ecr_r: "ecr_{n}"}``, ``[-1, 99]``);
    an empty cell leaves the key out (its default applies). Checked like the inline form.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "c.tsv").write_text('name\tresponses\tinstruments\titems\nw1\tw1.csv\t[ecr]\t{ecr: "Q{n}"}\n')
    >>> read_cohort_sheet(d / "c.tsv", d)
    {'w1': {'responses': 'w1.csv', 'instruments': ['ecr'], 'items': {'ecr': 'Q{n}'}}}
    """
    import csv

    full = root / path
    if not full.is_file():
        raise ConfigError(f"config key `cohorts`: cohort sheet {path} does not exist.")
    cohorts: dict = {}
    with open(full, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if "name" not in (reader.fieldnames or []):
            raise ConfigError(f"cohort sheet {path}: the header needs a `name` column (found: "
                              f"{', '.join(reader.fieldnames or [])}).")
        for row_number, row in enumerate(reader, start=2):
            name = (row.pop("name") or "").strip()
            if not name:
                raise ConfigError(f"cohort sheet {path}, row {row_number}: empty `name`.")
            if name in cohorts:
                raise ConfigError(f"cohort sheet {path}, row {row_number}: cohort {name!r} is listed twice.")
            entry = {}
            for key, cell in row.items():
                cell = (cell or "").strip()
                if not cell:
                    continue
                if key in ("responses", "children", "id_column", "out_of_range", "non_numeric"):
                    entry[key] = cell
                    continue
                try:
                    entry[key] = yaml.safe_load(cell)
                except yaml.YAMLError as exc:
                    raise ConfigError(f"cohort sheet {path}, row {row_number} (cohort {name}), column {key}: "
                                      f"{cell!r} is not a valid YAML value ({exc.problem}).") from None
            cohorts[name] = entry
    if not cohorts:
        raise ConfigError(f"cohort sheet {path}: no cohorts (only a header).")
    return cohorts


def load_study(config: dict, root: Path | str = ".") -> Study:
    """Check a config dict and return the :class:`Study` it describes.

    The dict is copied; defaults from the schema are filled into the copy.
    ``root`` is the folder relative paths are resolved against (the working directory).

    >>> s = load_study(yaml.safe_load(open(SCHEMA.parents[2] / "config" / "config.yaml")), SCHEMA.parents[2])
    >>> s.name, list(s.cohorts), s.scoring.min_answered
    ('demo', ['demo'], 0.8)
    """
    config = copy.deepcopy(dict(config))
    root = Path(root)
    if isinstance(config.get("cohorts"), str):
        config["cohorts"] = read_cohort_sheet(Path(config["cohorts"]), root)
    errors = _schema_errors(config)
    if errors:
        raise ConfigError(errors[0])
    instrument_dir = INSTRUMENT_DIR
    if config.get("instrument_dir"):
        instrument_dir = root / config["instrument_dir"]
        if not instrument_dir.is_dir():
            raise ConfigError(f"config key `instrument_dir`: folder {config['instrument_dir']} does not exist.")
    cohorts = {name: _cohort(name, raw, instrument_dir, root) for name, raw in config["cohorts"].items()}
    classification = dict(config["classification"])
    classification["compare"] = tuple(classification["compare"])
    if "zscore" in [classification["method"], *classification["compare"]] and not classification["reference"]:
        raise ConfigError("config key `classification.reference`: the zscore method needs reference norms, e.g. "
                          "{anxiety: {mean: 3.6, sd: 1.1}, avoidance: {mean: 2.9, sd: 1.1}}.")
    if "brennan1998" in [classification["method"], *classification["compare"]]:
        for cohort in cohorts.values():
            for inst in cohort.instruments:
                if {"anxiety", "avoidance"} <= set(inst.subscales) and (inst.name, inst.scale_min, inst.scale_max) != ("ecr", 1, 7):
                    raise ConfigError(
                        f"config key `classification`: method brennan1998 uses the published functions for the "
                        f"original ECR on its 1-7 scale, but cohort {cohort.name} has {inst.name} on "
                        f"{inst.scale_min}-{inst.scale_max}. Remove brennan1998 from `classification.method`/`compare`.")
    est, miss = config["factors"]["estimator"], config["factors"]["missing"]
    if est == "wlsmv" and miss == "fiml":
        raise ConfigError("config keys `factors.estimator` / `factors.missing`: wlsmv analyses items as ordered "
                          "categories and cannot use fiml (as in lavaan). Use `missing: pairwise` (or listwise) "
                          "with wlsmv, or `estimator: mlr` with fiml.")
    if est in ("ml", "mlr") and miss == "pairwise":
        raise ConfigError(f"config keys `factors.estimator` / `factors.missing`: pairwise deletion is not a "
                          f"likelihood method, so {est} cannot use it. Use `missing: fiml` (every respondent who "
                          "answered) or listwise, or `estimator: wlsmv` with pairwise.")
    from .hypotheses import registry as hy  # the family registry is the one place that knows each family's keys

    try:
        testing = hy.check_testing_settings(config.get("hypothesis_testing"))
        entries = hy.check_hypotheses(config.get("hypotheses") or [])
        plan = hy.plan_hypotheses(entries, {name: hy.cohort_capabilities(c) for name, c in cohorts.items()})
        hy.check_alpha_levels(plan, testing)
    except ValueError as exc:
        raise ConfigError(f"config key `hypotheses` / `hypothesis_testing`: {exc}") from None
    lock = config.get("preregistration") or f"config/preregistration/{config['study']}.lock.json"
    return Study(
        name=config["study"], seed=int(config["seed"]), language=config["language"], cohorts=cohorts,
        scoring=Scoring(**config["scoring"]), reliability=Reliability(**config["reliability"]),
        factors=Factors(**config["factors"]), classification=Classification(**classification),
        pooled=Pooled(**config["pooled"]), hypothesis_testing=testing, hypothesis_plan=plan, preregistration_lock=Path(lock), config=config,
    )


def read_config_file(path: Path | str) -> dict:
    """Read a YAML config file (used by tests and tools; Snakemake reads --configfile itself)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}
