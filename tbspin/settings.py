"""Connection settings, resolved once: the ONE default gauge policy of tbspin.

Every public entry point (``berry_connection``, ``berry_curvature``, ``anomalous_hall``,
``spin_hall``, ``spin_hall_integrand``, ``chern_number``) turns its user arguments into one
frozen :class:`ConnectionSettings` with :func:`resolve_connection` and passes that object down;
nothing below (berry, integrands, integration engine) looks at user arguments again.

Gauge policy (``gauge=None``), in this order:

1. the model has a non-zero ``magnetization`` and spin operators → G = m̂·s;
2. the observable has a spin component ``spin`` (spin Hall) → G = s_spin (or the named operator);
3. the model carries spin operators → G = s_z;
4. otherwise no gauge operator (parallel transport inside degenerate blocks).

``gauge="none"`` always means no gauge operator; ``"x"/"y"/"z"`` or a 3-vector a spin component;
another string a named operator of the model; an (N, N) array a Hermitian matrix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import numbers

import numpy as np

from .errors import ParameterError
from .model import LatticeModel, axis_index
from .types import ComplexArray, GaugeSpec, SpinSpec

METHODS = ("fd", "kubo")
NO_GAUGE = "none (parallel transport inside degenerate blocks)"

__all__ = ["ConnectionSettings", "resolve_connection", "spin_operator", "positive_number",
           "METHODS", "NO_GAUGE"]


@dataclasses.dataclass(frozen=True, eq=False)
class ConnectionSettings:
    """How Berry connections are computed, fully resolved.

    Attributes
    ----------
    method : {"kubo", "fd"}
    delta : float
        Finite-difference step (1/Å), ``method="fd"``.
    degen_tol : float
        Energy window (eV) of degenerate blocks.
    gauge_tol : float
        Window of gauge-operator eigenvalues.
    gauge : (N, N) complex array or None
        Gauge operator inside degenerate blocks; None = parallel transport.
    gauge_description : str
        What ``gauge`` is and why (recorded in every result).
    """

    method: str = "kubo"
    delta: float = 1e-5
    degen_tol: float = 1e-4
    gauge_tol: float = 1e-6
    gauge: ComplexArray | None = None
    gauge_description: str = NO_GAUGE

    def with_method(self, method: str) -> ConnectionSettings:
        """The same settings with another method (the conventional formula needs "kubo")."""
        return dataclasses.replace(self, method=method)

    def key(self) -> dict[str, str | float | None]:
        """JSON-ready identity: every field, the gauge matrix as a SHA-256 of its bytes."""
        g = None
        if self.gauge is not None:
            g = hashlib.sha256(np.ascontiguousarray(self.gauge, dtype=complex).tobytes()).hexdigest()
        return {"method": self.method, "delta": self.delta, "degen_tol": self.degen_tol,
                "gauge_tol": self.gauge_tol, "gauge": g, "gauge_description": self.gauge_description}

    def record(self) -> dict[str, str | float]:
        """What results record (no matrix): method, tolerances, gauge description."""
        return {"method": self.method, "delta": self.delta, "degen_tol": self.degen_tol,
                "gauge_tol": self.gauge_tol, "gauge": self.gauge_description}


def positive_number(value: float, name: str, *, allow_zero: bool = False) -> float:
    """A finite float > 0 (≥ 0 with ``allow_zero``), else a ParameterError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ParameterError(f"'{name}' must be a number, got {value!r}")
    v = float(value)
    ok = math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ParameterError(f"'{name}' must be finite and {bound}, got {value!r}")
    return v


