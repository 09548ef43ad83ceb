"""Validation of one cohort's raw responses, once, at the boundary.

:func:`validate_cohort` turns a :class:`~attachment_pipeline.io.RawTable` into a
:class:`ValidatedCohort`: ids, item answers as floats (NaN = missing), the
respondent columns (groups, couples, covariates), and a report of everything
that was counted on the way (``qc/validation.json``).

Unusable data raise :class:`DataError` with one paragraph that names the file,
the row as a person sees it in the file, the column, the value and what to do.
What the config declares acceptable (``missing_codes``, ``out_of_range: missing``,
``non_numeric: missing``) is counted per item, never dropped silently.

Rules
-----
1. The file has at least one data row. Survey-platform records marked as preview or
   test, unfinished, or below ``exclude.min_progress`` are left out first, and counted.
2. A column the cohort uses is named once in the header and holds no formula without a
   saved value.
3. Every item column of every instrument exists (all missing ones are named; when the
   names stand in another row or on another sheet, the message says which).
4. ``id_column`` (when given) exists, has no empty cell, no duplicate and no e-mail or IP
   address.
5. Item answers are numbers or answer labels of the instrument; whole numbers inside the
   response scale, a declared missing code (SPSS user-missing values included), or blank.
   In a checkbox export of the checklist a blank can mean "not ticked" (``tick_blanks``).
6. Group, covariate, couple and role columns exist; covariates are numeric. A group level
   with fewer than ``privacy.min_cell`` respondents, or one that holds an e-mail or IP
   address, is read as "no group" and counted without its label.
7. Couples have exactly two members; with a role column the two roles differ.
8. Children records (optional file) name known parents, unique child ids and a
   Strange Situation code A, B, C or D.

What is suspicious but usable is a warning in ``report["warnings"]``: answers that use
only part of the declared response scale (1-5 answers under a 1-7 scale), answers above
it set missing, items nobody answered or everyone answered alike, an instrument on which
no respondent could be scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import Cohort
from .io import RawTable, read_responses, show

SSP_CODES = ("A", "B", "C", "D")
_MAX_LISTED = 5
#: an answer count below which a declared-vs-observed scale comparison says nothing
_SCALE_CHECK_MIN_RESPONDENTS = 20
_EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
_IPV4 = r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"
_IDENTIFYING_TEXT = re.compile(f"{_EMAIL}|{_IPV4}")


class DataError(ValueError):
    """Raw data cannot be used as they are; the message says where and what to do."""


@dataclass(frozen=True)
class ValidatedCohort:
    """A cohort's data after validation.

    ``items`` maps an instrument name to a DataFrame indexed by respondent id with
    canonical columns ``<instrument>_<n>`` holding the answers as given (not yet
    reverse-keyed), NaN for missing. ``respondents`` is indexed by id and holds
    the group, couple, role and covariate columns. ``report`` is the JSON-ready
    validation report; ``missingness`` the per-item missingness table.
    """

    ids: pd.Index
    items: dict
    respondents: pd.DataFrame
    children: pd.DataFrame | None
    report: dict
    missingness: pd.DataFrame


def _fail(raw: RawTable, what: str, todo: str) -> DataError:
    return DataError(f"{raw.path}: {what} {todo}")


def _show(value) -> str:
    """A cell value as the person typed it: 8.0 read from a numeric column shows as '8'; long text shortened."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return repr(str(int(value)))
    return show(value)


def _list_cells(raw: RawTable, rows: np.ndarray, cols: list[str], values: list) -> str:
    shown = [f"{raw.row_label(r)}, column {c}: {_show(v)}" for r, c, v in zip(rows[:_MAX_LISTED], cols[:_MAX_LISTED], values[:_MAX_LISTED])]
    more = len(rows) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _rows_text(raw: RawTable, idx) -> str:
    idx = list(idx)
    text = ", ".join(str(raw.row_number(i)) for i in idx[:_MAX_LISTED])
    return text + (f" and {len(idx) - _MAX_LISTED} more" if len(idx) > _MAX_LISTED else "")


# ---------------------------------------------------------------------------
# survey-platform records left out (preview, test, unfinished, low progress)


def _column(frame: pd.DataFrame, name: str) -> str | None:
    """The frame's column named ``name`` (compared without case), or None."""
    for c in frame.columns:
        if str(c).strip().lower() == name.lower():
            return c
    return None


def _qualtrics_like(raw: RawTable) -> bool:
    cols = {str(c).strip().lower() for c in raw.frame.columns}
    return raw.format.startswith("qualtrics") or {"responseid", "startdate", "enddate"} <= cols


