"""The scoring keys of every shipped instrument, pinned."""

import pytest

from attachment_pipeline.instruments import InstrumentError, available_instruments, load_instrument

SEED = "/work/shared/seed/000_c713362b27d35fe7.txt"


def test_shipped_instruments():
    assert available_instruments() == ["ecr", "ecr_r", "minmax"]


def test_ecr_r_key_is_fraleys():
    inst = load_instrument("ecr_r")
    assert (inst.n_items, inst.scale_min, inst.scale_max) == (36, 1, 7)
    assert inst.subscales == ("anxiety", "avoidance")
    assert inst.subscale_items("anxiety") == tuple(range(1, 19))
    assert inst.subscale_items("avoidance") == tuple(range(19, 37))
    assert inst.reverse_keyed == (9, 11, 20, 22, 26, 27, 28, 29, 30, 31, 33, 34, 35, 36)
    assert inst.item_columns()[:2] == ["ecr_r_1", "ecr_r_2"]
    assert all(item.text["en"] for item in inst.items)


def test_ecr_1998_key():
    inst = load_instrument("ecr")
    assert inst.n_items == 36
    assert inst.subscale_items("avoidance") == tuple(range(1, 37, 2))
    assert inst.subscale_items("anxiety") == tuple(range(2, 37, 2))
    assert inst.reverse_keyed == (3, 15, 19, 22, 25, 27, 29, 31, 33, 35)


def test_minmax_formats():
    ticks = load_instrument("minmax")
    assert ticks.response_format == "ticks" and (ticks.scale_min, ticks.scale_max) == (0, 1)
    assert ticks.subscale_items("minimiser") == tuple(range(1, 12))
    assert ticks.subscale_items("maximiser") == tuple(range(12, 23))
    assert ticks.reverse_keyed == ()
    likert = load_instrument("minmax", "likert")
    assert (likert.n_items, likert.scale_min, likert.scale_max) == (22, 1, 5)
    fc = load_instrument("minmax", "forced_choice")
    assert (fc.n_items, fc.scale_min, fc.scale_max) == (11, 1, 2)
    assert fc.subscales == ("choice",)
    with pytest.raises(InstrumentError, match="unknown response format"):
        load_instrument("minmax", "sliders")


def test_minmax_statements_in_dutch_and_english_from_the_seed():
    inst = load_instrument("minmax")
    assert len(inst.pairs) == 11
    seed = open(SEED, encoding="utf-8").read()
    for pair in inst.pairs:
        for side in ("minimiser", "maximiser"):
            assert pair[side]["en"] and pair[side]["nl"]
    # first and last pair as printed in seed section 5.3
    assert "Uit gevoelens." in seed and inst.pairs[0]["maximiser"]["nl"] == "Uit gevoelens."
    assert "Wisselt tussen agressiviteit en passiviteit." in seed
    assert inst.pairs[10]["maximiser"]["nl"] == "Wisselt tussen agressiviteit en passiviteit."


def test_scale_override_and_errors():
    inst = load_instrument("ecr").with_scale(1, 5)
    assert (inst.scale_min, inst.scale_max) == (1, 5)
    with pytest.raises(InstrumentError):
        inst.with_scale(5, 1)
    with pytest.raises(InstrumentError, match="Known instruments"):
        load_instrument("nope")
    with pytest.raises(InstrumentError, match="no response formats"):
        load_instrument("ecr_r", "ticks")


# --- broken instrument files and answer labels (issue 12) ---------------------------------------

def _write(tmp_path, name, text):
    (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_yaml_error_names_file_line_and_column(tmp_path):
    d = _write(tmp_path, "short", "name: short\ntitle: Short\nitems:\n  - {n: 1, subscale: a, reverse: false\n")
    with pytest.raises(InstrumentError) as err:
        load_instrument("short", directory=d)
    msg = str(err.value)
    assert "short.yaml" in msg and "YAML error at line 5, column 1" in msg


def test_instrument_without_items_is_named(tmp_path):
    d = _write(tmp_path, "short", "name: short\ntitle: Short\nresponse_scale: {min: 1, max: 7}\nsubscales: {a: {en: A}}\n")
    with pytest.raises(InstrumentError, match=r"the key `items` \(a list of items"):
        load_instrument("short", directory=d)


@pytest.mark.parametrize("text, fragment", [
    ("- just a list\n", "expected a mapping"),
    ("name: short\ntitle: S\nsubscales: {a: {en: A}}\nresponse_scale: {min: 7, max: 1}\n"
     "items: [{n: 1, subscale: a, reverse: false}]\n", "needs whole numbers min < max"),
    ("name: short\ntitle: S\nsubscales: {a: {en: A}}\nresponse_scale: {min: 1, max: 7}\n"
     "items: [{n: 1, subscale: a}]\n", "items[0] needs `n`"),
    ("name: short\ntitle: S\nsubscales: {a: {en: A}}\nresponse_scale: {min: 1, max: 3}\n"
     "items: [{n: 1, subscale: a, reverse: false}]\nanswer_labels: {3: {1: ['No'], 3: ['no']}}\n",
     "the label 'no' names both answer 1 and answer 3"),
    ("name: short\ntitle: S\nsubscales: {a: {en: A}}\nresponse_scale: {min: 1, max: 3}\n"
     "items: [{n: 1, subscale: a, reverse: false}]\nanswer_labels: {3: {1: [No]}}\n", "quote it"),
])
def test_broken_instrument_files(tmp_path, text, fragment):
    d = _write(tmp_path, "short", text)
    with pytest.raises(InstrumentError) as err:
        load_instrument("short", directory=d)
    assert fragment in str(err.value)


def test_answer_labels_english_and_dutch_for_7_and_5_points():
    for name in ("ecr_r", "ecr"):
        seven = load_instrument(name)
        assert [seven.code_of(1, t) for t in ("Strongly disagree", "Neutral/mixed", "Strongly agree")] == [1, 4, 7]
        assert [seven.code_of(1, t) for t in ("Helemaal mee oneens", "Neutraal", "Helemaal mee eens")] == [1, 4, 7]
        five = seven.with_scale(1, 5)
        assert [five.code_of(1, t) for t in ("strongly disagree", "Somewhat disagree", "Neither agree nor disagree",
                                             "Agree", "HELEMAAL MEE EENS")] == [1, 2, 3, 4, 5]
        assert seven.with_scale(0, 6).code_of(1, "Strongly agree") == 6
        assert seven.with_scale(1, 4).answer_labels == {}


def test_checklist_statements_are_their_own_labels():
    ticks = load_instrument("minmax", "ticks")
    assert ticks.code_of(1, "Keeps feelings in.") == 1 and ticks.code_of(12, "Uit gevoelens.") == 1
    assert ticks.code_of(1, "Uit gevoelens.") is None  # the other side's statement is no tick here
    assert ticks.code_of(5, "not ticked") == 0
    choice = load_instrument("minmax", "forced_choice")
    assert choice.code_of(2, "Makes emotions small.") == 1 and choice.code_of(2, "Maakt emoties groot") == 2
    likert = load_instrument("minmax", "likert")
    assert likert.code_of(3, "Past helemaal bij mij") == 5


def test_cohort_answer_labels_override_and_are_checked():
    inst = load_instrument("ecr_r").with_answer_labels({1: "Agree", 7: ["Totally agree"]})
    assert inst.code_of(1, "agree") == 1 and inst.code_of(1, "Totally agree") == 7
    with pytest.raises(InstrumentError, match="outside the response scale 1-7"):
        load_instrument("ecr_r").with_answer_labels({8: "Extremely"})
