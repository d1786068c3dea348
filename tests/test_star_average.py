"""Star averages in ``tol`` runs: ``compute(..., tol=..., symmetry=...)`` (issue 23, item 5).

Where the expected values come from:

* The identity (P X(k))_c = 1/|G| Σ_g X_c(g k): the left side is the kernel with its ``mix``
  matrix (rows of the group projector P, tbspin/observables/_wedge.py), the right side is
  computed in the test by evaluating the plain kernel at every image g k of random k-points
  (k → R k for a unitary point operation, k → −R k for an antiunitary one) and averaging. It
  holds per band for non-degenerate bands because the integrand is covariant,
  X(g k) = s_g D_g X(k) (spin axial, current and field polar, s_g the T parity of
  antiunitary elements); tolerance: round-off (1e-9 relative).
* A converged symmetric ``tol`` run is an unbiased estimate of the same integral as the plain
  full mesh: its value agrees with a dense irreducible-wedge integral (exact full-mesh sum,
  tests/test_wedge.py) within 4 of its standard errors plus 1 % for the 24³ reference
  mesh's own discretization error.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_wedge import HEX, _random_magnet, _random_symmetrized

import tbspin
from tbspin.bands.integrands import BandKernel
from tbspin.crystal import CrystalStructure
from tbspin.errors import ModelError, ParameterError
from tbspin.observables import base
from tbspin.observables._wedge import prepare_wedge
from tbspin.observables.api import _settings, _spin_slots


def _kernels(model, name, formula, sym, requested, stars=True, eta=0.0):
    """(plain kernel over every component, star kernel of ``requested``, every component)."""
    rec = base.get(name)
    every = rec.components(model, "all")
    if "spin" in rec.indices:
        spins, _ = _spin_slots(model, every, "kubo", None, {}, formula)
        st = next(s[1] for s in spins if s is not None)
    else:
        spins, st = (), _settings(model, "kubo", None, None, {})
    wedge = prepare_wedge(model, rec, formula, sym, every, requested, spins, stars=stars)
    plain = BandKernel(model, (rec.term(model, every, formula=formula, settings=st, spins=spins,
                                        eta=eta),), st)
    star = BandKernel(model, (rec.term(model, wedge.kernel_components, formula=formula,
                                       settings=st, spins=spins, eta=eta),), st,
                      mix=wedge.star_matrix(requested))
    return plain, star, every, wedge


@pytest.mark.parametrize("name,formula", [("ahc", "berry"), ("shc", "conventional"),
                                          ("shc", "proper")])
def test_star_kernel_is_the_average_over_the_star(name: str, formula: str) -> None:
    """bcc magnet, 4/mm'm' (8 unitary + 8 antiunitary operations): the star kernel at k equals
    the plain kernel averaged over the 16 images g k, band by band."""
    model, sym = _random_magnet()
    group = sym[0]
    rec = base.get(name)
    requested = ([(0, 1)] if name == "ahc" else [(2, 0, 1), (0, 1, 2), (0, 2, 0)])
    plain, star, every, wedge = _kernels(model, name, formula, sym, requested, eta=0.01)
    assert wedge.info.get("star_elements") is None  # s_l gauges follow 4/mm'm': whole group
    rng = np.random.default_rng(3)
    k = rng.random((3, 3)) @ np.asarray(model.reciprocal)
    E, Xs = star(k)
    ops = group.point_operations()
    acc = np.zeros_like(Xs)
    cols = [every.index(tuple(c)) for c in requested]
    for R, anti in ops:
        kg = (-1.0 if anti else 1.0) * k @ np.asarray(R).T
        Eg, Xg = plain(kg)
        np.testing.assert_allclose(Eg, E, atol=1e-9)  # the model commutes with g
        acc += Xg[:, :, cols]
    acc /= len(ops)
    scale = np.abs(acc).max()
    assert scale > 1e-3
    assert np.abs(Xs - acc).max() < 1e-9 * scale, rec.name


def test_symmetric_tol_run_agrees_with_the_dense_wedge() -> None:
    """Conventional σ^z_xy of the magnet: the star-averaged tol run (fewer independent noise
    sources per k) agrees with the dense wedge sum within 4σ; provenance records the mode."""
    model, sym = _random_magnet()
    kw = dict(efermi=0.3, formula="conventional", eta=0.05, components=[(2, 0, 1)],
              progress=False)
    ref = tbspin.compute(model, "shc", mesh=24, symmetry=sym, **kw)
    run = tbspin.compute(model, "shc", tol=0.02, mesh=4, seed=7, symmetry=sym, **kw)
    info = run.extras["symmetry"]
    assert info["mode"].startswith("star average") and info["kernel_components"] >= 2
    assert run.extras["sampling"]["converged"]
    assert abs(run.raw[0, 0] - ref.raw[0, 0]) < 4 * run.raw_errors[0, 0] + 0.01 * abs(ref.raw[0, 0])


def test_hexagonal_proper_star_average_uses_the_covariant_subgroup() -> None:
    """Hexagonal P6₃/mmc-type crystal with s_x gauges: C₃ does not map s_x onto an axis, so the
    wedge refuses the proper formula (tests/test_wedge.py), while a tol run averages over the
    elements the gauges follow — a proper subgroup that still contains the identity — and the
    star kernel of σ^z_xy (s_z gauge, kept by every element) uses the whole group."""
    frac = np.array([[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]])
    st = CrystalStructure(lattice=HEX, positions=frac @ HEX, symbols=["Mg", "Mg"])
    model, sym = _random_symmetrized(st, ["Mg: s"], seed=4)
    order = sym[0].order
    _, star, _, wedge = _kernels(model, "shc", "proper", sym, [(0, 1, 2)])
    assert 1 < wedge.info["star_elements"] < order
    assert star.mix.shape == (1, len(wedge.kernel_components))
    _, _, _, wz = _kernels(model, "shc", "proper", sym, [(2, 0, 1)])
    assert "star_elements" not in wz.info and wz.info["gauge_residual"] < 1e-8
    assert all(c[0] == 2 for c in wz.kernel_components)


def test_mix_shape_is_checked() -> None:
    """A mix matrix whose columns do not match the terms' components is refused."""
    model, sym = _random_magnet()
    plain, *_ = _kernels(model, "ahc", "berry", sym, [(0, 1)])
    with pytest.raises(ParameterError, match="mix"):
        BandKernel(model, plain.terms, plain.settings, mix=np.ones((1, 2)))


