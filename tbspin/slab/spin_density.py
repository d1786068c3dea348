"""Layer-resolved current-induced spin density of a slab, and a Γ-graded quadrature for it.

The spin density record (:mod:`tbspin.observables.spin_density`) resolves the response in space
with a projector, A = ½{P, s^a}; one run per layer costs one diagonalization per layer. In a
slab the spin operator is block-diagonal in the layers (s = 1_N ⊗ s_bulk) and the layer
projector P_l is diagonal, so A_l = P_l s and all layers follow from one product per k-point:

    Σ_n (A_l)_mn V_nm w_mn = Σ_{i∈l} U*_im Y_im,   Y = (s U) · (V* ⊙ w)ᵀ,

with U the eigenvectors, V^j_mn = (U† ∂_jH U)_mn and w_mn = 1/((ε_m − ε_n)² + η²) outside the
degenerate block of m (the record's intrinsic, Fermi-sea formula). :class:`LayerSpinDensityTerm`
evaluates that for every layer at once; ``tests/test_torque_budget.py`` checks it against the
record run with one projector per layer.

Units as the record: χ^a_j in (ħ/2)/(Å V) for a slab (2 periodic directions) — spin, in units of
ħ/2, per Å² of surface per V/Å of in-plane field — per layer.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tbspin.bands.integrands import BandContext, BandKernel
from tbspin.bands.settings import resolve_connection
from tbspin.engine.points import BatchTask, WeightedPoints
from tbspin.errors import ParameterError
from tbspin.slab.build import Slab
from tbspin.types import ArrayLike, FloatArray

__all__ = ["LayerSpinDensityTerm", "layer_spin_density_kernel", "graded_points",
           "layer_spin_density"]

_AXES = {"x": 0, "y": 1, "z": 2}


@dataclasses.dataclass(frozen=True, eq=False)
class LayerSpinDensityTerm:
    """Intrinsic χ^a_j of every layer (components: layers in order, for one (a, j))."""

    spin: np.ndarray  #: (M, M) slab spin operator s^a (block-diagonal in the layers)
    field: int  #: Cartesian field direction j
    layer_of_orbital: np.ndarray  #: (M,) layer index of every slab orbital
    n_layers: int
    eta: float = 0.0
    occupation: str = "sea"

    @property
    def directions(self) -> tuple[int, ...]:
        return (self.field,)

    @property
    def n_components(self) -> int:
        return self.n_layers

    def evaluate(self, ctx: BandContext) -> FloatArray:
        eig = ctx.eigensystem(None)
        E, r, U = eig.energies, ctx.rows, eig.vectors
        same = eig.block[:, :r, None] == eig.block[:, None, :]
        dE2 = (E[:, :r, None] - E[:, None, :]) ** 2 + self.eta**2
        w = np.where(same, 0.0, 1.0 / np.where(same, 1.0, dE2))  # (Nk, r, M)
        V = ctx.velocity(None, self.field)  # (Nk, r, M): V_mn, m < r
        Y = (self.spin @ U) @ (V.conj() * w).transpose(0, 2, 1)  # (Nk, M_orb, r)
        Z = (U[:, :, :r].conj() * Y).imag  # Im U*_im Y_im
        out = np.zeros((len(E), r, self.n_layers))
        for layer in range(self.n_layers):  # a loop over layers, on whole k-batches
            out[:, :, layer] = -2.0 * Z[:, self.layer_of_orbital == layer, :].sum(axis=1)
        return out


def layer_spin_density_kernel(slab: Slab, spin: str, field: str, *, eta: float = 0.0,
                              e_max: float | None = None) -> BandKernel:
    """Kernel k → (energies, X (Nk, M, N_layers)) of the intrinsic χ^spin_field per layer.

    Parameters
    ----------
    slab : Slab
        Its model must carry the spin operators ``"sx", "sy", "sz"`` (units ħ/2).
    spin, field : {"x", "y", "z"}
        Spin component a and in-plane field direction j.
    eta : float
        Kubo broadening of the energy denominators (eV), as the record.
    e_max : float, optional
        Only bands below it get X (set it above the largest E_F to save work).
    """
    if spin not in _AXES or field not in _AXES:
        raise ParameterError(f"spin and field must be 'x', 'y' or 'z', got {spin!r}, {field!r}")
    model = slab.model
    key = f"s{spin}"
    if key not in model.operators:
        raise ParameterError(f"the slab model has no spin operator {key!r}: build the slab with "
                             "operators={'sx': …, 'sy': …, 'sz': …}")
    j = _AXES[field]
    if j not in model.periodic:
        raise ParameterError(f"field direction {field!r} is not periodic in this slab "
                             f"(periodic: {model.periodic})")
    s = np.asarray(model.operators[key], dtype=complex)
    n = slab.orbitals_per_layer
    lay = slab.layer_of_orbital
    off = np.abs(s) * (lay[:, None] != lay[None, :])
    if np.max(off, initial=0.0) > 1e-12:
        raise ParameterError(f"{key} couples different layers; use the spin_density record with "
                             "a projector per layer instead")
    del n
    st = resolve_connection(model, gauge="none")
    term = LayerSpinDensityTerm(s, j, np.asarray(lay), slab.n_layers, float(eta))
    return BandKernel(model, (term,), st, e_max)


def graded_points(nodes: int, crowding: float, p: int = 2) -> tuple[FloatArray, FloatArray]:
    """A product quadrature on the reduced zone crowded at Γ: reduced coordinates (nodes^p, p)
    and weights summing to 1.

    Midpoint rule in t ∈ [−½, ½) for the periodic map u(t) = t − (c/2π) sin 2πt with
    c = 1 − 1/``crowding``, weight du/dt = 1 − c cos 2πt per point. The map is a smooth periodic
    change of variables, so the rule keeps the spectral accuracy of the uniform mesh on smooth
    periodic integrands (and the weights sum to 1 exactly), while the points near Γ are
    ``crowding`` times denser than on a uniform mesh of the same size (and 2/(2 − 1/crowding)
    times sparser at the zone boundary).
    """
    if int(nodes) != nodes or nodes < 2 or not (np.isfinite(crowding) and crowding >= 1):
        raise ParameterError(f"graded_points: nodes >= 2 and crowding >= 1, got {nodes}, {crowding}")
    c = 1.0 - 1.0 / crowding
    t = -0.5 + (np.arange(nodes) + 0.5) / nodes
    u = t - c / (2 * np.pi) * np.sin(2 * np.pi * t)
    du = (1.0 - c * np.cos(2 * np.pi * t)) / nodes
    grid = np.stack(np.meshgrid(*([u] * p), indexing="ij"), -1).reshape(-1, p)
    w = np.prod(np.stack(np.meshgrid(*([du] * p), indexing="ij"), -1).reshape(-1, p), axis=1)
    return grid, w


def layer_spin_density(slab: Slab, efermi: ArrayLike, *, spin: str = "y", field: str = "y",
                       nodes: int = 48, crowding: float = 40.0, temperature: float = 0.0,
                       chunk: int = 400) -> FloatArray:
    """Intrinsic χ^spin_field of every layer, (n_E, N_layers), in (ħ/2)/(Å V), on
    :func:`graded_points` (the surface-gap integrand lives within ~ m/ħv of Γ)."""
    ef = np.atleast_1d(np.asarray(efermi, dtype=float))
    if not np.all(np.isfinite(ef)):
        raise ParameterError(f"efermi must be finite, got {efermi!r}")
    kernel = layer_spin_density_kernel(slab, spin, field,
                                       e_max=float(ef.max()) + 40 * 8.617e-5 * temperature + 0.05)
    pts, w = graded_points(nodes, crowding, slab.model.n_periodic)
    points = WeightedPoints(slab.model, pts, w, chunk)
    task = BatchTask(kernel, points, ef, temperature)
    total = sum(task(c)[1] for c in range(points.n_chunks))
    return np.asarray(total) / slab.model.cell_measure
