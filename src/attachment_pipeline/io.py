"""Reading raw questionnaire exports: CSV/TSV (any common delimiter, decimal comma,
UTF-8 with or without BOM, UTF-16, Windows-1252/Latin-1 fallback), Qualtrics exports
(current and legacy, CSV and Excel), Excel ``.xlsx`` and SPSS ``.sav``.

Everything that was detected, assumed or skipped while reading (encoding, delimiter,
decimal mark, an Excel ``sep=`` line, Qualtrics header rows, blank-looking rows,
identifying columns left out) is recorded on the returned :class:`RawTable`, so that
``qc/validation.json`` can report it. Nothing here judges the values; that is
:mod:`attachment_pipeline.validate`'s job. What a reader cannot decide alone (a
duplicated column name, a formula cell without a saved value) is recorded here and
refused by validation only when the cohort uses that column.

Row numbers are what a person sees in the file: the line in a text editor (a blank
line or a cell with a line break does not shift later rows), the row in Excel, the
case number in SPSS.

Example
-------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "x.csv").write_text("id;q1\\nA;1,5\\n\\nB;2\\n", encoding="utf-8-sig")
>>> t = read_responses(d / "x.csv", text_columns=["id"])
>>> t.delimiter, t.decimal, t.encoding, list(t.frame["q1"])
(';', ',', 'utf-8-sig', [1.5, 2.0])
>>> t.row_label(0), t.row_label(1), t.blank_rows
('row 2', 'row 4', (3,))
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd


class ReadError(ValueError):
    """A responses file cannot be read at all (missing, empty, unknown format, broken structure)."""


#: Column names (compared without case, spaces or punctuation) that identify a person: they are
#: left out on reading, so that no output can ever contain them (Qualtrics metadata and the usual
#: name, e-mail, phone, address and location columns, English and Dutch).
IDENTIFYING_COLUMNS = frozenset({
    "ipaddress", "ip", "recipientemail", "recipientfirstname", "recipientlastname", "recipientname",
    "locationlatitude", "locationlongitude", "latitude", "longitude", "externalreference",
    "externaldatareference", "emailaddress", "email", "mail", "emailadres", "name", "fullname", "firstname",
    "lastname", "surname", "givenname", "familyname", "naam", "voornaam", "achternaam", "volledigenaam",
    "phone", "phonenumber", "telephone", "mobile", "telefoon", "telefoonnummer", "address", "adres",
    "streetaddress", "postcode", "zipcode", "postalcode",
})

#: The longest cell text shown in a message (a pasted essay is not repeated in full).
SHOW_MAX = 60

_DELIMITERS = [",", ";", "\t", "|"]
_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
_SEP_LINE = re.compile(r'^"?sep=(.)"?[ \t]*(\r\n|\n|\r)')
_LEGACY_V = re.compile(r"^V\d+$")
_HEAD_RECORDS = 30
_FIELD_LIMIT = 2**31 - 1


def normalise_name(name) -> str:
    """A column name compared without case, spaces or punctuation: ``"E-mail Address"`` -> ``"emailaddress"``.

    >>> normalise_name("Recipient E-mail"), normalise_name("IPAddress")
    ('recipientemail', 'ipaddress')
    """
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def is_identifying(name) -> bool:
    """Whether a column name is one of :data:`IDENTIFYING_COLUMNS`.

    >>> is_identifying("RecipientEmail"), is_identifying("e-mail"), is_identifying("gender")
    (True, True, False)
    """
    return normalise_name(name) in IDENTIFYING_COLUMNS


def show(value, limit: int = SHOW_MAX) -> str:
    """A cell value quoted for a message, shortened to ``limit`` characters.

    >>> show("x" * 100)[-6:], len(show("x" * 100))
    ("xx...'", 65)
    """
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return repr(text)


@dataclass(frozen=True)
class RawTable:
    """A raw export as read, before validation.

    ``frame`` holds one row per data record (blank-looking records are left out and
    their rows listed in ``blank_rows``). Columns named in ``text_columns`` are
    strings (empty cells are ""); other columns are numbers where the whole column
    is numeric, otherwise strings. ``rows`` holds, per record, its row number as a
    person sees it in the file (``first_row + i`` when None).

    ``duplicates`` maps a column name used more than once in the header to the
    column numbers; the frame holds each copy as ``"<name> [column k]"``.
    ``formula_cells`` maps a column to its formula cells without a saved value
    (``(row, cell, formula)``). ``user_missing`` maps an SPSS column to its
    user-missing ranges ``(lo, hi)``. ``head`` holds the first records of the file
    (``(row, cells)``) and ``other_sheets`` the first rows of the workbook's other
    sheets, to explain a header that is not where the config expects it.
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
    rows: np.ndarray | None = None
    header_row: int = 1
    sheet: str | None = None
    duplicates: dict = field(default_factory=dict)
    formula_cells: dict = field(default_factory=dict)
    user_missing: dict = field(default_factory=dict)
    blank_rows: tuple = ()
    identifying: tuple = ()
    head: tuple = ()
    other_sheets: dict = field(default_factory=dict)
    lines: np.ndarray | None = None

    def row_number(self, i: int) -> int:
        """Row number of the ``i``-th (0-based) data record as a spreadsheet shows it (Excel row, SPSS case)."""
        return int(self.rows[i]) if self.rows is not None else self.first_row + int(i)

    def row_label(self, i: int) -> str:
        """Human row reference of the ``i``-th (0-based) data record: ``'row 5'``, ``'case 3'``.

        When a cell with a line break above it makes the text editor's line differ from the
        row, both are given: ``'row 5 (line 6)'``.
        """
        label = f"{self.row_word} {self.row_number(i)}"
        if self.lines is not None and int(self.lines[i]) != self.row_number(i):
            label += f" (line {int(self.lines[i])})"
        return label

    def take(self, keep: np.ndarray) -> "RawTable":
        """The same table with only the records where ``keep`` is True (row numbers kept)."""
        keep = np.asarray(keep, dtype=bool)
        rows = self.rows if self.rows is not None else self.first_row + np.arange(len(self.frame))
        lines = np.asarray(self.lines)[keep] if self.lines is not None else None
        return replace(self, frame=self.frame.loc[keep].reset_index(drop=True), rows=np.asarray(rows)[keep],
                       lines=lines)

    def describe(self) -> dict:
        """The reading facts for ``qc/validation.json``."""
        out = {
            "file": str(self.path),
            "sha256": self.sha256,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
                self.delimiter, self.delimiter),
            "decimal": self.decimal,
            "first_data_row": int(self.rows[0]) if self.rows is not None and len(self.rows) else self.first_row,
        }
        if self.sheet is not None:
            out["sheet"] = self.sheet
        out["header_row"] = self.header_row
        out["blank_rows_skipped"] = len(self.blank_rows)
        out["identifying_columns_left_out"] = list(self.identifying)
        out["notes"] = list(self.notes)
        return out


