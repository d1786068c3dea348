"""Result objects of BZ integrations, with units and provenance, written atomically."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from . import units
from .io.atomic import atomic_savez, atomic_write


@dataclasses.dataclass
class ConductivityResult:
    """A conductivity as a function of Fermi energy, with everything needed to reproduce it.

    Attributes
    ----------
    kind : {"ahc", "shc"}
        Anomalous Hall or spin Hall conductivity.
    label : str
        Tensor component, e.g. ``"sigma_xy"`` or ``"sigma^y_zx"``.
    efermi : (nE,) array
        Fermi energies (eV).
    raw : (nE,) array
        The BZ integral I = ∫ d^pk/(2π)^p Σ_m f_m X_m in Å^(2−p) (see :mod:`tbspin.units`).
    dim : int
        Number of periodic directions p.
    formula, method, gauge : str
        What was computed and how (formula: "berry", "proper", "conventional", "smm_omega").
    mesh, shift : tuple
        The k-mesh.
    temperature, eta : float
        Fermi–Dirac temperature (K) and Kubo broadening (eV).
    model : str
        Model name.
    version : str
        tbspin version.
    extras : dict
        Anything else worth keeping (timings, tolerances, model metadata).
    """

    kind: str
    label: str
    efermi: np.ndarray
    raw: np.ndarray
    dim: int
    formula: str
    method: str
    gauge: str
    mesh: tuple[int, ...]
    shift: tuple[float, ...]
    temperature: float
    eta: float
    model: str
    version: str
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def unit(self) -> str:
        """Canonical unit of :attr:`values`."""
        return units.conversion_factor(self.kind, self.dim)[1]

    @property
    def values(self) -> np.ndarray:
        """Values in the canonical unit (S/cm, e²/h, (ħ/2e) S/m or e/8π)."""
        return self.raw * units.conversion_factor(self.kind, self.dim)[0]

    def to(self, unit: str) -> np.ndarray:
        """Values in another unit (see :func:`tbspin.units.available_units`)."""
        return self.raw * units.conversion_factor(self.kind, self.dim, unit)[0]

    @property
    def units_available(self) -> list[str]:
        """Units :meth:`to` accepts."""
        return units.available_units(self.kind, self.dim)

    def table(self, unit: str | None = None) -> str:
        """Plain-text table of E_F and the values."""
        unit = unit or self.unit
        vals = self.to(unit)
        lines = [f"# {self.label} of {self.model} ({self.formula}, {self.method}); gauge: {self.gauge}",
                 f"# mesh {'x'.join(map(str, self.mesh))}, T = {self.temperature} K",
                 f"{'E_F (eV)':>12s}  {self.label + ' (' + unit + ')':>28s}"]
        lines += [f"{e:12.6f}  {v:28.8g}" for e, v in zip(self.efermi, vals, strict=True)]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (values in the canonical unit and the raw integral)."""
        d = dataclasses.asdict(self)
        d["efermi"] = self.efermi.tolist()
        d["raw"] = self.raw.tolist()
        d["values"] = self.values.tolist()
        d["unit"] = self.unit
        d["raw_unit"] = f"Å^{2 - self.dim}"
        d["mesh"] = list(self.mesh)
        d["shift"] = list(self.shift)
        d["extras"] = _jsonable(self.extras)
        return d

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the result as JSON, atomically."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, text)

    def to_npz(self, path: str | os.PathLike) -> Path:
        """Write arrays and metadata (as a JSON string) to ``.npz``, atomically."""
        meta = {k: v for k, v in self.to_dict().items() if k not in ("efermi", "raw", "values")}
        return atomic_savez(path, efermi=self.efermi, raw=self.raw, values=self.values,
                            meta=json.dumps(meta, ensure_ascii=False))

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> ConductivityResult:
        """Read a result written by :meth:`to_json`."""
        d = json.loads(Path(path).read_text())
        fields = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in fields}
        kw["efermi"] = np.asarray(kw["efermi"], float)
        kw["raw"] = np.asarray(kw["raw"], float)
        kw["mesh"] = tuple(kw["mesh"])
        kw["shift"] = tuple(kw["shift"])
        return cls(**kw)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)
