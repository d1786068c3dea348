"""Issue 27 acceptance 3: the M shifted sub-meshes of the default error bar as one family run
(tbspin.bz.family, tbspin.engine.family) instead of M separate uniform-mesh runs.

References: (i) the direct Bloch sum ``LatticeModel.hamiltonian_and_derivatives`` at the same k
(the definition of H(k), ∂H/∂k: rounding-level agreement, 1e-12 of max |H|, as in
test_fourier.py); (ii) the path the family replaces — one
:func:`tbspin.engine.integrate.integrate` per sub-mesh with the recorded shifts — whose sums the
family must reproduce to 1e-12 of the largest sum (the FFT arithmetic is the same, the Fermi
sums are partitioned at other points).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from test_fourier import random_model

import tbspin.bz.family as family_mod
from tbspin.bz.family import CACHED_GROUPS, MeshFamily
from tbspin.bz.fourier import PLANE_BUDGET, MeshFourier
from tbspin.bz.kmesh import Mesh
from tbspin.engine.family import FamilyTask, family_jobs, integrate_family
from tbspin.engine.integrate import Plan, default_chunk_size, integrate
from tbspin.errors import ParameterError
from tbspin.models import bhz
from tbspin.observables import berry_curvature_kernel
from tbspin.observables.api import spin_hall_kernel
from tbspin.sampling.rules import _stats
from tbspin.sampling.submesh import draw_shifts, split_mesh, submesh_integral

TOL = 1e-12


def _separate_runs(model, kernel, n, shifts, ef, chunk_size, fft="auto"):
    """The old default path: one uniform-mesh engine run per sub-mesh."""
    rows = []
    sizes = [tuple(n)] * len(shifts) if np.ndim(n[0]) == 0 else n
    for size, u in zip(sizes, shifts, strict=True):
        plan = Plan(mesh=Mesh(n=tuple(size), shift=tuple(float(x) for x in u)),
                    chunk_size=chunk_size, efermi=ef, temperature=0.0)
        rows.append(np.asarray(integrate(model, kernel, plan, progress=False, fft=fft)[0]))
    return np.array(rows)


def _assert_close(a, b, tol=TOL):
    scale = np.abs(b).max()
    assert scale > 0
    assert np.abs(a - b).max() <= tol * scale, np.abs(a - b).max() / scale


def _assert_member_is_its_own_mesh(model, fam, m: int, size, u, back: int) -> None:
    """Member m of ``fam`` (mesh ``size``, shift ``u``) returns what its own MeshFourier returns
    (1e-13 of max |H|) and the direct sum (TOL), on the whole mesh and on a range that starts and
    ends mid-line (``back`` points before the end)."""
    own = MeshFourier(model, Mesh(n=tuple(size), shift=tuple(u)))
    total = int(np.prod(size))
    for start, stop in ((0, total), (min(size[-1] + 1, total // 2), total - back)):
        k, H, dH = fam.members[m].block(start, stop)
        k0, H0, dH0 = own.block(start, stop)
        np.testing.assert_array_equal(k, k0)
        scale = np.abs(H0).max()
        assert np.abs(H - H0).max() <= 1e-13 * scale and np.abs(dH - dH0).max() <= 1e-13 * scale
        Hd, dHd = model.hamiltonian_and_derivatives(k, own.directions)
        assert np.abs(H - Hd).max() <= TOL * scale and np.abs(dH - dHd).max() <= TOL * scale


# ---------------------------------------------------------------------- Bloch sums
@pytest.mark.parametrize("dim, n, table", [(3, (4, 5, 7), "folded"), (3, (4, 5, 6), "unfolded"),
                                           (3, (4, 5, 6), "per shift"), (2, (5, 8), "folded"),
                                           (1, (9,), "folded"), (2, (5, 4), "unfolded")])
def test_members_equal_their_own_mesh_and_the_direct_sum(dim, n, table, monkeypatch) -> None:
    """Member m of a family returns what MeshFourier(model, Mesh(n, u_m)) returns (to 1e-13 of
    max |H|), and both the direct sum (1e-12). Reach 3: R_p spans 6 (7 values), so a last
    length 7 shares one table of residues (each residue one R_p); below, the shared table has a
    column per R_p value ("unfolded"), or, when the values exceed DFT_RESIDUES (forced here),
    each member keeps its own table; orbitals at random positions (the positions convention's
    phases)."""
    model = random_model(dim=dim, reach=3, seed=11)
    assert np.ptp(model.positions, axis=0).any()
    shifts = draw_shifts(4, 3, dim)
    if table == "per shift":
        monkeypatch.setattr(family_mod, "DFT_RESIDUES", 6)
    fam = MeshFamily(model, n, shifts)
    assert fam.shared is (table != "per shift")
    assert fam._base.fold is (table != "unfolded")
    for m, u in enumerate(shifts):
        _assert_member_is_its_own_mesh(model, fam, m, n, u, back=2)


@pytest.mark.parametrize("n, tables", [((5, 7, 15), "one, R_p columns"),
                                      ((5, 7, 15), "one per last length"),
                                      ((5, 7, 9), "one, R_p columns (short lines)"),
                                      ((5, 7, 9), "per shift"), ((7, 11), "one, R_p columns")])
def test_members_of_different_sizes_equal_their_own_meshes(n, tables, monkeypatch) -> None:
    """The sub-meshes of a mesh that does not split evenly ((2|3)×(3|4)×(7|8) for 5·7·15):
    member m equals MeshFourier(model, Mesh(n_m, u_m)) (1e-13 of max |H|) and the direct sum
    (1e-12), whether the members share one table with a column per R_p (last lengths 7 and 8
    both above the span 6 of R_p: the residues of both are unique), one table of residues per
    last length (forced: fewer DFT_RESIDUES than R_p values), one table with a column per R_p
    for lines shorter than the span (4 and 5), or a table per member (forced); plane sums of
    two outer sizes (2 and 3) in their own products; orbitals at random positions."""
    dim = len(n)
    model = random_model(dim=dim, reach=3, seed=13)
    sp = split_mesh(n)
    assert len(set(sp.sizes)) == 2 ** dim
    shifts = draw_shifts(8, sp.n_sub, dim)
    if tables == "one per last length":
        monkeypatch.setattr(family_mod, "DFT_RESIDUES", 6)
    if tables == "per shift":
        monkeypatch.setattr(family_mod, "DFT_RESIDUES", 0)
    fam = MeshFamily(model, sp.sizes, shifts)
    assert fam.shared is (tables != "per shift")
    if fam.shared:
        assert len(fam._bases) == (2 if tables == "one per last length" else 1)
        assert all(fam.members[m].table is fam.table_of(m) for m in range(sp.n_sub))
    for m, (size, u) in enumerate(zip(sp.sizes, shifts, strict=True)):
        _assert_member_is_its_own_mesh(model, fam, m, size, u, back=1)
    with pytest.raises(ParameterError, match="sizes"):
        MeshFamily(model, sp.sizes[:-1], shifts)


def test_shared_family_has_one_table_and_lines_by_fft_keep_the_shift(monkeypatch) -> None:
    """One table for every member (the unshifted mesh's); a residue count above DFT_RESIDUES
    transforms lines by FFT, where the shift along the line is applied per residue too."""
    import tbspin.bz.fourier as fourier

    model = random_model(dim=3, reach=3, seed=5)
    shifts = draw_shifts(9, 4, 3)
    fam = MeshFamily(model, (3, 4, 8), shifts)
    assert fam.shared and all(mb.table is fam.table for mb in fam.members)
    monkeypatch.setattr(fourier, "DFT_RESIDUES", 0)
    for m in range(len(shifts)):
        k, H, dH = fam.members[m].block(5, 70)
        Hd, dHd = model.hamiltonian_and_derivatives(k)
        scale = np.abs(Hd).max()
        assert np.abs(H - Hd).max() <= TOL * scale and np.abs(dH - dHd).max() <= TOL * scale


def test_plane_cache_stays_within_the_budget_of_one_mesh(monkeypatch) -> None:
    """Plane sums of all shifts in one product while M planes fit PLANE_BUDGET; above it,
    blocks of shifts, each product within the budget and at most CACHED_GROUPS kept; the
    values do not depend on the blocking (1e-13)."""
    model = random_model(dim=3, reach=3, seed=2, n=4)
    shifts = draw_shifts(1, 8, 3)
    n = (5, 4, 7)
    ref = MeshFamily(model, n, shifts)
    row = 16 * int(np.prod(ref.table.shape[1:]))
    assert row * len(shifts) <= PLANE_BUDGET and ref._blocking()[0] == len(shifts)
    monkeypatch.setattr(family_mod, "PLANE_BUDGET", 3 * row)  # 3 planes per product
    small = MeshFamily(model, n, shifts)
    mb, g = small._blocking()
    assert (mb, g) == (3, 1)  # 8 shifts in 3 blocks of ≤ 3
    for p in range(n[0]):
        for m in range(len(shifts)):
            a, b = small.plane(m, p), ref.plane(m, p)
            assert np.abs(a - b).max() <= 1e-13 * np.abs(b).max()
            assert len(small._cache) <= CACHED_GROUPS
            assert all(v.nbytes <= 3 * row for v in small._cache.values())


def test_unshared_members_drop_their_tables_after_their_last_unit(monkeypatch) -> None:
    monkeypatch.setattr(family_mod, "DFT_RESIDUES", 0)
    model = random_model(dim=3, reach=3, seed=3)
    kern = berry_curvature_kernel(model, component="xy")
    shifts = draw_shifts(2, 3, 3)
    fam = MeshFamily(model, (3, 3, 4), shifts, kern.directions)
    assert not fam.shared
    for m in range(3):
        fam.members[m].block(0, 36)
        assert fam.members[m]._table is not None
        fam.release(m)
        assert fam.members[m]._table is None


def test_bad_family_inputs_raise() -> None:
    model = random_model(dim=3, reach=1, seed=1)
    with pytest.raises(ParameterError, match="shifts"):
        MeshFamily(model, (3, 3, 3), np.zeros((2, 2)))
    with pytest.raises(ParameterError, match="shifts"):
        MeshFamily(model, (3, 3, 3), np.full((2, 3), np.nan))
    kern = berry_curvature_kernel(model, component="xy")
    ef = np.array([0.0])
    with pytest.raises(ParameterError, match="chunk_size"):
        integrate_family(model, kern, (3, 3, 3), np.zeros((2, 3)), ef, 0.0, chunk_size=0)
    with pytest.raises(ParameterError, match="fft"):
        integrate_family(model, kern, (3, 3, 3), np.zeros((2, 3)), ef, 0.0, chunk_size=9,
                         fft="sometimes")


# ---------------------------------------------------------------------- jobs
@pytest.mark.parametrize("planes", [False, True])
def test_jobs_cover_every_point_once_in_mesh_order(planes: bool) -> None:
    """Every point of every mesh in exactly one segment; per mesh the segments in point order
    (the plain run's fold); ≤ chunk_size points per job; with planes no segment crosses a plane
    and the jobs go plane by plane."""
    n, m, cs = (6, 5, 4), 3, 28
    jobs = family_jobs([n] * m, cs, planes)
    seen = {i: [] for i in range(m)}
    for job in jobs:
        assert sum(hi - lo for _, lo, hi in job) <= cs
        for mesh, lo, hi in job:
            seen[mesh].append((lo, hi))
            if planes:
                assert lo // 20 == (hi - 1) // 20
    for segs in seen.values():
        assert segs[0][0] == 0 and segs[-1][1] == 120
        assert all(a[1] == b[0] for a, b in zip(segs, segs[1:]))
    if planes:
        first = [job[0][1] // 20 for job in jobs]
        assert first == sorted(first)
    else:  # units are the plain run's chunks: cs never splits a mesh's chunk
        assert all((hi - lo) == min(cs, 120 - lo) for segs in seen.values() for lo, hi in segs)


def test_jobs_of_members_of_different_sizes() -> None:
    """Members (2|3)×(4|5)×(6|7): every point of every member once, per member in point order,
    ≤ chunk_size points per job, units whole lines of the member's own length, no unit across
    a plane, and plane-major order within each outer size (size 2 first, then 3)."""
    sizes = split_mesh((5, 9, 13)).sizes
    cs = 70
    jobs = family_jobs(sizes, cs, True)
    seen: dict[int, list[tuple[int, int]]] = {i: [] for i in range(len(sizes))}
    order = []
    for job in jobs:
        assert sum(hi - lo for _, lo, hi in job) <= cs
        for m, lo, hi in job:
            plane = sizes[m][1] * sizes[m][2]
            assert lo // plane == (hi - 1) // plane
            assert lo % sizes[m][2] == 0 and hi % sizes[m][2] == 0
            seen[m].append((lo, hi))
            order.append((sizes[m][0], lo // plane))
    for m, segs in seen.items():
        assert segs[0][0] == 0 and segs[-1][1] == int(np.prod(sizes[m]))
        assert all(a[1] == b[0] for a, b in zip(segs, segs[1:]))
    assert order == sorted(order)


# ---------------------------------------------------------------------- old path vs new path
@pytest.mark.parametrize("n, table", [((4, 3, 10), "folded"), ((4, 3, 6), "unfolded"),
                                      ((4, 3, 6), "per shift")])
def test_bi2se3_family_equals_separate_sub_mesh_runs(bi2se3_positions, n, table,
                                                     monkeypatch) -> None:
    """Proper σ^y_zx of the Bi₂Se₃ fit (30 WF, Wannier centres, Kramers-pair gauge fixing: the
    formula most sensitive to rounding in H) at two E_F on 8 shifted sub-meshes: the family run
    equals 8 separate engine runs with the same shifts to 1e-12 of the largest sum, for a last
    length above the span of R_z (10 > 8: one table of residues), below it (6: one table with
    a column per R_z) and with a table per shift (forced); two thread workers give the same
    bits as one."""
    if table == "per shift":
        monkeypatch.setattr(family_mod, "DFT_RESIDUES", 0)
    model = bi2se3_positions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kern = spin_hall_kernel(model, spin="y", current="z", efield="x")
    shifts = draw_shifts(17, 8, 3)
    ef = np.array([4.4195, 4.2])
    cs = default_chunk_size(model, "kubo", mesh=Mesh(n=n, shift=(0.0,) * 3))
    new, info = integrate_family(model, kern, n, shifts, ef, 0.0, chunk_size=cs, progress=False)
    assert info["fft"] == 1
    fam = MeshFamily(model, n, shifts[:1])
    assert (fam.shared, fam._base.fold) == {"folded": (True, True), "unfolded": (True, False),
                                            "per shift": (False, True)}[table]
    _assert_close(new, _separate_runs(model, kern, n, shifts, ef, cs))
    two, _ = integrate_family(model, kern, n, shifts, ef, 0.0, chunk_size=cs, progress=False,
                              workers=2, backend="threads")
    np.testing.assert_array_equal(two, new)


@pytest.mark.parametrize("n, table", [((4, 5, 21), "R_p columns"),
                                      ((4, 5, 21), "residues per last length"),
                                      ((4, 5, 7), "R_p columns, short lines"),
                                      ((4, 5, 7), "per shift")])
def test_bi2se3_members_of_different_sizes_equal_separate_runs(bi2se3_positions, n, table,
                                                               monkeypatch) -> None:
    """Issue 27d: the sub-meshes of an odd mesh have different sizes (2×(2|3)×(10|11) for
    4·5·21: eight members, four sizes, the same 420 k-points as the plain mesh). Proper σ^y_zx
    of the Bi₂Se₃ fit (Wannier centres) at two E_F through submesh_integral: each member's
    sum equals a separate engine run of its own size and shift to 1e-12 of the largest sum,
    for one shared table with a column per R_z (last lengths 10 and 11 above the span 8),
    one table of residues per last length (forced), one table with a column per R_z for lines
    shorter than the span (3 and 4), and a table per member (forced); the mean and Student-t
    error are those of the members (rules._stats); two thread workers give the same bits."""
    if table == "residues per last length":
        monkeypatch.setattr(family_mod, "DFT_RESIDUES", 5)
    if table == "per shift":
        monkeypatch.setattr(family_mod, "DFT_RESIDUES", 0)
    model = bi2se3_positions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kern = spin_hall_kernel(model, spin="y", current="z", efield="x")
    sp = split_mesh(n)
    assert len(set(sp.sizes)) >= 2 and sp.n_k == int(np.prod(n))
    ef = np.array([4.4195, 4.2])
    r = submesh_integral(model, kern, n, ef, 0.0, seed=21, chunk_size=None, progress=False)
    assert r.history[0]["fft_sub_meshes"] == sp.n_sub and r.n_k == int(np.prod(n))
    assert [tuple(s) for s in r.history[0]["sub_meshes"]] == list(sp.sizes)
    fam = MeshFamily(model, sp.sizes, draw_shifts(21, sp.n_sub, 3))
    assert (fam.shared, len(fam._bases), fam._base.fold) == {
        "R_p columns": (True, 1, False), "residues per last length": (True, 2, True),
        "R_p columns, short lines": (True, 1, False), "per shift": (False, 0, True)}[table]
    big = max(sp.sizes, key=lambda s: int(np.prod(s)))
    cs = default_chunk_size(model, "kubo", mesh=Mesh(n=big, shift=(0.0,) * 3))
    old = _separate_runs(model, kern, sp.sizes, draw_shifts(21, sp.n_sub, 3), ef, cs)
    _assert_close(r.samples, old.reshape(sp.n_sub, -1))
    values, errors = _stats(old.reshape(sp.n_sub, -1))
    _assert_close(r.values, values)
    _assert_close(r.errors, errors, 1e-9)
    two = submesh_integral(model, kern, n, ef, 0.0, seed=21, chunk_size=None, progress=False,
                           workers=2, backend="threads")
    np.testing.assert_array_equal(two.samples, r.samples)


def test_2d_lattice_model_default_equals_separate_runs_by_direct_and_fft_sums() -> None:
    """BHZ proper σ^z_xy (2D, 4 bands): submesh_integral's samples (one family run) equal the
    separate runs of its sub-meshes with the recorded shifts, with direct Bloch sums (the
    engine's choice for 5 R) and with FFT sums forced (a shared 2D family); a pickled task (the
    processes/dask backends) gives the same partial sums."""
    model = bhz(M=-0.1)
    kern = spin_hall_kernel(model, spin="z", current="x", efield="y")
    ef = np.array([0.0, 0.3])
    split = split_mesh((40, 40))
    m, s = split.n_sub, split.sizes
    for fft in ("auto", "always"):
        r = submesh_integral(model, kern, (40, 40), ef, 0.0, seed=3, chunk_size=None,
                             progress=False, fft=fft)
        shifts = draw_shifts(3, m, 2)
        cs = default_chunk_size(model, "kubo", mesh=Mesh(n=max(s), shift=(0.0, 0.0)))
        old = _separate_runs(model, kern, s, shifts, ef, cs, fft=fft)
        _assert_close(r.samples, old.reshape(m, -1))
        assert r.history[0]["fft_sub_meshes"] == (m if fft == "always" else 0)
    import tbspin.engine.family as ef_mod
    from tbspin.bands.integrands import with_band_cutoff

    points = ef_mod.FamilyPoints(model, tuple(Mesh(n=n, shift=tuple(u))
                                              for n, u in zip(s, shifts, strict=True)),
                                 family_jobs(s, 500, False),
                                 ef_mod.family_plans(model, kern, s, shifts, "always"))
    task = FamilyTask(with_band_cutoff(kern, ef), points, ef, 0.0)
    back = pickle.loads(pickle.dumps(task))
    for j in (0, len(points.jobs) - 1):
        for a, b in zip(task(j)[1], back(j)[1]):
            np.testing.assert_array_equal(a, b)


def test_finite_difference_connection_family_equals_separate_runs() -> None:
    """method="fd": H at k and at k ± δ e_a come from 1 + 2·2 families (the displaced meshes
    are shifted families too); the family run equals the separate runs (1e-12)."""
    model = bhz(M=-0.1)
    kern = spin_hall_kernel(model, spin="z", current="x", efield="y", method="fd")
    shifts = draw_shifts(6, 8, 2)
    ef = np.array([0.0, 0.4])
    new, info = integrate_family(model, kern, (9, 7), shifts, ef, 0.0, chunk_size=30,
                                 progress=False, fft="always")
    assert info["fft"] == 1
    _assert_close(new, _separate_runs(model, kern, (9, 7), shifts, ef, 30, fft="always"))
