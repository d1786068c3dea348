"""Ribbons: propagating edge modes at one energy from :func:`kwant.physics.modes`, sorted by edge
and direction (chiral and helical edge states). Needs Kwant."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from tbspin.adapters.kwant import require_kwant
from tbspin.bands.eigen import rotate_in_labelled_blocks
from tbspin.errors import ParameterError
from tbspin.slab.build import Slab
from tbspin.types import ComplexArray, FloatArray

__all__ = ["EdgeModes", "edge_modes"]


@dataclasses.dataclass(frozen=True)
class EdgeModes:
    """Propagating modes of a ribbon at one energy, sorted by edge.

    Attributes
    ----------
    energy : float
    velocities : (n,) ndarray
        Group velocities of the propagating modes (sign = direction along the period).
    weights : (n, 2) ndarray
        Their (top, bottom) edge weights.
    top : tuple (n_forward, n_backward)
        Modes with top weight ≥ ``min_weight``.
    bottom : tuple (n_forward, n_backward)
    bulk : int
        Propagating modes localized on neither edge.
    """

    energy: float
    velocities: FloatArray
    weights: FloatArray
    top: tuple[int, int]
    bottom: tuple[int, int]
    bulk: int

    @property
    def chirality(self) -> tuple[int, int]:
        """Net forward-minus-backward count on (top, bottom)."""
        return self.top[0] - self.top[1], self.bottom[0] - self.bottom[1]


def _lead_matrices(slab: Slab) -> tuple[ComplexArray, ComplexArray, int]:
    """Nearest-neighbour cell Hamiltonian and hopping of a ribbon (supercell if needed), in
    Kwant's lead convention: H(q) = h_cell + h_hop e^{iq} + h_hop† e^{-iq}."""
    model = slab.model
    per = model.periodic[0]
    R = model.R[:, per]
    r = int(np.max(np.abs(R))) or 1
    M = model.n_orbitals
    H = {int(x): h for x, h in zip(R, model.hoppings, strict=True)}
    zero = np.zeros((M, M), complex)
    cell = np.block([[H.get(j - i, zero) for j in range(r)] for i in range(r)])
    hop = np.block([[H.get(r + j - i, zero) for j in range(r)] for i in range(r)])
    return cell, hop, r


def edge_modes(
    slab: Slab, energy: float, n_surface_layers: int = 2, *, min_weight: float = 0.5
) -> EdgeModes:
    """Count the propagating modes on each edge of a ribbon at ``energy`` (Kwant's modes).

    Uses :func:`kwant.physics.modes` on the ribbon's cell Hamiltonian and inter-cell hopping
    (cells grouped into a supercell when hoppings reach further than one cell). A chiral
    edge of a Chern insulator has one net forward mode per edge per unit of |C|, with
    opposite directions on the two edges; a helical (quantum spin Hall) edge has one forward
    and one backward mode per edge.

    Parameters
    ----------
    slab : Slab
        A ribbon (one periodic direction).
    energy : float
        Energy (eV), typically in the bulk gap.
    n_surface_layers : int
        Layers counted as each edge.
    min_weight : float
        Edge weight above which a mode belongs to an edge.

    Returns
    -------
    EdgeModes
    """
    if slab.n_periodic != 1:
        raise ParameterError(
            f"edge_modes needs a ribbon (a slab of a 2D model, one periodic direction); this "
            f"slab has {slab.n_periodic} periodic directions"
        )
    cell, hop, r = _lead_matrices(slab)
    top, bot = slab.surface_masks(n_surface_layers)
    return _edge_modes_at(cell, hop, float(energy), np.tile(top, r), np.tile(bot, r),
                          min_weight)


def _edge_modes_at(
    cell: ComplexArray, hop: ComplexArray, energy: float, top: npt.NDArray[np.bool_],
    bot: npt.NDArray[np.bool_], min_weight: float,
) -> EdgeModes:
    kwant = require_kwant("edge_modes (kwant.physics.modes)")
    M = cell.shape[0]
    prop, _ = kwant.physics.modes(cell - energy * np.eye(M), hop.conj().T)
    wf = np.array(prop.wave_functions)
    k = np.asarray(prop.momenta)
    v = np.asarray(prop.velocities)
    # Modes with the same momentum and velocity (e.g. the forward modes of the two edges of a
    # symmetric ribbon) are an arbitrary basis of their subspace: choose eigenvectors of the
    # top-edge projector inside it, as for degenerate Bloch states (tbspin.bands.eigen's rotation).
    if len(k) > 1:
        order = np.lexsort((v, k))
        wf, k, v = wf[:, order], k[order], v[order]
        same = ((np.abs(np.diff(k)) < 1e-8)
                & (np.abs(np.diff(v)) < 1e-8 * np.maximum(1, np.abs(v[1:]))))
        labels = np.concatenate([[0], np.cumsum(~same)])
        if np.any(same):  # orthonormalize inside each group, then rotate there
            q = wf.copy()
            for lab in np.unique(labels):  # the few groups of degenerate modes
                cols = np.nonzero(labels == lab)[0]
                if len(cols) > 1:
                    q[:, cols] = np.linalg.qr(wf[:, cols])[0]
            wf = rotate_in_labelled_blocks(q[None], np.diag(top.astype(float)), labels[None])[0][0]
    p = np.abs(wf) ** 2
    p = p / p.sum(axis=0, keepdims=True)
    w = np.stack([p[top].sum(axis=0), p[bot].sum(axis=0)], axis=-1)
    is_top, is_bot = w[:, 0] >= min_weight, w[:, 1] >= min_weight
    return EdgeModes(
        energy=float(energy), velocities=v, weights=w,
        top=(int(np.sum(is_top & (v > 0))), int(np.sum(is_top & (v < 0)))),
        bottom=(int(np.sum(is_bot & (v > 0))), int(np.sum(is_bot & (v < 0)))),
        bulk=int(np.sum(~is_top & ~is_bot)),
    )
