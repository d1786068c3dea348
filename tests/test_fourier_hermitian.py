"""Issue 27 acceptance 3 (27h): FFT Bloch sums on lower triangles (tbspin.bz.triangle).

H(k) and every ∂_a H(k) are Hermitian (H_{−R} = H_R†), so the FFT sums of
tbspin.bz.fourier may carry the entries i ≥ j only and fill the upper triangle with their
conjugates. References: (i) the direct Bloch sum ``LatticeModel.hamiltonian_and_derivatives``
at the same k (the definition of H(k), ∂H/∂k; its lower triangle is the sum of every R, its
upper triangle the conjugate, tbspin.model.bloch): 1e-12 of max |H| as in test_fourier.py;
(ii) the same FFT plan on whole matrices (``lower=False``, the code before 27h): 1e-13 of
max |H| (the same terms, summed in the same order per entry, in products of other widths).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_fourier import random_model

import tbspin
import tbspin.bz.triangle as triangle
from tbspin import LatticeModel
from tbspin.bz.family import MeshFamily
from tbspin.bz.fourier import MeshFourier
from tbspin.bz.kmesh import Mesh
from tbspin.bz.triangle import expand_lower, lower_gather, lower_pays
from tbspin.engine.integrate import Plan, integrate
from tbspin.models import bhz
from tbspin.observables.api import spin_hall_kernel
from tbspin.sampling.submesh import draw_shifts, split_mesh

TOL = 1e-12
SAME = 1e-13


def _assert_lower_equals_full_and_direct(model: LatticeModel, plan: MeshFourier,
                                         full: MeshFourier, index=None) -> None:
    """``plan`` (lower triangles) equals ``full`` (whole matrices, 1e-13) and the direct sum
    (1e-12), on the whole mesh (block) or at scattered points (points); in the cell
    convention the strict upper triangles of H and ∂H are the conjugates of the lower ones bit
    for bit (the diagonal keeps the rounding-level imaginary part of its sum, as the direct
    sum's does)."""
    assert plan.lower and not full.lower
    if index is None:
        k, H, dH = plan.block(0, plan.size)
        k0, H0, dH0 = full.block(0, full.size)
    else:
        k, H, dH = plan.points(index)
        k0, H0, dH0 = full.points(index)
    np.testing.assert_array_equal(k, k0)
    Hd, dHd = model.hamiltonian_and_derivatives(k, plan.directions)
    scale = np.abs(Hd).max()
    assert np.abs(H - H0).max() <= SAME * scale and np.abs(dH - dH0).max() <= SAME * scale
    assert np.abs(H - Hd).max() <= TOL * scale and np.abs(dH - dHd).max() <= TOL * scale
    assert H.flags.c_contiguous and dH.flags.c_contiguous
    if model.convention == "cell" or not plan.positions_phase:
        iu, ju = np.triu_indices(model.n_orbitals, 1)
        for X in (H, dH):
            np.testing.assert_array_equal(X[..., iu, ju], X[..., ju, iu].conj())


def irregular_model(seed: int = 5, n: int = 4) -> LatticeModel:
    """Random H_R on an irregular R set listed in shuffled order: R_1 from −3 to 2 on the listed
    half (with every −R added as H_R†, so R_1 spans −3 … 3 but e.g. (3, 1, 0) is absent while
    (3, −1, 0) is present), not a box in any direction; random orbital positions."""
    rng = np.random.default_rng(seed)
    half = [(a, b, c) for a in range(-3, 3) for b in range(-2, 3) for c in range(-3, 2)
            if rng.random() < 0.35]
    R, H, seen = [], [], set()
    for r in half:
        if r in seen or tuple(-x for x in r) in seen:
            continue
        h = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        mr = tuple(-x for x in r)
        if r == mr:
            h = h + h.conj().T
        seen.update({r, mr})
        R.append(r)
        H.append(h)
        if mr != r:
            R.append(mr)
            H.append(h.conj().T)
    if (0, 0, 0) not in seen:
        R.append((0, 0, 0))
        H.append(np.diag(rng.normal(size=n)).astype(complex))
    order = rng.permutation(len(R))
    lattice = np.eye(3) * 2.5 + 0.4 * rng.normal(size=(3, 3))
    return LatticeModel(lattice=lattice, R=np.array(R)[order], hoppings=np.array(H)[order],
                        positions_reduced=rng.random((n, 3)), name="irregular")


# ---------------------------------------------------------------------- the gather
def test_gather_rebuilds_hermitian_matrices_and_mirrors_the_lower_triangle() -> None:
    """expand_lower of the lower entries of Hermitian matrices returns them bit for bit; of a
    non-Hermitian matrix, the Hermitian matrix with its lower triangle (the direct sum's
    convention, tbspin.model.bloch)."""
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 18):
        il, jl, gather = lower_gather(n)
        assert len(il) == n * (n + 1) // 2 and np.all(il >= jl)
        A = rng.normal(size=(3, 7, n, n)) + 1j * rng.normal(size=(3, 7, n, n))
        Hm = A + A.conj().swapaxes(-1, -2)
        out = expand_lower(Hm[..., il, jl], gather, n)
        assert out.shape == Hm.shape and out.flags.c_contiguous
        np.testing.assert_array_equal(out, Hm)
        low = np.tril(A)
        mirrored = low + np.tril(A, -1).conj().swapaxes(-1, -2)
        np.testing.assert_array_equal(expand_lower(A[..., il, jl], gather, n), mirrored)


