"""Crystal symmetry as data (issue 23): real harmonics, spinors, bases, groups, symmetrization.

Where the expected values come from:

* Real harmonics: the normalized functions of the Wannier90 user guide, Table 3.1 (identical to
  the VASP wiki "Angular functions"), written out below with their constants and evaluated at
  rotated points; nothing is taken from the code under test.
* Hybrids: Table 3.2 of the same guide; orthonormality is exact.
* Spinor rotations: U σ_j U† = Σ_k R_kj σ_k (spin is a vector) and U(C2)² = −1 (double group),
  textbook properties of SU(2).
* Group orders and symbols: International Tables (Fm-3m No. 225 has 48 point operations, Fd-3m
  No. 227 48 with non-symmorphic translations, P6_3/mmc No. 194 24); bcc Fe with m ∥ z is
  4/mm'm' (8 unitary + 8 antiunitary point operations, BNS 139.537).
* Symmetrized random models: H(gk) = M H(k) M† for every element and idempotence are exact
  consequences of the group average (tbspin/crystal/symmetrize.py docstring); a model built
  symmetric (nearest-neighbour fcc s band, Slater–Koster p bands on a simple cubic lattice) must
  come back unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from tbspin import LatticeModel
from tbspin.crystal import (
    CrystalStructure,
    OrbitalBasis,
    commutation_error,
    harmonic_matrix,
    orbital_coefficients,
    represent,
    space_group,
    spinor_rotation,
    symmetrize,
    with_structure,
)
from tbspin.crystal.orbitals import HYBRIDS, ORBITALS
from tbspin.errors import ModelError, ParameterError
from tbspin.model.spin import PAULI

SQ = np.sqrt
PI = np.pi
# Wannier90 user guide Table 3.1, normalized on the unit sphere (x, y, z = components of r̂)
W90: dict[str, object] = {
    "s": lambda x, y, z: 1 / SQ(4 * PI) + 0 * x,
    "pz": lambda x, y, z: SQ(3 / (4 * PI)) * z,
    "px": lambda x, y, z: SQ(3 / (4 * PI)) * x,
    "py": lambda x, y, z: SQ(3 / (4 * PI)) * y,
    "dz2": lambda x, y, z: SQ(5) / (4 * SQ(PI)) * (3 * z**2 - 1),
    "dxz": lambda x, y, z: SQ(15) / (2 * SQ(PI)) * x * z,
    "dyz": lambda x, y, z: SQ(15) / (2 * SQ(PI)) * y * z,
    "dx2-y2": lambda x, y, z: SQ(15) / (4 * SQ(PI)) * (x**2 - y**2),
    "dxy": lambda x, y, z: SQ(15) / (2 * SQ(PI)) * x * y,
    "fz3": lambda x, y, z: SQ(7) / (4 * SQ(PI)) * z * (5 * z**2 - 3),
    "fxz2": lambda x, y, z: SQ(21) / (4 * SQ(2 * PI)) * x * (5 * z**2 - 1),
    "fyz2": lambda x, y, z: SQ(21) / (4 * SQ(2 * PI)) * y * (5 * z**2 - 1),
    "fz(x2-y2)": lambda x, y, z: SQ(105) / (4 * SQ(PI)) * z * (x**2 - y**2),
    "fxyz": lambda x, y, z: SQ(105) / (2 * SQ(PI)) * x * y * z,
    "fx(x2-3y2)": lambda x, y, z: SQ(35) / (4 * SQ(2 * PI)) * x * (x**2 - 3 * y**2),
    "fy(3x2-y2)": lambda x, y, z: SQ(35) / (4 * SQ(2 * PI)) * y * (3 * x**2 - y**2),
}


def _unit(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1)[:, None]


def _w90(r: np.ndarray) -> np.ndarray:
    return np.stack([W90[n](*r.T) for n in ORBITALS], axis=1)  # type: ignore[operator]


@pytest.mark.parametrize("improper", [False, True])
def test_harmonics_rotate_as_wannier90_polynomials(improper: bool) -> None:
    """(g Y_m)(r) = Y_m(R⁻¹ r) = Σ_m' Y_m'(r) D_m'm(R) for all 16 functions of Table 3.1."""
    assert tuple(W90) == ORBITALS  # the order of Table 3.1
    r = _unit(60, 1)
    for seed in range(4):
        R = Rotation.random(random_state=seed).as_matrix() * (-1 if improper else 1)
        D = harmonic_matrix(R)
        lhs = _w90(r @ R)  # rows: R⁻¹ r = Rᵀ r
        np.testing.assert_allclose(lhs, _w90(r) @ D, atol=1e-12)
        np.testing.assert_allclose(D @ D.T, np.eye(16), atol=1e-12)


