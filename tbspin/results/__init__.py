"""Stage 7 — results: :class:`ConductivityResult` (``conductivity``: values, units, errors,
components, provenance; JSON + NPZ) and mesh-convergence tables (``convergence``)."""

from .conductivity import ConductivityResult, model_provenance
from .convergence import ConvergenceTable, mesh_study

__all__ = ["ConductivityResult", "model_provenance", "ConvergenceTable", "mesh_study"]
