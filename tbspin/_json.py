"""JSON-ready copies of results and records (the one converter: results and reproductions)."""

from __future__ import annotations

import numpy as np

__all__ = ["jsonable"]


def jsonable(obj: object) -> object:
    """Numpy-free, strictly JSON-serializable copy of ``obj``.

    Mappings get string keys, sequences and arrays become lists, numpy scalars Python scalars,
    complex numbers ``{"re": …, "im": …}``, NaN/Inf ``None``; other objects their ``repr``.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, complex):
        return {"re": jsonable(obj.real), "im": jsonable(obj.imag)}
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)
