"""tbspin: Berry-phase and proper spin-current transport on tight-binding models.

Public API (see docs/conventions.md for units, signs and the Bloch convention)::

    tbspin.LatticeModel                    one model type for every source
    tbspin.berry_connection(model, k)      Berry connections R^a_mn (fd or kubo)
    tbspin.berry_curvature(model, k)       per-band Berry curvature
    tbspin.anomalous_hall(model, ...)      AHC vs Fermi energy over the full BZ
    tbspin.spin_hall(model, ...)           proper / conventional spin Hall conductivity
"""

from tbspin import _compat
from tbspin._version import __version__
from tbspin.bands.berry import BerryConnection, berry_connection, resolve_gauge
from tbspin.bands.settings import ConnectionSettings, resolve_connection
from tbspin.bz.kmesh import Mesh, as_kpoints, make_mesh
from tbspin.errors import (
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
from tbspin.model.lattice import LatticeModel
from tbspin.observables import (
    anomalous_hall,
    berry_curvature,
    chern_number,
    compute,
    occupied_sum,
    spin_hall,
    spin_hall_integrand,
)
from tbspin.results.conductivity import ConductivityResult
from tbspin.results.convergence import ConvergenceTable, mesh_study

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
_SUBMODULES = ("models", "slab", "io", "cli", "adapters", "units", "bands", "bz", "engine",
               "sampling", "symmetry", "results", "continuum", "analysis", "reproduce")

_compat.install()


def __getattr__(name: str) -> object:
    """Import sub-packages on first use (``tbspin.models.bi2se3()`` works after ``import tbspin``);
    the flat module names of 0.2 (``tbspin.eigen``, …) give their new modules with a
    DeprecationWarning (:mod:`tbspin._compat`)."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _compat.MOVED:
        return _compat.moved(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