def sha256_of(path: Path | str) -> str:
    """Hex sha256 of a file's bytes (for provenance)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# text files


def _decode(data: bytes, path: Path) -> tuple[str, str, tuple[str, ...]]:
    """Bytes to text: BOMs (UTF-8, UTF-16, UTF-32), UTF-16 without BOM, UTF-8, then Windows-1252/Latin-1."""
    boms = [(b"\xff\xfe\x00\x00", "utf-32-le", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32-be", "utf-32"),
            (b"\xef\xbb\xbf", "utf-8", "utf-8-sig"), (b"\xff\xfe", "utf-16-le", "utf-16"),
            (b"\xfe\xff", "utf-16-be", "utf-16")]
    for bom, codec, name in boms:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), name, (
                    () if name == "utf-8-sig" else (f"{path.name} is {name.upper()} text (as Excel's \"Unicode text\"); it was decoded as such.",))
            except UnicodeDecodeError as exc:
                raise ReadError(f"{path}: the file starts with a {name.upper()} byte order mark but byte {exc.start} is not "
                                f"valid {name.upper()}. Export the file again (as UTF-8 CSV).") from None
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 4:
        codec = "utf-16-le" if sample[1::2].count(b"\x00") > sample[0::2].count(b"\x00") else "utf-16-be"
        try:
            return data.decode(codec), codec, (f"{path.name} has no byte order mark but is {codec.upper()} text; it was "
                                               "decoded as such.",)
        except UnicodeDecodeError:
            raise ReadError(f"{path}: the file holds NUL bytes, so it is not a text export (is it a binary file with a "
                            ".csv name?). Export the responses as CSV, .xlsx or .sav.") from None
    try:
        return data.decode("utf-8"), "utf-8", ()
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("cp1252")
            name = "windows-1252"
        except UnicodeDecodeError:
            text, name = data.decode("latin-1"), "latin-1"
        shown = "Windows-1252 (Latin-1)" if name == "windows-1252" else "Latin-1 (ISO-8859-1)"
        note = (f"{path.name} is not valid UTF-8 (first bad byte at offset {exc.start}); it was read as {shown}, "
                "as Excel on Windows saves CSV. Check accented text in group columns.")
        return text, name, (note,)


def _count_outside_quotes(line: str, delim: str) -> int:
    return len(re.sub(r'"[^"]*"', "", line).split(delim)) - 1 if delim in line else 0


def _sniff_delimiter(lines: list[str], suffix: str) -> str:
    """The delimiter of the first of ``lines`` that has one (tab for .tsv)."""
    if suffix == ".tsv":
        return "\t"
    for line in lines:
        counts = {d: _count_outside_quotes(line, d) for d in _DELIMITERS}
        best = max(_DELIMITERS, key=lambda d: counts[d])
        if counts[best] > 0:
            return best
    return ","


class _Lines:
    """Line iterator for :mod:`csv` that counts the lines and characters handed out."""

    def __init__(self, text: str):
        self._f = io.StringIO(text, newline="")
        self.line = 0
        self.offset = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        s = self._f.readline()
        if not s:
            raise StopIteration
        self.line += 1
        self.offset += len(s)
        return s


@dataclass
class _Scan:
    """The record structure of a delimited text, from one pass of :mod:`csv`."""

    start_line: np.ndarray  # first line of each record (1-based)
    offset: np.ndarray  # character offset of each record
    n_fields: np.ndarray
    blank: np.ndarray  # every field empty or white space
    head: list  # (line, cells) of the first records
    ends_with_newline: bool
    n_lines: int = 0  # physical lines in the text (row number of the last line)


_FAST_OFFSETS = 64


def _scan_unquoted(text: str, delimiter: str, line_offset: int) -> _Scan:
    """:func:`_scan` for a text without quote characters, vectorised (every line is one record).

    Large exports (hundreds of thousands of rows) are usually unquoted; reading their structure
    with numpy costs a fraction of a second instead of seconds. Character offsets are kept for
    the first records only (the header and the first data row are always among them).
    """
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    nl = np.flatnonzero(data == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(data)]])
    if text.endswith("\n"):
        starts, ends = starts[:-1], ends[:-1]
    ends_cr = ends - ((ends > starts) & (data[np.maximum(ends - 1, 0)] == 13))  # CRLF: the CR is no content
    is_delim = data == ord(delimiter)
    content = ~is_delim & (data != 32) & (data != 9) & (data != 13) & (data != 10)
    cum_delim = np.concatenate([[0], np.add.accumulate(is_delim, dtype=np.int64)])
    cum_content = np.concatenate([[0], np.add.accumulate(content, dtype=np.int64)])
    n_fields = np.where(ends_cr > starts, cum_delim[ends_cr] - cum_delim[starts] + 1, 0)
    blank = (cum_content[ends_cr] - cum_content[starts]) == 0
    k = min(len(starts), _FAST_OFFSETS)
    offsets = np.array([len(data[:b].tobytes().decode("utf-8")) for b in starts[:k]], dtype=np.int64)
    head_lines = text.split("\n", _HEAD_RECORDS)[:min(len(starts), _HEAD_RECORDS)]
    head = [(i + 1 + line_offset, tuple(next(csv.reader([ln.rstrip("\r")], delimiter=delimiter), [])))
            for i, ln in enumerate(head_lines)]
    return _Scan(np.arange(1, len(starts) + 1, dtype=np.int64) + line_offset, offsets, n_fields.astype(np.int64),
                 blank, head, text.endswith(("\n", "\r")), int(len(starts)) + line_offset)


def _scan(text: str, delimiter: str, path: Path, line_offset: int, quoted: bool = False) -> _Scan:
    """Every record's first line, character offset, number of fields and blankness, in one pass of :mod:`csv`.

    A text without quote characters takes the vectorised :func:`_scan_unquoted` (unless ``quoted``).
    """
    if not quoted and '"' not in text:
        return _scan_unquoted(text, delimiter, line_offset)
    csv.field_size_limit(_FIELD_LIMIT)
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    starts, offsets, nfields, blank, head = [], [], [], [], []
    while True:
        start, offset = lines.line + 1, lines.offset
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ReadError(f"{path}: row {start + line_offset} cannot be parsed ({exc}): a quote opened in that row may "
                            "never be closed, or the file is cut off. Check the quoting there, or export the file "
                            "again.") from None
        starts.append(start + line_offset)
        offsets.append(offset)
        nfields.append(len(rec))
        blank.append(all(not c.strip() for c in rec))
        if len(head) < _HEAD_RECORDS:
            head.append((start + line_offset, tuple(rec)))
    return _Scan(np.asarray(starts, dtype=np.int64), np.asarray(offsets, dtype=np.int64),
                 np.asarray(nfields, dtype=np.int64), np.asarray(blank, dtype=bool), head,
                 text.endswith(("\n", "\r")), lines.line + line_offset)


def _unique_names(header: list[str]) -> tuple[list[str], dict]:
    """Column names from header cells: stripped, empty ones named by position, duplicates told apart."""
    names = [str(c).strip() if c is not None else "" for c in header]
    names = [n if n else f"(column {k + 1})" for k, n in enumerate(names)]
    positions: dict = {}
    for k, n in enumerate(names):
        positions.setdefault(n, []).append(k + 1)
    dups = {n: tuple(p) for n, p in positions.items() if len(p) > 1}
    out = [f"{n} [column {k + 1}]" if n in dups else n for k, n in enumerate(names)]
    return out, dups


def _qualtrics_rows(header: list[str], following: list[tuple]) -> tuple[str | None, int, list[str]]:
    """Qualtrics layout from the header and the records after it: (kind, extra header rows, names).

    Current exports: the record after the names holds question texts, the next ``{"ImportId": ...}``.
    Legacy exports: names V1..V10 for the metadata, whose real names (ResponseID, ...) are in the
    second row together with the question texts.
    """
    if len(following) >= 2 and any('"ImportId"' in str(c) or "'ImportId'" in str(c) for c in following[1]):
        return "qualtrics", 2, header
    if following and sum(bool(_LEGACY_V.match(str(h))) for h in header) >= 3 and any(
            str(c).strip().lower() == "responseid" for c in following[0]):
        second = list(following[0]) + [""] * max(0, len(header) - len(following[0]))
        names = [str(second[k]).strip() if _LEGACY_V.match(str(h)) and str(second[k]).strip() else h
                 for k, h in enumerate(header)]
        return "qualtrics-legacy", 1, names
    return None, 0, header


def _detect_decimal(records: list[tuple], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    cells = [c for rec in records for c in rec]
    return "," if any(_DECIMAL_COMMA.match(c) for c in cells) else "."


def _ragged_error(path: Path, scan: _Scan, first: int, n_header: int, header_row: int) -> None:
    """Refuse records with another number of fields than the header (blank-looking ones excepted).

    The message names the rows and the likely cause: a cut-off file, a quote never
    closed, a header that is not the row of column names (a title above it), or a
    delimiter or line break inside an unquoted cell.
    """
    data = slice(first, None)
    nf, blank, lines = scan.n_fields[data], scan.blank[data], scan.start_line[data]
    bad = np.flatnonzero((nf != n_header) & ~blank)
    if not len(bad):
        return

    def row(i: int) -> str:  # row as a spreadsheet shows it, and the editor's line when it differs
        r, line = first + i + 1, int(lines[i])
        return f"{r}" + (f" (line {line})" if line != r else "")

    last = len(nf) - 1
    if bad[-1] == last and nf[last] < n_header and not scan.ends_with_newline and len(bad) == 1:
        raise ReadError(f"{path}: the file ends in the middle of row {row(last)} (it has {nf[last]} of the header's "
                        f"{n_header} fields and no line end): the export was cut off. Export or copy the file again; "
                        "nothing was analysed.")
    if bad[-1] == last and nf[last] < n_header and scan.n_lines > int(lines[last]):
        # the last record runs over several lines to the end of the file: a quote opened there never closes
        raise ReadError(f"{path}: row {row(last)} starts a quoted cell that runs to the end of the file: a quote "
                        "opened in that row may never be closed. Correct the quoting there in a copy of the file, "
                        "or export it again.")
    counts = pd.Series(nf[~blank]).value_counts()
    mode, share = int(counts.index[0]), float(counts.iloc[0] / counts.sum())
    if mode != n_header and share >= 0.8:
        at = np.flatnonzero(scan.n_fields[:first + 5] == mode)
        guess = f" Row {int(at[0]) + 1} has {mode} fields; if it holds the column names, set `header_row: " \
                f"{int(at[0]) + 1}` for this cohort." if len(at) else ""
        raise ReadError(f"{path}: the header (row {header_row}) has {n_header} field(s), but {counts.iloc[0]} of the "
                        f"{counts.sum()} rows below it have {mode}: row {header_row} is probably not the row of column "
                        f"names (a title above them?).{guess}")
    shown = ", ".join(f"row {row(i)} has {nf[i]}" for i in bad[:5]) + (f", and {len(bad) - 5} more rows" if len(bad) > 5 else "")
    raise ReadError(f"{path}: the header has {n_header} fields, but {shown}. A row with more fields usually means a "
                    "delimiter inside an unquoted cell (e.g. a comma in a free-text answer); a row with fewer, a line "
                    "break inside an unquoted cell or a shortened row. Export the file again with quoted text, or "
                    "correct these rows in a copy.")


def _read_delimited(path: Path, text_columns: list[str], header_row: int = 1) -> RawTable:
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(f"{path}: the file is empty. Export the responses again, with a header row.")
    if data.startswith(b"PK\x03\x04"):
        raise ReadError(f"{path}: this is an Excel workbook (or another zip file) with a {path.suffix} name. Rename it "
                        "to .xlsx, or save it from Excel as CSV.")
    if data.startswith((b"$FL2", b"$FL3")):
        raise ReadError(f"{path}: this is an SPSS data file with a {path.suffix} name. Rename it to .sav.")
    text, encoding, notes = _decode(data, path)
    if "\x00" in text:
        raise ReadError(f"{path}: the text holds NUL characters, so it is not a plain text export. Export the "
                        "responses again as CSV, .xlsx or .sav.")
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # classic Mac line ends
    line_offset = 0
    sep = _SEP_LINE.match(text)
    delimiter = None
    if sep:
        delimiter = sep.group(1)
        text = text[sep.end():]
        line_offset = 1
        notes += (f"The first line ({sep.group(0).strip()!r}, written by Excel) sets the delimiter; it was skipped.",)
    first_lines = text.split("\n", _HEAD_RECORDS)[:_HEAD_RECORDS]
    skip_lines = max(0, header_row - 1 - line_offset)
    if delimiter is None:
        delimiter = _sniff_delimiter(first_lines[skip_lines:] or first_lines, path.suffix.lower())
    scan = _scan(text, delimiter, path, line_offset)
    if not len(scan.start_line):
        raise ReadError(f"{path}: the file holds no records. Export the responses again, with a header row.")
    # the header: row `header_row` as a spreadsheet shows it (one row per record)
    if header_row > len(scan.start_line):
        raise ReadError(f"{path}: `header_row: {header_row}` but the file has {len(scan.start_line)} rows. Give the row "
                        "that holds the column names.")
    h = header_row - 1
    while h < len(scan.blank) and scan.blank[h]:  # blank lines above the header
        h += 1
    if h >= len(scan.blank):
        raise ReadError(f"{path}: the file holds only blank rows. Export the responses again, with a header row.")
    reader = csv.reader(io.StringIO(text[scan.offset[h]:], newline=""), delimiter=delimiter)
    header = next(reader)
    following = []
    for rec in reader:
        following.append(tuple(rec))
        if len(following) >= 2:
            break
    kind, extra, header = _qualtrics_rows(header, following)
    names, dups = _unique_names(header)
    first = h + 1 + extra
    if first >= len(scan.offset) and first < len(scan.start_line):  # a header far down: offsets of the full scan
        scan = _scan(text, delimiter, path, line_offset, quoted=True)
    _ragged_error(path, scan, first, len(names), h + 1)
    data_head = [rec for _, rec in scan.head[first:]] if first < len(scan.head) else []
    decimal = _detect_decimal(data_head, delimiter)
    dtype = {c: str for c in text_columns if c in names}
    if first < len(scan.offset):
        frame = pd.read_csv(
            io.StringIO(text[scan.offset[first]:]), sep=delimiter, decimal=decimal, dtype=dtype, header=None,
            names=names, keep_default_na=False, na_values=[""], skipinitialspace=True, low_memory=False,
            skip_blank_lines=False, engine="c",
        )
    else:
        frame = pd.DataFrame({n: pd.Series(dtype=object) for n in names})
    # a spreadsheet shows one row per record (a blank line too, a cell with line breaks once);
    # a text editor one per line: rows are records, lines are kept to name both when they differ
    records = np.arange(1, len(scan.start_line) + 1, dtype=np.int64)
    rows = records[first:]
    lines = scan.start_line[first:]
    blank = scan.blank[first:]
    if len(frame) != len(rows):
        raise ReadError(f"{path}: the file's records could not be matched to its rows ({len(frame)} read, {len(rows)} "
                        "found); check the quoting of cells with line breaks, or export the file again.")
    for c in dtype:
        frame[c] = frame[c].fillna("").astype(str).str.strip()
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
    if kind == "qualtrics":
        notes += ("Qualtrics export: the two extra header rows (question text, import ids) were skipped.",)
    elif kind == "qualtrics-legacy":
        notes += ("Legacy Qualtrics export: the second header row (ResponseID, ..., question text) named the columns "
                  "V1, V2, ... and was skipped.",)
    if header_row > 1:
        notes += (f"The column names were read from row {header_row} (`header_row`); the rows above were skipped.",)
    if decimal == ",":
        notes += ("Decimal commas detected: numbers like 3,5 were read as 3.5.",)
    return RawTable(
        path=path, frame=frame, format=f"{kind}-csv" if kind else (path.suffix.lower().lstrip(".") or "csv"),
        encoding=encoding, delimiter=delimiter, decimal=decimal, first_row=int(rows[0]) if len(rows) else header_row + 1,
        notes=notes, rows=rows[~blank], header_row=int(records[h]), duplicates=dups,
        blank_rows=tuple(int(r) for r in rows[blank]),
        head=tuple((int(records[k]), cells) for k, (_, cells) in enumerate(scan.head)),
        lines=lines[~blank] if not np.array_equal(rows, lines) else None,
    )


# ---------------------------------------------------------------------------
# Excel


def _cell_text(v) -> str:
    """An Excel value as text: 7.0 -> '7', dates in ISO form, None -> ''."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _column_letter(k: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(k)


