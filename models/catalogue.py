"""Validation catalogue: textbook topological and spin-orbit models as tbspin models.

Every function returns a :class:`tbspin.LatticeModel`; the k·p-type models also have a ``*_kp``
twin returning the :class:`tbspin.continuum.kp.KPModel` declaration (Kwant and PythTB forms from
``.kwant_builder()`` / ``.pythtb_model()``). The honeycomb models (Haldane, Kane–Mele) are
lattice models; their Kwant/PythTB forms are ``model.to_kwant()`` / ``model.to_pythtb()``.

Units: energies in eV (or in units of the hopping t for the dimensionless models, whose
lattice constant is then 1 Å), lengths in Å, spin operators in units of ħ/2.

==============  ======================================================================
function        source
==============  ======================================================================
``qwz``         Qi, Wu & Zhang, PRB 74, 085308 (2006)
``bhz``         Bernevig, Hughes & Zhang, Science 314, 1757 (2006); parameters and the
                inversion-asymmetry (spin-mixing) term: König et al., JPSJ 77, 031007 (2008)
``cubic_ti``    Qi, Hughes & Zhang, PRB 78, 195424 (2008) (3D lattice Dirac model)
``haldane``     Haldane, PRL 61, 2015 (1988)
``kane_mele``   Kane & Mele, PRL 95, 226801 (2005); PRL 95, 146802 (2005)
``rashba_gas``  Bychkov & Rashba, JETP Lett. 39, 78 (1984)
==============  ======================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tbspin.bz.kmesh import as_kpoints
from tbspin.continuum.kp import KPModel
from tbspin.model.lattice import LatticeModel
from tbspin.model.spin import PAULI as SPIN_PAULI
from tbspin.model.spin import SIGMA_0, spin_operators
from tbspin.units import HBAR2_2M

__all__ = [
    "qwz",
    "qwz_kp",
    "bhz",
    "bhz_kp",
    "cubic_ti",
    "cubic_ti_kp",
    "haldane",
    "kane_mele",
    "rashba_gas",
    "rashba_gas_kp",
    "PAULI",
    "model_forms",
    "form_hamiltonians",
]

#: σ0, σx, σy, σz (the Pauli matrices of :mod:`tbspin.model.spin`)
PAULI = (SIGMA_0, *SPIN_PAULI)


# ---------------------------------------------------------------------------- QWZ
def qwz_kp(u: float = -1.0, *, a: float = 1.0) -> KPModel:
    """Qi–Wu–Zhang Chern insulator as a k·p declaration (see :func:`qwz`)."""
    return KPModel(
        "A*(k_x*sigma_x + k_y*sigma_y) + (M - B*(k_x**2 + k_y**2))*sigma_z",
        params=dict(A=a, B=a**2 / 2, M=u + 2.0), spacing=a, name=f"QWZ(u={u:g})",
        check_inversions=False,  # a lattice model by design: zone-boundary inversions intended
        metadata=dict(source="Qi, Wu & Zhang, PRB 74, 085308 (2006)", u=u),
    )


def qwz(u: float = -1.0, *, a: float = 1.0) -> LatticeModel:
    """Qi–Wu–Zhang two-band Chern insulator.

    H(k) = sin(k_x a) σx + sin(k_y a) σy + (u + cos k_x a + cos k_y a) σz
    (Qi, Wu & Zhang, PRB 74, 085308 (2006); energies in units of the hopping).

    It is the regularization of A k·σ + (M − B k²) σz with A = a, B = a²/2, M = u + 2.
    Chern number of the lower band: |C| = 1 for 0 < |u| < 2 (opposite signs for u > 0 and
    u < 0), C = 0 for |u| > 2; the gap closes at u = 0 (at X, Y) and u = ±2 (at Γ, M).
    No spin operators (σ is a two-orbital pseudospin here).

    Parameters
    ----------
    u : float
        Mass parameter.
    a : float
        Lattice constant (Å).
    """
    return qwz_kp(u, a=a).lattice_model()


# ---------------------------------------------------------------------------- BHZ
_BHZ_HGTE_70 = dict(A=3.645, B=-68.6, C=0.0, D=-51.2, M=-0.010)


def bhz_kp(
    *,
    A: float = _BHZ_HGTE_70["A"],
    B: float = _BHZ_HGTE_70["B"],
    C: float = _BHZ_HGTE_70["C"],
    D: float = _BHZ_HGTE_70["D"],
    M: float = _BHZ_HGTE_70["M"],
    spin_mixing: float = 0.0,
    a: float = 10.0,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
) -> KPModel:
    """BHZ model as a k·p declaration (see :func:`bhz`)."""
    ham = (
        "(C - D*(k_x**2 + k_y**2))*kron(sigma_0, sigma_0)"
        " + A*(k_x*kron(sigma_z, sigma_x) - k_y*kron(sigma_0, sigma_y))"
        " + (M - B*(k_x**2 + k_y**2))*kron(sigma_0, sigma_z)"
        " + Delta*kron(sigma_y, sigma_y)"
    )
    ops = spin_operators(4, "block")  # (E1+, H1+ | E1-, H1-)
    # J_z of (E1+, H1+, E1-, H1-) = (1/2, 3/2, -1/2, -3/2) ħ, in units of ħ/2
    ops["jz"] = np.diag([1.0, 3.0, -1.0, -3.0]).astype(complex)
    return KPModel(
        ham, params=dict(A=A, B=B, C=C, D=D, M=M, Delta=spin_mixing), spacing=a,
        operators=ops, magnetization=magnetization, name="BHZ",
        metadata=dict(
            source="Bernevig, Hughes & Zhang, Science 314, 1757 (2006); "
            "König et al., JPSJ 77, 031007 (2008)",
            basis="E1+, H1+, E1-, H1-",
        ),
    )


def bhz(
    *,
    A: float = _BHZ_HGTE_70["A"],
    B: float = _BHZ_HGTE_70["B"],
    C: float = _BHZ_HGTE_70["C"],
    D: float = _BHZ_HGTE_70["D"],
    M: float = _BHZ_HGTE_70["M"],
    spin_mixing: float = 0.0,
    a: float = 10.0,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
) -> LatticeModel:
    """Bernevig–Hughes–Zhang model of a HgTe/CdTe quantum well, regularized on a square grid.

    Basis (E1+, H1+, E1−, H1−) (Bernevig, Hughes & Zhang, Science 314, 1757 (2006))::

        H(k) = [[h(k), Γ], [Γ†, h*(−k)]],   h(k) = ε(k) + A(k_x σx − k_y σy) + M(k) σz,
        ε(k) = C − D k²,   M(k) = M − B k²,   Γ = [[0, −Δ], [Δ, 0]]  (Δ τ_y⊗σ_y in total)

    Δ (``spin_mixing``) is the bulk-inversion-asymmetry term of König et al., JPSJ 77, 031007
    (2008); with Δ = 0 the model conserves the Kramers pseudospin ``sz`` = diag(1, 1, −1, −1)
    and is two opposite QWZ-type Chern copies: every band is doubly degenerate and the
    spin Chern number is ±1 in the inverted regime (M/B > 0).

    Default parameters: HgTe well of width 7.0 nm from König et al. (2008): A = 3.645 eV Å,
    B = −68.6 eV Å², D = −51.2 eV Å², M = −10 meV, C = 0 (inverted). Default grid a = 10 Å:
    the masses at X and M, M − 4B/a² and M − 8B/a², keep the normal sign (only Γ inverted).

    Operators: ``sx, sy, sz`` = σ_i ⊗ 1 act on the Kramers (block) index — the pseudospin used
    for the quantum spin Hall effect; ``jz`` = diag(1, 3, −1, −3) is the true J_z (units ħ/2).

    Parameters
    ----------
    A, B, C, D, M : float
        BHZ parameters (eV Å, eV Å², eV, eV Å², eV).
    spin_mixing : float
        Δ (eV).
    a : float
        Grid spacing (Å).
    magnetization : (3,) array_like
        Exchange vector m (eV) coupled as m·s.
    """
    return bhz_kp(
        A=A, B=B, C=C, D=D, M=M, spin_mixing=spin_mixing, a=a, magnetization=magnetization
    ).lattice_model()


# ---------------------------------------------------------------------------- 3D cubic TI
def cubic_ti_kp(
    *,
    A: float = 1.0,
    B: float = 1.0,
    M: float = 2.0,
    a: float = 1.0,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
) -> KPModel:
    """3D lattice Dirac (BHZ-type) topological insulator as a k·p declaration (see cubic_ti)."""
    ham = (
        "A*(k_x*kron(sigma_x, sigma_x) + k_y*kron(sigma_x, sigma_y) + k_z*kron(sigma_x, sigma_z))"
        " + (M - B*(k_x**2 + k_y**2 + k_z**2))*kron(sigma_z, sigma_0)"
    )
    return KPModel(
        ham, params=dict(A=A, B=B, M=M), spacing=a, operators=spin_operators(4, "interleaved"),
        magnetization=magnetization, name="cubic TI", check_inversions=False,
        metadata=dict(source="Qi, Hughes & Zhang, PRB 78, 195424 (2008)",
                      parity=np.kron(PAULI[3], PAULI[0]).real.tolist()),
    )


def cubic_ti(
    *,
    A: float = 1.0,
    B: float = 1.0,
    M: float = 2.0,
    a: float = 1.0,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
) -> LatticeModel:
    """3D BHZ-type topological insulator on a cubic lattice (4 bands).

    The lattice Dirac model of Qi, Hughes & Zhang, PRB 78, 195424 (2008)::

        H(k) = A Σ_i sin(k_i a)/a τx⊗σ_i + [M − 2B Σ_i (1 − cos k_i a)/a²] τz⊗σ0

    (regularization of A k·(τx⊗σ) + (M − B k²) τz⊗σ0), with orbital τ and spin σ. Inversion
    P = τz⊗σ0, time reversal iσy K. The Dirac masses at the TRIMs are M (Γ), M − 4B/a² (X),
    M − 8B/a² (M), M − 12B/a² (R): strong TI (ν₀ = 1) for 0 < M a²/B < 4 or 8 < M a²/B < 12,
    weak TI for 4 < M a²/B < 8, trivial otherwise. Default A = B = 1, M = 2, a = 1 (strong TI).
    This is a lattice model by design (its zone-boundary inversions for M a²/B > 4 are
    intended), so the regularization warning of :class:`tbspin.continuum.kp.KPModel` is switched off.
    Spin: s = τ0⊗σ (units ħ/2).
    """
    return cubic_ti_kp(A=A, B=B, M=M, a=a, magnetization=magnetization).lattice_model()


# ---------------------------------------------------------------------------- Rashba gas
def rashba_gas_kp(
    *,
    m_eff: float = 0.05,
    alpha: float = 0.07,
    a: float = 5.0,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
) -> KPModel:
    """2D Rashba electron gas as a k·p declaration (see :func:`rashba_gas`)."""
    return KPModel(
        "C*(k_x**2 + k_y**2)*sigma_0 + alpha*(k_x*sigma_y - k_y*sigma_x)",
        params=dict(C=HBAR2_2M / m_eff, alpha=alpha), spacing=a,
        operators=spin_operators(2, "interleaved"),
        magnetization=magnetization, name="Rashba 2DEG",
        metadata=dict(source="Bychkov & Rashba, JETP Lett. 39, 78 (1984)", m_eff=m_eff),
    )


def rashba_gas(
    *,
    m_eff: float = 0.05,
    alpha: float = 0.07,
    a: float = 5.0,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
) -> LatticeModel:
    """2D electron gas with Rashba spin–orbit coupling, regularized on a square grid.

    H(k) = ħ²k²/(2 m* m_e) + α (k_x σy − k_y σx) + m·σ (Bychkov & Rashba, JETP Lett. 39,
    78 (1984)); bands E± = ħ²k²/2m* ± α|k| at m = 0. Defaults m* = 0.05, α = 0.07 eV Å are of
    the size measured in InGaAs/InAlAs wells (Nitta et al., PRL 78, 1335 (1997)); grid a = 5 Å
    (ka < 0.25 up to k = 0.05 1/Å). Spin: s = σ (units ħ/2).

    Parameters
    ----------
    m_eff : float
        Effective mass in units of the free electron mass.
    alpha : float
        Rashba parameter (eV Å).
    a : float
        Grid spacing (Å).
    magnetization : (3,) array_like
        Exchange vector m (eV).
    """
    return rashba_gas_kp(m_eff=m_eff, alpha=alpha, a=a, magnetization=magnetization).lattice_model()


# ---------------------------------------------------------------------------- honeycomb
def _honeycomb(a: float) -> tuple[np.ndarray, np.ndarray]:
    """Triangular Bravais lattice (rows) and the A, B positions (reduced) of graphene."""
    lat = a * np.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    red = np.array([[1 / 3, 1 / 3], [2 / 3, 2 / 3]])
    return lat, red


#: Nearest neighbours of A: B sits at R ∈ {0, −a1, −a2} (reduced R of the B orbital).
_NN_R = ((0, 0), (-1, 0), (0, -1))
#: Next-nearest-neighbour vectors v1 = a1, v2 = a2 − a1, v3 = −a2 (counter-clockwise, 120° apart).
_NNN_R = ((1, 0), (-1, 1), (0, -1))


def haldane(
    *,
    t1: float = 1.0,
    t2: float = 0.1,
    phi: float = np.pi / 2,
    M: float = 0.0,
    a: float = 1.0,
) -> LatticeModel:
    """Haldane model of a Chern insulator on the honeycomb lattice (spinless, 2 bands).

    Haldane, PRL 61, 2015 (1988)::

        H = t1 Σ_⟨ij⟩ c†_i c_j + t2 Σ_⟨⟨ij⟩⟩ e^{i ν_ij φ} c†_i c_j + M Σ_i ξ_i c†_i c_i

    Lattice a1 = a(1, 0), a2 = a(1/2, √3/2); A at (1/3, 1/3), B at (2/3, 2/3) (reduced). The
    next-nearest-neighbour hopping from A along v ∈ {a1, a2 − a1, −a2} is t2 e^{+iφ}, from B
    along the same v it is t2 e^{−iφ} (ν = ±1), the conjugates in the opposite directions;
    ξ = +1 on A, −1 on B. Then d_z(k) = M − 2 t2 sin φ Σ_v sin(k·v), and at the two Dirac
    points the gaps are 2|M ∓ 3√3 t2 sin φ|: Chern insulator (|C| = 1) for
    |M| < 3√3 |t2 sin φ|, trivial beyond.

    Parameters
    ----------
    t1, t2 : float
        Nearest and next-nearest hopping (energy unit).
    phi : float
        Haldane flux phase.
    M : float
        Sublattice (Semenoff) mass.
    a : float
        Lattice constant (Å); the A–B distance is a/√3.
    """
    lat, red = _honeycomb(a)
    hop: dict[tuple[int, int], np.ndarray] = {}

    def add(R: tuple[int, int], m: int, n: int, val: complex) -> None:
        """H_R[m, n] += val and its Hermitian partner H_{-R}[n, m] += val*."""
        hop.setdefault(R, np.zeros((2, 2), complex))[m, n] += val
        if any(R) or m != n:
            hop.setdefault((-R[0], -R[1]), np.zeros((2, 2), complex))[n, m] += np.conj(val)

    add((0, 0), 0, 0, M)
    add((0, 0), 1, 1, -M)
    for R in _NN_R:
        add(R, 0, 1, t1)
    for R in _NNN_R:
        add(R, 0, 0, t2 * np.exp(1j * phi))
        add(R, 1, 1, t2 * np.exp(-1j * phi))
    return LatticeModel(
        lattice=lat, positions_reduced=red, hoppings=hop,
        name=f"Haldane(t2={t2:g}, phi={phi:.4g}, M={M:g})",
        metadata=dict(source="Haldane, PRL 61, 2015 (1988)", t1=t1, t2=t2, phi=phi, M=M),
    )


def kane_mele(
    *,
    t: float = 1.0,
    lambda_so: float = 0.06,
    lambda_r: float = 0.05,
    lambda_v: float = 0.1,
    a: float = 1.0,
    magnetization: Sequence[float] = (0.0, 0.0, 0.0),
) -> LatticeModel:
    """Kane–Mele model of the quantum spin Hall effect in graphene (4 bands, with Rashba).

    Kane & Mele, PRL 95, 226801 (2005)::

        H = t Σ_⟨ij⟩ c†_i c_j + i λ_SO Σ_⟨⟨ij⟩⟩ ν_ij c†_i s_z c_j
            + i λ_R Σ_⟨ij⟩ c†_i (s × d̂_ij)_z c_j + λ_v Σ_i ξ_i c†_i c_i

    with d̂_ij the unit vector from site j to site i and ν_ij = +1 for the Haldane directions
    of :func:`haldane` on A (−1 on B). With λ_R = 0 the spin-up block is :func:`haldane` with
    t2 = λ_SO, φ = π/2, M = λ_v and spin-down the same with φ = −π/2; the model is then a
    QSH insulator for λ_v < 3√3 λ_SO. Defaults λ_SO = 0.06 t, λ_R = 0.05 t, λ_v = 0.1 t are
    Kane & Mele's QSH example (their Fig. 1a). Basis (A↑, A↓, B↑, B↓); spin s = 1⊗σ.

    Parameters
    ----------
    t, lambda_so, lambda_r, lambda_v : float
        Hopping, intrinsic SOC, Rashba SOC, staggered potential (energy unit).
    a : float
        Lattice constant (Å).
    magnetization : (3,) array_like
        Exchange vector m coupled as m·s.
    """
    lat, red = _honeycomb(a)
    tau = red @ lat
    s0, sx, sy, sz = PAULI
    hop: dict[tuple[int, int], np.ndarray] = {}

    def add(R: tuple[int, int], m: int, n: int, block: np.ndarray) -> None:
        """Spin block of H_R between sites m, n and its Hermitian partner at -R."""
        H = hop.setdefault(R, np.zeros((4, 4), complex))
        H[2 * m : 2 * m + 2, 2 * n : 2 * n + 2] += block
        if any(R) or m != n:
            Hm = hop.setdefault((-R[0], -R[1]), np.zeros((4, 4), complex))
            Hm[2 * n : 2 * n + 2, 2 * m : 2 * m + 2] += block.conj().T

    add((0, 0), 0, 0, lambda_v * s0)
    add((0, 0), 1, 1, -lambda_v * s0)
    for R in _NN_R:
        d = tau[0] - (tau[1] + np.asarray(R) @ lat)  # from j = B(R) to i = A(0)
        d = d / np.linalg.norm(d)
        add(R, 0, 1, t * s0 + 1j * lambda_r * (sx * d[1] - sy * d[0]))
    for R in _NNN_R:
        add(R, 0, 0, 1j * lambda_so * sz)
        add(R, 1, 1, -1j * lambda_so * sz)
    model = LatticeModel(
        lattice=lat, positions=np.repeat(tau, 2, axis=0), hoppings=hop,
        operators=spin_operators(4, "interleaved"), name="Kane-Mele",
        metadata=dict(source="Kane & Mele, PRL 95, 226801 (2005)", t=t, lambda_so=lambda_so,
                      lambda_r=lambda_r, lambda_v=lambda_v),
    )
    m = np.asarray(magnetization, dtype=float).reshape(3)
    return model.with_zeeman(m) if np.any(m) else model.replace(magnetization=m)


def model_forms(model_or_kp: Any) -> dict[str, Any]:
    """The three forms of a catalogue model: ``{"lattice", "pythtb", "kwant"}``."""
    if isinstance(model_or_kp, KPModel):
        return dict(
            lattice=model_or_kp.lattice_model(), pythtb=model_or_kp.pythtb_model(),
            kwant=model_or_kp.kwant_builder(),
        )
    return dict(lattice=model_or_kp, pythtb=model_or_kp.to_pythtb(), kwant=model_or_kp.to_kwant())


def _kwant_bloch(builder: Any, lattice: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H(k) of a bulk Kwant Builder evaluated by Kwant, in the positions convention.

    Returns the Hamiltonians (Nk, N, N) in the finalized system's orbital order and the
    Cartesian position (N, d) of each of those orbitals (sampled by
    :func:`tbspin.adapters.kwant.bloch_hamiltonians`; meant for checks, not production sweeps).
    """
    from tbspin.adapters.kwant import (
        bloch_hamiltonians,
        kwant_k_phases,
        require_kwant,
        wrapped_orbital_positions,
    )

    kwant = require_kwant("the Kwant form of a catalogue model")
    fsyst = kwant.wraparound.wraparound(builder).finalized()
    pos = wrapped_orbital_positions(fsyst)
    H = bloch_hamiltonians(fsyst, kwant_k_phases(lattice, k))
    D = np.exp(1j * k @ pos.T)  # cell -> positions convention with Kwant's own site positions
    return np.conj(D)[:, :, None] * H * D[:, None, :], pos


