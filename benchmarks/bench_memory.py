"""Issue 11 (d): peak memory (RSS) of whole-BZ integrals from 20³ to 80³ k-points.

Each (observable, mesh) runs in a fresh subprocess; the child reports its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) after importing tbspin and building the model
(baseline) and after the integral (peak). Acceptance: the peak grows < 20 % from 20³ to 80³.

Observables (4-band Bi₂Se₃ of the catalogue, m_z = 1 meV, 81 Fermi energies, today's public API):
``ahc`` anomalous_hall σ_xy; ``proper`` / ``conventional`` spin_hall σ^y_zx; ``proto`` the
prototype engine (FFT Bloch sums + executor, 2 threads) on the proper formula. With ``--pt`` also
the Pt ``_hr.dat`` conventional σ^z_xy through the prototype (20³ … 40³; the public API would
take minutes per point at 80³ on this machine).

Run:  .venv/bin/python benchmarks/bench_memory.py [--n 20 40 60 80] [--pt]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, sys, time, warnings
sys.path.insert(0, {here!r})
import common
import numpy as np
import tbspin
warnings.simplefilter("ignore")
what, n = {what!r}, {n}
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if what.startswith("pt"):
    model = common.wannier_model("pt")
    ef = common.FERMI["pt"] + np.linspace(-0.4, 0.4, 81)
else:
    from tbspin.models import bi2se3
    model = bi2se3(magnetization=(0.0, 0.0, 0.001))
    ef = np.linspace(-0.5, 0.5, 81)
from prototype_engine import make_payload, prototype_conductivity
base = rss()
t0 = time.perf_counter()
if what == "ahc":
    tbspin.anomalous_hall(model, efermi=ef, mesh=n)
elif what in ("proper", "conventional"):
    tbspin.spin_hall(model, efermi=ef, mesh=n, spin="y", current="z", field="x", formula=what)
elif what == "proto":
    p = make_payload(model, what="proper", mesh=n, efermi=ef, spin="y", current=2, field=0)
    prototype_conductivity(p, workers=2, backend="threads")
else:  # pt-proto
    p = make_payload(model, what="conventional", mesh=n, efermi=ef, eta=0.05)
    prototype_conductivity(p, workers=2, backend="threads")
print(json.dumps(dict(base=base, peak=rss(), seconds=time.perf_counter() - t0)))
"""


def measure(what: str, n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD.format(here=str(HERE), what=what, n=n)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[20, 40, 60, 80])
    ap.add_argument("--what", nargs="+", default=["ahc", "proper", "conventional", "proto"])
    ap.add_argument("--pt", action="store_true", help="also Pt through the prototype, 20³ … 40³")
    args = ap.parse_args()
    jobs = [(w, args.n) for w in args.what]
    if args.pt:
        jobs.append(("pt-proto", [n for n in args.n if n <= 40] or [20]))
    print("peak RSS in MB (baseline after import + model, peak after the integral); growth = "
          "peak(largest)/peak(smallest) − 1")
    for what, meshes in jobs:
        rows = [(n, measure(what, n)) for n in meshes]
        cells = "  ".join(f"{n}³: {r['peak']:6.0f} ({r['seconds']:5.1f} s)" for n, r in rows)
        growth = rows[-1][1]["peak"] / rows[0][1]["peak"] - 1
        print(f"{what:13s} base {rows[0][1]['base']:5.0f}  {cells}  growth {100 * growth:+.0f}%",
              flush=True)


if __name__ == "__main__":
    main()
