"""Provenance facts of a report: file hashes, git commit, package versions, config hash, preregistration status."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path




#: Packages whose versions the provenance section lists.
PACKAGES = ("numpy", "pandas", "scipy", "factor_analyzer", "scikit-learn", "snakemake", "matplotlib",
            "jinja2", "pyreadstat", "attachment-pipeline")



def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit_of(directory: Path | None = None) -> str:
    """``git rev-parse HEAD`` of the project (``unknown`` outside a git checkout)."""
    directory = directory or Path(__file__).resolve().parents[3]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def package_versions(packages=PACKAGES) -> list[tuple[str, str]]:
    """(package, version) for each package; ``not installed`` when absent."""
    rows = [("python", platform.python_version())]
    for p in packages:
        try:
            rows.append((p, metadata.version(p)))
        except metadata.PackageNotFoundError:
            rows.append((p, "not installed"))
    return rows


def config_hash(config: dict) -> str:
    """SHA-256 of the config as canonical JSON (keys sorted, no whitespace, UTF-8)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(obj):
    """Config as plain dicts/lists (Snakemake passes its own mapping types)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj



def prereg_status(config: dict, lock_path: Path | str | None) -> dict:
    """The ``prereg`` argument of :func:`build_report` from a lock file of :mod:`attachment_pipeline.prereg`.

    Returns ``{"status": "matches" | "differs" | "no lock", "differences": [...], "hash": ...,
    "created": ...}``; no path or no file gives ``"no lock"``.
    """
    if lock_path is None or not Path(lock_path).is_file():
        return {"status": "no lock", "differences": []}
    from ..prereg import check_lock, read_lock

    lock = read_lock(lock_path)
    status = check_lock(config, lock)
    return {"status": "matches" if status.matches else "differs", "differences": list(status.differences),
            "hash": str(lock.get("hash", "")), "created": str(lock.get("created_utc", ""))}
