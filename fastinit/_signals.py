"""Layer 0 — Ctrl-C while numba loads or compiles a kernel: a signal's handler kept where its exception survives.

Python runs a signal's handler in whatever Python code the main thread runs next.  While numba loads a kernel
(on its first call with new argument types in a process) that can be:

* one of llvmlite's ctypes callbacks (its object cache's, which hand numba's cached code over, or save a freshly
  compiled one): the handler's KeyboardInterrupt is printed as "Exception ignored on calling ctypes callback
  function" and lost (a Ctrl-C 60 ms into a process's first ``normal_`` did not stop it, and a file write went on
  to replace its file), or it breaks the load, and the kernel then crashes the process (SIGSEGV);
* a finalizer (``__del__`` of an LLVM object collected meanwhile): printed and lost too;
* numba's one-time registry setup, which it leaves half done (every later kernel call fails).

:func:`guarded` wraps the two steps: a dispatcher's cache load (short: signals are held through it and handled
after) and its compile-or-load (a cold compile takes seconds: handlers run at once, but not inside llvmlite's
callbacks, where a signal is held until the compile returns; an exception a handler raised that got lost on its
way up is raised again then).
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


def guarded(fn, hold: bool):
    """``fn`` with SIGINT's and SIGTERM's Python handlers wrapped while it runs in the main thread: a signal is
    held (noted, then raised again for its handler once ``fn`` returns) throughout when ``hold``, else only inside
    llvmlite's ctypes callbacks; elsewhere its handler runs at once, and an exception it raises that ``fn`` does
    not see (lost in a finalizer) is raised when ``fn`` returns.  A handler changed meanwhile (one that re-arms
    itself) is kept; C and default handlers are left alone."""
    @functools.wraps(fn)
    def wrapper(*args, **kws):
        if threading.current_thread() is not threading.main_thread():
            return fn(*args, **kws)
        previous = {s: h for s in HELD if callable(h := signal.getsignal(s))}
        noted: list = []
        raised: list = []

        def install() -> None:
            for s, h in previous.items():
                if signal.getsignal(s) is h:
                    signal.signal(s, handler)

        def restore() -> None:  # (first thing in the handler too: a signal during the restore cannot leave it)
            for s, h in previous.items():
                if signal.getsignal(s) is handler:
                    signal.signal(s, h)

        def handler(signum, frame):
            if hold or _in_callback(frame):
                noted.append(signum)
                return
            restore()
            try:
                previous[signum](signum, frame)
            except BaseException as e:
                raised.append(e)
                raise
            install()  # it returned (a graceful-stop flag): go on guarding

        try:
            install()
        except ValueError:  # (the main thread of a subinterpreter: no handlers of its own)
            previous = {}
        try:
            result = fn(*args, **kws)
        finally:
            restore()
            for s in dict.fromkeys(noted):
                signal.raise_signal(s)  # its handler runs now (Ctrl-C's KeyboardInterrupt comes from this line)
        if raised:  # a handler's exception lost on its way up
            raise raised[0]
        return result

    return wrapper


def guard_dispatcher(dispatcher) -> None:
    """Guard a numba CPU dispatcher's cache load (held throughout) and its compile-or-load, ``_compile_for_args``,
    which numba's dispatcher runs on a call with new argument types (held inside llvmlite's callbacks only)."""
    if hasattr(dispatcher, "_compile_for_args"):  # (not where numba's JIT is off: the Python function)
        dispatcher._compile_for_args = guarded(dispatcher._compile_for_args, hold=False)
    cache = getattr(dispatcher, "_cache", None)
    if hasattr(cache, "load_overload"):
        cache.load_overload = guarded(cache.load_overload, hold=True)
