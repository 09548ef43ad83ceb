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
1. The file has at least one data row.
2. ``id_column`` (when given) exists, has no empty cell and no duplicate.
3. Every item column of every instrument exists (all missing ones are named).
4. Item answers are numbers; whole numbers inside the response scale, a declared
   missing code, or blank.
5. Group, covariate, couple and role columns exist; covariates are numeric.
6. Couples have exactly two members; with a role column the two roles differ.
7. Children records (optional file) name known parents, unique child ids and a
   Strange Situation code A, B, C or D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import Cohort
from .io import RawTable, read_responses

SSP_CODES = ("A", "B", "C", "D")
_MAX_LISTED = 5


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
    """A cell value as the person typed it: 8.0 read from a numeric column shows as '8'."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return repr(str(int(value)))
    return repr(str(value))


def _list_cells(raw: RawTable, rows: np.ndarray, cols: list[str], values: list) -> str:
    shown = [f"{raw.row_label(r)}, column {c}: {_show(v)}" for r, c, v in zip(rows[:_MAX_LISTED], cols[:_MAX_LISTED], values[:_MAX_LISTED])]
    more = len(rows) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _ids(raw: RawTable, cohort: Cohort) -> pd.Index:
    frame = raw.frame
    if cohort.id_column is None:
        return pd.Index([str(i + 1) for i in range(len(frame))], name="respondent_id")
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
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = ids[dup].iloc[0]
        rows = np.flatnonzero((ids == first).to_numpy())
        raise _fail(raw, f"the id {first!r} in column {col!r} occurs more than once "
                    f"({', '.join(raw.row_label(r) for r in rows)}); {int(ids[dup].nunique())} ids are duplicated in all.",
                    "Ids must be unique: remove repeated submissions or give each respondent their own id.")
    return pd.Index(ids.to_numpy(), name=col)


def _require_columns(raw: RawTable, cohort: Cohort, columns: list[tuple[str, str]]) -> None:
    missing = [(c, key) for c, key in columns if c not in raw.frame.columns]
    if missing:
        named = ", ".join(f"{c} (from `cohorts.{cohort.name}.{key}`)" for c, key in missing[:12])
        more = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
        raise _fail(raw, f"{len(missing)} column(s) named in the config are not in the file: {named}{more}.",
                    f"Columns found: {', '.join(map(str, raw.frame.columns[:40]))}"
                    f"{' ...' if raw.frame.shape[1] > 40 else ''}. Fix the `items` pattern or list "
                    "(e.g. \"Q{n}\" for Q1..Q36), or the column names in the config.")


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


def applicable_missing_codes(cohort: Cohort, instrument) -> list[float]:
    """The cohort's missing codes that apply to an instrument: those outside its response scale.

    A code inside the scale is a valid answer there (0 = missing for a 1-5 ECR, but
    0 = "not ticked" on the min/max checklist), so it is not applied to that instrument.
    """
    return [c for c in cohort.missing_codes if not instrument.scale_min <= c <= instrument.scale_max]


def _validate_items(raw: RawTable, cohort: Cohort) -> tuple[dict, dict, pd.DataFrame]:
    items: dict = {}
    counts: dict = {}
    rows_miss = []
    problems = {"non_numeric": [], "out_of_range": []}
    for inst in cohort.instruments:
        codes = np.array(applicable_missing_codes(cohort, inst), dtype=float)
        raw_cols = cohort.item_columns[inst.name]
        canon = inst.item_columns()
        block = np.empty((len(raw.frame), len(raw_cols)), dtype=float)
        inst_counts = {}
        for j, (rc, cc) in enumerate(zip(raw_cols, canon)):
            values, bad_text = _numeric(raw, rc)
            blank = np.isnan(values) & ~bad_text
            is_code = np.isin(values, codes) if len(codes) else np.zeros(len(values), bool)
            ok_range = (values >= inst.scale_min) & (values <= inst.scale_max) & (values == np.round(values))
            out = ~np.isnan(values) & ~is_code & ~ok_range
            if bad_text.any():
                problems["non_numeric"].append((inst, rc, bad_text))
            if out.any():
                problems["out_of_range"].append((inst, rc, out))
            clean = np.where(is_code | out | bad_text, np.nan, values)
            block[:, j] = clean
            c = {"blank": int(blank.sum()), "missing_code": int(is_code.sum()),
                 "out_of_range_set_missing": int(out.sum()), "non_numeric_set_missing": int(bad_text.sum())}
            inst_counts[cc] = c
            n = len(values)
            rows_miss.append({"instrument": inst.name, "item": cc, "column": rc, "n": n,
                              "n_answered": int(n - np.isnan(clean).sum()), **{f"n_{k}": v for k, v in c.items()},
                              "percent_missing": round(100.0 * float(np.isnan(clean).mean()), 4) if n else 0.0})
        items[inst.name] = pd.DataFrame(block, columns=canon)
        counts[inst.name] = inst_counts
    messages = [_item_error(raw, cohort, kind, found) for kind, found in problems.items()
                if found and (cohort.non_numeric if kind == "non_numeric" else cohort.out_of_range) == "error"]
    if messages:
        raise DataError(f"{raw.path}: " + " Also: ".join(messages))
    return items, counts, pd.DataFrame(rows_miss)


def _item_error(raw: RawTable, cohort: Cohort, kind: str, found: list) -> str:
    rows, cols, vals = [], [], []
    for inst, rc, mask in found:
        for r in np.flatnonzero(mask)[:_MAX_LISTED]:
            rows.append(r)
            cols.append(rc)
            vals.append(raw.frame[rc].iloc[r])
    total = sum(int(m.sum()) for _, _, m in found)
    order = np.argsort(rows, kind="stable")
    rows = np.asarray(rows)[order]
    cols = [cols[i] for i in order]
    vals = [vals[i] for i in order]
    inst = found[0][0]
    listed = _list_cells(raw, rows, cols, vals)
    where = f"cohorts.{cohort.name}"
    if kind == "non_numeric":
        return (f"{total} item answer(s) are not numbers: {listed}. "
                f"Correct them in a copy of the file, or set `{where}.non_numeric: missing` to count them as missing.")
    codes = ", ".join(f"{c:g}" for c in cohort.missing_codes) or "none"
    return (f"{total} item answer(s) are outside the response scale ({inst.name}: whole numbers "
            f"{inst.scale_min}-{inst.scale_max}; declared missing codes: {codes}): {listed}. "
            f"If these are missing-data codes, add them to `{where}.missing_codes`; if the scale differs, set "
                 f"`{where}.response_scale`; to count such answers as missing, set `{where}.out_of_range: missing`.")


def _respondents(raw: RawTable, cohort: Cohort, ids: pd.Index) -> tuple[pd.DataFrame, dict]:
    frame = raw.frame
    out = pd.DataFrame(index=ids)
    report: dict = {}
    for g in cohort.groups:
        col = frame[g].astype(str).str.strip().to_numpy()
        col = np.where(frame[g].isna().to_numpy() | (col == "") | (col == "nan"), None, col)
        out[g] = pd.Series(col, index=ids, dtype=object)
        report.setdefault("groups", {})[g] = {
            "levels": {str(k): int(v) for k, v in pd.Series(col).value_counts(dropna=True).sort_index().items()},
            "missing": int(pd.isna(col).sum()),
        }
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
    in_couple = couple != ""
    sizes = pd.Series(couple[in_couple]).value_counts()
    bad = sizes[sizes != 2]
    if len(bad):
        cid = bad.index[0]
        rows = np.flatnonzero(couple == cid)
        raise _fail(raw, f"couple {cid!r} (column {cc}) has {int(bad.iloc[0])} member(s) "
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
            raise _fail(raw, f"both members of couple {cid!r} have the same role {role[rows[0]]!r} in column {rc} "
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
        raise _fail(raw, "the file has a header but no data rows.", "Export the responses again.")
    columns = [(c, f"items.{i}") for i, cols in cohort.item_columns.items() for c in cols]
    columns += [(g, "groups") for g in cohort.groups] + [(c, "covariates") for c in cohort.covariates]
    if cohort.couples is not None:
        columns.append((cohort.couples.couple_column, "couples.couple_column"))
        if cohort.couples.role_column:
            columns.append((cohort.couples.role_column, "couples.role_column"))
    _require_columns(raw, cohort, columns)
    ids = _ids(raw, cohort)
    items, counts, missingness = _validate_items(raw, cohort)
    for frame in items.values():
        frame.index = ids
    respondents, resp_report = _respondents(raw, cohort, ids)
    children, children_report = (None, None)
    if cohort.children is not None:
        children, children_report = validate_children(cohort.children, ids)
    report = {
        "cohort": cohort.name,
        "input": raw.describe(),
        "rows_in_file": int(len(raw.frame)),
        "respondents": int(len(ids)),
        "id_column": cohort.id_column or "(row number)",
        "missing_codes": list(cohort.missing_codes),
        "rules": {"out_of_range": cohort.out_of_range, "non_numeric": cohort.non_numeric},
        "items": {
            name: {
                "response_scale": [inst.scale_min, inst.scale_max],
                "missing_codes_applied": applicable_missing_codes(cohort, inst),
                "response_format": inst.response_format,
                "totals": {k: int(sum(c[k] for c in counts[name].values())) for k in
                           ("blank", "missing_code", "out_of_range_set_missing", "non_numeric_set_missing")},
                "per_item": counts[name],
            }
            for name, inst in ((i.name, i) for i in cohort.instruments)
        },
        **resp_report,
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
