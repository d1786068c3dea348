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
from typing import Any, cast

import numpy as np

from tbspin import units
from tbspin.bands.gauge_tally import GaugeRun
from tbspin.bands.integrands import BandContext, BandKernel
from tbspin.bands.settings import resolve_connection
from tbspin.engine.executor import ChunkPool
from tbspin.engine.points import BatchTask, WeightedPoints
from tbspin.errors import ParameterError
from tbspin.observables.ahc import BerryCurvatureTerm
from tbspin.observables.spin_density import FORMULAS
from tbspin.slab.build import Slab
from tbspin.types import ArrayLike, ComplexArray, FloatArray

__all__ = ["LayerSpinDensityTerm", "layer_spin_density_kernel", "graded_points",
           "layer_spin_density", "SlabResponse"]

_AXES = {"x": 0, "y": 1, "z": 2}


@dataclasses.dataclass(frozen=True, eq=False)
class LayerSpinDensityTerm:
    """χ^a_j of every layer (components: layers in order, for one (a, j)), either formula of the
    record: ``"intrinsic"`` (Fermi sea, T-odd) or ``"fermi_surface"`` (−∂f/∂ε, T-even, ∝ 1/Γ:
    the Edelstein part, ``gamma`` in eV)."""

    spin: np.ndarray  #: (M, M) slab spin operator s^a (block-diagonal in the layers)
    field: int  #: Cartesian field direction j
    layer_of_orbital: np.ndarray  #: (M,) layer index of every slab orbital
    n_layers: int
    eta: float = 0.0
    formula: str = "intrinsic"
    gamma: float = 0.01

    def __post_init__(self) -> None:
        if self.formula not in FORMULAS:
            raise ParameterError(f"formula must be one of {FORMULAS}, got {self.formula!r}")
        if not (np.isfinite(self.gamma) and self.gamma > 0):
            raise ParameterError(f"gamma must be a positive broadening (eV), got {self.gamma!r}")

    @property
    def occupation(self) -> str:
        return "sea" if self.formula == "intrinsic" else "surface"

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
        if self.formula == "intrinsic":
            dE2 = (E[:, :r, None] - E[:, None, :]) ** 2 + self.eta**2
            w = np.where(same, 0.0, 1.0 / np.where(same, 1.0, dE2))  # (Nk, r, M)
        else:  # Σ_{n∈D(m)}: the trace over the degenerate block of m
            w = same.astype(float)
        V = ctx.velocity(None, self.field)  # (Nk, r, M): V_mn, m < r
        Y = (self.spin @ U) @ (V.conj() * w).transpose(0, 2, 1)  # (Nk, M_orb, r)
        P = U[:, :, :r].conj() * Y  # U*_im Y_im: Σ_{i∈l} is Σ_n (A_l)_mn V_nm w_mn
        # intrinsic: −2 Im Σ_n A_mn V_nm w_mn; Fermi surface: Re Σ_{n∈D(m)} A_mn V_nm / (−2Γ)
        Z = -2.0 * P.imag if self.formula == "intrinsic" else P.real / (-2.0 * self.gamma)
        out = np.zeros((len(E), r, self.n_layers))
        for layer in range(self.n_layers):  # a loop over layers, on whole k-batches
            out[:, :, layer] = Z[:, self.layer_of_orbital == layer, :].sum(axis=1)
        return out


def _layer_spin(slab: Slab, spin: str) -> ComplexArray:
    """The slab's spin operator s^spin, checked block-diagonal in the layers."""
    if spin not in _AXES:
        raise ParameterError(f"spin must be 'x', 'y' or 'z', got {spin!r}")
    key = f"s{spin}"
    if key not in slab.model.operators:
        raise ParameterError(f"the slab model has no spin operator {key!r}: build the slab with "
                             "operators={'sx': …, 'sy': …, 'sz': …}")
    s = np.asarray(slab.model.operators[key], dtype=complex)
    lay = slab.layer_of_orbital
    off = np.abs(s) * (lay[:, None] != lay[None, :])
    if np.max(off, initial=0.0) > 1e-12:
        raise ParameterError(f"{key} couples different layers; use the spin_density record with "
                             "a projector per layer instead")
    return s


