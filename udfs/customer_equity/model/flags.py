"""The one vocabulary of TRUE/FALSE cells, and of customer-type and life-cycle-stage labels.

Every reader of a flag column (the Excel functions, :func:`measure`, the batch
reader, Refresh) and of a type or stage label goes through this module, so that a
cell means the same thing wherever it is typed.

Flags
    TRUE: ``TRUE``, ``1``, ``yes``/``y``, ``x``, ``是``/``有``/``对``/``對``/``真``, ``✓``/``√``;
    FALSE: ``FALSE``, ``0``, ``no``/``n``, a blank cell, ``否``/``无``/``無``/``错``/``錯``/``假``.
    Words in any case, with surrounding spaces. Anything else (2, 0.5, a cell of spaces,
    "maybe", an Excel error) is refused with its position.

Types and stages
    See :data:`TYPE_ALIASES` and :data:`STAGE_ALIASES`, in English and in simplified
    and traditional Chinese, including the papers' own wording (产品介绍期, 产品成长期,
    产品成熟期, 成熟后期或衰退期).
"""

from __future__ import annotations

import math
import numbers
import unicodedata

import numpy as np

from ..errors import CustomerEquityError
from ._validate import EXCEL_ERRORS, _where, distinct_codes

__all__ = ["TRUE_WORDS", "FALSE_WORDS", "FLAG_RULE", "flag_value", "flag_array",
           "TYPE_ALIASES", "STAGE_ALIASES", "type_code_of", "stage_code_of"]

TRUE_WORDS = frozenset({"true", "yes", "y", "x", "1", "1.0", "是", "有", "对", "對", "真", "✓", "√"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "0.0", "否", "无", "無", "错", "錯", "假"})

_NUMERIC_CELLS = {bool, np.bool_, float, int, np.float64, type(None)}

#: The rule a refused flag cell is told.
FLAG_RULE = "must be TRUE/FALSE, 1/0, yes/no or x/blank"


def flag_value(v):
    """1.0 for a TRUE cell, 0.0 for a FALSE one, NaN for a blank, None for anything else.

    Examples
    --------
    >>> [flag_value(v) for v in (True, 1, "Yes", " x ", "否", 0.0, "no")]
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    >>> flag_value(None), flag_value(""), flag_value(2), flag_value("   "), flag_value("maybe")
    (nan, nan, None, None, None)
    """
    if v is None:
        return math.nan
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        if math.isnan(f):
            return math.nan  # a missing value in a pandas column
        return f if f in (0.0, 1.0) else None
    if isinstance(v, str):
        if v == "":
            return math.nan
        key = unicodedata.normalize("NFKC", v).strip().lower()
        if key in TRUE_WORDS:
            return 1.0
        if key in FALSE_WORDS:
            return 0.0
    return None


def flag_array(values, name, *, other=None):
    """TRUE/FALSE cells as a boolean array (a blank is FALSE), each distinct cell looked up once.

    Parameters
    ----------
    values : array_like
        Cells: booleans, 1/0, words of the vocabulary, blanks.
    name : str
        The argument or column, for the message.
    other : callable, optional
        ``other(value)`` gives True/False for a value outside the vocabulary (e.g. a
        customer type standing for "carries transaction value"), or None to refuse it.

    Examples
    --------
    >>> flag_array([True, 1, "yes", None, "0", "FALSE"], "tv_carrier").tolist()
    [True, True, True, False, False, False]
    """
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype == object and arr.size:
        kinds = set(map(type, arr.ravel()))
        if kinds <= {bool, np.bool_}:
            return arr.astype(bool)
        if kinds <= _NUMERIC_CELLS:  # TRUE/FALSE, 1/0 and blanks: one C-speed pass
            arr = np.where(np.equal(arr, None), np.nan, arr).astype(np.float64)
    if arr.dtype.kind in "iuf":
        with np.errstate(invalid="ignore"):
            ok = np.isnan(arr) | (arr == 0) | (arr == 1) if arr.dtype.kind == "f" else (arr == 0) | (arr == 1)
        if ok.all():
            return arr == 1
        arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    inverse, firsts = distinct_codes(arr)
    flat = arr.ravel()
    lookup = np.empty(len(firsts), dtype=bool)
    for u, k in enumerate(firsts):
        cell = flat[k]
        f = flag_value(cell)
        if f is None and other is not None and not isinstance(cell, (bool, np.bool_)):
            f = other(cell)
            f = None if f is None else float(f)
        if f is None:
            shown = cell.item() if isinstance(cell, np.generic) else cell
            if isinstance(shown, str) and shown.strip() in EXCEL_ERRORS:
                raise CustomerEquityError(name, f"the cell holds the Excel error {shown.strip()}",
                                          **_where(arr.shape, k))
            raise CustomerEquityError(name, FLAG_RULE, value=shown, **_where(arr.shape, k))
        lookup[u] = f == 1.0  # NaN (a blank read as NaN) is FALSE
    out = np.zeros(flat.shape, dtype=bool)
    seen = inverse >= 0
    out[seen] = lookup[inverse[seen]]
    return out.reshape(arr.shape)