def _has_formulas(path: Path) -> bool:
    with zipfile.ZipFile(path) as z:
        return any(re.search(rb"<(\w+:)?f[ >/]", z.read(n)) for n in z.namelist()
                   if n.startswith("xl/worksheets/") and n.endswith(".xml"))


def _sheet_rows(ws) -> list[tuple]:
    ws.reset_dimensions()
    return [tuple(r) for r in ws.iter_rows(min_row=1, values_only=True)]


def _read_xlsx(path: Path, text_columns: list[str], sheet=None, header_row: int = 1) -> RawTable:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc}). Open it in Excel and save "
                        "it as .xlsx again, or export the responses as CSV.") from None
    try:
        sheets = wb.sheetnames
        if sheet is None:
            name = sheets[0]
        elif isinstance(sheet, int):
            if not 1 <= sheet <= len(sheets):
                raise ReadError(f"{path}: `sheet: {sheet}` but the workbook has {len(sheets)} sheet(s): "
                                f"{', '.join(map(repr, sheets))}.")
            name = sheets[sheet - 1]
        else:
            match = [s for s in sheets if s == sheet] or [s for s in sheets if s.strip().lower() == str(sheet).strip().lower()]
            if not match:
                raise ReadError(f"{path}: no sheet named {sheet!r}; the workbook has {', '.join(map(repr, sheets))}. "
                                "Correct `sheet` in the config (a name or a number, 1 = the first sheet).")
            name = match[0]
        values = _sheet_rows(wb[name])
        other = {}
        for s in sheets:
            if s != name:
                ws = wb[s]
                ws.reset_dimensions()
                other[s] = tuple(tuple(_cell_text(v) for v in r) for r in ws.iter_rows(min_row=1, max_row=12, values_only=True))
    finally:
        wb.close()
    formulas: dict = {}
    if _has_formulas(path):
        wbf = openpyxl.load_workbook(path, read_only=True, data_only=False)
        try:
            formulas = {(i + 1, k + 1): v for i, r in enumerate(_sheet_rows(wbf[name])) for k, v in enumerate(r)
                        if isinstance(v, str) and v.startswith("=")}
        finally:
            wbf.close()
    width = max((len(r) for r in values), default=0)
    texts = lambda r: [_cell_text(v) for v in r]  # noqa: E731
    head = tuple((i + 1, tuple(texts(r))) for i, r in enumerate(values[:_HEAD_RECORDS]))
    blank = np.array([all(not _cell_text(v).strip() for v in r) for r in values], dtype=bool)
    if header_row > len(values):
        raise ReadError(f"{path}: sheet {name!r} has {len(values)} rows, fewer than `header_row: {header_row}`.")
    h = header_row - 1
    while h < len(values) and blank[h]:
        h += 1
    if h >= len(values):
        raise ReadError(f"{path}: sheet {name!r} is empty. Choose the sheet with the responses (`sheet:` in the config).")
    header = texts(values[h]) + [""] * (width - len(values[h]))
    following = [tuple(texts(r)) for r in values[h + 1:h + 3]]
    kind, extra, header = _qualtrics_rows(header, following)
    names, dups = _unique_names(header)
    first = h + 1 + extra
    body = values[first:]
    rows = np.arange(first + 1, len(values) + 1, dtype=np.int64)
    keep = ~blank[first:]
    body = [r for r, k in zip(body, keep) if k]
    rows_kept = rows[keep]
    columns = {}
    text_set = set(text_columns)
    formula_cells: dict = {}
    n_formula_values = 0
    for k, n in enumerate(names):
        col = [r[k] if k < len(r) else None for r in body]
        for i, v in (enumerate(col) if formulas else ()):
            f = formulas.get((int(rows_kept[i]), k + 1))
            if f is not None:
                if v is None:
                    formula_cells.setdefault(n, []).append((int(rows_kept[i]), f"{_column_letter(k + 1)}{rows_kept[i]}", f))
                else:
                    n_formula_values += 1
        if n in text_set:
            columns[n] = pd.Series([_cell_text(v).strip() for v in col], dtype=object)
        elif all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in col):
            columns[n] = pd.Series([np.nan if v is None else float(v) for v in col], dtype=float)
        else:
            columns[n] = pd.Series([np.nan if v is None or (isinstance(v, str) and not v.strip()) else
                                    (v if isinstance(v, (int, float)) and not isinstance(v, bool) else _cell_text(v))
                                    for v in col], dtype=object)
    frame = pd.DataFrame(columns, columns=names) if names else pd.DataFrame()
    notes = (f"Read sheet {name!r}" + (f" (of {len(sheets)}: {', '.join(map(repr, sheets))})" if len(sheets) > 1 else "") + ".",)
    if kind == "qualtrics":
        notes += ("Qualtrics export: the two extra header rows (question text, import ids) were skipped.",)
    elif kind == "qualtrics-legacy":
        notes += ("Legacy Qualtrics export: the second header row named the columns V1, V2, ... and was skipped.",)
    if header_row > 1:
        notes += (f"The column names were read from row {header_row} (`header_row`); the rows above were skipped.",)
    if n_formula_values:
        notes += (f"{n_formula_values} formula cell(s): the values Excel saved with them were used.",)
    return RawTable(path=path, frame=frame, format=f"{kind}-xlsx" if kind else "xlsx", encoding=None, delimiter=None, decimal=".",
                    first_row=int(rows_kept[0]) if len(rows_kept) else first + 1, notes=notes, rows=rows_kept,
                    header_row=h + 1, sheet=name, duplicates=dups,
                    formula_cells={k: tuple(v) for k, v in formula_cells.items()},
                    blank_rows=tuple(int(r) for r in rows[~keep]), head=head, other_sheets=other)


