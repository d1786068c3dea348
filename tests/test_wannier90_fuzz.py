"""Corrupt-file fuzzing of the Wannier90 readers (issue 4, acceptance item 5).

Valid small files are written by tbspin (``_hr.dat``, ``_tb.dat``) or copied from the real
``_wsvec.dat``/``.win`` test data built here; hypothesis then deletes, duplicates, inserts and
replaces lines and tokens, or truncates the text. Every reader must either succeed or raise
:class:`tbspin.WannierFormatError` (never another exception type) within the deadline.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tbspin import LatticeModel, WannierFormatError  # noqa: E402
from tbspin.io.wannier90 import (  # noqa: E402
    read_centres,
    read_wannier90,
    read_win,
    read_wsvec,
    write_hr,
    write_tb,
)

LAT = np.array([[3.0, 0.1, 0.0], [0.2, 2.5, 0.0], [0.0, 0.3, 4.0]])


def _model() -> LatticeModel:
    rng = np.random.default_rng(11)
    n = 2
    hop = {(0, 0, 0): np.diag(rng.normal(size=n)).astype(complex)}
    for R in [(1, 0, 0), (0, 1, 1)]:
        h = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        hop[R] = h
        hop[tuple(-x for x in R)] = h.conj().T
    return LatticeModel(lattice=LAT, hoppings=hop, positions=rng.normal(size=(n, 3)))


def _wsvec_text(model: LatticeModel) -> str:
    """A valid _wsvec.dat for the model: shift 0 for every entry, two shifts for one."""
    lines = ["## written by the test with use_ws_distance=.true."]
    n = model.n_orbitals
    for R in model.R:
        for m in range(n):
            for k in range(n):
                lines.append(f"{R[0]:5d}{R[1]:5d}{R[2]:5d}{m + 1:5d}{k + 1:5d}")
                if m == 0 and k == 1 and not R.any():
                    lines += ["    2", "    0    0    0", "    1    0    0"]
                else:
                    lines += ["    1", "    0    0    0"]
    return "\n".join(lines) + "\n"


WIN = """num_wann = 2
begin unit_cell_cart
ang
3.0 0.1 0.0
0.2 2.5 0.0
0.0 0.3 4.0
end unit_cell_cart
begin atoms_cart
bohr
C 0 0 0
end atoms_cart
"""

CENTRES = """3
 comment
X 0.1 0.2 0.3
X 0.5 0.5 0.5
C 0.0 0.0 0.0
"""


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("valid")
    model = _model()
    return {
        "hr": write_hr(model, d / "v_hr.dat").read_text(),
        "tb": write_tb(model, d / "v_tb.dat").read_text(),
        "wsvec": _wsvec_text(model),
        "win": WIN,
        "centres": CENTRES,
    }


TOKENS = st.sampled_from(
    ["nan", "inf", "-inf", "abc", "1e999", "", "-", "1.5", "0", "-1", "3", "99999999999",
     "1.0D-03", "******", "\t", "2 2", "\x00", "é", "1e-300", "7"]
)


@st.composite
def corrupted(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        op = draw(st.sampled_from(["delete", "duplicate", "replace_token", "insert", "truncate",
                                   "swap"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, " ".join(draw(st.lists(TOKENS, max_size=8))))
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "replace_token":
            toks = lines[i].split()
            if toks:
                toks[draw(st.integers(0, len(toks) - 1))] = draw(TOKENS)
            else:
                toks = [draw(TOKENS)]
            lines[i] = " ".join(toks)
        else:
            joined = "\n".join(lines)
            cut = draw(st.integers(0, len(joined)))
            lines = joined[:cut].splitlines()
    return "\n".join(lines) + "\n"


FUZZ = settings(max_examples=300, deadline=timedelta(seconds=2), derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _must_parse_or_raise(call) -> None:  # noqa: ANN001
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except WannierFormatError:
            pass


@pytest.mark.parametrize("kind", ["hr", "tb"])
@FUZZ
@given(data=st.data())
def test_fuzz_hamiltonian_files(kind: str, valid: dict[str, str], tmp_path: Path,
                                data: st.DataObject) -> None:
    text = data.draw(corrupted(valid[kind]))
    path = tmp_path / f"f_{kind}.dat"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    kw = {"lattice": LAT} if kind == "hr" else {}
    _must_parse_or_raise(lambda: read_wannier90(path, use_ws_distance=False, **kw))
    _must_parse_or_raise(lambda: read_wannier90(path, use_ws_distance=False,
                                                spin_order="block", **kw))


@FUZZ
@given(data=st.data())
def test_fuzz_side_files(valid: dict[str, str], tmp_path: Path, data: st.DataObject) -> None:
    which = data.draw(st.sampled_from(["wsvec", "win", "centres"]))
    text = data.draw(corrupted(valid[which]))
    (tmp_path / "s_hr.dat").write_text(valid["hr"])
    names = {"wsvec": "s_wsvec.dat", "win": "s.win", "centres": "s_centres.xyz"}
    path = tmp_path / names[which]
    path.write_text(text, encoding="utf-8")
    readers = {"wsvec": lambda: read_wsvec(path, 2), "win": lambda: read_win(path),
               "centres": lambda: read_centres(path, 2)}
    _must_parse_or_raise(readers[which])
    kw = {} if which == "win" else {"lattice": LAT}
    _must_parse_or_raise(lambda: read_wannier90(tmp_path / "s", **kw))


def test_fuzz_inputs_are_valid(valid: dict[str, str], tmp_path: Path) -> None:
    """The uncorrupted inputs parse (so the fuzz tests exercise real parsing)."""
    for name, key in (("u_hr.dat", "hr"), ("u_wsvec.dat", "wsvec"), ("u.win", "win"),
                      ("u_centres.xyz", "centres")):
        (tmp_path / name).write_text(valid[key])
    model = read_wannier90(tmp_path / "u")
    assert model.metadata["ws_distance"] is True
    np.testing.assert_allclose(model.lattice, LAT)
    np.testing.assert_allclose(model.positions, [[0.1, 0.2, 0.3], [0.5, 0.5, 0.5]])
    (tmp_path / "t_tb.dat").write_text(valid["tb"])
    ref = _model()
    np.testing.assert_array_equal(read_wannier90(tmp_path / "t_tb.dat").hamiltonian(LAT),
                                  ref.hamiltonian(LAT))
