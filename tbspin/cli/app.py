"""Command-line interface: ``tbspin shc``, ``tbspin ahc``, ``tbspin slab``, ``tbspin models``,
``tbspin demo``. This module only parses arguments and calls the job functions of
:mod:`tbspin.cli.jobs`.

Examples
--------
Proper spin Hall conductivity σ^y_zx of regularized Bi₂Se₃ with a 1 meV magnetization along z::

    tbspin shc --model bi2se3 --param magnetization=0,0,0.001 --spin y --current z --efield x \\
        --efermi=-0.3:0.3:61 --mesh 40 --out results/bi2se3

The same for a Wannier90 Hamiltonian (spinor Wannier functions, all ↑ then all ↓)::

    tbspin shc --hr path/seedname_hr.dat --spin-order block --efermi 4.4195 --mesh 30

Adding a subcommand
-------------------
A subcommand is a function ``add_parser(subparsers)`` that creates its parser with
``subparsers.add_parser(...)`` and sets ``func=<callable(args) -> int>``; list it in
:data:`SUBCOMMANDS` (or pass it to :func:`build_parser`). Optional ones whose module is absent
are skipped (e.g. ``tbspin.reproduce``).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import logging
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tbspin.cli.support import (
    AHC_CONVENTIONS,
    check_cli_options,
    check_unit,
    on_sigterm,
    parse_energies,
    parse_tol,
    record,
    unit_choices,
)
from tbspin.errors import OutputError, ParameterError, TbspinError
from tbspin.model.lattice import LatticeModel

if TYPE_CHECKING:  # pragma: no cover
    from tbspin.cli.jobs import SlabJobResult

from tbspin._version import __version__

log = logging.getLogger("tbspin")

#: exit status of ``tbspin``
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: exit status after SIGTERM (128 + 15), handled like Ctrl-C: checkpoints are saved first
EXIT_TERMINATED = 143

_SPIN_CONVENTIONS = """\
conventions: energies eV, lengths Å, k in 1/Å; spin operators in units of ħ/2.
σ^l_ij: spin l, current i, electric field j (J^l_i = σ^l_ij E_j). 3D results in (ħ/2e) S/m
(also (ħ/e) S/cm), 2D in e/8π. AHC: S/cm (3D), e²/h (2D), σ_xy = −(e²/ħ)∫Ω^xy.
See docs/conventions.md.
"""
EPILOG = _SPIN_CONVENTIONS + """

