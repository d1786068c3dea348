"""tbspin: Berry-phase and proper spin-current transport on tight-binding models.

Public API (see docs/conventions.md for units, signs and the Bloch convention)::

    tbspin.LatticeModel                    one model type for every source
    tbspin.berry_connection(model, k)      Berry connections R^a_mn (fd or kubo)
    tbspin.berry_curvature(model, k)       per-band Berry curvature
    tbspin.anomalous_hall(model, ...)      AHC vs Fermi energy over the full BZ
    tbspin.spin_hall(model, ...)           proper / conventional spin Hall conductivity
"""

from .errors import (
    ConvergenceWarning,
    GaugeWarning,
    ModelError,
    RegularizationWarning,
    TbspinError,
    TbspinWarning,
    WannierFormatError,
)

__version__ = "0.1.0"

from .berry import BerryConnection, berry_connection, resolve_gauge  # noqa: E402
from .convergence import ConvergenceTable, mesh_study  # noqa: E402
from .kmesh import Mesh, make_mesh  # noqa: E402
from .model import LatticeModel  # noqa: E402
from .observables import (  # noqa: E402
    anomalous_hall,
    berry_curvature,
    chern_number,
    occupied_sum,
    spin_hall,
    spin_hall_integrand,
)
from .results import ConductivityResult  # noqa: E402

__all__ = [
    "LatticeModel",
    "BerryConnection",
    "ConductivityResult",
    "ConvergenceTable",
    "mesh_study",
    "Mesh",
    "make_mesh",
    "berry_connection",
    "berry_curvature",
    "resolve_gauge",
    "anomalous_hall",
    "spin_hall",
    "spin_hall_integrand",
    "chern_number",
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

_SUBMODULES = ("models", "kp", "bands", "slab", "plotting", "io", "cli", "convergence", "kpath",
               "adapters", "units", "eigen")


def __getattr__(name: str):
    """Import sub-packages on first use (``tbspin.models.bi2se3()`` works after ``import tbspin``)."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
