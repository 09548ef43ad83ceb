"""The study configuration: schema check, defaults, and checks the schema cannot express.

``load_study(config)`` is called once, by the Snakefile at start-up. It validates
the config dict against the schema shipped as package data
(``attachment_pipeline/resources/config.schema.yaml``, found with :mod:`importlib.resources`; filling in the
documented defaults), then checks what needs the file system: that every
responses file exists, every instrument file exists, every instrument has an
``items`` mapping and the response formats and scale overrides name instruments
of the cohort. Any problem raises :class:`ConfigError` naming the key.
Inside the pipeline, code trusts the returned frozen :class:`Study`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

import yaml

from .instruments import INSTRUMENT_DIR, Instrument, InstrumentError, available_instruments, load_instrument
from .io import SUFFIXES, is_identifying

#: The JSON schema of the config (YAML), package data found with importlib.resources.
SCHEMA = files(__package__).joinpath("resources", "config.schema.yaml")


class ConfigError(ValueError):
    """The study configuration is wrong; the message names the key."""


@dataclass(frozen=True)
class Couples:
    couple_column: str
    role_column: str | None = None
    distinguishable: str = "auto"  # auto (test the roles) | true | false


@dataclass(frozen=True)
class Exclude:
    """Which survey-platform records are left out before validation (counted in qc/validation.json).

    Qualtrics marks them in its metadata columns: ``DistributionChannel`` (``preview``,
    ``test``) or, in older exports, ``Status`` (Survey Preview / Survey Test, 1 / 2);
    ``Finished`` (0 / False); ``Progress`` (percent). A rule applies only when its column is
    in the file.
    """

    preview: bool = True
    unfinished: bool = True
    min_progress: float = 0.0


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
    sheet: str | int | None = None
    header_row: int = 1
    exclude: "Exclude" = None
    tick_blanks: str = "auto"
    min_cell: int = 5

    @property
    def used_columns(self) -> list[str]:
        """Every column of the responses file the pipeline reads (items, id, groups, covariates, couples)."""
        cols = [c for cs in self.item_columns.values() for c in cs]
        cols += [self.id_column] if self.id_column else []
        cols += list(self.groups) + list(self.covariates)
        if self.couples is not None:
            cols += [self.couples.couple_column] + ([self.couples.role_column] if self.couples.role_column else [])
        return cols

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
    missing: str = "pairwise"
    n_boot: int = 1000
    ci: float = 0.95
    omega_factors: int = 3


@dataclass(frozen=True)
class Factors:
    n_factors: int | None = None
    extraction: str = "minres"
    rotation: str = "oblimin"
    parallel_iterations: int = 100
    estimator: str = "mlr"
    missing: str = "fiml"
    parallel_smc: bool = False


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
class Irt:
    """Graded response model settings (``irt:``; see config/README.md)."""

    instruments: tuple[str, ...] | None = None
    link: str = "logistic"
    quadrature_points: int = 61
    dif: bool = True
    dif_anchors: dict | None = None  # instrument -> tuple of item numbers
    dif_min_group: int = 100
    item_fit_mincell: float = 1.0

    def instruments_for(self, cohort: "Cohort") -> list[Instrument]:
        """The cohort's instruments modelled: by default those measuring anxiety and avoidance."""
        if self.instruments is None:
            return cohort.dimension_instruments
        return [i for i in cohort.instruments if i.name in self.instruments]


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
    irt: Irt = Irt()
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
        with as_file(SCHEMA) as schema:  # a real file even when the package is zipped
            validate(config, str(schema), set_default=True)
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