def layer_spin_density_kernel(slab: Slab, spin: str, field: str, *, eta: float = 0.0,
                              e_max: float | None = None, hall: bool = False,
                              edelstein: str | None = None, gamma: float = 0.01) -> BandKernel:
    """Kernel k → (energies, X (Nk, M, C)) of χ^spin_field per layer, all layers from one product
    per k-point and term.

    Components, in order: the intrinsic χ^spin_field of the N layers; with ``edelstein`` the
    Fermi-surface χ^edelstein_field of the N layers (occupation −∂f/∂ε); with ``hall`` the Berry
    curvature Ω^{xy}. One eigensystem per k for all of them.

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
    hall : bool
        Append the Berry curvature Ω^{xy} (the AHC record's term) as a last component, from
        the same eigensystem.
    edelstein : {"x", "y", "z"}, optional
        Spin component of the Fermi-surface (T-even, ∝ 1/Γ) term, same field direction.
    gamma : float
        Its broadening Γ (eV), τ = ħ/2Γ.
    """
    if field not in _AXES:
        raise ParameterError(f"field must be 'x', 'y' or 'z', got {field!r}")
    model = slab.model
    j = _AXES[field]
    if j not in model.periodic:
        raise ParameterError(f"field direction {field!r} is not periodic in this slab "
                             f"(periodic: {model.periodic})")
    lay = np.asarray(slab.layer_of_orbital)
    st = resolve_connection(model, gauge="none")
    terms: tuple[object, ...] = (LayerSpinDensityTerm(_layer_spin(slab, spin), j, lay,
                                                      slab.n_layers, float(eta)),)
    if edelstein is not None:
        terms += (LayerSpinDensityTerm(_layer_spin(slab, edelstein), j, lay, slab.n_layers,
                                       formula="fermi_surface", gamma=float(gamma)),)
    if hall:
        terms += (BerryCurvatureTerm(((0, 1),), st),)
    return BandKernel(model, terms, st, e_max)


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


