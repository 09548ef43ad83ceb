"""Reading and writing the pipeline's tables: one float format, atomic writes, skipped rows.

Every step writes through these helpers, and the output modules (report, exports) read
through them, so the file conventions have one home:

- CSVs use :data:`FLOAT_FORMAT` (round-trips doubles, stable bytes) and ``\\n`` line ends;
- every file is written to a temporary name and renamed when complete (a killed job
  leaves no half-written table);
- an analysis the data cannot support is a row with the reason in :data:`SKIPPED`.

>>> import pandas as pd
>>> computed, skipped = split_skipped(pd.DataFrame({"x": [1.0, None], SKIPPED: [None, "too few"]}))
>>> len(computed), skipped[SKIPPED].tolist()
(1, ['too few'])
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

#: float format for every CSV the pipeline writes: round-trips doubles, stable bytes
FLOAT_FORMAT = "%.10g"


#: The column that carries, per skipped analysis, why it was skipped.
SKIPPED = "skipped_reason"


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def format_floats(values) -> list[str]:
    """Floats as :data:`FLOAT_FORMAT` text, NaN as empty: the bytes ``DataFrame.to_csv(float_format=...)`` writes.

    pandas applies a float format value by value through several Python layers
    (about 10 us a value: 100 s for a million respondents' scores); one
    ``%``-formatting per value in a list comprehension is some fifty times faster.

    >>> format_floats(np.array([1.0, 2 / 3, np.nan, -0.0, 1e-12, np.inf]))
    ['1', '0.6666666667', '', '-0', '1e-12', 'inf']
    """
    fmt = FLOAT_FORMAT
    return [fmt % v if v == v else "" for v in np.asarray(values, dtype=float).tolist()]


def write_csv(frame: pd.DataFrame, path: Path | str, index: bool = False) -> None:
    """Write a tidy CSV with the project's fixed float format and ``\\n`` line ends (atomically).

    Float columns are formatted by :func:`format_floats` (the same bytes as pandas'
    ``float_format``, faster).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    floats = [k for k in range(frame.shape[1]) if pd.api.types.is_float_dtype(frame.dtypes.iloc[k])]
    if floats and len(frame) > 1000:
        frame = frame.copy(deep=False)
        for k in floats:
            frame.isetitem(k, pd.Series(format_floats(frame.iloc[:, k].to_numpy()), index=frame.index, dtype=object))
    frame.to_csv(tmp, index=index, float_format=FLOAT_FORMAT, lineterminator="\n")
    os.replace(tmp, path)


def write_json(obj: dict, path: Path | str) -> None:
    """Write JSON with sorted-free stable layout (insertion order), 2-space indent, trailing newline (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def skipped_rows(reason: str, **keys) -> pd.DataFrame:
    """One row naming what was skipped (e.g. ``instrument``, ``method``) and why (:data:`SKIPPED`)."""
    return pd.DataFrame([{**keys, SKIPPED: reason}])


def split_skipped(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A table's computed rows (without the :data:`SKIPPED` column) and its skipped rows."""
    if SKIPPED not in frame.columns:
        return frame, frame.iloc[0:0]
    mask = frame[SKIPPED].notna() & (frame[SKIPPED].astype(str) != "")
    return frame.loc[~mask].drop(columns=[SKIPPED]).reset_index(drop=True), frame.loc[mask].reset_index(drop=True)


def fresh_dir(path) -> Path:
    """An empty folder at ``path`` (a previous run's files removed, so none can go stale)."""
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def read_scores(path: Path | str) -> pd.DataFrame:
    """Read ``scores.csv`` (or ``items.csv``) indexed by the id column, ids as text."""
    id_name = pd.read_csv(path, nrows=0).columns[0]
    return pd.read_csv(path, dtype={id_name: str}, index_col=0)


def read_table(path: Path | str, *, id_column: str | None = None, computed: bool = False) -> pd.DataFrame:
    """Read one of the pipeline's CSV tables.

    ``id_column``: a column of respondent ids, read as text (``"first"``: the first column, as in
    ``classification.csv`` and ``irt_scores.csv``). ``computed``: only the computed rows, without the
    :data:`SKIPPED` column (:func:`split_skipped`).
    """
    dtype = None
    if id_column is not None:
        name = pd.read_csv(path, nrows=0).columns[0] if id_column == "first" else id_column
        dtype = {name: str}
    frame = pd.read_csv(path, dtype=dtype)
    return split_skipped(frame)[0] if computed else frame
