"""Adapters between :class:`tbspin.LatticeModel` and other codes (PythTB, Kwant)."""
