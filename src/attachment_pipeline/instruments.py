"""Questionnaire definitions: one YAML file per instrument under ``config/instruments/``.

An :class:`Instrument` is a frozen description of the items a cohort answered:
item numbers, subscale, reverse keying and the response scale. Likert
instruments (ECR-R, ECR) are scored as subscale means after reverse keying;
the minimiser/maximiser checklist (``kind: minmax``) has three response
formats that are resolved here into an item list, so that validation and
scoring treat every instrument alike.

Example
-------
>>> ecr_r = load_instrument("ecr_r")
>>> ecr_r.n_items, ecr_r.scale_min, ecr_r.scale_max
(36, 1, 7)
>>> ecr_r.reverse_keyed
(9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import yaml

#: Where the shipped instrument files live (``config/instruments`` at the repository top).
INSTRUMENT_DIR = Path(__file__).resolve().parents[2] / "config" / "instruments"

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


@dataclass(frozen=True)
class Instrument:
    """A questionnaire as a cohort answered it.

    ``kind`` is ``likert`` (subscale means after reverse keying) or ``minmax``
    (the Hendrix checklist; ``response_format`` tells which of its formats).
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
        """The same instrument answered on another response scale (a cohort override)."""
        if not scale_min < scale_max:
            raise InstrumentError(
                f"{self.name}: response scale min ({scale_min}) must be below max ({scale_max})."
            )
        return replace(self, scale_min=int(scale_min), scale_max=int(scale_max), scale_labels={})


def _read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise InstrumentError(
            f"No instrument file {path}. Known instruments: {', '.join(known) or 'none'}."
        ) from None


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


def load_instrument(name: str, response_format: str | None = None,
                    directory: Path | str | None = None) -> Instrument:
    """Read ``<directory>/<name>.yaml`` into an :class:`Instrument`.

    Parameters
    ----------
    name : instrument name, e.g. ``"ecr_r"``, ``"ecr"``, ``"minmax"``.
    response_format : for the min/max checklist, ``ticks`` (default), ``likert``
        or ``forced_choice``; must be None for other instruments.
    directory : folder of instrument files; defaults to the shipped ``config/instruments``.

    >>> load_instrument("minmax", "forced_choice").n_items
    11
    >>> load_instrument("minmax").subscale_items("maximiser")[:3]
    (12, 13, 14)
    """
    path = Path(directory or INSTRUMENT_DIR) / f"{name}.yaml"
    spec = _read_yaml(path)
    if spec.get("name") != name:
        raise InstrumentError(f"{path}: field 'name' is {spec.get('name')!r}, expected {name!r}.")
    if "pairs" in spec:
        fmt = response_format or spec.get("default_format", "ticks")
        if fmt not in spec["formats"]:
            raise InstrumentError(
                f"{name}: unknown response format {fmt!r}; choose one of {', '.join(spec['formats'])}."
            )
        scale = spec["formats"][fmt]["response_scale"]
        items = _minmax_items(spec, fmt)
        subscales = ("choice",) if fmt == "forced_choice" else ("minimiser", "maximiser")
        return Instrument(
            name=name, title=spec["title"], reference=spec["reference"], kind="minmax",
            items=items, subscales=subscales, subscale_labels=spec["subscales"],
            scale_min=int(scale["min"]), scale_max=int(scale["max"]),
            scale_labels=scale.get("labels", {}), response_format=fmt,
            pairs=tuple(spec["pairs"]),
        )
    if response_format is not None:
        raise InstrumentError(f"{name} has no response formats; remove response_format for it.")
    items = tuple(
        Item(n=int(it["n"]), subscale=it["subscale"], reverse=bool(it["reverse"]), text=it.get("text", {}))
        for it in spec["items"]
    )
    numbers = [i.n for i in items]
    if numbers != list(range(1, len(items) + 1)):
        raise InstrumentError(f"{path}: items must be numbered 1..{len(items)} in order.")
    subscales = tuple(spec["subscales"])
    unknown = {i.subscale for i in items} - set(subscales)
    if unknown:
        raise InstrumentError(f"{path}: items name undeclared subscales {sorted(unknown)}.")
    scale = spec["response_scale"]
    return Instrument(
        name=name, title=spec["title"], reference=spec["reference"], kind="likert",
        items=items, subscales=subscales, subscale_labels=spec["subscales"],
        scale_min=int(scale["min"]), scale_max=int(scale["max"]),
        scale_labels=scale.get("labels", {}),
    )


def available_instruments(directory: Path | str | None = None) -> list[str]:
    """Names of the instrument files in ``directory`` (default: the shipped ones)."""
    return sorted(p.stem for p in Path(directory or INSTRUMENT_DIR).glob("*.yaml"))