# --- customer types and life-cycle stages ---------------------------------------------

#: Spellings of each customer type (code 0 lighthouse .. 3 profit-seeking), compared after
#: :func:`_normalise` (any case, full-width forms folded, a trailing "customer(s)", 顾客,
#: 顧客, 客户, 客戶 or 型 dropped).
TYPE_ALIASES = {
    0: ("lighthouse", "light house", "灯塔", "燈塔", "l"),
    1: ("follower", "followers", "跟随", "跟隨", "追随", "追隨", "f"),
    2: ("rational", "理性", "r"),
    3: ("profit-seeking", "profit seeking", "profitseeking", "profit-seeker", "profit seeker",
        "逐利", "p"),
}
_TYPE_SUFFIXES = ("customers", "customer", "顾客", "顧客", "客户", "客戶", "型")

#: Spellings of each life-cycle stage of the first purchase (code 0 introduction .. 3 late
#: maturity / decline), compared after dropping a leading 产品/產品 ("product") and a
#: trailing "stage"/"phase"/阶段/階段; the numbers 1-4 are stages too (not TRUE/FALSE).
STAGE_ALIASES = {
    0: ("introduction", "intro", "导入期", "導入期", "介绍期", "介紹期", "导入", "導入", "介绍", "介紹",
        "引入期", "投入期"),
    1: ("growth", "成长期", "成長期", "成长", "成長"),
    2: ("maturity", "mature", "成熟期", "成熟"),
    3: ("late maturity", "late-maturity", "decline", "declining",
        "late maturity or decline", "late maturity/decline", "late maturity / decline",
        "成熟后期", "成熟後期", "衰退期", "衰退", "成熟后期或衰退期", "成熟後期或衰退期",
        "成熟后期/衰退期", "成熟後期/衰退期"),
}

_TYPE_LOOKUP = {alias: code for code, names in TYPE_ALIASES.items() for alias in names}
_STAGE_LOOKUP = {alias: code for code, names in STAGE_ALIASES.items() for alias in names}


def _key(label: str) -> str:
    return unicodedata.normalize("NFKC", label).strip().lower()


def type_code_of(label):
    """The type code of one label, or None when it is not a customer type.

    Examples
    --------
    >>> [type_code_of(x) for x in ("Lighthouse", "profit seeking", "理性顧客", "VIP", True)]
    [0, 3, 2, None, None]
    """
    if not isinstance(label, str):
        return None
    key = _key(label).replace("_", "-")
    for suffix in _TYPE_SUFFIXES:
        if key.endswith(suffix) and key != suffix:
            key = key[: -len(suffix)].strip()
    return _TYPE_LOOKUP.get(key)


def stage_code_of(label):
    """The stage code (0-3) of one label or stage number 1-4, or None.

    TRUE/FALSE are not stages, although Python counts True as 1.

    Examples
    --------
    >>> [stage_code_of(x) for x in ("growth", 1, "产品介绍期", "成熟后期或衰退期", "產品成長期", True)]
    [1, 0, 0, 3, 1, None]
    """
    if isinstance(label, (bool, np.bool_)):
        return None
    if isinstance(label, numbers.Real):
        f = float(label)
        return int(f) - 1 if f in (1.0, 2.0, 3.0, 4.0) else None
    if not isinstance(label, str):
        return None
    key = _key(label).replace("_", " ")
    for suffix in (" stage", " phase", "阶段", "階段"):
        key = key.removesuffix(suffix).strip()
    for prefix in ("product ", "产品", "產品"):
        key = key.removeprefix(prefix).strip()
    if key in ("1", "2", "3", "4"):
        return int(key) - 1
    return _STAGE_LOOKUP.get(key)
