"""The ribbon source of the Excel add-in, installed as the package ``customer_equity.addin_data``.

``customUI.xml`` here is the source of truth for the ribbon (see its header comment).
This file only makes the folder a regular package, so that editable and wheel installs
alike find the XML with :mod:`importlib.resources` (``pyproject.toml`` maps the folder
in with ``package-dir``).
"""
