"""The tbspin version (its own module: nothing imports it from the package __init__)."""

__version__ = "0.2.0"
