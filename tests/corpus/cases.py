"""The corpus of messy and broken inputs (issue 12), one case per function.

Each case builds its files in a folder and returns the cohort config a researcher would
write (or a whole study config), with what the pipeline must do:

* ``refused`` - the scoring step stops with exit status 2, one paragraph on stderr
  holding ``fragment``, no traceback, and none of its outputs on disk;
* ``counted`` - the scoring step runs; ``check(report, out)`` asserts the counted
  exclusions, notes and warnings in ``qc/validation.json`` (and the tables in ``out``);
* ``skipped`` - every step of the cohort runs; ``check(out)`` asserts the analyses the
  data cannot support are skipped with their reason while the rest is computed;
* ``config`` - the config is refused at start-up (:func:`load_study`) with ``fragment``.

``python -m corpus.cases --out DIR`` (from ``tests/``) writes every case's files to DIR,
to look at them. The files are small and generated, so the repository stays light;
:mod:`corpus.exports` builds the survey exports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from attachment_pipeline.instruments import INSTRUMENT_DIR
from corpus import exports as ex

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # refused | counted | skipped | config
    build: object
    fragment: str = ""
    what: str = ""


CASES: dict = {}


def case(kind: str, fragment: str = ""):
    def register(func):
        name = func.__name__
        CASES[name] = Case(name, kind, func, fragment, (func.__doc__ or "").strip())
        return func
    return register


def plain(d: Path, data: pd.DataFrame | None = None, name: str = "responses.csv", couples: bool = False) -> Path:
    return ex.plain_csv(d / name, data if data is not None else ex.sample(40), couples=couples)


def cohort(path: Path, **over) -> dict:
    """The cohort config for the project's own layout (respondent_id, ecr_{n}, mm_{n})."""
    c = {"responses": str(path), "instruments": ["ecr_r", "minmax"], "id_column": "respondent_id",
         "items": {"ecr_r": "ecr_{n}", "minmax": "mm_{n}"}, "groups": ["gender"], "covariates": ["age"]}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_text(end.join(lines) + end, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# survey exports as researchers have them


@case("counted")
def qualtrics_numeric_csv(d):
    """Qualtrics CSV, numeric values: 2 preview and 3 unfinished responses left out and counted; identifying columns never read."""
    path = ex.qualtrics_csv(d / "export.csv", ex.sample(60), preview=2, unfinished=3)

    def check(r, out):
        assert r["input"]["format"] == "qualtrics-csv" and r["rows_in_file"] == 60 and r["respondents"] == 55
        assert r["excluded"]["preview"]["n"] == 2 and r["excluded"]["unfinished"]["n"] == 3
        assert r["excluded"]["preview"]["rows"] == [4, 5]  # rows as in the file (three header rows)
        assert {"IPAddress", "RecipientEmail", "RecipientFirstName", "RecipientLastName", "LocationLatitude",
                "LocationLongitude", "ExternalReference"} <= set(r["input"]["identifying_columns_left_out"])
        assert r["items"]["ecr_r"]["scoring"]["scored"] == 55
        assert r["items"]["minmax"]["scoring"]["scored"] == 55  # checkbox blanks read as not ticked
    return ex.qualtrics_cohort(path), check


@case("counted")
def qualtrics_choice_text_english(d):
    """Qualtrics CSV with choice text: "Strongly disagree" .. "Strongly agree" and ticked statements as their text."""
    data = ex.sample(60)
    path = ex.qualtrics_csv(d / "export.csv", data, numeric=False, preview=2, unfinished=3)

    def check(r, out):
        assert r["respondents"] == 55 and r["items"]["ecr_r"]["answers_from_labels"] == 55 * 36
        assert r["items"]["ecr_r"]["scoring"]["scored"] == 55 and r["items"]["minmax"]["scoring"]["scored"] == 55
        items = pd.read_csv(out / "items.csv", index_col=0)
        assert items["ecr_r_1"].tolist() == data["ecr_1"].iloc[2:57].astype(float).tolist()
        assert r["groups"]["Q3"]["levels"] == {"Female": int((data["gender"].iloc[2:57] == "female").sum()),
                                              "Male": int((data["gender"].iloc[2:57] == "male").sum())}
    return ex.qualtrics_cohort(path), check


@case("counted")
def qualtrics_choice_text_dutch(d):
    """Qualtrics CSV with Dutch choice text ("Helemaal mee oneens" .. "Helemaal mee eens")."""
    path = ex.qualtrics_csv(d / "export.csv", ex.sample(50), numeric=False, labels=ex.NL_7)

    def check(r, out):
        assert r["items"]["ecr_r"]["answers_from_labels"] == 50 * 36 and r["items"]["ecr_r"]["scoring"]["scored"] == 50
    return ex.qualtrics_cohort(path), check


@case("counted")
def qualtrics_choice_text_five_points(d):
    """A 5-point ECR-R in choice text ("Somewhat agree"), with the cohort's 1-5 scale override."""
    path = ex.qualtrics_csv(d / "export.csv", ex.sample(50, scale=5), numeric=False, labels=ex.EN_5)

    def check(r, out):
        assert r["items"]["ecr_r"]["response_scale"] == [1, 5] and r["items"]["ecr_r"]["scoring"]["scored"] == 50
        assert not [w for w in r["warnings"] if "declared" in w]
    return ex.qualtrics_cohort(path, response_scale={"ecr_r": {"min": 1, "max": 5}}), check


@case("counted")
def qualtrics_choice_text_own_labels(d):
    """Labels the instrument file does not know, given in the cohort config (`answer_labels`)."""
    own = ["Totally disagree", "2", "3", "4", "5", "6", "Totally agree"]
    path = ex.qualtrics_csv(d / "export.csv", ex.sample(40), numeric=False, labels=own)

    def check(r, out):
        assert r["items"]["ecr_r"]["scoring"]["scored"] == 40 and r["items"]["ecr_r"]["answers_from_labels"] > 0
    return ex.qualtrics_cohort(path, answer_labels={"ecr_r": {"1": "Totally disagree", "7": ["Totally agree"]}}), check


@case("refused", "are not numbers (2 distinct text(s)")
def qualtrics_choice_text_unknown_label(d):
    """A label nobody declared ("Agreee") is named with its count and how to map it."""
    path = ex.qualtrics_csv(d / "export.csv", ex.sample(40), numeric=False)
    text = path.read_text(encoding="utf-8-sig").replace('"Somewhat agree"', '"Agreee"', 3).replace(
        '"Disagree"', '"Dis agree!"', 1)
    path.write_text(text, encoding="utf-8-sig")
    return ex.qualtrics_cohort(path)


@case("counted")
def qualtrics_legacy_two_header_rows(d):
    """The legacy exporter: V1..V10 over a ResponseID row; Status 1 = preview."""
    path = ex.qualtrics_legacy_csv(d / "legacy.csv", ex.sample(50), preview=2)

    def check(r, out):
        assert r["input"]["format"] == "qualtrics-legacy-csv" and r["respondents"] == 48
        assert r["excluded"]["preview"]["columns"] == ["Status"]
        assert {"EmailAddress", "IPAddress", "Name", "ExternalDataReference"} <= set(r["input"]["identifying_columns_left_out"])
    return ex.qualtrics_cohort(path, id_column="ResponseID"), check


@case("counted")
def qualtrics_excel(d):
    """Qualtrics Excel export (choice text): the same three header rows in a workbook."""
    path = ex.qualtrics_xlsx(d / "export.xlsx", ex.sample(40), numeric=False, preview=1)

    def check(r, out):
        assert r["input"]["format"] == "qualtrics-xlsx" and r["respondents"] == 39
        assert r["input"]["first_data_row"] == 5  # row 4 was the preview
    return ex.qualtrics_cohort(path), check


@case("counted")
def qualtrics_spss(d):
    """Qualtrics SPSS export: Finished 0/1 labelled False/True, gender with value labels."""
    path = ex.qualtrics_sav(d / "export.sav", ex.sample(50), preview=2, unfinished=1)

    def check(r, out):
        assert r["input"]["format"] == "sav" and r["respondents"] == 47
        assert set(r["groups"]["Q3"]["levels"]) <= {"Female", "Male"}
    return ex.qualtrics_cohort(path), check


@case("counted")
def qualtrics_tsv_utf16(d):
    """Qualtrics TSV export (UTF-16 with BOM, tab-separated)."""
    frame, texts, ids = ex.qualtrics_frame(ex.sample(30))
    body = pd.concat([pd.DataFrame([texts, ids], columns=frame.columns), frame.astype(object)], ignore_index=True)
    path = d / "export.tsv"
    path.write_bytes(body.to_csv(index=False, sep="\t").encode("utf-16"))

    def check(r, out):
        assert r["input"]["encoding"] == "utf-16" and r["input"]["delimiter"] == "tab" and r["respondents"] == 30
    return ex.qualtrics_cohort(path), check


@case("counted")
def qualtrics_progress_threshold(d):
    """`exclude: {unfinished: false, min_progress: 50}`: only responses below 50% progress are left out."""
    path = ex.qualtrics_csv(d / "export.csv", ex.sample(40), unfinished=6)
    progress = pd.read_csv(path, skiprows=[1, 2])["Progress"]

    def check(r, out):
        assert "unfinished" not in r["excluded"]
        assert r["excluded"]["low_progress"]["n"] == int((progress < 50).sum()) > 0
    return ex.qualtrics_cohort(path, exclude={"unfinished": False, "min_progress": 50}), check


@case("refused", "all 40 data rows were left out: 40 preview or test response")
def qualtrics_only_previews(d):
    """Every response a preview: refused, saying how to keep them."""
    return ex.qualtrics_cohort(ex.qualtrics_csv(d / "export.csv", ex.sample(40), preview=40))


@case("counted")
def spss_user_missing_values(d):
    """SPSS user-missing values (-9, 99) declared in the file count as missing codes, not blanks."""
    path = ex.spss_sav(d / "lab.sav", ex.sample(40), n_missing=12)

    def check(r, out):
        assert r["items"]["ecr_r"]["totals"]["missing_code"] == 12 and r["items"]["ecr_r"]["totals"]["blank"] == 0
        assert r["input"]["spss_user_missing"]["ecr1"] == [[-9.0, -9.0], [99.0, 99.0]]
    return {"responses": str(path), "instruments": ["ecr_r", "minmax"], "id_column": "pp",
            "items": {"ecr_r": "ecr{n}", "minmax": "mm{n}"}, "groups": ["sex"]}, check


@case("counted")
def spss_compressed_zsav(d):
    """A compressed SPSS file (.zsav), as SPSS writes with "compress" on."""
    import pyreadstat

    frame = pd.read_csv(plain(d))
    pyreadstat.write_sav(frame, str(d / "data.zsav"), compress=True)

    def check(r, out):
        assert r["input"]["format"] == "sav" and r["respondents"] == 40
    return cohort(d / "data.zsav"), check


@case("refused", "outside the response scale (ecr_r: whole numbers 1-7; declared missing codes: none), in")
def spss_codes_not_declared(d):
    """The same codes without a user-missing declaration: out of range, with the values' span."""
    import pyreadstat

    path = ex.spss_sav(d / "lab.sav", ex.sample(40), n_missing=12)
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    pyreadstat.write_sav(frame, str(path))
    return {"responses": str(path), "instruments": ["ecr_r", "minmax"], "id_column": "pp",
            "items": {"ecr_r": "ecr{n}", "minmax": "mm{n}"}}


@case("counted")
def checkbox_blanks_as_missing(d):
    """`tick_blanks: missing`: blank checkbox cells stay unanswered, so few respondents get a min/max score."""
    path = ex.qualtrics_csv(d / "export.csv", ex.sample(40))

    def check(r, out):
        assert "tick_blanks" not in json.dumps(r["warnings"])
        assert r["items"]["minmax"]["scoring"]["scored"] < 40
    return ex.qualtrics_cohort(path, tick_blanks="missing"), check


@case("counted")
def forced_choice_as_statement_text(d):
    """Forced-choice checklist exported as choice text: each answer is one of the pair's statements (Dutch)."""
    from attachment_pipeline.instruments import load_instrument

    fc = load_instrument("minmax", "forced_choice")
    data = ex.sample(30)
    frame = pd.DataFrame({"respondent_id": [f"R{i}" for i in range(30)]})
    for k in range(1, 37):
        frame[f"ecr_{k}"] = data[f"ecr_{k}"]
    rng = np.random.default_rng(4)
    for p in fc.pairs:
        frame[f"fc_{p['n']}"] = np.where(rng.random(30) < 0.5, p["minimiser"]["nl"], p["maximiser"]["nl"])
    frame.to_csv(d / "fc.csv", index=False)

    def check(r, out):
        assert r["items"]["minmax"]["answers_from_labels"] == 30 * 11
        assert r["items"]["minmax"]["scoring"]["scored"] == 30
    return {"responses": str(d / "fc.csv"), "instruments": ["ecr_r", "minmax"], "id_column": "respondent_id",
            "items": {"ecr_r": "ecr_{n}", "minmax": "fc_{n}"}, "response_format": {"minmax": "forced_choice"}}, check


# ---------------------------------------------------------------------------
# encodings and delimiters


@case("counted")
def excel_unicode_text_utf16(d):
    """Excel's "Unicode text": UTF-16 little endian with BOM, tab-separated."""
    frame = pd.read_csv(plain(d))
    path = d / "unicode.txt"
    path.write_bytes(frame.to_csv(index=False, sep="\t").encode("utf-16"))

    def check(r, out):
        assert r["input"]["encoding"] == "utf-16" and r["respondents"] == 40
    return cohort(path), check


@case("counted")
def utf16_without_bom(d):
    """UTF-16 text without a byte order mark (recognised by its NUL bytes)."""
    path = d / "nobom.csv"
    path.write_bytes(plain(d).read_text().encode("utf-16-le"))

    def check(r, out):
        assert r["input"]["encoding"] == "utf-16-le" and r["respondents"] == 40
    return cohort(path), check


@case("counted")
def windows_1252_group_labels(d):
    """A CSV saved by Excel on Windows: België in a group column, read as Windows-1252 and noted."""
    data = ex.sample(40)
    data["gender"] = np.where(np.arange(40) % 2, "België", "Nederland")
    path = d / "cp1252.csv"
    path.write_bytes(plain(d, data).read_text().encode("cp1252"))

    def check(r, out):
        assert r["input"]["encoding"] == "windows-1252" and "België" in r["groups"]["gender"]["levels"]
        assert any("Windows-1252" in n for n in r["input"]["notes"])
    return cohort(path), check


@case("counted")
def excel_sep_line(d):
    """Excel's `sep=;` first line, semicolons and decimal commas; rows still numbered as in the file."""
    frame = pd.read_csv(plain(d))
    frame["age"] = frame["age"] + 0.5
    path = d / "sep.csv"
    path.write_text("sep=;\n" + frame.to_csv(index=False, sep=";", decimal=","), encoding="utf-8")

    def check(r, out):
        assert r["input"]["delimiter"] == "semicolon" and r["input"]["decimal"] == ","
        # Excel hides the sep= line: the first respondent is its row 2 (the editor's line 3)
        assert r["input"]["first_data_row"] == 2 and any("sep=" in n for n in r["input"]["notes"])
        assert pd.read_csv(out / "scores.csv")["age"].iloc[0] % 1 == 0.5
    return cohort(path), check


@case("counted")
def classic_mac_line_ends(d):
    """Line ends as a lone carriage return."""
    path = d / "mac.csv"
    path.write_bytes(plain(d).read_bytes().replace(b"\n", b"\r"))

    def check(r, out):
        assert r["respondents"] == 40
    return cohort(path), check


@case("refused", "this is an Excel workbook (or another zip file) with a .csv name")
def workbook_named_csv(d):
    """An .xlsx file renamed to .csv."""
    pd.read_csv(plain(d)).to_excel(d / "book.xlsx", index=False)
    (d / "book.xlsx").rename(d / "book.csv")
    return cohort(d / "book.csv")


@case("refused", "the file is empty")
def empty_file(d):
    """A file of zero bytes."""
    (d / "empty.csv").write_text("")
    return cohort(d / "empty.csv")


@case("refused", "the file has a header but no data rows (2 blank row(s) were skipped)")
def header_and_blank_rows_only(d):
    """A header followed by rows of separators only."""
    header = lines_of(plain(d))[0]
    return cohort(write_lines(d / "r.csv", [header, "," * header.count(","), "  "]))


# ---------------------------------------------------------------------------
# structure: header, rows, cells


@case("refused", "the header (row 1) has 2 field(s), but 41 of the 41 rows below it have 61: row 1 is probably not "
                 "the row of column names (a title above them?). Row 2 has 61 fields; if it holds the column names, set "
                 "`header_row: 2` for this cohort.")
def title_row_above_header(d):
    """A title line above the column names."""
    path = plain(d)
    return cohort(write_lines(path, ["Attachment study, wave 1 (exported 2024-03-01)"] + lines_of(path)))


@case("refused", "row 2 holds 60 of them: it looks like the header, with other rows (a title, a second header) above or "
                 "around it. Set `cohorts.c.header_row: 2`")
def title_row_padded_by_excel(d):
    """A title line padded to the full width, as Excel saves it ("Title,,,,,")."""
    path = plain(d)
    lines = lines_of(path)
    return cohort(write_lines(path, ["Attachment study wave 1" + "," * lines[0].count(",")] + lines))


@case("counted")
def title_row_with_header_row(d):
    """The same file with `header_row: 2`."""
    path = plain(d)
    write_lines(path, ["Attachment study, wave 1"] + lines_of(path))

    def check(r, out):
        assert r["respondents"] == 40 and r["input"]["header_row"] == 2 and r["input"]["first_data_row"] == 3
    return cohort(path, header_row=2), check


@case("refused", "sheet 'Data' holds 60 of them (row 1). Set `cohorts.c.sheet: 'Data'`")
def excel_data_on_second_sheet(d):
    """A workbook whose first sheet is a code book."""
    path = d / "study.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"variable": ["ecr_1"], "meaning": ["item 1"]}).to_excel(w, sheet_name="Codebook", index=False)
        pd.read_csv(plain(d)).to_excel(w, sheet_name="Data", index=False)
    return cohort(path)


@case("counted")
def excel_sheet_chosen(d):
    """The same workbook with `sheet: Data`."""
    path = d / "study.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"variable": ["ecr_1"]}).to_excel(w, sheet_name="Codebook", index=False)
        pd.read_csv(plain(d)).to_excel(w, sheet_name="Data", index=False)

    def check(r, out):
        assert r["input"]["sheet"] == "Data" and r["respondents"] == 40
    return cohort(path, sheet="Data"), check


@case("refused", "no sheet named 'Responses'; the workbook has 'Codebook', 'Data'")
def excel_unknown_sheet(d):
    """`sheet:` naming a sheet the workbook does not have: the sheets are listed."""
    path = d / "study.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"variable": ["ecr_1"]}).to_excel(w, sheet_name="Codebook", index=False)
        pd.read_csv(plain(d)).to_excel(w, sheet_name="Data", index=False)
    return cohort(path, sheet="Responses")


@case("counted")
def excel_numbers_stored_as_text(d):
    """Answers typed into text-formatted Excel cells ("4" as text, Excel's green triangle): read as numbers."""
    frame = pd.read_csv(plain(d))
    for k in range(1, 37):
        frame[f"ecr_{k}"] = frame[f"ecr_{k}"].astype(str)
    frame.to_excel(d / "text.xlsx", index=False)

    def check(r, out):
        assert r["items"]["ecr_r"]["scoring"]["scored"] == 40
        assert r["items"]["ecr_r"]["totals"]["non_numeric_set_missing"] == 0
    return cohort(d / "text.xlsx"), check


@case("refused", "column ecr_7 holds 2 formula cell(s) without a saved value (cell J5 (row 5): '=I5'")
def excel_formula_without_saved_value(d):
    """Item cells that are formulas never computed (a file written by a script, not by Excel)."""
    import openpyxl

    path = d / "f.xlsx"
    pd.read_csv(plain(d)).to_excel(path, index=False)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    col = [c.value for c in ws[1]].index("ecr_7") + 1
    for row in (5, 9):
        ws.cell(row=row, column=col, value=f"={openpyxl.utils.get_column_letter(col - 1)}{row}")
    wb.save(path)
    return cohort(path)


@case("counted")
def excel_formula_in_unused_column(d):
    """A formula without a saved value in a column the cohort does not use: noted, not refused."""
    import openpyxl

    path = d / "f.xlsx"
    frame = pd.read_csv(plain(d))
    frame["total"] = 0
    frame.to_excel(path, index=False)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.cell(row=2, column=frame.shape[1], value="=SUM(D2:AM2)")
    wb.save(path)

    def check(r, out):
        assert r["respondents"] == 40 and any("formula" in n and "total" in n for n in r["input"]["notes"])
    return cohort(path), check


@case("counted")
def excel_trailing_rows_of_spaces(d):
    """Rows of spaces under the data (Excel keeps them): skipped and counted, not respondents."""
    import openpyxl

    path = d / "t.xlsx"
    pd.read_csv(plain(d)).drop(columns=["respondent_id"]).to_excel(path, index=False)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for row in (42, 43, 44):
        ws.cell(row=row, column=2, value=" ")
        ws.cell(row=row, column=5, value="   ")
    wb.save(path)

    def check(r, out):
        assert r["respondents"] == 40 and r["input"]["blank_rows_skipped"] == 3
        assert len(pd.read_csv(out / "scores.csv")) == 40
    return cohort(path, id_column=None), check


@case("counted")
def csv_trailing_rows_of_separators(d):
    """Rows of separators and spaces at the end of a CSV."""
    path = plain(d)
    n = lines_of(path)[0].count(",")
    write_lines(path, lines_of(path) + ["," * n, " ," * n, ""])

    def check(r, out):
        assert r["respondents"] == 40 and r["input"]["blank_rows_skipped"] == 3
    return cohort(path), check


@case("refused", "row 8, column ecr_3: '9'")
def blank_line_keeps_row_numbers(d):
    """A blank line in the middle: the bad value of the 6th respondent is named at row 8, as in an editor or Excel."""
    lines = lines_of(plain(d))
    fields = lines[6].split(",")
    fields[lines[0].split(",").index("ecr_3")] = "9"
    lines[6] = ",".join(fields)
    return cohort(write_lines(d / "r.csv", lines[:3] + [""] + lines[3:]))


@case("refused", "row 5 (line 6), column ecr_3: 'x'")
def line_break_inside_a_cell(d):
    """A quoted free-text cell with a line break: a later row is named as a spreadsheet shows it, with its editor line."""
    data = ex.sample(40)
    data["comment"] = ""
    data.loc[1, "comment"] = "first line\nsecond line"
    data["ecr_3"] = data["ecr_3"].astype(object)
    data.loc[3, "ecr_3"] = "x"
    return cohort(plain(d, data))


@case("refused", "the file ends in the middle of row 41 (it has 12 of the header's 61 fields and no line end)")
def file_cut_off_mid_row(d):
    """A transfer that stopped half-way through the last row."""
    text = plain(d).read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    cut = text[: len(text.rstrip("\n")) - len(last)] + ",".join(last.split(",")[:12])
    (d / "cut.csv").write_text(cut)
    return cohort(d / "cut.csv")


@case("refused", "the header has 61 fields, but row 12 has 62")
def comma_in_unquoted_free_text(d):
    """A free-text comma without quotes shifts a row by one field."""
    lines = lines_of(plain(d))
    fields = lines[11].split(",")
    fields[1] = fields[1] + ", mostly"
    lines[11] = ",".join(fields)
    return cohort(write_lines(d / "r.csv", lines))


@case("refused", "the column name 'ecr_5' occurs 2 times in the header (columns 8 and 62)")
def duplicated_header_used(d):
    """A column name twice in the header (the second would silently be ignored)."""
    frame = pd.read_csv(plain(d))
    frame.insert(frame.shape[1], "ecr_5 ", frame["ecr_5"])  # the same name once stripped
    frame.to_csv(d / "dup.csv", index=False)
    return cohort(d / "dup.csv")


@case("counted")
def duplicated_header_unused(d):
    """A duplicated name the cohort does not use is noted only."""
    frame = pd.read_csv(plain(d))
    frame["note"] = ""
    frame["note "] = ""
    frame.to_csv(d / "dup.csv", index=False)

    def check(r, out):
        assert any("'note' occurs 2 times" in n for n in r["input"]["notes"])
    return cohort(d / "dup.csv"), check


@case("counted")
def huge_free_text_cell(d):
    """A cell of 200,000 characters near the top (over Python's csv field limit) in an unused column."""
    data = ex.sample(40)
    data["essay"] = ""
    data.loc[0, "essay"] = "words " * 40_000
    return cohort(plain(d, data)), lambda r, out: r["respondents"] == 40


@case("refused", "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'")
def huge_cell_in_an_item_column(d):
    """A 200,000-character cell where an answer belongs: named, shortened."""
    data = ex.sample(40)
    data["ecr_2"] = data["ecr_2"].astype(object)
    data.loc[0, "ecr_2"] = "x" * 200_000
    return cohort(plain(d, data))


@case("refused", "row 6 starts a quoted cell that runs to the end of the file: a quote opened in that row may never be closed")
def unclosed_quote(d):
    """A quote that never closes swallows the rest of the file."""
    lines = lines_of(plain(d))
    lines[5] = lines[5].replace(",", ',"', 1)
    path = write_lines(d / "r.csv", lines)
    return cohort(path)


# ---------------------------------------------------------------------------
# columns


@case("refused", "for ecr_r the file has columns matching \"Q5_{n}\"")
def items_under_another_pattern(d):
    """The items are Q5_1..Q5_36, the config says ecr_{n}: the message suggests the pattern."""
    frame = pd.read_csv(plain(d)).rename(columns={f"ecr_{k}": f"Q5_{k}" for k in range(1, 37)})
    frame.to_csv(d / "q.csv", index=False)
    return cohort(d / "q.csv")


@case("refused", "column names differ in upper/lower case only (e.g. 'ECR_1')")
def items_in_another_case(d):
    """ECR_1 in the file, ecr_1 in the config."""
    frame = pd.read_csv(plain(d)).rename(columns={f"ecr_{k}": f"ECR_{k}" for k in range(1, 37)})
    frame.to_csv(d / "q.csv", index=False)
    return cohort(d / "q.csv")


@case("refused", "the id column 'contact' holds e-mail or IP addresses (rows 2, 3, 4, 5, 6 and 35 more)")
def email_addresses_as_ids(d):
    """E-mail addresses as ids would be copied into every output: refused, without repeating them."""
    frame = pd.read_csv(plain(d))
    frame["contact"] = [f"p{i}@example.org" for i in range(40)]
    frame.to_csv(d / "r.csv", index=False)
    return cohort(d / "r.csv", id_column="contact")


@case("counted")
def identifying_columns_never_read(d):
    """Name, e-mail and IP columns in a plain file are left out on reading, and named in validation.json."""
    frame = pd.read_csv(plain(d))
    frame["Email"] = [f"p{i}@example.org" for i in range(40)]
    frame["Naam"] = [f"Person {i}" for i in range(40)]
    frame["IP Address"] = "10.0.0.1"
    frame.to_csv(d / "r.csv", index=False)

    def check(r, out):
        assert r["input"]["identifying_columns_left_out"] == ["Email", "Naam", "IP Address"]
        text = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
        assert "example.org" not in text and "Person 1" not in text and "10.0.0.1" not in text
    return cohort(d / "r.csv"), check


# ---------------------------------------------------------------------------
# values


@case("counted")
def free_text_group_value(d):
    """A gender typed as "Jane Doe jane.doe@example.org": a level of 1, never named, not voiding anything."""
    data = ex.sample(100)
    data.loc[7, "gender"] = "Jane Doe jane.doe@example.org"

    def check(r, out):
        g = r["groups"]["gender"]
        assert g["hidden"] == {"levels": 1, "respondents": 1, "reason": g["hidden"]["reason"]}
        assert "Jane" not in json.dumps(r) and "Jane" not in (out / "scores.csv").read_text()
    return cohort(plain(d, data)), check


@case("counted")
def small_group_level(d):
    """Three respondents in a level: below the privacy threshold of 5, read as no group and counted."""
    data = ex.sample(40)
    data.loc[[3, 9, 21], "gender"] = "non-binary"

    def check(r, out):
        assert "non-binary" not in r["groups"]["gender"]["levels"]
        assert r["groups"]["gender"]["hidden"]["respondents"] == 3
    return cohort(plain(d, data)), check


@case("counted")
def five_point_answers_under_seven_point_scale(d):
    """1-5 answers with the default 1-7 scale: a warning says which scale to declare."""
    def check(r, out):
        assert any("ecr_r is declared 1-7, but its" in w and "use only 1-5" in w and
                   "response_scale: {ecr_r: {min: 1, max: 5}}" in w for w in r["warnings"])
    return cohort(plain(d, ex.sample(40, scale=5))), check


@case("counted")
def answers_above_the_scale_set_missing(d):
    """Answers of 8 and 9 with `out_of_range: missing`: counted, and a warning."""
    data = ex.sample(40)
    data.loc[[1, 2], "ecr_4"] = [8, 9]

    def check(r, out):
        assert r["items"]["ecr_r"]["totals"]["out_of_range_set_missing"] == 2
        assert any("2 answer(s) above the declared maximum 7 (up to 9)" in w for w in r["warnings"])
    return cohort(plain(d, data), out_of_range="missing"), check


@case("refused", "(the answers of ecr_r run 0 to 6)")
def zero_based_coding(d):
    """Answers coded 0-6 for a 1-7 scale: refused, with the span of the values found."""
    data = ex.sample(40)
    for k in range(1, 37):
        data[f"ecr_{k}"] -= 1
    return cohort(plain(d, data))


@case("counted")
def all_answers_text_set_missing(d):
    """Every item answer is unknown text and `non_numeric: missing`: nobody can be scored, and it says so."""
    data = ex.sample(30)
    for k in range(1, 37):
        data[f"ecr_{k}"] = "n/a"

    def check(r, out):
        assert r["items"]["ecr_r"]["scoring"]["scored"] == 0
        assert any("none of the 30 respondents could be scored" in w for w in r["warnings"])
    return cohort(plain(d, data), non_numeric="missing"), check


# ---------------------------------------------------------------------------
# data that cannot support every analysis: skipped with the reason, the rest goes on


def _skip_cohort(d, data, **over):
    return cohort(plain(d, data, couples=True), couples={"couple_column": "couple_id", "role_column": "partner"},
                  **over)


@case("skipped")
def three_respondents(d):
    """n = 3: scores and the midpoint styles; factor analysis and k-means skipped with their reasons."""
    def check(out):
        fac = pd.read_csv(out / "factorability.csv")
        assert "Only 3 respondents answered any of the 36 items" in fac["skipped_reason"].iloc[0]
        cls = pd.read_csv(out / "classification.csv")
        assert set(cls.loc[cls["skipped_reason"].isna(), "method"]) >= {"midpoint"}
        assert "needs at least 4 respondents" in " ".join(cls["skipped_reason"].dropna())
        assert len(pd.read_csv(out / "scores.csv")) == 3
    return _skip_cohort(d, ex.sample(4).iloc[:3]), check


@case("skipped")
def ten_respondents(d):
    """n = 10: fewer complete respondents than items, so no factor analysis; everything else runs."""
    def check(out):
        assert "Only 10 respondents" in pd.read_csv(out / "cfa_fit.csv")["skipped_reason"].iloc[0]
        assert pd.read_csv(out / "reliability.csv")["alpha"].notna().any() or True
        assert "skipped_reason" not in pd.read_csv(out / "style_counts.csv").columns
    return _skip_cohort(d, ex.sample(10)), check


@case("skipped")
def forty_respondents(d):
    """n = 40: every analysis runs."""
    def check(out):
        for name in ("factorability.csv", "cfa_fit.csv", "efa_loadings.csv", "classification.csv", "reliability.csv"):
            assert "skipped_reason" not in pd.read_csv(out / name).columns, name
    return _skip_cohort(d, ex.sample(40)), check


@case("skipped")
def sixty_rows_thirty_six_complete(d):
    """60 respondents, 24 with a missing answer: listwise would keep 36 for 36 items, too few for a factor
    analysis; the default FIML (EM correlations for the EFA family, casewise likelihood for the CFA) uses all 60."""
    data = ex.sample(60).astype({"ecr_5": float})
    data.loc[36:, "ecr_5"] = np.nan

    def check(out):
        efa = pd.read_csv(out / "efa_fit.csv")
        assert "skipped_reason" not in efa or efa["skipped_reason"].isna().all()
        assert efa.loc[efa["measure"] == "n", "value"].iloc[0] == 60
        assert pd.read_csv(out / "cfa_fit.csv")["n"].tolist() == [60, 60]
        assert pd.read_csv(out / "reliability.csv")["n"].max() >= 36
    return _skip_cohort(d, data), check


@case("skipped")
def item_nobody_answered(d):
    """An item left blank by everyone: warned, factor analysis skipped, reliability and styles computed."""
    data = ex.sample(60).astype({"ecr_7": float})
    data["ecr_7"] = np.nan

    def check(out):
        v = json.loads((out / "qc/validation.json").read_text())
        assert any("nobody answered item(s) ecr_r_7" in w for w in v["warnings"])
        assert pd.read_csv(out / "factorability.csv")["skipped_reason"].notna().all()
        assert "skipped_reason" not in pd.read_csv(out / "style_counts.csv").columns
    return _skip_cohort(d, data), check


@case("skipped")
def item_everyone_answered_alike(d):
    """An item without variance: warned; the factor analysis is skipped naming the item."""
    data = ex.sample(60)
    data["ecr_7"] = 4

    def check(out):
        assert "ecr_r_7" in pd.read_csv(out / "cfa_fit.csv")["skipped_reason"].iloc[0]
        v = json.loads((out / "qc/validation.json").read_text())
        assert any("gave the same answer on item(s) ecr_r_7" in w for w in v["warnings"])
    return _skip_cohort(d, data), check


@case("skipped")
def nobody_scored(d):
    """No respondent answered enough items: scores empty, every analysis skipped with a reason, report built."""
    data = ex.sample(30).astype({f"ecr_{k}": float for k in range(1, 37)})
    for k in range(1, 37):
        data.loc[:, f"ecr_{k}"] = np.where(np.arange(30) % 36 == k - 1, data[f"ecr_{k}"], np.nan)

    def check(out):
        assert pd.read_csv(out / "scores.csv")["ecr_r_anxiety"].isna().all()
        assert len(pd.read_csv(out / "classification.csv")) == 0
        assert (pd.read_csv(out / "classification_coverage.csv")["n_classified"] == 0).all()
        assert pd.read_csv(out / "factorability.csv")["skipped_reason"].notna().all()
        assert (out / "report.html").is_file()
    return _skip_cohort(d, data), check


# ---------------------------------------------------------------------------
# start-up refusals (the rest are in tests/test_config.py)


@case("config", "config key `study`: '..' does not match")
def study_named_dot_dot(d):
    """`study: ".."` would write into the repository."""
    return {"study": "..", "cohorts": {"c": cohort(plain(d))}}


@case("config", "config key `cohorts`: '..' does not match")
def cohort_named_dot_dot(d):
    """A cohort named `..` would write into results/ itself."""
    return {"study": "s", "cohorts": {"..": cohort(plain(d))}}


@case("config", "the cohort name 'pooled' is reserved")
def cohort_named_pooled(d):
    """A cohort named `pooled` collides with the study-level outputs."""
    return {"study": "s", "cohorts": {"pooled": cohort(plain(d))}}


@case("config", "config key `seed`: -1 is less than the minimum of 0")
def negative_seed(d):
    """`seed: -1`."""
    return {"study": "s", "seed": -1, "cohorts": {"c": cohort(plain(d))}}


@case("config", "config key `factors.n_factors`: 36 factors cannot be estimated from the 36 items of ecr_r")
def as_many_factors_as_items(d):
    """`n_factors` equal to the number of items."""
    return {"study": "s", "factors": {"n_factors": 36}, "cohorts": {"c": cohort(plain(d))}}


@case("config", "column 'ecr_3' is named twice in the same list")
def column_listed_twice(d):
    """An explicit item list naming one column twice."""
    cols = [f"ecr_{k}" for k in range(1, 37)]
    cols[3] = "ecr_3"
    return {"study": "s", "cohorts": {"c": cohort(plain(d), items={"ecr_r": cols, "minmax": "mm_{n}"})}}


@case("config", "YAML error at line")
def instrument_file_with_yaml_error(d):
    """An instrument file someone edited by hand, with an unclosed bracket."""
    inst = d / "instruments"
    inst.mkdir()
    for name in ("ecr_r", "minmax"):
        (inst / f"{name}.yaml").write_text((INSTRUMENT_DIR / f"{name}.yaml").read_text())
    (inst / "ecr_r.yaml").write_text((inst / "ecr_r.yaml").read_text().replace("- {n: 3,", "- {n: 3, [", 1))
    return {"study": "s", "instrument_dir": str(inst), "cohorts": {"c": cohort(plain(d))}}


@case("config", "the key `items` (a list of items")
def instrument_file_without_items(d):
    """An instrument file without its `items`."""
    inst = d / "instruments"
    inst.mkdir()
    (inst / "minmax.yaml").write_text((INSTRUMENT_DIR / "minmax.yaml").read_text())
    (inst / "ecr_r.yaml").write_text("name: ecr_r\ntitle: ECR-R\nresponse_scale: {min: 1, max: 7}\n"
                                     "subscales: {anxiety: {en: A}, avoidance: {en: B}}\n")
    return {"study": "s", "instrument_dir": str(inst), "cohorts": {"c": cohort(plain(d))}}


@case("config", "`hypotheses[H4a]`: column 'ecr_r_anxeity' is not a score, group or covariate column")
def hypothesis_with_misspelt_column(d):
    """A hypothesis naming a column that exists in no cohort (it used to be dropped silently)."""
    return {"study": "s", "cohorts": {"c": cohort(plain(d))},
            "hypotheses": [{"id": "H4a", "family": "correlation", "x": "minmax_index", "y": "ecr_r_anxeity"}]}


@case("config", "`cohorts.c.groups`: column 'RecipientEmail' identifies people")
def identifying_column_as_group(d):
    """An identifying column configured as a group."""
    return {"study": "s", "cohorts": {"c": cohort(plain(d), groups=["RecipientEmail"])}}


def write_corpus(out: Path) -> list[str]:
    """Build every case's files under ``out/<case>/`` (with the config as ``cohort.json``); returns the names."""
    names = []
    for name, c in CASES.items():
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        built = c.build(d)
        config = built[0] if isinstance(built, tuple) else built
        (d / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
        names.append(name)
    return names


if __name__ == "__main__":  # pragma: no cover - a tool for looking at the corpus
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    for n in write_corpus(args.out):
        print(f"{n}: {CASES[n].kind} - {CASES[n].what}")