# ---------------------------------------------------------------------------
# SPSS


def _read_sav(path: Path, text_columns: list[str]) -> RawTable:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True)
    except Exception as exc:  # pyreadstat raises its own ReadstatError / PyreadstatError types
        raise ReadError(f"{path}: not a readable SPSS .sav file ({type(exc).__name__}: {exc}). Save it from SPSS "
                        "again, or export the responses as CSV.") from None
    labels = {k: dict(v) for k, v in meta.variable_value_labels.items()}
    user_missing = {}
    for col, ranges in (meta.missing_ranges or {}).items():
        spans = tuple((float(r["lo"]), float(r["hi"])) for r in ranges
                      if isinstance(r.get("lo"), (int, float)) and isinstance(r.get("hi"), (int, float)))
        if spans:
            user_missing[col] = spans
    for c in text_columns:
        if c not in frame.columns:
            continue
        col = frame[c]
        if c in labels:
            col = col.map(lambda v, lab=labels[c]: lab.get(v, v))
        # numeric codes without labels become their integer text ("2", not "2.0")
        col = col.map(lambda v: "" if pd.isna(v) else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
        frame[c] = col.astype(str).str.strip()
    blank = frame.apply(lambda s: s.isna() | s.astype(str).str.strip().isin(["", "nan"])).all(axis=1).to_numpy() \
        if len(frame.columns) else np.zeros(len(frame), bool)
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    notes = ("SPSS value labels were applied to group and id columns.",) if labels else ()
    if user_missing:
        notes += (f"SPSS user-missing values are defined for {len(user_missing)} variable(s); they count as missing "
                  "codes.",)
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
    return RawTable(path=path, frame=frame, format="sav", encoding=meta.file_encoding, delimiter=None,
                    decimal=".", first_row=1, row_word="case", value_labels=labels, notes=notes,
                    rows=rows[~blank], user_missing=user_missing, blank_rows=tuple(int(r) for r in rows[blank]),
                    head=((0, tuple(str(c) for c in frame.columns)),))


# ---------------------------------------------------------------------------

#: File types read by :func:`read_responses`.
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".sav", ".zsav")


