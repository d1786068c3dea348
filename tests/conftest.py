"""Test-suite configuration: nothing is written into the source tree.

Hypothesis keeps no example database and its cache directory lives in a temporary folder; pytest's
cache is disabled in pyproject.toml (``-p no:cacheprovider``); tests write only below ``tmp_path``.
"""

import tempfile

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="tbspin-hypothesis-"))
settings.register_profile("tbspin", database=None)
settings.load_profile("tbspin")
