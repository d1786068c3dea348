"""Deprecation shims: the flat module paths of tbspin 0.2 (``tbspin.eigen``, ``tbspin.integrate``,
…) still import, as aliases of their modules in the stage sub-packages, with a
DeprecationWarning naming the new path (docs/architecture.md, CHANGELOG).

``import tbspin.eigen`` and ``from tbspin import eigen`` both give the module
``tbspin.bands.eigen`` itself (one module object: monkeypatching either name patches both).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

#: 0.2 module → its module now (the names that kept a package of the same name — model,
#: symmetry, results, cli, bands, sampling, observables — are not listed: they still import)
MOVED = {
    "hoppings": "model.hoppings",
    "spin": "model.spin",
    "bloch": "model.bloch",
    "kmesh": "bz.kmesh",
    "kpath": "bz.kpath",
    "fourier": "bz.fourier",
    "kp": "continuum.kp",
    "kp_lattice": "continuum.lattice",
    "eigen": "bands.eigen",
    "berry": "bands.berry",
    "settings": "bands.settings",
    "degeneracy": "bands.degeneracy",
    "integrands": "bands.integrands",
    "integrate": "engine.integrate",
    "checkpoint": "engine.checkpoint",
    "executor": "engine.executor",
    "convergence": "results.convergence",
    "diagnose": "analysis.diagnose",
    "plotting": "cli.plotting",
    "jobs": "cli.jobs",
}


def moved(name: str) -> types.ModuleType:
    """The module now holding the 0.2 module ``tbspin.<name>``, with a DeprecationWarning."""
    new = f"tbspin.{MOVED[name]}"
    warnings.warn(f"tbspin.{name} moved to {new}; the old path will be removed in 0.4",
                  DeprecationWarning, stacklevel=3)
    return importlib.import_module(new)


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, name: str) -> None:
        self.name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return moved(self.name)

    def exec_module(self, module: types.ModuleType) -> None:
        sys.modules[f"tbspin.{self.name}"] = module


class _Finder(importlib.abc.MetaPathFinder):
    """Finds ``tbspin.<old>`` for the names of :data:`MOVED` (nothing else)."""

    def find_spec(self, fullname: str, path: object = None, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        prefix, _, name = fullname.partition(".")
        if prefix != "tbspin" or name not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(name))


def install() -> None:
    """Register the finder once (called by ``tbspin/__init__``)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
