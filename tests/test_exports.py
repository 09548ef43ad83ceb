"""SPSS, Excel and lavaan exports: labels read back, valid names, every item once, stable bytes."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from attachment_pipeline import exports as ex
from attachment_pipeline.classify import STYLE_LABELS
from attachment_pipeline.config import Classification
from attachment_pipeline.instruments import load_instrument
from attachment_pipeline.steps import classify_cohort, score_cohort
from helpers import make_responses, study_for


def scored(tmp_path: Path, frame: pd.DataFrame, **over):
    path = tmp_path / "responses.csv"
    frame.to_csv(path, index=False)
    study = study_for(path, **over)
    cohort = study.cohorts["c"]
    out = tmp_path / "c"
    score_cohort(cohort, study.scoring, {"validation": out / "qc/validation.json", "missingness": out / "qc/missingness.csv",
                                         "keyed_items": out / "items.csv", "scores": out / "scores.csv"})
    if cohort.dimension_instruments:
        names = {"classification": "classification", "counts": "style_counts", "agreement": "classification_agreement",
                 "coverage": "classification_coverage"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            classify_cohort(cohort, Classification(compare=("median", "kmeans")), 1, out / "scores.csv",
                            {k: out / f"{v}.csv" for k, v in names.items()})
    return cohort, out


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exp")
    cohort, out = scored(tmp, make_responses(n=60, seed=5))
    written = ex.write_exports(out, cohort, out / "exports")
    return cohort, out, written


def test_files_written_as_listed(cohort_dir):
    cohort, out, written = cohort_dir
    assert [p.name for p in written] == ex.export_names(cohort)
    assert ex.export_names(cohort) == ["respondents.sav", "respondents.xlsx", "scores.sav", "scores.xlsx",
                                       "classification.sav", "classification.xlsx", "cfa_model.lavaan"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)


def test_scores_sav_reads_back_with_labels(cohort_dir):
    cohort, out, _ = cohort_dir
    data, meta = pyreadstat.read_sav(str(out / "exports/scores.sav"))
    csv = pd.read_csv(out / "scores.csv", dtype={"respondent_id": str})
    assert list(data.columns) == list(csv.columns)
    assert meta.original_variable_types["respondent_id"].startswith("A")  # SPSS string
    assert data["respondent_id"].tolist() == csv["respondent_id"].tolist()
    assert np.allclose(data["ecr_r_anxiety"], csv["ecr_r_anxiety"], equal_nan=True)
    labels = meta.column_names_to_labels
    assert labels["ecr_r_anxiety"] == "ECR-R: Attachment anxiety (mean item score 1-7)"
    assert labels["ecr_r_avoidance"] == "ECR-R: Attachment avoidance (mean item score 1-7)"
    assert labels["minmax_index"].endswith("min/max index (maximiser - minimiser, -1 to +1)")
    assert meta.variable_value_labels["minmax_type"] == {1.0: "minimiser", 2.0: "balanced", 3.0: "maximiser"}
    decoded = data["minmax_type"].map(meta.variable_value_labels["minmax_type"])
    assert decoded.fillna("").tolist() == csv["minmax_type"].fillna("").tolist()
    assert data["gender"].tolist() == csv["gender"].tolist()
    assert meta.variable_measure["ecr_r_anxiety"] == "scale" and meta.variable_measure["minmax_type"] == "nominal"


def test_classification_sav_style_codes(cohort_dir):
    _, out, _ = cohort_dir
    data, meta = pyreadstat.read_sav(str(out / "exports/classification.sav"))
    csv = pd.read_csv(out / "classification.csv", dtype={"respondent_id": str})
    vl = meta.variable_value_labels["style"]
    assert {vl[k] for k in (1.0, 2.0, 3.0, 4.0)} == set(STYLE_LABELS["en"].values())
    back = data["style"].map(lambda c: {1.0: "secure", 2.0: "preoccupied", 3.0: "dismissing", 4.0: "fearful"}[c])
    assert back.tolist() == csv["style"].tolist()
    assert data["method"].tolist() == csv["method"].tolist()
    assert meta.column_names_to_labels["style"] == "Attachment style"


def test_xlsx_copies(cohort_dir):
    _, out, _ = cohort_dir
    book = pd.read_excel(out / "exports/scores.xlsx", sheet_name=None, dtype={"respondent_id": str})
    csv = pd.read_csv(out / "scores.csv", dtype={"respondent_id": str})
    assert list(book) == ["scores", "variables"]
    pd.testing.assert_frame_equal(book["scores"], csv, check_dtype=False)
    assert "ECR-R: Attachment anxiety (mean item score 1-7)" in book["variables"]["label"].tolist()
    cl = pd.read_excel(out / "exports/classification.xlsx", sheet_name="classification", dtype={"respondent_id": str})
    assert cl["style"].tolist() == pd.read_csv(out / "classification.csv")["style"].tolist()


def test_lavaan_names_every_item_once(cohort_dir):
    _, out, _ = cohort_dir
    text = (out / "exports/cfa_model.lavaan").read_text(encoding="utf-8")
    model = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    inst = load_instrument("ecr_r")
    factors = {}
    for line in model:
        lhs, rhs = line.split("=~")
        factors[lhs.strip()] = [t.strip() for t in rhs.split("+")]
    assert list(factors) == ["anxiety", "avoidance"]
    items = [i for its in factors.values() for i in its]
    assert sorted(items) == sorted(inst.item_columns()) and len(items) == len(set(items)) == 36
    assert factors["anxiety"] == [f"ecr_r_{n}" for n in range(1, 19)]
    assert "cfa(model, data = items)" in text


def test_lavaan_ecr_order():
    text = ex.lavaan_syntax(load_instrument("ecr"))
    lines = dict(ln.split(" =~ ") for ln in text.splitlines() if not ln.startswith("#"))
    assert lines["avoidance"].split(" + ")[:3] == ["ecr_1", "ecr_3", "ecr_5"]
    assert lines["anxiety"].split(" + ")[:3] == ["ecr_2", "ecr_4", "ecr_6"]


def test_same_inputs_same_bytes(cohort_dir, tmp_path):
    cohort, out, written = cohort_dir
    time.sleep(1.1)  # a clock second later: time stamps must not leak into the files
    again = ex.write_exports(out, cohort, tmp_path / "again")
    for a, b in zip(written, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_spss_names():
    taken = set()
    names = [ex.spss_name(n, taken) for n in ["1 id", "with", "Q1", "q1", "ångst-score", "x" * 80, "a.", "_z", "$x"]]
    assert names[:5] == ["v1_id", "with_v", "Q1", "q1_2", "angst_score"]
    assert names[5] == "x" * 64 and names[6] == "a" and names[7] == "v_z" and names[8] == "v$x"
    for n in names:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_.@#$]{0,63}", n) and not n.endswith(".")
    assert len({n.upper() for n in names}) == len(names)


def test_awkward_id_column_and_dutch_labels(tmp_path):
    frame = make_responses(n=30, seed=2, couples=False).rename(columns={"respondent_id": "1 Respondent-ID"})
    cohort, out = scored(tmp_path, frame, id_column="1 Respondent-ID", couples=None, instruments=["minmax"],
                         items={"minmax": "mm_{n}"})
    written = ex.write_exports(out, cohort, out / "exports", language="nl")
    assert [p.name for p in written] == ["respondents.sav", "respondents.xlsx", "scores.sav", "scores.xlsx"]
    data, meta = pyreadstat.read_sav(str(out / "exports/scores.sav"))
    assert data.columns[0] == "v1_Respondent_ID"
    assert meta.column_names_to_labels["v1_Respondent_ID"] == "Respondentnummer [1 Respondent-ID]"
    assert meta.variable_value_labels["minmax_type"][2.0] == "in balans"
    assert data["v1_Respondent_ID"].tolist() == [f"P{i:03d}" for i in range(30)]


def test_style_codes_for_profiles():
    s = pd.Series(["secure", "profile_2", "fearful", None])
    assert ex.style_codes(s).tolist()[:3] == [1.0, 12.0, 4.0] and np.isnan(ex.style_codes(s).iloc[3])
    assert ex.style_value_labels(["profile_2", "secure"], "nl")[12] == "profiel 2"
    assert ex.style_value_labels([], "nl")[2] == "gepreoccupeerd"


def test_large_tables_get_no_excel_copy_and_say_why(tmp_path, monkeypatch):
    import pandas as pd

    from attachment_pipeline import exports as ex_mod

    monkeypatch.setattr(ex_mod, "XLSX_LIMIT_CELLS", 5)
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]})
    assert ex_mod.write_xlsx(frame, tmp_path / "big.xlsx", sheet="s", labels={}) is None
    assert not (tmp_path / "big.xlsx").exists()
    assert "big.xlsx not written: 3 rows x 2 columns exceed the 5-cell limit" in (tmp_path / "README.txt").read_text()
    assert ex_mod.write_xlsx(frame.iloc[:2], tmp_path / "small.xlsx", sheet="s", labels={}) is not None  # 4 cells


def test_formula_like_text_is_written_as_text(tmp_path):
    """A group label typed as a formula must not become a live formula in the Excel copy (issue 12)."""
    import openpyxl

    from attachment_pipeline.exports import write_xlsx

    frame = pd.DataFrame({"id": ["=1+1", "P2"], "gender": ['=HYPERLINK("http://x.example","click")', "female"],
                          "note": ["+31 6 1234", "@SUM(A1)"], "score": [-1.5, 2.0]})
    path = write_xlsx(frame, tmp_path / "t.xlsx", sheet="data", labels={})
    ws = openpyxl.load_workbook(path)["data"]
    cells = [ws.cell(row=r, column=c) for r in (2, 3) for c in (1, 2, 3)]
    assert all(c.data_type == "s" for c in cells if isinstance(c.value, str))
    assert ws["B2"].value.startswith("=HYPERLINK") and ws["B2"].quotePrefix and ws["A2"].quotePrefix
    assert ws["D2"].value == -1.5 and ws["D2"].data_type == "n"
    import zipfile
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b"<f " not in xml


# ----------------------------------------------------------------------------- one row per respondent
@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory):
    """The shipped demo cohort scored, classified and its reliability computed, then exported."""
    from attachment_pipeline.config import Reliability
    from attachment_pipeline.steps import reliability_cohort

    from helpers import REPO

    tmp = tmp_path_factory.mktemp("wide")
    raw = pd.read_csv(REPO / "data/raw/demo/responses.csv", dtype=str)
    raw["gender"] = raw["gender"].where(raw.index != 3, "=HYPERLINK(1)")  # one formula-like level (< min_cell)
    cohort, out = scored(tmp, raw, missing_codes=[-1, 99], groups=["gender"])
    reliability_cohort(cohort, Reliability(n_boot=0), 1, out / "items.csv", out / "scores.csv",
                       {"reliability": out / "reliability.csv", "item_stats": out / "item_stats.csv"})
    ex.write_exports(out, cohort, out / "exports")
    return cohort, out


def test_respondents_sav_is_wide_with_labels_and_formats(demo_exports):
    cohort, out = demo_exports
    data, meta = pyreadstat.read_sav(str(out / "exports/respondents.sav"))
    scores = pd.read_csv(out / "scores.csv", dtype={"respondent_id": str})
    assert len(data) == len(scores) == data["respondent_id"].nunique()  # one row per respondent
    assert list(data["respondent_id"]) == list(scores["respondent_id"])
    fmt = meta.original_variable_types
    assert fmt["ecr_r_1"] == fmt["ecr_r_1_keyed"] == "F1.0" and fmt["minmax_1"] == "F1.0"
    assert fmt["ecr_r_anxiety"] == "F8.3" and fmt["style_midpoint"] == "F1.0" and fmt["gender"] == "F1.0"
    assert meta.variable_value_labels["style_midpoint"][1.0] == STYLE_LABELS["en"]["secure"]
    assert set(meta.variable_value_labels["gender"].values()) == {"female", "male", "other"}
    assert meta.variable_value_labels["minmax_type"] == {1.0: "minimiser", 2.0: "balanced", 3.0: "maximiser"}
    assert meta.column_names_to_labels["ecr_r_9_keyed"].startswith("ECR-R 9: I rarely worry about my partner")
    assert meta.column_names_to_labels["ecr_r_9_keyed"].endswith("[keyed: reversed]")
    # raw answers are the keyed ones turned back; the keyed ones equal items.csv
    items = pd.read_csv(out / "items.csv", dtype={"respondent_id": str})
    np.testing.assert_allclose(data["ecr_r_9_keyed"], items["ecr_r_9"], equal_nan=True)
    np.testing.assert_allclose(data["ecr_r_9"], 8 - items["ecr_r_9"], equal_nan=True)
    np.testing.assert_allclose(data["ecr_r_1"], items["ecr_r_1"], equal_nan=True)
    # styles of every method: codes of classification.csv's words
    cls = pd.read_csv(out / "classification.csv", dtype={"respondent_id": str})
    for method in ("midpoint", "median", "kmeans"):
        words = cls[cls["method"] == method].set_index("respondent_id")["style"].reindex(data["respondent_id"])
        np.testing.assert_array_equal(data[f"style_{method}"].to_numpy(), ex.style_codes(words).to_numpy())
    assert not any(c in data.columns for c in ("IPAddress", "RecipientEmail", "name", "email"))


def test_alpha_from_the_exported_items_equals_reliability_csv(demo_exports):
    """What SPSS RELIABILITY computes on the keyed items (listwise) equals psych; pairwise equals reliability.csv."""
    import json

    from attachment_pipeline.api import cronbach_alpha
    from helpers import REPO

    cohort, out = demo_exports
    data, _ = pyreadstat.read_sav(str(out / "exports/respondents.sav"))
    rel = pd.read_csv(out / "reliability.csv")
    ref = json.loads((REPO / "tests/reference/reliability_demo.json").read_text())
    inst = cohort.instruments[0]
    for sub in ("anxiety", "avoidance"):
        block = data[[f"ecr_r_{n}_keyed" for n in inst.subscale_items(sub)]]
        row = rel[(rel["instrument"] == "ecr_r") & (rel["subscale"] == sub) & (rel["group"] == "all")].iloc[0]
        assert row["missing"] == "pairwise"
        assert cronbach_alpha(block[block.notna().any(axis=1)]) == pytest.approx(row["alpha"], abs=1e-9)
        assert cronbach_alpha(block, missing="listwise") == pytest.approx(
            ref["subscales"][sub]["listwise"]["alpha"], abs=1e-6)


def test_respondents_xlsx_shows_labels_and_neutralises_formulas(demo_exports):
    import openpyxl

    _, out = demo_exports
    book = openpyxl.load_workbook(out / "exports/respondents.xlsx")
    assert book.sheetnames == ["respondents", "variables"]
    sheet = book["respondents"]
    header = [c.value for c in sheet[1]]
    col = header.index("style_midpoint") + 1
    assert {sheet.cell(row=r, column=col).value for r in range(2, 50)} <= set(STYLE_LABELS["en"].values()) | {None}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert not (cell.data_type == "f"), cell.value
