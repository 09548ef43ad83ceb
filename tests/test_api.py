"""The public API (attachment_pipeline.api, ``import attachment_pipeline as ap``) and the package data.

Reference values: psych::alpha on the demo data (tests/reference/reliability_demo.json, made by
tests/r/reliability_reference.R); the scoring and classification functions the pipeline uses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attachment_pipeline as ap
from attachment_pipeline import classify as cl
from attachment_pipeline import scoring
from attachment_pipeline.instruments import INSTRUMENT_DIR, load_instrument

from helpers import REPO

REF = json.loads((REPO / "tests/reference/reliability_demo.json").read_text())


def demo_ecr_r() -> pd.DataFrame:
    raw = pd.read_csv(REPO / "data/raw/demo/responses.csv")
    items = raw[[f"ecr_{n}" for n in range(1, 37)]]
    return items.rename(columns=lambda c: "ecr_r_" + c.split("_")[1])


# ----------------------------------------------------------------------------- package data
def test_instruments_are_package_data_found_with_importlib_resources():
    shipped = files("attachment_pipeline").joinpath("resources", "instruments")
    assert sorted(p.name for p in shipped.iterdir() if p.name.endswith(".yaml")) == \
        ["ecr.yaml", "ecr_r.yaml", "minmax.yaml"]
    assert str(INSTRUMENT_DIR) == str(shipped)
    assert ap.available_instruments() == ["ecr", "ecr_r", "minmax"]
    assert files("attachment_pipeline").joinpath("resources", "config.schema.yaml").is_file()
    assert not (REPO / "config/instruments").exists()  # one copy of each instrument file


def test_own_instrument_folder_still_works(tmp_path):
    (tmp_path / "short.yaml").write_text((INSTRUMENT_DIR / "ecr_r.yaml").read_text().replace(
        "name: ecr_r", "name: short", 1))
    assert ap.available_instruments(tmp_path) == ["short"]
    assert ap.load_instrument("short", directory=tmp_path).n_items == 36
    with pytest.raises(ValueError, match="Known instruments: short"):
        ap.load_instrument("ecr_r", directory=tmp_path)


def test_unknown_shipped_instrument_names_the_known_ones():
    with pytest.raises(ValueError, match="Known instruments: ecr, ecr_r, minmax"):
        ap.load_instrument("nope")


# ----------------------------------------------------------------------------- verbs
@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
@pytest.mark.parametrize("subscale", ["anxiety", "avoidance"])
def test_cronbach_alpha_of_raw_answers_matches_psych(subscale, missing):
    keyed = ap.reverse_key(demo_ecr_r(), "ecr_r", missing_codes=[-1, 99])
    inst = load_instrument("ecr_r")
    block = keyed[[f"ecr_r_{n}" for n in inst.subscale_items(subscale)]]
    if missing == "pairwise":
        block = block[block.notna().any(axis=1)]
    assert ap.cronbach_alpha(block, missing=missing) == pytest.approx(
        REF["subscales"][subscale][missing]["alpha"], abs=1e-6)


def test_cronbach_alpha_refuses_a_covariance_or_correlation_matrix():
    keyed = ap.reverse_key(demo_ecr_r(), "ecr_r", missing_codes=[-1, 99]).iloc[:, :18]
    for matrix in (keyed.cov(), keyed.corr()):
        with pytest.raises(ValueError, match="look like a covariance or correlation matrix"):
            ap.cronbach_alpha(matrix)
    with pytest.raises(ValueError, match="column 'b', row 1: 'x' is not a number"):
        ap.cronbach_alpha(pd.DataFrame({"a": [1, 2], "b": [3, "x"]}))
    with pytest.raises(ValueError, match="at least 2 item columns"):
        ap.cronbach_alpha(keyed.iloc[:, :1])


def test_alpha_from_covariance_refuses_raw_answers():
    keyed = ap.reverse_key(demo_ecr_r(), "ecr_r", missing_codes=[-1, 99]).iloc[:, :18].dropna()
    assert ap.alpha_from_covariance(keyed.cov()) == pytest.approx(ap.cronbach_alpha(keyed, missing="listwise"))
    with pytest.raises(ValueError, match="not a square symmetric covariance matrix.*ap.cronbach_alpha"):
        ap.alpha_from_covariance(keyed)
    square = keyed.iloc[:18]  # 18 respondents x 18 items: square but not symmetric
    with pytest.raises(ValueError, match="not a square symmetric"):
        ap.alpha_from_covariance(square)


def test_score_equals_the_pipeline_scoring_and_names_bad_values():
    answers = demo_ecr_r()
    inst = load_instrument("ecr_r")
    clean = answers.astype(float).mask(answers.isin([-1, 99]))
    expected = scoring.subscale_means(scoring.reverse_key(clean, inst), inst, 0.8)
    pd.testing.assert_frame_equal(ap.score(answers, "ecr_r", missing_codes=[-1, 99]), expected)
    # any column names, in item order
    positional = answers.set_axis([f"Q{n}" for n in range(1, 37)], axis=1)
    pd.testing.assert_frame_equal(ap.score(positional, inst, missing_codes=[-1, 99]), expected)
    with pytest.raises(ValueError, match=r"column 'ecr_r_1', row 1: 99 is not a whole number on ecr_r's "
                                         r"response scale 1-7.*missing_codes"):
        ap.score(answers.iloc[:5].assign(ecr_r_1=[3, 99, 3, 3, 3]), "ecr_r")
    with pytest.raises(ValueError, match="needs its 36 items as columns ecr_r_1 .. ecr_r_36"):
        ap.score(answers.iloc[:, :30], "ecr_r")


def test_classify_styles_equals_the_pipeline_classification():
    scores = ap.score(demo_ecr_r(), "ecr_r", missing_codes=[-1, 99])
    got = ap.classify_styles(scores, "midpoint", instrument="ecr_r")
    dims = scores.rename(columns={"ecr_r_anxiety": "anxiety", "ecr_r_avoidance": "avoidance"})
    pd.testing.assert_frame_equal(got, cl.classify(dims, "midpoint", scale_min=1, scale_max=7))
    with pytest.raises(ValueError, match="no column 'avoidance' or 'ecr_r_avoidance'"):
        ap.classify_styles(scores[["ecr_r_anxiety"]])


def test_example_answers_are_reproducible():
    a, b = ap.example_answers(50, seed=3), ap.example_answers(50, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a.shape == (50, 36) and a.min().min() >= 1 and a.max().max() <= 7


def test_light_modules_do_not_load_the_api():
    code = ("import sys, attachment_pipeline.vocabulary, attachment_pipeline.hypotheses.registry; "
            "print('numpy' in sys.modules, 'attachment_pipeline.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# ----------------------------------------------------------------------------- an installed wheel
def test_wheel_installs_and_finds_its_data_outside_the_checkout(tmp_path):
    """Build the wheel, install it (no deps) into a fresh venv, import it from elsewhere.

    The venv reaches this environment's third-party packages through a .pth line (not the
    editable install of the checkout), so the import must come from the installed wheel.
    """
    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the checkout
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / part, source / part)
    wheels = tmp_path / "wheels"
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(source)], check=True, env=env, cwd=tmp_path, timeout=300)
    wheel = next(wheels.glob("attachment_pipeline-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, env=env, timeout=300)
    here = [p for p in sys.path if p.endswith("site-packages")]
    (site / "zz_test_deps.pth").write_text("\n".join(here) + "\n")  # plain paths: no editable finder
    script = textwrap.dedent("""
        import attachment_pipeline as ap, attachment_pipeline.config as c, pathlib, sys
        assert pathlib.Path(ap.__file__).resolve().is_relative_to(pathlib.Path(sys.prefix).resolve()), ap.__file__
        print(ap.load_instrument("ecr_r").n_items, ",".join(ap.available_instruments()))
        print(c.SCHEMA.is_file())
        from attachment_pipeline import report  # the report templates are package data too
    """)
    work = tmp_path / "elsewhere"
    work.mkdir()
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run([py, "-c", script], capture_output=True, text=True, cwd=work, env=clean, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["36", "ecr,ecr_r,minmax", "True"]
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "attachment_pipeline/resources/instruments/ecr_r.yaml" in names
    assert any(n.startswith("attachment_pipeline/") and n.endswith(".j2") for n in names)