exit status: 0 success; 1 the computation failed (bad input file, model error, missing
optional dependency, output that could not be written — the message says which);
2 usage error (bad option or parameter value, named in the message); 130 interrupted (Ctrl-C);
143 terminated (SIGTERM). Both save the checkpoint first (--checkpoint) and say what it holds.
"""
_EXIT = EPILOG[len(_SPIN_CONVENTIONS):]
#: the epilog of ``tbspin ahc``: no spin conventions
AHC_EPILOG = AHC_CONVENTIONS + _EXIT

FORMULA_HELP = (
    "proper: conserved spin current of Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eq. 2 "
    "(includes the torque dipole); conventional: ½{s, v} Kubo formula (Wannier90's SHC); "
    "smm_omega: Σ_m s_mm Ω_m, the spin-weighted Berry curvature of the paper's Eq. 9 — a "
    "diagnostic, the part of the proper formula that survives when spin is conserved [proper]"
)
EFERMI_HELP = (
    "Fermi energies (eV): START:STOP:N (N points from START to STOP inclusive, e.g. "
    "--efermi=-0.2:0.4:31; write it with '=' when START is negative so it is not read as an "
    "option), a comma-separated list, or one number [0]"
)


# ---------------------------------------------------------------------- helpers
def parse_value(text: str) -> float | list[float] | str:
    """Values of ``--param`` for Wannier90 readers: numbers, comma-separated vectors, strings."""
    parts = text.split(",")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        return text
    return vals[0] if len(vals) == 1 else vals


def parse_params(items: Sequence[str] | None) -> dict[str, str]:
    """``["key=value", ...]`` → ``{key: value-string}`` (converted by the model registry)."""
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ParameterError(f"--param {item!r} must look like NAME=VALUE, e.g. --param u=-1")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def builtin_models() -> dict[str, Callable[..., object]]:
    """Model constructors of the registry (:mod:`tbspin.models.registry`), by name."""
    from tbspin.models import registry

    return {name: registry.get(name).constructor for name in registry.names()}


def load_model(args: argparse.Namespace) -> LatticeModel:
    """Build the model named on the command line (registry model or Wannier90 file)."""
    from tbspin.models import registry

    params = parse_params(getattr(args, "param", None))
    if getattr(args, "hr", None):
        if getattr(args, "model", None) is not None:
            raise ParameterError(
                f"--model {args.model} and --hr both name a model; give one of them")
        kw: dict[str, object] = {}
        if args.spin_order:
            kw["spin_order"] = args.spin_order
        if args.lattice:
            try:
                vals = [float(x) for x in args.lattice.split(",")]
            except ValueError:
                vals = []
            d = int(round(np.sqrt(len(vals)))) if vals else 0
            if d * d != len(vals) or d not in (2, 3):
                raise ParameterError(
                    "--lattice needs 9 (or 4 in 2D) comma-separated numbers: the lattice "
                    "vectors a1, a2, a3 as rows, in Å")
            kw["lattice"] = np.array(vals).reshape(d, d)
        kw.update({k: parse_value(v) for k, v in params.items()})
        return LatticeModel.from_wannier90(args.hr, **kw)
    for option, value in (("--lattice", getattr(args, "lattice", None)),
                          ("--spin-order", getattr(args, "spin_order", None))):
        if value:
            raise ParameterError(
                f"{option} applies to Wannier90 files (--hr) only; built-in models carry their "
                f"own lattice and spinor order (drop {option}, or set model parameters with "
                "--param)")
    return registry.build(args.model or "bi2se3", params)


def _add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model (one of --model or --hr)")
    g.add_argument("--model", default=None,
                   help="built-in model name (`tbspin models -v` lists them with their "
                        "parameters and units; the k·p ones need Kwant: pip install "
                        "'tbspin[kwant]') [bi2se3, a k·p model]")
    g.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="model parameter, repeatable (vectors as 0,0,0.001; units in "
                        "`tbspin models -v`) [the model's literature values]")
    g.add_argument("--hr", metavar="PATH",
                   help="Wannier90 seedname_hr.dat or _tb.dat (or prefix) [none: --model]")
    g.add_argument("--spin-order", choices=["block", "interleaved"],
                   help="spinor order of the Wannier functions: block = all ↑ then all ↓ "
                        "(VASP5, WannierTools); interleaved = ↑↓ per orbital (QE, VASP6) "
                        "[none: no spin operators]")
    g.add_argument("--lattice", metavar="A1x,A1y,...,A3z",
                   help="lattice vectors as rows (Å; 9 numbers, or 4 in 2D) if no .win/_tb.dat "
                        "is next to the hr file [from .win, _tb.dat or POSCAR]")


def _add_integration_args(p: argparse.ArgumentParser, kind: str = "shc") -> None:
    p.add_argument("--efermi", type=parse_energies, default=np.array([0.0]), help=EFERMI_HELP)
    p.add_argument("--mesh", type=int, nargs="+", default=[40],
                   help="k-points per periodic direction (one or one per direction) [40]")
    p.add_argument("--converge", type=int, nargs="+", default=None, metavar="N",
                   help="convergence study: repeat on the meshes N1 N2 ... (points per "
                        "direction) and print the values with the relative change per step "
                        "[none: one mesh]")
    p.add_argument("--shift", type=float, nargs="+", default=None,
                   help="mesh shift in units of the mesh step " + (
                       "[0; generic irrational shift for the proper spin current]"
                       if kind == "shc" else "[0: Γ-centred]"))
    p.add_argument("--tol", type=parse_tol, default=None,
                   help="converge to this relative standard error, 0 < TOL < 1, or one per "
                        "component (0.02,0.05,...) (randomly shifted meshes + adaptive "
                        "refinement, starting from --mesh); prints value ± error [none: one "
                        "uniform mesh]")
    p.add_argument("--converge-at", type=parse_energies, default=None, metavar="EF",
                   help="with --tol: judge convergence only at these of the --efermi values "
                        "(the others get the final mesh's error bars) [all]")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="wall-time budget of a --tol run (then a warning says what was "
                        "reached) [none]")
    p.add_argument("--budget-k", type=int, default=None, metavar="N",
                   help="largest number of k-point evaluations of a --tol run [20000000]")
    p.add_argument("--refine-gap", type=float, default=None, metavar="EV", help="split cells where "
                   "occupied bands come closer than EV (halved per level; tbspin.sampling.gaptree"
                   "); with --tol every pass, else one pass of 16 shifts of --mesh's tree [none]")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the random shifts (of the sub-meshes, or of a --tol run) "
                        "[drawn; the seed used is written to the result, extras.sampling.seed]")
    p.add_argument("--no-errors", action="store_true",
                   help="one plain mesh without an error bar (default: the mesh's k-points as "
                        "8-16 randomly shifted sub-meshes that tile the mesh give value ± error at the "
                        "same cost)")
    p.add_argument("--symmetrize", action="store_true",
                   help="restore time reversal (and inversion, from the .win projections when "
                        "available) broken by the Wannier fit before computing")
    p.add_argument("--method", choices=["kubo", "fd"], default="kubo",
                   help="Berry connection: sum over states (kubo) or finite differences (fd) "
                        "[kubo]")
    p.add_argument("--gauge", default=None,
                   help="gauge operator inside degenerate bands: x, y, z, none or an operator "
                        "name " + ("[magnetization direction, else the spin component]"
                                   if kind == "shc" else
                                   "(the AHC of whole filled blocks does not depend on it) "
                                   "[magnetization direction, else s_z for spinors]"))
    p.add_argument("--temperature", type=float, default=0.0, help="temperature in K [0]")
    p.add_argument("--out", type=Path, default=None,
                   help="write OUT.json, OUT.npz and OUT.png (a directory gets a default name); "
                        "checked for writability before computing; existing files are not "
                        "overwritten without --force [no files]")
    p.add_argument("--force", action="store_true",
                   help="overwrite existing result files of --out")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="checkpoint file: partial sums (with --tol: the completed passes, and "
                        "the finished chunks of the pass in progress in CHECKPOINT.chunks) are "
                        "saved there and a rerun resumes (with --converge: one file "
                        "CHECKPOINT.meshN per mesh) [none]")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="k-chunks computed concurrently on this machine; the result does not "
                        "depend on it [all cores, or $TBSPIN_WORKERS]")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the k-chunks on a dask.distributed cluster (e.g. tcp://host:8786; "
                        "start it with `dask scheduler` and `dask worker ADDRESS`) [none: this "
                        "machine]")


def _symmetrize(args: argparse.Namespace, model: LatticeModel
                ) -> tuple[LatticeModel, dict[str, object] | bool]:
    """--symmetrize: time reversal, and inversion when the parities are known (.win projections
    or a "parity" operator); with --symmetry auto the whole (magnetic) space group of the
    model's structure (tbspin.crystal.symmetrize). The report goes to stderr and into the run
    record."""
    if not getattr(args, "symmetrize", False):
        return model, False
    if getattr(args, "symmetry", "none") == "auto":  # the wedge / star average need the group
        from tbspin.crystal import symmetrize

        new, crystal = symmetrize(model)
        print(crystal, file=sys.stderr)
        return new, {"requested": True, "applied": ["space group"], "report": str(crystal),
                     "note": "whole space group (--symmetry auto)",
                     "fingerprint_before": model.fingerprint()}
    note = None
    try:
        sym, report = model.symmetrized(time_reversal=True, inversion=True)
    except TbspinError as exc:
        note = f"inversion not restored ({exc}); time reversal only"
        print(f"tbspin: {note}", file=sys.stderr)
        sym, report = model.symmetrized(time_reversal=True)
    print(report, file=sys.stderr)
    return sym, {"requested": True, "applied": list(report.applied), "report": str(report),
                 "note": note, "fingerprint_before": model.fingerprint()}


# ---------------------------------------------------------------------- commands
def cmd_shc(args: argparse.Namespace) -> int:
    """``tbspin shc``."""
    from tbspin.cli.jobs import output_stem, parallel_options, run_conductivity
    from tbspin.observables import spin_hall
    from tbspin.observables._options import check_eta

    check_eta(args.eta, args.formula, cli=True)  # before the model is read
    check_cli_options(args)
    model, sym = _symmetrize(args, load_model(args))
    check_unit(args.unit, "shc", model)
    compute = functools.partial(
        spin_hall, model, efermi=args.efermi, shift=args.shift, spin=args.spin,
        current=args.current, formula=args.formula, method=args.method,
        gauge=args.gauge, temperature=args.temperature, eta=args.eta,
        progress=not args.no_progress, efield=args.efield, tol=args.tol, budget=args.budget,
        seed=args.seed, budget_k=args.budget_k, errors=not args.no_errors,
        converge_at=args.converge_at, refine_gap=args.refine_gap,
    )
    stem = output_stem(args.out, f"shc_{model.name}_{args.spin}{args.current}{args.efield}")
    with parallel_options(args.workers, args.scheduler) as par:
        run_conductivity(functools.partial(compute, **par), mesh=args.mesh,
                         converge=args.converge, checkpoint=args.checkpoint, unit=args.unit,
                         stem=stem, record=record(args, sym), force=args.force)
    return EXIT_OK


def cmd_ahc(args: argparse.Namespace) -> int:
    """``tbspin ahc``."""
    from tbspin.cli.jobs import output_stem, parallel_options, run_conductivity
    from tbspin.observables import anomalous_hall

    check_cli_options(args)
    model, sym = _symmetrize(args, load_model(args))
    check_unit(args.unit, "ahc", model)
    compute = functools.partial(
        anomalous_hall, model, efermi=args.efermi, shift=args.shift, component=args.component,
        method=args.method, gauge=args.gauge, temperature=args.temperature,
        progress=not args.no_progress, tol=args.tol, budget=args.budget, seed=args.seed,
        budget_k=args.budget_k, errors=not args.no_errors, converge_at=args.converge_at,
        refine_gap=args.refine_gap,
    )
    stem = output_stem(args.out, f"ahc_{model.name}_{args.component}")
    with parallel_options(args.workers, args.scheduler) as par:
        run_conductivity(functools.partial(compute, **par), mesh=args.mesh,
                         converge=args.converge, checkpoint=args.checkpoint, unit=args.unit,
                         stem=stem, record=record(args, sym), force=args.force)
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    """``tbspin models``: the registry, with parameters and units under -v."""
    from tbspin.models import registry

    for name in registry.names():
        e = registry.get(name)
        print(f"{name:12s} {e.description}")
        if args.verbose:
            print(f"{'':12s} source: {e.source}")
            if e.needs_kwant:
                print(f"{'':12s} (built from a k·p string: needs Kwant, pip extra tbspin[kwant])")
            for prm in e.parameters:
                print(f"{'':14s}{prm.describe()}")
    if not args.verbose:
        print("\n`tbspin models -v` lists each model's parameters with units and sources; set "
              "them with --param NAME=VALUE.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """``tbspin demo``."""
    from tbspin.cli.jobs import run_demo

    run_demo(args.out, args.mesh, progress=not args.no_progress, force=args.force)
    return EXIT_OK


def add_slab_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``tbspin slab`` (besides the model options)."""
    p.add_argument("--direction", type=int, default=None,
                   help="index (0-based) of the lattice vector along which the slab is finite: "
                        "0 = a1, 1 = a2, 2 = a3 [the last one]")
    p.add_argument("--n-layers", "--layers", dest="n_layers", type=int, default=30,
                   help="number of layers (unit cells) N [30]")
    p.add_argument("--surface-layers", type=int, default=2,
                   help="layers per surface counted in the surface weight [2]")
    p.add_argument("--n-occupied", type=float, default=None,
                   help="occupied bands per bulk cell [half the bands]")
    p.add_argument("--m", type=float, nargs=3, default=(0.0, 0.0, 0.0), metavar=("MX", "MY", "MZ"),
                   help="exchange vector m (eV) coupled as m·s [0 0 0]")
    p.add_argument("--magnetic-top", type=int, default=None, metavar="K",
                   help="put m only on the K top layers (1 <= K <= N) [all layers]")
    p.add_argument("--gate-field", type=float, default=None, metavar="F",
                   help="perpendicular gate electric field F (MV/m; 1 V/Å = 10⁴ MV/m); electron "
                        "energy +eF(z − z_c) [0]")
    p.add_argument("--field", type=float, default=None, help=argparse.SUPPRESS)  # deprecated V/Å
    p.add_argument("--path", default=None, help="k-path in ase labels, e.g. GKMG [ase default]")
    p.add_argument("--npoints", type=int, default=200, help="points on the k-path [200]")
    p.add_argument("--kmax", type=float, default=None,
                   help="zoom the path on Γ: |k| <= KMAX (1/Å) [0.15 for 3D bulks]")
    p.add_argument("--sweep-mz", type=float, nargs=3, default=None, metavar=("A", "B", "N"),
                   help="also sweep m_z from A to B (eV) in N >= 2 steps: gap vs m_z figure "
                        "[no sweep]")
    p.add_argument("--sweep-layers", type=int, nargs=2, default=None, metavar=("A", "B"),
                   help="also sweep N from A to B > A: gap vs N figure (log scale) [no sweep]")
    p.add_argument("--no-progress", action="store_true", help="hide the sweeps' progress bars")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder; existing files in it are not overwritten without "
                        "--force [results/slab, or results/slab-N when that holds a run]")
    p.add_argument("--force", action="store_true", help="overwrite existing files in --out")
    return p