def read_responses(path: Path | str, text_columns: list[str] | tuple[str, ...] = (), *,
                   sheet: str | int | None = None, header_row: int = 1) -> RawTable:
    """Read a responses export into a :class:`RawTable`.

    Parameters
    ----------
    path : ``.csv``, ``.tsv``, ``.txt`` (delimited text; Qualtrics exports are
        recognised by their ``ImportId`` row, legacy ones by V1.. names over a
        ``ResponseID`` row), ``.xlsx`` or ``.sav``.
    text_columns : columns to keep as text (ids, couple ids, roles, groups), so
        that ``007`` stays ``007`` and SPSS value labels are kept.
    sheet : Excel only: sheet name or 1-based number (default the first sheet).
    header_row : the row holding the column names, as seen in the file (default 1);
        rows above it are skipped.

    Identifying columns (:data:`IDENTIFYING_COLUMNS`) are left out of the frame and named
    in ``identifying``.

    Raises
    ------
    ReadError : the file is missing, empty, of an unknown type, or broken (cut off,
        rows with the wrong number of fields, unclosed quotes).
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path}: file not found. Check the cohort's `responses` path in the config "
                        "(paths are relative to the folder you run snakemake in).")
    suffix = path.suffix.lower()
    text_columns = list(text_columns)
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            table = _read_delimited(path, text_columns, header_row)
        elif suffix in (".xlsx", ".xlsm"):
            table = _read_xlsx(path, text_columns, sheet, header_row)
        elif suffix in (".sav", ".zsav"):
            table = _read_sav(path, text_columns)
        elif suffix == ".xls":
            raise ReadError(f"{path}: old Excel .xls files are not read. Open it in Excel and save it as .xlsx (or CSV).")
        else:
            raise ReadError(f"{path}: unknown file type {suffix!r}. Use .csv, .tsv, .txt, .xlsx or .sav.")
    except ReadError:
        raise
    except pd.errors.ParserError as exc:
        raise ReadError(f"{path}: cannot be parsed as a table ({exc}). Check that every row has the same "
                        "number of fields as the header.") from None
    except (pd.errors.EmptyDataError, ValueError, OSError, UnicodeError, csv.Error, zipfile.BadZipFile) as exc:
        raise ReadError(f"{path}: cannot be read ({type(exc).__name__}: {exc}).") from None
    frame = table.frame
    frame.columns = [str(c).strip() for c in frame.columns]
    identifying = tuple(c for c in frame.columns if is_identifying(c))
    if identifying:
        frame = frame.drop(columns=list(identifying))
    return replace(table, frame=frame, identifying=identifying, sha256=sha256_of(path))