def _slab(lattice: np.ndarray, symbols: list[str]) -> tuple:
    """A random symmetrized s model on ``lattice`` (atoms in the z = 0 plane), its hoppings
    along a3 dropped: a 2D-periodic model that keeps every element mapping z to ±z."""
    st = CrystalStructure(lattice=lattice, positions=[[0, 0, 0]], symbols=symbols)
    model, sym = _random_symmetrized(st, [f"{symbols[0]}: s;p"], seed=8)
    keep = np.asarray(model.R)[:, 2] == 0
    slab = model.replace(R=np.asarray(model.R)[keep], hoppings=np.asarray(model.hoppings)[keep],
                         periodic=(0, 1))
    return slab, sym


def test_slab_star_average() -> None:
    """A tetragonal slab (P4/mmm + T, periodic in x, y): every element keeps the k-plane, so a
    tol run star-averages (the identity of the first test, band by band, on in-plane k);
    a cubic group, whose C₃ takes k out of the plane, is refused."""
    slab, sym = _slab(np.diag([3.0, 3.0, 5.0]), ["Po"])
    assert slab.n_periodic == 2
    requested = [(2, 0, 1)]
    plain, star, every, wedge = _kernels(slab, "shc", "conventional", sym, requested, eta=0.02)
    rng = np.random.default_rng(5)
    k = rng.random((3, 2)) @ np.asarray(slab.reciprocal)[:2]
    E, Xs = star(k)
    acc = np.zeros_like(Xs)
    ops = sym[0].point_operations()
    for R, anti in ops:
        _, Xg = plain((-1.0 if anti else 1.0) * k @ np.asarray(R).T)
        acc += Xg[:, :, [every.index(c) for c in requested]]
    acc /= len(ops)
    assert np.abs(acc).max() > 1e-3
    assert np.abs(Xs - acc).max() < 1e-9 * np.abs(acc).max()
    run = tbspin.compute(slab, "shc", efermi=0.2, formula="conventional", eta=0.02,
                         components=requested, tol=0.1, mesh=6, seed=2, symmetry=sym,
                         progress=False)
    assert run.extras["symmetry"]["mode"].startswith("star average")
    cubic, csym = _slab(np.eye(3) * 3.0, ["Po"])
    with pytest.raises(ModelError, match="out of the periodic plane"):
        tbspin.compute(cubic, "shc", efermi=0.2, formula="conventional", components=requested,
                       tol=0.1, mesh=6, symmetry=csym, progress=False)


def test_star_average_that_mixes_nothing_is_reported() -> None:
    """Hexagonal crystal, proper σ^x_yz with its s_x gauge: the elements s_x follows map x, y, z
    onto ±x, ±y, ±z, so P maps σ^x_yz onto itself alone (mix = [[1]]): the tol run's record says
    the star average is the identity, and its value and error are those of the run without
    symmetry on the same seed (same integrand, same shifts). σ^z_xy (s_z, the whole group:
    σ^z_xy = −σ^z_yx) is mixed and not flagged."""
    frac = np.array([[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]])
    st = CrystalStructure(lattice=HEX, positions=frac @ HEX, symbols=["Mg", "Mg"])
    model, sym = _random_symmetrized(st, ["Mg: s"], seed=4)
    kw = dict(efermi=0.1, formula="proper", tol=0.2, mesh=4, seed=3, progress=False,
              workers=1)
    run = tbspin.compute(model, "shc", components=[(0, 1, 2)], symmetry=sym, **kw)
    plain = tbspin.compute(model, "shc", components=[(0, 1, 2)], **kw)
    assert "identity" in run.extras["symmetry"] and abs(plain.raw[0, 0]) > 10 * plain.raw_errors[0, 0]
    np.testing.assert_allclose(run.raw, plain.raw, rtol=1e-12, atol=0)
    np.testing.assert_allclose(run.raw_errors, plain.raw_errors, rtol=1e-12, atol=0)
    mixed = tbspin.compute(model, "shc", components=[(2, 0, 1)], symmetry=sym, **kw)
    assert "identity" not in mixed.extras["symmetry"]
