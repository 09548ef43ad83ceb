"""Preregistration lock: a hash of the declared hypotheses and analysis settings.

Before the data are seen, ``make_lock(config)`` fixes what will be tested and
how: the ``hypotheses`` (each with every default filled in, sorted by id),
``hypothesis_testing``, the analysis settings ``scoring``, ``reliability``,
``factors`` and ``classification`` (defaults of
:mod:`attachment_pipeline.config` filled in) and the ``seed`` (it decides the
permutation p-values, so changing it after seeing the results is a forking
path too). Data paths and cohorts are not locked: the data arrive later.

The content is written as canonical JSON (keys sorted, no whitespace, UTF-8,
numbers by value: ``1.0`` and ``1`` are the same) and hashed with SHA-256. The
lock is a dict::

    {"format": "attachment-pipeline-prereg-lock/1", "algorithm": "sha256",
     "hash": "<hex>", "locked_keys": [...], "content": {...},
     "created_utc": "2026-11-24T10:00:00Z"}

``created_utc`` is *not* part of the hash, so re-locking the same settings
gives the same hash. ``check_lock(config, lock)`` recomputes the content of
the current config and lists every difference, e.g.
``hypotheses[H1].alpha: 0.05 -> 0.01``, ``hypotheses: H9 added``,
``scoring.minmax_band: 0.2 -> 0.25``; it also reports a lock whose hash does
not match its own content (an edited lock file).

Command line (``make preregister``)::

    python -m attachment_pipeline.prereg lock  --config config/config.yaml --out preregistration.lock.json
    python -m attachment_pipeline.prereg check --config config/config.yaml --lock preregistration.lock.json

``check`` exits 0 when the settings match, 1 when they differ (the differences
are printed), 2 on an error.

Example
-------
>>> cfg = {"seed": 1, "hypotheses": [{"id": "H1", "family": "complementarity"}]}
>>> lock = make_lock(cfg, now="2026-01-01T00:00:00Z")
>>> check_lock(cfg, lock).matches
True
>>> cfg2 = {"seed": 1, "hypotheses": [{"id": "H1", "family": "complementarity", "alpha": 0.01}]}
>>> check_lock(cfg2, lock).differences
['hypotheses[H1].alpha: 0.05 -> 0.01']
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .config import Classification, Factors, Reliability, Scoring
from .hypotheses.registry import check_hypotheses, check_testing_settings
from .simulate import DEMO_SEED

FORMAT = "attachment-pipeline-prereg-lock/1"
#: Top-level config keys the lock covers.
LOCKED_KEYS = ("hypotheses", "hypothesis_testing", "scoring", "reliability", "factors", "classification", "seed")
_SECTION_DEFAULTS = {"scoring": Scoring, "reliability": Reliability, "factors": Factors,
                     "classification": Classification}


def _normalise(value):
    """JSON-ready value with numbers by value (integral floats as ints), tuples as lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"The locked settings contain a non-finite number ({value}).")
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return _normalise(value.item())
    raise ValueError(f"The locked settings contain a value of type {type(value).__name__}: {value!r}.")