def _exclude(raw: RawTable, cohort: Cohort) -> tuple[RawTable, dict]:
    """Leave out preview/test, unfinished and low-progress records; count them by the first reason that applies."""
    frame = raw.frame
    rules = cohort.exclude
    n = len(frame)
    masks: list[tuple[str, str, np.ndarray, str]] = []
    if rules is None:
        return raw, {}
    if rules.preview:
        col = _column(frame, "DistributionChannel")
        if col is not None:
            v = frame[col].astype("string").str.strip().str.lower()
            masks.append(("preview", col, v.isin(["preview", "test"]).fillna(False).to_numpy(), "preview or test response"))
        col = _column(frame, "Status")
        if col is not None and _qualtrics_like(raw):
            v = frame[col].astype("string").str.strip().str.lower()
            text = v.str.contains("preview|test", regex=True).fillna(False)
            code = pd.to_numeric(v, errors="coerce").isin([1, 2, 9, 17])
            masks.append(("preview", col, (text | code).to_numpy(), "preview or test response (Qualtrics Status)"))
    if rules.unfinished:
        col = _column(frame, "Finished")
        if col is not None:
            v = frame[col].astype("string").str.strip().str.lower()
            masks.append(("unfinished", col, v.isin(["0", "0.0", "false", "no", "nee"]).fillna(False).to_numpy(),
                          "unfinished response"))
    if rules.min_progress > 0:
        col = _column(frame, "Progress")
        if col is not None:
            v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
            masks.append(("low_progress", col, np.nan_to_num(v, nan=np.inf) < rules.min_progress,
                          f"progress below {rules.min_progress:g}%"))
    taken = np.zeros(n, dtype=bool)
    report: dict = {}
    for reason, col, mask, what in masks:
        new = mask & ~taken
        entry = report.setdefault(reason, {"columns": [], "n": 0, "rows": [], "what": what})
        entry["columns"].append(str(col))
        entry["n"] += int(new.sum())
        entry["rows"] += [raw.row_number(i) for i in np.flatnonzero(new)]
        taken |= new
    for entry in report.values():
        entry["rows"] = sorted(entry["rows"])[:50]
    report = {k: v for k, v in report.items() if v["n"]}
    if not taken.any():
        return raw, report
    return raw.take(~taken), report


# ---------------------------------------------------------------------------
# columns


def _refuse_duplicates_and_formulas(raw: RawTable, cohort: Cohort) -> list[str]:
    """Refuse a used column that is named twice or holds formulas without saved values; note the unused ones."""
    used = set(cohort.used_columns)
    notes = []
    for name, positions in raw.duplicates.items():
        where = " and ".join(str(p) for p in positions)
        if name in used:
            raise _fail(raw, f"the column name {name!r} occurs {len(positions)} times in the header (columns {where}), "
                        "so it is not clear which holds the answers.",
                        "Rename or delete the extra column(s) in a copy of the file (nothing was analysed).")
        notes.append(f"The column name {name!r} occurs {len(positions)} times in the header (columns {where}); "
                     "the cohort does not use it.")
    for col, cells in raw.formula_cells.items():
        base = col
        if base in used:
            listed = "; ".join(f"cell {c} (row {r}): {show(f, 40)}" for r, c, f in cells[:_MAX_LISTED])
            more = f"; and {len(cells) - _MAX_LISTED} more" if len(cells) > _MAX_LISTED else ""
            raise _fail(raw, f"column {col} holds {len(cells)} formula cell(s) without a saved value ({listed}{more}); "
                        "read without Excel they would be blank answers.",
                        "Open the workbook in Excel or LibreOffice and save it (the values are then stored), or "
                        "export it as CSV.")
        notes.append(f"Column {col} holds {len(cells)} formula cell(s) without a saved value; the cohort does not use it.")
    return notes


def _pattern_hints(raw: RawTable, cohort: Cohort, missing: list[tuple[str, str]]) -> list[str]:
    """Column patterns in the file that would give an instrument's items (e.g. ``Q5_{n}``)."""
    hints = []
    cols = [str(c) for c in raw.frame.columns]
    groups: dict = {}
    for c in cols:
        m = re.match(r"^(.*?)(\d+)(\D*)$", c)
        if m:
            groups.setdefault((m.group(1), m.group(3)), set()).add(int(m.group(2)))
    lower = {c.lower(): c for c in cols}
    for inst in cohort.instruments:
        key = f"items.{inst.name}"
        if not any(k == key for _, k in missing):
            continue
        wanted = set(range(1, inst.n_items + 1))
        found = sorted(f"{pre}{{n}}{suf}" for (pre, suf), nums in groups.items() if wanted <= nums)
        if found:
            hints.append(f"for {inst.name} the file has columns matching " + " or ".join(f'"{f}"' for f in found[:3]))
        cased = [lower[c.lower()] for c, k in missing if k == key and c.lower() in lower]
        if cased:
            hints.append(f"column names differ in upper/lower case only (e.g. {cased[0]!r}); names must match exactly")
    return hints


