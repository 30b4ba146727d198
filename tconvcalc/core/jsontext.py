"""Strict RFC 8259 JSON text for every document tconvcalc writes (``--json``, ``--save FILE.json``).

JSON has no NaN or Infinity. A non-finite float in a document (a result computed from ``inf`` input, say) is
written as ``null``, and a dict document then gains ``"non_finite": N``, the number of values so written.
Python's ``json`` would print bare ``NaN``/``Infinity``, which strict parsers reject.
"""

from __future__ import annotations

import json
import math
from typing import Any


def _finite(value: Any, count: list[int]) -> Any:
    if type(value) is float:
        if math.isfinite(value):
            return value
        count[0] += 1
        return None
    if type(value) is list or type(value) is tuple:
        return [_finite(v, count) for v in value]
    if type(value) is dict:
        return {k: _finite(v, count) for k, v in value.items()}
    return value


def dumps(doc: Any, **options: Any) -> str:
    """``doc`` as strict JSON text: non-finite floats become ``null`` and are counted in ``non_finite``.

    >>> dumps({"output": [1.5, float("nan"), float("-inf")]})
    '{"output": [1.5, null, null], "non_finite": 2}'
    """
    count = [0]
    clean = _finite(doc, count)
    if count[0] and isinstance(clean, dict):
        clean["non_finite"] = count[0]
    return json.dumps(clean, allow_nan=False, **options)
