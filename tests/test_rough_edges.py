"""Issue 26 item 7: rough edges, each with the behaviour of 0.2 it replaces."""

from __future__ import annotations

import gzip
import re
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from real_fits import HR_ARCHIVE, data_folder

from tbspin import LatticeModel
from tbspin.cli import app as cli
from tbspin.errors import ParameterError, WannierFormatError
from tbspin.io import read_wannier90
from tbspin.io.wannier90 import write_hr

CUBIC = [[4.0, 0, 0], [0, 4.0, 0], [0, 0, 4.0]]


def _quiet_read(path: Path, **kw: object) -> LatticeModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_wannier90(path, **kw)


# ---------------------------------------------------------------- diagnose --inversion
def test_diagnose_inversion_takes_species_from_the_poscar(tmp_path, monkeypatch, capsys) -> None:
    """The README's `tbspin diagnose ... --inversion` on Bi₂Se₃ failed with "projection on 'Bi':
    no such atom": its .win has no atoms block, the species are in the POSCAR beside it. Here the
    same layout in miniature: two Bi atoms with one s projection each, spinors in block order,
    so the parities are +1 for all four Wannier functions."""
    import tbspin.analysis.diagnose as diag

    hop = np.zeros((3, 4, 4), complex)
    hop[0] = np.kron(np.eye(2), [[0.0, -1.0], [-1.0, 0.0]])
    hop[1] = np.kron(np.eye(2), [[0.0, -0.3], [0.0, 0.0]])
    hop[2] = hop[1].conj().T
    model = LatticeModel(lattice=CUBIC, positions=np.zeros((4, 3)),
                         R=[[0, 0, 0], [0, 0, 1], [0, 0, -1]], hoppings=hop)
    write_hr(model, tmp_path / "wannier90_hr.dat")
    (tmp_path / "wannier90.win").write_text(
        "num_wann = 4\nspinors = .true.\nbegin projections\nBi: s\nend projections\n")
    (tmp_path / "POSCAR").write_text(
        "mini\n1.0\n4 0 0\n0 4 0\n0 0 4\nBi\n2\nDirect\n0 0 0.25\n0 0 0.75\n")
    seen = {}

    def fake(model, **kw):
        seen.update(kw)
        return "diagnosed"

    monkeypatch.setattr(diag, "diagnose", fake)
    rc = cli.main(["diagnose", "--hr", str(tmp_path / "wannier90_hr.dat"), "--spin-order",
                   "block", "--inversion"])
    assert rc == 0, capsys.readouterr().err
    assert seen["parities"] == [1, 1, 1, 1]


# ---------------------------------------------------------------- damaged archives
def _first_damage(raw: bytes, fails) -> bytes:
    """The first single-byte damage of ``raw`` (past the 10-byte gzip header) for which
    ``fails(damaged)`` holds."""
    for pos in range(10, len(raw) - 8):
        b = bytearray(raw)
        b[pos] ^= 0x55
        if fails(bytes(b)):
            return bytes(b)
    raise AssertionError("no damage of that kind found")


def _zlib_error(b: bytes) -> bool:
    try:
        gzip.decompress(b)
    except zlib.error:
        return True
    except (OSError, EOFError):
        return False
    return False


def test_corrupt_gzip_names_the_file(tmp_path) -> None:
    """0.2: some damaged .gz files ended in a raw zlib.error traceback."""
    si = data_folder("silicon_pythtb", ("silicon_hr.dat",))
    raw = gzip.compress((si / "silicon_hr.dat").read_bytes())
    bad = tmp_path / "si_hr.dat.gz"
    bad.write_bytes(_first_damage(raw, _zlib_error))
    with pytest.raises(WannierFormatError, match=r"si_hr\.dat\.gz: cannot uncompress.*damaged"):
        _quiet_read(bad, lattice=CUBIC)


def test_corrupt_tar_gz_is_reported_as_damaged_not_as_bad_content(tmp_path) -> None:
    """0.2 read a damaged .tar.gz member up to the damage and then complained about the garbled
    text ("expected 7 numbers in hopping line", "extra data (wrong nrpts?)"); the gzip CRC is
    now checked before the archive is read."""
    raw = (data_folder("pt_wanniertools") / HR_ARCHIVE).read_bytes()
    b = bytearray(raw)
    b[len(b) // 2] ^= 0xFF
    bad = tmp_path / "pt_hr.dat.tar.gz"
    bad.write_bytes(bytes(b))
    with pytest.raises(WannierFormatError, match=r"pt_hr\.dat\.tar\.gz: cannot uncompress: the "
                                                 r"archive is damaged"):
        _quiet_read(bad, lattice=CUBIC)


# ---------------------------------------------------------------- non-Hermitian line
def test_non_hermitian_error_names_the_lines_of_both_elements(tmp_path) -> None:
    """0.2 named the first line of the −R block (1547 here), not the offending element. The
    expected lines are found independently by scanning the file for the two entries."""
    si = data_folder("silicon_pythtb", ("silicon_hr.dat",))
    lines = (si / "silicon_hr.dat").read_text().splitlines()
    target = partner = None
    for i, line in enumerate(lines):
        t = line.split()
        if len(t) == 7 and t[:5] == ["1", "0", "0", "2", "3"]:
            t[5] = repr(float(t[5]) + 0.5)
            lines[i] = "  ".join(t)
            target = i + 1
        elif len(t) == 7 and t[:5] == ["-1", "0", "0", "3", "2"]:
            partner = i + 1
    assert target and partner
    path = tmp_path / "nh_hr.dat"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(WannierFormatError, match="not Hermitian") as exc:
        _quiet_read(path, lattice=CUBIC)
    msg = str(exc.value)
    named = {int(x) for x in re.findall(r"line (\d+)", msg)}
    assert named == {target, partner}, msg


# ---------------------------------------------------------------- catalogue parameters
def test_bhz_with_a_non_number_names_the_parameter() -> None:
    """0.2: bhz(M='abc') leaked "complex() arg is a malformed string"."""
    from tbspin.models import bhz

    with pytest.raises(ParameterError, match=r"parameter 'M' .*must be a number, got 'abc'"):
        bhz(M="abc")
