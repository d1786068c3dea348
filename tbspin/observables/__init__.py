"""Observables: one record per module (:mod:`tbspin.observables.base`), the public functions.

Every module of this sub-package other than ``base`` and ``api`` defines one observable record
and registers it; they are all imported here, so a new observable is a new module and nothing
else (:func:`tbspin.observables.compute`, the CLI's ``tbspin compute`` and the result files
find it through the registry).
"""

from __future__ import annotations

import importlib
import pkgutil

from tbspin.observables import base
from tbspin.observables.api import (
    FORMULAS,
    BandIntegrand,
    anomalous_hall,
    berry_curvature,
    berry_curvature_kernel,
    chern_number,
    compute,
    occupied_sum,
    spin_hall,
    spin_hall_integrand,
    spin_hall_kernel,
)
from tbspin.observables.base import Observable, available, get

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_") and _info.name not in ("base", "api"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["berry_curvature", "anomalous_hall", "spin_hall", "chern_number", "compute",
           "spin_hall_integrand", "spin_hall_kernel", "berry_curvature_kernel", "BandIntegrand",
           "occupied_sum", "FORMULAS", "Observable", "available", "get", "base"]