def test_harmonic_matrix_explicit_c4_and_inversion() -> None:
    """C4 about z: px → py, py → −px, dx2-y2 → −dx2-y2, dxy → −dxy; inversion: (−1)^l."""
    C4 = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    D = harmonic_matrix(C4)
    i = {n: j for j, n in enumerate(ORBITALS)}
    assert D[i["py"], i["px"]] == pytest.approx(1)
    assert D[i["px"], i["py"]] == pytest.approx(-1)
    assert D[i["dx2-y2"], i["dx2-y2"]] == pytest.approx(-1)
    assert D[i["dxy"], i["dxy"]] == pytest.approx(-1)
    assert D[i["pz"], i["pz"]] == pytest.approx(1)
    par = np.diag(harmonic_matrix(-np.eye(3)))
    np.testing.assert_allclose(par, [1] + [-1] * 3 + [1] * 5 + [-1] * 7)
    R1, R2 = Rotation.random(2, random_state=3).as_matrix()
    np.testing.assert_allclose(harmonic_matrix(R1 @ R2), harmonic_matrix(R1) @ harmonic_matrix(R2),
                               atol=1e-12)


def test_hybrids_are_table_3_2_and_orthonormal() -> None:
    """Table 3.2 sets are orthonormal; sp3-2 = ½(s + px − py − pz); evaluation at points."""
    for name, rows in HYBRIDS.items():
        _, C = orbital_coefficients(name)
        assert C.shape == (len(rows), 16)
        np.testing.assert_allclose(C @ C.T, np.eye(len(rows)), atol=1e-12)
    r = _unit(20, 2)
    Y = _w90(r)
    _, C = orbital_coefficients("sp3-2")
    expect = 0.5 * (W90["s"](*r.T) + W90["px"](*r.T) - W90["py"](*r.T)  # type: ignore[operator]
                    - W90["pz"](*r.T))  # type: ignore[operator]
    np.testing.assert_allclose(Y @ C[0], expect, atol=1e-12)
    labels, C = orbital_coefficients("l=-5,mr=5")
    assert labels == ("sp3d2-5",)
    with pytest.raises(ParameterError, match="unknown projection"):
        orbital_coefficients("sp4")


def test_spinor_rotation_rotates_spin_and_double_group_sign() -> None:
    """U σ_j U† = Σ_k P_kj σ_k with P the proper part; U(C2)² = −1; inversion acts as 1."""
    for seed in range(3):
        R = Rotation.random(random_state=seed).as_matrix()
        for M in (R, -R):
            U = spinor_rotation(M)
            for j in range(3):
                rhs = sum(R[k, j] * PAULI[k] for k in range(3))
                np.testing.assert_allclose(U @ PAULI[j] @ U.conj().T, rhs, atol=1e-12)
    C2 = np.diag([-1.0, -1.0, 1.0])
    U = spinor_rotation(C2)
    np.testing.assert_allclose(U @ U, -np.eye(2), atol=1e-12)
    np.testing.assert_allclose(spinor_rotation(-np.eye(3)), np.eye(2), atol=1e-15)


def test_projection_order_is_wannier90s() -> None:
    """Listed order does not matter: p → pz, px, py; 'W: d; s' puts s first; spinor labels."""
    st = CrystalStructure(lattice=np.eye(3) * 4, positions=[[0, 0, 0], [2, 2, 2]],
                          symbols=["A", "B"])
    b = OrbitalBasis.from_projections(["A: px; py; pz", "B: d; s"], st, spin_order="block")
    assert [g.labels for g in b.groups] == [("pz", "px", "py"),
                                           ("s", "dz2", "dxz", "dyz", "dx2-y2", "dxy")]
    assert b.n_states == 18 and b.labels[0] == "0:pz↑" and b.labels[9] == "0:pz↓"
    np.testing.assert_allclose(b.centres[3], [2, 2, 2])
    with pytest.raises(ParameterError, match="no atom of species 'C'"):
        OrbitalBasis.from_projections(["C: s"], st)
    with pytest.raises(ParameterError, match="unknown projection"):
        OrbitalBasis.from_projections(["A: q"], st)


# ---------------------------------------------------------------------- structures
A_FCC = 3.92
FCC = np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) * A_FCC
HEX = np.array([[3.2, 0, 0], [-1.6, 1.6 * np.sqrt(3), 0], [0, 0, 5.2]])


