"""Result objects of BZ integrations, with units and provenance, written atomically.

Every result carries the model's fingerprint (:meth:`tbspin.LatticeModel.fingerprint`), its
name, parameters and source (``model.metadata["parameters"]`` / ``["source"]``), the resolved
connection settings, T and η, and a ``run_id`` (a fresh UUID per computation). JSON and NPZ
files of one result carry the same ``run_id`` and the NPZ embeds the complete JSON text, so a
reader can always tell whether two files come from the same run (:meth:`ConductivityResult.save`
writes both).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tbspin import units
from tbspin._json import jsonable
from tbspin.errors import OutputError
from tbspin.types import FloatArray, PathLike

if TYPE_CHECKING:
    from tbspin.model.lattice import LatticeModel

__all__ = ["ConductivityResult", "model_provenance"]


def _component_label(kind: str, indices: list[str], idx: list[int]) -> str:
    """"sigma^z_xy"-style label: the spin index up, the others down."""
    up = "".join("xyz"[a] for a, n in zip(idx, indices, strict=True) if n == "spin")
    down = "".join("xyz"[a] for a, n in zip(idx, indices, strict=True) if n != "spin")
    sym = "chi" if kind == "spin_density" else "sigma"
    return f"{sym}{'^' + up if up else ''}{'_' + down if down else ''}"


def model_provenance(model: LatticeModel, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a result says about its model: name, fingerprint, parameters, source (+ settings).

    ``parameters`` is ``model.metadata["parameters"]`` when present, otherwise the scalar and
    small entries of ``metadata`` (catalogue models store their parameters there directly);
    ``overrides`` the parameters changed from a catalogue preset (``--param``), when any.
    """
    md = dict(model.metadata)
    params = md.get("parameters")
    if params is None:
        params = {k: v for k, v in md.items() if k not in ("source", "position_matrix", "overrides")
                  and (np.ndim(v) == 0 or np.size(v) <= 64)}
    out = {"name": model.name, "fingerprint": model.fingerprint(),
           "parameters": jsonable(params), "source": jsonable(md.get("source")),
           "magnetization": jsonable(model.magnetization)}
    if md.get("overrides"):  # catalogue parameters changed from the preset (registry.build)
        out["overrides"] = jsonable(md["overrides"])
    if settings is not None:
        out["settings"] = jsonable(settings)
    return out


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
        Anything else worth keeping (timings, tolerances).
    fingerprint : str
        SHA-256 of the model (:meth:`tbspin.LatticeModel.fingerprint`).
    provenance : dict
        Model name, fingerprint, parameters and source, and the connection settings.
    run_id : str
        Unique id of the computation (shared by the JSON and NPZ files of this result).
    raw_errors : (nE,) array or None
        Standard error (1σ) of ``raw`` when it was estimated (by default: the spread of
        randomly shifted sub-meshes, :mod:`tbspin.sampling.submesh`; ``tol=`` runs: of
        randomly shifted meshes, :mod:`tbspin.sampling`), None with ``errors=False``
        (``extras["errors"]`` says how). :attr:`errors` / :meth:`errors_to`
        give it in a unit.
    components : list of index lists, optional
        For a many-component run (a whole tensor from one pass): the Cartesian indices
        (0, 1, 2 = x, y, z) of each column of ``raw`` (then (nE, C)), in the order of
        ``indices``; None for a one-component result (``raw`` (nE,)).
    indices : list of str, optional
        Index names of the tensor, e.g. ["spin", "current", "field"] (σ^l_ij: J^l_i = σ^l_ij E_j).
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
    fingerprint: str = ""
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)
    run_id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    raw_errors: np.ndarray | None = None
    components: list[list[int]] | None = None
    indices: list[str] | None = None

    @property
    def unit(self) -> str:
        """Canonical unit of :attr:`values`."""
        return units.conversion_factor(self.kind, self.dim)[1]

    @property
    def values(self) -> FloatArray:
        """Values in the canonical unit (S/cm, e²/h, (ħ/2e) S/m or e/8π)."""
        return self.raw * units.conversion_factor(self.kind, self.dim)[0]

    def to(self, unit: str) -> FloatArray:
        """Values in another unit (see :func:`tbspin.units.available_units`)."""
        return self.raw * units.conversion_factor(self.kind, self.dim, unit)[0]

    @property
    def errors(self) -> FloatArray | None:
        """Standard errors (1σ) in the canonical unit, or None when not estimated."""
        return None if self.raw_errors is None else self.errors_to(self.unit)

    def errors_to(self, unit: str) -> FloatArray | None:
        """Standard errors (1σ) in another unit, or None when not estimated."""
        if self.raw_errors is None:
            return None
        return np.abs(self.raw_errors * units.conversion_factor(self.kind, self.dim, unit)[0])

    @property
    def units_available(self) -> list[str]:
        """Units :meth:`to` accepts."""
        return units.available_units(self.kind, self.dim)

    def tensor(self, unit: str | None = None, errors: bool = False) -> FloatArray:
        """The result as a dense array (nE, 3, …, 3) indexed like :attr:`indices`.

        Components not computed are 0 only where the tensor vanishes identically (equal current
        and field indices of the Berry-curvature formulas, or a current or field along a
        non-periodic direction); any other missing component raises
        :class:`tbspin.errors.ParameterError`. ``errors=True``: the standard errors instead.
        """
        from tbspin.errors import ParameterError

        if self.components is None or self.indices is None:
            raise ParameterError(f"{self.label} is a single component, not a tensor")
        vals = self.errors_to(unit or self.unit) if errors else self.to(unit or self.unit)
        if vals is None:
            raise ParameterError("this result has no error estimate")
        n = len(self.indices)
        out = np.zeros((len(self.efermi),) + (3,) * n)
        have = np.zeros((3,) * n, dtype=bool)
        antisym = self.formula in ("berry", "proper", "smm_omega")  # in (current, field)
        for c, idx in enumerate(self.components):
            out[(slice(None),) + tuple(idx)] = vals[:, c]
            have[tuple(idx)] = True
            if antisym and not have[tuple(idx[:-2]) + (idx[-1], idx[-2])]:
                out[(slice(None),) + tuple(idx[:-2]) + (idx[-1], idx[-2])] = -vals[:, c]
                have[tuple(idx[:-2]) + (idx[-1], idx[-2])] = True
        axial = [name == "spin" for name in self.indices]

        def needed(i: tuple[int, ...]) -> bool:
            if any(a >= self.dim and not ax for a, ax in zip(i, axial, strict=True)):
                return False  # no current or field along a non-periodic direction: 0
            return not (antisym and i[-1] == i[-2])  # vanishes identically

        missing = [i for i in np.ndindex(*have.shape) if not have[i] and needed(i)]
        if missing:
            raise ParameterError(f"{self.label}: components {missing[:4]}… were not computed; "
                                 "ask for components='all'")
        return out

    def component(self, index: str | tuple[int, ...], unit: str | None = None) -> FloatArray:
        """One column of a many-component result, e.g. ``r.component("zxy")`` for σ^z_xy."""
        from tbspin.errors import ParameterError

        if self.components is None:
            raise ParameterError(f"{self.label} is a single component")
        idx = [("xyz".index(a) if isinstance(a, str) else int(a)) for a in index]
        if idx not in self.components:
            raise ParameterError(f"component {index!r} was not computed; have "
                                 f"{[''.join('xyz'[a] for a in c) for c in self.components]}")
        return self.to(unit or self.unit)[:, self.components.index(idx)]

    def split(self, *, nonzero: bool = False) -> dict[str, ConductivityResult]:
        """One single-component result per column of a many-component result, keyed by the
        component label ("sigma^z_xy"); ``nonzero`` drops the columns that are zero to round-off
        (≤ 1e-9 × the largest |value|). A single-component result gives itself."""
        if self.components is None:
            return {self.label: self}
        scale = float(np.max(np.abs(self.raw))) if self.raw.size else 0.0
        out = {}
        for c, idx in enumerate(self.components):
            col = self.raw[:, c]
            if nonzero and not np.max(np.abs(col)) > 1e-9 * scale:
                continue
            label = _component_label(self.kind, self.indices or [], idx)
            err = None if self.raw_errors is None else np.asarray(self.raw_errors)[:, c]
            out[label] = dataclasses.replace(self, label=label, raw=col, raw_errors=err,
                                             components=None, indices=None)
        return out

    def table(self, unit: str | None = None) -> str:
        """Plain-text table of E_F and the values (one column per component)."""
        unit = unit or self.unit
        vals = self.to(unit)
        if vals.ndim == 2:
            return self._tensor_table(unit, vals)
        lines = [f"# {self.label} of {self.model} ({self.formula}, {self.method}); gauge: {self.gauge}",
                 f"# model: {self.describe_model()}",
                 f"# mesh {'x'.join(map(str, self.mesh))}, T = {self.temperature} K, "
                 f"eta = {self.eta} eV; run {self.run_id}", *self._errors_note(),
                 f"{'E_F (eV)':>12s}  {self.label + ' (' + unit + ')':>28s}"]
        errs = self.errors_to(unit)
        if errs is None:
            lines += [f"{e:12.6f}  {v:28.8g}" for e, v in zip(self.efermi, vals, strict=True)]
        else:
            lines[-1] += f"  {'error (1 sigma)':>16s}"
            lines += [f"{e:12.6f}  {v:28.8g}  {d:16.3g}"
                      for e, v, d in zip(self.efermi, vals, errs, strict=True)]
        return "\n".join(lines)

    def _tensor_table(self, unit: str, vals: FloatArray) -> str:
        assert self.components is not None
        names = ["".join("xyz"[a] for a in c) for c in self.components]
        errs = self.errors_to(unit)
        head = [f"# {self.label} of {self.model} ({self.formula}, {self.method}); gauge: {self.gauge}",
                f"# model: {self.describe_model()}",
                f"# components: indices {self.indices}, unit {unit}; mesh "
                f"{'x'.join(map(str, self.mesh))}, T = {self.temperature} K, eta = {self.eta} eV; "
                f"run {self.run_id}", *self._errors_note(),
                f"{'E_F (eV)':>12s}" + "".join(f"  {n:>14s}" + ("" if errs is None else
                                                                 f"  {'err':>9s}")
                                               for n in names)]
        for a, e in enumerate(self.efermi):
            row = f"{e:12.6f}"
            for c in range(len(names)):
                row += f"  {vals[a, c]:14.6g}"
                if errs is not None:
                    row += f"  {errs[a, c]:9.2g}"
            head.append(row)
        return "\n".join(head)

    def _errors_note(self) -> list[str]:
        """The table line saying how the error column was obtained (or that there is none)."""
        note = self.extras.get("errors")
        return [] if note is None else [f"# errors: {note}"]

    def describe_model(self) -> str:
        """One line: model name, parameters, source and fingerprint (for headers and titles)."""
        p = self.provenance
        parts = [self.model]
        par = p.get("parameters")
        if par:
            parts.append(", ".join(f"{k}={v}" for k, v in par.items()) if isinstance(par, dict)
                         else f"parameters {par}")
        if p.get("overrides"):
            parts.append("changed: " + ", ".join(f"{k}={v}" for k, v in p["overrides"].items()))
        if p.get("magnetization") is not None:
            parts.append(f"magnetization {p['magnetization']} eV")
        if p.get("source"):
            parts.append(f"source: {p['source']}")
        if self.fingerprint:
            parts.append(f"sha256 {self.fingerprint[:12]}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (values in the canonical unit and the raw integral)."""
        d = dataclasses.asdict(self)
        d["efermi"] = self.efermi.tolist()
        d["raw"] = self.raw.tolist()
        d["values"] = self.values.tolist()
        d["raw_errors"] = None if self.raw_errors is None else np.asarray(self.raw_errors).tolist()
        d["errors"] = None if self.errors is None else self.errors.tolist()
        d["unit"] = self.unit
        d["raw_unit"] = f"Å^{2 - self.dim}"
        d["mesh"] = list(self.mesh)
        d["shift"] = list(self.shift)
        d["extras"] = jsonable(self.extras)
        d["provenance"] = jsonable(self.provenance)
        return d

    def to_json_text(self) -> str:
        """The JSON text of :meth:`to_dict` (what :meth:`to_json` writes)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_json(self, path: PathLike) -> Path:
        """Write the result as JSON, atomically (parent folders created)."""
        from tbspin.io.atomic import atomic_write

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, self.to_json_text())

    def to_npz(self, path: PathLike) -> Path:
        """Write arrays, ``run_id`` and the complete JSON text (key ``json``) to ``.npz``.

        The old key ``meta`` (JSON without the arrays) is kept for readers of earlier files.
        """
        from tbspin.io.atomic import atomic_savez

        meta = {k: v for k, v in self.to_dict().items()
                if k not in ("efermi", "raw", "values", "raw_errors", "errors")}
        err: dict[str, FloatArray] = {}
        errors = self.errors
        if self.raw_errors is not None and errors is not None:
            err = {"raw_errors": np.asarray(self.raw_errors, float), "errors": errors}
        return atomic_savez(path, efermi=self.efermi, raw=self.raw, values=self.values, **err,
                            meta=json.dumps(meta, ensure_ascii=False),
                            json=self.to_json_text(), run_id=self.run_id)

    def save(self, path: PathLike, formats: tuple[str, ...] = ("json", "npz")) -> list[Path]:
        """Write ``<path>.json`` and/or ``<path>.npz`` of this result (same ``run_id``).

        Parameters
        ----------
        path : path-like
            Target without suffix (a ``.json``/``.npz`` suffix is replaced).
        formats : tuple of {"json", "npz"}
        """
        base = Path(path)
        if base.suffix in (".json", ".npz"):
            base = base.with_suffix("")
        writers = {"json": self.to_json, "npz": self.to_npz}
        bad = [f for f in formats if f not in writers]
        if bad:
            raise OutputError(f"unknown result format(s) {bad}; choose from {sorted(writers)}")
        return [writers[f](base.with_name(base.name + "." + f)) for f in formats]

    @classmethod
    def from_npz(cls, path: PathLike) -> ConductivityResult:
        """Read a result written by :meth:`to_npz` (from its embedded JSON)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                text = str(z["json"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise OutputError(f"{path} is not a tbspin result file ({exc})") from None
        return cls._from_dict(json.loads(text))

    @classmethod
    def from_json(cls, path: PathLike) -> ConductivityResult:
        """Read a result written by :meth:`to_json`."""
        return cls._from_dict(json.loads(Path(path).read_text()))

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> ConductivityResult:
        fields = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in fields}
        kw["efermi"] = np.asarray(kw["efermi"], float)
        kw["raw"] = np.asarray(kw["raw"], float)
        kw["mesh"] = tuple(kw["mesh"])
        kw["shift"] = tuple(kw["shift"])
        if kw.get("raw_errors") is not None:
            kw["raw_errors"] = np.asarray(kw["raw_errors"], float)
        return cls(**kw)
