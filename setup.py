"""Package list for setuptools (metadata is in pyproject.toml).

``models/`` is installed as ``tbspin.models``; every sub-package of ``tbspin/`` and ``models/``
is found here so a new sub-package is never left out of the wheel.
"""

from setuptools import find_packages, setup

packages = find_packages(include=["tbspin", "tbspin.*"])
packages += ["tbspin.models"] + [f"tbspin.models.{p}" for p in find_packages("models")]
setup(
    packages=packages,
    package_dir={"tbspin": "tbspin", "tbspin.models": "models"},
)
