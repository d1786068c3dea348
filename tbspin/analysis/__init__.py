"""Stage 9 — diagnostics of a model before trusting a BZ integral (``diagnose``)."""
