"""Read and write Wannier90 tight-binding files.

Modules
-------
:mod:`.text`        file reading (plain, ``.gz``, one-file ``.tar.gz``), the fast/slow table parser
:mod:`.readers`     ``seedname_hr.dat``, ``seedname_tb.dat`` (:class:`Wannier90Data`)
:mod:`.side_files`  ``_wsvec.dat``, ``_centres.xyz``, ``.wout`` centres, ``.win``, ``POSCAR``
:mod:`.wsdistance`  Wannier90's ``use_ws_distance`` remapping, done once on load
:mod:`.assemble`    :func:`read_wannier90`: files → :class:`tbspin.LatticeModel`
:mod:`.writers`     :func:`write_hr`, :func:`write_tb`

Spinor order
------------
Spinor Wannier functions come in one of two orders, ``"interleaved"`` (↑, ↓ for every
projection: Quantum ESPRESSO pw2wannier90, VASP 6) or ``"block"`` (all ↑ first, then all ↓ in the
same orbital order: VASP 5, WannierTools examples); the file does not say which. Pass
``spin_order=`` to attach the Pauli operators ``sx, sy, sz`` (units of ħ/2); without it the
model has no spin operators and every spin observable raises :class:`tbspin.ModelError`.
:mod:`tbspin.model.spin` owns the orders; the reader warns (:class:`SpinOrderWarning`) when the
spin-mixing measure says the other order is clearly right (Bi₂Se₃, Pt, GaAs: right/wrong
0.112/0.393, 0.036/0.254, 0.020/0.375) or, for magnets where that measure is blurred (bcc Fe), the
on-site pairing measure does (0.503/1.057); when neither can tell the orders apart it says the
order could not be verified; also when the ``.win`` does not declare spinors, or (without a
``.win``) when the hoppings show no sign of spinors; an odd ``num_wann`` refuses ``spin_order``.

Lattice
-------
``lattice=``, else ``_tb.dat``, else ``unit_cell_cart`` of ``seedname.win`` (these must agree),
else a ``POSCAR`` next to the Hamiltonian file (read with ASE, as in the WannierTools examples).

Position operator
-----------------
``LatticeModel`` uses the diagonal tight-binding position operator (orbital positions =
Wannier centres, from ``_centres.xyz``, from the final state in ``.wout``, from the diagonal of
r_{R=0} in ``_tb.dat``, or from ``positions=``; without any of these, the sites of the ``.win``
projections on the atoms of the ``.win`` or ``POSCAR``,
:func:`tbspin.crystal.basis.projection_centres`). A model read from ``_tb.dat`` also carries the
full position matrix (``with_position_matrix``), used by Berry connections only with
``use_position_matrix=True``.

Hermiticity
-----------
On load, ``max |H_R[m, n] − conj(H_{−R}[n, m])|`` is computed
(:func:`tbspin.model.hoppings.hermiticity_violation`); above ``hermitian_tol`` a
:class:`tbspin.WannierFormatError` names the file, the worst (R, m, n) and the size; above
:data:`HERMITIAN_WARN` (the 1e-6 eV print precision of ``_hr.dat``) a :class:`WannierWarning`
is emitted. The model then holds the Hermitian part (H_R + H_{−R}†)/2.

Every malformed file raises :class:`tbspin.WannierFormatError` naming the file and line.
"""

from __future__ import annotations

from tbspin.io.wannier90.assemble import read_wannier90
from tbspin.io.wannier90.readers import Wannier90Data, read_hr, read_tb
from tbspin.io.wannier90.side_files import (
    Win,
    WsVectors,
    read_centres,
    read_poscar,
    read_win,
    read_wout_centres,
    read_wsvec,
)
from tbspin.io.wannier90.text import HERMITIAN_WARN, WannierWarning
from tbspin.io.wannier90.writers import write_hr, write_tb
from tbspin.io.wannier90.wsdistance import apply_ws_distance
from tbspin.model.spin import SPIN_ORDERS, SpinOrderWarning, check_spin_order, spin_mixing, spin_operators

__all__ = [
    "SPIN_ORDERS",
    "HERMITIAN_WARN",
    "WannierWarning",
    "SpinOrderWarning",
    "Wannier90Data",
    "WsVectors",
    "Win",
    "read_wannier90",
    "read_hr",
    "read_tb",
    "read_wsvec",
    "read_centres",
    "read_wout_centres",
    "read_win",
    "read_poscar",
    "apply_ws_distance",
    "spin_operators",
    "spin_mixing",
    "check_spin_order",
    "write_hr",
    "write_tb",
]
