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

Block tolerance (``degen_tol=None``, the default): chosen from the model by
:func:`tbspin.bands.degeneracy.degeneracy_scale` (1000 random k, cached per model fingerprint):
Kramers pairs split only by fit noise (δ ≪ gaps between pairs) → a tolerance between the two
scales (the pairs are blocks, fixed by the gauge operator); exact pairs → 1e-4 eV; physically
split pairs (declared or undeclared magnetization) → below the smallest sampled splitting, so the
model keeps its own eigenbasis; models without spin operators → 1e-4 eV. The choice and the
evidence are recorded (``ConnectionSettings.degen_source``); an explicit ``degen_tol`` overrides.
With ``gauge=None`` and a magnetization present in H but not declared, a
:class:`tbspin.errors.GaugeWarning` says that the default operator differs from it.

``gauge="none"`` always means no gauge operator; ``"x"/"y"/"z"`` or a 3-vector a spin component;
another string a named operator of the model; an (N, N) array a Hermitian matrix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import numbers
import os
import sys
import warnings
from types import FrameType
from typing import TYPE_CHECKING

import numpy as np

from tbspin.errors import GaugeWarning, ParameterError
from tbspin.model.lattice import LatticeModel, axis_index
from tbspin.types import ComplexArray, GaugeSpec, SpinSpec