def _cohort(name: str, raw: dict, instrument_dir: Path, root: Path, min_cell: int = 5) -> Cohort:
    where = f"cohorts.{name}"
    responses = Path(raw["responses"])
    if not (root / responses).is_file():
        raise ConfigError(f"config key `{where}.responses`: file {raw['responses']} does not exist "
                          f"(looked in {(root / responses).parent}). Paths are relative to the folder you run snakemake in.")
    suffix = responses.suffix.lower()
    if suffix not in SUFFIXES:
        hint = " Open it in Excel and save it as .xlsx (or CSV)." if suffix == ".xls" else ""
        raise ConfigError(f"config key `{where}.responses`: {raw['responses']} has the file type {suffix or '(none)'!r}; "
                          f"the pipeline reads {', '.join(SUFFIXES)}.{hint}")
    if raw.get("sheet") is not None and suffix not in (".xlsx", ".xlsm"):
        raise ConfigError(f"config key `{where}.sheet`: a sheet applies to .xlsx files only, and {raw['responses']} "
                          "is not one. Remove the key.")
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
            key = f"response_format.{inst_name}" if fmt is not None and "response format" in str(exc) else "instruments"
            raise ConfigError(f"config key `{where}.{key}`: {exc}") from None
        override = raw["response_scale"].get(inst_name)
        if override:
            try:
                inst = inst.with_scale(override["min"], override["max"])
            except InstrumentError as exc:
                raise ConfigError(f"config key `{where}.response_scale.{inst_name}`: {exc}") from None
        labels = raw["answer_labels"].get(inst_name)
        if labels:
            try:
                inst = inst.with_answer_labels(labels)
            except InstrumentError as exc:
                raise ConfigError(f"config key `{where}.answer_labels.{inst_name}`: {exc}") from None
        instruments.append(inst)
    names = [i.name for i in instruments]
    for key in ("items", "response_format", "response_scale", "answer_labels"):
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
    exclude = raw.get("exclude") or {}
    cohort = Cohort(
        name=name, responses=responses, instruments=tuple(instruments), item_columns=item_columns,
        id_column=raw.get("id_column"), missing_codes=tuple(float(c) for c in raw["missing_codes"]),
        out_of_range=raw["out_of_range"], non_numeric=raw["non_numeric"],
        groups=tuple(raw["groups"]), covariates=tuple(raw["covariates"]),
        couples=(Couples(couples["couple_column"], couples.get("role_column"),
                         _distinguishable_setting(couples.get("distinguishable", "auto"), where))
                 if couples else None),
        children=Path(children) if children else None, sheet=raw.get("sheet"), header_row=int(raw["header_row"]),
        exclude=Exclude(preview=bool(exclude.get("preview", True)), unfinished=bool(exclude.get("unfinished", True)),
                        min_progress=float(exclude.get("min_progress", 0))),
        tick_blanks=raw["tick_blanks"], min_cell=int(min_cell),
    )
    _check_columns(cohort, raw)
    return cohort


def _check_columns(cohort: Cohort, raw: dict) -> None:
    """Each configured column is used for one purpose only, and none identifies a person."""
    where = f"cohorts.{cohort.name}"
    roles: list[tuple[str, str]] = []
    for inst, cols in cohort.item_columns.items():
        roles += [(c, f"items.{inst}") for c in cols]
    if cohort.id_column:
        roles.append((cohort.id_column, "id_column"))
    roles += [(g, "groups") for g in cohort.groups] + [(c, "covariates") for c in cohort.covariates]
    if cohort.couples is not None:
        roles.append((cohort.couples.couple_column, "couples.couple_column"))
        if cohort.couples.role_column:
            roles.append((cohort.couples.role_column, "couples.role_column"))
    seen: dict = {}
    for col, key in roles:
        if col in seen:
            first = seen[col]
            what = "twice in the same list" if first == key else f"both in `{where}.{first}` and in `{where}.{key}`"
            raise ConfigError(f"config key `{where}.{key}`: column {col!r} is named {what}. Each column of the file "
                              "can serve one purpose; correct the column names (an explicit `items` list names each "
                              "item's column once, in item order).")
        seen[col] = key
    for col, key in roles:
        if not key.startswith("items.") and is_identifying(col):
            raise ConfigError(f"config key `{where}.{key}`: column {col!r} identifies people (names, e-mail, IP "
                              "address, location or contact data), and identifying columns are never copied into "
                              "outputs. Remove it, or use a pseudonymous id (e.g. Qualtrics' ResponseId) instead.")


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
    import io as _io

    from .io import _decode

    full = root / path
    if not full.is_file():
        raise ConfigError(f"config key `cohorts`: cohort sheet {path} does not exist.")
    try:
        text, _, _ = _decode(full.read_bytes(), full)
    except ValueError as exc:
        raise ConfigError(f"cohort sheet {path}: {exc}") from None
    cohorts: dict = {}
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter="\t")
    header = next(reader, None)
    if not header or "name" not in [h.strip() for h in header]:
        raise ConfigError(f"cohort sheet {path}: the header needs a `name` column (found: "
                          f"{', '.join(header or [])}); cells are separated by tabs.")
    header = [h.strip() for h in header]
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise ConfigError(f"cohort sheet {path}: column(s) {', '.join(dup)} occur more than once in the header.")
    for cells in reader:
        row_number = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise ConfigError(f"cohort sheet {path}, row {row_number}: {len(cells)} cells but the header has "
                              f"{len(header)}; a tab inside a cell? Remove the extra cells.")
        row = dict(zip(header, cells + [""] * (len(header) - len(cells))))
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
            if key in ("responses", "children", "id_column", "out_of_range", "non_numeric", "tick_blanks"):
                entry[key] = cell
                continue
            try:
                entry[key] = yaml.safe_load(cell)
            except yaml.YAMLError as exc:
                raise ConfigError(f"cohort sheet {path}, row {row_number} (cohort {name}), column {key}: "
                                  f"{cell!r} is not a valid YAML value ({getattr(exc, 'problem', exc)}).") from None
        cohorts[name] = entry
    if not cohorts:
        raise ConfigError(f"cohort sheet {path}: no cohorts (only a header).")
    return cohorts


