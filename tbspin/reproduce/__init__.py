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

Beyond the paper (not part of ``all``: hours at the default tolerances):

* ``materials`` — the materials table (:mod:`tbspin.reproduce.materials`): proper and
  conventional spin Hall tensors (and the AHC of Fe) of the real Wannier90 fits Pt, Fe,
  Bi₂Se₃, 1T′-WSe₂, converged with error bars; ``--only``, ``--budget-seconds``,
  ``--scheduler``, ``--workers`` act on it only.

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
#: reproductions beyond the paper, not run by "all"
TABLES: dict[str, str] = {
    "materials": "proper vs conventional spin Hall tensors of Pt, Fe, Bi2Se3, 1T'-WSe2 (table)",
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
        description="\n".join([f"{k:9s} {v[1]}" for k, v in REGISTRY.items()]
                               + [f"{k:9s} {v}" for k, v in TABLES.items()]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    configure_parser(p)
    return p


def configure_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The arguments of the reproduce command (shared by the CLI and ``python -m``)."""
    p.add_argument("name", choices=[*REGISTRY, "all", *TABLES],
                   help="which reproduction ('all' for every paper figure)")
    p.add_argument("--quick", action="store_true",
                   help="small meshes (< 1 min each; for tests), not converged")
    p.add_argument("--out", default=None, type=Path,
                   help="output folder [results/reproduce; materials: results/materials]")
    g = p.add_argument_group("materials table only")
    g.add_argument("--only", default=None, help="comma-separated materials: pt,fe,bi2se3,wse2 [all]")
    g.add_argument("--budget-seconds", type=float, default=None,
                   help="wall-time budget of the whole table (s); when it ends: "
                        "ConvergenceWarning and the partial table [no budget]")
    g.add_argument("--budget-k", type=int, default=None, metavar="N",
                   help="k-point evaluations per tol run (a rerun with more continues a "
                        "budget-stopped table) [each material's own]")
    g.add_argument("--scheduler", default=None,
                   help="dask scheduler address (tcp://host:8786): the runs use its workers "
                        "[none: local]")
    g.add_argument("--workers", type=int, default=None, help="local workers per run [all cores]")
    g.add_argument("--data", type=Path, default=None,
                   help="folder of the Wannier90 fits [$TBSPIN_SHARED_DATA, else "
                        "../shared/data of the repository]")
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace | Sequence[str] | None = None) -> int:
    """Run the reproduce command from parsed arguments (or an argv list)."""
    if not isinstance(args, argparse.Namespace):
        args = configure_parser(argparse.ArgumentParser(prog="tbspin reproduce")).parse_args(args)
    table_opts = {k: getattr(args, k, None) for k in ("only", "budget_seconds", "budget_k",
                                                      "scheduler", "workers", "data")}
    if args.name in TABLES:
        return _run_materials(args, table_opts)
    given = [f"--{k.replace('_', '-')}" for k, v in table_opts.items() if v is not None]
    if given:
        from tbspin.errors import ParameterError

        raise ParameterError(f"{', '.join(given)}: only for 'tbspin reproduce materials'")
    run(args.name, args.out or "results/reproduce", args.quick)
    return 0


def _run_materials(args: argparse.Namespace, opts: dict[str, object]) -> int:
    """``tbspin reproduce materials ...``: the client (if any) is made here and closed after."""
    from tbspin.reproduce._common import limit_blas_threads
    from tbspin.reproduce.materials import run_table

    client = None
    if opts["scheduler"] is not None:
        try:
            from dask.distributed import Client
        except ImportError:
            from tbspin.errors import MissingDependencyError

            raise MissingDependencyError("--scheduler needs dask.distributed "
                                         "(pip install 'tbspin[dask]')") from None
        client = Client(str(opts["scheduler"]))
    old = limit_blas_threads(1)
    try:
        run_table(args.out or "results/materials", only=opts["only"],  # type: ignore[arg-type]
                  quick=args.quick, budget_seconds=opts["budget_seconds"],  # type: ignore[arg-type]
                  budget_k=opts["budget_k"],  # type: ignore[arg-type]
                  client=client, workers=opts["workers"], data=opts["data"])  # type: ignore[arg-type]
    finally:
        if client is not None:
            client.close()
        if old is not None:
            limit_blas_threads(old)
    return 0
