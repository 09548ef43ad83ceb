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