#: Names a cohort cannot have: the study-level outputs beside the cohort folders in
#: results/<study>/, and names Windows reserves (compared without case).
RESERVED_COHORT_NAMES = ("pooled", "logs", "index.html", "prereg_status.json")
#: Names a study cannot have: other tools' folders in results/.
RESERVED_STUDY_NAMES = ("power", "logs", "bench")
_WINDOWS_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def _check_names(study: str, cohorts: list[str]) -> None:
    """Study and cohort names become folders under results/: none may escape it or collide.

    The schema already allows only letters, digits, ``_ . -`` and a letter or digit first
    (so no ``..``, no ``/``). Here: reserved names and names equal but for case (one folder
    on macOS and Windows).

    >>> _check_names("demo", ["Pooled"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    attachment_pipeline.config.ConfigError: config key `cohorts`: the cohort name 'Pooled' is reserved: ...
    """
    if study.lower() in RESERVED_STUDY_NAMES or study.lower().split(".")[0] in _WINDOWS_NAMES:
        raise ConfigError(f"config key `study`: the name {study!r} is reserved (results/{study}/ is used by other "
                          "commands, or is a reserved device name on Windows); choose another study name.")
    lowered: dict = {}
    for name in cohorts:
        low = name.lower()
        if low in RESERVED_COHORT_NAMES or low.split(".")[0] in _WINDOWS_NAMES:
            raise ConfigError(f"config key `cohorts`: the cohort name {name!r} is reserved: results/<study>/{name} "
                              f"holds study-level outputs ({', '.join(RESERVED_COHORT_NAMES)}) or is a reserved device "
                              "name on Windows; rename the cohort.")
        if low in lowered:
            raise ConfigError(f"config key `cohorts`: the cohort names {lowered[low]!r} and {name!r} differ only in "
                              "case, so they would share one results folder on macOS and Windows; rename one.")
        lowered[low] = name


def _check_n_factors(n_factors, cohorts: dict) -> None:
    """``factors.n_factors`` must be identifiable from each dimension instrument's items.

    An exploratory factor model with k factors on p items has
    ``df = ((p - k)**2 - (p + k)) / 2`` degrees of freedom; below zero it is not
    identified (the Ledermann bound; Ledermann 1937).
    """
    if n_factors is None:
        return
    for cohort in cohorts.values():
        for inst in cohort.dimension_instruments:
            p, k = inst.n_items, int(n_factors)
            df = ((p - k) ** 2 - (p + k)) / 2
            if k >= p or df < 0:
                most = max(j for j in range(0, p) if ((p - j) ** 2 - (p + j)) >= 0)
                raise ConfigError(f"config key `factors.n_factors`: {k} factors cannot be estimated from the {p} items "
                                  f"of {inst.name} (cohort {cohort.name}): the model would have {df:g} degrees of "
                                  f"freedom. Use at most {most} (the Ledermann bound), or null for the instrument's "
                                  f"{len(inst.subscales)} subscales.")


def _check_hypothesis_names(entries: list, raw_entries: list, cohorts: dict, capabilities: dict,
                            required_columns) -> None:
    """Columns and instruments a hypothesis names must exist in some cohort (a misspelt name is refused).

    Only names written in the config count: a family's default column (e.g. ``duration``'s
    relationship_years) that a study lacks just means the hypothesis does not apply there.
    """
    import difflib

    all_columns = sorted(set().union(*(cols for _, cols in capabilities.values())) if capabilities else set())
    instruments = sorted({i.name for c in cohorts.values() for i in c.instruments})
    for e, raw in zip(entries, raw_entries):
        targets = e.get("cohorts") or list(cohorts)
        written = {k: v for k, v in e.items() if k in raw or k == "family"}
        for col in required_columns(written):
            if col not in all_columns:
                close = difflib.get_close_matches(col, all_columns, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"config key `hypotheses[{e['id']}]`: column {col!r} is not a score, group or "
                                  f"covariate column of any cohort ({', '.join(all_columns)}).{hint} Correct the "
                                  "name, or add the column to a cohort's `groups` or `covariates`.")
        inst = raw.get("instrument")
        if inst is not None and not any(inst in [i.name for i in cohorts[c].instruments] for c in targets if c in cohorts):
            raise ConfigError(f"config key `hypotheses[{e['id']}].instrument`: {inst!r} is not an instrument of "
                              f"{'its cohorts' if e.get('cohorts') else 'any cohort'} ({', '.join(instruments)}).")


