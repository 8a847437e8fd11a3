"""Layer 0 — Ctrl-C that Python loses: a signal handler's exception raised inside a ctypes callback.

Python runs a signal's handler in whatever Python code the main thread runs next.  When that is a ctypes callback
— numba's (llvmlite's) object-cache hook, which runs while a cached kernel is loaded, on its first call in a
process — the handler's KeyboardInterrupt is printed as "Exception ignored on calling ctypes callback function"
and lost: a Ctrl-C in the first tenth of a second of a first fill did not stop it, and a file write went on to
replace its file.  :func:`noting_raised_signals` notes the exception as well, so that it can be raised again.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

HELD = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def noting_raised_signals() -> Iterator[list]:
    """In the main thread: the exceptions that SIGINT's and SIGTERM's Python handlers raise (Ctrl-C's
    KeyboardInterrupt) are also noted in the yielded list, for the caller to raise again when it is not empty (it
    was lost on its way up).  A handler that returns (a training loop's graceful-stop flag) is called as it was and
    notes nothing; C and default handlers are left alone; the handlers are put back on exit."""
    lost: list = []
    if threading.current_thread() is not threading.main_thread():
        yield lost
        return
    previous = {s: h for s in HELD if callable(h := signal.getsignal(s))}

    def noting(signum, frame):
        try:
            previous[signum](signum, frame)
        except BaseException as e:
            lost.append(e)
            raise

    for s in previous:
        signal.signal(s, noting)
    try:
        yield lost
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
