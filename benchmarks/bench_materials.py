"""Issue 24: the full materials table (default tolerances: headline 2 %, others 5 %), with the
wall time and the number of k-points per material.

Run:  .venv/bin/python benchmarks/bench_materials.py [--only pt,fe] [--out results/materials]
      [--budget-seconds S] [--workers N] [--scheduler tcp://host:8786]

Same as ``tbspin reproduce materials``; a material already complete in ``--out`` is read back
(delete its ``<key>.json`` to recompute it). Prints one line per material: status, k-points,
seconds, and every entry (value ± 1σ, target met or not).
"""

from __future__ import annotations

import argparse
import time
import warnings

import common  # noqa: F401  (first: one BLAS thread per process before numpy loads)
from common import load

from tbspin.reproduce.materials import run_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None)
    ap.add_argument("--out", default="results/materials")
    ap.add_argument("--budget-seconds", type=float, default=None)
    ap.add_argument("--budget-k", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--scheduler", default=None)
    args = ap.parse_args()
    client = None
    if args.scheduler:
        from dask.distributed import Client

        client = Client(args.scheduler)
    print(f"load before: {load()}")
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = run_table(args.out, only=args.only, budget_seconds=args.budget_seconds,
                            budget_k=args.budget_k, workers=args.workers, client=client)
    for m in summary["materials"]:
        print(f"{m['name']:10s} {m['status']:9s} k-points {m.get('k_points', 0):>12,} "
              f"{m.get('seconds', 0):>9.1f} s{' (read back)' if m.get('reused') else ''}")
        for e in m.get("entries", []):
            print(f"    {e['formula']:12s} {e['symbol']:10s} {e['value']:12.5g} ± "
                  f"{e['error']:.3g} {e['unit']}  target {e['target_absolute']:.3g} "
                  f"{'met' if e['met'] else 'NOT met'}")
        for r in m.get("ratios", []):
            print(f"    proper/conventional {r['symbol']}: {r['ratio']:.4g} ± {r['error']:.2g}")
    print(f"total {time.perf_counter() - t0:.1f} s, load after: {load()}; "
          f"{len(caught)} warnings (in {args.out}/materials.md)")
    if client is not None:
        client.close()


if __name__ == "__main__":
    main()
