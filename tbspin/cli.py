"""Command-line interface: ``tbspin shc``, ``tbspin ahc``, ``tbspin models``, ``tbspin slab``,
``tbspin demo``.

Examples
--------
Proper spin Hall conductivity σ^y_zx of regularized Bi₂Se₃ with a 1 meV magnetization along z::

    tbspin shc --model bi2se3 --param magnetization=0,0,0.001 --spin y --current z --field x \\
        --efermi=-0.3:0.3:61 --mesh 40 --out results/bi2se3

The same for a Wannier90 Hamiltonian (spinor Wannier functions, all ↑ then all ↓)::

    tbspin shc --hr path/seedname_hr.dat --spin-order block --efermi 4.4195 --mesh 30
"""

from __future__ import annotations

import argparse
import inspect
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__

log = logging.getLogger("tbspin")

EPILOG = """\
conventions: energies eV, lengths Å, k in 1/Å; spin operators in units of ħ/2.
σ^l_ij: spin l, current i, field j (J^l_i = σ^l_ij E_j). 3D results in (ħ/2e) S/m
(also (ħ/e) S/cm), 2D in e/8π. AHC: S/cm (3D), e²/h (2D), σ_xy = −(e²/ħ)∫Ω^xy.
See docs/conventions.md.
"""


# ---------------------------------------------------------------------- helpers
def parse_energies(text: str) -> np.ndarray:
    """Parse ``"a:b:n"`` (n points from a to b), ``"e1,e2,..."`` or a single number (eV)."""
    try:
        if ":" in text:
            a, b, n = text.split(":")
            if int(n) < 1:
                raise ValueError
            return np.linspace(float(a), float(b), int(n))
        return np.array([float(x) for x in text.split(",") if x.strip()], dtype=float)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--efermi {text!r}: use START:STOP:N, a comma-separated list, or one number (eV)"
        ) from None


def parse_value(text: str) -> Any:
    """Model parameter values: numbers, comma-separated vectors, or strings."""
    parts = text.split(",")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        return text
    return vals[0] if len(vals) == 1 else vals


