"""Command-line interface: ``tbspin shc``, ``tbspin ahc``, ``tbspin slab``, ``tbspin models``,
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
import functools
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
            d = int(round(np.sqrt(len(vals))))
            if d * d != len(vals) or d not in (2, 3):
                raise SystemExit("tbspin: --lattice needs 9 (or 4) comma-separated numbers: the "
                                 "lattice vectors a1, a2, a3 as rows, in Å")
            kw["lattice"] = np.array(vals).reshape(d, d)
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
                   help="lattice vectors as rows (Å; 9 numbers, or 4 in 2D) if no .win/_tb.dat "
                        "is next to the hr file")


def _add_integration_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--efermi", type=parse_energies, default=np.array([0.0]),
                   help="Fermi energies (eV): START:STOP:N, list, or number [0]")
    p.add_argument("--mesh", type=int, nargs="+", default=[40],
                   help="k-points per periodic direction (one or one per direction) [40]")
    p.add_argument("--converge", type=int, nargs="+", default=None, metavar="N",
                   help="convergence study: repeat on the meshes N1 N2 ... (points per "
                        "direction) and print the values with the relative change per step")
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
        import matplotlib.pyplot as plt

        from .plotting import plot_conductivity

        plt.close(plot_conductivity(result, save=stem.with_suffix(".png")))
    print(f"wrote {stem}.json, {stem}.npz" + (f", {stem}.png" if len(result.efermi) > 1 else ""))


# ---------------------------------------------------------------------- commands
def cmd_shc(args: argparse.Namespace) -> int:
    from .observables import spin_hall

    model = load_model(args)
    compute = functools.partial(
        spin_hall, model, efermi=args.efermi, shift=args.shift, spin=args.spin,
        current=args.current, field=args.field, formula=args.formula, method=args.method,
        gauge=args.gauge, temperature=args.temperature, eta=args.eta,
        progress=not args.no_progress,
    )
    stem = _output_stem(args.out, f"shc_{model.name}_{args.spin}{args.current}{args.field}")
    return _run(compute, args, stem)


def _run(compute: Any, args: argparse.Namespace, stem: Path | None) -> int:
    """One calculation, or a convergence study when --converge is given; print and write."""
    from .convergence import mesh_study
    from .io.atomic import atomic_write

    if args.converge:
        table = mesh_study(compute, args.converge, unit=args.unit)
        print(table.to_text())
        res = table.results[-1]
        if stem is not None:
            stem.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(Path(f"{stem}_convergence.txt"), table.to_text() + "\n")
    else:
        res = compute(mesh=args.mesh, checkpoint=args.checkpoint)
        print(res.table(args.unit or res.unit))
    _write(res, stem)
    return 0


def cmd_ahc(args: argparse.Namespace) -> int:
    from .observables import anomalous_hall

    model = load_model(args)
    compute = functools.partial(
        anomalous_hall, model, efermi=args.efermi, shift=args.shift, component=args.component,
        method=args.method, gauge=args.gauge, temperature=args.temperature,
        progress=not args.no_progress,
    )
    return _run(compute, args, _output_stem(args.out, f"ahc_{model.name}_{args.component}"))


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
    import matplotlib.pyplot as plt

    from .plotting import plot_conductivities

    plt.close(plot_conductivities(
        results, save=out / "demo_bi2se3_shc.png",
        title=f"Bi$_2$Se$_3$ (4-band, regularized), $m_z$ = 1 meV, mesh {args.mesh}$^3$"))
    print(f"wrote {out}/demo_bi2se3_shc_proper.json, ..._conventional.json, demo_bi2se3_shc.png")
    return 0


def add_slab_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``tbspin slab`` (besides the model options)."""
    p.add_argument("--direction", type=int, default=None,
                   help="lattice vector along which the slab is finite [last]")
    p.add_argument("--layers", type=int, default=30, help="number of layers N [30]")
    p.add_argument("--surface-layers", type=int, default=2,
                   help="layers per surface counted in the surface weight [2]")
    p.add_argument("--n-occupied", type=float, default=None,
                   help="occupied bands per bulk cell [half the bands]")
    p.add_argument("--m", type=float, nargs=3, default=(0.0, 0.0, 0.0), metavar=("MX", "MY", "MZ"),
                   help="exchange vector m (eV) coupled as m·s [0 0 0]")
    p.add_argument("--magnetic-top", type=int, default=None, metavar="K",
                   help="put m only on the K top layers [all layers]")
    p.add_argument("--field", type=float, default=0.0,
                   help="perpendicular electric field (V/Å); electron energy +eF(z − z_c)")
    p.add_argument("--path", default=None, help="k-path in ase labels, e.g. GKMG [ase default]")
    p.add_argument("--npoints", type=int, default=200, help="points on the k-path [200]")
    p.add_argument("--kmax", type=float, default=None,
                   help="zoom the path on Γ: |k| <= KMAX (1/Å) [0.15 for 3D bulks]")
    p.add_argument("--sweep-mz", type=float, nargs=3, default=None, metavar=("A", "B", "N"),
                   help="also sweep m_z from A to B (eV) in N steps: gap vs m_z figure")
    p.add_argument("--sweep-layers", type=int, nargs=2, default=None, metavar=("A", "B"),
                   help="also sweep N from A to B: gap vs N figure (log scale)")
    p.add_argument("--out", type=Path, default=Path("results/slab"), help="output folder")
    return p


