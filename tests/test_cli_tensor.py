"""The CLI carries whole tensors: ``tbspin shc --spin all …`` and ``tbspin compute OBSERVABLE``
give the components the public API gives (computed here with tbspin.spin_hall / tbspin.compute on
the same model and mesh), and write them with their index convention to JSON/NPZ/PNG."""

from __future__ import annotations

import json

import numpy as np
import pytest
from real_fits import HR_ARCHIVE, data_folder

import tbspin
from tbspin.cli.app import main
from tbspin.models import kane_mele


def test_shc_all_components_from_the_cli_equal_the_api(tmp_path, capsys):
    out = tmp_path / "km"
    rc = main(["shc", "--model", "kane_mele", "--spin", "all", "--current", "all", "--efield",
               "all", "--efermi=-0.5:0.5:3", "--mesh", "12", "--out", str(out), "--no-progress",
               "--workers", "1", "--no-errors"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "zxy" in text and "components: indices ['spin', 'current', 'field']" in text
    d = json.loads(out.with_suffix(".json").read_text())
    ref = tbspin.spin_hall(kane_mele(), efermi=np.linspace(-0.5, 0.5, 3), mesh=12, spin="all",
                           current="all", efield="all", workers=1, progress=False, errors=False)
    assert d["components"] == ref.components and d["indices"] == ["spin", "current", "field"]
    np.testing.assert_allclose(np.array(d["values"]), ref.values, rtol=1e-12, atol=1e-12)
    assert out.with_suffix(".png").stat().st_size > 0
    # the single-component labels of the tensor
    parts = ref.split(nonzero=True)
    assert "sigma^z_xy" in parts and parts["sigma^z_xy"].values.shape == (3,)


def test_compute_subcommand_lists_the_registry_and_runs_a_record(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["compute", "--help"])
    helptext = capsys.readouterr().out
    for name in tbspin.observables.available():
        assert name in helptext
    rc = main(["compute", "ahc", "--model", "haldane", "--efermi", "0", "--mesh", "12",
               "--no-progress", "--workers", "1", "--no-errors"])
    assert rc == 0
    ref = tbspin.compute(tbspin.models.haldane(), "ahc", efermi=[0.0], mesh=12, workers=1,
                         errors=False)
    text = capsys.readouterr().out
    assert f"{ref.values[0, 0]:14.6g}".strip() in text


def test_compute_refuses_converge_for_a_tensor(capsys):
    rc = main(["compute", "shc", "--model", "kane_mele", "--efermi", "0", "--converge", "8", "12",
               "--no-progress"])
    assert rc == 2
    assert "--converge" in capsys.readouterr().err


def test_compute_with_the_crystal_group_from_the_cli(tmp_path):
    """``tbspin compute shc --hr pt --symmetrize --symmetry auto --tol``: the Pt fit is averaged
    over Fm-3m + T and the tol run star-averages (extras record it); its value agrees with the
    API's star run of the same symmetrized model and seed to round-off."""
    hr = data_folder("pt_wanniertools") / HR_ARCHIVE
    out = tmp_path / "pt"
    rc = main(["compute", "shc", "--hr", str(hr), "--spin-order", "block", "--symmetrize",
               "--symmetry", "auto", "--components", "zxy", "--formula", "conventional",
               "--efermi", "11.3158", "--tol", "0.2", "--mesh", "4", "--seed", "3",
               "--out", str(out), "--no-progress", "--workers", "1"])
    assert rc == 0
    d = json.loads(out.with_suffix(".json").read_text())
    assert d["extras"]["symmetry"]["mode"].startswith("star average")
    assert d["extras"]["symmetry"]["kernel_components"] == 6
    import warnings

    from tbspin.crystal import symmetrize
    from tbspin.io import read_wannier90

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sym, _ = symmetrize(read_wannier90(hr, spin_order="block"))
        ref = tbspin.compute(sym, "shc", efermi=11.3158, components="zxy",
                             formula="conventional", tol=0.2, mesh=4, seed=3, symmetry="auto",
                             workers=1, progress=False)
    np.testing.assert_allclose(np.array(d["values"]).ravel(), ref.values.ravel(), rtol=1e-10)
