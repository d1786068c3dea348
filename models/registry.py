"""Explicit registry of the built-in models: name → constructor, one-line description, literature
source and every parameter with its unit (what ``tbspin models -v`` prints).

A model is added by one :class:`ModelEntry` in :data:`REGISTRY`; nothing is guessed from function
names. :func:`build` converts command-line strings to the declared kinds and names the parameter
and the fix when a value is wrong.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping

from tbspin.errors import ParameterError
from tbspin.model.lattice import LatticeModel

__all__ = ["Parameter", "ModelEntry", "REGISTRY", "get", "names", "build", "convert_value"]

#: value kinds of parameters
KINDS = ("float", "vector3", "choice", "bool", "float_or_choice")

ParamValue = float | str | bool | tuple[float, float, float]


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Attributes
    ----------
    name : str
        Keyword of the constructor.
    unit : str
        Physical unit ("eV", "eV Å", "Å", "t" for the hopping unit of a dimensionless model, "" if
        none).
    description : str
        What it is, in a few words.
    kind : str
        "float", "vector3" (three comma-separated numbers), "choice" (one of ``choices``),
        "bool", or "float_or_choice".
    choices : tuple of str
        Allowed strings for "choice" kinds.
    """

    name: str
    unit: str
    description: str
    kind: str = "float"
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line: name, unit, meaning (and the choices)."""
        unit = f" [{self.unit}]" if self.unit else ""
        ch = f" (one of {', '.join(self.choices)})" if self.choices else ""
        return f"{self.name}{unit}: {self.description}{ch}"


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A built-in model.

    Attributes
    ----------
    name : str
        Name on the command line (``--model NAME``).
    target : str
        ``"module:function"`` of the constructor inside :mod:`tbspin.models` (imported on use).
    description : str
        One line.
    source : str
        Literature reference of the model and its default parameters.
    parameters : tuple of Parameter
    needs_kwant : bool
        Built from a k·p string through ``kwant.continuum`` (needs the ``tbspin[kwant]`` extra).
    """

    name: str
    target: str
    description: str
    source: str
    parameters: tuple[Parameter, ...]
    needs_kwant: bool = True

    @property
    def constructor(self) -> Callable[..., LatticeModel]:
        """The constructor function (imports its module)."""
        mod, func = self.target.split(":")
        return getattr(importlib.import_module(f"{__package__}.{mod}"), func)

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (ParameterError listing the valid ones otherwise)."""
        for p in self.parameters:
            if p.name == name:
                return p
        valid = ", ".join(p.name for p in self.parameters)
        raise ParameterError(
            f"model {self.name!r} has no parameter {name!r}; its parameters are: {valid} "
            "(see `tbspin models -v`)"
        )


_M3 = Parameter("magnetization", "eV", "exchange vector m coupled as m·s (s in units of ħ/2)",
                "vector3")
_A_GRID = "grid spacing of the lattice regularization"

REGISTRY: dict[str, ModelEntry] = {e.name: e for e in (
    ModelEntry(
        "bi2se3", "bi2se3:bi2se3",
        "bulk Bi2Se3, 4-band k·p model (paper's Eq. 10) regularized on an orthorhombic grid",
        "Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eq. 10; parameters Liu et al., "
        "PRB 82, 045122 (2010) ('liu2010') or Zhang et al., Nat. Phys. 5, 438 (2009)",
        (
            _M3,
            Parameter("parameters", "", "parameter set", "choice", ("liu2010", "zhang2009")),
            Parameter("lattice", "", "regularization lattice (hexagonal keeps the C3 of warping)",
                      "choice", ("square", "hexagonal")),
            Parameter("warping", "", "hexagonal-warping terms R1, R2 (Liu 2010)", "bool"),
            Parameter("a", "Å", _A_GRID + " in-plane (Bi2Se3 lattice constant 4.14)"),
            Parameter("c", "Å", _A_GRID + " along z (< 3.6 keeps the continuum gap)"),
            Parameter("A0", "eV Å", "in-plane Dirac velocity term 𝓐 = A0 + A2 k∥²"),
            Parameter("A2", "eV Å³", "k∥² correction of 𝓐"),
            Parameter("B0", "eV Å", "out-of-plane Dirac term 𝓑 = B0 + B2 kz²"),
            Parameter("B2", "eV Å³", "kz² correction of 𝓑"),
            Parameter("C0", "eV", "energy offset of ε_k = C0 + C1 kz² + C2 k∥²"),
            Parameter("C1", "eV Å²", "kz² term of ε_k"),
            Parameter("C2", "eV Å²", "k∥² term of ε_k"),
            Parameter("M0", "eV", "mass 𝓜 = M0 + M1 kz² + M2 k∥² (M0 < 0: inverted)"),
            Parameter("M1", "eV Å²", "kz² term of the mass"),
            Parameter("M2", "eV Å²", "k∥² term of the mass"),
        ),
    ),
    ModelEntry(
        "qwz", "catalogue:qwz", "Qi–Wu–Zhang two-band Chern insulator (2D, spinless)",
        "Qi, Wu & Zhang, PRB 74, 085308 (2006)",
        (
            Parameter("u", "t", "mass parameter (|C| = 1 for 0 < |u| < 2)"),
            Parameter("a", "Å", "lattice constant"),
        ),
    ),
    ModelEntry(
        "bhz", "catalogue:bhz", "Bernevig–Hughes–Zhang HgTe quantum well (2D, 4 bands)",
        "Bernevig, Hughes & Zhang, Science 314, 1757 (2006); parameters and Δ: König et al., "
        "JPSJ 77, 031007 (2008) (7.0 nm well)",
        (
            Parameter("A", "eV Å", "Dirac velocity term"),
            Parameter("B", "eV Å²", "k² term of the mass"),
            Parameter("C", "eV", "energy offset"),
            Parameter("D", "eV Å²", "k² term of the energy"),
            Parameter("M", "eV", "Dirac mass (M/B > 0: inverted, quantum spin Hall)"),
            Parameter("spin_mixing", "eV", "bulk-inversion-asymmetry term Δ"),
            Parameter("a", "Å", _A_GRID),
            _M3,
        ),
    ),
    ModelEntry(
        "cubic_ti", "catalogue:cubic_ti", "3D lattice Dirac topological insulator (cubic, 4 bands)",
        "Qi, Hughes & Zhang, PRB 78, 195424 (2008)",
        (
            Parameter("A", "t·a", "Dirac term"),
            Parameter("B", "t·a²", "k² term of the mass"),
            Parameter("M", "t", "Dirac mass (strong TI for 0 < M a²/B < 4)"),
            Parameter("a", "Å", "lattice constant"),
            _M3,
        ),
    ),
    ModelEntry(
        "rashba_gas", "catalogue:rashba_gas", "2D electron gas with Rashba spin–orbit coupling",
        "Bychkov & Rashba, JETP Lett. 39, 78 (1984); defaults of InGaAs wells (Nitta et al., "
        "PRL 78, 1335 (1997))",
        (
            Parameter("m_eff", "m_e", "effective mass"),
            Parameter("alpha", "eV Å", "Rashba parameter"),
            Parameter("a", "Å", _A_GRID),
            _M3,
        ),
    ),
    ModelEntry(
        "haldane", "catalogue:haldane", "Haldane Chern insulator on the honeycomb lattice",
        "Haldane, PRL 61, 2015 (1988)",
        (
            Parameter("t1", "t", "nearest-neighbour hopping"),
            Parameter("t2", "t", "next-nearest-neighbour hopping"),
            Parameter("phi", "rad", "Haldane flux phase"),
            Parameter("M", "t", "sublattice (Semenoff) mass"),
            Parameter("a", "Å", "lattice constant"),
        ),
        needs_kwant=False,
    ),
    ModelEntry(
        "kane_mele", "catalogue:kane_mele", "Kane–Mele quantum spin Hall model (graphene, 4 bands)",
        "Kane & Mele, PRL 95, 226801 (2005); PRL 95, 146802 (2005)",
        (
            Parameter("t", "t", "nearest-neighbour hopping (the energy unit)"),
            Parameter("lambda_so", "t", "intrinsic spin–orbit coupling"),
            Parameter("lambda_r", "t", "Rashba coupling"),
            Parameter("lambda_v", "t", "staggered sublattice potential"),
            Parameter("a", "Å", "lattice constant"),
            _M3,
        ),
        needs_kwant=False,
    ),
    ModelEntry(
        "holes2d", "holes2d:holes2d",
        "2D hole gas of a [001] quantum well (Luttinger model projected on the lowest subbands)",
        "Liu, Cullen & Culcer, PRB 108, 195434 (2023), Eqs. 11-12; Luttinger parameters "
        "Winkler, Spin-Orbit Coupling Effects (Springer 2003)",
        (
            Parameter("material", "", "semiconductor", "choice", ("GaAs", "InAs", "InSb", "Ge")),
            Parameter("width", "Å", "well width"),
            Parameter("gate_field", "MV/m", "gate electric field F_z (1 MV/m = 1e-4 V/Å)"),
            Parameter("magnetization", "eV", "perpendicular exchange m_z (scalar)"),
            Parameter("parameters", "", "Luttinger parameter table", "choice",
                      ("winkler", "liu2023")),
            Parameter("axial", "", "axial approximation (true/false)", "bool"),
            Parameter("a", "Å", _A_GRID),
            Parameter("spin", "", "spin operators attached", "choice", ("J", "hh-pseudospin")),
        ),
    ),
)}

def names() -> list[str]:
    """Names of the registered models whose module is present, sorted."""
    out = []
    for name, entry in REGISTRY.items():
        try:
            entry.constructor  # noqa: B018 - probes that the module exists
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith(__package__ or "tbspin.models"):
                raise
            continue
        out.append(name)
    return sorted(out)


def get(name: str) -> ModelEntry:
    """The entry of model ``name`` (ParameterError listing the models otherwise)."""
    if name not in REGISTRY:
        raise ParameterError(
            f"unknown model {name!r}; choose one of {', '.join(names())} (see `tbspin models`)"
        )
    return REGISTRY[name]


def convert_value(entry: ModelEntry, name: str, value: object) -> ParamValue:
    """Convert a command-line string (or a Python value) to the kind parameter ``name`` declares."""
    p = entry.parameter(name)
    unit = f" ({p.unit})" if p.unit else ""
    where = f"--param {name}= of model {entry.name!r}"
    if p.kind == "choice":
        if str(value) not in p.choices:
            raise ParameterError(f"{where}: {value!r} is not one of {', '.join(p.choices)}")
        return str(value)
    if p.kind == "bool":
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ParameterError(f"{where}: {value!r} is not true or false")
    if p.kind == "vector3":
        parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
        try:
            vec = tuple(float(x) for x in parts)
        except ValueError:
            vec = ()
        if len(vec) != 3:
            raise ParameterError(
                f"{where}: needs three comma-separated numbers{unit} (x,y,z), got {value!r}; "
                f"e.g. --param {name}=0,0,0.001"
            )
        return vec
    try:
        return float(value) if isinstance(value, (int, float)) else float(str(value))
    except ValueError:
        raise ParameterError(
            f"{where}: needs a number{unit}, got {value!r}; e.g. --param {name}=0.1"
        ) from None


def build(name: str, params: Mapping[str, object] | None = None) -> LatticeModel:
    """Build model ``name`` with ``params`` (strings from the command line or Python values).

    Raises
    ------
    ParameterError
        Unknown model or parameter, or a value of the wrong kind; the message names it and the fix.
    """
    entry = get(name)
    kw = {key: convert_value(entry, key, val) for key, val in (params or {}).items()}
    model = entry.constructor(**kw)
    if kw:  # the overrides travel with the model into every result's provenance
        model = model.replace(metadata=dict(model.metadata, overrides=kw))
    return model