def _slab_gate_field(args: argparse.Namespace) -> float:
    if args.field is None:
        return 0.0 if args.gate_field is None else args.gate_field
    if args.gate_field is not None:
        raise ParameterError("give --gate-field (MV/m) or the deprecated --field (V/Å), not both")
    warnings.warn("--field (V/Å) is deprecated for `tbspin slab`; use --gate-field in MV/m "
                  f"(--field {args.field:g} = --gate-field {args.field * 1e4:g})",
                  DeprecationWarning, stacklevel=2)
    return args.field * 1e4


def run_slab(args: argparse.Namespace | Sequence[str]) -> SlabJobResult:
    """``tbspin slab`` from parsed arguments or an argument list (see :func:`tbspin.cli.jobs.run_slab`)."""
    from tbspin.cli.jobs import run_slab as job

    if not isinstance(args, argparse.Namespace):
        p = argparse.ArgumentParser(prog="tbspin slab")
        _add_model_args(p)
        args = add_slab_arguments(p).parse_args(list(args))
    return job(
        load_model(args), direction=args.direction, n_layers=args.n_layers,
        surface_layers=args.surface_layers, n_occupied=args.n_occupied, m=args.m,
        magnetic_top=args.magnetic_top, gate_field=_slab_gate_field(args), path=args.path,
        npoints=args.npoints, kmax=args.kmax, sweep_mz=args.sweep_mz,
        sweep_layers=args.sweep_layers, out=args.out,
        progress=False if args.no_progress else None, force=args.force,
    )


