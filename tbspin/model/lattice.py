"""The one model type of tbspin: an immutable lattice Hamiltonian evaluated in k-batches.

Bloch convention
----------------
A model holds hopping matrices on integer lattice vectors, ``H_R[m, n] = <m, 0| H |n, R>``, the
orbital positions τ_m (Cartesian, Å) and the lattice vectors a_i (rows of ``lattice``, Å).
Its Bloch Hamiltonian at the Cartesian wave vector k (1/Å) is, by default
(``convention="positions"``)::

    H_mn(k) = Σ_R H_R[m, n] exp(i k·(R + τ_n − τ_m))

so that the cell-periodic eigenvectors carry the orbital positions in their phase. This is the
convention in which the position operator is diagonal (tight-binding approximation) and in which
Berry connections, curvatures and conductivities are physical. It is *not* periodic in k:
H(k + G) = V(G)† H(k) V(G) with V(G) = diag(exp(i G·τ)). With ``convention="cell"`` the phase
is exp(i k·R) only (periodic in k, PythTB's "convention 2"). Quantities of insulators integrated
over the full Brillouin zone (Chern numbers, in-gap AHC) are the same in both conventions;
Fermi-surface contributions are not, and the "positions" convention is the physical one.

Operators
---------
Named k-independent Hermitian operators on the orbital basis may be attached (``operators=``).
Spin operators are called ``"sx"``, ``"sy"``, ``"sz"`` and are expressed in units of ħ/2
(Pauli matrices for spin-1/2 electrons; 2·J for an angular momentum J).

Position matrix
---------------
A model may carry a full Wannier position matrix r_R[a, m, n] = ⟨m, 0|r_a|n, R⟩ (Å) as the typed
field ``position_matrix`` (:class:`PositionMatrix`). It is validated by the constructor, rotated
by :meth:`LatticeModel.transformed` (r_R → U† r_R U) and enters every Berry connection
(:meth:`LatticeModel.wannier_connection`). ``metadata`` is free-form provenance only.

Fingerprint
-----------
:meth:`LatticeModel.fingerprint` is the SHA-256 of everything physical (lattice, positions, R,
hoppings, periodic directions, operators, convention, magnetization, position matrix); results
and checkpoints are keyed on it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tbspin.bz.kmesh import as_kpoints
from tbspin.errors import ModelError, ParameterError
from tbspin.model.bloch import BlochSum
from tbspin.model.hoppings import (
    PositionMatrix,
    check_position_matrix,
    complete_hermitian,
    hermiticity_violation,
    merge_duplicates,
    normalize_hoppings,
)

if TYPE_CHECKING:
    from tbspin.symmetry.operations import SymmetryReport
from tbspin.types import ArrayLike, ComplexArray, Direction, FloatArray, IntArray, KPoints, PathLike

if TYPE_CHECKING:
    from tbspin.adapters.pythtb import PythtbModel

CONVENTIONS = ("positions", "cell")
SPIN_NAMES = ("sx", "sy", "sz")
_AXES = {"x": 0, "y": 1, "z": 2}


def axis_index(axis: int | str) -> int:
    """Return the Cartesian index of ``axis`` ('x', 'y', 'z' or 0, 1, 2)."""
    if isinstance(axis, str):
        try:
            return _AXES[axis.lower()]
        except KeyError:
            raise ParameterError(
                f"unknown Cartesian direction {axis!r}; use 'x', 'y' or 'z'"
            ) from None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis not in (0, 1, 2):
        raise ParameterError(f"Cartesian direction index must be 0, 1 or 2, got {axis!r}")
    return int(axis)


@dataclasses.dataclass(frozen=True, eq=False)
class LatticeModel:
    """Immutable tight-binding model; build it with keywords or one of the ``from_*`` doors.

    Parameters
    ----------
    lattice : (d, d) array_like
        Lattice vectors as rows, Cartesian, in Å. ``d`` is the spatial dimension (1, 2 or 3).
    positions : (N, d) array_like
        Orbital positions, Cartesian, in Å (use ``positions_reduced`` for fractional ones).
    hoppings : (NR, N, N) array_like or mapping {R tuple: (N, N) matrix}
        ``H_R[m, n] = <m, 0|H|n, R>`` in eV.
    R : (NR, d) int array_like, optional
        Integer lattice vectors of ``hoppings`` (required when ``hoppings`` is an array).
    periodic : sequence of int, optional
        Indices of the lattice vectors along which the model is periodic; default: those
        along which any hopping reaches (all of them for a bulk model).
    operators : mapping {name: (N, N) matrix}, optional
        Named Hermitian operators; spin as ``"sx"``, ``"sy"``, ``"sz"`` in units of ħ/2.
    convention : {"positions", "cell"}
        Bloch convention (module docstring).
    magnetization : (3,) array_like, optional
        Exchange/Zeeman vector m (eV) the model was built with; its direction is the default
        gauge operator m̂·s inside degenerate bands.
    complete_hermitian : bool
        If True, hoppings given only for one of R, −R are completed with H_{−R} = H_R†
        (PythTB and Kwant store one of the two).
    hermitian_tol : float
        Largest allowed |H_R − H_{−R}†| (eV).
    name : str
        Label used in results and figures.
    metadata : mapping, optional
        Free-form provenance (parameters, literature source, file names; by convention
        ``"parameters"`` and ``"source"`` are copied into every result).
    position_matrix : PositionMatrix or (R, r) pair, optional
        Full Wannier position matrix used by the Berry connections (module docstring).
    """

    lattice: np.ndarray
    positions: np.ndarray
    R: np.ndarray
    hoppings: np.ndarray
    periodic: tuple[int, ...]
    operators: Mapping[str, np.ndarray]
    convention: str = "positions"
    magnetization: np.ndarray | None = None
    name: str = "model"
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    position_matrix: PositionMatrix | None = None

    def __init__(
        self,
        *,
        lattice: ArrayLike,
        hoppings: ArrayLike | Mapping[tuple[int, ...], ArrayLike],
        positions: ArrayLike | None = None,
        positions_reduced: ArrayLike | None = None,
        R: ArrayLike | None = None,
        periodic: Sequence[int] | None = None,
        operators: Mapping[str, ArrayLike] | None = None,
        convention: str = "positions",
        magnetization: ArrayLike | None = None,
        complete_hermitian: bool = False,
        hermitian_tol: float = 1e-8,
        name: str = "model",
        metadata: Mapping[str, Any] | None = None,
        position_matrix: PositionMatrix | tuple[ArrayLike, ArrayLike] | None = None,
    ) -> None:
        lat = np.array(lattice, dtype=float)
        if lat.ndim != 2 or lat.shape[0] != lat.shape[1] or lat.shape[0] not in (1, 2, 3):
            raise ModelError(f"lattice must be a square (d, d) array with d in 1..3, got {lat.shape}")
        if abs(np.linalg.det(lat)) < 1e-12:
            raise ModelError("lattice vectors are linearly dependent (zero cell volume)")
        d = lat.shape[0]

        Rs, H = normalize_hoppings(hoppings, R, d)
        N = H.shape[1]

        if positions is not None and positions_reduced is not None:
            raise ModelError("give either 'positions' (Cartesian Å) or 'positions_reduced', not both")
        pos: np.ndarray | None
        if positions is None and positions_reduced is None:
            pos = np.zeros((N, d))
        elif positions is not None:
            pos = np.array(positions, dtype=float).reshape(-1, d) if np.size(positions) else None
        else:
            pos = np.array(positions_reduced, dtype=float).reshape(-1, d) @ lat
        if pos is None or pos.shape != (N, d):
            raise ModelError(f"'positions' must have shape ({N}, {d}) for {N} orbitals in {d}D")
        if not np.all(np.isfinite(pos)):
            raise ModelError("'positions' contain NaN or Inf")

        if convention not in CONVENTIONS:
            raise ModelError(f"convention must be one of {CONVENTIONS}, got {convention!r}")

        if complete_hermitian:
            Rs, H = _complete_hermitian(Rs, H)
        Rs, H = merge_duplicates(Rs, H)
        _check_hermitian(Rs, H, hermitian_tol)

        if periodic is None:
            reach = np.any(Rs != 0, axis=0)
            periodic_t = tuple(int(i) for i in np.nonzero(reach)[0]) or tuple(range(d))
        else:
            periodic_t = tuple(sorted(int(i) for i in periodic))
            if any(i < 0 or i >= d for i in periodic_t) or len(set(periodic_t)) != len(periodic_t):
                raise ModelError(f"'periodic' must list distinct lattice-vector indices < {d}")
            nonper = [i for i in range(d) if i not in periodic_t]
            if nonper and np.any(Rs[:, nonper] != 0):
                raise ModelError(
                    f"hoppings reach along lattice vector(s) {nonper}, declared non-periodic"
                )

        ops = {}
        for key, op in (operators or {}).items():
            ops[str(key)] = _check_operator(key, op, N)

        mag = None
        if magnetization is not None:
            mag = np.array(magnetization, dtype=float).reshape(3)
            if not np.all(np.isfinite(mag)):
                raise ModelError("'magnetization' contains NaN or Inf")

        md = dict(metadata or {})
        if position_matrix is None and md.get("position_operator") == "full" \
                and md.get("position_matrix") is not None:
            # legacy door (readers that put (R, r) in metadata): promoted to the typed field
            position_matrix = md["position_matrix"]
        pm = None if position_matrix is None else check_position_matrix(position_matrix, N, d)

        pos = np.ascontiguousarray(pos)
        for field, value in dict(
            lattice=lat, positions=pos, R=Rs, hoppings=H, periodic=periodic_t, operators=ops,
            convention=convention, magnetization=mag, name=str(name),
            metadata=md, position_matrix=pm,
        ).items():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            object.__setattr__(self, field, value)
        for op in ops.values():
            op.setflags(write=False)

    # ------------------------------------------------------------------ basic facts
    @property
    def dim(self) -> int:
        """Spatial dimension d (length of a Cartesian k-vector)."""
        return self.lattice.shape[0]

    @property
    def n_orbitals(self) -> int:
        """Number of orbitals (bands) N."""
        return self.hoppings.shape[1]

    @property
    def n_periodic(self) -> int:
        """Number of periodic directions (the dimension of the Brillouin zone)."""
        return len(self.periodic)

    @property
    def reciprocal(self) -> np.ndarray:
        """Reciprocal lattice vectors b_i as rows (1/Å), a_i · b_j = 2π δ_ij."""
        return 2 * np.pi * np.linalg.inv(self.lattice).T

    @property
    def cell_measure(self) -> float:
        """Length, area or volume (Å^p) of the cell spanned by the periodic lattice vectors."""
        a = self.lattice[list(self.periodic)]
        return float(np.sqrt(abs(np.linalg.det(a @ a.T))))

    @property
    def positions_reduced(self) -> np.ndarray:
        """Orbital positions in units of the lattice vectors."""
        return self.positions @ np.linalg.inv(self.lattice)

    @property
    def has_spin(self) -> bool:
        """True when the three spin operators are attached."""
        return all(s in self.operators for s in SPIN_NAMES)

    def spin(self, direction: Direction | Sequence[float] | FloatArray) -> ComplexArray:
        """Spin operator along a Cartesian axis or a unit vector, in units of ħ/2.

        Raises
        ------
        ModelError
            If the model carries no spin operators.
        """
        if not self.has_spin:
            missing = [s for s in SPIN_NAMES if s not in self.operators]
            raise ModelError(
                f"model {self.name!r} has no spin operator(s) {missing}: attach them with "
                "operators={'sx': ..., 'sy': ..., 'sz': ...} (units of ħ/2), or for a Wannier90 "
                "model pass spin_order='block' or 'interleaved'"
            )
        if isinstance(direction, (str, int, np.integer)):
            return self.operators[SPIN_NAMES[axis_index(direction)]]
        n = np.asarray(direction, dtype=float).reshape(3)
        norm = np.linalg.norm(n)
        if not norm > 0 or not np.isfinite(norm):
            raise ParameterError(f"spin direction vector must be finite and non-zero, got {n}")
        n = n / norm
        return sum(n[i] * self.operators[SPIN_NAMES[i]] for i in range(3))

    def operator(self, name: str) -> np.ndarray:
        """Return the named operator; raise a ModelError listing the available names."""
        try:
            return self.operators[name]
        except KeyError:
            raise ModelError(
                f"model {self.name!r} has no operator {name!r}; available: {sorted(self.operators)}"
            ) from None

    def __repr__(self) -> str:
        return (
            f"LatticeModel(name={self.name!r}, dim={self.dim}, periodic={self.periodic}, "
            f"n_orbitals={self.n_orbitals}, n_R={len(self.R)}, convention={self.convention!r}, "
            f"operators={sorted(self.operators)})"
        )

    # ------------------------------------------------------------------ evaluation
    def _as_k(self, k: KPoints) -> FloatArray:
        """Validated (Nk, d) k-points (:func:`tbspin.bz.kmesh.as_kpoints`)."""
        return as_kpoints(k, self.dim)

    def fingerprint(self) -> str:
        """SHA-256 (hex) of everything physical: lattice, positions, R, hoppings, periodic
        directions, operators, convention, magnetization and position matrix.

        Two models with the same fingerprint give the same results; the name and metadata do
        not enter. Checkpoints and results are keyed on it.
        """
        return self._fingerprint

    @functools.cached_property
    def _fingerprint(self) -> str:
        h = hashlib.sha256(b"tbspin-model-1")

        def add(tag: str, arr: ArrayLike, dtype: type) -> None:
            a: np.ndarray = np.ascontiguousarray(np.asarray(arr, dtype=dtype))
            if a.dtype.kind in "fc":
                a = a + 0.0  # −0.0 → 0.0
            h.update(f"|{tag}:{a.dtype.str}:{a.shape}|".encode())
            h.update(a.tobytes())

        add("lattice", self.lattice, np.float64)
        add("positions", self.positions, np.float64)
        add("R", self.R, np.int64)
        add("hoppings", self.hoppings, np.complex128)
        add("periodic", self.periodic, np.int64)
        h.update(f"|convention:{self.convention}|".encode())
        for key in sorted(self.operators):
            add(f"operator {key}", self.operators[key], np.complex128)
        if self.magnetization is not None:
            add("magnetization", self.magnetization, np.float64)
        if self.position_matrix is not None:
            add("position R", self.position_matrix.R, np.int64)
            add("position r", self.position_matrix.r, np.complex128)
            add("position used", np.array([self.position_matrix.used]), np.int64)
        return h.hexdigest()

    def hamiltonian(self, k: KPoints) -> ComplexArray:
        """Bloch Hamiltonian H(k), shape (Nk, N, N), eV.

        Parameters
        ----------
        k : (Nk, d) or (d,) array_like
            Cartesian wave vectors in 1/Å.
        """
        return self.hamiltonian_and_derivatives(k, ())[0]

    def hamiltonian_and_derivatives(
        self, k: KPoints, directions: Iterable[Direction] = (0, 1, 2)
    ) -> tuple[ComplexArray, ComplexArray]:
        """H(k) and its analytic Cartesian derivatives ∂H/∂k_a in one pass.

        Parameters
        ----------
        k : (Nk, d) array_like
            Cartesian wave vectors in 1/Å.
        directions : iterable of int or str
            Cartesian directions a of the derivatives (only those < d are allowed).

        Returns
        -------
        H : (Nk, N, N) complex array, eV
        dH : (len(directions), Nk, N, N) complex array, eV Å
        """
        k = self._as_k(k)
        dirs = [axis_index(a) for a in directions]
        for a in dirs:
            if a >= self.dim:
                raise ParameterError(
                    f"derivative direction {'xyz'[a]!r} does not exist in a {self.dim}D model"
                )
        return self._bloch_sum(k, tuple(dirs))

    @functools.cached_property
    def _bloch_sum(self) -> BlochSum:
        """Tables of the direct Bloch sum (:mod:`tbspin.model.bloch`), built at first use."""
        pos = self.positions if self.convention == "positions" else None
        return BlochSum(self.lattice, self.R, self.hoppings, pos)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_bloch_sum", None)  # a cache: rebuilt where the model is unpickled
        return state

    # ------------------------------------------------------------------ position matrix
    @property
    def uses_position_matrix(self) -> bool:
        """True when Berry connections include a full Wannier position matrix (beyond the
        diagonal tight-binding approximation); see :meth:`with_position_matrix`."""
        return self.position_matrix is not None and self.position_matrix.used

    def with_position_matrix(self, R: ArrayLike, r: ArrayLike, *, use: bool = True) -> LatticeModel:
        """A copy whose Berry connections use the position matrix r_R[a, m, n] = ⟨m,0|r_a|n,R⟩.

        Parameters
        ----------
        R : (NR, d) int array_like
            Lattice vectors of the position matrix.
        r : (NR, d, N, N) complex array_like
            Position matrix elements in Å (e.g. from a Wannier90 ``_tb.dat``).
        use : bool
            False keeps the matrix (e.g. for ``write_tb``) while Berry connections keep the
            diagonal tight-binding position operator.
        """
        pm = check_position_matrix((R, r), self.n_orbitals, self.dim)
        return self.replace(position_matrix=dataclasses.replace(pm, used=bool(use)))

    def wannier_connection(
        self, k: KPoints, directions: Iterable[Direction]
    ) -> ComplexArray | None:
        """Berry connection of the orbital basis itself, A^W_a(k) (ndir, Nk, N, N), Å, or None.

        Non-zero only with a full position matrix (:attr:`uses_position_matrix`)::

            "positions": A^W_mn(k) = Σ_R e^{ik·(R+τ_n−τ_m)} r_R[a, m, n] − δ_mn τ_m,a
            "cell":      A^W_mn(k) = Σ_R e^{ik·R} r_R[a, m, n]

        (the Hermitian part is returned: Wannier90's r_R is Hermitian only up to its
        finite-difference error). With the diagonal approximation r = δ_R0 δ_mn τ_m the
        "positions" form vanishes, which is why that convention needs no position matrix.
        """
        if self.position_matrix is None or not self.position_matrix.used:
            return None
        k = self._as_k(k)
        dirs = [axis_index(a) for a in directions]
        Rr, r = self.position_matrix.R, self.position_matrix.r
        n = self.n_orbitals
        phase = np.exp(1j * (k @ (np.asarray(Rr)[:, : self.dim] @ self.lattice).T))  # (Nk, NR)
        out = np.empty((len(dirs), len(k), n, n), dtype=complex)
        tau = self.positions
        for i, a in enumerate(dirs):
            A = (phase @ r[:, a].reshape(len(Rr), n * n)).reshape(len(k), n, n)
            if self.convention == "positions":
                dtau = tau[None, :, :] - tau[:, None, :]
                A = A * np.exp(1j * np.einsum("kd,mnd->kmn", k, dtau))
                A[:, np.arange(n), np.arange(n)] -= tau[:, a]
            out[i] = 0.5 * (A + A.conj().transpose(0, 2, 1))
        return out

    # ------------------------------------------------------------------ new models
    def replace(self, **changes: Any) -> LatticeModel:
        """A copy with some constructor arguments changed (e.g. ``convention="cell"``)."""
        args: dict[str, Any] = dict(
            lattice=self.lattice, positions=self.positions, R=self.R, hoppings=self.hoppings,
            periodic=self.periodic, operators=dict(self.operators), convention=self.convention,
            magnetization=self.magnetization, name=self.name, metadata=dict(self.metadata),
            position_matrix=self.position_matrix,
        )
        if "positions_reduced" in changes:
            args.pop("positions")
        args.update(changes)
        return LatticeModel(**args)

    def with_operator(self, name: str, matrix: ArrayLike) -> LatticeModel:
        """A copy with one more (or a replaced) named operator."""
        ops: dict[str, ArrayLike] = dict(self.operators)
        ops[name] = matrix
        return self.replace(operators=ops)

    def with_onsite(self, matrix: ArrayLike) -> LatticeModel:
        """A copy with a Hermitian matrix added to the on-site block H_{R=0}."""
        m = _check_operator("onsite", matrix, self.n_orbitals)
        R, H = self.R, np.array(self.hoppings)
        zero: IntArray = np.nonzero(~np.any(R != 0, axis=1))[0]
        if len(zero):
            H[zero[0]] += m
        else:
            R = np.vstack([R, np.zeros((1, self.dim), int)])
            H = np.concatenate([H, m[None]])
        return self.replace(R=R, hoppings=H)

    def symmetrized(self, **kwargs: Any) -> tuple[LatticeModel, SymmetryReport]:
        """(model, report): time reversal and — where the data allow (a ``parity`` operator or the
        ``.win`` projections) — inversion restored (:func:`tbspin.symmetry.operations.symmetrized`;
        keywords ``time_reversal``, ``inversion``, ``center``, ``efermi``, ...; what was not
        restored and why is in ``report.notes``). The whole space group:
        :func:`tbspin.crystal.symmetrize`."""
        from tbspin.symmetry.operations import symmetrized

        return symmetrized(self, **kwargs)

    def with_zeeman(self, m: ArrayLike) -> LatticeModel:
        """A copy with the exchange term m·s added on site (m in eV, s in units of ħ/2).

        The model's ``magnetization`` becomes the old one plus ``m``.
        """
        mv = np.asarray(m, dtype=float).reshape(3)
        term = sum(mv[i] * self.spin(i) for i in range(3))
        old = np.zeros(3) if self.magnetization is None else self.magnetization
        return self.with_onsite(term).replace(magnetization=old + mv)

    def transformed(self, U: ArrayLike) -> LatticeModel:
        """Change of orbital basis |m'> = Σ_m U[m, m'] |m>: H_R → U† H_R U, O → U† O U and,
        for a model with a position matrix, r_R → U† r_R U.

        In the ``"positions"`` convention each new orbital may only combine old orbitals sitting
        at one position (otherwise the position operator would stop being diagonal); orbital
        permutations are fine and carry their positions along.
        """
        U = np.asarray(U, dtype=complex)
        n = self.n_orbitals
        if U.shape != (n, n):
            raise ModelError(f"basis change U must have shape ({n}, {n}), got {U.shape}")
        if not np.allclose(U.conj().T @ U, np.eye(n), atol=1e-10):
            raise ModelError("basis change U is not unitary")
        pos = self.positions
        if self.convention == "positions":
            # each new orbital must be built from old orbitals at one position (permutations ok)
            w = np.abs(U) ** 2  # (old m, new n), columns sum to 1
            pos = w.T @ self.positions
            spread = np.einsum("mn,mnd->n", w, (self.positions[:, None, :] - pos[None]) ** 2)
            if np.any(spread > 1e-16):
                raise ModelError(
                    "U mixes orbitals at different positions; not allowed in the 'positions' "
                    "convention (use model.replace(convention='cell') first)"
                )
        H = np.einsum("am,rab,bn->rmn", U.conj(), self.hoppings, U)
        ops = {k: U.conj().T @ o @ U for k, o in self.operators.items()}
        pm = None if self.position_matrix is None else self.position_matrix.rotated(U)
        md = dict(self.metadata)
        md.pop("position_matrix", None)  # a legacy unrotated copy would be stale
        return self.replace(hoppings=H, operators=ops, positions=pos, position_matrix=pm,
                            metadata=md)

    # ------------------------------------------------------------------ doors to other codes
    @classmethod
    def from_pythtb(cls, tb: PythtbModel, **kwargs: Any) -> LatticeModel:
        """Build from a PythTB ``tb_model`` (see :mod:`tbspin.adapters.pythtb`)."""
        from tbspin.adapters.pythtb import from_pythtb

        return from_pythtb(tb, **kwargs)

    def to_pythtb(self, **kwargs: Any) -> object:
        """Return an equivalent PythTB ``tb_model`` (see :mod:`tbspin.adapters.pythtb`)."""
        from tbspin.adapters.pythtb import to_pythtb

        return to_pythtb(self, **kwargs)

    @classmethod
    def from_kwant(cls, syst: object, **kwargs: Any) -> LatticeModel:
        """Build from a ``kwant.Builder`` with full translational symmetry (see adapters.kwant;
        finalized systems are rejected with an explanation)."""
        from tbspin.adapters.kwant import from_kwant

        return from_kwant(syst, **kwargs)

    def to_kwant(self, **kwargs: Any) -> object:
        """Return a Kwant Builder with full translational symmetry (see adapters.kwant)."""
        from tbspin.adapters.kwant import to_kwant

        return to_kwant(self, **kwargs)

    @classmethod
    def from_wannier90(cls, path: PathLike, **kwargs: Any) -> LatticeModel:
        """Read a Wannier90 ``_hr.dat``/``_tb.dat`` with its side files (see tbspin.io)."""
        from tbspin.io.wannier90 import read_wannier90

        return read_wannier90(path, **kwargs)


# ---------------------------------------------------------------------- helpers
def _complete_hermitian(R: IntArray, H: ComplexArray) -> tuple[IntArray, ComplexArray]:
    return complete_hermitian(R, H)


def _check_hermitian(R: IntArray, H: ComplexArray, tol: float) -> None:
    dev, r, m, n = hermiticity_violation(R, H)
    if dev == np.inf:
        raise ModelError(
            f"hopping at R={r} has no partner at -R; the Hamiltonian cannot be Hermitian "
            "(pass complete_hermitian=True to fill H_{-R} = H_R^dagger)"
        )
    if dev > tol:
        raise ModelError(
            f"'hoppings' are not Hermitian: |H_R[m,n] - conj(H_-R[n,m])| = {dev:.3e} eV "
            f"at R={r}, m={m}, n={n} (tolerance hermitian_tol={tol:g})"
        )


def _check_operator(name: str, op: ArrayLike, n: int) -> ComplexArray:
    op = np.array(op, dtype=complex)
    if op.shape != (n, n):
        raise ModelError(f"operator {name!r} must have shape ({n}, {n}), got {op.shape}")
    if not np.all(np.isfinite(op)):
        raise ModelError(f"operator {name!r} contains NaN or Inf")
    err = np.max(np.abs(op - op.conj().T)) if n else 0.0
    if err > 1e-10:
        raise ModelError(f"operator {name!r} is not Hermitian (max |O - O^dagger| = {err:.2e})")
    return op
