"""Slab spectra and surface weights: eigenstates of the slab at a batch of k with the weight of
each on the top and bottom layers (degenerate states separated by the top-layer projector
through :func:`tbspin.bands.eigen.solve`, the one degenerate-subspace rotation of tbspin)."""

from __future__ import annotations

import numpy as np

from tbspin.bands.eigen import solve
from tbspin.bz.kmesh import as_kpoints
from tbspin.bz.kpath import KPath
from tbspin.slab.build import Slab
from tbspin.types import ComplexArray, FloatArray, KPoints

__all__ = ["surface_weights", "slab_bands"]


def _kpoints(slab: Slab, k: KPoints | KPath | None) -> FloatArray:
    """Validated Cartesian k-points (Nk, d) of the slab's space (:func:`tbspin.bz.kmesh.as_kpoints`);
    Γ for None."""
    d = slab.model.dim
    return np.zeros((1, d)) if k is None else as_kpoints(k, d)


def surface_weights(
    slab: Slab, k: KPoints | KPath | None, n_surface_layers: int = 2, *,
    degeneracy_tol: float = 1e-7,
) -> tuple[FloatArray, FloatArray, ComplexArray]:
    """Eigen-decomposition of the slab with the weight of every state on the two surfaces.

    Parameters
    ----------
    slab : Slab
    k : (Nk, d) array_like, KPath or None (Γ)
        Cartesian wave vectors (1/Å).
    n_surface_layers : int
        N_s: "top" = the N_s layers of largest index, "bottom" = the N_s of smallest.
    degeneracy_tol : float
        Eigenvalues closer than this (eV) form a degenerate cluster; inside it the states are
        chosen as eigenstates of the top-layer projector (so surface states of the two surfaces
        are separated even when their hybridization is below numerical precision).

    Returns
    -------
    energies : (Nk, M) ndarray, eV, ascending
    weights : (Nk, M, 2) ndarray
        Σ |ψ|² over the top (``[..., 0]``) and bottom (``[..., 1]``) surface layers.
    vectors : (Nk, M, M) ndarray
        Eigenvectors as columns.
    """
    kk = _kpoints(slab, k)
    top, bot = slab.surface_masks(n_surface_layers)
    es = solve(slab.hamiltonian(kk), np.diag(top.astype(float)), degen_tol=degeneracy_tol,
               warn=False)
    E, V = es.energies, es.vectors
    p = np.abs(V) ** 2
    w = np.stack([p[:, top, :].sum(axis=1), p[:, bot, :].sum(axis=1)], axis=-1)
    return E, w, V


def slab_bands(
    slab: Slab, kpath: KPath | KPoints, n_surface_layers: int = 2
) -> tuple[FloatArray, FloatArray]:
    """Band energies and top/bottom surface weights along a k-path.

    Parameters
    ----------
    slab : Slab
    kpath : KPath or (Nk, d) array_like
        Cartesian k-points (1/Å).
    n_surface_layers : int
        Number of outer layers counted as each surface.

    Returns
    -------
    energies : (Nk, M) ndarray, eV
    weights : (Nk, M, 2) ndarray, top / bottom
    """
    E, w, _ = surface_weights(slab, kpath, n_surface_layers)
    return E, w
