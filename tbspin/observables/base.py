"""Observables as records: what an observable is, in one object; the registry of them.

An :class:`Observable` record says everything the engine, the public functions, the CLI and the
results need to know about a Brillouin-zone observable:

* ``name`` (registry key), ``title``, ``kind`` (the key of its unit table in :mod:`tbspin.units`);
* ``indices`` — the names of its tensor indices, e.g. ("spin", "current", "field"), and which of
  them are axial (spin) rather than polar (current, field): symmetry needs it;
* ``occupation`` — "sea" (weight f) or "surface" (−∂f/∂ε), :mod:`tbspin.engine.occupation`;
* ``units`` / ``canonical`` — conversion factors from the raw integral
  I = ∫ d^pk/(2π)^p Σ_m w_m X_m (Å^(2−p) for the Hall-type formulas) to named units, per number
  of periodic directions p (registered into :mod:`tbspin.units` when the record is);
* ``formulas`` — the formulas it can be computed with (first: default);
* ``term(model, components, formula=..., ...)`` — the bound band-resolved term for the
  requested components, which a :class:`tbspin.bands.integrands.BandKernel` evaluates from the shared
  eigensystem of each k-batch.

A new observable is one module in this sub-package that builds a record and calls
:func:`register`: the package imports every module it holds, so the public
:func:`tbspin.observables.compute`, the CLI's ``tbspin compute`` and the result files know it.

Components are tuples of Cartesian indices (0, 1, 2 = x, y, z) in the order of ``indices``;
:func:`parse_components` turns "all", "z,xy"-style strings and lists into them.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel, axis_index

from .. import units

__all__ = ["Observable", "register", "get", "available", "parse_components"]

#: registry: name → record
_REGISTRY: dict[str, Observable] = {}


@dataclasses.dataclass(frozen=True)
class Observable:
    """One observable (module docstring).

    Attributes
    ----------
    name, title, kind : str
    indices : tuple of str
        Index names, e.g. ("spin", "current", "field").
    axial : tuple of bool
        Per index: axial vector (spin) or polar (current, field, position).
    time_odd : bool
        Whether the response coefficient is odd under time reversal (AHC, intrinsic spin
        density: True; spin Hall: False).
    occupation : {"sea", "surface"}
    units : dict
        {p: {unit: factor}} from the raw integral.
    canonical : dict
        {p: unit}.
    formulas : tuple of str
    term : callable
        ``term(model, components, formula=..., **options)``: a term for
        :class:`tbspin.bands.integrands.BandKernel`.
    antisymmetric : tuple of int, optional
        Two index positions in which the tensor is antisymmetric (e.g. current, field of the
        Berry-curvature formulas): the components with equal indices vanish identically.
    doc : str
        The formula, its source and its unit, for help texts.
    uses_gauge : bool
        False when every formula is a trace over degenerate blocks (no gauge operator is
        resolved for it, and none is recorded).
    time_even_formulas : tuple of str
        Formulas whose T parity is even although ``time_odd`` is True (the Fermi-surface spin
        density): :meth:`is_time_odd`.
    """

    name: str
    title: str
    kind: str
    indices: tuple[str, ...]
    axial: tuple[bool, ...]
    time_odd: bool
    occupation: str
    units: dict[int, dict[str, float]]
    canonical: dict[int, str]
    formulas: tuple[str, ...]
    term: Callable[..., Any]
    antisymmetric: tuple[int, ...] = ()
    doc: str = ""
    uses_gauge: bool = True
    time_even_formulas: tuple[str, ...] = ()

    def is_time_odd(self, formula: str) -> bool:
        """The T parity of the response computed with ``formula`` (symmetry needs it)."""
        return self.time_odd and formula not in self.time_even_formulas

    def components(self, model: LatticeModel, spec: object = "all") -> tuple[tuple[int, ...], ...]:
        """The requested components, validated against ``model`` (:func:`parse_components`)."""
        return parse_components(self, model, spec)


def register(record: Observable) -> Observable:
    """Add ``record`` to the registry and its unit table to :mod:`tbspin.units`."""
    _REGISTRY[record.name] = record
    units.register_units(record.kind, record.units, record.canonical)
    return record


def get(name: str) -> Observable:
    """The record called ``name`` (ParameterError listing the known ones otherwise)."""
    if name not in _REGISTRY:
        raise ParameterError(f"unknown observable {name!r}; choose one of {available()}")
    return _REGISTRY[name]


def available() -> list[str]:
    """Names of the registered observables."""
    return sorted(_REGISTRY)


def _axes(record: Observable, model: LatticeModel, pos: int) -> range:
    """Allowed values of index ``pos``: spin (axial) 0–2 always, polar ones < model.dim."""
    return range(3) if record.axial[pos] else range(model.dim)


def parse_components(record: Observable, model: LatticeModel, spec: object = "all"
                     ) -> tuple[tuple[int, ...], ...]:
    """Components as index tuples.

    ``spec``: "all" (every component, without those that vanish identically by the record's
    antisymmetry), one string of index letters per component ("zxy" for σ^z_xy), a
    comma-separated string of them, or a sequence of such strings / integer tuples.
    """
    n = len(record.indices)
    if isinstance(spec, str) and spec == "all":
        out = [c for c in itertools.product(*(_axes(record, model, p) for p in range(n)))
               if not (record.antisymmetric
                       and c[record.antisymmetric[0]] == c[record.antisymmetric[1]])]
        if not out:
            raise ParameterError(f"{record.name}: a {model.dim}D model has no components")
        return tuple(out)
    items: Sequence[Any] = spec.split(",") if isinstance(spec, str) else spec  # type: ignore
    comps = []
    for item in items:
        try:
            c = tuple(axis_index(a) for a in (item.strip() if isinstance(item, str) else item))
        except (ParameterError, TypeError, AttributeError):
            raise ParameterError(
                f"{record.name}: bad component {item!r}; give {n} directions x/y/z in the "
                f"order {record.indices}, e.g. {'zxy'[:n]!r}") from None
        if len(c) != n:
            raise ParameterError(f"{record.name}: component {item!r} needs {n} indices "
                                 f"{record.indices}")
        for p, a in enumerate(c):
            if a not in _axes(record, model, p):
                raise ParameterError(f"{record.name}: direction {'xyz'[a]!r} ({record.indices[p]}) "
                                     f"does not exist in a {model.dim}D model")
        comps.append(c)
    if not comps:
        raise ParameterError(f"{record.name}: no components requested")
    if len(set(comps)) != len(comps):
        raise ParameterError(f"{record.name}: repeated components in {spec!r}")
    return tuple(comps)
