"""Helpers of the command line kept out of :mod:`tbspin.cli.app` (which only parses): options that
would be ignored together, the run record of a command line, the ``--unit`` choices for the help,
and SIGTERM handled like Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tbspin.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from tbspin.model.lattice import LatticeModel

__all__ = ["AHC_CONVENTIONS", "parse_energies", "parse_tol", "model_record", "check_cli_options",
           "check_unit", "record", "unit_choices", "on_sigterm"]

#: the conventions part of ``tbspin ahc --help`` (no spin Hall conventions)
AHC_CONVENTIONS = """\
conventions: energies eV, lengths Å, k in 1/Å. σ_ij: current i, electric field j,
σ_xy = −(e²/ħ)∫ d^pk/(2π)^p Σ f Ω^xy; S/cm (3D, also S/m), e²/h (2D, also S).
See docs/conventions.md.
"""


def parse_energies(text: str) -> np.ndarray:
    """Parse ``"a:b:n"`` (n points from a to b), ``"e1,e2,..."`` or a single number (eV)."""
    bad = argparse.ArgumentTypeError(
        f"--efermi {text!r}: use START:STOP:N, a comma-separated list, or one number (eV)")
    parts = text.split(":") if ":" in text else [x for x in text.split(",") if x.strip()]
    try:
        nums = [float(x) for x in parts]
    except ValueError:
        raise bad from None
    if ":" in text:
        if len(nums) != 3 or nums[2] != int(nums[2]) or nums[2] < 1:
            raise bad
        return np.linspace(nums[0], nums[1], int(nums[2]))
    if not nums:
        raise bad
    return np.array(nums, dtype=float)


def parse_tol(text: str) -> float | list[float]:
    """``--tol``: one relative tolerance, or one per component (``"0.02,0.05,0.05"``)."""
    try:
        nums = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        nums = []
    if not nums:
        raise argparse.ArgumentTypeError(
            f"--tol {text!r}: use one number (e.g. 0.02) or one per component (0.02,0.05,...)")
    return nums[0] if len(nums) == 1 and "," not in text else nums


def model_record(args: argparse.Namespace) -> dict[str, object]:
    """Where the model of this command line came from (for the result's run record)."""
    from tbspin.cli.app import parse_params

    params = parse_params(getattr(args, "param", None))
    if getattr(args, "hr", None):
        return {"hr": str(Path(args.hr).resolve()), "spin_order": args.spin_order,
                "lattice": args.lattice, "param": params}
    return {"model": args.model or "bi2se3", "param": params}


def check_cli_options(args: argparse.Namespace) -> None:
    """Options that would be ignored together are refused, naming both (usage errors)."""
    if args.tol is not None and args.converge:
        raise ParameterError("--tol and --converge both choose the k-sampling: --converge "
                             "repeats fixed meshes, --tol converges to an error bar; give one")
    no_errors = getattr(args, "no_errors", False)
    if args.tol is None:
        for option, value in (("--budget", args.budget), ("--budget-k", args.budget_k),
                              ("--converge-at", getattr(args, "converge_at", None))):
            if value is not None:
                raise ParameterError(f"{option} only acts in a --tol run; add --tol (e.g. "
                                     f"--tol 0.02) or drop {option}")
        if getattr(args, "refine_gap", None) is not None and (no_errors or args.shift is not None):
            raise ParameterError("--refine-gap without --tol is one gap-refined pass (random "
                                 "shifts of a fixed tree, their spread the error bar); drop "
                                 + ("--no-errors" if no_errors else "--shift")
                                 + " or --refine-gap")
        if args.seed is not None and no_errors:
            raise ParameterError("--seed fixes the random shifts of the error estimate; it has "
                                 "no effect with --no-errors (drop one of them)")
        if args.shift is not None and not no_errors:
            raise ParameterError("--shift fixes one plain mesh, but the default error estimate "
                                 "uses randomly shifted sub-meshes: add --no-errors or drop "
                                 "--shift")
        if args.checkpoint is not None and not no_errors:
            raise ParameterError("--checkpoint resumes one plain mesh: add --no-errors (older "
                                 "checkpoints of uniform runs resume that way), or use --tol "
                                 "for a converged run with error bars and a step journal")
    elif no_errors:
        raise ParameterError("--no-errors and --tol: a --tol run is its error bar; drop one")
    elif args.shift is not None:
        raise ParameterError("--shift has no effect with --tol (its meshes are randomly "
                             "shifted; --seed fixes them); drop one of them")


def check_unit(unit: str | None, kind: str, model: LatticeModel) -> None:
    """--unit must be a unit of this result (checked before computing)."""
    if unit is None:
        return
    from tbspin import units

    dim = len(model.periodic)
    avail = units.available_units(kind, dim)
    if unit not in avail:
        raise ParameterError(f"--unit {unit!r} is not a unit of this result; use one of "
                             f"{', '.join(repr(u) for u in avail)}")


def record(args: argparse.Namespace, symmetrize: dict[str, object] | bool) -> dict[str, object]:
    """The run record (:func:`tbspin.cli.runinfo.run_record`) of parsed command-line arguments."""
    from tbspin.cli.runinfo import run_record

    return run_record(getattr(args, "argv", sys.argv[1:]), model=model_record(args),
                      symmetrize=symmetrize)


def unit_choices(kind: str) -> str:
    """The --unit values of a result kind, for 3D and 2D models (listed in --help)."""
    from tbspin import units

    d3, d2 = (", ".join(repr(u) for u in units.available_units(kind, d)) for d in (3, 2))
    c3, c2 = (units.conversion_factor(kind, d)[1] for d in (3, 2))
    return f"3D models {d3}; 2D models {d2} [{c3} in 3D, {c2} in 2D]"


def on_sigterm(flag: list[int]) -> Callable[..., object] | int | None:
    """Make SIGTERM raise KeyboardInterrupt (so checkpoints are saved as on Ctrl-C) and note it
    in ``flag``; returns the previous handler (None when not on the main thread)."""
    def handler(signum: int, frame: object) -> None:
        flag.append(signum)
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave SIGTERM alone
        return None
