"""Package list for setuptools; everything else is in pyproject.toml.

The repository's top-level ``addin/`` folder (the ribbon source) is installed as the
package ``customer_equity.addin_data`` (``package-dir`` in pyproject.toml). pyproject's
``packages.find`` cannot add a package from outside ``udfs/``, so the list is made here:
every package under ``udfs/`` plus that one.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages("udfs"), "customer_equity.addin_data"])
