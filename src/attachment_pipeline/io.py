"""Reading raw questionnaire exports: CSV/TSV (any common delimiter, decimal comma,
UTF-8 with or without BOM, Latin-1 fallback), Qualtrics CSV exports, Excel ``.xlsx``
and SPSS ``.sav``.

Everything that was detected or assumed while reading (encoding, delimiter,
decimal mark, skipped Qualtrics header rows) is recorded on the returned
:class:`RawTable`, so that ``qc/validation.json`` can report it. Nothing here
judges the values; that is :mod:`attachment_pipeline.validate`'s job.

Example
-------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "x.csv").write_text("id;q1\\nA;1,5\\nB;2\\n", encoding="utf-8-sig")
>>> t = read_responses(d / "x.csv", text_columns=["id"])
>>> t.delimiter, t.decimal, t.encoding, list(t.frame["q1"])
(';', ',', 'utf-8-sig', [1.5, 2.0])
>>> t.row_label(0)
'row 2'
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd


class ReadError(ValueError):
    """A responses file cannot be read at all (missing, empty, unknown format)."""


@dataclass(frozen=True)
class RawTable:
    """A raw export as read, before validation.

    ``frame`` holds one row per data record. Columns named in ``text_columns``
    are strings (empty cells are ""); other columns are whatever pandas infers
    (numbers where the whole column is numeric, otherwise strings).
    ``first_row`` is the row number of the first data record as a person sees it
    in the file (header = row 1; Qualtrics exports: data start at row 4).
    """

    path: Path
    frame: pd.DataFrame
    format: str
    encoding: str | None
    delimiter: str | None
    decimal: str
    first_row: int
    row_word: str = "row"
    value_labels: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    sha256: str = ""

    def row_label(self, i: int) -> str:
        """Human row reference of the ``i``-th (0-based) data record: ``'row 5'`` or ``'case 3'``."""
        return f"{self.row_word} {self.first_row + i}"

    def describe(self) -> dict:
        """The reading facts for ``qc/validation.json``."""
        return {
            "file": str(self.path),
            "sha256": self.sha256,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
                self.delimiter, self.delimiter),
            "decimal": self.decimal,
            "first_data_row": self.first_row,
            "notes": list(self.notes),
        }


_DELIMITERS = [",", ";", "\t", "|"]
_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


def sha256_of(path: Path | str) -> str:
    """Hex sha256 of a file's bytes (for provenance)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _decode(data: bytes, path: Path) -> tuple[str, str, tuple[str, ...]]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig", ()
    try:
        return data.decode("utf-8"), "utf-8", ()
    except UnicodeDecodeError as exc:
        note = (f"{path.name} is not valid UTF-8 (first bad byte at offset {exc.start}); "
                "it was read as Latin-1 (ISO-8859-1). Check accented text in group columns.")
        return data.decode("latin-1"), "latin-1", (note,)


