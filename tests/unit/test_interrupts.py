"""Ctrl-C and SIGTERM while a sweep runs (pipelines/engine/interrupts.py), with a stand-in for the SIGINT
handler Tune puts in place; real signals sent to this process."""
import os
import signal

import pytest

from pipelines.engine.interrupts import CtrlC


def test_sigterm_is_handled_as_a_press_and_the_handlers_come_back():
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    pressed = []
    guard = CtrlC()
    with guard:
        ours = signal.getsignal(signal.SIGINT)

        def tune_handler(signum, frame):  # what Tune does on the first press: note it, put back the one before
            pressed.append(signum)
            signal.signal(signal.SIGINT, ours)

        signal.signal(signal.SIGINT, tune_handler)
        assert not guard.pressed()
        os.kill(os.getpid(), signal.SIGTERM)
        assert pressed == [signal.SIGINT] and guard.pressed()  # Tune ends the sweep gracefully
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)  # the second: an abort
    assert {s: signal.getsignal(s) for s in before} == before
