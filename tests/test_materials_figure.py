"""The materials table's figure (:func:`tbspin.reproduce._materials_out.plot_material`): a curve
whose ±1σ band covers zero at most energies is marked as not resolved, a resolved one is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tbspin.reproduce import _materials_out


def _record() -> dict[str, Any]:
    ef = np.linspace(4.0, 5.0, 11)
    y = -400.0 + 10 * (ef - 4.5)

    def curve(err: float) -> dict[str, Any]:
        return {"efermi_eV": ef.tolist(), "mesh": [20, 20, 20], "unit": "(hbar/e) S/cm",
                "components": {"yzx": {"values": y.tolist(), "errors": [err] * len(ef)}}}

    entry = {"observable": "shc", "component": "yzx", "formula": "proper", "value": -433.0,
             "error": 5.0, "unit": "(hbar/e) S/cm", "symbol": "σ^y_zx"}
    return {"name": "test", "status": "complete", "efermi_eV": 4.5, "entries": [entry],
            "curves": {"shc:proper": curve(900.0), "shc:conventional": curve(40.0)}}


def test_unresolved_curve_is_dashed_and_labelled(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    seen: list[Any] = []

    def keep(fig: Any, path: Path, **kw: Any) -> Path:
        seen.append({ln.get_label(): ln.get_linestyle() for ax in fig.axes for ln in ax.lines
                     if not ln.get_label().startswith("_")})
        return path

    monkeypatch.setattr(_materials_out, "save_figure", keep)
    _materials_out.plot_material(tmp_path / "t.png", _record())
    lines = seen[0]
    # error 900 against |value| ≈ 400: not resolved; error 40: resolved
    assert lines == {"proper (20×20×20: not resolved from 0)": "--", "conventional": "-"}
