"""Spinor orders (tbspin.model.spin) and spinor-order detection on real spin–orbit files.

Sources of the expected values: the Pauli algebra [σ_x, σ_y] = 2iσ_z; the spinor orders of the
shared Wannier90 files as stated in ``../shared/data/README.md`` (Bi₂Se₃ block, Pt block, GaAs
interleaved); the spin-mixing numbers of those files (right / wrong order: Bi₂Se₃ 0.112 / 0.393,
GaAs 0.020 / 0.375, Pt 0.036 / 0.254) as reported in issue 12, item 1; the bases of the
catalogue models as defined in their papers (BHZ: (E1+, H1+, E1−, H1−), Bernevig, Hughes &
Zhang 2006, i.e. block; Kane–Mele: (A↑, A↓, B↑, B↓), interleaved).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from real_fits import HR_ARCHIVE, data_folder

from tbspin.errors import ParameterError
from tbspin.model.spin import (
    SPIN_ORDERS,
    WRONG_ORDER_RATIO,
    SpinOrderWarning,
    check_spin_order,
    diagnose_spin_order,
    onsite_pairing,
    operator_order,
    order_permutation,
    reorder,
    spin_index,
    spin_mixing,
    spin_operators,
    sz_diagonal,
)


# ---------------------------------------------------------------------- operators
@pytest.mark.parametrize("n", [2, 4, 10])
@pytest.mark.parametrize("order", SPIN_ORDERS)
def test_pauli_algebra_in_both_orders(n: int, order: str) -> None:
    s = spin_operators(n, order)
    sx, sy, sz = s["sx"], s["sy"], s["sz"]
    np.testing.assert_allclose(sx @ sy - sy @ sx, 2j * sz, atol=1e-15)
    np.testing.assert_allclose(sy @ sz - sz @ sy, 2j * sx, atol=1e-15)
    for op in (sx, sy, sz):
        np.testing.assert_allclose(op @ op, np.eye(n), atol=1e-15)
    np.testing.assert_array_equal(np.diag(sz).real, sz_diagonal(n, order))


def test_orders_as_documented() -> None:
    np.testing.assert_array_equal(sz_diagonal(6, "interleaved"), [1, -1, 1, -1, 1, -1])
    np.testing.assert_array_equal(sz_diagonal(6, "block"), [1, 1, 1, -1, -1, -1])
    np.testing.assert_array_equal(spin_index(6, "block"), [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(spin_index(6, "interleaved"), [[0, 2, 4], [1, 3, 5]])


def test_permutation_between_orders_maps_operators_and_back() -> None:
    n = 8
    for src, dst in (("interleaved", "block"), ("block", "interleaved")):
        ops_src, ops_dst = spin_operators(n, src), spin_operators(n, dst)
        for k in ops_src:
            np.testing.assert_array_equal(reorder(ops_src[k], src, dst), ops_dst[k])
    p = order_permutation(n, "interleaved", "block")
    q = order_permutation(n, "block", "interleaved")
    np.testing.assert_array_equal(p[q], np.arange(n))
    np.testing.assert_array_equal(reorder(np.arange(n), "interleaved", "block"), p)


def test_bad_orders_and_odd_sizes_name_the_parameter() -> None:
    with pytest.raises(ParameterError, match="spin_order='up-down'.*interleaved.*block"):
        spin_operators(4, "up-down")
    with pytest.raises(ValueError, match="spin_order='block'.*3 states.*odd"):
        spin_operators(3, "block")
    with pytest.raises(ParameterError, match="spin_order"):
        check_spin_order(np.zeros((1, 5, 5)), "block")


def test_catalogue_models_use_the_orders_of_their_papers() -> None:
    from tbspin import models as cat

    assert operator_order(cat.bhz().operators) == "block"
    assert operator_order(cat.kane_mele().operators) == "interleaved"
    assert operator_order(cat.bi2se3().operators) == "interleaved"
    assert operator_order(cat.cubic_ti().operators) == "interleaved"
    assert operator_order({"sz": np.eye(3)}) is None


# ---------------------------------------------------------------------- mixing measure
def _spin_conserving(n_orb: int, seed: int) -> np.ndarray:
    """H_R = h_R ⊗ 1 (up and down alike) in the interleaved order: conserves s_z exactly."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(3, n_orb, n_orb)) + 1j * rng.normal(size=(3, n_orb, n_orb))
    return np.stack([np.kron(x, np.eye(2)) for x in h])


