"""Snakemake conventions: snakefmt-formatted rules, a clean `snakemake --lint`, a log for every rule,
the default profile found beside the Snakefile, the SLURM profile refusing its placeholders, and the
conda environment pinned like requirements.lock. Dry runs only (a few seconds each)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from attachment_pipeline.startup import placeholder_resources

from helpers import REPO, demo_project

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return demo_project(tmp_path_factory.mktemp("conventions"))


def snakemake(workdir, *args):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, capture_output=True,
                          text=True, timeout=300)


def test_snakefmt_check_passes():
    proc = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_lint_is_clean_and_the_default_profile_is_found(project):
    proc = snakemake(project, "--lint")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Congratulations, your workflow is in a good condition!" in out, out
    assert "Lints for" not in out
    assert "Using workflow specific profile profiles/default" in out


def test_every_rule_has_a_log_and_passes_it_to_its_step():
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        text = smk.read_text()
        for block in text.split("\nrule ")[1:]:
            assert "\n    log:\n" in block, f"{smk.name}: rule {block.split(':')[0]} has no log"
    for script in (REPO / "workflow/scripts").glob("*.py"):
        assert "log_path=snakemake.log[0]" in script.read_text(), script.name


def test_slurm_profile_refuses_its_placeholders(project):
    proc = snakemake(project, "-n", "--profile", "profiles/slurm")
    assert proc.returncode != 0
    assert "slurm_account, slurm_partition are still CHANGE_ME" in proc.stderr
    assert "Traceback" not in proc.stderr
    ok = snakemake(project, "-n", "--profile", "profiles/slurm", "--default-resources", "slurm_account=lab",
                   "slurm_partition=short", "mem_mb=2000", "runtime=30")
    assert ok.returncode == 0, ok.stderr


def test_placeholder_resources_reads_raw_values():
    class Res:
        def __init__(self, raw):
            self.raw = raw

    assert placeholder_resources({"slurm_account": Res("'CHANGE_ME'"), "mem_mb": Res(2000)}) == ["slurm_account"]
    assert placeholder_resources({"slurm_account": Res("'lab'")}) == []


def test_conda_environment_pins_the_runtime_lock():
    env = yaml.safe_load((REPO / "workflow/envs/pipeline.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    lock = [line for line in (REPO / "requirements.lock").read_text().splitlines() if line and line[0] != "#"]
    assert pip == lock, "workflow/envs/pipeline.yaml differs from requirements.lock: run `make lock`"
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for block in smk.read_text().split("\nrule ")[1:]:
            assert '    conda:\n        "../envs/pipeline.yaml"' in block, f"{smk.name}: rule without conda"
