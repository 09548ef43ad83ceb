"""The report's building blocks (rendered by ``kind`` in ``templates/_block.html.j2``) and the section context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


from .i18n import Translator
from ..instruments import Instrument



@dataclass
class Heading:
    text: str
    kind: ClassVar[str] = "h3"


@dataclass
class Para:
    text: str
    css: str = ""
    kind: ClassVar[str] = "p"


@dataclass
class Bullets:
    items: list
    kind: ClassVar[str] = "ul"


@dataclass
class DefList:
    items: list  # (term, value)
    kind: ClassVar[str] = "dl"


@dataclass
class Pre:
    text: str
    kind: ClassVar[str] = "pre"


@dataclass
class Table:
    columns: list
    rows: list
    caption: str = ""
    note: str = ""
    numeric: list = field(default_factory=list)  # column indices aligned right (and not wrapped)
    row_classes: list = field(default_factory=list)
    nowrap: list = field(default_factory=list)  # column indices not wrapped
    kind: ClassVar[str] = "table"


@dataclass
class Image:
    uri: str
    alt: str
    caption: str = ""
    kind: ClassVar[str] = "figure"


@dataclass
class References:
    """A reference list: one entry per item, each a list of (text, italic) runs."""

    items: list
    kind: ClassVar[str] = "refs"


@dataclass
class Section:
    id: str
    title: str
    blocks: list


@dataclass
class Context:
    """Everything a section builder needs: the tables, instruments, texts and settings."""

    res: dict
    instruments: list
    T: Translator
    language: str
    study: str
    cohort: str
    config: dict
    seed: int
    run_time: str
    prereg: dict | None
    min_cell: int
    primary_method: str
    git_commit: str
    paths: dict

    def instrument(self, name: str) -> Instrument:
        return next(i for i in self.instruments if i.name == name)

    @property
    def dimension_instruments(self) -> list:
        return [i for i in self.instruments if {"anxiety", "avoidance"} <= set(i.subscales)]
