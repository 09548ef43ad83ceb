"""Exports for SPSS, Excel and R users: ``.sav`` and ``.xlsx`` copies of the scores and styles, and the CFA model.

Written per cohort (by :func:`write_exports`), next to the CSV tables or in a folder of their own:

``scores.sav``, ``classification.sav``
    The same rows and columns as ``scores.csv`` and ``classification.csv``, with
    SPSS variable labels (from the instrument's subscale labels, e.g.
    ``ECR-R: Attachment anxiety (mean item score 1-7)``) and value labels for the
    coded columns: ``minmax_type`` 1 minimiser, 2 balanced, 3 maximiser; ``style``
    1 secure, 2 preoccupied, 3 dismissing, 4 fearful (and ``10 + k`` for a
    mixture's ``profile_k``). The id column stays text (an SPSS string). Column
    names are made valid SPSS names (:func:`spss_name`: at most 64 bytes,
    starting with a letter, letters, digits and ``_ . @ # $`` only, no reserved
    word, unique ignoring case); a renamed column keeps its original name in
    its label.
``respondents.sav``, ``respondents.xlsx``
    One row per respondent (:func:`respondent_table`): id, group columns and
    covariates, every item as answered (``ecr_r_1`` ..) and keyed (reverse-keyed
    items reversed: ``ecr_r_1_keyed`` ..), the scores, the IRT EAP scores and
    their standard errors (from ``irt_scores.csv``) and the style of every
    classification method (``style_midpoint``, ``style_kmeans`` ..). An SPSS user
    can run RELIABILITY and FACTOR on the keyed items. Styles, min/max types and
    group columns are labelled numerics (value labels; group levels coded 1, 2 ..
    in sorted order), formats ``F1.0``/``F2.0`` for codes and answers and
    ``F8.3`` for scores; variable labels are the item texts and score labels.
``scores.xlsx``, ``classification.xlsx``
    The CSV tables as Excel workbooks (sheet 1: the data, ids as text; sheet
    ``variables``: column, label, value labels). A table longer than an Excel
    sheet is split over several sheets.
``cfa_model.lavaan``
    The theoretical CFA model as lavaan syntax (``anxiety =~ ecr_r_1 + ...``),
    one line per factor, with a commented R call that refits it on
    ``items.csv`` the way ``cfa_fit.csv`` was fitted (ML, first loading fixed to
    1, correlated factors, listwise). With several dimension instruments, one
    file per instrument: ``cfa_model_<instrument>.lavaan``.

Text that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``
or ``@``: a group label typed as ``=HYPERLINK(...)``) is written to the Excel
files as plain text, marked with Excel's quote prefix, so it is shown and never
run (:func:`neutralise_formulas`). Rows of skipped analyses are not exported.

Every file is byte-identical for identical inputs: the SPSS header's creation
date and time are fixed (``01 Jan 70 00:00:00``) and the Excel package's time
stamps are fixed to 1980-01-01, like ``SOURCE_DATE_EPOCH`` builds.

Example
-------
>>> spss_name("1st answer"), spss_name("with"), spss_name("ecr_r_anxiety")
('v1st_answer', 'with_v', 'ecr_r_anxiety')
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from .config import Cohort
from .instruments import Instrument
from .tables import read_scores, read_table
from .vocabulary import MINMAX_TYPES, STYLE_LABELS, STYLES

#: SPSS reserved words, which cannot be variable names.
SPSS_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}
#: Codes of the four styles in the .sav files (mixture profiles: 10 + k).
STYLE_CODES = {s: i + 1 for i, s in enumerate(STYLES)}
#: Codes of the min/max types in the .sav files.
MINMAX_CODES = {t: i + 1 for i, t in enumerate(MINMAX_TYPES)}
#: Rows per Excel sheet (the limit is 1,048,576 including the header).
EXCEL_MAX_ROWS = 1_000_000
#: Tables of more cells (rows x columns) get no Excel copy: openpyxl builds the whole sheet in
#: memory, at about 10 us and 200 bytes per cell (the 50,000 x 136 respondents table: 60 s and
#: 1.6 GB), and such a sheet is no use in Excel anyway. The .csv and .sav files carry them, and
#: exports/README.txt says so. Two million cells: e.g. 14,000 respondents in respondents.xlsx,
#: 130,000 in scores.xlsx.
XLSX_LIMIT_CELLS = 2_000_000

_TEXTS = {
    "en": {"id": "Respondent id", "mean_score": "mean item score", "index": "min/max index (maximiser - minimiser, "
           "-1 to +1)", "type": "min/max type", "share": "share of statements", "instrument": "Instrument",
           "method": "Classification method", "anxiety": "Attachment anxiety (subscale score)",
           "avoidance": "Attachment avoidance (subscale score)", "style": "Attachment style",
           "certainty": "Certainty of the style (see config/README.md)", "profile": "profile",
           "minimiser": "minimiser", "balanced": "balanced", "maximiser": "maximiser", "column": "column",
           "label": "label"},
    "nl": {"id": "Respondentnummer", "mean_score": "gemiddelde itemscore", "index": "min/max-index (maximiser - "
           "minimiser, -1 tot +1)", "type": "min/max-type", "share": "aandeel uitspraken", "instrument": "Vragenlijst",
           "method": "Classificatiemethode", "anxiety": "Hechtingsangst (subschaalscore)",
           "avoidance": "Hechtingsvermijding (subschaalscore)", "style": "Hechtingsstijl",
           "certainty": "Zekerheid van de stijl (zie config/README.md)", "profile": "profiel",
           "minimiser": "minimiser", "balanced": "in balans", "maximiser": "maximiser", "column": "kolom",
           "label": "label"},
}

_FIXED_SAV_DATE = b"01 Jan 70"
_FIXED_SAV_TIME = b"00:00:00"
_SAV_DATE_OFFSET = 92  # after rec_type, product name, layout code, case size, compression, weight, ncases, bias
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_ISO = "1980-01-01T00:00:00Z"


# ---------------------------------------------------------------------------
# SPSS names and labels


def spss_name(name: str, taken: set | None = None) -> str:
    """A valid, unique SPSS variable name for ``name``.

    ASCII letters, digits and ``_ . @ # $`` only (accents dropped, anything
    else becomes ``_``); starts with a letter (else ``v`` is put in front); does
    not end with ``.``; not a reserved word (else ``_v`` is appended); at most
    64 bytes; unique ignoring case among ``taken`` (which is updated), by a
    ``_2``, ``_3`` ... suffix.

    >>> taken = set()
    >>> [spss_name(n, taken) for n in ["Q 1", "q_1", "é-score", "x" * 70]][:3]
    ['Q_1', 'q_1_2', 'e_score']
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_.@#$]", "_", text).rstrip(".") or "v"
    if not text[0].isalpha():
        text = "v" + text
    if text.upper() in SPSS_RESERVED:
        text += "_v"
    text = text[:64].rstrip(".")
    if taken is None:
        return text
    base, k = text, 2
    while text.upper() in {t.upper() for t in taken}:
        suffix = f"_{k}"
        text = base[: 64 - len(suffix)] + suffix
        k += 1
    taken.add(text)
    return text