if TYPE_CHECKING:
    from tbspin.bands.degeneracy import DegeneracyReport

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
    gauge_name : str
        Its short name in warnings ("s_z", "m̂·s with m̂ = […]", "user operator"; ""
        without an operator), resolved with the description, not read back from it.
    degen_source : str
        Where ``degen_tol`` came from (user, or the model's degeneracy scale with its evidence).
    """

    method: str = "kubo"
    delta: float = 1e-5
    degen_tol: float = 1e-4
    gauge_tol: float = 1e-6
    gauge: ComplexArray | None = None
    gauge_description: str = NO_GAUGE
    degen_source: str = "fixed default"
    gauge_name: str = ""

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
                "degen_tol_source": self.degen_source, "gauge_tol": self.gauge_tol,
                "gauge": self.gauge_description}

    def extras(self) -> dict[str, str | float]:
        """Tolerances and their origin, for ``ConductivityResult.extras``."""
        return {"delta": self.delta, "degen_tol": self.degen_tol,
                "degen_tol_source": self.degen_source, "gauge_tol": self.gauge_tol}


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
) -> tuple[ComplexArray | None, str, str]:
    """(operator or None, short name, why it was chosen: "" when the user named it) of a
    ``gauge`` argument; :func:`resolve_connection` composes the description from the last two."""
    n = model.n_orbitals
    if gauge is None:
        mag = model.magnetization
        if mag is not None and np.linalg.norm(mag) > 0 and model.has_spin:
            return (model.spin(mag), f"m̂·s with m̂ = {np.round(mag / np.linalg.norm(mag), 6).tolist()}",
                    "default: magnetization direction")
        if spin is not None:
            op, label = spin_operator(model, spin)
            return op, f"s_{label}", "default: spin component of the observable"
        if model.has_spin:
            return model.spin("z"), "s_z", "default: model has spin, no magnetization"
        return None, "", ""
    if isinstance(gauge, str):
        if gauge.lower() == "none":
            return None, "", ""
        if gauge.lower() in ("x", "y", "z"):
            return model.spin(gauge), f"s_{gauge.lower()}", ""
        return model.operator(gauge), f"operator {gauge!r}", ""
    try:
        arr = np.asarray(gauge, dtype=complex)
    except (TypeError, ValueError):
        raise ParameterError(f"'gauge' must be None, 'none', an axis, a 3-vector, an operator "
                             f"name or an ({n}, {n}) matrix, got {gauge!r}") from None
    if arr.shape == (3,) and n != 3:
        if np.any(arr.imag != 0):
            raise ParameterError(f"'gauge' direction must be real, got {gauge!r}")
        return model.spin(arr.real), f"spin along {arr.real.tolist()}", ""
    if arr.shape != (n, n):
        raise ParameterError(f"'gauge' operator must have shape ({n}, {n}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("'gauge' operator contains NaN or Inf")
    if np.max(np.abs(arr - arr.conj().T)) > 1e-10:
        raise ParameterError("'gauge' operator must be Hermitian")
    return arr, "user operator", ""


#: k-points of the degeneracy scan behind the default ``degen_tol``
DEGEN_SAMPLE = 1000
_DEGEN_CACHE: dict[str, DegeneracyReport] = {}


def model_degeneracy(model: LatticeModel) -> DegeneracyReport:
    """The model's :class:`~tbspin.bands.degeneracy.DegeneracyReport` (cached per fingerprint)."""
    from tbspin.bands.degeneracy import degeneracy_scale

    key = model.fingerprint()
    rep = _DEGEN_CACHE.get(key)
    if rep is None:
        rep = degeneracy_scale(model, n_k=DEGEN_SAMPLE, seed=0)
        if len(_DEGEN_CACHE) > 32:
            _DEGEN_CACHE.pop(next(iter(_DEGEN_CACHE)))
        _DEGEN_CACHE[key] = rep
    return rep


def _outside_stacklevel() -> int:
    """``stacklevel`` of the first caller outside the tbspin package (warnings point at it)."""
    pkg = os.path.dirname(os.path.abspath(__file__))
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(pkg):
        frame, level = frame.f_back, level + 1
    return level


def _describe(rep: DegeneracyReport) -> str:
    text = f"from the model's degeneracy scale: {rep.kind}"
    if rep.splitting is not None:
        text += (f" (Kramers-pair splitting median {rep.splitting['median'] * 1e3:.3g} meV, "
                 f"max {rep.splitting['max'] * 1e3:.3g} meV")
        text += "" if rep.gap is None else f"; gap between pairs ≥ {rep.gap['min'] * 1e3:.3g} meV"
        text += (f"; the fixed 1e-4 eV would give other blocks at "
                 f"{100 * rep.fraction_k_affected:.1f}% of k)")
    return text


def resolve_connection(
    model: LatticeModel,
    *,
    method: str = "kubo",
    gauge: GaugeSpec = None,
    spin: SpinSpec | None = None,
    delta: float = 1e-5,
    degen_tol: float | None = None,
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
    delta, gauge_tol : float
        Positive and finite (see :func:`tbspin.bands.berry.berry_connection`).
    degen_tol : float, optional
        Block tolerance (eV); None chooses it from the model (module docstring).

    Raises
    ------
    ParameterError
        Naming the bad parameter.
    """
    if method not in METHODS:
        raise ParameterError(f"'method' must be one of {METHODS}, got {method!r}")
    G, name, why = _gauge_operator(model, gauge, spin)
    desc = NO_GAUGE if G is None else f"{name} ({why})" if why else name
    if G is not None:
        G = np.array(G, dtype=complex)
        G.setflags(write=False)
    rep = model_degeneracy(model) if model.has_spin and (
        degen_tol is None or gauge is None) else None
    if degen_tol is not None:
        tol, source = positive_number(degen_tol, "degen_tol"), "given by the user"
    elif rep is not None:
        tol, source = rep.recommended_tol, _describe(rep)
    else:
        tol, source = 1e-4, "fixed default 1e-4 eV (no spin operators: no Kramers pairs to test)"
    if rep is not None and gauge is None and G is not None:
        mag = model.magnetization
        if mag is None or not np.any(mag):
            msg = rep.gauge_warning("z" if spin is None else spin)
            if msg is not None:
                warnings.warn(msg, GaugeWarning, stacklevel=_outside_stacklevel())
                desc += "; WARNING: differs from the undeclared magnetization in H"
    return ConnectionSettings(
        method=method, delta=positive_number(delta, "delta"), degen_tol=tol,
        gauge_tol=positive_number(gauge_tol, "gauge_tol"), gauge=G, gauge_description=desc,
        degen_source=source, gauge_name=name,
    )
