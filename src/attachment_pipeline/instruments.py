"""Questionnaire definitions: one YAML file per instrument, shipped as package data.

The shipped files live in the package (``attachment_pipeline/resources/instruments/``)
and are found with :mod:`importlib.resources`, so an installed package finds them
wherever it is installed; a study's own folder (config key ``instrument_dir``, or the
``directory`` argument) is read instead when given.

An :class:`Instrument` is a frozen description of the items a cohort answered:
item numbers, subscale, reverse keying and the response scale. Likert
instruments (ECR-R, ECR) are scored as subscale means after reverse keying;
the minimiser/maximiser checklist (``kind: minmax``) has three response
formats that are resolved here into an item list, so that validation and
scoring treat every instrument alike.

Answer labels (``answer_labels`` in the file) let choice-text exports, where
answers are words such as "Strongly disagree" or "Helemaal mee oneens", be read
as codes; the checklist's statements are their own labels. A broken file (YAML
error, missing key, wrong value) raises :class:`InstrumentError` naming the file,
the line or the key.

Example
-------
>>> ecr_r = load_instrument("ecr_r")
>>> ecr_r.n_items, ecr_r.scale_min, ecr_r.scale_max
(36, 1, 7)
>>> ecr_r.reverse_keyed
(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

#: Where the shipped instrument files live: package data, found with importlib.resources
#: (a :class:`pathlib.Path` for an ordinary install, a Traversable inside a zip).
INSTRUMENT_DIR: Traversable = files(__package__).joinpath("resources", "instruments")

MINMAX_FORMATS = ("ticks", "likert", "forced_choice")


class InstrumentError(ValueError):
    """An instrument file or an instrument request in the config is wrong."""


@dataclass(frozen=True)
class Item:
    """One questionnaire item: its 1-based number, subscale and keying."""

    n: int
    subscale: str
    reverse: bool
    text: dict


def normalise_label(text) -> str:
    """An answer label compared without case, punctuation or extra spaces.

    Choice-text exports (Qualtrics "export choice text") write answers as their labels;
    ``"Neutral / mixed"``, ``"neutral/mixed"`` and ``"Neutral - mixed."`` all match.

    >>> normalise_label("  Neutral / Mixed. "), normalise_label("Helemaal mee oneens")
    ('neutral mixed', 'helemaal mee oneens')
    """
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


@dataclass(frozen=True)
class Instrument:
    """A questionnaire as a cohort answered it.

    ``kind`` is ``likert`` (subscale means after reverse keying) or ``minmax``
    (the Hendrix checklist; ``response_format`` tells which of its formats).
    ``answer_labels`` maps a normalised answer label (:func:`normalise_label`) to its
    code on the current response scale; ``item_labels`` holds item-specific labels
    (the checklist's statements); ``label_sets`` the instrument file's label sets by
    number of answer positions, so that a cohort's scale override finds its own.
    """

    name: str
    title: str
    reference: str
    kind: str
    items: tuple[Item, ...]
    subscales: tuple[str, ...]
    subscale_labels: dict
    scale_min: int
    scale_max: int
    scale_labels: dict
    response_format: str | None = None
    pairs: tuple[dict, ...] = ()
    answer_labels: dict = field(default_factory=dict)
    item_labels: dict = field(default_factory=dict)
    label_sets: dict = field(default_factory=dict)
    source: str = field(default="", repr=False, compare=False)  # the file it was read from

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def reverse_keyed(self) -> tuple[int, ...]:
        """Numbers of the reverse-keyed items, ascending."""
        return tuple(i.n for i in self.items if i.reverse)

    def subscale_items(self, subscale: str) -> tuple[int, ...]:
        """Numbers of the items belonging to ``subscale``."""
        return tuple(i.n for i in self.items if i.subscale == subscale)

    def item_columns(self) -> list[str]:
        """Canonical column names used inside the pipeline: ``<name>_<n>``."""
        return [f"{self.name}_{i.n}" for i in self.items]

    def with_scale(self, scale_min: int, scale_max: int) -> "Instrument":
        """The same instrument answered on another response scale (a cohort override).

        The answer labels become the file's label set for that number of positions
        (position 1 = ``scale_min``), or none.

        >>> load_instrument("ecr_r").with_scale(1, 5).answer_labels["strongly agree"]
        5
        """
        if not scale_min < scale_max:
            raise InstrumentError(
                f"{self.name}: response scale min ({scale_min}) must be below max ({scale_max})."
            )
        labels = _labels_by_position(self.label_sets.get(scale_max - scale_min + 1, {}), int(scale_min))
        return replace(self, scale_min=int(scale_min), scale_max=int(scale_max), scale_labels={}, answer_labels=labels)

    def with_answer_labels(self, mapping: dict) -> "Instrument":
        """The same instrument with a cohort's own answer labels (``{code: label or [labels]}``) added.

        A cohort label takes precedence over the instrument file's label of the same text.

        >>> inst = load_instrument("ecr_r").with_answer_labels({1: ["Totaal oneens"], 7: "Totaal eens"})
        >>> inst.answer_labels["totaal oneens"], inst.answer_labels["strongly agree"]
        (1, 7)
        """
        labels = dict(self.answer_labels)
        for code, texts in mapping.items():
            try:
                value = int(code)
            except (TypeError, ValueError):
                raise InstrumentError(f"{self.name}: answer label code {code!r} is not a whole number.") from None
            if not self.scale_min <= value <= self.scale_max:
                raise InstrumentError(f"{self.name}: answer label code {value} is outside the response scale "
                                      f"{self.scale_min}-{self.scale_max}.")
            for text in _label_list(texts, f"{self.name}: answer labels of code {value}"):
                key = normalise_label(text)
                if not key:
                    raise InstrumentError(f"{self.name}: answer label {text!r} (code {value}) has no letters or digits.")
                labels[key] = value
        return replace(self, answer_labels=labels)

    def code_of(self, item: int, text) -> int | None:
        """The code of an answer given as its label (item-specific labels first), or None."""
        key = normalise_label(text)
        specific = self.item_labels.get(item)
        if specific and key in specific:
            return specific[key]
        return self.answer_labels.get(key)


def _labels_by_position(spec: dict, scale_min: int) -> dict:
    return {normalise_label(t): scale_min + int(pos) - 1 for pos, texts in spec.items() for t in texts}


def _folder(directory) -> Traversable:
    """A user's instrument folder as a Path, or the shipped package-data folder."""
    return INSTRUMENT_DIR if directory is None or directory == "" else Path(directory)


def _read_yaml(path: Traversable, folder: Traversable | None = None) -> dict:
    try:
        with path.open(encoding="utf-8") as fh:
            spec = yaml.safe_load(fh)
    except (FileNotFoundError, KeyError):  # KeyError: a missing member of a zipped package
        known = available_instruments(folder) if folder is not None else []
        raise InstrumentError(
            f"No instrument file {path}. Known instruments: {', '.join(known) or 'none'}."
        ) from None
    except UnicodeDecodeError as exc:
        raise InstrumentError(f"instrument file {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InstrumentError(f"instrument file {path}: YAML error{where}: {problem}. Correct the file (check the "
                              "indentation and quotes near that line).") from None
    if not isinstance(spec, dict):
        raise InstrumentError(f"instrument file {path}: expected a mapping of keys (name, title, items, ...), "
                              f"found {type(spec).__name__}.")
    return spec


def _need(spec: dict, key: str, kind, path: Path, what: str):
    if key not in spec or spec[key] is None:
        raise InstrumentError(f"instrument file {path}: the key `{key}` ({what}) is missing.")
    value = spec[key]
    if not isinstance(value, kind):
        raise InstrumentError(f"instrument file {path}: `{key}` must be {what}; found {value!r:.80}.")
    return value


def _scale(spec, path: Path, where: str) -> tuple[int, int, dict]:
    if not isinstance(spec, dict):
        raise InstrumentError(f"instrument file {path}: `{where}` must be a mapping with min and max.")
    lo, hi = spec.get("min"), spec.get("max")
    if not (isinstance(lo, int) and isinstance(hi, int) and not isinstance(lo, bool) and lo < hi):
        raise InstrumentError(f"instrument file {path}: `{where}` needs whole numbers min < max; found min {lo!r}, "
                              f"max {hi!r}.")
    return lo, hi, spec.get("labels") or {}


def _label_list(value, where: str = "answer_labels") -> tuple[str, ...]:
    values = [value] if isinstance(value, (str, bool)) else list(value or ())
    if any(isinstance(v, bool) for v in values):
        raise InstrumentError(f"{where}: a label was read as true/false (YAML reads unquoted yes/no/on/off so); "
                              "quote it, e.g. \"no\".")
    return tuple(str(v) for v in values)


def _check_label_set(spec, path: Path, where: str, positions: range) -> dict:
    """``{position or code: (labels...)}`` from a YAML mapping; no label may name two answers."""
    if not isinstance(spec, dict):
        raise InstrumentError(f"instrument file {path}: `{where}` must map answers to labels.")
    out, seen = {}, {}
    for key, texts in spec.items():
        if not isinstance(key, int) or key not in positions:
            raise InstrumentError(f"instrument file {path}: `{where}` has key {key!r}; keys must be whole numbers "
                                  f"{positions.start}..{positions.stop - 1}.")
        labels = _label_list(texts, f"instrument file {path}: `{where}.{key}`")
        for t in labels:
            norm = normalise_label(t)
            if norm in seen and seen[norm] != key:
                raise InstrumentError(f"instrument file {path}: in `{where}` the label {t!r} names both answer "
                                      f"{seen[norm]} and answer {key}.")
            seen[norm] = key
        out[key] = labels
    return out


def _minmax_items(spec: dict, response_format: str) -> tuple[Item, ...]:
    pairs = spec["pairs"]
    k = len(pairs)
    if response_format == "forced_choice":
        return tuple(
            Item(n=p["n"], subscale="choice", reverse=False,
                 text={lang: f"{p['minimiser'][lang]} / {p['maximiser'][lang]}" for lang in p["minimiser"]})
            for p in pairs
        )
    return tuple(
        Item(n=p["n"], subscale="minimiser", reverse=False, text=p["minimiser"]) for p in pairs
    ) + tuple(
        Item(n=k + p["n"], subscale="maximiser", reverse=False, text=p["maximiser"]) for p in pairs
    )


def _minmax_item_labels(pairs, response_format: str, scale_min: int, scale_max: int) -> dict:
    """Item-specific labels of the checklist: a statement's text means 'ticked' (or 'chosen')."""
    k = len(pairs)
    out: dict = {}
    for p in pairs:
        if response_format == "forced_choice":
            labels = {normalise_label(t): scale_min for t in p["minimiser"].values()}
            labels.update({normalise_label(t): scale_max for t in p["maximiser"].values()})
            out[p["n"]] = labels
        elif response_format == "ticks":
            out[p["n"]] = {normalise_label(t): scale_max for t in p["minimiser"].values()}
            out[k + p["n"]] = {normalise_label(t): scale_max for t in p["maximiser"].values()}
    return out


def _load_minmax(name: str, spec: dict, path: Path, response_format: str | None) -> Instrument:
    formats = _need(spec, "formats", dict, path, "a mapping of response formats")
    pairs = _need(spec, "pairs", list, path, "a list of statement pairs")
    for i, p in enumerate(pairs):
        if not (isinstance(p, dict) and isinstance(p.get("n"), int) and isinstance(p.get("minimiser"), dict)
                and isinstance(p.get("maximiser"), dict)):
            raise InstrumentError(f"instrument file {path}: pairs[{i}] needs `n` and `minimiser`/`maximiser` texts.")
    fmt = response_format or spec.get("default_format", "ticks")
    if fmt not in formats:
        raise InstrumentError(
            f"{name}: unknown response format {fmt!r}; choose one of {', '.join(formats)}."
        )
    lo, hi, display = _scale((formats[fmt] or {}).get("response_scale"), path, f"formats.{fmt}.response_scale")
    labels = _check_label_set((formats[fmt] or {}).get("answer_labels") or {}, path, f"formats.{fmt}.answer_labels",
                              range(lo, hi + 1))
    items = _minmax_items(spec, fmt)
    subscales = ("choice",) if fmt == "forced_choice" else ("minimiser", "maximiser")
    return Instrument(
        name=name, title=str(_need(spec, "title", str, path, "a text")), reference=str(spec.get("reference", "")),
        kind="minmax", items=items, subscales=subscales, subscale_labels=spec.get("subscales") or {},
        scale_min=lo, scale_max=hi, scale_labels=display, response_format=fmt, pairs=tuple(pairs),
        answer_labels={normalise_label(t): code for code, texts in labels.items() for t in texts},
        item_labels=_minmax_item_labels(pairs, fmt, lo, hi), source=str(path),
    )


def load_instrument(name: str, response_format: str | None = None,
                    directory: Path | str | None = None) -> Instrument:
    """Read ``<directory>/<name>.yaml`` into an :class:`Instrument`.

    Parameters
    ----------
    name : instrument name, e.g. ``"ecr_r"``, ``"ecr"``, ``"minmax"``.
    response_format : for the min/max checklist, ``ticks`` (default), ``likert``
        or ``forced_choice``; must be None for other instruments.
    directory : folder of instrument files; defaults to the shipped files (package data).

    Raises
    ------
    InstrumentError : the file is missing, is not valid YAML (line and column named),
        or lacks a key or has a wrong value (the key named).

    >>> load_instrument("minmax", "forced_choice").n_items
    11
    >>> load_instrument("minmax").subscale_items("maximiser")[:3]
    (12, 13, 14)
    >>> load_instrument("ecr_r").code_of(1, "Helemaal mee oneens")
    1
    """
    folder = _folder(directory)
    path = folder / f"{name}.yaml"
    spec = _read_yaml(path, folder)
    if spec.get("name") != name:
        raise InstrumentError(f"{path}: field 'name' is {spec.get('name')!r}, expected {name!r}.")
    if "pairs" in spec or "formats" in spec:
        return _load_minmax(name, spec, path, response_format)
    if response_format is not None:
        raise InstrumentError(f"{name} has no response formats; remove response_format for it.")
    raw_items = _need(spec, "items", list, path, "a list of items with n, subscale and reverse")
    items = []
    for i, it in enumerate(raw_items):
        if not isinstance(it, dict) or not isinstance(it.get("n"), int) or "subscale" not in it \
                or not isinstance(it.get("reverse"), bool):
            raise InstrumentError(f"instrument file {path}: items[{i}] needs `n` (a whole number), `subscale` and "
                                  f"`reverse` (true or false); found {it!r:.120}.")
        items.append(Item(n=int(it["n"]), subscale=str(it["subscale"]), reverse=it["reverse"],
                          text=it.get("text") or {}))
    items = tuple(items)
    if not items:
        raise InstrumentError(f"instrument file {path}: `items` is empty.")
    numbers = [i.n for i in items]
    if numbers != list(range(1, len(items) + 1)):
        raise InstrumentError(f"{path}: items must be numbered 1..{len(items)} in order.")
    raw_subscales = _need(spec, "subscales", dict, path, "a mapping of subscale names to labels")
    subscales = tuple(raw_subscales)
    unknown = {i.subscale for i in items} - set(subscales)
    if unknown:
        raise InstrumentError(f"{path}: items name undeclared subscales {sorted(unknown)}.")
    lo, hi, display = _scale(spec.get("response_scale"), path, "response_scale")
    sets = spec.get("answer_labels") or {}
    if not isinstance(sets, dict):
        raise InstrumentError(f"instrument file {path}: `answer_labels` must map numbers of answer positions to label sets.")
    label_sets = {}
    for k, labels in sets.items():
        if not isinstance(k, int) or k < 2:
            raise InstrumentError(f"instrument file {path}: `answer_labels` key {k!r} must be a number of answer "
                                  "positions (2 or more).")
        label_sets[k] = _check_label_set(labels, path, f"answer_labels.{k}", range(1, k + 1))
    return Instrument(
        name=name, title=str(_need(spec, "title", str, path, "a text")), reference=str(spec.get("reference", "")),
        kind="likert", items=items, subscales=subscales, subscale_labels=raw_subscales,
        scale_min=lo, scale_max=hi, scale_labels=display,
        answer_labels=_labels_by_position(label_sets.get(hi - lo + 1, {}), lo), label_sets=label_sets,
        source=str(path),
    )


def available_instruments(directory: Path | str | None = None) -> list[str]:
    """Names of the instrument files in ``directory`` (default: the shipped ones).

    >>> available_instruments()
    ['ecr', 'ecr_r', 'minmax']
    """
    folder = _folder(directory)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml") and p.is_file())