def load_study(config: dict, root: Path | str = ".") -> Study:
    """Check a config dict and return the :class:`Study` it describes.

    The dict is copied; defaults from the schema are filled into the copy.
    ``root`` is the folder relative paths are resolved against (the working directory).

    >>> repo = Path(__file__).resolve().parents[2]  # the checkout's demo config
    >>> s = load_study(yaml.safe_load(open(repo / "config" / "config.yaml")), repo)
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
    _check_names(config["study"], list(config["cohorts"]))
    instrument_dir = INSTRUMENT_DIR
    if config.get("instrument_dir"):
        instrument_dir = root / config["instrument_dir"]
        if not instrument_dir.is_dir():
            raise ConfigError(f"config key `instrument_dir`: folder {config['instrument_dir']} does not exist.")
    min_cell = int(config["privacy"]["min_cell"])
    cohorts = {name: _cohort(name, raw, instrument_dir, root, min_cell) for name, raw in config["cohorts"].items()}
    _check_n_factors(config["factors"].get("n_factors"), cohorts)
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
    irt = _irt_settings(config["irt"], cohorts, instrument_dir)
    from .hypotheses import registry as hy  # the family registry is the one place that knows each family's keys

    try:
        testing = hy.check_testing_settings(config.get("hypothesis_testing"))
        entries = hy.check_hypotheses(config.get("hypotheses") or [])
    except ValueError as exc:
        raise ConfigError(f"config key `hypotheses` / `hypothesis_testing`: {exc}") from None
    capabilities = {name: hy.cohort_capabilities(c) for name, c in cohorts.items()}
    _check_hypothesis_names(entries, config.get("hypotheses") or [], cohorts, capabilities, hy.required_columns)
    try:
        plan = hy.plan_hypotheses(entries, capabilities)
        hy.check_alpha_levels(plan, testing)
    except ValueError as exc:
        raise ConfigError(f"config key `hypotheses`: {exc}") from None
    lock = config.get("preregistration") or f"config/preregistration/{config['study']}.lock.json"
    return Study(
        name=config["study"], seed=int(config["seed"]), language=config["language"], cohorts=cohorts,
        scoring=Scoring(**config["scoring"]), reliability=Reliability(**config["reliability"]),
        factors=Factors(**config["factors"]), classification=Classification(**classification),
        pooled=Pooled(**config["pooled"]), irt=irt, hypothesis_testing=testing, hypothesis_plan=plan, preregistration_lock=Path(lock), config=config,
    )


def _irt_settings(raw: dict, cohorts: dict, instrument_dir: Path) -> Irt:
    """The ``irt:`` settings; instrument names and anchor item numbers are checked against the instruments."""
    raw = dict(raw)
    known = available_instruments(instrument_dir)
    names = raw.get("instruments")
    if names is not None:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(f"config key `irt.instruments`: unknown instrument {unknown[0]!r}; known: {', '.join(known)}.")
        raw["instruments"] = tuple(names)
    anchors = {}
    for name, numbers in (raw.get("dif_anchors") or {}).items():
        if name not in known:
            raise ConfigError(f"config key `irt.dif_anchors.{name}`: unknown instrument; known: {', '.join(known)}.")
        n_items = next((c.instrument(name).n_items for c in cohorts.values() if name in [i.name for i in c.instruments]),
                       None)
        bad = [n for n in numbers if n_items is not None and not 1 <= n <= n_items]
        if bad:
            raise ConfigError(f"config key `irt.dif_anchors.{name}`: item {bad[0]} does not exist ({name} has items "
                              f"1..{n_items}).")
        anchors[name] = tuple(int(n) for n in numbers)
    raw["dif_anchors"] = anchors
    return Irt(**raw)


def read_config_file(path: Path | str) -> dict:
    """Read a YAML config file (used by tests and tools; Snakemake reads --configfile itself)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}
