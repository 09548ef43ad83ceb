"""Config errors stop at start-up and name the key."""

import pytest

from attachment_pipeline.config import ConfigError, load_study, read_config_file
from attachment_pipeline.instruments import INSTRUMENT_DIR

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


# --- what can be known at start-up is refused at start-up (issue 12) ---------------------------

def _study(tmp_path, cohorts=None, **top):
    path = tmp_path / "r.csv"
    make_responses(4).to_csv(path, index=False)
    config = {"study": "s", "cohorts": cohorts or {"c": cohort_config(path)}}
    config.update(top)
    return config


@pytest.mark.parametrize("top, fragment", [
    ({"study": ".."}, "config key `study`: '..' does not match"),
    ({"study": "../elsewhere"}, "config key `study`"),
    ({"study": ".hidden"}, "config key `study`"),
    ({"study": "power"}, "config key `study`: the name 'power' is reserved"),
    ({"seed": -1}, "config key `seed`: -1 is less than the minimum of 0"),
    ({"seed": 2**32}, "config key `seed`"),
    ({"factors": {"n_factors": 36}}, "config key `factors.n_factors`: 36 factors cannot be estimated from the 36 items"),
    ({"factors": {"n_factors": 40}}, "Use at most 28 (the Ledermann bound)"),
    ({"privacy": {"min_cell": 1}}, "config key `privacy.min_cell`"),
    ({"hypotheses": [{"id": "H4", "family": "correlation", "x": "ecr_r_anxeity", "y": "age"}]},
     "`hypotheses[H4]`: column 'ecr_r_anxeity' is not a score, group or covariate column of any cohort"),
    ({"hypotheses": [{"id": "G", "family": "group_difference", "score": "ecr_r_anxiety", "group": "gendre"}]},
     "Did you mean 'gender'?"),
    ({"hypotheses": [{"id": "H7", "family": "dimensions_distinct", "instrument": "ecr"}]},
     "`hypotheses[H7].instrument`: 'ecr' is not an instrument of any cohort"),
])
def test_study_level_refusals(tmp_path, top, fragment):
    with pytest.raises(ConfigError) as err:
        load_study(_study(tmp_path, **top), REPO)
    assert fragment in str(err.value)


@pytest.mark.parametrize("names, fragment", [
    (["pooled"], "the cohort name 'pooled' is reserved"),
    (["Pooled"], "the cohort name 'Pooled' is reserved"),
    (["logs"], "is reserved"),
    (["index.html"], "is reserved"),
    (["nul"], "is reserved"),
    ([".."], "config key `cohorts`"),
    (["wave1", "Wave1"], "differ only in case"),
])
def test_cohort_names_that_escape_or_collide(tmp_path, names, fragment):
    path = tmp_path / "r.csv"
    make_responses(4).to_csv(path, index=False)
    with pytest.raises(ConfigError) as err:
        load_study({"study": "s", "cohorts": {n: cohort_config(path) for n in names}}, REPO)
    assert fragment in str(err.value)


@pytest.mark.parametrize("over, fragment", [
    ({"items": {"ecr_r": ["ecr_1"] * 36, "minmax": "mm_{n}"}}, "column 'ecr_1' is named twice in the same list"),
    ({"items": {"ecr_r": "ecr_{n}", "minmax": "ecr_{n}"}},
     "column 'ecr_1' is named both in `cohorts.c.items.ecr_r` and in `cohorts.c.items.minmax`"),
    ({"groups": ["respondent_id"]}, "column 'respondent_id' is named both in `cohorts.c.id_column` and in"),
    ({"groups": ["gender"], "covariates": ["gender"]}, "named both in `cohorts.c.groups` and in `cohorts.c.covariates`"),
    ({"id_column": "RecipientEmail"}, "`cohorts.c.id_column`: column 'RecipientEmail' identifies people"),
    ({"groups": ["IPAddress"]}, "`cohorts.c.groups`: column 'IPAddress' identifies people"),
    ({"covariates": ["LocationLatitude"]}, "identifies people"),
    ({"answer_labels": {"ecr_r": {"9": "Extremely"}}}, "`cohorts.c.answer_labels.ecr_r`: ecr_r: answer label code 9"),
    ({"answer_labels": {"ecr": {"1": "x"}}}, "`cohorts.c.answer_labels`: names ecr, which is not in"),
    ({"answer_labels": {"ecr_r": {"one": "x"}}}, "`cohorts.c.answer_labels.ecr_r`"),
    ({"sheet": "Data"}, "`cohorts.c.sheet`: a sheet applies to .xlsx files only"),
    ({"exclude": {"min_progress": 120}}, "`cohorts.c.exclude.min_progress`"),
    ({"tick_blanks": "zero"}, "`cohorts.c.tick_blanks`"),
    ({"header_row": 0}, "`cohorts.c.header_row`"),
])
def test_cohort_column_refusals(tmp_path, over, fragment):
    with pytest.raises(ConfigError) as err:
        load_study(config_with(tmp_path, **over), REPO)
    assert fragment in str(err.value)


