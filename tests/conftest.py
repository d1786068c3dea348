"""Test-suite configuration: nothing is written into the source tree.

Hypothesis keeps no example database (``database=None``) and pytest's cache is disabled in
pyproject.toml (``-p no:cacheprovider``); tests write only below ``tmp_path``.
"""

from hypothesis import settings

settings.register_profile("tbspin", database=None)
settings.load_profile("tbspin")