def _sniff_delimiter(header_line: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _first_records(text: str, delimiter: str, n: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    out = []
    for rec in reader:
        out.append(rec)
        if len(out) >= n:
            break
    return out


def _is_qualtrics(records: list[list[str]]) -> bool:
    """Qualtrics CSV exports carry two extra header rows; the third holds ``{"ImportId": ...}``."""
    return len(records) >= 3 and any('"ImportId"' in cell or "'ImportId'" in cell for cell in records[2])


def _detect_decimal(text: str, delimiter: str) -> str:
    if delimiter == ",":
        return "."
    sample = _first_records(text, delimiter, 200)[1:]
    cells = [c for rec in sample for c in rec]
    return "," if any(_DECIMAL_COMMA.match(c) for c in cells) else "."


def _read_delimited(path: Path, text_columns: list[str]) -> RawTable:
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(f"{path}: the file is empty. Export the responses again, with a header row.")
    text, encoding, notes = _decode(data, path)
    header_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(header_line, path.suffix.lower())
    records = _first_records(text, delimiter, 3)
    qualtrics = _is_qualtrics(records)
    decimal = _detect_decimal(text, delimiter)
    header = records[0] if records else []
    dtype = {c: str for c in text_columns if c in header}
    frame = pd.read_csv(
        io.StringIO(text), sep=delimiter, decimal=decimal, dtype=dtype,
        skiprows=[1, 2] if qualtrics else None, keep_default_na=False, na_values=[""],
        skipinitialspace=True, low_memory=False,
    )
    for c in dtype:
        frame[c] = frame[c].fillna("").astype(str).str.strip()
    if qualtrics:
        notes = notes + ("Qualtrics export: the two extra header rows (question text, import ids) were skipped.",)
    if decimal == ",":
        notes = notes + ("Decimal commas detected: numbers like 3,5 were read as 3.5.",)
    return RawTable(
        path=path, frame=frame, format="qualtrics-csv" if qualtrics else path.suffix.lower().lstrip("."),
        encoding=encoding, delimiter=delimiter, decimal=decimal,
        first_row=4 if qualtrics else 2, notes=notes,
    )


def _read_xlsx(path: Path, text_columns: list[str]) -> RawTable:
    header = pd.read_excel(path, sheet_name=0, nrows=0).columns
    dtype = {c: str for c in text_columns if c in header}
    frame = pd.read_excel(path, sheet_name=0, dtype=dtype)
    for c in dtype:
        frame[c] = frame[c].fillna("").astype(str).str.strip()
    return RawTable(path=path, frame=frame, format="xlsx", encoding=None, delimiter=None,
                    decimal=".", first_row=2, notes=("Read the first worksheet.",))


def _read_sav(path: Path, text_columns: list[str]) -> RawTable:
    import pyreadstat

    frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    labels = {k: dict(v) for k, v in meta.variable_value_labels.items()}
    for c in text_columns:
        if c not in frame.columns:
            continue
        col = frame[c]
        if c in labels:
            col = col.map(lambda v, lab=labels[c]: lab.get(v, v))
        # numeric codes without labels become their integer text ("2", not "2.0")
        col = col.map(lambda v: "" if pd.isna(v) else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
        frame[c] = col.astype(str).str.strip()
    return RawTable(path=path, frame=frame, format="sav", encoding=meta.file_encoding, delimiter=None,
                    decimal=".", first_row=1, row_word="case", value_labels=labels,
                    notes=("SPSS value labels were applied to group and id columns.",) if labels else ())


def read_responses(path: Path | str, text_columns: list[str] | tuple[str, ...] = ()) -> RawTable:
    """Read a responses export into a :class:`RawTable`.

    Parameters
    ----------
    path : ``.csv``, ``.tsv``, ``.txt`` (delimited text; Qualtrics exports are
        recognised by their ``ImportId`` row), ``.xlsx`` or ``.sav``.
    text_columns : columns to keep as text (ids, couple ids, roles, groups), so
        that ``007`` stays ``007`` and SPSS value labels are kept.

    Raises
    ------
    ReadError : the file is missing, empty or of an unknown type.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: file not found. Check the cohort's `responses` path in the config "
                        "(paths are relative to the folder you run snakemake in).")
    suffix = path.suffix.lower()
    text_columns = list(text_columns)
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            table = _read_delimited(path, text_columns)
        elif suffix == ".xlsx":
            table = _read_xlsx(path, text_columns)
        elif suffix == ".sav":
            table = _read_sav(path, text_columns)
        else:
            raise ReadError(f"{path}: unknown file type {suffix!r}. Use .csv, .tsv, .txt, .xlsx or .sav.")
    except ReadError:
        raise
    except pd.errors.ParserError as exc:
        raise ReadError(f"{path}: cannot be parsed as a table ({exc}). Check that every row has the same "
                        "number of fields as the header.") from None
    except (pd.errors.EmptyDataError, ValueError, OSError) as exc:
        raise ReadError(f"{path}: cannot be read ({exc}).") from None
    frame = table.frame
    frame.columns = [str(c).strip() for c in frame.columns]
    return replace(table, sha256=sha256_of(path))
