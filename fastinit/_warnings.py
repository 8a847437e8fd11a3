"""Warnings attributed to the user's line: the first caller outside the fastinit package.

A fixed ``stacklevel`` points into fastinit whenever the call goes through one more layer (an allocating
twin, ``fastinit.torch``, ``materialize``), and Python's default filter then shows the warning once per
process for that one fastinit line, instead of once per calling line (as torch's own warnings are shown).
"""
from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` with the stack level of the innermost frame outside fastinit."""
    frame, level = sys._getframe(1), 2  # level 2: the function that called warn()
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