def form_hamiltonians(model_or_kp: Any, k: Any) -> dict[str, np.ndarray]:
    """H(k) (positions convention, model orbital order) of the LatticeModel, PythTB and Kwant forms.

    Parameters
    ----------
    model_or_kp : LatticeModel or KPModel
        A catalogue model or its k·p declaration (whose Kwant form is the
        ``kwant.continuum.discretize`` template, its PythTB form ``to_pythtb``).
    k : (Nk, d) array_like
        Cartesian wave vectors (1/Å).

    Returns
    -------
    dict {"lattice", "pythtb", "kwant"} of (Nk, N, N) arrays; each evaluated by its own code
    (PythTB through its eigenpairs, Kwant through ``wraparound``), orbitals mapped to the
    model's order by position and, within a site, by the adapters' order.
    """
    from tbspin.adapters.kwant import kwant_orbital_order
    from tbspin.adapters.pythtb import pythtb_hamiltonian

    forms = model_forms(model_or_kp)
    model = forms["lattice"]
    k = as_kpoints(k, model.dim)
    out = {"lattice": model.replace(convention="positions").hamiltonian(k)}
    kred = k @ model.lattice[list(model.periodic)].T / (2 * np.pi)
    out["pythtb"] = pythtb_hamiltonian(forms["pythtb"], kred)
    Hk, pos = _kwant_bloch(forms["kwant"], model.lattice, k)
    if isinstance(model_or_kp, KPModel):
        order = np.arange(model.n_orbitals)  # one site with all orbitals, k·p order
    else:
        # Kwant orbital p sits at pos[p]; to_kwant keeps the model order within each site
        order_b = kwant_orbital_order(model)
        red_m = model.positions_reduced[order_b]
        red_k = pos @ np.linalg.inv(model.lattice)
        order = np.empty(model.n_orbitals, int)
        used = np.zeros(model.n_orbitals, bool)
        for p, r in enumerate(red_k):  # match each Kwant orbital to the next unused model one
            diff = r - red_m
            hit = np.nonzero(np.all(np.abs(diff - np.round(diff)) < 1e-8, axis=1) & ~used)[0][0]
            used[hit] = True
            order[p] = order_b[hit]
    inv = np.argsort(order)
    out["kwant"] = Hk[:, inv][:, :, inv]
    return out
