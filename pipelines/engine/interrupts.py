"""Ctrl-C during a sweep: the first press ends it gracefully, a second press aborts at once. SIGTERM (`kill
PID`, `docker stop`, a batch scheduler's preemption or time limit) does the same as a press.

Ray Tune does the graceful part itself: on the first SIGINT its handler stops launching trials, saves
the experiment state (so `hpo resume` works) and puts back the handler that was in place before it.
We put a handler in place before Tune that raises KeyboardInterrupt, so a second press aborts, and
seeing our handler back while Tune runs tells us the first press happened. Ray's own SIGTERM handler
(set by ray.init) would exit at once, leaving the sweep's runs open: while the guard is on, SIGTERM is
handled as a press instead.
"""
from __future__ import annotations

import signal
import threading


def _abort(signum, frame):
    raise KeyboardInterrupt


def _as_a_press(signum, frame):
    """SIGTERM: whatever a Ctrl-C would do now (Tune's graceful end at first, an abort after it)."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)


class CtrlC:
    def __init__(self):
        self.previous: dict = {}
        self.armed = False

    def __enter__(self) -> "CtrlC":
        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
            signal.signal(signal.SIGINT, _abort)
            signal.signal(signal.SIGTERM, _as_a_press)
            self.armed = True
        return self

    def pressed(self) -> bool:
        """True once Tune took the first press (only meaningful while Tune runs, after its start)."""
        return self.armed and signal.getsignal(signal.SIGINT) is _abort

    def __exit__(self, *exc) -> None:
        if self.armed:
            for signum, handler in self.previous.items():
                signal.signal(signum, handler)
            self.armed = False


# One per process: Tune's callbacks are pickled with the sweep and restored on resume, so they look
# the guard up here instead of holding it.
guard = CtrlC()