def _short(inst: Instrument) -> str:
    title = inst.title.strip()
    if title.endswith(")") and "(" in title:
        abbr = title[title.rindex("(") + 1:-1]
        return abbr if abbr and not any(c.islower() for c in abbr) else title[: title.rindex("(")].strip()
    return title


def score_labels(cohort: Cohort, language: str = "en") -> dict:
    """Variable labels of the score columns: ``{"ecr_r_anxiety": "ECR-R: Attachment anxiety (mean item score 1-7)"}``."""
    t = _TEXTS[language]
    labels = {}
    for inst in cohort.instruments:
        subs = ("minimiser", "maximiser") if inst.kind == "minmax" else inst.subscales
        for sub in subs:
            lab = inst.subscale_labels.get(sub, {})
            text = lab.get(language) or lab.get("en") or sub
            if inst.kind == "likert":
                scale = f"{inst.scale_min}-{inst.scale_max}"
                labels[f"{inst.name}_{sub}"] = f"{_short(inst)}: {text} ({t['mean_score']} {scale})"
            else:
                labels[f"{inst.name}_{sub}"] = f"{_short(inst)}: {text} ({t['share']}, 0-1)"
        if inst.kind == "minmax":
            labels[f"{inst.name}_index"] = f"{_short(inst)}: {t['index']}"
            labels[f"{inst.name}_type"] = f"{_short(inst)}: {t['type']}"
    return labels


