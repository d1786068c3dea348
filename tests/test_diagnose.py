"""Readable diagnostics (issue 9, build item 6).

Expected facts: the BHZ integrand of a small-gap quantum well (M = −20 meV, A = 3.645 eV Å:
inversion ring of radius √(M/B) ≈ 0.017/Å around Γ, König et al. JPSJ 77, 031007) is carried
by the Γ point of a coarse Γ-centred mesh; the 4-band Bi2Se3 model with m ∥ x put into H by hand
is the undeclared-magnetization trap of issue 9; fd and kubo connections agree on generic k
(docs/conventions.md: both are exact up to the fd step, O(δ²)).
"""

from __future__ import annotations

import numpy as np
import pytest
import test_symmetry as ts

from tbspin.analysis.diagnose import diagnose
from tbspin.errors import ParameterError
from tbspin.models import bhz, bi2se3
from tbspin.symmetry.operations import source_file


def test_gamma_spike_on_a_gamma_centred_mesh_is_reported() -> None:
    d = diagnose(bhz(M=-0.02), observable="shc", spin="z", current="x", efield="y", efermi=0.0,
                 mesh=6, n_sample=10, n_k_degeneracy=200)
    top = d.hotspots[0]
    assert top.high_symmetry and top.k_reduced == (0.0, 0.0) and top.share > 0.5
    text = str(d)
    assert "(high-symmetry point)" in text and "[advice]" in text
    assert any("one k-point carries" in a for a in d.advice)
    assert any("high-symmetry" in a for a in d.advice)
    # the spike's share falls when the mesh avoids Γ
    off = diagnose(bhz(M=-0.02), spin="z", current="x", efield="y", efermi=0.0, mesh=6,
                   shift=0.5, n_sample=0, n_k_degeneracy=200)
    assert not any(h.high_symmetry for h in off.hotspots)


def test_undeclared_magnetization_and_fd_vs_kubo() -> None:
    model = bi2se3().with_zeeman((1e-3, 0, 0)).replace(magnetization=None)
    d = diagnose(model, spin="y", current="z", efield="x", efermi=0.0, mesh=4, n_sample=20,
                 n_k_degeneracy=300)
    assert d.degeneracy.kind == "magnetic (undeclared)"
    assert any("undeclared magnetization" in a and "gauge=" in a for a in d.advice)
    assert d.fd_kubo_difference < 1e-6 * d.fd_kubo_scale
    assert d.symmetry["time reversal"].max == pytest.approx(2e-3, rel=1e-9)  # |m·s − (−m·s)|
    # no gauge advice when the observable's spin is along m
    d2 = diagnose(model, spin="x", current="z", efield="y", efermi=0.0, mesh=4, n_sample=0,
                  n_k_degeneracy=300)
    assert not any("undeclared magnetization along" in a for a in d2.advice)
    with pytest.raises(ParameterError):
        diagnose(model, observable="nope")
    with pytest.raises(ParameterError, match="n_pairs"):
        diagnose(model, n_pairs=-5)


def test_wannier_fit_report(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Bi2Se3 hr (issue 9): fit-noise pairs, T and P violated at the meV level, advice to
    symmetrize; the report names the numbers."""
    model = ts._read("bi2se3_wanniertools", ts.LAT_BI2SE3, tmp_path_factory.mktemp("bi"))
    par = ts.win_parities(source_file(model, "win"), "block", species=ts.BI2SE3_SPECIES)
    d = diagnose(model, spin="y", current="z", efield="x", efermi=4.4195, mesh=3, n_sample=4,
                 parities=par, n_k_degeneracy=100)
    assert d.degeneracy.kind == "fit-noise"
    assert d.symmetry["inversion"].max > 1e-4 and d.symmetry["time reversal"].max > 1e-5
    assert any("symmetriz" in a for a in d.advice)
    assert "fit-noise" in str(d) and np.isfinite(d.integral)


def test_pair_classes_split_the_proper_integrand_exactly() -> None:
    """The three pair classes (in-block, occupied–occupied, occupied–empty) add up, point by
    point, to the proper integrand summed over occupied bands — reference: the integrand itself
    (tbspin.sampling.shc_kernel, per_point_sums) on the same k. Exact facts: with s_z conserved
    (BHZ doubled by spin) the gauge operator s_z leaves no in-block connection, so that class
    carries nothing; in the 4-band Bi2Se3 model (s_y not conserved) Kramers pairs do."""
    from core_models import bhz_doubled

    from tbspin.analysis.diagnose import pair_classes
    from tbspin.sampling import per_point_sums, shc_kernel

    for model, spin, ef in ((bhz_doubled(-1.0), "z", 0.0), (bi2se3(), "y", 0.0)):
        d = model.dim
        k = np.random.default_rng(0).random((300, d)) @ model.reciprocal[:d, :d]
        cur, fld = ("x", "y") if d == 2 else ("z", "x")
        kern = shc_kernel(model, spin=spin, current=cur, efield=fld, formula="proper")
        ref = per_point_sums(*kern(k), np.array([ef]))[:, 0] / model.cell_measure
        classes = pair_classes(kern, k, ef)
        assert [c.name for c in classes] == ["in degenerate blocks", "occupied-occupied",
                                             "occupied-empty"]
        np.testing.assert_allclose(sum(c.mean for c in classes), ref.mean(), rtol=1e-10,
                                   atol=1e-12 * np.abs(ref).max())
        inblock = classes[0]
        if spin == "z":
            assert inblock.variance_share == 0 and inblock.mean == 0
        else:
            assert inblock.variance_share > 0
    text = str(diagnose(bi2se3(), spin="y", current="z", efield="x", efermi=0.0, mesh=4,
                        n_sample=0, n_pairs=500, n_k_degeneracy=100))
    assert "[band pairs behind the variance, 500 random k]" in text
