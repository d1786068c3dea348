"""The conventional spin Hall conductivity of the symmetrized Pt fit against a Kubo sum written here.

Symmetrized over Fm-3m + T (:func:`tbspin.crystal.symmetrize`), every band of the Pt fit is an
exact Kramers pair at every k, so the conventional formula meets degenerate bands everywhere
(tests/test_core.py checks the same formula on a random model without degeneracies). The
expected number is an independent evaluation of the textbook Kubo formula in its (f_m − f_n)
form, σ^z_xy ∝ −Σ_k Σ_{m≠n} (f_m − f_n) Im[J_mn V_nm] / (ε_m − ε_n)² with J = ½{s_z, ∂_x H} and
V = ∂_y H in the eigenbasis, written with plain numpy: pairs inside a Kramers pair have
f_m = f_n and drop out whatever basis numpy's eigh picks inside the pair. The same sum over the
irreducible wedge (``symmetry=``, star weights, tensor rebuilt by the point group) must agree too.
benchmarks/bench_materials_wb.py compares the same model with WannierBerri (issue 24).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from real_fits import HR_ARCHIVE, data_folder

import tbspin
from tbspin import LatticeModel
from tbspin.crystal import group_representations, kramers_splitting, symmetrize

EF_PT = 11.3158  # eV, DFT Fermi level of the fit (shared/data/README.md)


@pytest.fixture(scope="module")
def pt_symmetrized() -> LatticeModel:
    from tbspin.io import read_wannier90

    src = data_folder("pt_wanniertools")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # translate_home_cell in the .win
        model = read_wannier90(src / HR_ARCHIVE, spin_order="block")
    return symmetrize(model, n_k=3)[0]


def _kubo_sum(model: LatticeModel, n: int, efermi: np.ndarray) -> np.ndarray:
    """−Σ_k Σ_{m≠n} (f_m − f_n) Im[J_mn V_nm]/(ε_m − ε_n)² / (N_k V_cell) on the Γ-centred n³ mesh."""
    g = np.arange(n) / n
    frac = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    k = frac @ model.reciprocal
    H, dH = model.hamiltonian_and_derivatives(k, (0, 1))
    E, U = np.linalg.eigh(H)
    assert kramers_splitting(E) < 1e-10  # every band is an exact Kramers pair
    Uh = U.conj().transpose(0, 2, 1)
    S = Uh @ model.operator("sz") @ U
    Vx, Vy = Uh @ dH[0] @ U, Uh @ dH[1] @ U
    J = 0.5 * (S @ Vx + Vx @ S)
    dE = E[:, :, None] - E[:, None, :]
    im = np.imag(J * Vy.transpose(0, 2, 1))  # Im[J_mn V_nm]
    out = []
    for mu in efermi:
        f = (E < mu).astype(float)
        df = f[:, :, None] - f[:, None, :]
        take = df != 0  # f_m ≠ f_n: never inside a degenerate pair
        terms = np.where(take, df * im / np.where(take, dE, 1.0) ** 2, 0.0)
        out.append(-terms.sum() / (len(k) * abs(np.linalg.det(model.lattice))))
    return np.array(out)


def test_symmetrized_pt_conventional_shc_equals_kubo_sum(pt_symmetrized: LatticeModel) -> None:
    """σ^z_xy of symmetrized Pt on a 6³ mesh at E_F and ±0.3 eV: tbspin (full mesh and
    irreducible wedge) equals the independent Kubo sum to 1e-9 relative; the value is of
    Pt's size (positive, hundreds to thousands of (ħ/e) S/cm at E_F)."""
    model = pt_symmetrized
    ef = EF_PT + np.array([-0.3, 0.0, 0.3])
    expected = _kubo_sum(model, 6, ef)
    full = tbspin.spin_hall(model, efermi=ef, mesh=6, spin="z", current="x", efield="y",
                            formula="conventional", errors=False, progress=False)
    np.testing.assert_allclose(full.raw, expected, rtol=1e-9, atol=0)
    group, basis, _ = group_representations(model)
    wedge = tbspin.compute(model, "shc", efermi=ef, mesh=6, formula="conventional",
                           symmetry=(group, basis), progress=False)
    assert wedge.extras["symmetry"]["n_irreducible"] < 216 // 4
    np.testing.assert_allclose(wedge.component("zxy", unit=full.unit), full.values, rtol=1e-9,
                               atol=0)
    value = full.to("(hbar/e) S/cm")[1]
    assert 300 < value < 5000, value