def cmd_slab(args: argparse.Namespace) -> int:
    """``tbspin slab``."""
    out = run_slab(args)
    print("\n".join(out.summary + [f"wrote {f}" for f in out.files]))
    return EXIT_OK


# ---------------------------------------------------------------------- parser
def _sub(
    sub: argparse._SubParsersAction, name: str, *, help: str, description: str,
    epilog: str = EPILOG,
) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description, epilog=epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def add_shc_parser(sub: argparse._SubParsersAction) -> None:
    """``tbspin shc``."""
    p = _sub(sub, "shc", help="spin Hall conductivity σ^l_ij vs Fermi energy",
             description="Spin Hall conductivity σ^l_ij (spin l, current i, electric field j) "
                         "over the full BZ.\n" + FORMULA_HELP)
    _add_model_args(p)
    p.add_argument("--spin", default="z", help="spin component l: x, y, z, all or an operator name; "
                   "any 'all' computes those tensor components from one pass [z]")
    p.add_argument("--current", default="x", choices=[*"xyz", "all"], help="current direction i [x]")
    p.add_argument("--efield", "--field", dest="efield", default="y", choices=[*"xyz", "all"],
                   help="electric-field direction j (--field is an alias) [y]")
    p.add_argument("--formula", default="proper", choices=["proper", "conventional", "smm_omega"],
                   help=FORMULA_HELP)
    p.add_argument("--eta", type=float, default=0.0,
                   help="Kubo broadening (eV); only with --formula conventional [0]")
    p.add_argument("--unit", default=None, metavar="UNIT",
                   help="output unit of the table, JSON (values_in_requested_unit) and figure: "
                        + unit_choices("shc"))
    _add_integration_args(p)
    p.set_defaults(func=cmd_shc)


