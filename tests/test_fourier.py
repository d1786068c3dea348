"""FFT Bloch sums (tbspin.bz.fourier) against the direct Bloch sum of LatticeModel.

Reference: ``LatticeModel.hamiltonian_and_derivatives`` at the same Cartesian k (the definition
of H(k) and ∂H/∂k in tbspin.model.lattice). Both are exact sums of the same finite series, so they must
agree to rounding: 1e-12 relative to max |H|.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tbspin
from tbspin import LatticeModel
from tbspin.bz.fourier import MeshFourier, mesh_hamiltonian_chunks
from tbspin.errors import ParameterError
from tbspin.models import bi2se3, haldane, kane_mele

TOL = 1e-12


def _catalogue() -> list[LatticeModel]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [haldane(), kane_mele(), bi2se3()]


def random_model(
    dim: int = 3, reach: int = 3, n: int = 3, seed: int = 1, periodic: tuple[int, ...] | None = None
) -> LatticeModel:
    """Hermitian random hoppings on |R_i| ≤ reach, random orbital positions, skewed lattice."""
    rng = np.random.default_rng(seed)
    per = tuple(range(dim)) if periodic is None else periodic
    grid = np.stack(np.meshgrid(*[np.arange(-reach, reach + 1)] * len(per), indexing="ij"), -1)
    Rp = grid.reshape(-1, len(per))
    Rp = Rp[rng.random(len(Rp)) < 0.6]
    Rp = np.unique(np.concatenate([Rp, -Rp, np.zeros((1, len(per)), int)]), axis=0)
    R = np.zeros((len(Rp), dim), int)
    R[:, list(per)] = Rp
    hop = {}
    for r in map(tuple, R):
        if r not in hop:
            h = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
            hop[r] = h
            hop[tuple(-x for x in r)] = h.conj().T if any(r) else h + h.conj().T
    lattice = np.eye(dim) * 2.0 + 0.3 * rng.normal(size=(dim, dim))
    return LatticeModel(lattice=lattice, hoppings=hop, positions_reduced=rng.random((n, dim)),
                        periodic=per, name=f"random{dim}d")


def assert_matches_direct(model: LatticeModel, n, shift=0.0, chunk_size=None, directions=None) -> int:
    """Every chunk equals the direct sum at the same k (returns the number of chunks seen)."""
    mesh = tbspin.make_mesh(model, n, shift)
    plan = MeshFourier(model, mesh, directions)
    seen = 0
    covered = 0
    for ch in plan.chunks(chunk_size):
        assert ch.start == covered
        k = mesh.cartesian(model, ch.start, ch.stop)
        np.testing.assert_array_equal(ch.k, k)
        H, dH = model.hamiltonian_and_derivatives(k, plan.directions)
        scale = np.abs(H).max()
        assert np.abs(ch.H - H).max() <= TOL * scale
        assert np.abs(ch.dH - dH).max() <= TOL * scale
        assert ch.H.flags.c_contiguous and ch.dH.flags.c_contiguous
        covered = ch.stop
        seen += 1
    assert covered == mesh.size
    return seen


@pytest.mark.parametrize("model", _catalogue(), ids=lambda m: m.name.split("(")[0])
@pytest.mark.parametrize(("n", "shift", "chunk"), [(8, 0.0, None), (5, 0.5, 7), (4, 0.37, 3)])
def test_catalogue_models_match_direct_sum(model: LatticeModel, n: int, shift: float, chunk) -> None:
    assert_matches_direct(model, n, shift, chunk)


def test_anisotropic_mesh_and_per_direction_shift() -> None:
    model = _catalogue()[2]
    assert assert_matches_direct(model, [5, 3, 4], [0.25, -0.5, 0.1], chunk_size=11) == 6


@pytest.mark.parametrize("n", [2, 3, 5])
def test_folding_when_mesh_is_smaller_than_the_hopping_range(n: int) -> None:
    # hoppings reach |R_i| = 3 (range 7 > n): folding R mod n must still give the exact sum
    model = random_model(reach=3, seed=n)
    assert assert_matches_direct(model, n, shift=0.3, chunk_size=5) >= 1


@pytest.mark.parametrize("n_last", [6, 29, 32])
def test_line_transform_by_product_and_by_fft_both_match_direct_sum(n_last: int, monkeypatch) -> None:
    """Along the last direction the sum over the residues R_p mod n_p is one matrix product
    for up to DFT_RESIDUES residues and an FFT of the padded line above: forced either way, both
    equal the direct sum. Reach 13 gives 27 residues on n_p = 29 (prime) and 32, 6 on n_p = 6
    (folded); chunks that start mid-line."""
    import tbspin.bz.fourier as fourier

    model = random_model(dim=2, reach=13, seed=3)
    for limit in (0, 10**6):  # every line by FFT, then every line by the product
        monkeypatch.setattr(fourier, "DFT_RESIDUES", limit)
        assert assert_matches_direct(model, [3, n_last], 0.3, chunk_size=2 * n_last + 1) >= 2


def test_cell_convention_and_positions_convention_differ_and_both_match() -> None:
    pos = random_model(reach=2, seed=7)
    cell = pos.replace(convention="cell")
    assert_matches_direct(pos, 4, shift=0.1, chunk_size=9)
    assert_matches_direct(cell, 4, shift=0.1, chunk_size=9)
    k = tbspin.make_mesh(pos, 4, 0.1).cartesian(pos, 0, 5)
    assert not np.allclose(pos.hamiltonian(k), cell.hamiltonian(k))


@pytest.mark.parametrize("dim", [1, 2])
def test_low_dimensional_models(dim: int) -> None:
    assert_matches_direct(random_model(dim=dim, reach=2, seed=3), 6, shift=0.2, chunk_size=4)


def test_partially_periodic_model_and_chosen_directions() -> None:
    # a 3D model periodic along a1, a3 only (a slab-like model): κ = 0 along a2
    model = random_model(dim=3, reach=2, seed=5, periodic=(0, 2))
    assert_matches_direct(model, [4, 5], shift=[0.5, 0.0], chunk_size=6, directions=("z", "x"))


def test_stream_function_and_aligned_default_chunks() -> None:
    model = _catalogue()[0]
    mesh = tbspin.make_mesh(model, 6)
    chunks = list(mesh_hamiltonian_chunks(model, mesh, (0, 1), chunk_size=10))
    assert [c.index for c in chunks] == list(range(4))
    assert sum(c.stop - c.start for c in chunks) == 36
    plan = MeshFourier(model, mesh)
    assert plan.chunk_size() % plan.line_length == 0


def test_bad_inputs_raise_parameter_errors() -> None:
    model = _catalogue()[0]
    with pytest.raises(ParameterError, match="periodic"):
        MeshFourier(model, tbspin.Mesh(n=(4, 4, 4), shift=(0.0, 0.0, 0.0)))
    plan = MeshFourier(model, tbspin.make_mesh(model, 4))
    with pytest.raises(ParameterError, match="point range"):
        plan.block(10, 40)
    with pytest.raises(ParameterError, match="directions"):
        MeshFourier(model, tbspin.make_mesh(model, 4), directions=("z",))


def test_real_platinum_hr_file(platinum: LatticeModel) -> None:
    # fcc Pt, 18 WF, 617 R (R_i from -6 to 6): a 7³ mesh folds, a shifted 6³ one too
    assert platinum.n_orbitals == 18
    assert_matches_direct(platinum, 7, chunk_size=100)
    assert_matches_direct(platinum, [6, 5, 4], shift=0.5, chunk_size=37)
    model = platinum.replace(positions_reduced=np.random.default_rng(0).random((18, 3)) * 0.1)
    assert_matches_direct(model, 5, shift=0.25, chunk_size=60)


def test_plan_pickles_without_its_table() -> None:
    import pickle

    model = random_model(reach=2, n=4, seed=11)
    plan = MeshFourier(model, tbspin.make_mesh(model, 5, 0.5), (0, 2))
    k, H, dH = plan.block(3, 40)
    shipped = pickle.dumps(plan)
    assert len(shipped) < plan.table.nbytes + len(pickle.dumps(model.hoppings))
    k2, H2, dH2 = pickle.loads(shipped).block(3, 40)
    np.testing.assert_array_equal(k2, k)
    np.testing.assert_array_equal(H2, H)
    np.testing.assert_array_equal(dH2, dH)


def test_displaced_mesh_gives_the_finite_difference_points() -> None:
    # k ± δ e_a of a uniform mesh (the fd Berry connection's points) as shifted meshes
    from tbspin.bz.fourier import displaced_mesh

    model = random_model(reach=2, seed=13)
    mesh = tbspin.make_mesh(model, 4, 0.25)
    for dk in ([1e-5, 0.0, 0.0], [0.0, -1e-5, 0.0], [0.3, 0.2, -0.1]):
        moved = displaced_mesh(model, mesh, dk)
        np.testing.assert_allclose(moved.cartesian(model), mesh.cartesian(model) + dk, atol=1e-13)
        assert_matches_direct(model, moved.n, moved.shift, chunk_size=13)
    slab = random_model(dim=3, reach=1, seed=5, periodic=(0, 1))
    with pytest.raises(ParameterError, match="non-periodic"):
        displaced_mesh(slab, tbspin.make_mesh(slab, 3), slab.reciprocal[2] * 0.01)


def test_plane_groups_match_direct_sum_in_any_order(monkeypatch) -> None:
    """The sums over the outer R are computed for fixed groups of consecutive planes (one
    product per group): 11 planes in groups of 4 (the last one short) equal the direct sum, and
    asking for the chunks in reverse order gives bitwise the same arrays (a plane's value does
    not depend on which thread asked first)."""
    import tbspin.bz.fourier as fourier

    monkeypatch.setattr(fourier, "PLANE_GROUP", 4)
    model = random_model(reach=2, seed=11)
    assert assert_matches_direct(model, [11, 3, 4], 0.21, chunk_size=5) > 11
    mesh = tbspin.make_mesh(model, [11, 3, 4], 0.21)
    forward = MeshFourier(model, mesh)
    backward = MeshFourier(model, mesh)
    n = forward.n_chunks(5)
    got = {c: backward.chunk(c, 5) for c in reversed(range(n))}
    assert forward._group() == 4
    for c in range(n):
        ch = forward.chunk(c, 5)
        assert np.array_equal(ch.H, got[c].H) and np.array_equal(ch.dH, got[c].dH)


@pytest.mark.parametrize(("dim", "n", "shift"), [(3, (5, 6, 4), (0.0, 0.0, 0.0)),
                                                 (3, (3, 4, 2), (0.3, 0.7, 0.45)),
                                                 (2, (7, 5), (0.5, 0.0))])
def test_scattered_mesh_points_match_their_chunks(dim: int, n, shift) -> None:
    """MeshFourier.points (plane and line sums only where the points are; any order, repeats)
    equals block() at the same mesh indices, bitwise k and H, ∂H to 1e-12, on random models
    with orbital positions (folded residues on the small meshes)."""
    model = random_model(dim=dim, seed=4)
    plan = MeshFourier(model, tbspin.Mesh(n=n, shift=shift))
    k0, H0, dH0 = plan.block(0, plan.size)
    index = np.random.default_rng(2).integers(0, plan.size, 23)
    k, H, dH = plan.points(index)
    np.testing.assert_array_equal(k, k0[index])
    scale = np.abs(H0).max()
    assert np.abs(H - H0[index]).max() <= TOL * scale
    assert np.abs(dH - dH0[:, index]).max() <= TOL * scale
    with pytest.raises(ParameterError, match="mesh indices"):
        plan.points(np.array([plan.size]))