def _structure(kind: str) -> CrystalStructure:
    if kind == "fcc":
        return CrystalStructure(lattice=FCC, positions=[[0, 0, 0]], symbols=["Pt"])
    if kind == "diamond":
        lat = FCC * 5.43 / A_FCC
        return CrystalStructure(lattice=lat, positions=[[0, 0, 0], [1.3575] * 3],
                                symbols=["Si", "Si"])
    if kind == "hcp":
        frac = np.array([[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]])
        return CrystalStructure(lattice=HEX, positions=frac @ HEX, symbols=["Mg", "Mg"])
    raise AssertionError(kind)


def _neighbour_R() -> np.ndarray:
    g = np.arange(-1, 2)
    return np.array(np.meshgrid(g, g, g, indexing="ij")).reshape(3, -1).T


def _random_model(st: CrystalStructure, basis: OrbitalBasis, seed: int) -> LatticeModel:
    rng = np.random.default_rng(seed)
    R = _neighbour_R()
    N = basis.n_states
    H = rng.normal(size=(len(R), N, N)) + 1j * rng.normal(size=(len(R), N, N))
    minus = [int(np.nonzero((R == -r).all(1))[0][0]) for r in R]
    H = 0.5 * (H + H[minus].conj().transpose(0, 2, 1))  # H_{−R} = H_R†
    model = LatticeModel(lattice=st.lattice, positions=basis.centres, R=R, hoppings=H)
    return with_structure(model, st)


CASES = [  # (representation, structure, projections, spin order)
    ("s", "diamond", ["Si: s"], None),
    ("p", "hcp", ["Mg: p"], "block"),
    ("d", "hcp", ["Mg: d"], "interleaved"),
    ("f", "fcc", ["Pt: f"], None),
    ("sp3", "diamond", ["Si: sp3"], None),
    ("sp3d2", "fcc", ["Pt: sp3d2"], "block"),
]


@pytest.mark.parametrize("name,kind,proj,order", CASES, ids=[c[0] for c in CASES])
def test_symmetrized_random_model_commutes_with_every_operation(
        name: str, kind: str, proj: list[str], order: str | None) -> None:
    """Acceptance 4: a random model averaged over the grey space group commutes with every
    element (H(gk) = M H(k) M†, antiunitary with conj) to 1e-10 and is a fixed point."""
    st = _structure(kind)
    basis = OrbitalBasis.from_projections(proj, st, spin_order=order)
    model = _random_model(st, basis, seed=len(name))
    group = space_group(st)
    new, report = symmetrize(model, group, basis, n_k=5)
    k = np.random.default_rng(7).normal(size=(6, 3))
    from tbspin.crystal import group_representations

    _, b2, reps = group_representations(new, group, basis)
    assert len(reps) == 2 * len(group.operations)
    before = commutation_error(model, reps, b2, k)
    after = commutation_error(new, reps, b2, k)
    assert max(before) > 1e-2  # a random model is not symmetric
    assert max(after) < 1e-10
    assert report.violation_after.max < 1e-12
    again, rep2 = symmetrize(new, group, basis, n_k=5)
    np.testing.assert_allclose(again.hamiltonian(k), new.hamiltonian(k), atol=1e-12)
    assert rep2.max_change < 1e-12


def test_groups_of_the_test_structures() -> None:
    """International Tables: Fm-3m (225), Fd-3m (227), P6_3/mmc (194); orders 48, 48, 24."""
    for kind, number, n in (("fcc", 225, 48), ("diamond", 227, 48), ("hcp", 194, 24)):
        g = space_group(_structure(kind))
        assert (g.number, len(g.operations), g.time_reversal) == (number, n, True)
        assert g.order == 2 * n


def test_magnetic_group_of_bcc_fe() -> None:
    """bcc Fe, m ∥ z: 4/mm'm' — 8 unitary + 8 antiunitary operations, T itself absent."""
    lat = np.array([[1.435, 1.435, -1.435], [-1.435, 1.435, 1.435], [1.435, -1.435, 1.435]])
    st = CrystalStructure(lattice=lat, positions=[[0, 0, 0]], symbols=["Fe"], magmoms=[2.2])
    g = space_group(st)
    anti = [op for op in g.operations if op.time_reversal]
    assert len(g.operations) == 16 and len(anti) == 8 and not g.time_reversal
    assert g.symbol == "BNS 139.537"
    for op in g.operations:  # unitary ops keep m, antiunitary ones reverse it (axial vector)
        m = np.linalg.det(op.cart_rotation) * op.cart_rotation @ [0, 0, 1.0]
        np.testing.assert_allclose(m, [0, 0, -1.0 if op.time_reversal else 1.0], atol=1e-12)
    with pytest.raises(ParameterError, match="not time-reversal symmetric"):
        space_group(st, time_reversal=True)


