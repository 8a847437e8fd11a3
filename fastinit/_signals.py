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
    not see (lost in a finalizer) is raised when ``fn`` ends.  A handler changed meanwhile (one that re-arms
    itself) is kept; C and default handlers are left alone."""
    @functools.wraps(fn)
    def wrapper(*args, **kws):
        if threading.current_thread() is not threading.main_thread():
            return fn(*args, **kws)
        previous = {s: h for s in HELD if callable(h := signal.getsignal(s))}
        noted: list = []
        raised: list = []
        done = [False]  # fn has ended: the handler no longer notes, nor installs itself again

        def install() -> None:
            if not done[0]:
                for s, h in previous.items():
                    if signal.getsignal(s) is h:
                        signal.signal(s, handler)

        def restore() -> None:  # (first thing in the handler too: a signal during the restore cannot leave it)
            for s, h in previous.items():
                if signal.getsignal(s) is handler:
                    signal.signal(s, h)

        def handler(signum, frame):
            if not done[0] and (hold or _in_callback(frame)):
                noted.append(signum)
                return
            restore()
            try:
                previous[signum](signum, frame)
            except BaseException as e:
                raised.append(e)
                install()  # (lost on its way up, maybe: later signals are still kept out of the callbacks)
                raise
            install()  # it returned (a graceful-stop flag): go on guarding

        try:
            install()
        except ValueError:  # (the main thread of a subinterpreter: no handlers of its own)
            previous = {}
        try:
            try:
                result = fn(*args, **kws)
            except BaseException as e:
                if raised and raised[0] is not e:  # a handler's exception, lost before fn's own: the first
                    raise raised[0] from e
                raise
        finally:
            done[0] = True
            restore()
            _raise_noted(noted)
        if raised:  # a handler's exception lost on its way up
            raise raised[0]
        return result

    return wrapper


def _raise_noted(noted: list) -> None:
    """Raise each held signal again, for its handler (Ctrl-C's KeyboardInterrupt comes from here); every one's
    handler runs, the first exception raised once all have."""
    first = None
    for s in dict.fromkeys(noted):
        try:
            signal.raise_signal(s)
        except BaseException as e:
            first = e if first is None else first
    if first is not None:
        raise first


def guard_dispatcher(dispatcher) -> None:
    """Guard a numba CPU dispatcher's cache load (held throughout), which begins with numba's one-time registry
    setup, and its compile-or-load, ``_compile_for_args``, which numba's dispatcher runs on a call with new
    argument types (held inside llvmlite's callbacks only).  Without a cache (numba could not cache), the registry
    setup is held apart, before the compile."""
    if not hasattr(dispatcher, "_compile_for_args"):  # (numba's JIT is off: the Python function)
        return
    compile_for_args = guarded(dispatcher._compile_for_args, hold=False)
    cache = dispatcher._cache
    if type(cache).__name__ != "NullCache":
        cache.load_overload = guarded(cache.load_overload, hold=True)
        dispatcher._compile_for_args = compile_for_args
        return
    refresh = guarded(dispatcher.targetctx.refresh, hold=True)

    def uncached(*args, **kws):
        refresh()
        return compile_for_args(*args, **kws)

    dispatcher._compile_for_args = uncached
