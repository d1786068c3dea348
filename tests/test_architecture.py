"""The tree shows the pipeline (docs/architecture.md), checked on the source itself:

* no import cycle among tbspin modules (module-level imports: the ones executed on import;
  function-level imports and ``if TYPE_CHECKING`` blocks excluded);
* no module imports a module of a higher stage at module level;
* no module in tbspin/ or models/ over 600 lines;
* one Fermi sum: the uniform, randomized, adaptive and composite-mesh paths all call
  ``tbspin.engine.occupation.fermi_sum`` (a spy counts the calls).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import tbspin
from tbspin.engine import occupation

ROOT = Path(__file__).resolve().parents[1]

#: sub-package (or base module) → stage (docs/architecture.md)
STAGES = {"errors": 0, "types": 0, "units": 0, "_json": 0, "_version": 0, "_compat": 0,
          "model": 1, "bz": 1, "symmetry": 2, "io": 2, "adapters": 2, "crystal": 2,
          "continuum": 3, "bands": 4, "engine": 5, "sampling": 6, "results": 7,
          "observables": 8, "analysis": 9, "slab": 10, "reproduce": 10, "cli": 11,
          "__init__": 12, "models": 12}


def _modules() -> dict[str, Path]:
    out = {}
    for f in (ROOT / "tbspin").rglob("*.py"):
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = _modules()


def _module_level_imports(name: str, path: Path) -> set[str]:
    """tbspin modules imported when ``name`` is imported (not inside functions, not
    TYPE_CHECKING); ``from pkg import sub`` counts as importing ``pkg.sub`` only."""
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(node, ast.ClassDef):
                visit(node.body)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:
                    mod = ".".join(base[: len(base) - node.level + 1] + ([mod] if mod else []))
                subs = [f"{mod}.{a.name}" for a in node.names]
                if any(s not in MODULES for s in subs):
                    out.add(mod)
                out.update(s for s in subs if s in MODULES)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "finalbody", []))
                for h in getattr(node, "handlers", []):
                    visit(h.body)

    visit(ast.parse(path.read_text()).body)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _module_level_imports(name, path) for name, path in MODULES.items()}


def _stage(module: str) -> int:
    parts = module.split(".")
    return STAGES[parts[1] if len(parts) > 1 else "__init__"]


def test_no_import_cycles_among_modules():
    """Tarjan's strongly connected components of the module-level import graph: all singletons."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"


def test_checker_sees_a_cycle_and_an_upward_import(tmp_path):
    """The checker itself: a module-level cycle is found, a function-level import is not."""
    a = tmp_path / "a.py"
    a.write_text("from tbspin.engine import integrate\n\ndef f():\n    from tbspin.cli import app\n")
    imports = _module_level_imports("tbspin.bz.fake", a)
    assert imports == {"tbspin.engine.integrate"}  # the function-level cli import is not counted
    assert _stage("tbspin.engine.integrate") > _stage("tbspin.bz.fake")  # an upward import


def test_no_module_imports_a_higher_stage():
    bad = [(m, d) for m, deps in GRAPH.items() for d in deps
           if _stage(d) > _stage(m) and not m.startswith(d + ".")]
    assert not bad, f"imports of a higher stage: {bad}"


def test_every_module_is_at_most_600_lines():
    files = list((ROOT / "tbspin").rglob("*.py")) + list((ROOT / "models").rglob("*.py"))
    long = {str(f.relative_to(ROOT)): n for f in files
            if (n := len(f.read_text().splitlines())) > 600}
    assert not long, long


def test_every_integration_path_calls_the_one_fermi_sum(monkeypatch):
    """Uniform mesh (default: its sub-mesh family), randomized mesh, adaptive tree and composite
    mesh: each reaches engine.occupation.fermi_sum (counted by a spy; the values are unchanged)."""
    from tbspin.engine import family, integrate, points
    from tbspin.models import qwz
    from tbspin.reproduce._mesh import CompositeMesh
    from tbspin.reproduce._mesh import integrate as composite
    from tbspin.sampling import rules

    real, calls = occupation.fermi_sum, []

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    for mod in (occupation, integrate, points, family, rules):
        monkeypatch.setattr(mod, "fermi_sum", spy)
    model = qwz()
    kern = tbspin.sampling.ahc_kernel(model)
    ef = np.array([0.0])
    checks = {
        "uniform": lambda: tbspin.anomalous_hall(model, efermi=ef, mesh=6, workers=1),
        "randomized": lambda: tbspin.sampling.randomized_mesh(kern, model, ef, mesh=4,
                                                              n_shifts=2, seed=1),
        "adaptive": lambda: tbspin.sampling.adaptive(kern, model, ef, mesh=4, n_shifts=3,
                                                     iterations=1, seed=1),
        "composite": lambda: composite(
            model, {"ahc": kern}, CompositeMesh((4, 4), (0.1, 0.1), (0.2, 0.2), (2, 2)), ef,
            0.0, kind="ahc"),
    }
    for name, run in checks.items():
        calls.clear()
        run()
        assert calls, f"the {name} path does not call the one Fermi sum"


@pytest.mark.parametrize("old, new", [("eigen", "bands.eigen"), ("integrate", "engine.integrate"),
                                      ("kmesh", "bz.kmesh"), ("jobs", "cli.jobs")])
def test_old_module_paths_import_with_a_deprecation_warning(old, new):
    import importlib
    import sys

    sys.modules.pop(f"tbspin.{old}", None)
    with pytest.warns(DeprecationWarning, match=f"tbspin.{old} moved to tbspin.{new}"):
        mod = importlib.import_module(f"tbspin.{old}")
    assert mod is importlib.import_module(f"tbspin.{new}")