def add_ahc_parser(sub: argparse._SubParsersAction) -> None:
    """``tbspin ahc``."""
    p = _sub(sub, "ahc", help="anomalous Hall conductivity vs Fermi energy",
             description="Anomalous Hall conductivity σ_ij = −(e²/ħ)∫ f Ω^ij.",
             epilog=AHC_EPILOG)
    _add_model_args(p)
    p.add_argument("--component", default="xy", help="σ_ij, e.g. xy [xy]")
    p.add_argument("--unit", default=None, metavar="UNIT",
                   help="output unit of the table, JSON and figure: " + unit_choices("ahc"))
    _add_integration_args(p, kind="ahc")
    p.set_defaults(func=cmd_ahc)


def add_models_parser(sub: argparse._SubParsersAction) -> None:
    """``tbspin models``."""
    p = _sub(sub, "models", help="list the built-in models (-v: parameters with units, sources)",
             description="The built-in models of the registry (tbspin.models.registry): name and "
                         "one line each; with -v also the literature source and every parameter "
                         "with its unit (set them with --param NAME=VALUE).")
    p.add_argument("--verbose", "-v", action="store_true", help="show parameters, units, sources")
    p.set_defaults(func=cmd_models)


def add_demo_parser(sub: argparse._SubParsersAction) -> None:
    """``tbspin demo``."""
    p = _sub(sub, "demo", help="the main job: Bi2Se3 proper vs conventional spin Hall",
             description="Proper and conventional spin Hall conductivity σ^y_zx of regularized "
                         "Bi₂Se₃ (Liu 2010 parameters, 1 meV magnetization along z) for 26 Fermi "
                         "energies from the gap into the conduction band: a table, two JSON "
                         "files and a figure in --out.")
    p.add_argument("--out", default="results", help="output directory [results]")
    p.add_argument("--mesh", type=int, default=60, help="k-points per direction [60]")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--force", action="store_true", help="overwrite earlier demo files in --out")
    p.set_defaults(func=cmd_demo)


