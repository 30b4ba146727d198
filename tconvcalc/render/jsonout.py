"""Every ``--json`` document goes out here: exactly one strict JSON document per call (see core/jsontext.py)."""

from __future__ import annotations

import sys
from typing import Any

from tconvcalc.core.jsontext import dumps

__all__ = ["dumps", "emit"]


def emit(doc: Any) -> None:
    """Exactly one strict JSON document on stdout."""
    sys.stdout.write(dumps(doc) + "\n")
