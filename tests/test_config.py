"""Config errors stop at start-up and name the key."""

import pytest

from attachment_pipeline.config import ConfigError, load_study, read_config_file

from helpers import REPO, cohort_config, make_responses


def test_demo_config_loads_with_defaults():
    study = load_study(read_config_file(REPO / "config" / "config.yaml"), REPO)
    demo = study.cohorts["demo"]
    assert [i.name for i in demo.instruments] == ["ecr_r", "minmax"]
    assert demo.item_columns["ecr_r"][:2] == ["ecr_1", "ecr_2"]
    assert demo.item_columns["minmax"][-1] == "mm_22"
    assert demo.missing_codes == (-1.0, 99.0)
    assert study.seed == 20261124 and study.scoring.minmax_band == 0.2


def config_with(tmp_path, **over):
    path = tmp_path / "r.csv"
    make_responses(4).to_csv(path, index=False)
    return {"study": "s", "cohorts": {"c": cohort_config(path, **over)}}


@pytest.mark.parametrize("over, key", [
    ({"grups": ["gender"]}, "`cohorts.c`: Additional properties"),
    ({"out_of_range": "drop"}, "`cohorts.c.out_of_range`"),
    ({"missing_codes": "99"}, "`cohorts.c.missing_codes`"),
    ({"items": {"ecr_r": "ecr_", "minmax": "mm_{n}"}}, "`cohorts.c.items.ecr_r`"),
    ({"responses": "nowhere.csv"}, "`cohorts.c.responses`: file nowhere.csv does not exist"),
    ({"instruments": ["ecr_r", "bdi"]}, "`cohorts.c.instruments`: unknown instrument 'bdi'"),
    ({"items": {"ecr_r": "ecr_{n}"}}, "`cohorts.c.items`: no column mapping for minmax"),
    ({"items": {"ecr_r": ["a", "b"], "minmax": "mm_{n}"}}, "`cohorts.c.items.ecr_r`: the list names 2 columns"),
    ({"response_format": {"ecr_r": "ticks"}}, "`cohorts.c.response_format.ecr_r`"),
    ({"response_scale": {"ecr": {"min": 1, "max": 5}}}, "`cohorts.c.response_scale`: names ecr"),
    ({"response_scale": {"ecr_r": {"min": 5, "max": 1}}}, "`cohorts.c.response_scale.ecr_r`"),
    ({"children": "kids.csv"}, "`cohorts.c.children`: file kids.csv does not exist"),
])
def test_config_errors_name_the_key(tmp_path, over, key):
    with pytest.raises(ConfigError) as err:
        load_study(config_with(tmp_path, **over), tmp_path)
    assert key in str(err.value)


def test_top_level_errors(tmp_path):
    cfg = config_with(tmp_path)
    with pytest.raises(ConfigError, match="`language`"):
        load_study({**cfg, "language": "de"}, tmp_path)
    with pytest.raises(ConfigError, match="`scoring.min_answered`"):
        load_study({**cfg, "scoring": {"min_answered": 1.5}}, tmp_path)
    with pytest.raises(ConfigError, match="'cohorts' is a required property"):
        load_study({"study": "s"}, tmp_path)


def test_explicit_item_list_and_format(tmp_path):
    cols = [f"mm_{k}" for k in range(1, 12)]
    study = load_study(config_with(tmp_path, items={"ecr_r": "ecr_{n}", "minmax": cols},
                                   response_format={"minmax": "forced_choice"}), tmp_path)
    inst = study.cohorts["c"].instrument("minmax")
    assert inst.response_format == "forced_choice" and study.cohorts["c"].item_columns["minmax"] == cols


def test_cohort_sheet_equals_inline_form(tmp_path):
    for name in ("a", "b"):
        make_responses(4).to_csv(tmp_path / f"{name}.csv", index=False)
    header = "name\tresponses\tinstruments\tid_column\titems\tmissing_codes\tgroups\tresponse_scale\n"
    rows = ('a\ta.csv\t[ecr_r, minmax]\trespondent_id\t{ecr_r: "ecr_{n}", minmax: "mm_{n}"}\t[-1, 99]\t[gender]\t\n'
            'b\tb.csv\t[ecr_r]\t\t{ecr_r: "ecr_{n}"}\t\t\t{ecr_r: {min: 1, max: 7}}\n')
    (tmp_path / "cohorts.tsv").write_text(header + rows)
    sheet = load_study({"study": "s", "cohorts": "cohorts.tsv"}, tmp_path)
    inline = load_study({"study": "s", "cohorts": {
        "a": {"responses": "a.csv", "instruments": ["ecr_r", "minmax"], "id_column": "respondent_id",
              "items": {"ecr_r": "ecr_{n}", "minmax": "mm_{n}"}, "missing_codes": [-1, 99], "groups": ["gender"]},
        "b": {"responses": "b.csv", "instruments": ["ecr_r"], "items": {"ecr_r": "ecr_{n}"},
              "response_scale": {"ecr_r": {"min": 1, "max": 7}}}}}, tmp_path)
    assert sheet == inline


def test_cohort_sheet_errors_name_row_and_column(tmp_path):
    make_responses(4).to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / "bad.tsv").write_text("name\tresponses\tinstruments\titems\na\ta.csv\t[ecr_r\t{ecr_r: x}\n")
    with pytest.raises(ConfigError, match=r"row 2 \(cohort a\), column instruments"):
        load_study({"study": "s", "cohorts": "bad.tsv"}, tmp_path)
    (tmp_path / "bad2.tsv").write_text("name\tresponses\tinstruments\titems\tout_of_range\n"
                                       "a\ta.csv\t[ecr_r]\t{ecr_r: \"ecr_{n}\"}\tdrop\n")
    with pytest.raises(ConfigError, match=r"`cohorts.a.out_of_range`"):
        load_study({"study": "s", "cohorts": "bad2.tsv"}, tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_study({"study": "s", "cohorts": "none.tsv"}, tmp_path)


@pytest.mark.parametrize("value, expected", [("auto", "auto"), (True, "true"), (False, "false"), ("false", "false")])
def test_couples_distinguishable_setting(tmp_path, value, expected):
    couples = {"couple_column": "couple_id", "role_column": "partner", "distinguishable": value}
    study = load_study(config_with(tmp_path, couples=couples), REPO)
    assert study.cohorts["c"].couples.distinguishable == expected
    default = load_study(config_with(tmp_path), REPO)
    assert default.cohorts["c"].couples.distinguishable == "auto"


def test_couples_distinguishable_bad_value(tmp_path):
    couples = {"couple_column": "couple_id", "distinguishable": "sometimes"}
    with pytest.raises(ConfigError, match="distinguishable"):
        load_study(config_with(tmp_path, couples=couples), REPO)


def test_mixed_alpha_levels_stop_at_start(tmp_path):
    config = config_with(tmp_path)
    config["hypotheses"] = [{"id": "H1", "family": "complementarity", "alpha": 0.05},
                            {"id": "H2", "family": "minmax_complementarity", "alpha": 0.01}]
    with pytest.raises(ConfigError, match="holm needs one alpha.*cohort c.*weighted_holm"):
        load_study(config, REPO)
    config["hypothesis_testing"] = {"correction": "weighted_holm"}
    assert load_study(config, REPO).hypothesis_testing.correction == "weighted_holm"