def test_mixing_vanishes_in_the_conserving_order_only() -> None:
    H = _spin_conserving(3, 0)
    assert spin_mixing(H, "interleaved") == 0.0
    assert spin_mixing(H, "block") > 0.3
    # the same hoppings rewritten in block order: the roles swap
    Hb = reorder(H, "interleaved", "block")
    assert spin_mixing(Hb, "block") == 0.0
    with pytest.warns(SpinOrderWarning, match="probably 'block'.*conserved exactly"):
        check_spin_order(Hb, "interleaved")


def test_soc_in_the_right_order_does_not_warn_but_the_wrong_order_does() -> None:
    """Kane–Mele with Rashba (s_z not conserved, λ_R = 0.05 t): before, a warning needed exact
    s_z conservation in the other order and never came."""
    from tbspin import models as cat

    km = cat.kane_mele()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpinOrderWarning)
        given, other = check_spin_order(km, "interleaved")
    assert 0 < given < other
    blk = reorder(km.hoppings, "interleaved", "block")
    with pytest.warns(SpinOrderWarning, match=r"probably 'block'.*x less"):
        check_spin_order(blk, "interleaved")


def test_no_sign_of_spinors() -> None:
    rng = np.random.default_rng(3)
    h = rng.normal(size=(5, 6, 6))  # six unrelated orbitals
    diag = diagnose_spin_order(h)
    assert not diag.spinor_like and diag.likely is None
    with pytest.warns(SpinOrderWarning, match="no sign of spinors"):
        check_spin_order(h, "block")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpinOrderWarning)
        check_spin_order(h, "block", judge_spinors=False)


# ---------------------------------------------------------------------- real files
REAL = [  # folder, file, order from shared/data/README.md, (right, wrong) from issue 12
    ("bi2se3_wanniertools", "wannier90_hr.dat.tar.gz", "block", (0.112, 0.393)),
    ("pt_wanniertools", "wannier90_hr.dat.tar.gz", "block", (0.036, 0.254)),
    ("gaas_tb_wannierberri", "GaAs_tb.dat.tar.gz", "interleaved", (0.020, 0.375)),
]


@pytest.mark.parametrize(("folder", "name", "order", "numbers"), REAL)
def test_spinor_order_detected_on_real_soc_files(folder: str, name: str, order: str,
                                                 numbers: tuple[float, float]) -> None:
    from tbspin.io import read_wannier90

    path = data_folder(folder, (name,)) / name
    wrong = "interleaved" if order == "block" else "block"
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpinOrderWarning)
        right = read_wannier90(path, spin_order=order)
    mixing = right.metadata["spin_mixing"]
    assert (round(mixing[order], 3), round(mixing[wrong], 3)) == numbers
    assert right.metadata["source"]["spin_order"] == order
    with pytest.warns(SpinOrderWarning, match=rf"spin_order='{wrong}' looks wrong.*"
                                              rf"probably '{order}'") as rec:
        read_wannier90(path, spin_order=wrong)
    # the message says by how much: the ratio of the two numbers
    said = [re.search(r"\(([\d.]+)x less\)", str(w.message)) for w in rec]
    factor = float(next(m for m in said if m).group(1))
    assert factor == pytest.approx(numbers[1] / numbers[0], rel=0.03)