def test_cost_rule() -> None:
    """The triangle pays when the saved multiply-adds exceed the gather's cost: never for one
    orbital; for 18 orbitals from (1 − 171/324)·s > GATHER_COST on."""
    assert not lower_pays(1, 1e9)
    edge = triangle.GATHER_COST / (1 - 171 / 324)
    assert lower_pays(18, edge * 1.01) and not lower_pays(18, edge * 0.99)


# ---------------------------------------------------------------------- random models
@pytest.mark.parametrize("convention", ["positions", "cell"])
@pytest.mark.parametrize("n, shift", [((5, 4, 7), (0.3, -0.2, 0.45)), ((3, 2, 4), (0.0, 0.5, 0.1)),
                                      ((6, 6, 6), (0.0, 0.0, 0.0))])
def test_irregular_model_plain_meshes(n, shift, convention) -> None:
    """An irregular, shuffled R set (irregular_model): lower triangles equal whole matrices and
    the direct sum, on meshes above and below the span of R (folded residues), both Bloch
    conventions, whole mesh and scattered points."""
    model = irregular_model().replace(convention=convention)
    mesh = Mesh(n=n, shift=shift)
    plan = MeshFourier(model, mesh, lower=True)
    full = MeshFourier(model, mesh, lower=False)
    assert plan.entries == 10 and full.entries == 16
    _assert_lower_equals_full_and_direct(model, plan, full)
    idx = np.random.default_rng(1).integers(0, mesh.size, 23)
    _assert_lower_equals_full_and_direct(model, plan, full, idx)


@pytest.mark.parametrize("dim, n", [(2, (7, 9)), (1, (11,)), (2, (3, 4))])
def test_low_dimensional_and_partially_periodic_models(dim, n) -> None:
    """2D and 1D random models (positions convention) and a 3D model periodic along a1, a3."""
    model = random_model(dim=dim, reach=3, n=5, seed=9)
    for mdl, size in ((model, n), (random_model(dim=3, reach=2, n=4, seed=5, periodic=(0, 2)),
                                   (4, 5))):
        mesh = Mesh(n=size, shift=(0.25,) * len(size))
        _assert_lower_equals_full_and_direct(mdl, MeshFourier(mdl, mesh, lower=True),
                                             MeshFourier(mdl, mesh, lower=False))


def test_line_transform_by_fft_on_lower_triangles(monkeypatch) -> None:
    """Lines with more residues than DFT_RESIDUES go through scipy's FFT (forced): the same."""
    import tbspin.bz.fourier as fourier

    monkeypatch.setattr(fourier, "DFT_RESIDUES", 0)
    model = random_model(dim=2, reach=6, n=4, seed=3)
    mesh = Mesh(n=(3, 11), shift=(0.1, 0.3))
    _assert_lower_equals_full_and_direct(model, MeshFourier(model, mesh, lower=True),
                                         MeshFourier(model, mesh, lower=False))


@pytest.mark.parametrize("n", [(5, 7, 9), (4, 4, 6), (6, 9)])
def test_family_members(n, monkeypatch) -> None:
    """Members of a default-error-bar family (split_mesh: sizes ⌊n/k⌋|⌈n/k⌉, random shifts,
    shared tables with residue or R_p columns) on lower triangles equal the members of the
    same family on whole matrices (GATHER_COST forced to 0 and to ∞) and the direct sum."""
    model = irregular_model(seed=7) if len(n) == 3 else random_model(dim=2, reach=3, n=4, seed=2)
    sp = split_mesh(n)
    shifts = draw_shifts(3, sp.n_sub, len(n))
    monkeypatch.setattr(triangle, "GATHER_COST", 0.0)
    fam = MeshFamily(model, sp.sizes, shifts)
    monkeypatch.setattr(triangle, "GATHER_COST", np.inf)
    ref = MeshFamily(model, sp.sizes, shifts)
    assert fam.shared and ref.shared
    for m in range(sp.n_sub):
        _assert_lower_equals_full_and_direct(model, fam.members[m], ref.members[m])


