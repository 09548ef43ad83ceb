"""Reading raw exports: delimiters, decimal commas, encodings, Qualtrics, Excel, SPSS."""

import numpy as np
import pandas as pd
import pytest

from attachment_pipeline.io import ReadError, read_responses


def test_plain_csv(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("id,q1,q2\n007,1,2\n008,3,\n", encoding="utf-8")
    t = read_responses(p, text_columns=["id"])
    assert list(t.frame["id"]) == ["007", "008"]  # leading zeros kept
    assert t.frame["q1"].tolist() == [1, 3]
    assert np.isnan(t.frame["q2"].iloc[1])
    assert (t.delimiter, t.decimal, t.encoding, t.format, t.first_row) == (",", ".", "utf-8", "csv", 2)
    assert t.row_label(1) == "row 3"
    assert len(t.sha256) == 64


def test_semicolon_decimal_comma_bom(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("id;age;q1\nA;31,5;4\nB;40;5\n".encode("utf-8-sig"))
    t = read_responses(p, text_columns=["id"])
    assert (t.delimiter, t.decimal, t.encoding) == (";", ",", "utf-8-sig")
    assert t.frame["age"].tolist() == [31.5, 40.0]
    assert list(t.frame.columns) == ["id", "age", "q1"]  # no BOM in the first name
    assert any("Decimal commas" in n for n in t.notes)


def test_tsv(tmp_path):
    p = tmp_path / "r.tsv"
    p.write_text("id\tq1\nA\t1\n", encoding="utf-8")
    t = read_responses(p, text_columns=["id"])
    assert t.delimiter == "\t" and t.frame["q1"].tolist() == [1]


def test_latin1_fallback_is_reported(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("id,land,q1\nA,Belgi\xeb,1\n".encode("latin-1"))
    t = read_responses(p, text_columns=["id", "land"])
    assert t.encoding == "windows-1252"
    assert t.frame["land"].iloc[0] == "België"
    assert any("Latin-1" in n for n in t.notes)


def test_qualtrics_export(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text(
        'ResponseId,Q1,Q2\n'
        '"Response ID","I worry, a lot","Second\nquestion"\n'
        '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2""}"\n'
        'R_1,3,4\nR_2,5,x\n', encoding="utf-8")
    t = read_responses(p, text_columns=["ResponseId"])
    assert t.format == "qualtrics-csv"
    # rows as a spreadsheet shows them, and the editor's line too: the question text with a line break takes two
    assert t.first_row == 4 and t.row_label(1) == "row 5 (line 6)"
    assert t.frame["ResponseId"].tolist() == ["R_1", "R_2"]
    assert t.frame["Q1"].tolist() == [3, 5]


def test_xlsx(tmp_path):
    p = tmp_path / "r.xlsx"
    pd.DataFrame({"id": ["001", "002"], "q1": [1, 2]}).to_excel(p, index=False)
    t = read_responses(p, text_columns=["id"])
    assert t.format == "xlsx" and t.frame["id"].tolist() == ["001", "002"] and t.frame["q1"].tolist() == [1, 2]


def test_sav_keeps_value_labels_for_text_columns(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    p = tmp_path / "r.sav"
    df = pd.DataFrame({"id": [1.0, 2.0], "gender": [1.0, 2.0], "q1": [3.0, 4.0]})
    pyreadstat.write_sav(df, str(p), variable_value_labels={"gender": {1.0: "female", 2.0: "male"}})
    t = read_responses(p, text_columns=["id", "gender"])
    assert t.format == "sav" and t.row_label(0) == "case 1"
    assert t.frame["gender"].tolist() == ["female", "male"]
    assert t.frame["id"].tolist() == ["1", "2"]
    assert t.frame["q1"].tolist() == [3.0, 4.0]


def test_unreadable_files(tmp_path):
    with pytest.raises(ReadError, match="file not found"):
        read_responses(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ReadError, match="empty"):
        read_responses(tmp_path / "empty.csv")
    (tmp_path / "r.json").write_text("{}")
    with pytest.raises(ReadError, match="unknown file type"):
        read_responses(tmp_path / "r.json")


# --- strict reading (issue 12) -------------------------------------------------------------------

from pathlib import Path  # noqa: E402

from attachment_pipeline.io import _scan, _scan_unquoted, is_identifying  # noqa: E402


@pytest.mark.parametrize("text", ["a,b\n1,2\n\n3,4\n  ,  \n5\n", "a;b\r\n1;2\r\n\r\n;;\r\n", "a,b\n1,2", "x\n",
                                  "a,b,c\n1,2,3\n,,\n\n4,5,6\n7,8", "é,b\nü,2\n"])
def test_vectorised_scan_of_unquoted_text_equals_csv(text):
    delim = ";" if ";" in text else ","
    a, b = _scan(text, delim, Path("x"), 0, quoted=True), _scan_unquoted(text, delim, 0)
    for f in ("start_line", "n_fields", "blank"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    assert np.array_equal(a.offset, b.offset[:len(a.offset)])
    assert (a.head, a.ends_with_newline, a.n_lines) == (b.head, b.ends_with_newline, b.n_lines)


def test_rows_are_spreadsheet_rows_and_lines_are_named_when_they_differ(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('id,note,q1\nA,"two\nlines",1\n\nB,x,2\n   ,  ,\n', encoding="utf-8")
    t = read_responses(p, text_columns=["id"])
    assert t.frame["id"].tolist() == ["A", "B"]
    assert t.row_label(0) == "row 2" and t.row_label(1) == "row 4 (line 5)"
    assert t.blank_rows == (3, 5)  # the blank line and the row of spaces: skipped and counted
    p.write_text("id,q1\nA,1\n\nB,2\n", encoding="utf-8")
    t = read_responses(p, text_columns=["id"])
    assert t.row_label(1) == "row 4" and t.blank_rows == (3,)


def test_identifying_columns_are_left_out_on_reading(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("id,Email,IPAddress,Recipient First Name,q1\nA,a@b.org,1.2.3.4,Ann,1\n", encoding="utf-8")
    t = read_responses(p, text_columns=["id"])
    assert list(t.frame.columns) == ["id", "q1"]
    assert t.identifying == ("Email", "IPAddress", "Recipient First Name")
    assert t.describe()["identifying_columns_left_out"] == ["Email", "IPAddress", "Recipient First Name"]
    assert is_identifying("LocationLongitude") and not is_identifying("gender")
