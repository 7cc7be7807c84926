"""MLflow calls that wait out a busy or briefly absent store instead of ending the sweep.

A SQLite store that another process holds locked (a backup, a second writer, a UI mid-query) answers
"database is locked" after SQLite's few seconds; a tracking server that restarts refuses connections for a
while. Each call is tried again with a growing pause, for up to HPO_STORE_PATIENCE seconds in all (300 by
default); then StoreUnavailable ends the sweep with its state saved, for `hpo resume` once the store is back.
While a call waits, the sweep waits too: trials hold their next result until the driver takes it.
"""
from __future__ import annotations

import os
import sys
import time

STORE_PATIENCE_SECONDS = 300.0
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 15.0
# What MLflow (through SQLAlchemy or its REST client) says when the store is busy or out of reach for now,
# and the request did not reach it (a reset connection or a gateway error may have: not tried again).
TRANSIENT = ("database is locked", "database table is locked", "unable to open database file",
             "connection refused", "error code 503", "503 error responses")


class StoreUnavailable(Exception):
    """The tracking store stayed busy or out of reach longer than the sweep's patience."""


def patience_seconds() -> float:
    value = os.environ.get("HPO_STORE_PATIENCE", "")
    try:
        return max(0.0, float(value)) if value else STORE_PATIENCE_SECONDS
    except ValueError:
        return STORE_PATIENCE_SECONDS


def is_transient(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(sign in text for sign in TRANSIENT)


class PatientClient:
    """An MlflowClient whose every method waits out a busy or briefly absent store."""

    def __init__(self, client, patience: float | None = None, sleep=time.sleep, clock=time.monotonic, say=None):
        self._client = client
        self._patience = patience_seconds() if patience is None else patience
        self._sleep, self._clock = sleep, clock
        self._say = say or (lambda text: print(text, file=sys.stderr, flush=True))

    @property
    def impatient(self):
        """The client itself: for writes that must give up at once (an abort)."""
        return self._client

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_client", "_patience", "_sleep", "_clock", "_say"):
            raise AttributeError(name)  # unpickling looks these up before __dict__ is filled
        found = getattr(self._client, name)
        return self._patient(found) if callable(found) else found

    def _patient(self, method):
        def call(*args, **kwargs):
            started, pause = self._clock(), FIRST_PAUSE
            while True:
                try:
                    return method(*args, **kwargs)
                except Exception as exc:
                    waited = self._clock() - started
                    if not is_transient(exc):
                        raise
                    if waited >= self._patience:
                        raise StoreUnavailable(
                            f"The MLflow store {self._client.tracking_uri} stayed busy or out of reach for "
                            f"{waited:.0f}s ({str(exc).splitlines()[0][:200]})") from None
                    if pause == FIRST_PAUSE:
                        self._say(f"note: the MLflow store is busy or out of reach ({str(exc).splitlines()[0][:120]}); "
                                  f"waiting up to {self._patience:.0f}s for it")
                    self._sleep(min(pause, max(0.0, self._patience - waited)))
                    pause = min(pause * 2, LONGEST_PAUSE)
        return call

    def __getstate__(self):
        return {"_client": self._client, "_patience": self._patience}

    def __setstate__(self, state):
        self.__init__(state["_client"], state["_patience"])
