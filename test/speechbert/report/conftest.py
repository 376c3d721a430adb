"""Puts ``report_fixture`` (the tiny recipe layout of these tests, beside this file) on ``sys.path``."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