def style_value_labels(styles, language: str = "en") -> dict:
    """Value labels ``code -> text`` of the styles present (the four styles always; profiles when present)."""
    labels = {STYLE_CODES[s]: STYLE_LABELS[language][s] for s in STYLES}
    for s in sorted({str(s) for s in styles if isinstance(s, str) and s.startswith("profile_")}):
        labels[10 + int(s.split("_", 1)[1])] = f"{_TEXTS[language]['profile']} {s.split('_', 1)[1]}"
    return labels


def style_codes(styles: pd.Series) -> pd.Series:
    """Numeric codes of styles (:data:`STYLE_CODES`; ``profile_k`` -> 10 + k; missing stays missing).

    >>> style_codes(pd.Series(["secure", None, "profile_3", "fearful"])).tolist()
    [1.0, nan, 13.0, 4.0]
    """
    text = styles.astype("string")  # vectorised: no Python call per respondent
    profile = pd.to_numeric(text.str.extract(r"^profile_(\d+)$", expand=False), errors="coerce") + 10
    return text.map(STYLE_CODES).astype(float).fillna(profile.astype(float)).astype(float)


# ---------------------------------------------------------------------------
# .sav


def _text_column(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str)


def _sav_frame(frame: pd.DataFrame, labels: dict, value_labels: dict, text_columns: set) -> tuple:
    """Rename to SPSS names; returns (frame, column labels, value labels, measures) keyed by the new names."""
    taken: set = set()
    names = {c: spss_name(c, taken) for c in frame.columns}
    columns, col_labels, measures = {}, {}, {}
    for c in frame.columns:
        new = names[c]
        col = frame[c].reset_index(drop=True)
        if c in text_columns:
            columns[new] = _text_column(col)
            measures[new] = "nominal"
        else:
            columns[new] = pd.to_numeric(col, errors="coerce").astype(float)
            measures[new] = "nominal" if c in value_labels else "scale"
        label = labels.get(c, c)
        if new != c and c not in label:
            label = f"{label} [{c}]"
        col_labels[new] = label[:255]
    vlabels = {names[c]: v for c, v in value_labels.items() if c in names}
    out = pd.DataFrame(columns, index=range(len(frame))) if columns else pd.DataFrame(index=range(len(frame)))
    return out, col_labels, vlabels, measures


def _fix_sav_header(path: Path) -> None:
    """Fix the creation date and time in the SPSS header so identical data give identical bytes."""
    with open(path, "r+b") as fh:
        head = fh.read(_SAV_DATE_OFFSET + 17)
        if not head.startswith(b"$FL2") and not head.startswith(b"$FL3"):
            return
        fh.seek(_SAV_DATE_OFFSET)
        fh.write(_FIXED_SAV_DATE + _FIXED_SAV_TIME)


def write_sav(frame: pd.DataFrame, path: Path, *, labels: dict, value_labels: dict, text_columns: set,
              file_label: str = "", formats: dict | None = None) -> Path:
    """Write ``frame`` as SPSS ``.sav`` with variable and value labels (names made valid by :func:`spss_name`).

    ``formats`` maps original column names to SPSS print formats (``"F1.0"``, ``"F8.3"``).
    """
    out, col_labels, vlabels, measures = _sav_frame(frame, labels, value_labels, text_columns)
    taken: set = set()
    names = {c: spss_name(c, taken) for c in frame.columns}
    fmt = {names[c]: f for c, f in (formats or {}).items() if c in names}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(out, str(path), file_label=file_label[:64], column_labels=col_labels,
                         variable_value_labels=vlabels, variable_measure=measures, variable_format=fmt or None)
    _fix_sav_header(path)
    return path


# ---------------------------------------------------------------------------
# .xlsx


