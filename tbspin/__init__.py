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
    TbspinError,
    TbspinWarning,
    WannierFormatError,
)
from .model import LatticeModel

__version__ = "0.1.0"

__all__ = [
    "LatticeModel",
    "TbspinError",
    "ModelError",
    "WannierFormatError",
    "TbspinWarning",
    "GaugeWarning",
    "ConvergenceWarning",
    "__version__",
]
