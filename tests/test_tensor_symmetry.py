"""Whole tensors meet crystal symmetry: on the fully symmetrized Pt fit (O_h + T,
tbspin.crystal.symmetrize) the conventional spin Hall tensor from one pass has the shape the point
group allows (tbspin.crystal.shapes: σ^l_ij ∝ ε_lij, one independent component) to round-off on a
Γ-centred mesh (which every point operation maps onto itself); the unsymmetrized fit breaks it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from real_fits import HR_ARCHIVE, data_folder

import tbspin


@pytest.fixture(scope="module")
def pt():
    src = data_folder("pt_wanniertools")
    from tbspin.io import read_wannier90

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_wannier90(src / HR_ARCHIVE, spin_order="block")


def test_symmetrized_pt_tensor_has_the_cubic_shape(pt):
    from tbspin.crystal import space_group, spin_hall_shape, structure_of, symmetrize

    sym, _ = symmetrize(pt, n_k=3)
    shape = spin_hall_shape(space_group(structure_of(sym)))
    assert shape.n_independent == 1  # σ^l_ij ∝ ε_lij (Seemann et al., PRB 92, 155138 (2015))
    kw = dict(efermi=[11.3158], mesh=6, spin="all", current="all", efield="all",
              formula="conventional", eta=0.05, shift=0.0, workers=1, progress=False,
              errors=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tbspin.errors.GaugeWarning)
        T = tbspin.spin_hall(sym, **kw).tensor()[0]
        T0 = tbspin.spin_hall(pt, **kw).tensor()[0]
    norm = np.linalg.norm(T)
    assert norm > 100.0  # Pt's spin Hall conductivity is large ((ħ/2e) S/m)
    assert shape.forbidden_part(T) < 1e-9 * norm
    np.testing.assert_allclose(shape.project(T), T, atol=1e-9 * norm)
    eps = np.zeros((3, 3, 3))
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        eps[a, b, c], eps[a, c, b] = 1.0, -1.0
    np.testing.assert_allclose(T, T[2, 0, 1] * eps, atol=1e-9 * norm)
    # the raw fit breaks O_h: its tensor has a forbidden part well above round-off
    assert shape.forbidden_part(T0) > 1e-6 * np.linalg.norm(T0)


def test_hexagonal_spin_hall_shape_matches_a_published_table():
    """P6₃/mmc (point group 6/mmm) with time reversal: the T-even spin Hall tensor may be
    non-zero exactly at σ^x_yz, σ^x_zy, σ^y_xz, σ^y_zx, σ^z_xy, σ^z_yx — the "intrinsic, TR-even"
    column of Table 1 of "Efficient spin-pumping and spin transport across epitaxial
    Mn₃Sn(0001) noncollinear antiferromagnet/permalloy interfaces", npj Spintronics (2026)
    (hexagonal D6h, z ∥ [0001]). Computed here from the space group of an hcp structure found by
    spglib, not from a table."""
    from tbspin.crystal import CrystalStructure, space_group, spin_hall_shape

    a, c = 3.2, 5.2
    lattice = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    frac = np.array([[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]])
    group = space_group(CrystalStructure(lattice=lattice, positions=frac @ lattice,
                                         symbols=["Mg", "Mg"]))
    assert "6/mmm" in str(group)
    shape = spin_hall_shape(group)
    published = {(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)}
    allowed = {tuple(int(x) for x in idx) for idx in np.argwhere(~shape.zero)}
    assert allowed == published
    assert shape.n_independent == 3
