"""Bulk Bi₂Se₃: the 4-band k·p model of Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eq. (10).

Hamiltonian
-----------
Basis (orbital 1 ↑, orbital 1 ↓, orbital 2 ↑, orbital 2 ↓) (|P1⁺_z⟩ and |P2⁻_z⟩ of Zhang et al.)::

    H(k) = ε_k + [[−𝓜+m_z,  m₋,      𝓑k_z,  𝓐k₋ ],
                  [ m₊,    −𝓜−m_z,   𝓐k₊,  −𝓑k_z],
                  [ 𝓑k_z,   𝓐k₋,    𝓜+m_z,  m₋  ],
                  [ 𝓐k₊,   −𝓑k_z,    m₊,   𝓜−m_z]]

    ε_k = C₀ + C₁k_z² + C₂k_∥²,  𝓜 = M₀ + M₁k_z² + M₂k_∥²,  𝓐 = A₀ + A₂k_∥²,  𝓑 = B₀ + B₂k_z²,

k± = k_x ± i k_y, m± = m_x ± i m_y. In Kronecker form (τ orbital, σ spin)::

    H = ε_k − 𝓜 τz⊗σ0 + 𝓐 (k_x τx⊗σx + k_y τx⊗σy) + 𝓑 k_z τx⊗σz + m·(τ0⊗σ).

Inversion is P = τz⊗σ0 (P H(k) P = H(−k)), time reversal iσy K (broken by m).

Spin operator: s = τ0⊗σ (units ħ/2). This is the paper's approximation: the true spin content
of the |P1⁺_z, ↑⟩ and |P2⁻_z, ↑⟩ states is not pure (spin–orbit mixes in the other spin),
so τ0⊗σ is the spin only to the extent that this mixing is neglected.

Parameter sets
--------------
``"liu2010"`` (default): Liu et al., PRB 82, 045122 (2010), Bi₂Se₃ column, in Eq. (10)'s
names: A₀ = 3.33 eV Å, B₀ = 2.26 eV Å, C₀ = −0.0083 eV, C₁ = 5.74 eV Å², C₂ = 30.4 eV Å²,
M₀ = −0.28 eV, M₁ = 6.86 eV Å², M₂ = 44.5 eV Å², A₂ = B₂ = 0.

``"zhang2009"``: Zhang et al., Nat. Phys. 5, 438 (2009): M = 0.28 eV, A₁ = 2.2 eV Å,
A₂ = 4.1 eV Å, B₁ = 10 eV Å², B₂ = 56.6 eV Å², C = −0.0068 eV, D₁ = 1.3 eV Å²,
D₂ = 19.6 eV Å². Zhang et al. write +M(k) = M − B₁k_z² − B₂k_∥² on orbital 1, Eq. (10) writes
−𝓜 there, so 𝓜 = −M(k): M₀ = −M, M₁ = B₁, M₂ = B₂; further B₀ = A₁ (k_z), A₀ = A₂ (in-plane),
C₀ = C, C₁ = D₁, C₂ = D₂. The conversion is done explicitly in :data:`BI2SE3_PARAMETERS`.

Both sets are inverted at Γ (M₀ < 0 < M₁, M₂): the Γ levels are C₀ ± |M₀| with the
conduction-band bottom at C₀ + |M₀| = 0.2717 eV (Liu 2010).

Lattice regularization and the default spacings
-----------------------------------------------
The model is regularized on an orthorhombic grid (spacing ``a`` in-plane, ``c`` along z)
with :class:`tbspin.continuum.kp.KPModel` (k → sin(ka)/a, k² → 2(1 − cos ka)/a²). At the zone-boundary
TRIMs the Dirac mass becomes M₀ + 4M₁/c² (k_z = π/c), M₀ + 4M₂/a² (in-plane) and sums of
these; it must keep the normal sign there, i.e. c < √(4M₁/|M₀|) = 9.90 Å and
a < √(4M₂/|M₀|) = 25.2 Å (Liu 2010), or the regularization adds band inversions (and the
strong Z₂ index drops to 0). A second, stricter condition comes from the valence level at
k_z = π/c, (C₀ − M₀) + 4(C₁ − M₁)/c²: because C₁ ≈ M₁ the regularized valence band is almost
flat along k_z and this level rises above the continuum valence maximum (−0.072 eV, below)
unless c < 2√((M₁ − C₁)/(C₀ − M₀ + 0.072 eV)) = 3.61 Å; a larger c moves the valence maximum
to the zone boundary and shrinks the gap (c = 4.77 Å gives 0.197 eV instead of 0.34 eV).

Defaults: a = 4.14 Å, the in-plane lattice constant of Bi₂Se₃ (Nakajima, J. Phys. Chem.
Solids 24, 479 (1963)), and c = 3.0 Å. Then the zone-boundary masses are +2.77 eV (k_z) and
+10.1 eV (in-plane), the valence level at k_z = π/c is −0.226 eV, so the only band inversion
is at Γ, the conduction minimum is at Γ and the valence maximum is the continuum one near Γ:
the global gap is that of the continuum model up to the O(a²k²) regularization error
(0.3386 eV vs 0.3439 eV at a = 4.14 Å; the error falls as a²). The lattice energies agree with
the k·p ones to better than 1 meV for |k| < 0.05 Å⁻¹ (tests/test_bi2se3.py). Smaller spacings
are possible but enlarge the Brillouin zone that a k-mesh has to cover.

Hexagonal warping (option ``warping=True``, default off)
-------------------------------------------------------
Liu et al., PRB 82, 045122 (2010), Eq. (29)/(30) add the cubic, C₃-symmetric terms
R₁ Γ₃ (k_x³ − 3k_x k_y²) + R₂ Γ₄ (3k_x²k_y − k_y³) with R₁ = 50.6 eV Å³, R₂ = −113.3 eV Å³
(Bi₂Se₃ column of their parameter table; x along the two-fold axis). In Eq. (10)'s basis Γ₄ is
the matrix of the 𝓑k_z term, τx⊗σz, and Γ₃ the remaining odd-parity, time-reversal-odd Dirac
matrix, τy⊗σ0 (it anticommutes with every other term, so the sign of R₁ does not enter the
bands). They lower the continuous in-plane rotation symmetry of Eq. (10) to C₃; the paper
states that σ^y_zx stays isotropic with them (tbspin.reproduce fig1 checks it).

Note: with the Liu 2010 set the continuum model's valence band is M-shaped in-plane (its
maximum, −0.0722 eV, lies at k_∥ ≈ 0.092 Å⁻¹, because C₂ > 0 and A₀² < 2|M₀|M₂), so the
global (indirect) gap, 0.3439 eV, is smaller than the Γ gap 2|M₀| = 0.56 eV. A global gap
equal to the Γ gap is therefore impossible for this parameter set with any spacing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tbspin.continuum.kp import KPModel
from tbspin.errors import ModelError
from tbspin.model.lattice import LatticeModel
from tbspin.model.spin import spin_operators

__all__ = ["BI2SE3_PARAMETERS", "ZHANG2009_RAW", "bi2se3", "bi2se3_kp", "PARITY", "zhang_to_eq10",
           "WARPING_LIU2010"]

#: Zhang et al., Nat. Phys. 5, 438 (2009), in their own notation and sign convention.
ZHANG2009_RAW = dict(M=0.28, A1=2.2, A2=4.1, B1=10.0, B2=56.6, C=-0.0068, D1=1.3, D2=19.6)


def zhang_to_eq10(p: Mapping[str, float]) -> dict[str, float]:
    """Convert Zhang et al. (2009) parameters to the names/signs of the paper's Eq. (10).

    Zhang's orbital-1 mass +M(k) = M − B₁k_z² − B₂k_∥² equals Eq. (10)'s −𝓜, hence
    M₀ = −M, M₁ = B₁, M₂ = B₂; A₁ (along k_z) → B₀, A₂ (in-plane) → A₀, C → C₀, D_i → C_i.
    """
    return dict(
        A0=p["A2"], A2=0.0, B0=p["A1"], B2=0.0, C0=p["C"], C1=p["D1"], C2=p["D2"],
        M0=-p["M"], M1=p["B1"], M2=p["B2"],
    )


#: Named parameter sets in Eq. (10)'s notation (eV, eV Å, eV Å², eV Å³).
BI2SE3_PARAMETERS: dict[str, dict[str, float]] = {
    "liu2010": dict(
        A0=3.33, A2=0.0, B0=2.26, B2=0.0, C0=-0.0083, C1=5.74, C2=30.4,
        M0=-0.28, M1=6.86, M2=44.5,
    ),
    "zhang2009": zhang_to_eq10(ZHANG2009_RAW),
}

_SOURCES = {
    "liu2010": "Liu et al., PRB 82, 045122 (2010)",
    "zhang2009": "Zhang et al., Nat. Phys. 5, 438 (2009) (sign of M converted)",
}

#: Default grid spacings (Å): in-plane a, out-of-plane c (see the module docstring).
DEFAULT_A = 4.14
DEFAULT_C = 3.0

#: Inversion operator P = τz⊗σ0.
PARITY = np.diag([1.0, 1.0, -1.0, -1.0]).astype(complex)

#: Hexagonal-warping coefficients (eV Å³), Liu et al., PRB 82, 045122 (2010), Bi₂Se₃.
WARPING_LIU2010 = dict(R1=50.6, R2=-113.3)

_WARPING = (
    " + R1*(k_x**3 - 3*k_x*k_y**2)*kron(sigma_y, sigma_0)"
    " + R2*(3*k_x**2*k_y - k_y**3)*kron(sigma_x, sigma_z)"
)

_HAMILTONIAN = (
    "(C0 + C1*k_z**2 + C2*(k_x**2 + k_y**2))*kron(sigma_0, sigma_0)"
    " - (M0 + M1*k_z**2 + M2*(k_x**2 + k_y**2))*kron(sigma_z, sigma_0)"
    " + (A0 + A2*(k_x**2 + k_y**2))*(k_x*kron(sigma_x, sigma_x) + k_y*kron(sigma_x, sigma_y))"
    " + (B0 + B2*k_z**2)*k_z*kron(sigma_x, sigma_z)"
)


def _spin() -> dict[str, np.ndarray]:
    """s = τ0 ⊗ σ (units of ħ/2): the interleaved spinor order of :mod:`tbspin.model.spin`."""
    return spin_operators(4, "interleaved")


def bi2se3_kp(
    *,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
    parameters: str | Mapping[str, float] = "liu2010",
    a: float = DEFAULT_A,
    c: float = DEFAULT_C,
    warping: bool = False,
    **overrides: float,
) -> KPModel:
    """Bi₂Se₃ k·p declaration (paper's Eq. 10); see :func:`bi2se3` and the module docstring."""
    if isinstance(parameters, str):
        try:
            params = dict(BI2SE3_PARAMETERS[parameters])
        except KeyError:
            raise ModelError(
                f"unknown Bi2Se3 parameter set {parameters!r}; choose from "
                f"{sorted(BI2SE3_PARAMETERS)} or pass a mapping"
            ) from None
        source = _SOURCES[parameters]
    else:
        params = dict(BI2SE3_PARAMETERS["liu2010"])
        params.update(parameters)
        source = "user parameters"
    if warping:
        params = {**WARPING_LIU2010, **params}
        source += "; hexagonal warping R1, R2: Liu et al., PRB 82, 045122 (2010)"
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise ModelError(f"unknown Bi2Se3 parameter(s) {unknown}; known: {sorted(params)}")
    params.update(overrides)
    ops = _spin()
    ops["parity"] = PARITY
    return KPModel(
        _HAMILTONIAN + (_WARPING if warping else ""), params=params, spacing=(a, a, c), operators=ops,
        magnetization=magnetization, name="Bi2Se3",
        metadata=dict(
            source=f"Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eq. (10); parameters: {source}",
            parameters=parameters if isinstance(parameters, str) else "custom",
            basis="orbital 1 up, orbital 1 down, orbital 2 up, orbital 2 down",
        ),
    )


def bi2se3(
    *,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
    parameters: str | Mapping[str, float] = "liu2010",
    a: float = DEFAULT_A,
    c: float = DEFAULT_C,
    warping: bool = False,
    lattice: str = "square",
    **overrides: Any,
) -> LatticeModel:
    """Bulk Bi₂Se₃ 4-band model (paper's Eq. 10), regularized on a grid or a hexagonal lattice.

    Parameters
    ----------
    magnetization : (3,) array_like
        Exchange vector m (eV), coupled as m·(τ0⊗σ).
    parameters : {"liu2010", "zhang2009"} or mapping
        Parameter set (module docstring); a mapping updates the Liu 2010 set.
    a, c : float
        Grid spacings in-plane and along z (Å). c > √(4M₁/|M₀|) (9.9 Å for Liu 2010) creates
        a spurious inversion at k_z = π/c and raises a RegularizationWarning.
    warping : bool
        Add the hexagonal-warping terms of Liu et al. (2010) with R1 = 50.6, R2 = −113.3 eV Å³
        (module docstring); default off (the paper's Eq. 10).
    lattice : {"square", "hexagonal"}
        "square" (default): Kwant finite differences on the orthorhombic grid diag(a, a, c).
        "hexagonal": lattice harmonics on the neighbour shells of the simple hexagonal lattice
        a₁ = a x̂, a₂ = a(−½, √3/2, 0), a₃ = c ẑ (:mod:`tbspin.continuum.lattice`), which keeps the C₃
        symmetry of the warping terms exactly (:mod:`tbspin.models.bi2se3_hex`).
    **overrides : float
        Individual parameters (A0, A2, B0, B2, C0, C1, C2, M0, M1, M2; R1, R2 with warping).

    Returns
    -------
    LatticeModel
        With operators ``sx, sy, sz`` (τ0⊗σ) and ``parity`` (τz⊗σ0), ``magnetization`` set.
    """
    kp = bi2se3_kp(
        magnetization=magnetization, parameters=parameters, a=a, c=c, warping=warping, **overrides
    )
    if lattice == "square":
        return kp.lattice_model()
    if lattice == "hexagonal":
        from .bi2se3_hex import hexagonal_model

        return hexagonal_model(kp, a=a, c=c)
    raise ModelError(f"bi2se3: lattice must be 'square' or 'hexagonal', got {lattice!r}")
