"""Jobs behind the command line: conductivity runs (``shc``/``ahc``, with mesh studies), the demo
and the slab job. :mod:`tbspin.cli.app` only parses arguments and calls these functions.

Output safety: every target path is checked *before* the computation (:func:`check_writable`:
an unwritable directory or a path below an existing file is an :class:`~tbspin.errors.OutputError`
at once), and when writing still fails at the end the result goes to a fallback file whose path
the error message gives (:func:`write_or_fallback`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tbspin.errors import OutputError, ParameterError
from tbspin.model.lattice import LatticeModel
from tbspin.results.conductivity import ConductivityResult
from tbspin.types import ArrayLike, PathLike

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from tbspin.slab import MagnetizationSweep, SurfaceGap, ThicknessSweep

__all__ = [
    "parallel_options",
    "check_writable",
    "write_or_fallback",
    "output_stem",
    "ordinal",
    "run_conductivity",
    "run_demo",
    "run_slab",
    "SlabJobResult",
]


# ---------------------------------------------------------------------- output safety
def check_writable(path: PathLike, what: str = "output") -> Path:
    """Check that a file can be created at ``path`` (without creating it or its folders).

    The nearest existing ancestor must be a directory in which a file can be created (a probe
    file is created and removed), and ``path`` itself must not be a directory.

    Raises
    ------
    OutputError
        Naming ``what`` (e.g. "--out"), the path and the reason.
    """
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{what} {p} is a directory; give a file name")
    parent = p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{what} {p} lies below {parent}, which is a file, not a folder; "
                          "choose another path")
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".tbspin-probe-")
    except OSError as exc:
        raise OutputError(f"{what} {p}: cannot create files in {parent} ({exc.strerror or exc}); "
                          "choose a writable folder") from None
    os.close(fd)
    os.unlink(probe)
    return p


def _fallback_path(path: Path) -> Path:
    return Path(tempfile.gettempdir()) / f"tbspin-fallback-{os.getpid()}-{path.name}"


def write_or_fallback(path: PathLike, write: Callable[[Path], object], what: str = "output") -> Path:
    """``write(path)``; if that fails, ``write(fallback)`` in the temporary folder and raise.

    Raises
    ------
    OutputError
        When ``path`` could not be written; the message says where the data went instead.
    """
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        write(p)
        return p
    except OSError as exc:
        fb = _fallback_path(p)
        try:
            write(fb)
        except OSError as exc2:
            raise OutputError(f"could not write {what} {p} ({exc}) nor the fallback {fb} "
                              f"({exc2})") from exc
        raise OutputError(f"could not write {what} {p} ({exc}); saved it to {fb} instead") from exc


def output_stem(out: PathLike | None, default: str) -> Path | None:
    """File stem for ``--out``: a directory (existing or ending in /) gets ``default`` inside."""
    if out is None:
        return None
    text = str(out)
    out = Path(out)
    if out.is_dir() or text.endswith(("/", os.sep)):
        return out / default
    return out.with_suffix("") if out.suffix in (".json", ".npz", ".png") else out


def ordinal(i: int) -> str:
    """1 → "1st", 2 → "2nd", 3 → "3rd"."""
    return f"{i}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(i if i < 20 else i % 10, 'th')}"


# ---------------------------------------------------------------------- conductivities
def _result_json(result: ConductivityResult, unit: str | None) -> str:
    d = result.to_dict()
    if unit is not None and unit != result.unit:
        d["requested_unit"] = unit
        d["values_in_requested_unit"] = result.to(unit).tolist()
        errs = result.errors_to(unit)
        d["errors_in_requested_unit"] = None if errs is None else errs.tolist()
    return json.dumps(d, indent=2, ensure_ascii=False)


def _write_result(result: ConductivityResult, stem: Path, unit: str | None) -> list[Path]:
    """JSON, NPZ (and PNG for several Fermi energies); each one that fails goes to a fallback
    file, and one OutputError at the end names them all."""
    import matplotlib.pyplot as plt

    from tbspin.cli.plotting import plot_conductivity
    from tbspin.io.atomic import atomic_write

    def png(p: Path) -> None:
        plt.close(plot_conductivity(result, unit=unit, save=p))

    writers: list[tuple[str, Callable[[Path], object], str]] = [
        (".json", lambda p: atomic_write(p, _result_json(result, unit)), "JSON"),
        (".npz", result.to_npz, "NPZ"),
    ]
    if len(result.efermi) > 1:
        writers.append((".png", png, "figure"))
    files, errors = [], []
    for suffix, write, what in writers:
        try:
            files.append(write_or_fallback(stem.with_suffix(suffix), write, what))
        except OutputError as exc:
            errors.append(str(exc))
    if errors:
        raise OutputError("; ".join(errors))
    return files


@contextlib.contextmanager
def parallel_options(workers: int | None = None, scheduler: str | None = None
                     ) -> Iterator[dict[str, object]]:
    """Keyword arguments ``workers``/``client`` for anomalous_hall/spin_hall from --workers and
    --scheduler; a scheduler ADDRESS (e.g. ``tcp://host:8786``) is connected as a
    ``dask.distributed.Client`` for the duration of the block and closed after."""
    if workers is not None and workers < 1:
        raise ParameterError(f"--workers must be a positive integer, got {workers}")
    if scheduler is None:
        yield {"workers": workers}
        return
    try:
        from distributed import Client
    except ImportError:
        from tbspin.errors import MissingDependencyError

        raise MissingDependencyError(
            "--scheduler needs dask.distributed: pip install 'tbspin[dask]'") from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ParameterError(f"--scheduler {scheduler!r}: cannot connect ({exc})") from None
    with client:
        yield {"workers": workers, "client": client}


def run_conductivity(
    compute: Callable[..., ConductivityResult],
    *,
    mesh: Sequence[int],
    converge: Sequence[int] | None = None,
    checkpoint: PathLike | None = None,
    unit: str | None = None,
    stem: Path | None = None,
    echo: Callable[[str], object] = print,
    record: dict[str, object] | None = None,
    force: bool = False,
) -> ConductivityResult:
    """One conductivity calculation, or a mesh study when ``converge`` is given; print and write.

    ``unit`` changes the printed table, the figure and adds ``values_in_requested_unit`` to the
    JSON. With ``converge`` and ``checkpoint`` every mesh N gets its own checkpoint file
    ``<checkpoint>.meshN``. Every output path is checked before computing; existing result
    files are refused unless ``force`` and the stem is locked while the run computes and writes
    (:mod:`tbspin.cli.outputs`). ``record`` (:func:`tbspin.cli.runinfo.run_record`) goes into the
    result's ``extras["run"]``.
    """
    from tbspin.cli.outputs import output_lock, refuse_existing

    if stem is None:
        return _run_conductivity(compute, mesh=mesh, converge=converge, checkpoint=checkpoint,
                                 unit=unit, stem=None, echo=echo, record=record)
    outputs = [stem.with_suffix(s) for s in (".json", ".npz", ".png")]
    if converge:
        outputs.append(Path(f"{stem}_convergence.txt"))
    for t in outputs:
        check_writable(t, "--out")
    with output_lock(stem):
        refuse_existing(outputs, force)
        return _run_conductivity(compute, mesh=mesh, converge=converge, checkpoint=checkpoint,
                                 unit=unit, stem=stem, echo=echo, record=record)


def _run_conductivity(
    compute: Callable[..., ConductivityResult], *, mesh: Sequence[int],
    converge: Sequence[int] | None, checkpoint: PathLike | None, unit: str | None,
    stem: Path | None, echo: Callable[[str], object], record: dict[str, object] | None,
) -> ConductivityResult:
    from tbspin.io.atomic import atomic_write
    from tbspin.results.convergence import mesh_study

    targets = [] if stem is None else [stem.with_suffix(s) for s in (".json", ".npz", ".png")]
    if stem is not None and converge:
        targets.append(Path(f"{stem}_convergence.txt"))
    if checkpoint is not None:
        targets.append(Path(checkpoint))
    for t in targets:
        check_writable(t, "--checkpoint" if t == checkpoint else "--out")
    if converge:
        def one(mesh: int | Sequence[int]) -> ConductivityResult:
            ck = None
            if checkpoint is not None:
                tag = "x".join(map(str, np.atleast_1d(mesh)))
                ck = Path(f"{checkpoint}.mesh{tag}")
            return compute(mesh=mesh, checkpoint=ck)

        table = mesh_study(one, converge, unit=unit)
        echo(table.to_text())
        res = table.results[-1]
        if stem is not None:
            write_or_fallback(Path(f"{stem}_convergence.txt"),
                              lambda p: atomic_write(p, table.to_text() + "\n"), "table")
    else:
        res = compute(mesh=list(mesh), checkpoint=checkpoint)
        echo(res.table(unit or res.unit))
        samp = res.extras.get("sampling")
        if isinstance(samp, dict) and "tol" in samp:  # --tol: how the error bar was reached
            echo(f"# {samp['method']} sampling to tol={samp['tol']}: {samp['n_k']} k-points, "
                 f"final base mesh {'x'.join(map(str, res.mesh))}, converged: {samp['converged']}")
    if record is not None:
        res.extras["run"] = record
    if stem is not None:
        files = _write_result(res, stem, unit)
        echo("wrote " + ", ".join(str(f) for f in files))
    return res


# ---------------------------------------------------------------------- demo
def run_demo(out: PathLike, mesh: int, *, progress: bool = True,
             echo: Callable[[str], object] = print, force: bool = False
             ) -> dict[str, ConductivityResult]:
    """The main job: proper vs conventional σ^y_zx of regularized Bi₂Se₃ with m = 1 meV ∥ z.

    Existing demo files in ``out`` are not overwritten unless ``force``."""
    from tbspin.cli.outputs import refuse_existing

    out = Path(out)
    files = [out / "demo_bi2se3_shc_proper.json", out / "demo_bi2se3_shc_conventional.json",
             out / "demo_bi2se3_shc.png"]
    for f in files:
        check_writable(f, "--out")
    refuse_existing(files, force)
    from tbspin.cli.outputs import output_lock

    with output_lock(out / "demo_bi2se3_shc"):
        return _run_demo(out, mesh, files, progress=progress, echo=echo)


def _run_demo(out: Path, mesh: int, files: list[Path], *, progress: bool,
              echo: Callable[[str], object]) -> dict[str, ConductivityResult]:
    from tbspin.models import bi2se3
    from tbspin.observables import spin_hall

    model = bi2se3(magnetization=(0.0, 0.0, 1e-3))
    echo(str(model))
    echo("proper spin Hall conductivity sigma^y_zx of Bi2Se3 (Liu 2010 parameters, m = 1 meV ∥ z)")
    efermi = np.linspace(-0.05, 0.45, 26)  # gap (valence top -0.072 eV) and conduction band
    results = {
        formula: spin_hall(model, efermi=efermi, mesh=mesh, spin="y", current="z", efield="x",
                           formula=formula, progress=progress)
        for formula in ("proper", "conventional")
    }
    p, c = results["proper"], results["conventional"]
    echo(f"mesh {mesh}^3, gauge: {p.gauge}")
    echo(f"{'E_F (eV)':>9s} {'proper':>14s} {'conventional':>14s}   [(hbar/2e) S/m]")
    for e, a, b in zip(efermi, p.values, c.values, strict=True):
        echo(f"{e:9.3f} {a:14.2f} {b:14.2f}")
    for (_name, r), f in zip(results.items(), files[:2], strict=True):
        write_or_fallback(f, r.to_json, "JSON")
    import matplotlib.pyplot as plt

    from tbspin.cli.plotting import plot_conductivities

    def png(path: Path) -> None:
        plt.close(plot_conductivities(
            results, save=path,
            title=f"Bi$_2$Se$_3$ (4-band, regularized), $m_z$ = 1 meV\n"
                  f"proper vs conventional $\\sigma^y_{{zx}}$, mesh {mesh}$^3$"))

    write_or_fallback(files[2], png, "figure")
    echo(f"wrote {files[0]}, {files[1].name}, {files[2].name}")
    return results


# ---------------------------------------------------------------------- slab
@dataclasses.dataclass
class SlabJobResult:
    """What :func:`run_slab` computed and wrote (also usable as a mapping: ``out["gap"]``)."""

    gap: SurfaceGap
    files: list[Path]
    summary: list[str]
    sweep_m: MagnetizationSweep | None = None
    sweep_n: ThicknessSweep | None = None

    def __getitem__(self, key: str) -> object:
        return getattr(self, key)

    def __contains__(self, key: str) -> bool:
        return getattr(self, key, None) is not None


def _check_slab_options(
    n_layers: int, surface_layers: int, magnetic_top: int | None,
    sweep_mz: Sequence[float] | None, sweep_layers: Sequence[int] | None, npoints: int,
) -> None:
    """Usage errors of the slab job, each naming the option and the fix."""
    if n_layers < 2:
        raise ParameterError(f"--n-layers {n_layers}: a slab needs at least 2 layers")
    if surface_layers < 1 or 2 * surface_layers > n_layers:
        raise ParameterError(
            f"--surface-layers {surface_layers} must be between 1 and half the layers "
            f"({n_layers // 2} for --n-layers {n_layers})")
    if magnetic_top is not None and not 1 <= magnetic_top <= n_layers:
        raise ParameterError(
            f"--magnetic-top {magnetic_top} must be between 1 and --n-layers {n_layers} (the "
            f"magnetic layers lie inside the slab); use --magnetic-top <= {n_layers} or more "
            "layers")
    if sweep_mz is not None:
        a, b, n = sweep_mz
        if n != int(n) or int(n) < 2 or a == b:
            raise ParameterError(
                f"--sweep-mz {a:g} {b:g} {n:g}: the gap-vs-m_z fit needs at least 2 points "
                "between two different values, e.g. --sweep-mz 0.005 0.02 4")
    if sweep_layers is not None:
        a, b = sweep_layers
        if a < 2 or b <= a:
            raise ParameterError(
                f"--sweep-layers {a} {b}: needs 2 <= A < B (at least two thicknesses for the "
                "fit), e.g. --sweep-layers 4 12")
    if npoints < 2:
        raise ParameterError(f"--npoints {npoints}: the k-path needs at least 2 points")


def run_slab(
    bulk: LatticeModel,
    *,
    direction: int | None = None,
    n_layers: int = 30,
    surface_layers: int = 2,
    n_occupied: float | None = None,
    m: ArrayLike = (0.0, 0.0, 0.0),
    magnetic_top: int | None = None,
    gate_field: float = 0.0,
    path: str | None = None,
    npoints: int = 200,
    kmax: float | None = None,
    sweep_mz: Sequence[float] | None = None,
    sweep_layers: Sequence[int] | None = None,
    out: PathLike | None = None,
    progress: bool | None = None,
    force: bool = False,
) -> SlabJobResult:
    """The slab job: bands coloured by surface weight, the surface gap at Γ and optional sweeps.

    Figures (``slab_bands.png``, ``gap_vs_mz.png``, ``gap_vs_layers.png``) and ``summary.txt``
    go to ``out`` (default: ``results/slab``, or the next free ``results/slab-N`` when that
    holds an earlier run). Existing files in ``out`` are not overwritten unless ``force``; the
    folder is locked while the job writes it (:mod:`tbspin.cli.outputs`). Options are those of
    ``tbspin slab`` (``gate_field`` in MV/m, ``m`` in eV).
    """
    from tbspin.cli.outputs import free_folder, output_lock, refuse_existing

    _check_slab_options(n_layers, surface_layers, magnetic_top, sweep_mz, sweep_layers, npoints)
    out_dir = free_folder(DEFAULT_SLAB_OUT) if out is None else Path(out)
    planned = _slab_files(out_dir, sweep_mz, sweep_layers)
    for f in planned:
        check_writable(f, "--out")
    with output_lock(out_dir, folder=True):
        refuse_existing(planned, force)
        return _run_slab(bulk, direction=direction, n_layers=n_layers,
                         surface_layers=surface_layers, n_occupied=n_occupied, m=m,
                         magnetic_top=magnetic_top, gate_field=gate_field, path=path,
                         npoints=npoints, kmax=kmax, sweep_mz=sweep_mz,
                         sweep_layers=sweep_layers, out_dir=out_dir, progress=progress)


#: default output folder of the slab job (a new ``-N`` folder when it holds an earlier run)
DEFAULT_SLAB_OUT = Path("results/slab")


def _slab_files(out_dir: Path, sweep_mz: Sequence[float] | None,
                sweep_layers: Sequence[int] | None) -> list[Path]:
    planned = [out_dir / "slab_bands.png", out_dir / "summary.txt"]
    if sweep_mz is not None:
        planned.append(out_dir / "gap_vs_mz.png")
    if sweep_layers is not None:
        planned.append(out_dir / "gap_vs_layers.png")
    return planned


def _run_slab(
    bulk: LatticeModel, *, direction: int | None, n_layers: int, surface_layers: int,
    n_occupied: float | None, m: ArrayLike, magnetic_top: int | None, gate_field: float,
    path: str | None, npoints: int, kmax: float | None, sweep_mz: Sequence[float] | None,
    sweep_layers: Sequence[int] | None, out_dir: Path, progress: bool | None,
) -> SlabJobResult:
    import matplotlib.pyplot as plt

    from tbspin.cli.plotting import plot_gap_vs_magnetization, plot_gap_vs_thickness, plot_slab_bands
    from tbspin.io.atomic import atomic_write
    from tbspin.slab import (
        exchange_on_layers,
        gap_vs_magnetization,
        gap_vs_thickness,
        make_slab,
        surface_gap,
    )

    _check_slab_options(n_layers, surface_layers, magnetic_top, sweep_mz, sweep_layers, npoints)
    direction = bulk.dim - 1 if direction is None else int(direction)
    if not 0 <= direction < bulk.dim:
        raise ParameterError(f"--direction {direction}: a lattice-vector index 0..{bulk.dim - 1}")
    planned = _slab_files(out_dir, sweep_mz, sweep_layers)

    N = int(n_layers)
    mv = np.asarray(m, dtype=float)
    magnetic_layers = None if magnetic_top is None else range(N - magnetic_top, N)
    onsite = exchange_on_layers(bulk, mv, magnetic_layers) if np.any(mv) else None
    slab = make_slab(bulk, direction=direction, n_layers=N, layer_onsite=onsite,
                     gate_field=gate_field)
    surface = "top" if magnetic_top is not None else "both"
    gap = surface_gap(slab, n_surface_layers=surface_layers, surface=surface,
                      n_occupied=n_occupied)
    kmax = kmax if kmax is not None else (0.15 if bulk.dim == 3 else None)
    kp = slab.kpath(path, npoints, kmax=kmax)
    files: list[Path] = []
    vec = ", ".join(f"{x:.4g}" for x in bulk.lattice[direction])
    where = (f"slab finite along the {ordinal(direction + 1)} lattice vector "
             f"a{direction + 1} = ({vec}) Å")

    def bands_png(p: Path) -> None:
        plt.close(plot_slab_bands(slab, kp, n_surface_layers=surface_layers,
                                  reference_energy=gap.dirac_energy, energy_window=(-0.5, 0.5),
                                  save=p))

    files.append(write_or_fallback(planned[0], bands_png, "figure"))
    lines = [
        f"model: {bulk.name}; {where}, {N} layers; m = {mv.tolist()} eV"
        + ("" if magnetic_layers is None else f" on the top {magnetic_top} layers")
        + f"; gate field {gate_field:g} MV/m",
        f"surface gap at Γ ({surface}): {gap.gap * 1e3:.4f} meV; Dirac/mid-gap energy "
        f"{gap.dirac_energy:.5f} eV; bulk edges {gap.bulk_edges.tolist()} eV; "
        f"surface weights (top, bottom) {gap.weights.round(3).tolist()}",
    ]
    result = SlabJobResult(gap=gap, files=files, summary=lines)
    def figure(name: str, plot: Callable[..., Figure], sweep: object) -> None:
        files.append(write_or_fallback(out_dir / name,
                                       lambda p: plt.close(plot(sweep, save=p)), "figure"))

    if sweep_mz is not None:
        a, b, n = sweep_mz
        sw = gap_vs_magnetization(bulk, np.linspace(a, b, int(n)), direction=direction,
                                  n_layers=N, magnetic_layers=magnetic_layers, surface=surface,
                                  n_surface_layers=surface_layers, n_occupied=n_occupied,
                                  gate_field=gate_field, progress=progress)
        figure("gap_vs_mz.png", plot_gap_vs_magnetization, sw)
        lines.append(f"gap vs m_z: slope {sw.slope:.5f}, intercept {sw.intercept:.3e} eV, "
                     f"rms residual {sw.residual:.3e} eV")
        result.sweep_m = sw
    if sweep_layers is not None:
        a, b = sweep_layers
        sn = gap_vs_thickness(bulk, range(a, b + 1), direction=direction,
                              n_occupied=n_occupied, gate_field=gate_field, progress=progress)
        figure("gap_vs_layers.png", plot_gap_vs_thickness, sn)
        lines.append(f"gap vs N: decay {sn.decay_per_layer:.4f} per layer, "
                     f"log rms residual {sn.log_residual:.3f}")
        result.sweep_n = sn
    files.append(write_or_fallback(out_dir / "summary.txt",
                                   lambda p: atomic_write(p, "\n".join(lines) + "\n"), "summary"))
    return result