def test_spin_order_on_a_spinless_file() -> None:
    from tbspin.io import read_wannier90

    si = data_folder("silicon_pythtb", ("silicon_hr.dat", "silicon.win"))
    graphene = data_folder("graphene_wanniertools", ("Graphene_hr.dat",))
    # silicon.win has no 'spinors' keyword (Wannier90's default: .false.)
    with pytest.warns(SpinOrderWarning, match="spinors"):
        read_wannier90(si / "silicon", spin_order="block")
    # graphene: 2 p_z orbitals and no .win; the measure says no spinors (mixing 0.98)
    lat = [[2.137711, -1.234208, 0], [0, 2.468416, 0], [0, 0, 10]]
    with pytest.warns(SpinOrderWarning, match="no sign of spinors"):
        read_wannier90(graphene / "Graphene_hr.dat", lattice=lat,
                       positions=np.zeros((2, 3)), spin_order="interleaved")


FE_LATTICE = [[1.435, 1.435, -1.435], [-1.435, 1.435, 1.435], [1.435, -1.435, 1.435]]


def test_magnetic_fe_wrong_order_is_flagged_by_the_onsite_pairing() -> None:
    """Issue 26 item 1: bcc Fe (block order, shared/data/README.md) read as 'interleaved' gave
    an SHC of −23611.6 instead of −2753.1 without a word: the mixing measure (0.221 / 0.322)
    cannot tell the orders of a magnet apart. The on-site pairing measure can (module docstring
    of tbspin.model.spin: 0.503 right, 1.057 wrong); the right order loads silently."""
    from tbspin.io import read_wannier90

    path = data_folder("fe_wanniertools") / HR_ARCHIVE
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpinOrderWarning)
        right = read_wannier90(path, spin_order="block", lattice=FE_LATTICE,
                               positions=np.zeros((16, 3)))  # README: all WFs at the origin
    mixing = right.metadata["spin_mixing"]
    assert mixing["interleaved"] / mixing["block"] < WRONG_ORDER_RATIO  # the old test is blind
    with pytest.warns(SpinOrderWarning, match=r"spin_order='interleaved' looks wrong.*probably "
                                              r"'block'.*on-site energies") as rec:
        read_wannier90(path, spin_order="interleaved", lattice=FE_LATTICE,
                       positions=np.zeros((16, 3)))
    said = [re.search(r"\(([\d.]+)x less", str(w.message)) for w in rec]
    assert float(next(m for m in said if m).group(1)) >= WRONG_ORDER_RATIO


def test_onsite_pairing_independent_computation() -> None:
    """π = rms(ε↑ − ε↓)/std(ε), computed by hand for four on-site energies."""
    onsite = np.diag([1.0, 3.0, 1.5, 3.0])  # interleaved pairs (1, 3), (1.5, 3); block (1, 1.5), (3, 3)
    e = np.array([1.0, 3.0, 1.5, 3.0])
    assert onsite_pairing(onsite, "interleaved") == pytest.approx(
        np.sqrt((2.0 ** 2 + 1.5 ** 2) / 2) / e.std())
    assert onsite_pairing(onsite, "block") == pytest.approx(np.sqrt(0.5 ** 2 / 2) / e.std())
    assert onsite_pairing(np.eye(4), "block") is None  # nothing to compare, never NaN


def test_unverifiable_order_warns() -> None:
    """Neither measure separates the orders: the load-time warning says so (before: silence).

    Four states, equal on-site energies (no pairing to compare) and a hopping that couples the
    interleaved partners (0, 1), (2, 3) exactly as strongly as the block partners (0, 2), (1, 3):
    both orders mix spin equally (and weakly, so the basis looks like spinors)."""
    t, a = 1.0, 0.1
    hop = t * np.eye(4)
    for i, j in ((0, 1), (2, 3), (0, 2), (1, 3)):
        hop[i, j] = hop[j, i] = a
    h = np.stack([np.eye(4), hop, hop.T])
    R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0]])
    diag = diagnose_spin_order(h, R)
    assert diag.mixing["block"] == pytest.approx(diag.mixing["interleaved"])
    assert diag.likely is None and diag.pairing is None and diag.spinor_like
    for order in SPIN_ORDERS:
        with pytest.warns(SpinOrderWarning, match=f"spin_order='{order}' could not be verified"):
            check_spin_order(h, order, R=R)
