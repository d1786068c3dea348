"""Whole tensors in one pass (tbspin.compute / spin_hall(spin="all", ...)) equal the
single-component calls: the reference is tbspin's own one-component path, computed here on the
same mesh (both must agree to round-off: one eigensystem per k-point, rotated inside degenerate
blocks once per spin component's gauge operator)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from core_models import bhz_doubled, kramers_ti

import tbspin

EF = np.array([-0.3, 0.0, 0.4])


@pytest.mark.parametrize("formula", ["proper", "conventional", "smm_omega"])
def test_spin_hall_tensor_equals_single_components_on_kramers_pairs(formula):
    """kramers_ti has Kramers pairs at every k: the proper formula's value depends on the gauge
    inside each pair, s_l per spin component by default (issue 22: must match exactly)."""
    model = kramers_ti()
    eta = 0.05 if formula == "conventional" else 0.0
    kw = dict(efermi=EF, mesh=6, formula=formula, eta=eta, workers=1, shift=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tbspin.errors.GaugeWarning)
        T = tbspin.spin_hall(model, spin="all", current="all", efield="all", **kw, errors=False)
        full = T.tensor()
        scale = np.abs(full).max()
        assert scale > 1.0  # a non-trivial tensor
        for l in "xyz":
            for i in "xyz":
                for j in "xyz":
                    if i == j:
                        continue
                    one = tbspin.spin_hall(model, spin=l, current=i, efield=j, **kw, errors=False)
                    got = full[:, "xyz".index(l), "xyz".index(i), "xyz".index(j)]
                    np.testing.assert_allclose(got, one.values, rtol=0, atol=1e-10 * scale)
    assert T.values.shape == (len(EF), len(T.components))
    assert T.indices == ["spin", "current", "field"]


def test_ahc_pseudovector_and_tensor_io(tmp_path):
    """anomalous_hall(component="all") = the three single components; the tensor survives a
    JSON/NPZ round trip with its components and index names."""
    model = bhz_doubled()
    r = tbspin.anomalous_hall(model, efermi=EF, mesh=10, component="all", workers=1)
    assert [tuple(c) for c in r.components] == [(0, 1)]  # 2D: only σ_xy exists
    one = tbspin.anomalous_hall(model, efermi=EF, mesh=10, component="xy", workers=1)
    np.testing.assert_allclose(r.values[:, 0], one.values, atol=1e-12)
    m3 = kramers_ti().with_onsite(0.3 * np.kron(np.diag([1.0, -1.0]), np.eye(2)))
    r3 = tbspin.anomalous_hall(m3, efermi=EF, mesh=5, component="all", workers=1)
    for c, comp in zip(r3.components, ("yz", "zx", "xy"), strict=True):
        s = tbspin.anomalous_hall(m3, efermi=EF, mesh=5, component=comp, workers=1)
        np.testing.assert_allclose(r3.values[:, r3.components.index(c)], s.values, atol=1e-12)
    assert np.allclose(r3.tensor()[:, 0, 1], -r3.tensor()[:, 1, 0])
    paths = r3.save(tmp_path / "ahc")
    back = tbspin.ConductivityResult.from_json(paths[0])
    np.testing.assert_allclose(back.tensor(), r3.tensor())
    assert back.components == r3.components and back.indices == ["current", "field"]
    back = tbspin.ConductivityResult.from_npz(paths[1])
    np.testing.assert_allclose(back.values, r3.values)


def test_tensor_tol_run_converges_every_component_relative_to_the_largest():
    """A tol run of a whole tensor: every component's error ≤ tol × the largest |component| at
    its E_F (the documented rule), errors per component."""
    model = bhz_doubled()
    r = tbspin.spin_hall(model, efermi=[0.0], mesh=8, spin="all", current="x", efield="y",
                         formula="proper", tol=0.05, seed=3, workers=1)
    assert r.errors is not None and r.errors.shape == r.values.shape == (1, 3)
    assert r.extras["sampling"]["converged"]
    assert np.all(r.errors <= 0.05 * np.abs(r.values).max() + 1e-12)
    # s_z is conserved in bhz_doubled: |σ^z_xy| = 4 e/8π exactly (C↑ − C↓ = 2; conventions doc)
    assert abs(r.component("zxy")[0]) == pytest.approx(4.0, abs=3 * r.errors[0, 2])


def test_compute_rejects_unknown_observables_and_components():
    model = bhz_doubled()
    with pytest.raises(tbspin.errors.ParameterError, match="unknown observable"):
        tbspin.compute(model, "nope", efermi=[0.0], mesh=4)
    with pytest.raises(tbspin.errors.ParameterError, match="does not exist in a 2D"):
        tbspin.compute(model, "shc", efermi=[0.0], mesh=4, components="zxz")
    with pytest.raises(tbspin.errors.ParameterError, match="needs 3 indices"):
        tbspin.compute(model, "shc", efermi=[0.0], mesh=4, components="xy")


def test_magnet_tensor_rotates_each_block_once():
    """With a magnetization the default gauge is m̂·s for every spin component: the three spin
    slots of a whole tensor share one settings object (one block rotation, one set of pair
    terms), and every component still equals its single-component run."""
    from tbspin.observables.api import _spin_slots

    model = kramers_ti().replace(magnetization=np.array([0.0, 0.6, 0.8]))
    slots, desc = _spin_slots(model, [(0, 0, 1), (1, 0, 1), (2, 0, 1)], "kubo", None, {},
                              "proper")
    assert slots[0][1] is slots[1][1] is slots[2][1]
    assert "m̂·s" in desc
    kw = dict(efermi=EF, mesh=5, formula="proper", workers=1, shift=0.25, errors=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = tbspin.spin_hall(model, spin="all", current="all", efield="all", **kw).tensor()
        scale = np.abs(full).max()
        assert scale > 1.0
        for l, i, j in ("xyz", "zxy", "yzx", "xzy"):
            one = tbspin.spin_hall(model, spin=l, current=i, efield=j, **kw)
            got = full[:, "xyz".index(l), "xyz".index(i), "xyz".index(j)]
            np.testing.assert_allclose(got, one.values, rtol=0, atol=1e-10 * scale)


def test_split_blocks_single_component_equals_tensor_for_both_orders():
    """Kramers pairs split by a small Zeeman term but kept as blocks (degen_tol above the
    splitting): the intra-block connection is Hermitian only up to splitting/gap, so T^{ji}
    is taken as −T^{ij}. A single run with current > field equals the tensor component and
    minus the swapped run exactly (before: 1e-7 of the largest component here, 7e-5 for
    Bi₂Se₃ 24³)."""
    model = kramers_ti().with_zeeman([0.0, 0.0, 0.1])
    kw = dict(efermi=EF, mesh=5, formula="proper", workers=1, shift=0.25, errors=False,
              degen_tol=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = tbspin.spin_hall(model, spin="all", current="all", efield="all", **kw).tensor()
        scale = np.abs(full).max()
        assert scale > 1.0
        for l, i, j in ("xzx", "zyx", "yzy"):
            one = tbspin.spin_hall(model, spin=l, current=i, efield=j, **kw).values
            swapped = tbspin.spin_hall(model, spin=l, current=j, efield=i, **kw).values
            got = full[:, "xyz".index(l), "xyz".index(i), "xyz".index(j)]
            np.testing.assert_allclose(got, one, rtol=0, atol=1e-10 * scale)
            np.testing.assert_allclose(one, -swapped, rtol=0, atol=1e-10 * scale)
