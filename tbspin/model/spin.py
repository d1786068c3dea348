"""Spinor orders: the one place that knows how spin-up and spin-down states are laid out.

A spinor basis of ``N = 2 n`` states holds ``n`` spatial orbitals, each with spin up (s_z = +1)
and spin down (s_z = −1). Two orders occur in practice:

``"interleaved"``
    (orbital 1 ↑, orbital 1 ↓, orbital 2 ↑, orbital 2 ↓, ...): Quantum ESPRESSO pw2wannier90,
    VASP 6, PythTB ``nspin=2``, the Kane–Mele and Bi₂Se₃ models of :mod:`tbspin.models`.
    Pauli matrices σ_i → 1_n ⊗ σ_i.
``"block"``
    (orbital 1 ↑, ..., orbital n ↑, orbital 1 ↓, ..., orbital n ↓): VASP 5, the WannierTools
    examples, the BHZ model. Pauli matrices σ_i → σ_i ⊗ 1_n.

Spin operators are returned in units of ħ/2 (the Pauli matrices themselves).

Spin-mixing measure
-------------------
For a hopping table H_R (NR, N, N) and an order, :func:`spin_mixing` is

    μ = ‖ H_R restricted to (↑, ↓) and (↓, ↑) elements ‖ / ‖ H_R ‖      (Frobenius, over all R)

It vanishes when H conserves s_z in that order and is of order 1 when the two "spin" halves
are unrelated orbitals. Spin–orbit coupling makes μ > 0 in the right order too, but much
smaller than in the wrong one. Measured on the Wannier90 files of ``../shared/data``
(right / wrong order): Bi₂Se₃ 0.112 / 0.393 (block), Pt 0.036 / 0.254 (block),
GaAs ``_tb.dat`` 0.020 / 0.375 (interleaved); bcc Fe (ferromagnet, block) 0.221 / 0.322 does
not separate by the factor :data:`WRONG_ORDER_RATIO` (its disentangled p states at 16–17 eV,
7 eV above E_F, couple opposite spins by ~1 eV on site).

On-site pairing measure
-----------------------
A magnet's exchange splitting and a noisy fit's spin-flip terms blur the mixing measure, but
they leave the on-site energies of a spin pair close together compared with the spread of the
on-site energies of different orbitals. :func:`onsite_pairing` is

    π = rms_i(ε_{i↑} − ε_{i↓}) / std_j(ε_j),      ε = diagonal of H_{R=0}

(0 for a time-reversal symmetric basis in the right order, of order 1 when "spin partners" are
different orbitals). Right / wrong order on the same files: Fe 0.503 / 1.057 (ratio 2.10: the
exchange splitting of the d states, 2.2 eV, against a 3.7 eV spread), Pt 0.000 / 0.917,
Bi₂Se₃ 0.000 / 0.788, 1T′-WSe₂ 0.004 / 1.380, GaAs 0.000 / 2.000. It decides only when the
mixing measure cannot; when neither decides, :func:`check_spin_order` says that the order
could not be verified.
Spinless files: silicon (8 sp³) 0.537 / 0.542, silicon (4 bond WFs) 0.243 / 0.243, graphene
(2 p_z, where both orders coincide) 0.978.

:func:`diagnose_spin_order` turns the two numbers into a verdict and :func:`check_spin_order`
warns with :class:`SpinOrderWarning` when a requested order looks wrong.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from tbspin.errors import ParameterError, TbspinWarning
from tbspin.types import ArrayLike, ComplexArray, FloatArray, IntArray

__all__ = [
    "SPIN_ORDERS",
    "SpinOrder",
    "PAULI",
    "SIGMA_0",
    "WRONG_ORDER_RATIO",
    "SpinOrderWarning",
    "SpinOrderDiagnosis",
    "validate_spin_order",
    "spin_operators",
    "sz_diagonal",
    "spin_index",
    "order_permutation",
    "reorder",
    "spin_mixing",
    "onsite_pairing",
    "diagnose_spin_order",
    "check_spin_order",
    "operator_order",
]

#: the two spinor orders
SPIN_ORDERS: tuple[str, str] = ("interleaved", "block")
SpinOrder = Literal["interleaved", "block"]

#: 2×2 identity (σ_0)
SIGMA_0: ComplexArray = np.eye(2, dtype=complex)
#: Pauli matrices σ_x, σ_y, σ_z
PAULI: tuple[ComplexArray, ComplexArray, ComplexArray] = (
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
for _m in (SIGMA_0, *PAULI):
    _m.setflags(write=False)

#: A requested order "looks wrong" when its spin-mixing measure is at least this many times the
#: measure of the other order (right/wrong ratios of the real files: 3.5, 7.1, 18.8).
WRONG_ORDER_RATIO = 2.0
#: Below this mixing H counts as exactly s_z conserving (the ``_hr.dat`` print precision).
EXACT_TOL = 1e-6
#: "No sign of spinors": even the better order mixes at least this much (spinless silicon
#: 0.54, graphene 0.98; the spinor files 0.02–0.22). A spinless basis that mixes less (4 bond
#: WFs of silicon: 0.24 in both orders) is not caught: without a ``.win`` saying so, nothing in
#: H tells it from a spinor basis with strong spin–orbit coupling (the cubic TI model: 0.21).
NO_SPINOR_MIXING = 0.5

SPIN_ORDER_HELP = (
    "spin_order must be 'interleaved' (up, down for every orbital: Quantum ESPRESSO, VASP 6, "
    "PythTB) or 'block' (all spin-up states first, then all spin-down in the same orbital "
    "order: VASP 5, WannierTools)"
)


class SpinOrderWarning(TbspinWarning):
    """The requested spinor order looks wrong, or the basis shows no sign of spinors."""


class _HasHoppings(Protocol):
    @property
    def hoppings(self) -> ComplexArray: ...


HoppingsLike = _HasHoppings | ArrayLike


def validate_spin_order(spin_order: object, *, parameter: str = "spin_order") -> str:
    """Return ``spin_order`` if it is ``"interleaved"`` or ``"block"``.

    Raises
    ------
    ParameterError
        Naming ``parameter`` and the two valid orders.
    """
    if not isinstance(spin_order, str) or spin_order not in SPIN_ORDERS:
        raise ParameterError(f"unknown {parameter}={spin_order!r}: "
                             + SPIN_ORDER_HELP.replace("spin_order", parameter, 1))
    return spin_order


def _half(n_states: int, spin_order: str, parameter: str) -> int:
    validate_spin_order(spin_order, parameter=parameter)
    n = int(n_states)
    if n != n_states or n < 2 or n % 2:
        raise ParameterError(
            f"{parameter}={spin_order!r} needs pairs of spinor states (an even number >= 2), "
            f"but the basis has {n_states} states (odd: this basis cannot be spinors)")
    return n // 2


def spin_index(n_states: int, spin_order: str, *, parameter: str = "spin_order") -> IntArray:
    """Basis position of (spin s, orbital i): an (2, n) array, s = 0 (↑) or 1 (↓)."""
    n = _half(n_states, spin_order, parameter)
    i = np.arange(n)
    if spin_order == "interleaved":
        return np.stack([2 * i, 2 * i + 1])
    return np.stack([i, i + n])


def sz_diagonal(n_states: int, spin_order: str, *, parameter: str = "spin_order") -> FloatArray:
    """Diagonal of s_z (units of ħ/2): +1 for spin-up states, −1 for spin-down."""
    idx = spin_index(n_states, spin_order, parameter=parameter)
    out = np.empty(n_states)
    out[idx[0]] = 1.0
    out[idx[1]] = -1.0
    return out


def spin_operators(
    n_states: int, spin_order: str, *, parameter: str = "spin_order"
) -> dict[str, ComplexArray]:
    """Pauli spin operators (units of ħ/2) on a spinor basis of ``n_states`` states.

    Parameters
    ----------
    n_states : int
        Even number of spinor states (``num_wann`` of a Wannier90 file).
    spin_order : {"interleaved", "block"}
        Layout of the states (module docstring).
    parameter : str
        Name used in error messages.

    Returns
    -------
    dict
        ``"sx", "sy", "sz"``: (n_states, n_states) complex arrays.

    Raises
    ------
    ParameterError
        Unknown order, or an odd number of states.
    """
    return _pauli(_half(n_states, spin_order, parameter), spin_order)


def _pauli(n: int, spin_order: str) -> dict[str, ComplexArray]:
    """σ ⊗ 1_n (block) or 1_n ⊗ σ (interleaved) for n orbitals."""
    eye = np.eye(n)
    pairs = [np.kron(eye, p) if spin_order == "interleaved" else np.kron(p, eye) for p in PAULI]
    return {k: np.asarray(m, dtype=np.complex128) for k, m in zip(("sx", "sy", "sz"), pairs,
                                                                     strict=True)}


def order_permutation(n_states: int, source: str, target: str) -> IntArray:
    """Permutation p from ``source`` to ``target`` order: ``M_target = M_source[p][:, p]``."""
    src = spin_index(n_states, source, parameter="source")
    dst = spin_index(n_states, target, parameter="target")
    perm = np.empty(n_states, dtype=int)
    perm[dst.ravel()] = src.ravel()
    return perm


def reorder(matrices: ArrayLike, source: str, target: str) -> ComplexArray:
    """Matrices (..., N, N) (or vectors (..., N)) rewritten from ``source`` to ``target`` order.

    Acts on the last two axes (the last axis for a 1D input), e.g. hoppings (NR, N, N),
    operators (N, N) or orbital positions transposed.
    """
    a = np.asarray(matrices)
    perm = order_permutation(a.shape[-1], source, target)
    if a.ndim == 1:
        return a[perm]
    return a[..., perm, :][..., perm]


def _as_hoppings(model: HoppingsLike) -> ComplexArray:
    H = np.asarray(getattr(model, "hoppings", model))
    if H.ndim == 2:
        H = H[None]
    if H.ndim != 3 or H.shape[1] != H.shape[2]:
        raise ParameterError(f"hoppings must have shape (NR, N, N), got {H.shape}")
    return H


def spin_mixing(hoppings: HoppingsLike, spin_order: str) -> float:
    """Relative weight of H_R connecting opposite s_z in ``spin_order`` (module docstring).

    Parameters
    ----------
    hoppings : (NR, N, N) or (N, N) array_like, or a model with ``.hoppings``
    spin_order : {"interleaved", "block"}

    Returns
    -------
    float
        ``‖H_R[↑↓ and ↓↑ elements]‖ / ‖H_R‖`` (Frobenius norms summed over R): 0 when H conserves
        s_z in this order, of order 1 when it does not; 0 for H = 0.
    """
    H = _as_hoppings(hoppings)
    sz = sz_diagonal(H.shape[1], spin_order)
    flip = sz[:, None] != sz[None, :]
    total = float(np.sqrt(np.sum(np.abs(H) ** 2)))
    if total == 0:
        return 0.0
    return float(np.sqrt(np.sum(np.abs(H[:, flip]) ** 2))) / total


@dataclass(frozen=True)
class SpinOrderDiagnosis:
    """What the spin-mixing measure says about a spinor basis.

    Attributes
    ----------
    mixing : dict
        :func:`spin_mixing` for ``"interleaved"`` and ``"block"``.
    likely : str or None
        The order that separates spin clearly (ratio ≥ :data:`WRONG_ORDER_RATIO`, or exact s_z
        conservation in one order only); None when the measure cannot tell.
    ratio : float
        Larger over smaller mixing (inf when the smaller one vanishes).
    spinor_like : bool
        False when nothing suggests spinors: even the better order mixes at least
        :data:`NO_SPINOR_MIXING`. (For two states the orders coincide.)
    pairing : dict or None
        :func:`onsite_pairing` for both orders (None without the R = 0 block, or when all
        on-site energies are equal).
    decided_by : {"mixing", "pairing"} or None
        The measure that gave ``likely``.
    """

    mixing: dict[str, float]
    likely: str | None
    ratio: float
    spinor_like: bool
    pairing: dict[str, float] | None = None
    decided_by: str | None = None

    def describe(self) -> str:
        """One line with both numbers."""
        m = self.mixing
        return (f"spin mixing {m['interleaved']:.3g} with 'interleaved', {m['block']:.3g} with "
                "'block'")


def onsite_pairing(onsite: ArrayLike, spin_order: str) -> float | None:
    """rms on-site splitting of the spin pairs of ``spin_order`` over the spread of on-site energies.

    Parameters
    ----------
    onsite : (N, N) array_like
        The on-site block H_{R=0} (eV).
    spin_order : {"interleaved", "block"}

    Returns
    -------
    float or None
        ``rms_i(ε_{i↑} − ε_{i↓}) / std(ε)`` with ε the diagonal of ``onsite`` (module docstring);
        None when all on-site energies agree within :data:`EXACT_TOL` (nothing to compare).
    """
    e = np.real(np.diagonal(np.asarray(onsite)))
    idx = spin_index(e.size, spin_order)
    spread = float(np.std(e))
    if spread <= EXACT_TOL:
        return None
    return float(np.sqrt(np.mean((e[idx[0]] - e[idx[1]]) ** 2))) / spread


def _onsite_block(H: ComplexArray, R: ArrayLike | None) -> ComplexArray | None:
    if R is None:
        return None
    Ra = np.asarray(R)
    if Ra.ndim != 2 or len(Ra) != len(H):
        return None
    zero = np.flatnonzero(np.all(Ra == 0, axis=1))
    return H[zero[0]] if zero.size else None


def _verdict(values: Mapping[str, float]) -> tuple[str | None, float]:
    lo, hi = sorted(values.values())
    best = min(SPIN_ORDERS, key=lambda o: values[o])
    ratio = 1.0 if lo == hi else (float("inf") if lo == 0 else hi / lo)
    exact = lo <= EXACT_TOL < hi
    return (best if exact or (hi > EXACT_TOL and ratio >= WRONG_ORDER_RATIO) else None), ratio


def diagnose_spin_order(hoppings: HoppingsLike, R: ArrayLike | None = None) -> SpinOrderDiagnosis:
    """Compare the spin measures of both orders (see :class:`SpinOrderDiagnosis`).

    The mixing measure decides first; when it cannot, the on-site pairing measure (which needs
    the R = 0 block: ``R`` (NR, d) lattice vectors of the hoppings, or a model's own ``R``) is
    asked.
    """
    H = _as_hoppings(hoppings)
    if R is None:
        R = getattr(hoppings, "R", None)
    mix = {o: spin_mixing(H, o) for o in SPIN_ORDERS}
    spinor_like = min(mix.values()) < NO_SPINOR_MIXING
    if H.shape[1] == 2:  # one orbital: both orders are (↑, ↓)
        return SpinOrderDiagnosis(mix, None, 1.0, spinor_like)
    likely, ratio = _verdict(mix)
    onsite = _onsite_block(H, R)
    pairing: dict[str, float] | None = None
    if onsite is not None:
        values = {o: onsite_pairing(onsite, o) for o in SPIN_ORDERS}
        pairing = {o: v for o, v in values.items() if v is not None} or None
    if likely is not None:
        return SpinOrderDiagnosis(mix, likely, ratio, spinor_like, pairing, "mixing")
    if pairing is not None and len(pairing) == 2:
        by_pairing, _ = _verdict(pairing)
        if by_pairing is not None:
            return SpinOrderDiagnosis(mix, by_pairing, ratio, spinor_like, pairing, "pairing")
    return SpinOrderDiagnosis(mix, None, ratio, spinor_like, pairing)


def check_spin_order(
    model: HoppingsLike,
    spin_order: str,
    *,
    R: ArrayLike | None = None,
    source: str | None = None,
    judge_spinors: bool = True,
    stacklevel: int = 2,
) -> tuple[float, float]:
    """Warn when ``spin_order`` looks wrong for these hoppings, or cannot be verified.

    Parameters
    ----------
    model : LatticeModel or (NR, N, N) array_like
        The model (or its hoppings).
    spin_order : {"interleaved", "block"}
        The order the user asked for.
    R : (NR, d) array_like, optional
        Lattice vectors of the hoppings (a model's own ``R`` by default): locates the on-site
        block for the pairing measure.
    source : str, optional
        What the hoppings come from (a file name), for the message.
    judge_spinors : bool
        Also warn when the hoppings show no sign of spinors (set False when the source itself
        declares whether it holds spinors, e.g. a ``.win`` with ``spinors``).
    stacklevel : int
        Passed to :func:`warnings.warn`.

    Returns
    -------
    (float, float)
        Mixing in ``spin_order`` and in the other order.

    Warns
    -----
    SpinOrderWarning
        When the other order mixes spin at least :data:`WRONG_ORDER_RATIO` times less (or
        conserves s_z exactly while ``spin_order`` does not), or, when the mixing cannot tell,
        pairs on-site energies that many times better, saying which order looks right and by
        how much; when neither measure can tell the orders apart (the order could not be
        verified: spin observables are then only as right as ``spin_order``); or when the basis
        shows no sign of spinors at all.
    """
    validate_spin_order(spin_order)
    H = _as_hoppings(model)
    _half(H.shape[1], spin_order, "spin_order")
    other = SPIN_ORDERS[1 - SPIN_ORDERS.index(spin_order)]
    diag = diagnose_spin_order(model if R is None else H, R)
    given, alt = diag.mixing[spin_order], diag.mixing[other]
    where = f"{source}: " if source else ""
    if diag.likely == other and diag.decided_by == "pairing":
        assert diag.pairing is not None
        pg, pa = diag.pairing[spin_order], diag.pairing[other]
        warnings.warn(
            f"{where}spin_order={spin_order!r} looks wrong, the spinor order is probably "
            f"{other!r}: the on-site energies of the spin pairs differ by {pg:.3g} of their "
            f"spread in {spin_order!r} but only {pa:.3g} in {other!r} ({pg / pa:.1f}x less; "
            f"the spin-mixing measure cannot tell: {diag.describe()}). {SPIN_ORDER_HELP}",
            SpinOrderWarning, stacklevel=stacklevel)
    elif diag.likely == other:
        factor = "s_z is conserved exactly" if alt <= EXACT_TOL else f"{given / alt:.1f}x less"
        warnings.warn(
            f"{where}spin_order={spin_order!r} looks wrong, the spinor order is probably "
            f"{other!r}: H_R couples opposite s_z with relative weight {given:.3g} in "
            f"{spin_order!r} but only {alt:.3g} in {other!r} ({factor}). {SPIN_ORDER_HELP}",
            SpinOrderWarning, stacklevel=stacklevel)
    elif judge_spinors and not diag.spinor_like:
        warnings.warn(
            f"{where}spin_order={spin_order!r} was given, but H_R shows no sign of spinors "
            f"({diag.describe()}: neither order keeps the two spin halves apart); are these "
            "spinor Wannier functions? Spin observables of a spinless basis are meaningless.",
            SpinOrderWarning, stacklevel=stacklevel)
    elif diag.likely is None and H.shape[1] > 2 and diag.spinor_like:
        pair = ("" if diag.pairing is None or len(diag.pairing) < 2 else
                f", on-site pairing {diag.pairing['interleaved']:.3g} / "
                f"{diag.pairing['block']:.3g}")
        warnings.warn(
            f"{where}spin_order={spin_order!r} could not be verified: neither measure tells "
            f"the two orders apart ({diag.describe()}{pair}); spin observables are right only "
            f"if the order is. {SPIN_ORDER_HELP}", SpinOrderWarning, stacklevel=stacklevel)
    return given, alt


def operator_order(spin_operators: Mapping[str, ArrayLike], *, atol: float = 1e-12) -> str | None:
    """The spinor order whose Pauli matrices equal ``spin_operators["sx"|"sy"|"sz"]`` (a model's
    ``operators`` may be passed as they are; other names are ignored), else None."""
    ops = spin_operators
    if not all(s in ops for s in ("sx", "sy", "sz")):
        return None
    n = np.shape(ops["sz"])[0]
    if n < 2 or n % 2:
        return None
    for order in SPIN_ORDERS:
        ref = _pauli(n // 2, order)
        if all(np.allclose(ops[s], ref[s], atol=atol) for s in ref):
            return order
    return None
