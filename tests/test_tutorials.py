"""Run every tutorial script in ``tutorials/`` as a user would, in a scratch directory.

Each tutorial ends with ``assert`` statements on its key physics claims (each naming where its
expected number comes from), so a zero exit code means those claims held. Here we also check
that the figures each tutorial announces were written to ``TBSPIN_TUTORIAL_OUT`` and that
nothing was written into the source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))

#: figures every tutorial must write (file names inside TBSPIN_TUTORIAL_OUT)
EXPECTED_FIGURES = {
    "01_haldane_chern_ahc.py": ["01_haldane_ahc.png", "01_haldane_berry_curvature.png"],
    "02_qsh_proper_vs_conventional.py": ["02_bhz_shc_vs_ef.png", "02_bhz_spin_mixing.png"],
    "03_bi2se3_proper_spin_hall.py": ["03_bi2se3_bands.png", "03_bi2se3_shc.png",
                                     "03_bi2se3_integrand.png"],
    "04_wannier90_import.py": ["04_graphene_bands.png"],
    "05_slab_surface_gap.py": ["05_slab_bands.png", "05_gap_vs_m.png"],
    "06_hole_gas_spin_hall.py": ["06_envelopes.png", "06_subbands_rashba.png", "06_fig2_small.png"],
    "07_wannier_bi2se3_proper_spin_hall.py": ["07_bi2se3_wannier_shc.png"],
    "08_crystal_symmetry_pt_spin_hall.py": ["08_pt_spin_hall.png"],
}

TIME_LIMIT_S = 120  # each tutorial is meant to take < 40 s; this only catches hangs


def test_every_tutorial_has_expected_figures() -> None:
    """The table above and the folder must not drift apart."""
    assert [p.name for p in TUTORIALS] == sorted(EXPECTED_FIGURES)


@pytest.mark.parametrize("script", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(script: Path, tmp_path: Path) -> None:
    out = tmp_path / "figures"
    work = tmp_path / "cwd"
    work.mkdir()
    env = dict(os.environ, TBSPIN_TUTORIAL_OUT=str(out), MPLBACKEND="Agg")
    before = {p for p in (ROOT / "tutorials").iterdir()}
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True,
        timeout=TIME_LIMIT_S,
    )
    assert proc.returncode == 0, (
        f"{script.name} failed (exit {proc.returncode})\n--- stdout ---\n{proc.stdout[-4000:]}"
        f"\n--- stderr ---\n{proc.stderr[-4000:]}"
    )
    for name in EXPECTED_FIGURES[script.name]:
        fig = out / name
        assert fig.is_file() and fig.stat().st_size > 1000, f"{script.name} did not write {name}"
    assert {p for p in (ROOT / "tutorials").iterdir()} == before, "tutorial wrote into tutorials/"


#: the tutorials that read the shared data: (script, what its stdout says without it, a file it
#: then writes)
WITHOUT_DATA = [
    ("04_wannier90_import.py", "writing a nearest-neighbour graphene", "graphene_nn_hr.dat"),
    ("07_wannier_bi2se3_proper_spin_hall.py", "SKIPPED: the Wannier90 shared data "
     "bi2se3_wanniertools", "07_bi2se3_wannier_shc.png"),
    ("08_crystal_symmetry_pt_spin_hall.py", "SKIPPED: the Wannier90 shared data "
     "pt_wanniertools", "08_pt_spin_hall.png"),
]


@pytest.mark.parametrize(("name", "says", "writes"), WITHOUT_DATA,
                         ids=[n[:2] for n, _, _ in WITHOUT_DATA])
def test_wannier_tutorials_run_without_the_shared_data(name: str, says: str, writes: str,
                                                       tmp_path: Path) -> None:
    """Tutorials 4, 7 and 8 must also run on a bare checkout (``TBSPIN_SHARED_DATA``, the one
    variable naming the data folder, points to an absent one): tutorial 4 then writes and reads
    its own file, tutorials 7 and 8 say they skipped, naming the folder they looked in."""
    absent = tmp_path / "absent"
    env = dict(os.environ, TBSPIN_TUTORIAL_OUT=str(tmp_path / "figures"), MPLBACKEND="Agg",
               TBSPIN_SHARED_DATA=str(absent))
    proc = subprocess.run([sys.executable, str(ROOT / "tutorials" / name)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=TIME_LIMIT_S)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert says in proc.stdout
    assert f"TBSPIN_SHARED_DATA={absent}" in proc.stdout
    assert (tmp_path / "figures" / writes).is_file()