def spin_operator(model: LatticeModel, spin: SpinSpec) -> tuple[ComplexArray, str]:
    """The spin operator of an observable and its label.

    ``spin`` is an axis ("x", "y", "z", 0, 1, 2), a 3-vector, or the name of an operator of the
    model (e.g. a J_z operator the user attached).
    """
    if isinstance(spin, str) and spin.lower() not in ("x", "y", "z"):
        return model.operator(spin), spin
    if isinstance(spin, str):
        return model.spin(spin), spin.lower()
    if isinstance(spin, (int, np.integer)) and not isinstance(spin, bool):
        a = axis_index(int(spin))
        return model.spin(a), "xyz"[a]
    try:
        vec = np.asarray(spin, dtype=float)
    except (TypeError, ValueError):
        vec = None
    if vec is None or vec.shape != (3,):
        raise ParameterError(
            f"'spin' must be 'x', 'y', 'z', a 3-vector or an operator name, got {spin!r}"
        )
    return model.spin(vec), str(vec.tolist())


def _gauge_operator(
    model: LatticeModel, gauge: GaugeSpec, spin: SpinSpec | None
) -> tuple[ComplexArray | None, str]:
    n = model.n_orbitals
    if gauge is None:
        mag = model.magnetization
        if mag is not None and np.linalg.norm(mag) > 0 and model.has_spin:
            return model.spin(mag), (
                f"m̂·s with m̂ = {np.round(mag / np.linalg.norm(mag), 6).tolist()} "
                "(default: magnetization direction)"
            )
        if spin is not None:
            op, label = spin_operator(model, spin)
            return op, f"s_{label} (default: spin component of the observable)"
        if model.has_spin:
            return model.spin("z"), "s_z (default: model has spin, no magnetization)"
        return None, NO_GAUGE
    if isinstance(gauge, str):
        if gauge.lower() == "none":
            return None, NO_GAUGE
        if gauge.lower() in ("x", "y", "z"):
            return model.spin(gauge), f"s_{gauge.lower()}"
        return model.operator(gauge), f"operator {gauge!r}"
    try:
        arr = np.asarray(gauge, dtype=complex)
    except (TypeError, ValueError):
        raise ParameterError(f"'gauge' must be None, 'none', an axis, a 3-vector, an operator "
                             f"name or an ({n}, {n}) matrix, got {gauge!r}") from None
    if arr.shape == (3,) and n != 3:
        if np.any(arr.imag != 0):
            raise ParameterError(f"'gauge' direction must be real, got {gauge!r}")
        return model.spin(arr.real), f"spin along {arr.real.tolist()}"
    if arr.shape != (n, n):
        raise ParameterError(f"'gauge' operator must have shape ({n}, {n}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("'gauge' operator contains NaN or Inf")
    if np.max(np.abs(arr - arr.conj().T)) > 1e-10:
        raise ParameterError("'gauge' operator must be Hermitian")
    return arr, "user operator"


def resolve_connection(
    model: LatticeModel,
    *,
    method: str = "kubo",
    gauge: GaugeSpec = None,
    spin: SpinSpec | None = None,
    delta: float = 1e-5,
    degen_tol: float = 1e-4,
    gauge_tol: float = 1e-6,
) -> ConnectionSettings:
    """Validate the connection arguments of a public call and resolve the gauge (module doc).

    Parameters
    ----------
    model : LatticeModel
    method : {"kubo", "fd"}
    gauge : GaugeSpec
        See the module docstring for the policy of ``None``.
    spin : SpinSpec, optional
        Spin component of the observable (enters the default gauge).
    delta, degen_tol, gauge_tol : float
        Positive and finite (see :func:`tbspin.berry.berry_connection`).

    Raises
    ------
    ParameterError
        Naming the bad parameter.
    """
    if method not in METHODS:
        raise ParameterError(f"'method' must be one of {METHODS}, got {method!r}")
    G, desc = _gauge_operator(model, gauge, spin)
    if G is not None:
        G = np.array(G, dtype=complex)
        G.setflags(write=False)
    return ConnectionSettings(
        method=method, delta=positive_number(delta, "delta"),
        degen_tol=positive_number(degen_tol, "degen_tol"),
        gauge_tol=positive_number(gauge_tol, "gauge_tol"), gauge=G, gauge_description=desc,
    )
