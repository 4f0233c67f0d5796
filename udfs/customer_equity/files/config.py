"""A measurement configuration from a file: ``--config FILE`` (TOML or JSON).

The keys are those of :class:`~customer_equity.model.config.MeasureConfig`; the file is read
here, at the files door, and its settings checked by :meth:`MeasureConfig.from_dict`.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import CustomerEquityError
from ..model.config import MeasureConfig

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

__all__ = ["read_config"]


def read_config(path) -> MeasureConfig:
    """A :class:`MeasureConfig` from a TOML (``.toml``) or JSON (``.json``) file of its keys.

    The file must be UTF-8 text (a byte-order mark is accepted) holding a table of
    settings; anything else is refused with the file named.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "measure.toml"
    >>> _ = path.write_text('rate = 0.08\\ntiming = "begin"\\n', encoding="utf-8")
    >>> c = read_config(path)
    >>> c.rate, c.timing
    (0.08, 'begin')
    """
    path = Path(path)
    kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CustomerEquityError(str(path), f"cannot read the configuration: {err.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CustomerEquityError(str(path), f"not UTF-8 text (byte {err.start + 1}); save the "
                                  "configuration as UTF-8") from None
    try:
        data = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        raise CustomerEquityError(str(path), f"not a valid {kind} file: {err}") from None
    if not isinstance(data, dict):
        raise CustomerEquityError(str(path), 'expected a table of settings such as {"rate": 0.1}, '
                                  f"got {type(data).__name__ if data is not None else 'null'}",
                                  value=data)
    return MeasureConfig.from_dict(data, source=str(path))
