"""Test-suite configuration: nothing is written into the source tree.

Hypothesis keeps no example database and its cache directory lives in a temporary folder; pytest's
cache is disabled in pyproject.toml (``-p no:cacheprovider``); tests write only below ``tmp_path``.
"""

import os
import tempfile

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="tbspin-hypothesis-"))
settings.register_profile("tbspin", database=None)
settings.load_profile("tbspin")

# the engine's default is every core (tbspin.engine.executor.default_workers); the suite runs serially
# (deterministic call counts, no oversubscription) unless a test asks for workers explicitly
os.environ.setdefault("TBSPIN_WORKERS", "1")
