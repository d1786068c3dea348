"""Model library of tbspin (installed as ``tbspin.models``).

Physical systems of Liu, Cullen & Culcer, PRB 108, 195434 (2023):

* :func:`bi2se3` / :func:`bi2se3_kp` — bulk Bi₂Se₃ 4-band k·p model (paper's Eq. 10);
* ``holes2d`` — 2D hole gas (paper's Eqs. 11–12), when ``models/holes2d.py`` is present.

Validation catalogue (:mod:`tbspin.models.catalogue`): :func:`qwz`, :func:`bhz`,
:func:`cubic_ti`, :func:`haldane`, :func:`kane_mele`, :func:`rashba_gas` (and ``*_kp`` twins).

:mod:`tbspin.models.registry` lists the models the command line knows (name → constructor,
description, source, parameters with units): ``tbspin models -v``.

Models built from k·p strings (all but :func:`haldane` and :func:`kane_mele`) need Kwant's
``kwant.continuum`` (the extra ``tbspin[kwant]``); without it they raise
:class:`tbspin.errors.MissingDependencyError` with the install recipe.
"""

from . import registry
from .bi2se3 import BI2SE3_PARAMETERS, bi2se3, bi2se3_kp
from .catalogue import (
    bhz,
    bhz_kp,
    cubic_ti,
    cubic_ti_kp,
    haldane,
    kane_mele,
    model_forms,
    qwz,
    qwz_kp,
    rashba_gas,
    rashba_gas_kp,
)

__all__ = [
    "registry",
    "BI2SE3_PARAMETERS",
    "bi2se3",
    "bi2se3_kp",
    "bhz",
    "bhz_kp",
    "cubic_ti",
    "cubic_ti_kp",
    "haldane",
    "kane_mele",
    "model_forms",
    "qwz",
    "qwz_kp",
    "rashba_gas",
    "rashba_gas_kp",
]

try:  # the 2D hole gas lives in its own module (another owner); export it when present
    from .holes2d import holes2d, holes2d_info, holes2d_kp  # noqa: F401
except ModuleNotFoundError as exc:  # pragma: no cover - only while holes2d.py is absent
    if exc.name != f"{__name__}.holes2d":
        raise
else:
    __all__ += ["holes2d", "holes2d_kp", "holes2d_info"]
