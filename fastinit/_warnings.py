"""Warnings attributed to the user's line: the first caller outside the fastinit package.

A fixed ``stacklevel`` points into fastinit whenever the call goes through one more layer (an allocating
twin, ``fastinit.torch``, ``materialize``), and Python's default filter then shows the warning once per
process for that one fastinit line, instead of once per calling line (as torch's own warnings are shown).

Writers that fill a tensor block by block (fastinit.dask, fastinit.io, fastinit.jax) check the arguments once,
up front, where the warnings are given at the user's line; their blocks then fill under :func:`quiet`, so a
warning is not repeated per block from inside a scheduler's or JAX's threads.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_QUIET = contextvars.ContextVar("fastinit_quiet", default=False)


@contextlib.contextmanager
def quiet(on: bool = True):
    """No fastinit warning inside (per thread and task, unlike ``warnings.catch_warnings``), if ``on`` (an
    enclosing quiet block stays quiet)."""
    token = _QUIET.set(on or _QUIET.get())
    try:
        yield
    finally:
        _QUIET.reset(token)


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` with the stack level of the innermost frame outside fastinit and
    contextlib (which runs fastinit's context managers) (nothing under :func:`quiet`)."""
    if _QUIET.get():
        return
    frame, level = sys._getframe(1), 2  # level 2: the function that called warn()
    while frame.f_back is not None and (os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE)
                                        or frame.f_code.co_filename == contextlib.__file__):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
