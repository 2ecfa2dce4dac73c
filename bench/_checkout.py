"""Puts this checkout first on ``sys.path``, so that ``tests.support`` imports.

The benchmarks share the tests' support code (the fake Twilio API, the stack's processes, scratch
databases, the load client), which is not part of the installed package. A benchmark is run as
``python bench/<name>.py``, and Python puts ``bench/`` on the path, not the checkout: each
benchmark that needs ``tests.support`` imports this module before it.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent

if str(CHECKOUT) not in sys.path:
    sys.path.insert(0, str(CHECKOUT))