def top_half(n_layers: int) -> FloatArray:
    """Weights (n_layers,) of the top surface's layers: 1 on the upper half (the middle layer of
    an odd film counts to the bottom), 0 elsewhere — the one definition of "top" here."""
    mask = np.zeros(n_layers)
    mask[n_layers - n_layers // 2:] = 1.0
    return mask


@dataclasses.dataclass(frozen=True)
class SlabResponse:
    """Intrinsic spin density per layer and the slab's Hall conductance, at each E_F."""

    efermi: FloatArray  #: (n_E,) eV
    chi: FloatArray  #: (n_E, N_layers) χ^spin_field per layer, (ħ/2)/(Å V)
    sigma_xy: FloatArray  #: (n_E,) e²/h (tbspin's AHC sign: −C for filled Chern bands)
    spin: str
    field: str

    def top(self) -> FloatArray:
        """χ summed over the upper half of the layers (the top surface), (n_E,)."""
        n = self.chi.shape[1]
        return self.chi[:, top_half(n) > 0].sum(axis=1)


@GaugeRun.wrap
def layer_spin_density(slab: Slab, efermi: ArrayLike, *, spin: str = "y", field: str = "y",
                       nodes: int = 48, crowding: float = 40.0, temperature: float = 0.0,
                       chunk: int = 400, kernel: BandKernel | None = None,
                       workers: int | None = None) -> SlabResponse:
    """Intrinsic χ^spin_field of every layer and σ_xy of the slab on :func:`graded_points`
    (the surface-gap integrands live within ~ m/ħv of Γ), one diagonalization per k-point.

    ``kernel``: a :func:`layer_spin_density_kernel` of this slab built with ``hall=True``
    (e.g. with an Edelstein term too: its first N_layers components are taken as χ, its last as
    Ω^{xy}); by default the one of ``spin``, ``field``. ``workers``: chunks evaluated
    concurrently (default :func:`tbspin.engine.executor.default_workers`), one BLAS thread
    each; the sum runs in chunk order, so the result does not depend on it.

    Returns
    -------
    SlabResponse
        χ in (ħ/2)/(Å V) per layer (spin per Å² of surface per V/Å of field), σ_xy in e²/h.
    """
    ef = np.atleast_1d(np.asarray(efermi, dtype=float))
    if not np.all(np.isfinite(ef)) or ef.ndim != 1:
        raise ParameterError(f"efermi must be finite numbers, got {efermi!r}")
    if not (np.isfinite(temperature) and temperature >= 0):
        raise ParameterError(f"temperature must be >= 0 (K), got {temperature!r}")
    if slab.model.n_periodic != 2:
        raise ParameterError("layer_spin_density needs a slab with 2 periodic directions")
    e_max = float(ef.max()) + 40 * units.KB_EV * temperature + 0.05
    if kernel is None:
        kernel = layer_spin_density_kernel(slab, spin, field, e_max=e_max, hall=True)
    pts, w = graded_points(nodes, crowding, 2)
    points = WeightedPoints(slab.model, pts, w, chunk)
    task = BatchTask(kernel, points, ef, temperature)
    # chunks on ``workers`` (default: TBSPIN_WORKERS or all cores), one BLAS thread each, summed
    # in chunk order (the same bits for any worker count)
    parts = ChunkPool(workers).map(task, range(points.n_chunks))
    total = np.asarray(sum(cast(tuple[int, Any], p)[1] for p in parts)) / slab.model.cell_measure
    # the AHC record's 2D unit: σ_xy = −(e²/ħ) I = −2π I e²/h
    return SlabResponse(ef, total[:, :slab.n_layers], -2.0 * np.pi * total[:, -1], spin, field)


def surface_cone(slab: Slab, dirac_energy: float, gap: float, k0: float = 0.01
                 ) -> tuple[float, float]:
    """Velocity v (eV Å) and in-plane spin polarization ξ of the top-surface Dirac cone.

    Give it the film *without* magnetization (its ``gap`` is then the hybridization gap of the
    two surfaces): with m_z ≳ 10 meV the upper cone of Bi₂Se₃ runs into the bulk subbands and
    the splitting no longer measures v. At k = k0 x̂ the two cones sit at
    ε = ε_D + Dk0² ± Δ, Δ = √(v²k0² + (gap/2)²). The
    pair above and the pair below ε_D with the largest weight in the outer quarter of the layers
    (the surface states, not the bulk subbands that the upper cone meets) give Δ and v;
    ξ = |⟨s_∥⟩| / (v k0 / Δ) of the lower state most localized in the top half (a fully
    polarized Dirac spinor has ξ = 1; the lower cone lies deep in the bulk gap). The massive
    Dirac relation of the top surface (helicity H = v(σ_x k_y − σ_y k_x)) reads
    χ_top = +ξ σ_xy^top / (2π v) with both.
    """
    if not (np.isfinite(k0) and k0 > 0):
        raise ParameterError(f"surface_cone: k0 must be > 0 (1/Å), got {k0!r}")
    model = slab.model
    k = np.zeros((1, model.dim))
    k[0, 0] = k0
    E, U = np.linalg.eigh(model.hamiltonian(k))
    E, U = E[0], U[0]
    n, lay = slab.n_layers, slab.layer_of_orbital
    outer = (lay < max(n // 4, 1)) | (lay >= n - max(n // 4, 1))
    weight = np.sum(np.abs(U[outer]) ** 2, axis=0)
    window = np.abs(E - dirac_energy) < 0.25
    pairs = []
    for side in (E > dirac_energy, E <= dirac_energy):
        idx = np.nonzero(side & window)[0]
        if len(idx) < 2:
            raise ParameterError("surface_cone: no gapped pair of surface cones around "
                                 f"{dirac_energy:.4f} eV at k0 = {k0} 1/Å")
        pairs.append(sorted(idx[np.argsort(weight[idx])[-2:]]))
    up, lo = pairs
    half = 0.5 * (E[up].mean() - E[lo].mean())
    v = float(np.sqrt(max(half**2 - (0.5 * gap) ** 2, 0.0)) / k0)
    if v <= 0:
        raise ParameterError("surface_cone: the surface cone has no velocity at this k0")
    top = np.diag(top_half(n)[lay])
    sub = U[:, lo]
    c = np.linalg.eigh(sub.conj().T @ top @ sub)[1]
    psi = sub @ c[:, -1]
    s_par = np.array([np.vdot(psi, model.operators[f"s{a}"] @ psi).real for a in "xy"])
    return v, float(np.linalg.norm(s_par) / (v * k0 / half))
