"""What the Snakefile does at start-up, besides reading the config: refuse early, rerun by content.

* :func:`stop` and :func:`stop_internal` end a run with one paragraph on stderr (and, for a
  bug, the traceback in a log file), never a traceback on the console.
* :func:`check_writable` refuses a results folder that cannot be created or written before
  any job runs.
* :func:`clear_stale_locks` lets a plain rerun resume after a run was killed: Snakemake
  leaves its lock files behind when it is killed (``kill -9``, a closed terminal, a
  cluster time limit); they are removed when no other Snakemake process works in this
  folder.
* :func:`placeholder_resources` finds resources still set to a profile's ``CHANGE_ME``
  placeholder (the SLURM profile's account and partition), so the run stops before any
  job is submitted.
* :func:`fingerprint` and :func:`content_sha256` give each rule a ``params`` value that
  changes exactly when what the step depends on changes: the content (not the time
  stamp) of raw and instrument files, and the slice of the config the step reads.
  Snakemake's default rerun triggers include ``params``, so such a change reruns the
  step and everything downstream of it.

Example
-------
>>> fingerprint({"a": 1}, (2, 3)) == fingerprint({"a": 1}, (2, 3)) != fingerprint({"a": 2}, (2, 3))
True
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import traceback
from pathlib import Path

from .io import sha256_of

_SHA_CACHE: dict = {}

#: The placeholder the shipped profiles use for values a user must set.
PLACEHOLDER = "CHANGE_ME"


def placeholder_resources(resources) -> list[str]:
    """Names of the resources whose value (or raw expression) still holds :data:`PLACEHOLDER`.

    ``resources`` is Snakemake's ``workflow.resource_settings.default_resources`` (items with
    ``.raw``/``.value``), a mapping of names to values, or None.

    >>> placeholder_resources({"slurm_account": "'CHANGE_ME'", "mem_mb": 2000, "runtime": 30})
    ['slurm_account']
    >>> placeholder_resources(None)
    []
    """
    if resources is None:
        return []
    items = resources.items() if hasattr(resources, "items") else []
    found = []
    for name, res in items:
        raw = getattr(res, "raw", res)
        if PLACEHOLDER in str(raw):
            found.append(str(name))
    return sorted(found)


def content_sha256(path) -> str:
    """sha256 of a file's content ("missing" when absent), cached while size, times and inode stay the same."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return "missing"
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)  # ctime: no tool can keep it
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_of(p)
    return _SHA_CACHE[key]


def fingerprint(*parts) -> str:
    """A short, stable hash of ``repr`` of the parts (frozen dataclasses, dicts, tuples, strings).

    Used as a rule's ``params`` value: Snakemake stores it and reruns the job when it changes.
    """
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:20]


def stop(message: str, code: int = 1) -> None:
    """End the run with one paragraph on stderr and a non-zero exit."""
    print(f"\nERROR: {' '.join(str(message).split())}\n", file=sys.stderr)
    sys.exit(code)


def stop_internal(exc: BaseException, where: str = "reading the configuration") -> None:
    """End the run after an unexpected error: one paragraph, the traceback in a log file."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log = None
    for folder in (Path("results") / "logs", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            log = folder / "startup-error.log"
            log.write_text(text, encoding="utf-8")
            break
        except OSError:
            log = None
    place = f" The traceback is in {log}; please attach it to a bug report." if log else ""
    stop(f"internal error while {where}: {type(exc).__name__}: {exc}. This is a bug in the pipeline.{place}", 3)


def check_writable(folder) -> None:
    """Refuse a results folder that cannot be created or written, without creating anything.

    Walks up to the nearest existing part of the path: it must be a folder, writable by
    this user.
    """
    p = Path(folder)
    for part in [p, *p.parents]:
        if part.exists() or part.is_symlink():
            if not part.is_dir():
                stop(f"cannot write results to {folder}: {part} exists but is not a folder. Move that file away, "
                     "or run from another folder.")
            if not os.access(part, os.W_OK | os.X_OK):
                stop(f"cannot write results to {folder}: {part} is not writable for you. Make it writable "
                     "(chmod u+w), or run from a folder you can write to.")
            return


def _other_snakemake_here(cwd: Path) -> bool:
    """Whether another Snakemake process works in ``cwd`` (psutil; False when it cannot tell)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency of Snakemake
        return True
    me = os.getpid()
    family = {me}
    try:
        family |= {p.pid for p in psutil.Process(me).parents()}
    except psutil.Error:
        pass
    for proc in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            if proc.info["pid"] in family or not proc.info["cmdline"]:
                continue
            cmd = proc.info["cmdline"]
            is_snakemake = any(Path(a).name == "snakemake" for a in cmd[:2]) or (
                "-m" in cmd[:3] and "snakemake" in cmd[:4])
            if is_snakemake and (proc.info["cwd"] is None  # another user's process: assume it may work here
                                 or Path(proc.info["cwd"]).resolve() == cwd.resolve()):
                return True
        except (psutil.Error, OSError):
            continue
    return False


def clear_stale_locks(workdir=".") -> bool:
    """Remove Snakemake's lock files left by a killed run; True when some were removed.

    Only when no other Snakemake process runs in ``workdir``; a running one keeps its lock.
    """
    locks = Path(workdir) / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return False
    if _other_snakemake_here(Path(workdir)):
        return False
    for f in locks.iterdir():
        try:
            f.unlink()
        except OSError:
            return False
    print("Note: a previous run in this folder was interrupted and left its lock behind; the lock was removed "
          "and this run resumes (incomplete outputs are made again).", file=sys.stderr)
    return True
