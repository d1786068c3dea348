"""Shared pieces of the paper reproductions: result records, convergence tables, output files.

A reproduction returns (and writes as ``<name>.json``) a record::

    {"name", "title", "paper", "tbspin_version", "created", "runtime_seconds", "quick",
     "parameters": {...every physical parameter...},
     "method": {...formula, connection method, gauge, temperature, meshes, lattice spacing...},
     "series": [Series.to_dict(), ...],            # the curves of the figure
     "convergence": [ConvergenceRow, ...],          # mesh n → 2n, lattice a → a/2
     "paper_comparison": {...}, "notes": [...], "figure": "<name>.png"}

Every series carries ``values`` and an ``error`` array of the same length (one error per
abscissa value). Today the error is the spread |v(2n) − v(n)| between the two finest meshes
(``error_method`` says so); an adaptive-refinement estimator can later fill the same field.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from tbspin._json import jsonable
from tbspin.errors import OutputError
from tbspin.types import ArrayLike

#: Citation of the reproduced paper.
PAPER = ("H. Liu, J. H. Cullen and D. Culcer, Phys. Rev. B 108, 195434 (2023), "
         "doi:10.1103/PhysRevB.108.195434")

ERROR_BY_MESH_SPREAD = "spread |v(2n) - v(n)| between the two finest meshes (values from 2n)"


def tbspin_version() -> str:
    """The installed tbspin version (read lazily: the package __init__ is not imported for it)."""
    try:
        from tbspin._version import __version__
    except ImportError:  # before the core split
        from tbspin import __version__
    return str(__version__)


@dataclasses.dataclass
class Series:
    """One curve: y(x) with an error per point."""

    label: str
    x: np.ndarray
    values: np.ndarray
    error: np.ndarray
    x_name: str
    x_unit: str
    unit: str
    error_method: str = ERROR_BY_MESH_SPREAD
    meta: dict[str, object] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_pair(cls, label: str, x: ArrayLike, coarse: ArrayLike, fine: ArrayLike, *, x_name: str,
                  x_unit: str, unit: str, **meta: object) -> Series:
        """Values from the finer mesh, error = |fine − coarse|."""
        fine_a = np.asarray(fine, float)
        return cls(label, np.asarray(x, float), fine_a, np.abs(fine_a - np.asarray(coarse, float)),
                   x_name, x_unit, unit, meta=dict(meta))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        d = dataclasses.asdict(self)
        for key in ("x", "values", "error"):
            d[key] = np.asarray(d[key], float).tolist()
        d["meta"] = jsonable(self.meta)
        return d

    def at(self, x: float) -> tuple[float, float]:
        """(value, error) at the abscissa nearest to ``x``."""
        i = int(np.argmin(np.abs(self.x - x)))
        return float(self.values[i]), float(self.error[i])


@dataclasses.dataclass
class ConvergenceRow:
    """One line of a convergence table: a quantity on two discretizations."""

    quantity: str
    step: str
    coarse: float
    fine: float
    unit: str
    scale: float = 0.0

    @property
    def relative_change(self) -> float:
        """|fine − coarse| / max(|fine|, scale): ``scale`` (the size of the curve the quantity
        belongs to) keeps near-zero quantities such as σ^x_zx from reading as huge changes."""
        denom = max(abs(self.fine), abs(self.scale))
        return abs(self.fine - self.coarse) / denom if denom else float("inf")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {**dataclasses.asdict(self), "relative_change": self.relative_change}


def convergence_table(rows: Sequence[ConvergenceRow], title: str) -> str:
    """A plain-text convergence table (printed by every reproduction)."""
    lines = [f"convergence: {title}",
             f"  {'quantity':<40s} {'step':<26s} {'coarse':>12s} {'fine':>12s} {'rel. change':>11s}  unit"]
    for r in rows:
        lines.append(f"  {r.quantity:<40s} {r.step:<26s} {r.coarse:12.5g} {r.fine:12.5g} "
                     f"{100 * r.relative_change:10.3f}%  {r.unit}"
                     + (f" (relative to the curve scale {r.scale:.4g})" if r.scale > abs(r.fine) else ""))
    return "\n".join(lines)


def prepare_output(out: Path) -> Path:
    """Create ``out`` (fail early, before any computation, if it cannot be written)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".tbspin-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write reproduction output to {out}: {exc}") from exc
    return out


class Timer:
    """Wall-clock seconds since construction."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0


def finish(out: Path, name: str, record: Mapping[str, object], series: Sequence[Series],
           rows: Sequence[ConvergenceRow], timer: Timer, quick: bool) -> dict[str, object]:
    """Add the common fields, write ``<name>.json`` and print the convergence table."""
    full = {
        "name": name,
        "paper": PAPER,
        "tbspin_version": tbspin_version(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": bool(quick),
        **record,
        "series": [s.to_dict() for s in series],
        "convergence": [r.to_dict() for r in rows],
        "max_relative_change": max((r.relative_change for r in rows), default=0.0),
        "figure": f"{name}.png",
        "runtime_seconds": round(timer(), 2),
    }
    text = json.dumps(jsonable(full), indent=2, ensure_ascii=False)
    path = Path(out) / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(convergence_table(rows, f"{name} ({'quick' if quick else 'default'} settings)"))
    print(f"{name}: wrote {path} and {Path(out) / f'{name}.png'} in {full['runtime_seconds']} s")
    return full


def limit_blas_threads(n: int = 1) -> int | None:
    """Best effort: run numpy's bundled OpenBLAS with ``n`` threads; returns the old count.

    The reproductions diagonalize many small matrices (4×4 to 120×120); a multi-threaded BLAS
    only adds synchronization there, and on a loaded machine its spinning threads made the slab
    eigensolves 40× slower (measured: 20 eigh of 120×120, 2.7 s → 0.07 s). Without numpy's
    scipy-openblas (or with another BLAS) this does nothing; OPENBLAS_NUM_THREADS=1 in the
    environment has the same effect.
    """
    import ctypes
    import glob
    import os

    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
            old = int(lib.scipy_openblas_get_num_threads64_())
            lib.scipy_openblas_set_num_threads64_(int(n))
            return old
        except (OSError, AttributeError):
            continue
    return None


def talk_style() -> None:
    """Matplotlib settings for figures shown on slides (large fonts, thick lines, no GUI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 13, "axes.labelsize": 14, "axes.titlesize": 14,
                         "legend.fontsize": 11, "lines.linewidth": 2.2, "figure.dpi": 110,
                         "savefig.dpi": 150, "savefig.bbox": "tight"})
