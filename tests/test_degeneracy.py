"""Degeneracy scale from the model (issue 9, build item 1).

Expected numbers: the Bi2Se3 Wannier fit's pair statistics (splitting median 0.6 meV, max
5.7 meV; distinct pairs ≥ 17 meV apart on 2000 random k) were measured in issue 9; exact
Kramers degeneracy of the 4-band Bi2Se3 model (T and P symmetric, Liu et al. PRB 82, 045122)
and the Zeeman splitting of a pair under m·s (first-order: (⟨s⟩_up − ⟨s⟩_low)·m ≥ 0) follow
from the Hamiltonians; bcc Fe is a ferromagnet (magnetization along z in the WannierTools
example).
"""

from __future__ import annotations

import numpy as np
import pytest
import test_symmetry as ts

from tbspin import LatticeModel
from tbspin.bands.degeneracy import DEFAULT_DEGEN_TOL, degeneracy_scale
from tbspin.models import bi2se3
from tbspin.symmetry.operations import source_file, symmetrized


@pytest.fixture(scope="module")
def bi2se3_hr(tmp_path_factory: pytest.TempPathFactory) -> LatticeModel:
    return ts._read("bi2se3_wanniertools", ts.LAT_BI2SE3, tmp_path_factory.mktemp("bi2se3"))


@pytest.fixture(scope="module")
def pt_hr(tmp_path_factory: pytest.TempPathFactory) -> LatticeModel:
    return ts._read("pt_wanniertools", ts.LAT_PT, tmp_path_factory.mktemp("pt"))


@pytest.fixture(scope="module")
def fe_hr(tmp_path_factory: pytest.TempPathFactory) -> LatticeModel:
    return ts._read("fe_wanniertools", ts.LAT_FE, tmp_path_factory.mktemp("fe"))


def test_exact_kramers_model() -> None:
    rep = degeneracy_scale(bi2se3(), n_k=500)
    assert rep.kind == "exact"
    assert rep.splitting["max"] < 1e-9
    assert rep.recommended_tol == DEFAULT_DEGEN_TOL
    assert not rep.magnetized and rep.gauge_warning("y") is None
    assert "exact" in str(rep)


def test_declared_magnetization_is_physical() -> None:
    m = 1e-3
    rep = degeneracy_scale(bi2se3(magnetization=(0, 0, m)), n_k=500)
    assert rep.kind == "magnetic (declared)"
    # the gauge operator must never override a splitting H resolves: tol below every splitting
    assert rep.recommended_tol < rep.splitting["min"]
    assert rep.fraction_pairs_below_tol == 0.0
    np.testing.assert_allclose(rep.magnetization_direction, [0, 0, 1], atol=1e-12)
    # the exchange term m·s is the whole T-odd part, on site: Zeeman-like estimate = m exactly
    np.testing.assert_allclose(rep.magnetization_estimate, [0, 0, m], atol=1e-15)
    assert rep.exchange_share > 0.999


def test_undeclared_magnetization_is_detected() -> None:
    """Issue 9's trap: m ∥ x put into H by hand (not declared); the default gauge s_y differs."""
    model = bi2se3().with_zeeman((1e-3, 0, 0)).replace(magnetization=None)
    rep = degeneracy_scale(model, n_k=500)
    assert rep.kind == "magnetic (undeclared)"
    np.testing.assert_allclose(rep.magnetization_direction, [1, 0, 0], atol=1e-9)
    assert rep.splitting_coherence > 0.9
    # spin-orbit coupling tilts ⟨s⟩ of the pair states slightly: the sum is along m̂ to ~1e-3
    np.testing.assert_allclose(rep.splitting_direction, [1, 0, 0], atol=1e-2)
    assert rep.gauge_warning("y") is not None and "gauge=" in rep.gauge_warning("y")
    assert rep.gauge_warning("x") is None
    assert rep.recommended_tol < rep.splitting["min"]


def test_bi2se3_wannier_fit_noise(bi2se3_hr: LatticeModel) -> None:
    rep = degeneracy_scale(bi2se3_hr, n_k=400)
    assert rep.kind == "fit-noise"
    s, g = rep.splitting, rep.gap
    assert 0.3e-3 < s["median"] < 1.0e-3 and 3e-3 < s["max"] < 10e-3
    assert g["min"] > 10e-3
    assert s["max"] < rep.recommended_tol < g["min"]
    assert rep.exchange_share < 0.5  # noise, not an exchange field
    assert rep.splitting_coherence < 0.1
    # with the fixed 1e-4 eV almost every k-point has pairs treated as split (the trap)
    assert rep.fraction_k_affected > 0.9


def test_pt_fit_is_broken_until_symmetrized(pt_hr: LatticeModel) -> None:
    rep = degeneracy_scale(pt_hr, n_k=1000)
    assert rep.kind == "broken Kramers pairs"
    assert any("ymmetrize" in n for n in rep.notes)
    sym, _ = symmetrized(pt_hr, inversion=source_file(pt_hr, "win"))
    assert degeneracy_scale(sym, n_k=1000).kind == "exact"


def test_iron_exchange_field_is_found(fe_hr: LatticeModel) -> None:
    rep = degeneracy_scale(fe_hr, n_k=500)
    assert rep.kind == "magnetic (undeclared)"
    assert abs(rep.magnetization_direction[2]) > 0.95
    assert rep.gauge_warning("z") is None and rep.gauge_warning("x") is not None