def test_unknown_file_types_are_refused_at_start(tmp_path):
    (tmp_path / "r.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    cfg = {"study": "s", "cohorts": {"c": cohort_config(tmp_path / "r.xls")}}
    with pytest.raises(ConfigError, match=r"file type '\.xls'.*save it as \.xlsx"):
        load_study(cfg, REPO)


def test_broken_instrument_file_is_refused_at_start(tmp_path):
    d = tmp_path / "instruments"
    d.mkdir()
    for name in ("ecr_r", "minmax"):
        (d / f"{name}.yaml").write_text((INSTRUMENT_DIR / f"{name}.yaml").read_text())
    (d / "ecr_r.yaml").write_text((d / "ecr_r.yaml").read_text().replace("subscales:", "subscales: [", 1))
    cfg = config_with(tmp_path)
    cfg["instrument_dir"] = str(d)
    with pytest.raises(ConfigError) as err:
        load_study(cfg, REPO)
    assert "`cohorts.c.instruments`: instrument file" in str(err.value) and "YAML error at line" in str(err.value)
    (d / "ecr_r.yaml").write_text("name: ecr_r\ntitle: x\n")
    with pytest.raises(ConfigError, match="the key `items`"):
        load_study(cfg, REPO)


def test_cohort_sheet_in_latin1_and_with_ragged_rows(tmp_path):
    make_responses(4).to_csv(tmp_path / "r.csv", index=False)
    make_responses(4).to_csv(tmp_path / "caf\xe9.csv", index=False)
    sheet = tmp_path / "cohorts.tsv"
    sheet.write_bytes("name\tresponses\tinstruments\titems\tid_column\n"
                      "w1\tcaf\xe9.csv\t[ecr_r]\t{ecr_r: 'ecr_{n}'}\trespondent_id\n".encode("latin-1"))
    study = load_study({"study": "s", "cohorts": "cohorts.tsv"}, tmp_path)
    assert str(study.cohorts["w1"].responses) == "caf\xe9.csv"
    sheet.write_text("name\tresponses\tinstruments\titems\nw1\tr.csv\t[ecr_r]\t{ecr_r: 'ecr_{n}'}\textra\n")
    with pytest.raises(ConfigError, match=r"row 2: 5 cells but the header has 4"):
        load_study({"study": "s", "cohorts": "cohorts.tsv"}, tmp_path)


def test_psych_default_settings_and_their_errors(tmp_path):
    cfg = config_with(tmp_path)
    study = load_study(cfg, tmp_path)
    assert study.reliability.missing == "pairwise" and study.reliability.omega_factors == 3
    assert study.factors.missing == "fiml" and study.factors.parallel_smc is False
    assert study.factors.estimator == "mlr"
    study = load_study({**cfg, "factors": {"missing": "listwise", "parallel_smc": True},
                        "reliability": {"missing": "listwise", "omega_factors": 2}}, tmp_path)
    assert (study.factors.missing, study.factors.parallel_smc) == ("listwise", True)
    assert (study.reliability.missing, study.reliability.omega_factors) == ("listwise", 2)
    with pytest.raises(ConfigError, match="`factors.missing`: 'complete' is not one of"):
        load_study({**cfg, "factors": {"missing": "complete"}}, tmp_path)
    with pytest.raises(ConfigError, match="`factors.parallel_smc`"):
        load_study({**cfg, "factors": {"parallel_smc": "no"}}, tmp_path)
    with pytest.raises(ConfigError, match="`reliability.omega_factors`"):
        load_study({**cfg, "reliability": {"omega_factors": 1}}, tmp_path)


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