def parse_params(items: Sequence[str] | None) -> dict[str, Any]:
    """``["key=value", ...]`` → dict with :func:`parse_value` values."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"tbspin: --param {item!r} must look like name=value")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value.strip())
    return out


def builtin_models() -> dict[str, Any]:
    """Model constructors of the catalogue, by name."""
    from . import models

    return {name: getattr(models, name) for name in models.__all__
            if callable(getattr(models, name)) and not name.endswith(("_kp", "_info"))
            and name not in ("model_forms",) and not name.isupper()}


def load_model(args: argparse.Namespace):
    """Build the model named on the command line (built-in or Wannier90 file)."""
    from .model import LatticeModel

    params = parse_params(getattr(args, "param", None))
    if getattr(args, "hr", None):
        kw: dict[str, Any] = {}
        if args.spin_order:
            kw["spin_order"] = args.spin_order
        if args.lattice:
            vals = [float(x) for x in args.lattice.split(",")]
            if len(vals) != 9:
                raise SystemExit("tbspin: --lattice needs 9 comma-separated numbers (a1, a2, a3 in Å)")
            kw["lattice"] = np.array(vals).reshape(3, 3)
        kw.update(params)
        return LatticeModel.from_wannier90(args.hr, **kw)
    catalogue = builtin_models()
    if args.model not in catalogue:
        raise SystemExit(f"tbspin: unknown model {args.model!r}; choose from {sorted(catalogue)}")
    fn = catalogue[args.model]
    try:
        return fn(**params)
    except TypeError as exc:
        sig = inspect.signature(fn)
        raise SystemExit(f"tbspin: bad --param for {args.model}: {exc}; parameters: {sig}") from None


def _add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model (one of --model or --hr)")
    g.add_argument("--model", default="bi2se3", help="built-in model name (see `tbspin models`)")
    g.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="model parameter, repeatable (vectors as 0,0,0.001)")
    g.add_argument("--hr", metavar="PATH", help="Wannier90 seedname_hr.dat or _tb.dat (or prefix)")
    g.add_argument("--spin-order", choices=["block", "interleaved"],
                   help="spinor order of the Wannier functions: block = all ↑ then all ↓ "
                        "(VASP5, WannierTools); interleaved = ↑↓ per orbital (QE, VASP6)")
    g.add_argument("--lattice", metavar="A1x,A1y,...,A3z",
                   help="lattice vectors (Å) if no .win/_tb.dat next to the hr file")


def _add_integration_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--efermi", type=parse_energies, default=np.array([0.0]),
                   help="Fermi energies (eV): START:STOP:N, list, or number [0]")
    p.add_argument("--mesh", type=int, nargs="+", default=[40],
                   help="k-points per periodic direction (one or one per direction) [40]")
    p.add_argument("--shift", type=float, nargs="+", default=[0.0],
                   help="mesh shift in units of the mesh step [0]")
    p.add_argument("--method", choices=["kubo", "fd"], default="kubo",
                   help="Berry connection: sum over states (kubo) or finite differences (fd)")
    p.add_argument("--gauge", default=None,
                   help="gauge operator inside degenerate bands: x, y, z, none or an operator "
                        "name [default: magnetization direction, else the spin component]")
    p.add_argument("--temperature", type=float, default=0.0, help="temperature in K [0]")
    p.add_argument("--out", type=Path, default=None,
                   help="write OUT.json, OUT.npz and OUT.png (a directory gets a default name)")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="checkpoint file: partial sums are saved there and a rerun resumes")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _output_stem(out: Path | None, default: str) -> Path | None:
    if out is None:
        return None
    if out.suffix == "" and (out.is_dir() or str(out).endswith("/")):
        return out / default
    if out.exists() and out.is_dir():
        return out / default
    return out.with_suffix("") if out.suffix in (".json", ".npz", ".png") else out


def _write(result, stem: Path | None) -> None:
    if stem is None:
        return
    result.to_json(stem.with_suffix(".json"))
    result.to_npz(stem.with_suffix(".npz"))
    if len(result.efermi) > 1:
        plot_result(result, stem.with_suffix(".png"))
    print(f"wrote {stem}.json, {stem}.npz" + (f", {stem}.png" if len(result.efermi) > 1 else ""))


def plot_result(result, path: Path, unit: str | None = None) -> Path:
    """Plot a conductivity against Fermi energy and save it (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io.atomic import save_figure

    unit = unit or result.unit
    fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
    ax.plot(result.efermi, result.to(unit), "-o", ms=2.5)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel(r"$E_F$ (eV)")
    ax.set_ylabel(f"{result.label} ({unit})")
    ax.set_title(f"{result.model}: {result.formula}, mesh {'x'.join(map(str, result.mesh))}",
                 fontsize=9)
    save_figure(fig, path, dpi=130)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------- commands
def cmd_shc(args: argparse.Namespace) -> int:
    from .observables import spin_hall

    model = load_model(args)
    res = spin_hall(
        model, efermi=args.efermi, mesh=args.mesh, shift=args.shift, spin=args.spin,
        current=args.current, field=args.field, formula=args.formula, method=args.method,
        gauge=args.gauge, temperature=args.temperature, eta=args.eta,
        progress=not args.no_progress, checkpoint=args.checkpoint,
    )
    unit = args.unit or res.unit
    print(res.table(unit))
    _write(res, _output_stem(args.out, f"shc_{model.name}_{args.spin}{args.current}{args.field}"))
    return 0


def cmd_ahc(args: argparse.Namespace) -> int:
    from .observables import anomalous_hall

    model = load_model(args)
    res = anomalous_hall(
        model, efermi=args.efermi, mesh=args.mesh, shift=args.shift, component=args.component,
        method=args.method, gauge=args.gauge, temperature=args.temperature,
        progress=not args.no_progress, checkpoint=args.checkpoint,
    )
    print(res.table(args.unit or res.unit))
    _write(res, _output_stem(args.out, f"ahc_{model.name}_{args.component}"))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    for name, fn in sorted(builtin_models().items()):
        doc = (inspect.getdoc(fn) or "").splitlines()
        print(f"{name:12s} {doc[0] if doc else ''}")
        if args.verbose:
            print(f"{'':12s} parameters: {inspect.signature(fn)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Main job: proper vs conventional spin Hall conductivity of regularized Bi₂Se₃."""
    from . import models
    from .observables import spin_hall

    out = Path(args.out)
    model = models.bi2se3(magnetization=(0.0, 0.0, 1e-3))
    print(model)
    print("proper spin Hall conductivity sigma^y_zx of Bi2Se3 (Liu 2010 parameters, m = 1 meV ∥ z)")
    efermi = np.linspace(-0.05, 0.45, 26)  # gap (valence top -0.072 eV) and conduction band
    results = {}
    for formula in ("proper", "conventional"):
        results[formula] = spin_hall(
            model, efermi=efermi, mesh=args.mesh, spin="y", current="z", field="x",
            formula=formula, progress=not args.no_progress,
        )
    p, c = results["proper"], results["conventional"]
    print(f"mesh {args.mesh}^3, gauge: {p.gauge}")
    print(f"{'E_F (eV)':>9s} {'proper':>14s} {'conventional':>14s}   [(hbar/2e) S/m]")
    for e, a, b in zip(efermi, p.values, c.values, strict=True):
        print(f"{e:9.3f} {a:14.2f} {b:14.2f}")
    out.mkdir(parents=True, exist_ok=True)
    for name, r in results.items():
        r.to_json(out / f"demo_bi2se3_shc_{name}.json")
    _plot_demo(results, out / "demo_bi2se3_shc.png")
    print(f"wrote {out}/demo_bi2se3_shc_proper.json, ..._conventional.json, demo_bi2se3_shc.png")
    return 0


def _plot_demo(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io.atomic import save_figure

    fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    for name, r in results.items():
        ax.plot(r.efermi, r.values, "-o", ms=2.5, label=name)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel(r"$E_F$ (eV)")
    ax.set_ylabel(r"$\sigma^y_{zx}$ ($\hbar/2e$ S/m)")
    ax.set_title("Bi$_2$Se$_3$ (4-band, regularized), $m_z$ = 1 meV", fontsize=10)
    ax.legend()
    save_figure(fig, path, dpi=130)
    plt.close(fig)


def cmd_slab(args: argparse.Namespace) -> int:
    from .slab import run_slab_cli

    return int(run_slab_cli(args) or 0)


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tbspin",
        description="Berry curvature, anomalous Hall and (proper) spin Hall conductivities of "
                    "tight-binding models: built-in k·p-regularized models, PythTB/Kwant models "
                    "and Wannier90 Hamiltonians.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tbspin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "shc", help="spin Hall conductivity sigma^l_ij vs Fermi energy",
        description="Spin Hall conductivity σ^l_ij (spin l, current i, field j) over the full BZ. "
                    "'proper' is the conserved spin current of Liu, Cullen & Culcer, PRB 108, "
                    "195434 (2023); 'conventional' the ½{s,v} Kubo formula (Wannier90's SHC).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_args(p)
    p.add_argument("--spin", default="z", help="spin component l: x, y, z or an operator name [z]")
    p.add_argument("--current", default="x", choices=list("xyz"), help="current direction i [x]")
    p.add_argument("--field", default="y", choices=list("xyz"), help="field direction j [y]")
    p.add_argument("--formula", default="proper", choices=["proper", "conventional", "smm_omega"])
    p.add_argument("--eta", type=float, default=0.0, help="Kubo broadening (eV), conventional only")
    p.add_argument("--unit", default=None, help="output unit, e.g. '(hbar/e) S/cm' or e/2pi")
    _add_integration_args(p)
    p.set_defaults(func=cmd_shc)

    p = sub.add_parser("ahc", help="anomalous Hall conductivity vs Fermi energy",
                       description="Anomalous Hall conductivity σ_ij = −(e²/ħ)∫ f Ω^ij.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_args(p)
    p.add_argument("--component", default="xy", help="σ_ij, e.g. xy [xy]")
    p.add_argument("--unit", default=None, help="output unit, e.g. S/m or S")
    _add_integration_args(p)
    p.set_defaults(func=cmd_ahc)

    p = sub.add_parser("models", help="list built-in models")
    p.add_argument("--verbose", "-v", action="store_true", help="show parameters")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("demo", help="the main job: Bi2Se3 proper vs conventional spin Hall")
    p.add_argument("--out", default="results", help="output directory [results]")
    p.add_argument("--mesh", type=int, default=60, help="k-points per direction [60]")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_demo)

    try:
        from .slab import add_slab_arguments
    except ImportError:  # pragma: no cover - slab module without CLI hooks
        add_slab_arguments = None
    if add_slab_arguments is not None:
        p = sub.add_parser("slab", help="Kwant slab/ribbon: surface bands and magnetic gap",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        add_slab_arguments(p)
        p.set_defaults(func=cmd_slab)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tbspin`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:  # user errors: one clear line, no traceback
        print(f"tbspin: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["main", "build_parser", "parse_energies", "parse_params", "plot_result"]
