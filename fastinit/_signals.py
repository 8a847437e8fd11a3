"""Layer 0 — Ctrl-C while numba loads a kernel: a signal's handler kept out of llvmlite's ctypes callbacks.

Python runs a signal's handler in whatever Python code the main thread runs next.  When that is one of llvmlite's
ctypes callbacks — its object cache's, which run while numba loads a cached kernel (or saves a compiled one), on
a kernel's first call with new argument types in a process — the handler's KeyboardInterrupt is printed as
"Exception ignored on calling ctypes callback function" and lost (a Ctrl-C 60 ms into a process's first
``normal_`` did not stop it; a file write went on to replace its file), or it aborts the load and leaves a kernel
whose call crashes the process (SIGSEGV).  :func:`deferring_in_callbacks` wraps a numba dispatcher's
compile-or-load so that a signal arriving inside those callbacks is handled when the load returns.
"""
from __future__ import annotations

import functools
import signal
import threading

HELD = (signal.SIGINT, signal.SIGTERM)
_CALLBACKS = ("_raw_object_cache_notify", "_raw_object_cache_getbuffer")  # llvmlite's, called through ctypes


def _in_callback(frame) -> bool:
    """Whether ``frame`` (a signal handler's) runs inside one of llvmlite's object-cache ctypes callbacks."""
    while frame is not None:
        code = frame.f_code
        if code.co_name in _CALLBACKS and "llvmlite" in code.co_filename:
            return True
        frame = frame.f_back
    return False


def deferring_in_callbacks(compile_for_args):
    """``compile_for_args`` (a numba dispatcher's ``_compile_for_args``: what a call with new argument types runs,
    compiling the kernel or loading it from the cache) with SIGINT's and SIGTERM's Python handlers wrapped, in the
    main thread: a signal that arrives inside llvmlite's ctypes callbacks is noted and raised again, for its
    handler, once the load returns; anywhere else its handler runs at once.  A handler changed meanwhile (one
    that re-arms itself) is kept; C and default handlers are left alone."""
    @functools.wraps(compile_for_args)
    def wrapper(*args, **kws):
        if threading.current_thread() is not threading.main_thread():
            return compile_for_args(*args, **kws)
        previous = {s: h for s in HELD if callable(h := signal.getsignal(s))}
        noted: list = []

        def handler(signum, frame):
            if _in_callback(frame):
                noted.append(signum)
            else:
                previous[signum](signum, frame)

        try:
            for s in previous:
                signal.signal(s, handler)
        except ValueError:  # (the main thread of a subinterpreter: no handlers of its own)
            previous = {}
        try:
            return compile_for_args(*args, **kws)
        finally:
            for s, h in previous.items():
                if signal.getsignal(s) is handler:
                    signal.signal(s, h)
            for s in dict.fromkeys(noted):
                signal.raise_signal(s)  # its handler runs now (Ctrl-C's KeyboardInterrupt comes from this line)

    return wrapper