def _normalise_xlsx(path: Path) -> None:
    """Fixed time stamps inside the workbook package (zip entries and docProps/core.xml)."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w") as zout:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" +
                              _FIXED_ISO.encode() + rb"\g<3>", data)
            new = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = info.external_attr
            zout.writestr(new, data)


#: First characters by which a spreadsheet reads a cell's text as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(values) -> np.ndarray:
    """Which values are text a spreadsheet would take for a formula (numbers are never).

    >>> formula_like(pd.Series(["=HYPERLINK(1)", "-", "female", -1, "+31 6", "@x"])).tolist()
    [True, True, False, False, True, True]
    """
    s = pd.Series(values, dtype=object)
    text = s.map(lambda v: isinstance(v, str))
    return (text & s.astype(str).str.startswith(FORMULA_START)).to_numpy(dtype=bool)


def neutralise_formulas(worksheet, frame: pd.DataFrame, header: bool = True) -> int:
    """Store every formula-like text cell of ``frame`` (written at the sheet's top left) as text with a quote prefix.

    openpyxl writes a string starting with ``=`` as a formula; Excel would also run
    ``+``, ``-`` and ``@`` text when the cell is edited. Returns the cells changed.
    """
    changed = 0
    offset = 2 if header else 1
    for k, column in enumerate(frame.columns):
        if header and isinstance(column, str) and column.startswith(FORMULA_START):
            cell = worksheet.cell(row=1, column=k + 1)
            cell.data_type, cell.quotePrefix = "s", True
            changed += 1
        col = frame[column]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        for i in np.flatnonzero(formula_like(col.to_numpy(dtype=object))):
            cell = worksheet.cell(row=int(i) + offset, column=k + 1)
            cell.data_type, cell.quotePrefix = "s", True
            changed += 1
    return changed


def write_xlsx(frame: pd.DataFrame, path: Path, *, sheet: str, labels: dict, language: str = "en") -> Path | None:
    """Write ``frame`` to an Excel workbook (data sheet(s) plus a ``variables`` sheet), with fixed time stamps.

    Tables of more than :data:`XLSX_LIMIT_CELLS` cells are not written (None is returned) and
    the reason is appended to ``README.txt`` beside them.

    Text stays text (styles and min/max types as words, ids as text), as in the CSV.
    """
    t = _TEXTS[language]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = len(frame) * max(1, frame.shape[1])
    if cells > XLSX_LIMIT_CELLS:
        note = path.parent / "README.txt"
        previous = note.read_text(encoding="utf-8") if note.exists() else ""
        note.write_text(previous + f"{path.name} not written: {len(frame):,} rows x {frame.shape[1]:,} columns exceed "
                        f"the {XLSX_LIMIT_CELLS:,}-cell limit for Excel copies; use the .csv or .sav file.\n",
                        encoding="utf-8")
        return None
    variables = pd.DataFrame({t["column"]: list(frame.columns), t["label"]: [labels.get(c, c) for c in frame.columns]})
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        chunks = max(1, int(np.ceil(len(frame) / EXCEL_MAX_ROWS)))
        for i in range(chunks):
            part = frame.iloc[i * EXCEL_MAX_ROWS:(i + 1) * EXCEL_MAX_ROWS]
            name = sheet if chunks == 1 else f"{sheet}_{i + 1}"
            part.to_excel(writer, sheet_name=name, index=False)
            neutralise_formulas(writer.sheets[name], part)
        variables.to_excel(writer, sheet_name="variables", index=False)
        neutralise_formulas(writer.sheets["variables"], variables)
    _normalise_xlsx(path)
    return path


# ---------------------------------------------------------------------------
# lavaan


def lavaan_syntax(inst: Instrument) -> str:
    """The instrument's theoretical CFA model as lavaan syntax, one line per subscale.

    >>> from attachment_pipeline.instruments import load_instrument
    >>> lavaan_syntax(load_instrument("ecr_r")).splitlines()[-2][:40]
    'anxiety =~ ecr_r_1 + ecr_r_2 + ecr_r_3 +'
    """
    header = [
        f"# Theoretical CFA model of the {inst.title}: one correlated factor per subscale,",
        "# as fitted by attachment-pipeline (cfa_fit.csv, model 'theoretical'). The indicators are the keyed",
        "# columns of items.csv (reverse-keyed items already reversed). To refit it in R:",
        "#   library(lavaan)",
        "#   items <- read.csv(\"items.csv\")   # results/<study>/<cohort>/items.csv",
        "#   model <- paste(readLines(\"cfa_model.lavaan\"), collapse = \"\\n\")",
        "#   fit <- cfa(model, data = items)  # ML, first loading fixed to 1, correlated factors, listwise",
        "#   fitMeasures(fit, c(\"chisq\", \"df\", \"cfi\", \"tli\", \"rmsea\", \"srmr\"))",
    ]
    lines = [f"{sub} =~ " + " + ".join(f"{inst.name}_{n}" for n in inst.subscale_items(sub)) for sub in inst.subscales]
    return "\n".join(header + lines) + "\n"


# ---------------------------------------------------------------------------
# the cohort's exports


def export_names(cohort: Cohort) -> list[str]:
    """File names :func:`write_exports` writes for ``cohort`` (for a Snakemake rule's outputs)."""
    names = ["respondents.sav", "respondents.xlsx", "scores.sav", "scores.xlsx"]
    dims = cohort.dimension_instruments
    if dims:
        names += ["classification.sav", "classification.xlsx"]
        names += ["cfa_model.lavaan"] if len(dims) == 1 else [f"cfa_model_{i.name}.lavaan" for i in dims]
    return names


# ---------------------------------------------------------------------------
# one row per respondent


def _code_width(max_code: int) -> str:
    return f"F{len(str(int(max_code)))}.0"


def _item_label(inst: Instrument, n: int, language: str, keyed: bool) -> str:
    item = next(i for i in inst.items if i.n == n)
    text = item.text.get(language) or item.text.get("en") or "" if isinstance(item.text, dict) else str(item.text)
    if not text and inst.kind == "minmax":
        text = next(iter(inst.item_labels.get(n, {}) or {}), "")
    mark = (" [keyed: reversed]" if item.reverse else " [keyed]") if keyed else ""
    return f"{_short(inst)} {n}: {' '.join(str(text).split())}{mark}"


def respondent_table(cohort_dir: Path, cohort: Cohort, language: str = "en") -> tuple[pd.DataFrame, dict, dict, dict,
                                                                                       set]:
    """The cohort in one row per respondent, for ``respondents.sav`` / ``.xlsx``.

    Reads ``scores.csv``, ``items.csv`` (keyed items), and when present ``irt_scores.csv`` and
    ``classification.csv``. Raw answers are the keyed ones turned back: ``x = min + max - x'`` for
    reverse-keyed items (the checklist is never reversed).

    Returns ``(frame, labels, value_labels, formats, text_columns)`` keyed by column name;
    categorical columns are already numeric codes.
    """
    t = _TEXTS[language]
    cohort_dir = Path(cohort_dir)
    scores = read_scores(cohort_dir / "scores.csv")
    id_name = scores.index.name
    items = read_scores(cohort_dir / "items.csv")
    labels = {id_name: t["id"], **score_labels(cohort, language)}
    value_labels, formats = {}, {}
    text_cols = {id_name}
    parts = [scores.index.to_frame(index=False)]
    frame = scores.reset_index(drop=True)
    # groups (labelled numerics), couple/role (text ids), covariates, scores
    score_cols = [c for c in scores.columns if c in labels]
    other = [c for c in scores.columns if c not in labels]
    head = pd.DataFrame(index=frame.index)
    for c in other:
        col = frame[c]
        if c in cohort.covariates:
            head[c] = pd.to_numeric(col, errors="coerce")
        elif c in cohort.groups or (cohort.couples is not None and c == cohort.couples.role_column):
            text = col.dropna().astype(str)
            levels = sorted(text.unique())
            codes = {lev: k + 1 for k, lev in enumerate(levels)}
            head[c] = text.map(codes).reindex(col.index).astype(float)
            value_labels[c] = {k: lev for lev, k in codes.items()}
            formats[c] = _code_width(max(len(levels), 1))
        else:
            head[c] = col
            text_cols.add(c)
    parts.append(head)
    # items: as answered, then keyed
    aligned = items.reindex(scores.index)
    raw_block, keyed_block = {}, {}
    for inst in cohort.instruments:
        width = _code_width(max(abs(inst.scale_min), abs(inst.scale_max)))
        for n in (i.n for i in inst.items):
            col = f"{inst.name}_{n}"
            if col not in aligned:
                continue
            keyed = aligned[col].to_numpy(dtype=float)
            reverse = inst.kind != "minmax" and n in inst.reverse_keyed
            raw_block[col] = inst.scale_min + inst.scale_max - keyed if reverse else keyed
            keyed_block[f"{col}_keyed"] = keyed
            labels[col] = _item_label(inst, n, language, keyed=False)
            labels[f"{col}_keyed"] = _item_label(inst, n, language, keyed=True)
            formats[col] = formats[f"{col}_keyed"] = width
            if inst.scale_labels:
                value_labels[col] = value_labels[f"{col}_keyed"] = {
                    int(k): str(v) for k, v in inst.scale_labels.items()
                    if str(k).lstrip("-").isdigit() and inst.scale_min <= int(k) <= inst.scale_max}
    parts += [pd.DataFrame(raw_block), pd.DataFrame(keyed_block)]
    sc = frame[score_cols].copy()
    for c in score_cols:
        if c.endswith("_type"):
            sc[c] = sc[c].map(MINMAX_CODES).astype(float)
            value_labels[c] = {MINMAX_CODES[m]: t[m] for m in MINMAX_TYPES}
            formats[c] = "F1.0"
        else:
            formats[c] = "F8.3"
    parts.append(sc)
    irt_path = cohort_dir / "irt_scores.csv"
    if irt_path.is_file():
        irt = read_scores(irt_path).reindex(scores.index)
        keep = [c for c in irt.columns if c.endswith(("_theta_eap", "_se_eap"))]
        block = irt[keep].reset_index(drop=True)
        for c in keep:
            base, what = c.rsplit("_", 2)[0], c.rsplit("_", 2)[1]
            labels[c] = f"{labels.get(base, base)}: IRT {'EAP theta' if what == 'theta' else 'EAP standard error'}"
            formats[c] = "F8.3"
        parts.append(block)
    cls_path = cohort_dir / "classification.csv"
    if cls_path.is_file():
        table = read_table(cls_path, id_column=id_name, computed=True)
        if not table.empty and "style" in table.columns:
            several = table["instrument"].nunique() > 1
            prefix = "style_" + (table["instrument"].astype(str) + "_" if several else "")
            table = table.assign(column=prefix + table["method"].astype(str))
            wide = table.pivot(index=id_name, columns="column", values="style").reindex(scores.index)
            order = [str(c) for c in pd.unique(table["column"])]
            block = pd.DataFrame({c: style_codes(wide[c]).to_numpy() for c in order})
            for c in order:
                method = c.rsplit("_", 1)[-1]
                labels[c] = f"{t['style']} ({t['method'].lower()}: {method})"
                value_labels[c] = style_value_labels(wide[c].dropna().unique(), language)
                formats[c] = _code_width(max(value_labels[c]))
            parts.append(block)
    out = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    return out, labels, value_labels, formats, text_cols


def _respondents_export(cohort_dir: Path, cohort: Cohort, out_dir: Path, language: str) -> list[Path]:
    frame, labels, value_labels, formats, text_cols = respondent_table(cohort_dir, cohort, language)
    readable = frame.copy()  # Excel: categories as their labels (what a reader wants to see)
    for c, vl in (value_labels.items() if frame.size <= XLSX_LIMIT_CELLS else ()):  # else no Excel copy
        if c in readable and not c.endswith("_keyed") and not any(c == f"{i.name}_{n}" for i in cohort.instruments
                                                                   for n in range(1, i.n_items + 1)):
            readable[c] = readable[c].map(lambda v, vl=vl: vl.get(int(v), v) if pd.notna(v) else v)
    return [write_sav(frame, out_dir / "respondents.sav", labels=labels, value_labels=value_labels,
                      text_columns=text_cols, file_label=f"respondents {cohort.name}", formats=formats),
            write_xlsx(readable, out_dir / "respondents.xlsx", sheet="respondents", labels=labels,
                       language=language)]


def _scores_export(cohort_dir: Path, cohort: Cohort, out_dir: Path, language: str) -> list[Path]:
    t = _TEXTS[language]
    scores = read_scores(Path(cohort_dir) / "scores.csv")
    id_name = scores.index.name
    frame = scores.reset_index()
    labels = {id_name: t["id"], **score_labels(cohort, language)}
    value_labels, text_cols = {}, {id_name}
    for inst in cohort.instruments:
        type_col = f"{inst.name}_type"
        if inst.kind == "minmax" and type_col in frame:
            frame[type_col] = frame[type_col].map(MINMAX_CODES).astype(float)
            value_labels[type_col] = {MINMAX_CODES[m]: t[m] for m in MINMAX_TYPES}
    known = set(labels) | set(value_labels)
    for c in frame.columns:
        if c not in known and c not in cohort.covariates:
            text_cols.add(c)  # groups, couple and role columns
    return [write_sav(frame, out_dir / "scores.sav", labels=labels, value_labels=value_labels, text_columns=text_cols,
                      file_label=f"scores {cohort.name}"),
            write_xlsx(scores.reset_index(), out_dir / "scores.xlsx", sheet="scores", labels=labels,
                       language=language)]


def _classification_export(cohort_dir: Path, cohort: Cohort, out_dir: Path, language: str) -> list[Path]:
    t = _TEXTS[language]
    path = Path(cohort_dir) / "classification.csv"
    table = read_table(path, id_column="first", computed=True)
    id_name = table.columns[0]
    if table.empty or "style" not in table.columns:  # every method was skipped: nothing to export
        note = out_dir / "README.txt"
        previous = note.read_text(encoding="utf-8") if note.exists() else ""
        note.write_text(previous + "classification.sav and classification.xlsx not written: no classification was "
                        "computed (classification.csv says why).\n", encoding="utf-8")
        return []
    labels = {id_name: t["id"], "instrument": t["instrument"], "method": t["method"], "anxiety": t["anxiety"],
              "avoidance": t["avoidance"], "style": t["style"], "certainty": t["certainty"]}
    value_labels = {"style": style_value_labels(table["style"].unique(), language)}
    coded = table.assign(style=style_codes(table["style"]))
    return [write_sav(coded, out_dir / "classification.sav", labels=labels, value_labels=value_labels,
                      text_columns={id_name, "instrument", "method"}, file_label=f"classification {cohort.name}"),
            write_xlsx(table, out_dir / "classification.xlsx", sheet="classification", labels=labels,
                       language=language)]


def write_exports(cohort_dir: Path, cohort: Cohort, out_dir: Path, *, language: str = "en") -> list[Path]:
    """Write the SPSS, Excel and lavaan exports of one cohort (:func:`export_names` lists them).

    Parameters
    ----------
    cohort_dir : ``results/<study>/<cohort>``; reads ``scores.csv``, ``items.csv``, and when present
        ``irt_scores.csv`` and (with a dimension instrument) ``classification.csv``.
    cohort : the cohort's settings (instruments with their scales, covariates).
    out_dir : folder to write into (created when missing).
    language : ``en`` or ``nl``: language of the variable and value labels.

    Returns
    -------
    The paths written, in the order of :func:`export_names`.
    """
    if language not in _TEXTS:
        raise ValueError(f"language must be one of {', '.join(_TEXTS)}; got {language!r}.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "README.txt").unlink(missing_ok=True)
    written = _respondents_export(cohort_dir, cohort, out_dir, language)
    written += _scores_export(cohort_dir, cohort, out_dir, language)
    dims = cohort.dimension_instruments
    if dims:
        written += _classification_export(cohort_dir, cohort, out_dir, language)
        for inst in dims:
            name = "cfa_model.lavaan" if len(dims) == 1 else f"cfa_model_{inst.name}.lavaan"
            path = out_dir / name
            path.write_text(lavaan_syntax(inst).replace("cfa_model.lavaan", name), encoding="utf-8", newline="\n")
            written.append(path)
    return [p for p in written if p is not None]