def locked_content(config: dict) -> dict:
    """The part of ``config`` the lock covers, with defaults filled in (see the module docstring).

    >>> c = locked_content({"seed": 5, "scoring": {"minmax_band": 0.25}})
    >>> c["scoring"], c["hypothesis_testing"]["correction"], c["hypotheses"]
    ({'min_answered': 0.8, 'minmax_band': 0.25}, 'holm', [])
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a mapping; got {type(config).__name__}.")
    content = {}
    hyps = check_hypotheses(copy.deepcopy(config.get("hypotheses") or []))
    content["hypotheses"] = sorted(hyps, key=lambda e: e["id"])
    content["hypothesis_testing"] = asdict(check_testing_settings(config.get("hypothesis_testing")))
    for key, cls in _SECTION_DEFAULTS.items():
        given = config.get(key) or {}
        if not isinstance(given, dict):
            raise ValueError(f"{key} must be a mapping; got {given!r}.")
        content[key] = {**asdict(cls()), **copy.deepcopy(given)}
    content["seed"] = config.get("seed", DEMO_SEED)
    return _normalise(content)


def canonical_json(content) -> str:
    """Canonical JSON text: sorted keys, no whitespace, UTF-8 characters kept.

    >>> canonical_json({"b": 1, "a": [1.5, "x"]})
    '{"a":[1.5,"x"],"b":1}'
    """
    return json.dumps(_normalise(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def content_hash(content) -> str:
    """SHA-256 (hex) of :func:`canonical_json` encoded as UTF-8.

    >>> content_hash({})
    '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
    """
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def make_lock(config: dict, now: str | None = None) -> dict:
    """The preregistration lock of ``config`` (see the module docstring).

    ``now``: the timestamp to record (default: the current UTC time, ISO 8601);
    it does not enter the hash.
    """
    content = locked_content(config)
    if now is None:
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"format": FORMAT, "algorithm": "sha256", "hash": content_hash(content),
            "locked_keys": list(LOCKED_KEYS), "content": content, "created_utc": str(now)}


@dataclass(frozen=True)
class LockStatus:
    """Whether the current settings match the lock, and what differs (``path: locked -> current``)."""

    matches: bool
    differences: list = field(default_factory=list)
    locked_hash: str = ""
    current_hash: str = ""


def _show(v) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)


def _diff(path: str, old, new, out: list) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            sub = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append(f"{sub} added: {_show(new[k])}")
            elif k not in new:
                out.append(f"{sub} removed (was {_show(old[k])})")
            else:
                _diff(sub, old[k], new[k], out)
    elif canonical_json(old) != canonical_json(new):
        out.append(f"{path}: {_show(old)} -> {_show(new)}")


def _diff_hypotheses(old: list, new: list, out: list) -> None:
    o = {e["id"]: e for e in old}
    n = {e["id"]: e for e in new}
    for hid in sorted(set(o) - set(n)):
        out.append(f"hypotheses: {hid} removed")
    for hid in sorted(set(n) - set(o)):
        out.append(f"hypotheses: {hid} added")
    for hid in sorted(set(o) & set(n)):
        _diff(f"hypotheses[{hid}]", o[hid], n[hid], out)


def check_lock(config: dict, lock: dict) -> LockStatus:
    """Compare the current ``config`` with a lock made by :func:`make_lock`.

    Returns a :class:`LockStatus`; ``differences`` lists every changed, added
    or removed locked setting (hypotheses by id), and a first entry
    ``lock: ...`` when the lock's hash does not match its own content.
    """
    if not isinstance(lock, dict) or "content" not in lock or "hash" not in lock:
        raise ValueError("lock must be a dict made by make_lock (with 'content' and 'hash').")
    if lock.get("format", FORMAT) != FORMAT:
        raise ValueError(f"Unknown lock format {lock.get('format')!r}; expected {FORMAT}.")
    current = locked_content(config)
    locked = lock["content"]
    diffs = []
    if content_hash(locked) != lock["hash"]:
        diffs.append("lock: its hash does not match its content (the lock file was edited)")
    for key in sorted(set(locked) | set(current), key=lambda k: (LOCKED_KEYS.index(k) if k in LOCKED_KEYS else 99, k)):
        if key not in locked:
            diffs.append(f"{key} added: {_show(current[key])}")
        elif key not in current:
            diffs.append(f"{key} removed")
        elif key == "hypotheses":
            _diff_hypotheses(locked[key], current[key], diffs)
        else:
            _diff(key, locked[key], current[key], diffs)
    cur_hash = content_hash(current)
    return LockStatus(matches=not diffs and cur_hash == lock["hash"], differences=diffs,
                      locked_hash=str(lock["hash"]), current_hash=cur_hash)


def lock_statement(status: LockStatus, lock: dict) -> str:
    """One paragraph for the report: do the analysed settings match the preregistration?

    >>> lock = make_lock({"seed": 1}, now="2026-01-01T00:00:00Z")
    >>> lock_statement(check_lock({"seed": 1}, lock), lock)[:60]
    'The hypotheses and analysis settings match the preregistrati'
    """
    created = lock.get("created_utc", "an unknown time")
    short = str(lock.get("hash", ""))[:12]
    if status.matches:
        return (f"The hypotheses and analysis settings match the preregistration lock made {created} "
                f"(SHA-256 {short}...).")
    listed = "; ".join(status.differences)
    return (f"The hypotheses or analysis settings DIFFER from the preregistration lock made {created} "
            f"(SHA-256 {short}...): {listed}.")


def write_lock(lock: dict, path) -> Path:
    """Write a lock as pretty JSON (2-space indent, sorted keys, trailing newline)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(lock, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_lock(path) -> dict:
    """Read a lock file written by :func:`write_lock`."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"No preregistration lock at {path}; make one with "
                         "`python -m attachment_pipeline.prereg lock`.") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a valid lock file (JSON error: {exc}).") from None


def _read_config(path) -> dict:
    from .config import read_config_file

    return read_config_file(path)


def main(argv=None) -> int:
    """Command line: ``lock`` writes a lock, ``check`` compares a config with one."""
    p = argparse.ArgumentParser(prog="python -m attachment_pipeline.prereg",
                                description="Preregistration lock of the hypotheses and analysis settings.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("lock", help="write the lock of a config")
    a.add_argument("--config", required=True)
    a.add_argument("--out", required=True)
    c = sub.add_parser("check", help="compare a config with a lock (exit 1 when they differ)")
    c.add_argument("--config", required=True)
    c.add_argument("--lock", required=True)
    args = p.parse_args(argv)
    try:
        config = _read_config(args.config)
        if args.command == "lock":
            lock = make_lock(config)
            path = write_lock(lock, args.out)
            print(f"{path}: sha256 {lock['hash']}")
            return 0
        lock = read_lock(args.lock)
        status = check_lock(config, lock)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(lock_statement(status, lock))
    return 0 if status.matches else 1


if __name__ == "__main__":
    sys.exit(main())
