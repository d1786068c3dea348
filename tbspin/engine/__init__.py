"""Stage 5 — the integration engine: occupation weights and the one Fermi sum (``occupation``),
point sets and the one chunk evaluation (``points``), uniform-mesh integration with checkpoints
(``integrate``, ``checkpoint``), serial/threads/processes/dask execution with an ordered fold
(``executor``)."""
