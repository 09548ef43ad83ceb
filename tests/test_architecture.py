"""The import-layer contract of DESIGN.md section 3, enforced by parsing every module's imports with ``ast``.

Layers, top to bottom; a module may import its own layer and the layers below it, never above:

orchestration   steps, startup (what the Snakefile and the rule scripts call)
outputs         report (report/ subpackage, figures, i18n), exports, power, prereg, api (the public API),
                calibrate, bench (commands)
study           hypotheses/, pooled, invariance, simulate
statistics      reliability, factors, irt, classify, dyads, inference, validate, scoring, config
leaves          sem/, polychoric, tables, io, instruments, vocabulary, seeds, resources (package data)

``polychoric`` sits with the engines: the SEM engine's WLSMV estimator needs it, and it imports only
numpy/scipy.

and beside the layers: statistics modules never import ``config``, ``tables``, ``steps`` or matplotlib;
nothing imports ``steps``; the hypothesis registry and the vocabulary load no numpy. Imports inside
functions count too (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import REPO

PACKAGE = REPO / "src" / "attachment_pipeline"

LAYERS = {
    "orchestration": ["steps", "startup"],
    "outputs": ["report", "figures", "i18n", "exports", "power", "prereg", "api", "calibrate", "bench"],
    "study": ["hypotheses", "pooled", "invariance", "simulate"],
    "statistics": ["reliability", "factors", "irt", "classify", "dyads", "inference", "descriptives", "validate",
                   "scoring", "config"],
    "leaves": ["sem", "polychoric", "tables", "io", "instruments", "vocabulary", "seeds", "resources"],
}
RANK = {name: len(LAYERS) - i for i, layer in enumerate(LAYERS) for name in LAYERS[layer]}
LAYER_OF = {name: layer for layer, names in LAYERS.items() for name in names}
STATISTICS_NEVER = {"config", "tables", "steps", "matplotlib"}

#: Known exceptions (importer, imported) -> reason; a new violation fails the test, and a fixed one fails
#: test_known_exceptions_are_still_needed until it is removed here.
KNOWN = {
    # config checks the declared hypotheses with the family registry, the one place that knows each
    # family's keys (hypotheses/registry.py: light, no numpy); a lazy import inside load_study
    ("config", "hypotheses"): "the hypothesis family registry declares the families' config keys",
    # validate checks a raw table against the cohort's settings (the frozen config.Cohort); moving the
    # settings dataclasses into a leaf module would remove this
    ("validate", "config"): "validate_cohort takes a config.Cohort",
    # bench is a command that times the steps end to end (the lead's speed work); it is a driver like the
    # Snakefile, not a library module
    ("bench", "steps"): "the benchmark command drives the IRT step directly",
}


def top_module(path: Path) -> str:
    """``attachment_pipeline.<top>`` the file belongs to (``sem/model.py`` -> ``sem``)."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def imports_of(path: Path) -> set[str]:
    """Top-level names imported by a file of the package (see :func:`imports_in`)."""
    rel = path.relative_to(PACKAGE)
    return imports_in(path.read_text(encoding="utf-8"), rel.parts[:-1])


def imports_in(source: str, subpackage=()) -> set[str]:
    """Top-level names imported by ``source`` (a file in ``attachment_pipeline/<subpackage>``): package
    modules as their ``attachment_pipeline`` top name, third-party packages as ``ext:<name>``."""
    tree = ast.parse(source)
    package_parts = ["attachment_pipeline", *subpackage]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
                if node.module == "attachment_pipeline":
                    names = [f"attachment_pipeline.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "attachment_pipeline":
                if len(parts) > 1:
                    found.add(parts[1])
            elif parts[0] != "__future__":
                found.add(f"ext:{parts[0]}")
    return found


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def all_imports():
    out = {}
    for path in modules():
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue  # the package's __init__ lazily re-exports the public API
        out[path] = imports_of(path)
    return out


def test_every_module_has_a_layer():
    tops = {top_module(p) for p in modules() if p.parent != PACKAGE or p.name != "__init__.py"}
    assert tops <= set(RANK), f"modules without a layer in DESIGN.md section 3: {sorted(tops - set(RANK))}"


def test_imports_go_down_the_layers():
    violations = []
    for path, names in all_imports().items():
        me = top_module(path)
        for other in names:
            if other.startswith("ext:") or other == me or other not in RANK:
                continue
            if RANK[other] > RANK[me] and (me, other) not in KNOWN:
                violations.append(f"{path.relative_to(PACKAGE)} ({LAYER_OF[me]}) imports {other} "
                                  f"({LAYER_OF[other]})")
    assert not violations, "\n".join(violations)


def test_statistics_modules_never_import_config_tables_steps_or_matplotlib():
    violations = []
    for path, names in all_imports().items():
        me = top_module(path)
        if LAYER_OF.get(me) not in ("statistics", "leaves") or me == "config":
            continue
        bad = {n.removeprefix("ext:") for n in names} & STATISTICS_NEVER
        bad = {b for b in bad if (me, b) not in KNOWN}
        if bad:
            violations.append(f"{path.relative_to(PACKAGE)} imports {sorted(bad)}")
    assert not violations, "\n".join(violations)


def test_nothing_imports_steps():
    importers = [str(p.relative_to(PACKAGE)) for p, names in all_imports().items()
                 if "steps" in names and top_module(p) != "steps" and (top_module(p), "steps") not in KNOWN]
    assert not importers


@pytest.mark.parametrize("module", ["vocabulary.py", "hypotheses/registry.py"])
def test_light_modules_load_no_numpy(module):
    names = imports_of(PACKAGE / module)
    assert not {"ext:numpy", "ext:pandas", "ext:scipy"} & names


def test_parser_sees_relative_lazy_and_package_imports():
    code = ("from .. import dyads as dy\nfrom .registry import X\nfrom ..vocabulary import STYLES\n"
            "import numpy as np\n\ndef f():\n    from attachment_pipeline import steps\n"
            "    import matplotlib.pyplot as plt\n")
    assert imports_in(code, ("hypotheses",)) == {"dyads", "hypotheses", "vocabulary", "steps", "ext:numpy",
                                                 "ext:matplotlib"}
    assert imports_in("from . import classify\nfrom .sem.model import M\n") == {"classify", "sem"}


def test_known_exceptions_are_still_needed():
    imports = {}
    for path, names in all_imports().items():
        imports.setdefault(top_module(path), set()).update(n.removeprefix("ext:") for n in names)
    stale = [pair for pair in KNOWN if pair[1] not in imports.get(pair[0], set())]
    assert not stale, f"remove these from KNOWN, they no longer occur: {stale}"
