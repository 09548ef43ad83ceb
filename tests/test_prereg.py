"""Preregistration lock: canonical hash, differences, tampering, files and command line."""

import copy
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from attachment_pipeline import prereg

REPO = Path(__file__).resolve().parents[1]

CONFIG = {
    "study": "s", "seed": 7,
    "cohorts": {"c": {"responses": "x.csv"}},
    "hypothesis_testing": {"correction": "holm", "n_permutations": 5000},
    "hypotheses": [
        {"id": "H1", "family": "complementarity", "direction": "greater"},
        {"id": "H2", "family": "minmax_complementarity"},
        {"id": "H5", "family": "prevalence", "reference": "hazan_shaver1987"},
    ],
    "scoring": {"min_answered": 0.8, "minmax_band": 0.2},
    "classification": {"method": "midpoint", "compare": ["median"], "reference": None},
}


def test_hash_is_sha256_of_canonical_json_and_ignores_time():
    a = prereg.make_lock(CONFIG, now="2026-01-01T00:00:00Z")
    b = prereg.make_lock(CONFIG, now="2027-05-05T12:00:00Z")
    assert a["hash"] == b["hash"] and a["created_utc"] != b["created_utc"]
    text = json.dumps(a["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert a["hash"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert set(a["content"]) == set(prereg.LOCKED_KEYS)
    assert "cohorts" not in a["content"] and "study" not in a["content"]


def test_equivalent_configs_hash_alike():
    base = prereg.make_lock(CONFIG)["hash"]
    same = copy.deepcopy(CONFIG)
    same["hypotheses"] = list(reversed(same["hypotheses"]))          # order of declaration
    same["hypotheses"][0]["alpha"] = 0.05                              # explicit default
    same["scoring"] = {"minmax_band": 0.2}                             # defaults filled
    same["hypothesis_testing"]["n_permutations"] = 5000.0              # number by value
    same["cohorts"] = {"other": {"responses": "y.csv"}}                # data are not locked
    assert prereg.make_lock(same)["hash"] == base


def test_differences_are_listed_by_key():
    lock = prereg.make_lock(CONFIG)
    new = copy.deepcopy(CONFIG)
    new["hypotheses"][0]["alpha"] = 0.01
    new["hypotheses"] = [h for h in new["hypotheses"] if h["id"] != "H2"]
    new["hypotheses"].append({"id": "H9", "family": "correlation", "x": "a", "y": "b"})
    new["hypothesis_testing"]["correction"] = "bh"
    new["scoring"]["minmax_band"] = 0.25
    new["classification"]["compare"] = ["median", "kmeans"]
    new["classification"]["reference"] = {"anxiety": {"mean": 3.6, "sd": 1.1}, "avoidance": {"mean": 2.9, "sd": 1.1}}
    new["seed"] = 8
    status = prereg.check_lock(new, lock)
    assert not status.matches and status.current_hash != status.locked_hash
    assert status.differences == [
        "hypotheses: H2 removed",
        "hypotheses: H9 added",
        "hypotheses[H1].alpha: 0.05 -> 0.01",
        "hypothesis_testing.correction: holm -> bh",
        "scoring.minmax_band: 0.2 -> 0.25",
        'classification.compare: ["median"] -> ["median", "kmeans"]',
        'classification.reference: null -> {"anxiety": {"mean": 3.6, "sd": 1.1}, "avoidance": {"mean": 2.9, "sd": 1.1}}',
        "seed: 7 -> 8",
    ]


def test_matching_config_and_statement():
    lock = prereg.make_lock(CONFIG, now="2026-01-01T00:00:00Z")
    status = prereg.check_lock(copy.deepcopy(CONFIG), lock)
    assert status.matches and status.differences == []
    assert prereg.lock_statement(status, lock).startswith("The hypotheses and analysis settings match")
    bad = prereg.check_lock({**CONFIG, "seed": 1}, lock)
    assert "DIFFER" in prereg.lock_statement(bad, lock) and "seed: 7 -> 1" in prereg.lock_statement(bad, lock)


def test_edited_lock_is_detected():
    lock = prereg.make_lock(CONFIG)
    lock["content"]["hypotheses"][0]["alpha"] = 0.1  # edited after locking
    status = prereg.check_lock(CONFIG, lock)
    assert not status.matches
    assert status.differences[0].startswith("lock: its hash does not match")
    assert "hypotheses[H1].alpha: 0.1 -> 0.05" in status.differences


def test_invalid_hypotheses_cannot_be_locked():
    with pytest.raises(ValueError, match=r"hypotheses\[H1\]\.family"):
        prereg.make_lock({"hypotheses": [{"id": "H1", "family": "astrology"}]})
    with pytest.raises(ValueError, match="make_lock"):
        prereg.check_lock(CONFIG, {"hash": "x"})


def test_files_and_command_line(tmp_path, capsys):
    cfg = tmp_path / "study.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    out = tmp_path / "lock.json"
    assert prereg.main(["lock", "--config", str(cfg), "--out", str(out)]) == 0
    lock = prereg.read_lock(out)
    assert lock["hash"] == prereg.make_lock(CONFIG)["hash"]
    assert prereg.main(["check", "--config", str(cfg), "--lock", str(out)]) == 0
    changed = copy.deepcopy(CONFIG)
    changed["hypotheses"][1]["direction"] = "two-sided"
    cfg.write_text(yaml.safe_dump(changed), encoding="utf-8")
    assert prereg.main(["check", "--config", str(cfg), "--lock", str(out)]) == 1
    assert "hypotheses[H2].direction: less -> two-sided" in capsys.readouterr().out
    assert prereg.main(["check", "--config", str(cfg), "--lock", str(tmp_path / "none.json")]) == 2


def test_shipped_config_can_be_locked():
    lock = prereg.make_lock(yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8")))
    assert len(lock["hash"]) == 64 and lock["content"]["seed"] == 20261124
