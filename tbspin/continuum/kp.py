"""k·p Hamiltonians and their lattice regularization.

A :class:`KPModel` declares a bulk k·p Hamiltonian H(k) — a polynomial in the Cartesian wave
vector (k_x, k_y, k_z) with matrix coefficients — and turns it into lattice forms on an
orthorhombic grid with spacings (a_x, a_y, a_z):

* :meth:`KPModel.lattice_model` — a :class:`tbspin.LatticeModel`;
* :meth:`KPModel.kwant_builder` — a Kwant template Builder;
* :meth:`KPModel.pythtb_model` — a PythTB ``tb_model``.

The discretization itself is done by :func:`kwant.continuum.discretize_symbolic` (finite
differences on the grid), which gives, per direction i with spacing a_i,

* k_i → sin(k_i a_i)/a_i,
* k_i² → 2(1 − cos k_i a_i)/a_i²,
* k_i k_j (i ≠ j) → sin(k_i a_i) sin(k_j a_j)/(a_i a_j),

so the lattice Hamiltonian agrees with the k·p one to O(a²k²) at fixed k. All orbitals sit at the
origin of the cell, so the "positions" and "cell" Bloch conventions coincide.

The grid has the point group of a box; for k·p terms of lower symmetry (the C₃ hexagonal
warping of Bi₂Se₃) regularize on another Bravais lattice with :mod:`tbspin.continuum.lattice`.

Input syntax
------------
The Hamiltonian is either a string in :mod:`kwant.continuum` syntax, e.g.
``"A*(k_x*kron(sigma_z, sigma_x) - k_y*kron(sigma_0, sigma_y)) + M*kron(sigma_0, sigma_z)"``, or a
sympy Matrix in the symbols ``k_x``, ``k_y``, ``k_z`` (commutative ``sympy.Symbol`` or Kwant's
momentum operators) and parameter symbols whose values are given in ``params``. Only bulk
(position-independent) Hamiltonians are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy

from tbspin.bz.kmesh import as_kpoints
from tbspin.bz.spectrum import band_gap, band_inversions, check_band_inversions, trim_points, z2_parity
from tbspin.errors import ModelError, ParameterError, RegularizationWarning
from tbspin.model.lattice import SPIN_NAMES, LatticeModel

__all__ = [
    "KPModel",
    "regularize",
    "band_gap",
    "band_inversions",
    "check_band_inversions",
    "trim_points",
    "z2_parity",
    "RegularizationWarning",
]

_K_NAMES = ("k_x", "k_y", "k_z")
_X_NAMES = ("x", "y", "z")
_RESERVED = {"a_x", "a_y", "a_z"}




def _kwant_continuum() -> Any:
    """``kwant.continuum`` (imported on first use; Kwant is the optional extra ``tbspin[kwant]``)."""
    from tbspin.adapters.kwant import require_kwant

    return require_kwant("k·p models and their regularization (tbspin.continuum.kp, catalogue models "
                         "built from k·p strings)", "kwant.continuum")


def _to_matrix(hamiltonian: Any) -> sympy.Matrix:
    """Sympify the input and return a sympy Matrix in Kwant's momentum operators."""
    kc = _kwant_continuum()
    if isinstance(hamiltonian, str):
        try:
            expr = kc.sympify(hamiltonian)
        except Exception as exc:  # sympify raises many kinds of errors on bad strings
            hint = ""
            if "Matrix" in str(exc):
                hint = " (write scalar terms times the identity, e.g. 'c*sigma_0' or 'c*eye(4)')"
            raise ModelError(
                f"cannot parse the k·p Hamiltonian string {hamiltonian!r}: {exc}{hint}"
            ) from exc
    elif isinstance(hamiltonian, (sympy.MatrixBase, sympy.Expr)):
        expr = hamiltonian
    elif isinstance(hamiltonian, (list, tuple, np.ndarray)):
        expr = sympy.Matrix(hamiltonian)
    else:
        raise ModelError(
            "hamiltonian must be a kwant.continuum string or a sympy Matrix, "
            f"got {type(hamiltonian).__name__}"
        )
    if not isinstance(expr, sympy.MatrixBase):
        expr = sympy.Matrix([[expr]])
    expr = sympy.Matrix(expr)
    if expr.shape[0] != expr.shape[1]:
        raise ModelError(f"the k·p Hamiltonian must be a square matrix, got shape {expr.shape}")
    # commutative k symbols (sympy.Symbol('k_x')) -> Kwant's non-commutative momentum operators
    kops = dict(zip(_K_NAMES, kc.momentum_operators))
    subs = {s: kops[s.name] for s in expr.free_symbols if s.name in kops and s is not kops[s.name]}
    if subs:
        expr = expr.subs(subs)
    names = {s.name for s in expr.free_symbols}
    pos = sorted(names & set(_X_NAMES))
    funcs = expr.atoms(sympy.Function)
    if pos or any(isinstance(f, sympy.core.function.AppliedUndef) for f in funcs):
        raise ModelError(
            f"the k·p Hamiltonian depends on position ({pos or sorted(map(str, funcs))}); "
            "only bulk, translation-invariant Hamiltonians can be regularized into a LatticeModel"
        )
    bad = sorted(names & _RESERVED)
    if bad:
        raise ModelError(f"symbols {bad} are reserved for the grid spacings; rename them")
    return expr


