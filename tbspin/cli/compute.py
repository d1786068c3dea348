"""``tbspin compute OBSERVABLE``: any registered observable record, whole tensors from one pass.

The observables and their formulas, indices and units come from the registry
(:mod:`tbspin.observables.base`): a new record module appears here without touching this file.
"""

from __future__ import annotations

import argparse
import functools

from tbspin.cli.app import EXIT_OK, _add_integration_args, _add_model_args, _symmetrize, load_model
from tbspin.cli.support import check_cli_options, check_unit, record
from tbspin.errors import ParameterError

__all__ = ["add_parser", "cmd_compute"]


def parse_option(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` of a record option (numbers only on the command line, e.g. gamma=0.01)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}: expected a number, got {value!r}") from None


def cmd_compute(args: argparse.Namespace) -> int:
    """``tbspin compute``."""
    from tbspin.cli.jobs import output_stem, parallel_options, run_conductivity
    from tbspin.observables import compute, get

    rec = get(args.observable)
    if args.converge:
        raise ParameterError("--converge repeats one component on several meshes; for a tensor "
                             "use --tol (every component gets an error bar) or --mesh")
    check_cli_options(args)
    model, sym = _symmetrize(args, load_model(args))
    check_unit(args.unit, rec.kind, model)
    run = functools.partial(
        compute, model, args.observable, efermi=args.efermi, shift=args.shift,
        components=args.components, formula=args.formula, method=args.method, gauge=args.gauge,
        temperature=args.temperature, eta=args.eta, progress=not args.no_progress, tol=args.tol,
        budget=args.budget, seed=args.seed, budget_k=args.budget_k, errors=not args.no_errors,
        options=dict(args.option or ()), converge_at=args.converge_at,
        refine_gap=args.refine_gap,
        symmetry=None if args.symmetry == "none" else args.symmetry,
    )
    stem = output_stem(args.out, f"{rec.name}_{model.name}")
    with parallel_options(args.workers, args.scheduler) as par:
        run_conductivity(functools.partial(run, **par), mesh=args.mesh, converge=None,
                         checkpoint=args.checkpoint, unit=args.unit, stem=stem,
                         record=record(args, sym), force=args.force)
    return EXIT_OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    """``tbspin compute`` with one choice per registered observable."""
    from tbspin.observables import available, get

    lines = [f"  {n}: {get(n).title}; indices {', '.join(get(n).indices)}; formulas "
             f"{', '.join(get(n).formulas)}" for n in available()]
    p = sub.add_parser(
        "compute", help="any observable (ahc, shc, spin_density, ...): whole tensors in one pass",
        description="Compute the components of a registered observable from one eigensystem "
                    "per k-point (tbspin.compute).\n\nobservables:\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("observable", choices=available(), help="the observable record")
    _add_model_args(p)
    p.add_argument("--components", default="all",
                   help="components as index letters in the record's index order, comma "
                        "separated (shc: 'zxy,xyz' = σ^z_xy, σ^x_yz; spin_density: 'yx') or "
                        "'all' (every component that does not vanish identically) [all]")
    p.add_argument("--formula", default=None,
                   help="one of the record's formulas (listed above) [its first]")
    p.add_argument("--eta", type=float, default=0.0,
                   help="Kubo broadening (eV) of the conventional / intrinsic formulas [0]")
    p.add_argument("--option", type=parse_option, action="append", metavar="NAME=VALUE",
                   help="record option, e.g. gamma=0.01 (spin_density Fermi-surface broadening, "
                        "eV); repeat for several [none]")
    p.add_argument("--unit", default=None, metavar="UNIT",
                   help="output unit (the record's unit table) [its canonical unit]")
    p.add_argument("--symmetry", choices=("none", "auto"), default="none",
                   help="'auto': the crystal's (magnetic) space group from the model's structure "
                        "(.win/POSCAR): with --mesh an irreducible-wedge integral, with --tol a "
                        "star average at every sampled k; the model must commute with the "
                        "group: with --symmetrize the whole group is restored first [none]")
    _add_integration_args(p)
    p.set_defaults(func=cmd_compute)
