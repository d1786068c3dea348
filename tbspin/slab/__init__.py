"""Slabs and ribbons: surface/edge states and the magnetic surface-state gap.

A *slab* is a bulk system cut to ``N`` unit cells ("layers") along one of its lattice vectors
(``direction``) and kept periodic along the others; the "slab" of a 2D model is a *ribbon*.

Two equivalent forms are kept side by side:

* the Kwant form — :meth:`Slab.kwant_builder` is a :class:`kwant.Builder` with the
  :class:`kwant.TranslationalSymmetry` of the remaining lattice vectors, filled by Kwant
  (:meth:`kwant.Builder.fill`) from the bulk Builder (a user's ``kwant.continuum`` template,
  or ``LatticeModel.to_kwant()``), with the per-layer terms added to its on-site values; it is
  what :func:`kwant_bands` (``kwant.wraparound`` with ``keep`` + :class:`kwant.physics.Bands`)
  and :func:`edge_modes` (:func:`kwant.physics.modes`) use;
* the numpy form — :attr:`Slab.model` is a :class:`tbspin.LatticeModel` periodic along the
  in-plane vectors, built from the bulk hopping matrices H_R (a Kwant bulk Builder is first read
  by Kwant itself through :func:`tbspin.adapters.kwant.from_kwant`); it evaluates H(k) for all
  k-points in one batch, which is what the band structures and gap searches use (a 30-orbital
  Wannier slab has ~10^5 Kwant hoppings: evaluating the wrapped Kwant system costs ~1 s per k,
  the batched form milliseconds). Tests check that both forms give the same spectrum.

The numpy form needs no Kwant; the Kwant form, Kwant bulk Builders and :func:`edge_modes` need
the optional extra ``tbspin[kwant]`` (a :class:`tbspin.errors.MissingDependencyError` says how
to install it).

Modules: :mod:`.build` (Slab, make_slab, exchange_on_layers), :mod:`.kwant_form`,
:mod:`.spectra` (surface weights), :mod:`.gap` (surface gap, Dirac point), :mod:`.sweeps`
(gap vs m, gap vs N), :mod:`.edges` (ribbon edge modes).

Conventions
-----------
* Layer ``l = 0 … N−1`` holds the orbitals of the bulk cell translated by ``l·a_direction``.
  The surface normal n̂ is the unit vector along the part of ``a_direction`` perpendicular to
  the periodic vectors; ``z = r·n̂``. "Top" is the ``n_surface_layers`` layers of largest l
  (largest z), "bottom" those of smallest l.
* ``gate_field`` is the electric field F along +n̂ in MV/m; an electron (charge −e) at height z
  gets the potential energy U = +e·F·(z − z_c) (U in eV = 1e-4 · F in MV/m · z in Å), z_c the
  slab centre. (The deprecated ``field`` was in V/Å = 10⁴ MV/m.)
* Exchange/Zeeman terms are m·s with m in eV and s in units of ħ/2 (as ``with_zeeman``).
* Wave vectors are Cartesian (1/Å) in the bulk's d-dimensional space; only their component in
  the plane of the periodic vectors matters.
"""

from __future__ import annotations

from tbspin.slab.build import Slab, exchange_on_layers, make_slab
from tbspin.slab.edges import EdgeModes, edge_modes
from tbspin.slab.gap import NoSurfaceStatesError, SurfaceGap, find_dirac_point, surface_gap
from tbspin.slab.kwant_form import kwant_bands
from tbspin.slab.spectra import slab_bands, surface_weights
from tbspin.slab.sweeps import MagnetizationSweep, ThicknessSweep, gap_vs_magnetization, gap_vs_thickness

__all__ = [
    "Slab",
    "SurfaceGap",
    "MagnetizationSweep",
    "ThicknessSweep",
    "EdgeModes",
    "NoSurfaceStatesError",
    "make_slab",
    "slab_bands",
    "surface_weights",
    "surface_gap",
    "find_dirac_point",
    "gap_vs_magnetization",
    "gap_vs_thickness",
    "exchange_on_layers",
    "kwant_bands",
    "edge_modes",
]
