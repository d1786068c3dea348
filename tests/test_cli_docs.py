"""The README's Python examples, the CLI and the demo run and say what they claim."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from real_fits import find_shared_data

import tbspin
from tbspin.cli import app as cli

ROOT = Path(__file__).resolve().parents[1]


def _readme_blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_python_blocks_run_and_quantize(monkeypatch):
    """Every README Python block runs as written (from the repository root). The BHZ examples
    (s_z conserved) give (C↑ − C↓) e/4π = 4 e/8π (exact); the Wannier90 one needs the shared
    data folder (tests/real_fits.py finds it; the block reads it there)."""
    blocks = _readme_blocks("python")
    assert len(blocks) >= 3
    monkeypatch.chdir(ROOT)
    for block in blocks:
        folders = re.findall(r"\.\./shared/data/(\w+)/", block)
        if folders:
            base = find_shared_data(*folders)
            if base is None:
                continue  # a user's clone without the shared folder (the other blocks still run)
            block = block.replace("../shared/data", str(base))
        ns: dict = {}
        exec(compile(block, "README.md", "exec"), ns)
        res = ns["res"]
        assert np.all(np.isfinite(res.values))
        if "bhz" in block.lower() or "kane_mele(lambda_r=0.0)" in block:
            assert abs(abs(res.values[0]) - 4.0) < 1e-3


def test_readme_shell_commands_parse():
    """Every `tbspin ...` line of the README's shell blocks is accepted by the CLI parser (options
    and values as written; nothing is run)."""
    parser = cli.build_parser()
    commands = []
    for block in _readme_blocks("bash"):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("tbspin "):
                commands.append(line.split()[1:])
    assert len(commands) >= 6
    for argv in commands:
        args = parser.parse_args(argv)
        assert args.command == argv[0]


def test_readme_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    assert [ln.split()[0:2] for ln in first.strip().splitlines()] == [["make", "demo"], ["make", "test"]]


def test_cli_shc_on_builtin_model_writes_files(tmp_path, capsys):
    """`tbspin shc` on the BHZ model: quantized value in the gap (exact: 4 e/8π), files written."""
    rc = cli.main(["shc", "--model", "bhz", "--param", "M=-0.05", "--efermi=-0.01:0.01:3",
                   "--mesh", "60", "--out", str(tmp_path / "bhz"), "--no-progress", "--no-errors"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "sigma^z_xy" in out
    data = json.loads((tmp_path / "bhz.json").read_text())
    assert data["unit"] == "e/8pi"
    assert np.allclose(np.abs(data["values"]), 4.0, atol=1e-3)
    assert (tmp_path / "bhz.png").stat().st_size > 1000


def test_cli_ahc_haldane_matches_api(capsys):
    rc = cli.main(["ahc", "--model", "haldane", "--efermi", "0", "--mesh", "48", "--no-progress",
                   "--seed", "5"])
    assert rc == 0
    api = tbspin.anomalous_hall(tbspin.models.haldane(), efermi=[0.0], mesh=48, seed=5)
    assert f"{api.values[0]:.8g}  {api.errors[0]:16.3g}" in capsys.readouterr().out
    rc = cli.main(["ahc", "--model", "haldane", "--efermi", "0", "--mesh", "48", "--no-progress",
                   "--no-errors"])
    assert rc == 0
    api = tbspin.anomalous_hall(tbspin.models.haldane(), efermi=[0.0], mesh=48, errors=False)
    assert f"{api.values[0]:.8g}" in capsys.readouterr().out


def test_cli_errors_are_one_line(capsys):
    assert cli.main(["ahc", "--model", "haldane", "--mesh", "1", "--no-progress"]) == 2
    assert "'mesh'" in capsys.readouterr().err
    assert cli.main(["shc", "--model", "nosuchmodel"]) == 2  # a usage error, one line
    err = capsys.readouterr().err
    assert "nosuchmodel" in err and "bi2se3" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exc:  # argparse's own usage errors exit with 2 too
        cli.main(["shc", "--efermi", "a:b"])
    assert exc.value.code == 2


def test_cli_help_runs():
    r = subprocess.run([sys.executable, "-m", "tbspin.cli.app", "shc", "--help"], capture_output=True,
                       text=True, check=True)
    assert "proper" in r.stdout and "ħ/2" in r.stdout


def test_parse_energies():
    assert np.allclose(cli.parse_energies("-1:1:5"), [-1, -0.5, 0, 0.5, 1])
    assert np.allclose(cli.parse_energies("0.1,0.2"), [0.1, 0.2])


def test_demo_runs_small(tmp_path, capsys):
    """The main job on a small mesh: writes both results; in the gap the value is flat in E_F."""
    rc = cli.main(["demo", "--out", str(tmp_path), "--mesh", "16", "--no-progress"])
    assert rc == 0
    proper = tbspin.ConductivityResult.from_json(tmp_path / "demo_bi2se3_shc_proper.json")
    assert proper.label == "sigma^y_zx" and proper.unit == "(hbar/2e) S/m"
    gap = (proper.efermi > -0.05) & (proper.efermi < 0.2)
    assert np.ptp(proper.values[gap]) < 1e-9 * max(1.0, np.abs(proper.values[gap]).max())
    assert (tmp_path / "demo_bi2se3_shc.png").exists()


@pytest.mark.parametrize("order", ["interleaved", "block"])
@pytest.mark.filterwarnings("ignore:no Wannier centres")
def test_cli_shc_on_imported_hr_file(tmp_path, capsys, order):
    """`tbspin shc --hr ... --spin-order ...`: a Kane–Mele model (λ_R = 0, s_z conserved, spin
    Chern number 1) written as _hr.dat in either spinor order gives (C↑ − C↓) e/4π = 4 e/8π.
    No centres file: orbitals sit at the origin (tbspin warns); the insulating value does not
    depend on that, but converges more slowly in k, hence the 72² mesh."""
    from tbspin.io import write_hr
    from tbspin.models import kane_mele

    model = kane_mele(lambda_r=0.0)  # basis (A↑, A↓, B↑, B↓): interleaved
    if order == "block":
        perm = [0, 2, 1, 3]  # (A↑, B↑, A↓, B↓)
        model = model.transformed(np.eye(4)[:, perm])
    lat3 = np.eye(3) * 20.0
    lat3[:2, :2] = model.lattice
    path = tmp_path / f"km_{order}_hr.dat"
    write_hr(model, path)
    rc = cli.main(["shc", "--hr", str(path), "--spin-order", order,
                   "--lattice", ",".join(map(str, lat3.ravel())), "--efermi", "0",
                   "--mesh", "72", "72", "--out", str(tmp_path / "r"), "--no-progress",
                   "--no-errors"])
    assert rc == 0
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["dim"] == 2 and data["unit"] == "e/8pi"
    assert abs(abs(data["values"][0]) - 4.0) < 1e-6
    capsys.readouterr()


def test_convergence_study_table(tmp_path, capsys):
    """`--converge`: BHZ in the gap converges to the exact 4 e/8π; the relative change per mesh
    step shrinks and the table is written next to the finest result."""
    from tbspin.results.convergence import mesh_study

    rc = cli.main(["shc", "--model", "bhz", "--param", "M=-0.05", "--efermi", "0",
                   "--converge", "16", "32", "64", "--out", str(tmp_path / "c"), "--no-progress",
                   "--no-errors"])
    assert rc == 0
    text = (tmp_path / "c_convergence.txt").read_text()
    assert "16x16" in text and "64x64" in text and text in capsys.readouterr().out
    import functools

    table = mesh_study(functools.partial(tbspin.spin_hall, tbspin.models.bhz(M=-0.05),
                                         efermi=[0.0], errors=False), [16, 32, 64])
    ch = table.relative_changes[:, 0]
    assert ch[1] < ch[0]
    assert abs(abs(table.values[-1, 0]) - 4.0) < 1e-4
    assert table.converged(1e-2)[0] and not table.converged(1e-3)[0]  # last step 2e-3
    with pytest.raises(ValueError, match="at least two meshes"):
        mesh_study(functools.partial(tbspin.spin_hall, tbspin.models.bhz(), efermi=[0.0]), [8])


def test_tutorials_readme_lists_every_tutorial_and_which_need_kwant():
    """Issue 26 item 8: the tutorials README said "five" for seven tutorials and not which need
    Kwant. Expected from the scripts themselves: a tutorial needs Kwant when it builds a k·p
    catalogue model (registry.needs_kwant), regularizes a k·p string or builds a slab."""
    from tbspin.models import registry

    kp_models = [n for n in registry.names() if registry.get(n).needs_kwant]
    table = (ROOT / "tutorials" / "README.md").read_text()
    scripts = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
    assert len(scripts) == 8 and "Eight tutorials" in table
    for script in scripts:
        row = next((ln for ln in table.splitlines() if f"`{script.name}`" in ln), None)
        assert row is not None, script.name
        code = script.read_text()
        needs = (any(re.search(rf"\b{m}\(", code) for m in kp_models)
                 or "regularize(" in code or "make_slab(" in code)
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)]  # "\\|" is a literal bar
        assert cells[3].startswith("**yes**" if needs else "no"), (script.name, cells[3])
