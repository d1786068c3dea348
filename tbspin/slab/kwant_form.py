"""The Kwant form of a slab: Kwant's ``Builder.fill`` of the bulk Builder, with the per-layer
terms on the on-site values, and its bands from ``kwant.wraparound`` + ``kwant.physics.Bands``.

Everything here needs Kwant (the optional extra ``tbspin[kwant]``); it is imported on first use
and a missing Kwant raises :class:`tbspin.errors.MissingDependencyError` with the install recipe.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from tbspin.adapters.kwant import KwantBuilder, require_kwant
from tbspin.errors import ModelError
from tbspin.slab.build import Slab, layer_terms
from tbspin.types import ArrayLike, ComplexArray, FloatArray

__all__ = ["fill_slab_builder", "kwant_bands"]


def fill_slab_builder(slab: Slab) -> KwantBuilder:
    """The slab as a Kwant Builder with the in-plane symmetry (see :meth:`Slab.kwant_builder`)."""
    kwant = require_kwant("the Kwant form of a slab (Slab.kwant_builder)")
    if slab._bulk_builder is None:
        from tbspin.adapters.kwant import to_kwant

        bulk_builder, order = to_kwant(slab.bulk, return_order=True)
    else:
        bulk_builder, order = slab._bulk_builder, slab._kwant_order
    bsym = bulk_builder.symmetry
    periods = np.array(bsym.periods, dtype=float)
    N, direction = slab.n_layers, slab.direction
    others = [i for i in range(len(periods)) if i != direction]
    sb = kwant.Builder(kwant.TranslationalSymmetry(*periods[others]))

    def shape(site: object) -> bool:
        return 0 <= int(bsym.which(site)[direction]) < N

    fd_sites = list(bulk_builder.sites())
    sb.fill(bulk_builder, shape, fd_sites)

    # orbital slices of each bulk FD site in the model's orbital order
    model = slab.bulk
    extra = layer_terms(slab.layer_onsite, slab.gate_field, model, N, direction, slab.normal)
    if not np.any(extra):
        return sb
    slices, start = {}, 0
    for s in fd_sites:
        no = s.family.norbs
        slices[(s.family, tuple(s.tag))] = order[start:start + no]
        start += no
    # couplings between different sites of a cell cannot be on-site values
    site_of = np.empty(model.n_orbitals, int)
    for i, orbs in enumerate(slices.values()):
        site_of[orbs] = i
    cross = site_of[:, None] != site_of[None, :]
    if np.any(np.abs(extra[:, cross]) > 1e-14):
        raise ModelError(
            "layer_onsite couples orbitals at different positions; only on-site (same-position) "
            "terms can be added to the Kwant slab Builder"
        )
    for site in list(sb.sites()):
        elem = bsym.which(site)
        home = bsym.act(-elem, site)
        orbs = slices[(home.family, tuple(home.tag))]
        block = extra[int(elem[direction])][np.ix_(orbs, orbs)]
        if not np.any(block):
            continue
        sb[site] = _add_to_value(sb[site], block)
    return sb


def _add_to_value(
    value: ArrayLike | Callable[..., ArrayLike], block: ComplexArray
) -> ComplexArray | Callable[..., ComplexArray]:
    """Kwant on-site value plus a constant matrix, keeping a callable's parameters."""
    if not callable(value):
        return np.asarray(value, dtype=complex) + block

    def shifted(*args: object) -> ComplexArray:
        return np.asarray(value(*args), dtype=complex) + block

    setattr(shifted, "__signature__", inspect.signature(value))  # noqa: B010 - Kwant binds by signature
    return shifted


def kwant_bands(slab: Slab, momenta: ArrayLike, *, other: float = 0.0) -> FloatArray:
    """Slab bands from Kwant: ``kwant.wraparound`` (keeping the first in-plane period) and
    :class:`kwant.physics.Bands`.

    Parameters
    ----------
    slab : Slab
    momenta : (Nk,) array_like
        Kwant lattice momenta (phase per period, rad) along the first in-plane period.
    other : float
        Lattice momentum along the second in-plane period (slabs of 3D crystals only).

    Returns
    -------
    (Nk, M) ndarray
        Energies (eV), ascending per k.
    """
    kwant = require_kwant("kwant_bands")
    sb = slab.kwant_builder()
    params = dict(slab._params or {})
    if slab.n_periodic == 1:
        fsyst = sb.finalized()
    else:
        fsyst = kwant.wraparound.wraparound(sb, keep=0).finalized()
        params["k_y"] = float(other)
    bands = kwant.physics.Bands(fsyst, params=params)
    return np.array([np.sort(bands(float(q))) for q in np.atleast_1d(momenta)])
