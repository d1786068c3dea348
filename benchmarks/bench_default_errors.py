"""Issue 27 acceptance 3: the default error bar (the mesh's k-points as M randomly shifted
sub-meshes that tile it exactly) costs what the plain mesh (``errors=False``) costs.

Cases (one Fermi energy unless stated, workers as given, default 1):

* ``bi20``   — Bi₂Se₃ ``_hr.dat`` (30 WF, block spinors), proper σ^y_zx at 4.4195 eV, 20³
  (8 sub-meshes of 10³);
* ``bi32``   — the same at 32³ (8 sub-meshes of 16³);
* ``pt32``   — Pt ``_hr.dat`` (18 WF), conventional σ^z_xy, η = 0.05 eV, 81 E_F, 32³;
* ``bi24t``  — the same model, whole proper SHC tensor (18 components), 81 E_F, 24³;
* ``pt21``   — Pt ``_hr.dat`` (18 WF), conventional σ^z_xy, η = 0.05 eV, 81 E_F, 21³
  (M = 8 sub-meshes (10|11)×(10|11)×(10|11), all 9261 k-points);
* ``haldane`` — Haldane σ_xy, 2D, 240² (M = 9 of 80²);
* ``bhz``    — BHZ proper σ^z_xy, 2D, 128² (M = 9 of (42|43|43)²).

Per case, in rounds (each round times the plain mesh and the default once, interleaved: the
shared VM drifts within minutes), the cost ratio default / plain is the median of the per-round
ratios, of the wall times and of this process's CPU times (with the default workers = 1 every
chunk runs in this process; on an oversubscribed machine the CPU time is the steadier measure);
the medians of the times are printed too, and the minimum CPU times with their ratio (a load
spike only ever adds time: with ``--repeat 12`` the steadiest measure on a loaded machine).

``--whole-matrices`` also times both runs with the FFT Bloch sums on whole matrices (the sums
before 27h; :mod:`tbspin.bz.triangle` forced off) in the same rounds and reports them as
``plain_whole`` and ``default_whole``.

Run:  .venv/bin/python benchmarks/bench_default_errors.py [--cases bi20 haldane] [--repeat 5]
      [--whole-matrices]
Target (issue 27): default ≤ 1.1 × plain.
"""

from __future__ import annotations

import argparse
import json
import statistics
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
import numpy as np
from common import FERMI, load, median_ratio, paired_times, wannier_model

import tbspin
from tbspin.models import bhz, haldane


def _cases() -> dict[str, tuple[str, object]]:
    return {
        "bi20": ("bi2se3", dict(fn="shc", spin="y", current="z", efield="x", mesh=20,
                                efermi=FERMI["bi2se3"], formula="proper")),
        "bi32": ("bi2se3", dict(fn="shc", spin="y", current="z", efield="x", mesh=32,
                                efermi=FERMI["bi2se3"], formula="proper")),
        "pt32": ("pt", dict(fn="shc", spin="z", current="x", efield="y", mesh=32,
                            efermi=FERMI["pt"] + np.linspace(-0.4, 0.4, 81),
                            formula="conventional", eta=0.05)),
        "bi24t": ("bi2se3", dict(fn="shc", spin="all", current="all", efield="all", mesh=24,
                                 efermi=FERMI["bi2se3"] + np.linspace(-0.4, 0.4, 81),
                                 formula="proper")),
        "pt21": ("pt", dict(fn="shc", spin="z", current="x", efield="y", mesh=21,
                            efermi=FERMI["pt"] + np.linspace(-0.4, 0.4, 81),
                            formula="conventional", eta=0.05)),
        "haldane": ("haldane", dict(fn="ahc", mesh=240, efermi=0.0)),
        "bhz": ("bhz", dict(fn="shc", spin="z", current="x", efield="y", mesh=128, efermi=0.0,
                            formula="proper")),
    }


def _model(name: str) -> tbspin.LatticeModel:
    if name == "haldane":
        return haldane(t2=0.1, phi=np.pi / 2)
    if name == "bhz":
        return bhz(M=-0.1)
    return wannier_model(name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(_cases()))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--whole-matrices", action="store_true",
                    help="also time FFT sums on whole matrices (tbspin.bz.triangle off)")
    args = ap.parse_args()
    cases = _cases()
    out = {}
    for name in args.cases:
        model_name, kw = cases[name]
        kw = dict(kw)  # type: ignore[arg-type]
        model = _model(model_name)
        fn = tbspin.spin_hall if kw.pop("fn") == "shc" else tbspin.anomalous_hall

        def run(errors: bool, fn=fn, model=model, kw=kw):  # type: ignore[no-untyped-def]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fn(model, workers=args.workers, progress=False, errors=errors, **kw)

        run(False)  # warm-up: caches of the model (Bloch sums, degeneracy scale)
        cpu: dict[str, list[float]] = {}
        calls = {"plain": lambda: run(False), "default": lambda: run(True)}
        if args.whole_matrices:
            calls.update(plain_whole=lambda: _whole(run, False),
                         default_whole=lambda: _whole(run, True))
        times, res = paired_times(calls, repeat=args.repeat, cpu=cpu)
        ratio = median_ratio(times, "default", "plain")
        cpu_ratio = median_ratio(cpu, "default", "plain")
        r = res["default"]
        samp = r.extras["sampling"]  # type: ignore[attr-defined]
        out[name] = dict(plain_s=statistics.median(times["plain"]),
                         default_s=statistics.median(times["default"]), ratio=ratio,
                         plain_cpu_s=statistics.median(cpu["plain"]),
                         default_cpu_s=statistics.median(cpu["default"]), cpu_ratio=cpu_ratio,
                         n_sub=samp["n_sub"], sub_mesh=samp["sub_mesh"], n_k=samp["n_k"],
                         plain_n_k=int(np.prod(r.mesh)), load=load(),  # type: ignore[attr-defined]
                         min_cpu_s={k: min(v) for k, v in cpu.items()},
                         min_cpu_ratio=min(cpu["default"]) / min(cpu["plain"]))
        if args.whole_matrices:
            out[name]["min_cpu_ratio_whole"] = min(cpu["default_whole"]) / min(cpu["plain_whole"])
        print(f"{name:8s} plain {out[name]['plain_s']:7.2f} s  default {out[name]['default_s']:7.2f}"
              f" s  ratio {ratio:5.3f}  cpu {out[name]['plain_cpu_s']:7.2f} / "
              f"{out[name]['default_cpu_s']:7.2f} s = {cpu_ratio:5.3f}  ({samp['n_sub']} x "
              f"{samp['sub_mesh']}, {samp['n_k']} of {out[name]['plain_n_k']} k-points; load "
              f"{out[name]['load']})", flush=True)
        print(f"{'':8s} min cpu " + "  ".join(f"{k} {v:6.3f}" for k, v in
                                              out[name]["min_cpu_s"].items())
              + f"  default/plain {out[name]['min_cpu_ratio']:5.3f}"
              + (f"  whole {out[name]['min_cpu_ratio_whole']:5.3f}" if args.whole_matrices
                 else ""), flush=True)
    print(json.dumps(out, indent=1))


def _whole(run, errors: bool):  # type: ignore[no-untyped-def]
    """``run(errors)`` with the FFT sums on whole matrices (the lower-triangle rule off)."""
    import tbspin.bz.triangle as triangle

    saved, triangle.GATHER_COST = triangle.GATHER_COST, float("inf")
    try:
        return run(errors)
    finally:
        triangle.GATHER_COST = saved


if __name__ == "__main__":
    main()
