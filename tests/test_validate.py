"""Each validation rule, with one bad file each; messages name file, row, column, value."""

import numpy as np
import pandas as pd
import pytest

from attachment_pipeline.io import read_responses
from attachment_pipeline.validate import DataError, text_columns, validate_cohort

from helpers import make_responses, study_for


def run(path, **over):
    cohort = study_for(path, **over).cohorts["c"]
    return validate_cohort(read_responses(path, text_columns(cohort)), cohort)


def test_valid_file_counts(write_csv):
    df = make_responses(12)
    df["ecr_3"] = df["ecr_3"].astype(object)
    df.loc[0, "ecr_3"] = 99
    df.loc[1, "ecr_3"] = -1
    df.loc[2, "ecr_3"] = None
    v = run(write_csv(df))
    assert list(v.ids) == list(df["respondent_id"])
    assert v.items["ecr_r"].shape == (12, 36)
    assert np.isnan(v.items["ecr_r"]["ecr_r_3"].iloc[:3]).all()
    c = v.report["items"]["ecr_r"]["per_item"]["ecr_r_3"]
    assert c == {"blank": 1, "missing_code": 2, "out_of_range_set_missing": 0, "non_numeric_set_missing": 0}
    assert v.report["rows_in_file"] == 12 and v.report["couples"]["couples"] == 6
    miss = v.missingness.set_index("item").loc["ecr_r_3"]
    assert miss["n_answered"] == 9 and miss["percent_missing"] == 25.0