class KPModel:
    """Declaration of a k·p Hamiltonian; finalizes into lattice forms (immutable).

    Parameters
    ----------
    hamiltonian : str or sympy.Matrix
        k·p Hamiltonian in :mod:`kwant.continuum` syntax (``k_x``, ``k_y``, ``k_z``,
        ``kron(sigma_x, sigma_0)``, parameter symbols) or a sympy Matrix in the symbols
        ``k_x``, ``k_y``, ``k_z`` and parameter symbols. Energies in eV, k in 1/Å.
    params : mapping {symbol name: value}, optional
        Values of the parameter symbols (eV, eV Å, eV Å², ...). Every symbol other than the
        momenta must get a value here or as an override at finalization.
    spacing : float or sequence of float
        Lattice spacing per Cartesian axis, Å (one number: the same on every axis).
    dim : int, optional
        Spatial dimension; default: the highest momentum component used (k_z → 3).
    operators : mapping {name: (N, N) matrix}, optional
        Named constant operators carried to every lattice form (spin as ``"sx"``, ``"sy"``,
        ``"sz"`` in units of ħ/2).
    magnetization : (3,) array_like, optional
        Exchange vector m (eV); adds the term m·s (requires the spin operators) to the
        Hamiltonian of every form, and is recorded as ``LatticeModel.magnetization``.
    name : str
        Label of the finalized models.
    metadata : mapping, optional
        Provenance (literature source, parameter set) copied into the LatticeModel.
    check_inversions : bool
        If True (default), :meth:`lattice_model` warns with :class:`RegularizationWarning` when
        the regularized bands are inverted at a time-reversal-invariant momentum other than Γ
        (see :func:`tbspin.bz.spectrum.band_inversions`).
    """

    def __init__(
        self,
        hamiltonian: str | sympy.Matrix,
        *,
        params: Mapping[str, float] | None = None,
        spacing: float | Sequence[float] = 1.0,
        dim: int | None = None,
        operators: Mapping[str, Any] | None = None,
        magnetization: Sequence[float] | None = None,
        name: str = "kp",
        metadata: Mapping[str, Any] | None = None,
        check_inversions: bool = True,
    ) -> None:
        expr = _to_matrix(hamiltonian)
        used = sorted({s.name for s in expr.free_symbols} & set(_K_NAMES))
        need = max((_K_NAMES.index(k) + 1 for k in used), default=0)
        if dim is None:
            if need == 0:
                raise ModelError(
                    "the k·p Hamiltonian contains no momentum k_x, k_y, k_z; give 'dim' explicitly"
                )
            dim = need
        dim = int(dim)
        if dim not in (1, 2, 3) or dim < need:
            raise ModelError(f"dim={dim} is invalid for a Hamiltonian that uses {used}")
        spc = np.atleast_1d(np.asarray(spacing, dtype=float))
        if spc.size == 1:
            spc = np.repeat(spc, dim)
        if spc.shape != (dim,) or not np.all(np.isfinite(spc)) or np.any(spc <= 0):
            raise ModelError(f"'spacing' must be one positive number or {dim} of them, got {spacing!r}")

        self._symbols = {
            s.name: s for s in expr.free_symbols if s.name not in _K_NAMES
        }
        params = dict(params or {})
        self._check_names(params, "params")
        n = expr.shape[0]
        ops: dict[str, np.ndarray] = {}
        for key, op in (operators or {}).items():
            arr = np.array(op, dtype=complex)
            if arr.shape != (n, n):
                raise ModelError(f"operator {key!r} must have shape ({n}, {n}), got {arr.shape}")
            ops[str(key)] = arr
        mag = None
        if magnetization is not None:
            mag = np.asarray(magnetization, dtype=float).reshape(3)
            missing = [s for s in SPIN_NAMES if s not in ops]
            if missing and np.any(mag != 0):
                raise ModelError(
                    f"a magnetization needs the spin operators {missing} in 'operators'"
                )
            if np.any(mag != 0):
                term = sum(mag[i] * ops[SPIN_NAMES[i]] for i in range(3))
                expr = expr + sympy.Matrix(term.tolist())
        self._expr = expr
        self._params = params
        self._spacing = tuple(float(x) for x in spc)
        self._dim = dim
        self._ops = ops
        self._mag = mag
        self.name = str(name)
        self.metadata = dict(metadata or {})
        self.check_inversions = bool(check_inversions)

    # ------------------------------------------------------------------ facts
    @property
    def dim(self) -> int:
        """Spatial dimension."""
        return self._dim

    @property
    def n_orbitals(self) -> int:
        """Size N of the k·p matrix."""
        return self._expr.shape[0]

    @property
    def spacing(self) -> tuple[float, ...]:
        """Grid spacing per axis (Å)."""
        return self._spacing

    @property
    def params(self) -> dict[str, float]:
        """Parameter values (copy)."""
        return dict(self._params)

    @property
    def parameter_names(self) -> list[str]:
        """Names of the free parameter symbols of the Hamiltonian."""
        return sorted(self._symbols)

    @property
    def operators(self) -> dict[str, np.ndarray]:
        """Named operators (copies)."""
        return {k: v.copy() for k, v in self._ops.items()}

    @property
    def magnetization(self) -> np.ndarray | None:
        """Exchange vector m (eV) included in the Hamiltonian, or None."""
        return None if self._mag is None else self._mag.copy()

    @property
    def symbolic(self) -> sympy.Matrix:
        """The k·p matrix (Kwant momentum operators, parameters as symbols, m·s included)."""
        return self._expr

    def __repr__(self) -> str:
        return (
            f"KPModel(name={self.name!r}, dim={self.dim}, n_orbitals={self.n_orbitals}, "
            f"spacing={self.spacing}, params={self.parameter_names})"
        )

    def replace(self, **changes: Any) -> KPModel:
        """A copy with some constructor arguments changed (``params`` are merged)."""
        mag = self._mag if self._mag is not None and np.any(self._mag) else None
        args: dict[str, Any] = dict(
            hamiltonian=self._expr if mag is None else None,
            params=dict(self._params), spacing=self._spacing, dim=self._dim,
            operators=self._ops, magnetization=self._mag, name=self.name,
            metadata=self.metadata, check_inversions=self.check_inversions,
        )
        if mag is not None:  # strip the m·s term; it is re-added from magnetization
            term = np.sum([mag[i] * self._ops[SPIN_NAMES[i]] for i in range(3)], axis=0)
            args["hamiltonian"] = self._expr - sympy.Matrix(term.tolist())
        if "params" in changes:
            args["params"].update(changes.pop("params") or {})
        args.update(changes)
        ham = args.pop("hamiltonian")
        return KPModel(ham, **args)

    # ------------------------------------------------------------------ numbers
    def _check_names(self, values: Mapping[str, Any], what: str) -> None:
        unknown = sorted(set(values) - set(self._symbols))
        if unknown:
            raise ModelError(
                f"unknown parameter(s) {unknown} in {what}; the Hamiltonian's parameters are "
                f"{sorted(self._symbols)}"
            )

    def _values(self, overrides: Mapping[str, Any]) -> dict[sympy.Symbol, complex]:
        self._check_names(overrides, "overrides")
        vals = {**self._params, **overrides}
        missing = sorted(set(self._symbols) - set(vals))
        if missing:
            raise ModelError(f"no value for parameter(s) {missing} of k·p model {self.name!r}")
        out = {}
        for key, val in vals.items():
            try:
                v = complex(val)
            except (TypeError, ValueError):
                raise ParameterError(
                    f"parameter {key!r} of k·p model {self.name!r} must be a number, got "
                    f"{val!r}") from None
            if not np.isfinite(v):
                raise ModelError(f"parameter {key!r} = {val!r} is not finite")
            out[self._symbols[key]] = v.real if v.imag == 0 else v
        return out

    def substituted(self, **overrides: Any) -> sympy.Matrix:
        """The k·p matrix with all parameter values substituted (momenta left symbolic)."""
        return self._expr.subs(self._values(overrides))

    def polynomial(self, **overrides: Any) -> dict[tuple[int, ...], np.ndarray]:
        """Coefficients of H(k) = Σ_p C_p k_x^{p_x} k_y^{p_y} k_z^{p_z}: {p: C_p (N, N)}."""
        kc = _kwant_continuum()
        expr = self.substituted(**overrides)
        kcom = sympy.symbols(" ".join(_K_NAMES[: self.dim]) + " ,", commutative=True)
        expr = expr.subs(dict(zip(kc.momentum_operators[: self.dim], kcom)))
        n = self.n_orbitals
        coeffs: dict[tuple[int, ...], np.ndarray] = {}
        for (i, j), entry in np.ndenumerate(np.array(expr.tolist(), dtype=object)):
            entry = sympy.expand(entry)
            if entry == 0:
                continue
            try:
                poly = sympy.Poly(entry, *kcom)
            except sympy.PolynomialError as exc:
                raise ModelError(
                    f"H[{i},{j}] = {entry} is not a polynomial in k; cannot evaluate it"
                ) from exc
            for mono, c in poly.terms():
                c = complex(c)
                coeffs.setdefault(tuple(int(p) for p in mono), np.zeros((n, n), complex))[i, j] += c
        return coeffs

    def continuum_hamiltonian(self, k: Any, **overrides: Any) -> np.ndarray:
        """Exact k·p Hamiltonian H(k), shape (Nk, N, N), eV, at Cartesian k (Nk, d) in 1/Å."""
        k = as_kpoints(k, self.dim)
        H = np.zeros((len(k), self.n_orbitals, self.n_orbitals), complex)
        for mono, C in self.polynomial(**overrides).items():
            H += np.prod(k ** np.asarray(mono), axis=1)[:, None, None] * C
        return H

    def tight_binding(self, **overrides: Any) -> dict[tuple[int, ...], np.ndarray]:
        """Regularized hoppings {R: H_R} (both R and −R) from kwant.continuum.discretize_symbolic."""
        kc = _kwant_continuum()
        expr = self.substituted(**overrides)
        coords = list(_X_NAMES[: self.dim])
        tb, _ = kc.discretize_symbolic(expr, coords)
        grid = {sympy.Symbol(f"a_{c}"): a for c, a in zip(coords, self._spacing)}
        hop: dict[tuple[int, ...], np.ndarray] = {}
        for offset, mat in tb.items():
            mat = sympy.Matrix(mat).subs(grid)
            try:
                arr = np.array(mat.evalf().tolist(), dtype=complex)
            except TypeError as exc:
                raise ModelError(
                    f"hopping {offset} still depends on {sorted(map(str, mat.free_symbols))}"
                ) from exc
            R = tuple(int(x) for x in offset)
            hop[R] = arr
            if any(R):
                hop[tuple(-x for x in R)] = arr.conj().T
        return hop

    # ------------------------------------------------------------------ lattice forms
    def lattice_model(self, **overrides: Any) -> LatticeModel:
        """The regularized LatticeModel on the orthorhombic grid ``diag(spacing)``.

        Parameters
        ----------
        **overrides
            Parameter values replacing those given at construction.

        Warns
        -----
        RegularizationWarning
            If ``check_inversions`` and the lattice bands are inverted at a TRIM other than Γ.
        """
        hop = self.tight_binding(**overrides)
        meta = dict(self.metadata)
        meta.update(
            kp_hamiltonian=str(self._expr), kp_params={**self._params, **overrides},
            spacing=self._spacing, regularization="kwant.continuum.discretize_symbolic",
        )
        model = LatticeModel(
            lattice=np.diag(self._spacing), hoppings=hop, periodic=tuple(range(self.dim)),
            operators=self._ops, magnetization=self._mag, name=self.name, metadata=meta,
        )
        if self.check_inversions and self.n_orbitals > 1:
            check_band_inversions(model, category=RegularizationWarning, stacklevel=3)
        return model

    def kwant_builder(self, **overrides: Any) -> Any:
        """Kwant template Builder (full translational symmetry) from ``kwant.continuum.discretize``.

        The parameter values are substituted, so the value functions take no parameters; the
        grid is ``kwant.lattice.Monatomic(diag(spacing), norbs=N)``.
        """
        kc = _kwant_continuum()
        import kwant

        expr = self.substituted(**overrides)
        grid = kwant.lattice.Monatomic(np.diag(self._spacing), norbs=self.n_orbitals)
        return kc.discretize(expr, list(_X_NAMES[: self.dim]), grid=grid)

    def pythtb_model(self, **overrides: Any) -> Any:
        """PythTB ``tb_model`` of the regularized model (via ``LatticeModel.to_pythtb``)."""
        return self.lattice_model(**overrides).to_pythtb()


def regularize(
    hamiltonian: str | sympy.Matrix,
    *,
    params: Mapping[str, float] | None = None,
    spacing: float | Sequence[float] = 1.0,
    operators: Mapping[str, Any] | None = None,
    name: str = "kp",
    dim: int | None = None,
    magnetization: Sequence[float] | None = None,
) -> LatticeModel:
    """Regularize a k·p Hamiltonian on a grid in one call; see :class:`KPModel`.

    Examples
    --------
    >>> m = regularize("A*(k_x*sigma_x + k_y*sigma_y) + (M - B*(k_x**2 + k_y**2))*sigma_z",
    ...                params=dict(A=1.0, B=0.5, M=1.0), spacing=1.0)
    """
    return KPModel(
        hamiltonian, params=params, spacing=spacing, operators=operators, name=name, dim=dim,
        magnetization=magnetization,
    ).lattice_model()