def test_model_hermitian_only_to_its_tolerance() -> None:
    """H_{−R} = H_R† + O(1e-10) (within hermitian_tol): the lower triangles are the Bloch sum
    and the upper ones their conjugates — the direct sum's convention (≥ 32 (R, −R) pairs:
    it mirrors its lower triangle) — where whole-matrix FFT sums keep the 1e-10 asymmetry."""
    base = irregular_model(seed=4)
    rng = np.random.default_rng(2)
    hop = base.hoppings + 1e-10 * rng.normal(size=base.hoppings.shape)
    model = LatticeModel(lattice=base.lattice, R=base.R, hoppings=hop, positions=base.positions,
                         convention="cell")
    mesh = Mesh(n=(4, 5, 6), shift=(0.1, 0.2, 0.3))
    plan = MeshFourier(model, mesh, lower=True)
    k, H, dH = plan.block(0, plan.size)
    Hd, dHd = model.hamiltonian_and_derivatives(k, plan.directions)
    scale = np.abs(Hd).max()
    assert np.abs(H - Hd).max() <= TOL * scale and np.abs(dH - dHd).max() <= TOL * scale
    _, H0, _ = MeshFourier(model, mesh, lower=False).block(0, plan.size)
    il, jl = np.tril_indices(model.n_orbitals)
    assert np.abs(H[:, il, jl] - H0[:, il, jl]).max() <= SAME * scale
    assert np.abs(H - H0).max() > 1e-12


# ---------------------------------------------------------------------- real fits
def test_real_fits_plain_meshes_and_families(platinum, bi2se3_positions) -> None:
    """Pt (18 WF, 617 R) and Bi₂Se₃ (30 WF, 547 R, Wannier centres: positions convention):
    the default plans choose lower triangles (cost rule) on a shifted 5·6·7 mesh and on the
    members of its default family; each equals whole matrices and the direct sum."""
    for model in (platinum, bi2se3_positions):
        mesh = Mesh(n=(5, 6, 7), shift=(0.2, -0.1, 0.4))
        plan = MeshFourier(model, mesh, (0, 2))
        assert plan.lower
        _assert_lower_equals_full_and_direct(model, plan, MeshFourier(model, mesh, (0, 2),
                                                                      lower=False))
        sp = split_mesh((5, 6, 7))
        shifts = draw_shifts(8, sp.n_sub, 3)
        fam = MeshFamily(model, sp.sizes, shifts, (1,))
        for m in (0, sp.n_sub - 1):
            member = fam.members[m]
            assert member.lower
            own = MeshFourier(model, Mesh(n=sp.sizes[m], shift=tuple(shifts[m])), (1,),
                              lower=False)
            _assert_lower_equals_full_and_direct(model, member, own)


# ---------------------------------------------------------------------- Fermi sums
def test_platinum_conventional_shc_unchanged(platinum, monkeypatch) -> None:
    """Pt conventional σ^z_xy (η = 0.05 eV, 5 E_F around 11.3158 eV) on a 9³ mesh, plain and
    with the default error bar (8 sub-meshes (4|5)³): the same to 1e-12 of the largest value
    with the FFT sums on lower triangles (the default for this fit) and on whole matrices
    (GATHER_COST = ∞, the sums before 27h)."""
    ef = 11.3158 + np.linspace(-0.2, 0.2, 5)
    assert MeshFourier(platinum, tbspin.make_mesh(platinum, 9), (0, 1)).lower
    assert all(mb.lower for mb in MeshFamily(platinum, split_mesh((9, 9, 9)).sizes,
                                             draw_shifts(1, 8, 3), (0, 1)).members)
    out = {}
    for cost in (triangle.GATHER_COST, np.inf):
        monkeypatch.setattr(triangle, "GATHER_COST", cost)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[cost] = [tbspin.spin_hall(platinum, spin="z", current="x", efield="y", mesh=9,
                                          efermi=ef, formula="conventional", eta=0.05,
                                          errors=errors, progress=False, workers=1)
                         for errors in (False, True)]
    for new, old in zip(out[triangle.GATHER_COST], out[np.inf], strict=True):
        a, b = np.asarray(new.values), np.asarray(old.values)
        assert np.abs(a - b).max() <= TOL * np.abs(b).max()
    assert np.abs(np.asarray(out[np.inf][1].errors)).max() > 0


def test_bhz_keeps_whole_matrices_by_the_cost_rule_and_forced_triangles_agree(monkeypatch) -> None:
    """BHZ (4 orbitals, 5 R): the cost rule keeps whole matrices; forced lower triangles give
    the same proper σ^z_xy (1e-12 of the value) through the engine's FFT path (fft="always")
    on a shifted 24² mesh."""
    model = bhz(M=-0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kern = spin_hall_kernel(model, spin="z", current="x", efield="y", formula="proper")
    plan = Plan(mesh=Mesh(n=(24, 24), shift=(0.3, 0.1)), chunk_size=100,
                efermi=np.array([0.0, 0.5]), temperature=0.0)
    assert not MeshFourier(model, plan.mesh).lower
    vals = []
    for cost in (np.inf, 0.0):
        monkeypatch.setattr(triangle, "GATHER_COST", cost)
        assert MeshFourier(model, plan.mesh).lower is (cost == 0.0)
        raw, info = integrate(model, kern, plan, progress=False, fft="always", workers=1)
        assert info["fft"]
        vals.append(np.asarray(raw))
    assert np.abs(vals[0]).max() > 0
    assert np.abs(vals[1] - vals[0]).max() <= TOL * np.abs(vals[0]).max()