def run_slab(args: argparse.Namespace | Sequence[str]) -> dict[str, Any]:
    """The ``tbspin slab`` job: bands coloured by surface weight, the surface gap at Γ and the
    optional sweeps; figures and ``summary.txt`` go to ``args.out``.

    Returns
    -------
    dict
        ``{"gap": SurfaceGap, "files": [...], "summary": [lines], "sweep_m": ..., "sweep_n": ...}``
    """
    import matplotlib.pyplot as plt

    from .io.atomic import atomic_write
    from .plotting import plot_gap_vs_magnetization, plot_gap_vs_thickness, plot_slab_bands
    from .slab import (
        exchange_on_layers,
        gap_vs_magnetization,
        gap_vs_thickness,
        make_slab,
        surface_gap,
    )

    if not isinstance(args, argparse.Namespace):
        p = argparse.ArgumentParser(prog="tbspin slab")
        _add_model_args(p)
        args = add_slab_arguments(p).parse_args(list(args))
    bulk = load_model(args)
    direction = bulk.dim - 1 if args.direction is None else args.direction
    N = args.layers
    m = np.asarray(args.m, dtype=float)
    mag_layers = None if args.magnetic_top is None else range(N - args.magnetic_top, N)
    onsite = exchange_on_layers(bulk, m, mag_layers) if np.any(m) else None
    slab = make_slab(bulk, direction=direction, layers=N, layer_onsite=onsite, field=args.field)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    surface = "top" if args.magnetic_top is not None else "both"
    gap = surface_gap(slab, n_surface_layers=args.surface_layers, surface=surface,
                      n_occupied=args.n_occupied)
    kmax = args.kmax if args.kmax is not None else (0.15 if bulk.dim == 3 else None)
    kp = slab.kpath(args.path, args.npoints, kmax=kmax)
    files = [out_dir / "slab_bands.png"]
    plt.close(plot_slab_bands(slab, kp, n_surface_layers=args.surface_layers,
                              reference_energy=gap.dirac_energy, energy_window=(-0.5, 0.5),
                              save=files[0]))
    lines = [
        f"model: {bulk.name}; slab along a{direction} with {N} layers; m = {m.tolist()} eV"
        + ("" if mag_layers is None else f" on the top {args.magnetic_top} layers")
        + f"; field {args.field} V/Å",
        f"surface gap at Γ ({surface}): {gap.gap * 1e3:.4f} meV; Dirac/mid-gap energy "
        f"{gap.dirac_energy:.5f} eV; bulk edges {gap.bulk_edges.tolist()} eV; "
        f"surface weights (top, bottom) {gap.weights.round(3).tolist()}",
    ]
    out: dict[str, Any] = {"gap": gap, "files": files}
    if args.sweep_mz is not None:
        a, b, n = args.sweep_mz
        sw = gap_vs_magnetization(bulk, np.linspace(a, b, int(n)), direction=direction,
                                  layers=N, magnetic_layers=mag_layers, surface=surface,
                                  n_surface_layers=args.surface_layers,
                                  n_occupied=args.n_occupied)
        files.append(out_dir / "gap_vs_mz.png")
        plt.close(plot_gap_vs_magnetization(sw, save=files[-1]))
        lines.append(f"gap vs m_z: slope {sw.slope:.5f}, intercept {sw.intercept:.3e} eV, "
                     f"rms residual {sw.residual:.3e} eV")
        out["sweep_m"] = sw
    if args.sweep_layers is not None:
        a, b = args.sweep_layers
        sn = gap_vs_thickness(bulk, range(a, b + 1), direction=direction,
                              n_occupied=args.n_occupied)
        files.append(out_dir / "gap_vs_layers.png")
        plt.close(plot_gap_vs_thickness(sn, save=files[-1]))
        lines.append(f"gap vs N: decay {sn.decay_per_layer:.4f} per layer, "
                     f"log rms residual {sn.log_residual:.3f}")
        out["sweep_n"] = sn
    files.append(atomic_write(out_dir / "summary.txt", "\n".join(lines) + "\n"))
    out["summary"] = lines
    return out


def cmd_slab(args: argparse.Namespace) -> int:
    out = run_slab(args)
    print("\n".join(out["summary"] + [f"wrote {f}" for f in out["files"]]))
    return 0


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

    p = sub.add_parser(
        "slab", help="Kwant slab/ribbon: surface bands and the magnetic surface gap",
        description="A slab (ribbon for 2D models) of N layers along one lattice vector: bands "
                    "coloured by the weight on the top/bottom layers, the surface-state gap at Γ, "
                    "and optional sweeps of the gap over m_z and over N.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_model_args(p)
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


__all__ = ["main", "build_parser", "parse_energies", "parse_params", "run_slab"]
