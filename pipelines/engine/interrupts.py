"""Ctrl-C during a sweep: the first press ends it gracefully, a second press aborts at once.

Ray Tune does the graceful part itself: on the first SIGINT its handler stops launching trials, saves
the experiment state (so `hpo resume` works) and puts back the handler that was in place before it.
We put a handler in place before Tune that raises KeyboardInterrupt, so a second press aborts, and
seeing our handler back while Tune runs tells us the first press happened.
"""
from __future__ import annotations

import signal
import threading


def _abort(signum, frame):
    raise KeyboardInterrupt


class CtrlC:
    def __init__(self):
        self.previous = None
        self.armed = False

    def __enter__(self) -> "CtrlC":
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, _abort)
            self.armed = True
        return self

    def pressed(self) -> bool:
        """True once Tune took the first press (only meaningful while Tune runs, after its start)."""
        return self.armed and signal.getsignal(signal.SIGINT) is _abort

    def __exit__(self, *exc) -> None:
        if self.armed:
            signal.signal(signal.SIGINT, self.previous)
            self.armed = False


# One per process: Tune's callbacks are pickled with the sweep and restored on resume, so they look
# the guard up here instead of holding it.
guard = CtrlC()
