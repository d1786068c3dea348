"""Reproductions of Liu, Cullen & Culcer, PRB 108, 195434 (2023) in one command.

``tbspin reproduce NAME|all [--quick] [--out DIR]`` or ``python -m tbspin.reproduce NAME``.
Each reproduction is a module with ``run(out: Path, quick: bool) -> dict`` that writes
``<name>.json`` (values with errors, units, parameters, meshes, method, version) and
``<name>.png``, and prints its convergence table:

* ``fig1``   — σ^y_zx of bulk Bi₂Se₃ vs E_F for m ∥ x, y, z (proper and conventional);
* ``fig2a``  — σ^z_yx of the GaAs hole gas vs E_F at F_z = 1, 2 MV/m;
* ``fig2b``  — σ^z_yx vs F_z for GaAs, InAs, InSb, Ge, with the Rashba coefficient;
* ``torque`` — Bi₂Se₃ film magnetized ∥ z: surface gap, quantized Hall conductance of the
  slab, bulk proper σ^y_zx in the same energy window, and the torque budget (surface spin
  density, dampinglike, vs bulk proper spin current, fieldlike) vs E_F and thickness.

Wiring into a CLI: ``add_parser(subparsers)`` adds the ``reproduce`` sub-command and
``main(args)`` runs it.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["REGISTRY", "run", "add_parser", "main"]

#: name → (module, one-line description); modules are imported on use
REGISTRY: dict[str, tuple[str, str]] = {
    "fig1": ("fig1", "Bi2Se3 bulk sigma^y_zx vs E_F, m || x, y, z (paper Fig. 1)"),
    "fig2a": ("fig2a", "GaAs hole gas sigma^z_yx vs E_F, F_z = 1, 2 MV/m (paper Fig. 2a)"),
    "fig2b": ("fig2b", "hole gases sigma^z_yx vs F_z, GaAs/InAs/InSb/Ge (paper Fig. 2b)"),
    "torque": ("torque", "Bi2Se3 film, m || z: surface gap, QAH, bulk sigma^y_zx, torque budget"),
}


def _runner(name: str) -> Callable[[Path, bool], dict[str, object]]:
    from tbspin.errors import ParameterError

    if name not in REGISTRY:
        raise ParameterError(f"unknown reproduction {name!r}; choose from {sorted(REGISTRY)} or 'all'")
    module = importlib.import_module(f"{__name__}.{REGISTRY[name][0]}")
    return module.run


def run(name: str, out: Path | str = "results/reproduce",
        quick: bool = False) -> dict[str, dict[str, object]]:
    """Run one reproduction (or ``"all"``); returns {name: record}."""
    from tbspin.reproduce._common import limit_blas_threads

    names = list(REGISTRY) if name == "all" else [name]
    runners = [_runner(n) for n in names]
    old = limit_blas_threads(1)
    try:
        return {n: r(Path(out), quick) for n, r in zip(names, runners, strict=True)}
    finally:
        if old is not None:
            limit_blas_threads(old)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``reproduce NAME|all [--quick] [--out DIR]`` to a CLI's sub-parsers."""
    p = subparsers.add_parser(
        "reproduce", help="reproduce the figures of Liu, Cullen & Culcer, PRB 108, 195434 (2023)",
        description="\n".join(f"{k:7s} {v[1]}" for k, v in REGISTRY.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    configure_parser(p)
    return p


def configure_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The arguments of the reproduce command (shared by the CLI and ``python -m``)."""
    p.add_argument("name", choices=[*REGISTRY, "all"], help="which reproduction ('all' for every one)")
    p.add_argument("--quick", action="store_true",
                   help="small meshes (< 1 min each; for tests), not converged")
    p.add_argument("--out", default="results/reproduce", type=Path,
                   help="output folder [results/reproduce]")
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace | Sequence[str] | None = None) -> int:
    """Run the reproduce command from parsed arguments (or an argv list)."""
    if not isinstance(args, argparse.Namespace):
        args = configure_parser(argparse.ArgumentParser(prog="tbspin reproduce")).parse_args(args)
    run(args.name, args.out, args.quick)
    return 0
