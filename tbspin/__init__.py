"""tbspin: Berry-phase and proper spin-current transport on tight-binding models.

Public API (see docs/conventions.md for units, signs and the Bloch convention)::

    tbspin.LatticeModel                    one model type for every source
    tbspin.berry_connection(model, k)      Berry connections R^a_mn (fd or kubo)
    tbspin.berry_curvature(model, k)       per-band Berry curvature
    tbspin.anomalous_hall(model, ...)      AHC vs Fermi energy over the full BZ
    tbspin.spin_hall(model, ...)           proper / conventional spin Hall conductivity
"""

from ._version import __version__
from .berry import BerryConnection, berry_connection, resolve_gauge
from .convergence import ConvergenceTable, mesh_study
from .errors import (
    CheckpointError,
    ConvergenceWarning,
    GaugeWarning,
    ModelError,
    ParameterError,
    RegularizationWarning,
    TbspinError,
    TbspinWarning,
    WannierFormatError,
)
from .kmesh import Mesh, as_kpoints, make_mesh
from .model import LatticeModel
from .observables import (
    anomalous_hall,
    berry_curvature,
    chern_number,
    compute,
    occupied_sum,
    spin_hall,
    spin_hall_integrand,
)
from .results import ConductivityResult
from .settings import ConnectionSettings, resolve_connection

__all__ = [
    "LatticeModel",
    "BerryConnection",
    "ConductivityResult",
    "ConvergenceTable",
    "mesh_study",
    "Mesh",
    "make_mesh",
    "as_kpoints",
    "ConnectionSettings",
    "resolve_connection",
    "ParameterError",
    "CheckpointError",
    "berry_connection",
    "berry_curvature",
    "resolve_gauge",
    "anomalous_hall",
    "spin_hall",
    "spin_hall_integrand",
    "chern_number",
    "compute",
    "occupied_sum",
    "TbspinError",
    "ModelError",
    "WannierFormatError",
    "TbspinWarning",
    "GaugeWarning",
    "ConvergenceWarning",
    "RegularizationWarning",
    "__version__",
]

# imported on first attribute access (``tbspin.io`` is never imported by the core: writing a
# result or a checkpoint does not load the Wannier90 parser)
_SUBMODULES = ("models", "kp", "bands", "slab", "plotting", "io", "cli", "convergence", "kpath",
               "adapters", "units", "eigen", "settings", "integrands", "integrate", "checkpoint",
               "hoppings")


def __getattr__(name: str) -> object:
    """Import sub-packages on first use (``tbspin.models.bi2se3()`` works after ``import tbspin``)."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