def test_no_data_rows(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(",".join(make_responses(1).columns) + "\n")
    with pytest.raises(DataError, match="no data rows"):
        run(p)


def test_missing_id_column(write_csv):
    with pytest.raises(DataError, match="id column 'pid'"):
        run(write_csv(make_responses()), id_column="pid")


def test_empty_id_names_row(write_csv):
    df = make_responses()
    df.loc[4, "respondent_id"] = ""
    with pytest.raises(DataError, match=r"empty at row 6"):
        run(write_csv(df))


def test_duplicate_id_names_rows(write_csv):
    df = make_responses()
    df.loc[5, "respondent_id"] = "P001"
    with pytest.raises(DataError, match=r"'P001'.*row 3, row 7"):
        run(write_csv(df))


def test_without_id_column_row_number_is_id(write_csv):
    v = run(write_csv(make_responses(5, couples=False).drop(columns=["respondent_id"])), id_column=None, couples=None)
    assert list(v.ids) == ["1", "2", "3", "4", "5"]


def test_all_missing_item_columns_are_named(write_csv):
    df = make_responses().drop(columns=["ecr_7", "ecr_30", "mm_22"])
    with pytest.raises(DataError) as err:
        run(write_csv(df))
    msg = str(err.value)
    assert "3 column(s)" in msg and "ecr_7" in msg and "ecr_30" in msg and "mm_22" in msg
    assert "items.ecr_r" in msg


def test_non_numeric_answer(write_csv):
    df = make_responses().astype({"ecr_12": object})
    df.loc[3, "ecr_12"] = "often"
    path = write_csv(df)
    with pytest.raises(DataError) as err:
        run(path)
    msg = str(err.value)
    assert str(path) in msg and "row 5, column ecr_12: 'often'" in msg and "non_numeric: missing" in msg
    v = run(path, non_numeric="missing")
    assert v.report["items"]["ecr_r"]["totals"]["non_numeric_set_missing"] == 1
    assert np.isnan(v.items["ecr_r"]["ecr_r_12"].iloc[3])


def test_out_of_range_and_fractional_answers(write_csv):
    df = make_responses().astype({"ecr_2": float})
    df.loc[0, "ecr_2"] = 8
    df.loc[1, "ecr_2"] = 3.5
    path = write_csv(df)
    with pytest.raises(DataError) as err:
        run(path)
    msg = str(err.value)
    assert "2 item answer(s) are outside the response scale" in msg
    assert "row 2, column ecr_2: '8'" in msg and "row 3, column ecr_2: '3.5'" in msg
    assert "missing_codes" in msg and "out_of_range: missing" in msg
    v = run(path, out_of_range="missing")
    assert v.report["items"]["ecr_r"]["per_item"]["ecr_r_2"]["out_of_range_set_missing"] == 2


def test_scale_override_accepts_five_points(write_csv):
    df = make_responses()
    for k in range(1, 37):
        df[f"ecr_{k}"] = (df[f"ecr_{k}"] % 5) + 1
    v = run(write_csv(df), response_scale={"ecr_r": {"min": 1, "max": 5}})
    assert v.report["items"]["ecr_r"]["response_scale"] == [1, 5]


@pytest.mark.parametrize("size", [1, 3])
def test_couple_must_have_two_members(write_csv, size):
    df = make_responses(8)
    if size == 1:
        df.loc[1, "couple_id"] = ""  # C0 keeps one member
    else:
        df.loc[2, "couple_id"] = "C0"  # C0 gets three
    with pytest.raises(DataError, match=rf"couple 'C[01]' \(column couple_id\) has {size} member"):
        run(write_csv(df))


def test_couple_roles_must_differ_only_when_declared_distinguishable(write_csv):
    df = make_responses(8)
    df.loc[3, "partner"] = "A"
    path = write_csv(df)
    v = run(path)  # a mixed sample: analysed as indistinguishable dyads
    assert v.report["couples"]["couples_sharing_a_role"] == 1
    couples = {"couple_column": "couple_id", "role_column": "partner", "distinguishable": True}
    with pytest.raises(DataError, match=r"both members of couple 'C1' have the same role 'A'.*row 4, row 5"
                                        r".*distinguishable"):
        run(path, couples=couples)


def test_covariate_must_be_numeric(write_csv):
    df = make_responses().astype({"age": object})
    df.loc[2, "age"] = "forty"
    with pytest.raises(DataError, match=r"covariate column 'age'.*row 4, column age: 'forty'"):
        run(write_csv(df))


def test_children_rules(write_csv, tmp_path):
    path = write_csv(make_responses(8))
    kids = tmp_path / "kids.csv"
    good = pd.DataFrame({"parent_id": ["P000", "P003"], "child_id": ["K1", "K2"], "ssp_code": ["B", "d"],
                         "child_age_months": [14, 18]})
    good.to_csv(kids, index=False)
    v = run(path, children=str(kids))
    assert v.children["ssp_code"].tolist() == ["B", "D"]
    assert v.report["children"]["codes"] == {"A": 0, "B": 1, "C": 0, "D": 1}
    for change, pattern in [({"ssp_code": ["B", "E"]}, "ssp_code must be A, B, C or D.*row 3"),
                            ({"parent_id": ["P000", "P999"]}, "parent_id not found.*'P999'"),
                            ({"child_id": ["K1", "K1"]}, "child_id occurs more than once")]:
        good.assign(**change).to_csv(kids, index=False)
        with pytest.raises(DataError, match=pattern):
            run(path, children=str(kids))


def test_qualtrics_rows_are_reported_as_in_the_file(tmp_path):
    df = make_responses(4, couples=False).astype({"ecr_5": object})
    df.loc[1, "ecr_5"] = "?"
    body = df.to_csv(index=False).splitlines()
    extra = [",".join(["text"] * df.shape[1]), ",".join(['"{""ImportId"":""x""}"'] * df.shape[1])]
    p = tmp_path / "q.csv"
    p.write_text("\n".join([body[0]] + extra + body[1:]) + "\n")
    with pytest.raises(DataError, match=r"row 5, column ecr_5: '\?'"):
        run(p, couples=None)


def test_data_raw_is_not_modified(write_csv):
    path = write_csv(make_responses())
    before = path.read_bytes()
    run(path)
    assert path.read_bytes() == before


def test_missing_code_inside_a_scale_is_not_applied_there(write_csv):
    """0 means 'missing' for the 1-5 ECR items but is a valid 'not ticked' on the checklist."""
    df = make_responses()
    for k in range(1, 37):
        df[f"ecr_{k}"] = (df[f"ecr_{k}"] % 5) + 1
    df.loc[0, "ecr_1"] = 0
    v = run(write_csv(df), missing_codes=[0], response_scale={"ecr_r": {"min": 1, "max": 5}})
    assert v.report["items"]["ecr_r"]["missing_codes_applied"] == [0.0]
    assert v.report["items"]["minmax"]["missing_codes_applied"] == []
    assert v.report["items"]["ecr_r"]["totals"]["missing_code"] == 1
    assert v.report["items"]["minmax"]["totals"]["missing_code"] == 0
    assert (v.items["minmax"] == 0).sum().sum() == (df.filter(like="mm_") == 0).sum().sum()