def add_slab_parser(sub: argparse._SubParsersAction) -> None:
    """``tbspin slab``."""
    p = _sub(sub, "slab", help="slab/ribbon: surface bands and the magnetic surface gap",
             description="A slab (ribbon for 2D models) of N layers along one lattice vector: "
                         "bands coloured by the weight on the top/bottom layers, the surface-state "
                         "gap at Γ, and optional sweeps of the gap over m_z and over N.")
    _add_model_args(p)
    add_slab_arguments(p)
    p.set_defaults(func=cmd_slab)


def _optional(module: str) -> Callable[[argparse._SubParsersAction], None] | None:
    """``add_parser`` of an optional sub-package (None when it is absent)."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise
    return getattr(mod, "add_parser", None)


#: the subcommands: ``add_parser(subparsers)`` functions, or module names of optional ones
SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None] | str, ...] = (
    add_shc_parser, add_ahc_parser, add_slab_parser, add_models_parser, add_demo_parser,
    "tbspin.reproduce", "tbspin.analysis.diagnose", "tbspin.cli.compute",
)


def build_parser(
    subcommands: Sequence[Callable[[argparse._SubParsersAction], None] | str] = SUBCOMMANDS,
) -> argparse.ArgumentParser:
    """The ``tbspin`` parser with the given subcommands."""
    parser = argparse.ArgumentParser(
        prog="tbspin",
        description="Berry curvature, anomalous Hall and (proper) spin Hall conductivities of "
                    "tight-binding models: built-in k·p-regularized models, PythTB/Kwant models "
                    "and Wannier90 Hamiltonians.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tbspin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in subcommands:
        fn = _optional(add) if isinstance(add, str) else add
        if fn is not None:
            fn(sub)
    return parser


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: object = None, line: str | None = None) -> None:
    """Warnings on the command line: one clean line, no source path or code line."""
    text = str(message).strip().replace("\n", " ")
    print(f"tbspin: warning ({category.__name__}): {text}", file=sys.stderr)


def _exit_status(exc: BaseException) -> int:
    """2 for a bad option or parameter value (ParameterError, or a plain ValueError raised while
    checking a value), 1 for a failed computation (any other TbspinError, OSError, or an error
    whose class says so with ``cli_exit_status``, e.g. no surface states in a valid slab)."""
    status = getattr(exc, "cli_exit_status", None)
    if isinstance(status, int):
        return status
    if isinstance(exc, ParameterError):
        return EXIT_USAGE
    if isinstance(exc, TbspinError) or isinstance(exc, OSError):
        return EXIT_FAILURE
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tbspin`` command; returns the exit status (see :data:`EPILOG`)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit with 2 through argparse
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    old_show = warnings.showwarning
    warnings.showwarning = _one_line_warning
    terminated: list[int] = []
    old_term = on_sigterm(terminated)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", DeprecationWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    module=r"(kwant|pythtb|ase|matplotlib)\b")
            return args.func(args)
    except KeyboardInterrupt as exc:
        how = "terminated (SIGTERM)" if terminated else "interrupted (Ctrl-C)"
        detail = f": {exc}" if str(exc) else ": nothing was saved (no --checkpoint)"
        print(f"tbspin: {how}{detail}", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except (TbspinError, ValueError, OSError) as exc:  # one line, no traceback
        kind = "output error" if isinstance(exc, OutputError) else "error"
        print(f"tbspin: {kind}: {exc}", file=sys.stderr)
        return _exit_status(exc)
    finally:
        warnings.showwarning = old_show
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["main", "build_parser", "parse_energies", "parse_params", "run_slab", "SUBCOMMANDS",
           "EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_TERMINATED"]
