"""The labels of customer types and life-cycle stages, in English and in simplified and
traditional Chinese, including the papers' own wording (产品介绍期, 产品成长期, 产品成熟期,
成熟后期或衰退期): :data:`TYPE_ALIASES`, :data:`STAGE_ALIASES`.

Every reader of a type or stage label (the Excel functions, :func:`measure`, the file readers,
the templates' lookup lists) goes through this module. TRUE/FALSE cells are read with the
vocabulary of :mod:`customer_equity.reading`.
"""

from __future__ import annotations

import numbers
import unicodedata

import numpy as np

__all__ = ["TYPE_ALIASES", "STAGE_ALIASES", "type_code_of", "stage_code_of"]

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
