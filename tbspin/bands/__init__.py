"""Stage 4 — eigensystems and connections: batched eigh with gauge-fixed degenerate blocks
(``eigen``), Berry connections (``berry``), the one gauge/tolerance policy (``settings``), the
degeneracy scale of a model (``degeneracy``), band-resolved integrands from one eigensystem per
k-batch (``integrands``).

``tbspin.bands`` was the module of band gaps and Z₂ parities up to 0.2; those names now live in
:mod:`tbspin.bz.spectrum` and are served from here with a DeprecationWarning.
"""

import importlib
import warnings

_MOVED = ("band_gap", "trim_points", "band_inversions", "check_band_inversions", "z2_parity")


def __getattr__(name: str) -> object:
    if name in _MOVED:
        warnings.warn(f"tbspin.bands.{name} moved to tbspin.bz.spectrum.{name}",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module("tbspin.bz.spectrum"), name)
    raise AttributeError(f"module 'tbspin.bands' has no attribute {name!r}")
