"""Small closed-form lattice models used by the core tests (written out here, independently of the
catalogue in ``tbspin.models``, so that the evaluator is checked against formulas in plain sight)."""

from __future__ import annotations

import numpy as np

from tbspin import LatticeModel

S0 = np.eye(2)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]])
SZ = np.diag([1.0, -1.0]).astype(complex)


def qwz_hoppings(u: float) -> dict:
    """Qi–Wu–Zhang: h(k) = sin kx σx + sin ky σy + (u + cos kx + cos ky) σz (a = 1 Å).

    Chern number of the lower band: ±1 for 0 < |u| < 2, 0 for |u| > 2.
    """
    return {
        (0, 0): u * SZ,
        (1, 0): 0.5 * SZ - 0.5j * SX,
        (-1, 0): 0.5 * SZ + 0.5j * SX,
        (0, 1): 0.5 * SZ - 0.5j * SY,
        (0, -1): 0.5 * SZ + 0.5j * SY,
    }


def qwz(u: float = -1.0) -> LatticeModel:
    """Two-band QWZ Chern insulator."""
    return LatticeModel(lattice=np.eye(2), hoppings=qwz_hoppings(u), name=f"qwz(u={u})")


def bhz_doubled(u: float = -1.0) -> LatticeModel:
    """H(k) = diag(h(k), h*(−k)) with s_z = diag(1, 1, −1, −1): two opposite-Chern spin copies.

    Time-reversal and inversion-like symmetric: every band is doubly degenerate; s_z conserved.
    h*(−k) = Σ_R conj(h_R) e^{ik·R}, so the spin-down block has hoppings conj(h_R).
    """
    hop = {}
    for R, M in qwz_hoppings(u).items():
        B = np.zeros((4, 4), complex)
        B[:2, :2] = M
        B[2:, 2:] = np.conj(M)
        hop[R] = B
    ops = {"sx": np.kron(SX, S0), "sy": np.kron(SY, S0), "sz": np.kron(SZ, S0)}
    return LatticeModel(lattice=np.eye(2), hoppings=hop, operators=ops, name=f"bhz2(u={u})")


def kramers_ti(mass: float = 2.0, eta: float = 0.25, lattice=(4.0, 4.5, 3.5),
               g=(1.0, 0.6)) -> LatticeModel:
    """3D four-band TI: H = (M − Σ cos k_i a_i) τz + 0.6 Σ sin(k_i a_i) τx σ_i + 2η sin(k_x a) τy.

    Inversion P = τz and time reversal iσy K: every band is a Kramers pair (PT symmetry).
    Spin s_i = diag(g) ⊗ σ_i (orbital-dependent g-factors; for g = (1, 1) the conventional spin
    Hall conductivity of this Dirac model vanishes identically). s is *not* conserved, so proper
    and conventional spin currents differ.
    """
    g0 = np.kron(SZ, S0)
    gs = [np.kron(SX, s) for s in (SX, SY, SZ)]
    gy = np.kron(SY, S0)
    hop = {(0, 0, 0): mass * g0}
    for i in range(3):
        e = np.zeros(3, int)
        e[i] = 1
        t = -0.5 * g0 - 0.3j * gs[i] - (1j * eta * gy if i == 0 else 0)
        hop[tuple(e)] = t
        hop[tuple(-e)] = t.conj().T
    gd = np.diag(np.asarray(g, dtype=float))
    ops = {"sx": np.kron(gd, SX), "sy": np.kron(gd, SY), "sz": np.kron(gd, SZ)}
    return LatticeModel(lattice=np.diag(lattice), hoppings=hop, operators=ops, name="kramers_ti")


def haldane_pythtb(delta: float = 0.2, t: float = -1.0, t2: float = 0.15):
    """Haldane model written with PythTB's own API (as in PythTB's documentation example)."""
    from pythtb import tb_model

    lat = [[1.0, 0.0], [0.5, np.sqrt(3.0) / 2.0]]
    orb = [[1.0 / 3.0, 1.0 / 3.0], [2.0 / 3.0, 2.0 / 3.0]]
    tb = tb_model(2, 2, lat, orb)
    tb.set_onsite([-delta, delta])
    tb.set_hop(t, 0, 1, [0, 0])
    tb.set_hop(t, 1, 0, [1, 0])
    tb.set_hop(t, 1, 0, [0, 1])
    t2c = t2 * np.exp(1j * np.pi / 2)
    for lvec in ([1, 0], [-1, 1], [0, -1]):
        tb.set_hop(t2c, 0, 0, lvec)
    for lvec in ([-1, 0], [1, -1], [0, 1]):
        tb.set_hop(t2c, 1, 1, lvec)
    return tb


def random_model(rng: np.random.Generator, n: int = 3, dim: int = 2, nhop: int = 3) -> LatticeModel:
    """Random Hermitian model with random orbital positions and a random Hermitian 'spin'."""
    hop = {}
    for _ in range(nhop):
        R = tuple(int(x) for x in rng.integers(-1, 2, size=dim))
        M = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        if R == (0,) * dim:
            M = M + M.conj().T
            hop[R] = hop.get(R, 0) + M
            continue
        Rm = tuple(-x for x in R)
        hop[R] = hop.get(R, 0) + M
        hop[Rm] = hop.get(Rm, 0) + M.conj().T
    onsite = np.diag(rng.normal(scale=3.0, size=n))
    hop[(0,) * dim] = hop.get((0,) * dim, 0) + onsite
    S = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    ops = {"sz": S + S.conj().T}
    lat = np.eye(dim) + 0.2 * rng.normal(size=(dim, dim))
    return LatticeModel(lattice=lat, hoppings=hop, positions_reduced=rng.uniform(size=(n, dim)),
                        operators=ops, name="random")
