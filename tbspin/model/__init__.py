"""Stage 1 — the model: :class:`LatticeModel` (``lattice``), hoppings and Hermiticity
(``hoppings``), spin operators and spinor orders (``spin``), direct Bloch sums (``bloch``).

Imports only the base modules (errors, types, units); the ``from_*``/``to_*`` doors of
:class:`LatticeModel` import :mod:`tbspin.io` and :mod:`tbspin.adapters` lazily, in
``lattice.py`` only (docs/architecture.md).
"""

from .lattice import CONVENTIONS, SPIN_NAMES, LatticeModel, axis_index

__all__ = ["LatticeModel", "axis_index", "SPIN_NAMES", "CONVENTIONS"]