def _sk_p_model(st: CrystalStructure) -> LatticeModel:
    """Slater–Koster p bands on a simple cubic lattice (ppσ, ppπ to the 6 nearest neighbours),
    Wannier90 order pz, px, py: symmetric under m-3m by construction."""
    vss, vpi = 1.3, -0.4
    R, H = [[0, 0, 0]], [np.diag([0.2, 0.2, 0.2]).astype(complex)]
    for axis in range(3):
        for s in (1, -1):
            d = np.zeros(3)
            d[axis] = s
            u = d[[2, 0, 1]]  # direction cosines in the order z, x, y
            H.append((vss - vpi) * np.outer(u, u) + vpi * np.eye(3))
            R.append(d.astype(int).tolist())
    return with_structure(LatticeModel(lattice=st.lattice, positions=np.zeros((3, 3)), R=R,
                                       hoppings=np.array(H)), st)


def test_model_built_symmetric_is_unchanged() -> None:
    """Slater–Koster p bands (m-3m) and the fcc nearest-neighbour s band come back unchanged."""
    sc = CrystalStructure(lattice=np.eye(3) * 3.0, positions=[[0, 0, 0]], symbols=["Po"])
    model = _sk_p_model(sc)
    basis = OrbitalBasis.from_projections(["Po: p"], sc)
    new, report = symmetrize(model, basis=basis, n_k=5)
    assert report.violation_before.max < 1e-14 and report.max_change < 1e-14
    k = np.random.default_rng(3).normal(size=(5, 3))
    np.testing.assert_allclose(new.hamiltonian(k), model.hamiltonian(k), atol=1e-13)
    st = _structure("fcc")
    nn = [r for r in _neighbour_R() if np.isclose(np.linalg.norm(r @ FCC), A_FCC / np.sqrt(2))]
    assert len(nn) == 12
    fcc = with_structure(LatticeModel(lattice=FCC, R=[[0, 0, 0]] + nn,
                                      hoppings=[[[0.0]]] + [[[-1.0]]] * 12), st)
    new, report = symmetrize(fcc, projections=["Pt: s"], n_k=5)
    assert report.max_change < 1e-14


def test_errors_name_the_problem() -> None:
    """Incomplete hybrid sets, asymmetric sites, missing structure: ModelError with the reason."""
    st = _structure("diamond")
    g = space_group(st)
    basis = OrbitalBasis.from_projections(["Si: sp3-1"], st)
    with pytest.raises(ModelError, match="does not map the functions sp3-1"):
        [represent(basis, op) for op in g.operations]
    lonely = OrbitalBasis.from_projections(["f=0.1,0.2,0.3: s"], st)
    with pytest.raises(ModelError, match="to no site of the basis"):
        [represent(lonely, op) for op in g.operations]
    bare = LatticeModel(lattice=FCC, R=[[0, 0, 0]], hoppings=[[[0.0]]])
    with pytest.raises(ModelError, match="carries no crystal structure"):
        symmetrize(bare, projections=["Pt: s"])
    with pytest.raises(ParameterError, match="lattice differs"):
        with_structure(bare, _structure("hcp"))


def test_structure_doors_keep_the_fingerprint(tmp_path: Path) -> None:
    """ase.Atoms, a written POSCAR and a CrystalStructure attach the same structure; the
    Hamiltonian's fingerprint does not change (the structure is a companion, in metadata)."""
    from ase.io import write

    from tbspin.crystal import read_structure, structure_of

    st = _structure("hcp")
    model = LatticeModel(lattice=HEX, R=[[0, 0, 0]], hoppings=[[[0.0]]])
    a = with_structure(model, st.to_ase())
    write(tmp_path / "POSCAR", st.to_ase(), format="vasp")
    b = with_structure(model, tmp_path / "POSCAR")
    c = with_structure(model, st)
    assert a.fingerprint() == b.fingerprint() == c.fingerprint() == model.fingerprint()
    for m in (a, b, c):
        s = structure_of(m)
        assert s.symbols == ("Mg", "Mg")
        np.testing.assert_allclose(s.positions, st.positions, atol=1e-9)
    assert space_group(read_structure(tmp_path / "POSCAR")).number == 194
    with pytest.raises(ModelError, match="2 symbols for 1 positions"):
        CrystalStructure(lattice=HEX, positions=[[0, 0, 0]], symbols=["Mg", "Mg"])
