"""Stage 3 — k·p models regularized onto lattices (``kp``: Kwant's continuum discretizer on
rectangular grids)."""