def _header_hint(raw: RawTable, names: list[str]) -> str | None:
    """Where the missing column names are, when not in the header: another row, or another sheet."""
    want = set(names)
    need = max(1, (len(want) + 1) // 2)
    best = None
    for row, cells in raw.head:
        if row == raw.header_row:
            continue
        hits = len(want & {str(c).strip() for c in cells})
        if hits >= need and (best is None or hits > best[1]):
            best = (row, hits)
    if best is not None:
        return (f"row {best[0]} holds {best[1]} of them: it looks like the header, with other rows (a title, a "
                f"second header) above or around it. Set `cohorts.<cohort>.header_row: {best[0]}`")
    for sheet, rows in raw.other_sheets.items():
        for k, cells in enumerate(rows):
            hits = len(want & {str(c).strip() for c in cells})
            if hits >= need:
                extra = f" and `header_row: {k + 1}`" if k else ""
                return f"sheet {sheet!r} holds {hits} of them (row {k + 1}). Set `cohorts.<cohort>.sheet: {sheet!r}`{extra}"
    return None


def _require_columns(raw: RawTable, cohort: Cohort, columns: list[tuple[str, str]]) -> None:
    missing = [(c, key) for c, key in columns if c not in raw.frame.columns]
    if not missing:
        return
    named = ", ".join(f"{c} (from `cohorts.{cohort.name}.{key}`)" for c, key in missing[:6])
    more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
    cause = []
    where = _header_hint(raw, [c for c, _ in missing])
    if where:
        cause.append(where.replace("<cohort>", cohort.name))
    elif raw.frame.shape[1] <= 1:
        cause.append(f"the file was read as {raw.frame.shape[1]} column(s): check that its cells are separated by "
                     "commas, semicolons, tabs or |")
    cause += _pattern_hints(raw, cohort, missing)
    place = f"sheet {raw.sheet!r}, row {raw.header_row}" if raw.sheet else f"row {raw.header_row}"
    found = ", ".join(map(str, raw.frame.columns[:25])) + (f" and {raw.frame.shape[1] - 25} more" if raw.frame.shape[1] > 25 else "")
    raise _fail(raw, f"{len(missing)} column(s) named in the config are not in the header ({place}): {named}{more}."
                + (" Cause: " + "; ".join(cause) + "." if cause else ""),
                f"Columns found: {found}. Fix the `items` pattern or list (e.g. \"Q{{n}}\" for Q1..Q36), or the column "
                "names in the config.")


def _ids(raw: RawTable, cohort: Cohort) -> pd.Index:
    frame = raw.frame
    if cohort.id_column is None:
        return pd.Index([str(raw.row_number(i) - raw.first_row + 1) for i in range(len(frame))], name="respondent_id")
    col = cohort.id_column
    if col not in frame.columns:
        raise _fail(raw, f"the id column {col!r} (config `cohorts.{cohort.name}.id_column`) is not in the file.",
                    f"Columns found: {', '.join(map(str, frame.columns[:40]))}. Correct the name, or remove "
                    "`id_column` to use the row number as id.")
    ids = frame[col].astype(str).str.strip()
    empty = np.flatnonzero((ids == "").to_numpy() | frame[col].isna().to_numpy())
    if len(empty):
        raise _fail(raw, f"column {col!r} (the id column) is empty at {', '.join(raw.row_label(r) for r in empty[:_MAX_LISTED])}"
                    + (f" and {len(empty) - _MAX_LISTED} more rows." if len(empty) > _MAX_LISTED else "."),
                    "Every respondent needs an id: fill it in, or delete rows that are not respondents.")
    ident = np.flatnonzero(ids.str.contains(_IDENTIFYING_TEXT).to_numpy())
    if len(ident):
        raise _fail(raw, f"the id column {col!r} holds e-mail or IP addresses (rows {_rows_text(raw, ident)}); "
                    "identifying data are never copied into outputs.",
                    "Use a pseudonymous id column (e.g. Qualtrics' ResponseId), or remove `id_column` to number the rows.")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        rows = np.flatnonzero((ids == first).to_numpy())
        raise _fail(raw, f"the id {show(first)} in column {col!r} occurs more than once "
                    f"({', '.join(raw.row_label(r) for r in rows)}); {int(ids[dup].nunique())} ids are duplicated in all.",
                    "Ids must be unique: remove repeated submissions or give each respondent their own id.")
    return pd.Index(ids.to_numpy(), name=col)


# ---------------------------------------------------------------------------
# item answers


def _numeric(raw: RawTable, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Column as float array, plus a mask of non-empty cells that are not numbers."""
    col = raw.frame[column]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(col), dtype=bool)
    text = col.astype("string").str.strip()
    if raw.decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    blank = text.isna().to_numpy() | (text == "").fillna(True).to_numpy()
    return values, np.isnan(values) & ~blank


def _from_labels(raw: RawTable, column: str, inst, item_n: int, values: np.ndarray, bad_text: np.ndarray) -> np.ndarray:
    """Replace answers given as labels by their codes (in place); returns the mask of cells converted."""
    if not bad_text.any():
        return np.zeros(len(values), dtype=bool)
    cells = raw.frame[column].astype("string").str.strip().to_numpy(dtype=object)
    texts = pd.unique(cells[bad_text])
    codes = {t: inst.code_of(item_n, t) for t in texts}
    mapped = np.array([codes.get(c) is not None if b else False for c, b in zip(cells, bad_text)], dtype=bool)
    if mapped.any():
        values[mapped] = [float(codes[c]) for c in cells[mapped]]
    return mapped


def applicable_missing_codes(cohort: Cohort, instrument) -> list[float]:
    """The cohort's missing codes that apply to an instrument: those outside its response scale.

    A code inside the scale is a valid answer there (0 = missing for a 1-5 ECR, but
    0 = "not ticked" on the min/max checklist), so it is not applied to that instrument.
    """
    return [c for c in cohort.missing_codes if not instrument.scale_min <= c <= instrument.scale_max]


def _user_missing(raw: RawTable, column: str, values: np.ndarray) -> np.ndarray:
    spans = raw.user_missing.get(column, ())
    mask = np.zeros(len(values), dtype=bool)
    for lo, hi in spans:
        mask |= (values >= lo) & (values <= hi)
    return mask


_COUNT_KEYS = ("blank", "missing_code", "out_of_range_set_missing", "non_numeric_set_missing")


def _validate_items(raw: RawTable, cohort: Cohort) -> tuple[dict, dict, pd.DataFrame, dict, list]:
    items: dict = {}
    counts: dict = {}
    rows_miss = []
    problems = {"non_numeric": [], "out_of_range": []}
    facts: dict = {}
    warnings: list = []
    spans: dict = {}
    for inst in cohort.instruments:
        codes = np.array(applicable_missing_codes(cohort, inst), dtype=float)
        raw_cols = cohort.item_columns[inst.name]
        canon = inst.item_columns()
        n = len(raw.frame)
        block = np.empty((n, len(raw_cols)), dtype=float)
        blank_block = np.zeros((n, len(raw_cols)), dtype=bool)
        inst_counts = {}
        extra = {"answer_label": np.zeros(len(raw_cols), dtype=np.int64), "blank_not_ticked": np.zeros(len(raw_cols), dtype=np.int64)}
        above = []
        for j, (rc, cc, item) in enumerate(zip(raw_cols, canon, inst.items)):
            values, bad_text = _numeric(raw, rc)
            labelled = _from_labels(raw, rc, inst, item.n, values, bad_text)
            bad_text &= ~labelled
            extra["answer_label"][j] = int(labelled.sum())
            blank = np.isnan(values) & ~bad_text
            is_code = (np.isin(values, codes) if len(codes) else np.zeros(n, bool)) | _user_missing(raw, rc, values)
            ok_range = (values >= inst.scale_min) & (values <= inst.scale_max) & (values == np.round(values))
            out = ~np.isnan(values) & ~is_code & ~ok_range
            if bad_text.any():
                problems["non_numeric"].append((inst, rc, bad_text))
            if out.any():
                problems["out_of_range"].append((inst, rc, out))
                above.append(values[out & (values > inst.scale_max)])
            clean = np.where(is_code | out | bad_text, np.nan, values)
            answered = values[~np.isnan(values) & ~is_code]
            if answered.size:
                lo, hi = spans.get(inst.name, (np.inf, -np.inf))
                spans[inst.name] = (min(lo, float(answered.min())), max(hi, float(answered.max())))
            block[:, j] = clean
            blank_block[:, j] = blank
            inst_counts[cc] = {"blank": int(blank.sum()), "missing_code": int(is_code.sum()),
                               "out_of_range_set_missing": int(out.sum()), "non_numeric_set_missing": int(bad_text.sum())}
        if inst.kind == "minmax" and inst.response_format == "ticks":
            converted, how = _tick_blanks(block, blank_block, cohort.tick_blanks, inst)
            if converted is not None:
                extra["blank_not_ticked"] = converted.sum(axis=0)
                for j, cc in enumerate(canon):
                    inst_counts[cc]["blank"] -= int(extra["blank_not_ticked"][j])
                facts["tick_blanks"] = how
                warnings.append(how)
        for j, (rc, cc) in enumerate(zip(raw_cols, canon)):
            c = inst_counts[cc]
            clean = block[:, j]
            rows_miss.append({"instrument": inst.name, "item": cc, "column": rc, "n": n,
                              "n_answered": int(n - np.isnan(clean).sum()), **{f"n_{k}": v for k, v in c.items()},
                              "n_answer_label": int(extra["answer_label"][j]),
                              "n_blank_not_ticked": int(extra["blank_not_ticked"][j]),
                              "percent_missing": round(100.0 * float(np.isnan(clean).mean()), 4) if n else 0.0})
        items[inst.name] = pd.DataFrame(block, columns=canon)
        counts[inst.name] = inst_counts
        if extra["answer_label"].sum():
            facts.setdefault("answer_labels", {})[inst.name] = int(extra["answer_label"].sum())
        warnings += _scale_warnings(cohort, inst, block, np.concatenate(above) if above else np.array([]))
    messages = [_item_error(raw, cohort, kind, found, spans) for kind, found in problems.items()
                if found and (cohort.non_numeric if kind == "non_numeric" else cohort.out_of_range) == "error"]
    if messages:
        raise DataError(f"{raw.path}: " + " Also: ".join(messages))
    return items, counts, pd.DataFrame(rows_miss), facts, warnings


def _tick_blanks(block: np.ndarray, blank: np.ndarray, mode: str, inst) -> tuple[np.ndarray | None, str]:
    """Blank checklist cells that mean "not ticked" (checkbox exports): set to 0 in place; returns the mask."""
    if mode == "missing":
        return None, ""
    if mode == "auto":
        answered = block[~np.isnan(block)]
        if not (answered.size and (answered == inst.scale_max).any() and not (answered == inst.scale_min).any()
                and blank.any()):
            return None, ""
    ticked_any = (block == inst.scale_max).any(axis=1)
    convert = blank & ticked_any[:, None]
    block[convert] = inst.scale_min
    n_resp = int(ticked_any.sum())
    why = ("the file holds ticks (1) and blanks but no 0, as a checkbox export does" if mode == "auto"
           else "`tick_blanks: not_ticked`")
    return convert, (f"{inst.name} (ticks): {int(convert.sum())} blank cells of the {n_resp} respondents who ticked at "
                     f"least one statement were read as 'not ticked', because {why}; respondents without any tick "
                     "stay unanswered. Set `tick_blanks: missing` if blanks mean unanswered.")


def _scale_warnings(cohort: Cohort, inst, block: np.ndarray, above: np.ndarray) -> list[str]:
    """Declared against observed response scale: part of the scale unused, or answers above it."""
    out = []
    where = f"cohorts.{cohort.name}"
    if above.size:
        out.append(f"{inst.name}: {above.size} answer(s) above the declared maximum {inst.scale_max} (up to "
                   f"{np.nanmax(above):g}) were set missing (`out_of_range: missing`). If the questionnaire used "
                   f"another scale, set `{where}.response_scale`.")
    if inst.kind == "minmax" and inst.response_format != "likert":
        return out
    answered_rows = int((~np.isnan(block)).any(axis=1).sum())
    values = block[~np.isnan(block)]
    if answered_rows < _SCALE_CHECK_MIN_RESPONDENTS or not values.size:
        return out
    lo, hi = float(values.min()), float(values.max())
    if lo > inst.scale_min or hi < inst.scale_max:
        points = int(hi - lo + 1)
        out.append(f"{inst.name} is declared {inst.scale_min}-{inst.scale_max}, but its {values.size:,} answers "
                   f"({answered_rows:,} respondents) use only {lo:g}-{hi:g}. If the questionnaire had {points} points, "
                   f"set `{where}.response_scale: {{{inst.name}: {{min: {lo:g}, max: {hi:g}}}}}`: reverse keying "
                   f"(min + max - answer) and the midpoint classification depend on it.")
    return out


def _item_warnings(items: dict) -> list[str]:
    out = []
    for name, frame in items.items():
        values = frame.to_numpy(dtype=float)
        none = [c for j, c in enumerate(frame.columns) if np.isnan(values[:, j]).all()]
        if none:
            out.append(f"{name}: nobody answered item(s) {', '.join(none[:10])}{' ...' if len(none) > 10 else ''}; "
                       "analyses needing every item (factor analysis, listwise reliability) are skipped or use fewer items.")
        with np.errstate(invalid="ignore"):
            flat = [c for j, c in enumerate(frame.columns) if c not in none and np.nanstd(values[:, j]) == 0]
        if flat and len(frame) > 1:
            out.append(f"{name}: everyone who answered gave the same answer on item(s) {', '.join(flat[:10])}"
                       f"{' ...' if len(flat) > 10 else ''}; such items have no variance (correlations with them are "
                       "undefined).")
    return out


def _item_error(raw: RawTable, cohort: Cohort, kind: str, found: list, spans: dict | None = None) -> str:
    rows, cols, vals = [], [], []
    for inst, rc, mask in found:
        for r in np.flatnonzero(mask)[:_MAX_LISTED]:
            rows.append(r)
            cols.append(rc)
            vals.append(raw.frame[rc].iloc[r])
    total = sum(int(m.sum()) for _, _, m in found)
    n_cols = len({rc for _, rc, _ in found})
    order = np.argsort(rows, kind="stable")
    rows = np.asarray(rows)[order]
    cols = [cols[i] for i in order]
    vals = [vals[i] for i in order]
    inst = found[0][0]
    listed = _list_cells(raw, rows, cols, vals)
    where = f"cohorts.{cohort.name}"
    if kind == "non_numeric":
        texts = pd.concat([raw.frame.loc[m, rc].astype(str).str.strip() for _, rc, m in found]).value_counts()
        distinct = ", ".join(f"{show(t, 40)} ({n} cell{'s' if n > 1 else ''})" for t, n in texts.head(6).items())
        distinct += f", and {len(texts) - 6} more" if len(texts) > 6 else ""
        insts = sorted({i.name for i, _, _ in found})
        labelled = [i for i in cohort.instruments if i.name in insts and (i.answer_labels or i.item_labels)]
        known = ""
        if labelled:
            first = {}
            for label, code in labelled[0].answer_labels.items():  # the file's first label per code
                first.setdefault(code, label)
            lo, hi = min(first), max(first)
            known = (f" They are not answer labels of {', '.join(i.name for i in labelled)} either (known labels run "
                     f"from {lo} = {first[lo]!r} to {hi} = {first[hi]!r}, in English and Dutch).")
        example = f"{insts[0]}: {{<code>: {show(texts.index[0], 40)}}}"
        return (f"{total} item answer(s) are not numbers ({len(texts)} distinct text(s) in {n_cols} column(s): "
                f"{distinct}); first: {listed}.{known} If these are answer labels, map them to codes with "
                f"`{where}.answer_labels` (e.g. {{{example}}}, with the code the label stands for); otherwise "
                f"correct them in a copy of the file, or set `{where}.non_numeric: missing` to count them as missing.")
    codes = ", ".join(f"{c:g}" for c in cohort.missing_codes) or "none"
    span = (spans or {}).get(inst.name)
    seen = f" (the answers of {inst.name} run {span[0]:g} to {span[1]:g})" if span else ""
    return (f"{total} item answer(s) are outside the response scale ({inst.name}: whole numbers "
            f"{inst.scale_min}-{inst.scale_max}; declared missing codes: {codes}), in {n_cols} column(s){seen}: {listed}. "
            f"If these are missing-data codes, add them to `{where}.missing_codes`; if the scale differs, set "
            f"`{where}.response_scale`; to count such answers as missing, set `{where}.out_of_range: missing`.")


# ---------------------------------------------------------------------------
# groups, covariates, couples


def _group_column(raw: RawTable, g: str, ids: pd.Index, min_cell: int) -> tuple[pd.Series, dict]:
    """A group column with small or identifying levels read as "no group"; counts without their labels."""
    frame = raw.frame
    col = frame[g].astype(str).str.strip().to_numpy(dtype=object)
    col = np.where(frame[g].isna().to_numpy() | (col == "") | (col == "nan"), None, col)
    series = pd.Series(col, dtype=object)
    sizes = series.value_counts(dropna=True)
    identifying = {lv for lv in sizes.index if _IDENTIFYING_TEXT.search(str(lv))}
    hidden = [lv for lv, k in sizes.items() if k < min_cell or lv in identifying]
    n_hidden = int(sizes[hidden].sum()) if hidden else 0
    if hidden:
        series = series.where(~series.isin(hidden), None)
    kept = sizes.drop(index=hidden)
    info = {"levels": {str(k): int(v) for k, v in kept.sort_index().items()},
            "missing": int(pd.isna(col).sum())}
    if hidden:
        info["hidden"] = {"levels": len(hidden), "respondents": n_hidden,
                          "reason": f"levels with fewer than {min_cell} respondents (or holding an e-mail or IP "
                                    "address) are read as no group and never named"}
    return pd.Series(series.to_numpy(), index=ids, dtype=object), info


def _respondents(raw: RawTable, cohort: Cohort, ids: pd.Index) -> tuple[pd.DataFrame, dict]:
    frame = raw.frame
    out = pd.DataFrame(index=ids)
    report: dict = {}
    for g in cohort.groups:
        out[g], report.setdefault("groups", {})[g] = _group_column(raw, g, ids, cohort.min_cell)
    for c in cohort.covariates:
        values, bad = _numeric(raw, c)
        if bad.any():
            r = np.flatnonzero(bad)
            raise _fail(raw, f"covariate column {c!r} must be numeric, but has text: "
                        f"{_list_cells(raw, r, [c] * len(r), list(frame[c].iloc[r[:_MAX_LISTED]]))}.",
                        f"Fix the values, or remove {c} from `cohorts.{cohort.name}.covariates`.")
        out[c] = values
        report.setdefault("covariates", {})[c] = {"missing": int(np.isnan(values).sum())}
    if cohort.couples is not None:
        report["couples"] = _couples(raw, cohort, ids, out)
    return out, report


def _couples(raw: RawTable, cohort: Cohort, ids: pd.Index, out: pd.DataFrame) -> dict:
    cc, rc = cohort.couples.couple_column, cohort.couples.role_column
    couple = raw.frame[cc].astype(str).str.strip().to_numpy()
    couple = np.where(raw.frame[cc].isna().to_numpy() | (couple == "nan"), "", couple)
    ident = np.flatnonzero(pd.Series(couple).str.contains(_IDENTIFYING_TEXT).to_numpy())
    if len(ident):
        raise _fail(raw, f"the couple column {cc!r} holds e-mail or IP addresses (rows {_rows_text(raw, ident)}); "
                    "identifying data are never copied into outputs.", "Use pseudonymous couple ids.")
    in_couple = couple != ""
    sizes = pd.Series(couple[in_couple]).value_counts()
    bad = sizes[sizes != 2]
    if len(bad):
        cid = bad.index[0]
        rows = np.flatnonzero(couple == cid)
        raise _fail(raw, f"couple {show(cid)} (column {cc}) has {int(bad.iloc[0])} member(s) "
                    f"({', '.join(raw.row_label(r) for r in rows[:_MAX_LISTED])}); {len(bad)} couple(s) in all do not have exactly two.",
                    "A couple is two respondents sharing one couple id: correct the ids, or leave the couple id "
                    "empty for respondents whose partner did not take part.")
    out[cc] = np.where(in_couple, couple, None)
    if rc is not None:
        role = raw.frame[rc].astype(str).str.strip().to_numpy()
        role = np.where(raw.frame[rc].isna().to_numpy() | (role == "nan"), "", role)
        sub = pd.DataFrame({"couple": couple[in_couple], "role": role[in_couple]})
        same = sub.groupby("couple")["role"].nunique()
        same = same[same < 2]
        if len(same) and cohort.couples.distinguishable == "true":  # a mixed sample is analysed as indistinguishable
            cid = same.index[0]
            rows = np.flatnonzero(couple == cid)
            raise _fail(raw, f"both members of couple {show(cid)} have the same role {show(role[rows[0]])} in column {rc} "
                        f"({', '.join(raw.row_label(r) for r in rows)}), but `couples.distinguishable` is true.",
                        "Give the two partners different roles (e.g. A and B), or set `couples.distinguishable: auto` "
                        "to analyse a mixed sample as indistinguishable dyads.")
        out[rc] = np.where(in_couple, role, None)
    return {"couple_column": cc, "role_column": rc, "couples": int(len(sizes)),
            "respondents_in_couples": int(in_couple.sum()), "respondents_without_partner": int((~in_couple).sum()),
            "couples_sharing_a_role": int(len(same)) if rc is not None else 0}


def validate_children(path, ids: pd.Index) -> tuple[pd.DataFrame, dict]:
    """Check a parent-child file: columns parent_id, child_id, ssp_code (A/B/C/D), optional child_age_months.

    Returns the records (ids as text, code upper-case) and counts for the report.
    """
    raw = read_responses(path, text_columns=["parent_id", "child_id", "ssp_code"])
    need = ["parent_id", "child_id", "ssp_code"]
    missing = [c for c in need if c not in raw.frame.columns]
    if missing:
        raise _fail(raw, f"the children file lacks column(s) {', '.join(missing)}.",
                    "It needs parent_id, child_id and ssp_code (Strange Situation code A/B/C/D); child_age_months is optional.")
    f = raw.frame
    code = f["ssp_code"].str.upper()
    bad = np.flatnonzero(~code.isin(SSP_CODES).to_numpy())
    if len(bad):
        raise _fail(raw, f"ssp_code must be A, B, C or D: {_list_cells(raw, bad, ['ssp_code'] * len(bad), list(f['ssp_code'].iloc[bad[:_MAX_LISTED]]))}.",
                    "Use the Strange Situation codes A (avoidant), B (secure), C (ambivalent), D (disorganised).")
    unknown = np.flatnonzero(~f["parent_id"].isin(ids).to_numpy())
    if len(unknown):
        raise _fail(raw, f"parent_id not found among the cohort's respondent ids: "
                    f"{_list_cells(raw, unknown, ['parent_id'] * len(unknown), list(f['parent_id'].iloc[unknown[:_MAX_LISTED]]))}.",
                    "Every child record must link to a respondent in the responses file.")
    dup = np.flatnonzero(f["child_id"].duplicated(keep=False).to_numpy())
    if len(dup):
        raise _fail(raw, f"child_id occurs more than once: {_list_cells(raw, dup, ['child_id'] * len(dup), list(f['child_id'].iloc[dup[:_MAX_LISTED]]))}.",
                    "Give every child its own id.")
    self_link = np.flatnonzero((f["child_id"] == f["parent_id"]).to_numpy())
    if len(self_link):
        raise _fail(raw, f"a record links a person to themself: {raw.row_label(self_link[0])}.", "Correct parent_id or child_id.")
    records = pd.DataFrame({"parent_id": f["parent_id"], "child_id": f["child_id"], "ssp_code": code})
    if "child_age_months" in f.columns:
        records["child_age_months"] = pd.to_numeric(f["child_age_months"], errors="coerce")
    report = {"file": str(raw.path), "sha256": raw.sha256, "records": int(len(records)),
              "codes": {c: int((code == c).sum()) for c in SSP_CODES}}
    return records, report


def validate_cohort(raw: RawTable, cohort: Cohort) -> ValidatedCohort:
    """Validate a cohort's raw table against its config; see the module docstring for the rules.

    Raises
    ------
    DataError : the data cannot be used as they are (message names file, row, column, value).
    """
    if len(raw.frame) == 0:
        blank = f" ({len(raw.blank_rows)} blank row(s) were skipped)" if raw.blank_rows else ""
        raise _fail(raw, f"the file has a header but no data rows{blank}.", "Export the responses again.")
    rows_in_file = int(len(raw.frame))
    raw, exclusions = _exclude(raw, cohort)
    if len(raw.frame) == 0:
        what = "; ".join(f"{v['n']} {v['what']} ({', '.join(v['columns'])})" for v in exclusions.values())
        raise _fail(raw, f"all {rows_in_file} data rows were left out: {what}.",
                    f"If these are the responses to analyse, set `cohorts.{cohort.name}.exclude` "
                    "(e.g. {preview: false, unfinished: false}).")
    notes = _refuse_duplicates_and_formulas(raw, cohort)
    columns = [(c, f"items.{i}") for i, cols in cohort.item_columns.items() for c in cols]
    columns += [(g, "groups") for g in cohort.groups] + [(c, "covariates") for c in cohort.covariates]
    if cohort.couples is not None:
        columns.append((cohort.couples.couple_column, "couples.couple_column"))
        if cohort.couples.role_column:
            columns.append((cohort.couples.role_column, "couples.role_column"))
    _require_columns(raw, cohort, columns)
    ids = _ids(raw, cohort)
    items, counts, missingness, facts, warnings = _validate_items(raw, cohort)
    for frame in items.values():
        frame.index = ids
    warnings += _item_warnings(items)
    respondents, resp_report = _respondents(raw, cohort, ids)
    children, children_report = (None, None)
    if cohort.children is not None:
        children, children_report = validate_children(cohort.children, ids)
    described = raw.describe()
    described["notes"] = list(described["notes"]) + notes
    if raw.user_missing:
        described["spss_user_missing"] = {c: [list(r) for r in v] for c, v in raw.user_missing.items()
                                          if c in set(cohort.used_columns)}
    report = {
        "cohort": cohort.name,
        "input": described,
        "rows_in_file": rows_in_file,
        "excluded": {k: {kk: vv for kk, vv in v.items()} for k, v in exclusions.items()},
        "respondents": int(len(ids)),
        "id_column": cohort.id_column or "(row number)",
        "missing_codes": list(cohort.missing_codes),
        "rules": {"out_of_range": cohort.out_of_range, "non_numeric": cohort.non_numeric,
                  "tick_blanks": cohort.tick_blanks,
                  "exclude": {"preview": cohort.exclude.preview, "unfinished": cohort.exclude.unfinished,
                              "min_progress": cohort.exclude.min_progress} if cohort.exclude else None},
        "items": {
            name: {
                "response_scale": [inst.scale_min, inst.scale_max],
                "missing_codes_applied": applicable_missing_codes(cohort, inst),
                "response_format": inst.response_format,
                "answers_from_labels": int(facts.get("answer_labels", {}).get(name, 0)),
                "totals": {k: int(sum(c[k] for c in counts[name].values())) for k in _COUNT_KEYS},
                "per_item": counts[name],
            }
            for name, inst in ((i.name, i) for i in cohort.instruments)
        },
        **resp_report,
        "warnings": warnings,
    }
    if children_report is not None:
        report["children"] = children_report
    return ValidatedCohort(ids=ids, items=items, respondents=respondents, children=children,
                           report=report, missingness=missingness)


def text_columns(cohort: Cohort) -> list[str]:
    """Columns to read as text for this cohort (id, groups, couple and role)."""
    cols = [cohort.id_column] if cohort.id_column else []
    cols += list(cohort.groups)
    if cohort.couples is not None:
        cols.append(cohort.couples.couple_column)
        if cohort.couples.role_column:
            cols.append(cohort.couples.role_column)
    return cols
