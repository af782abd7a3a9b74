"""The estimators' ``max_time``: a soft, per-thread time limit around one fit (issue 20).

:func:`time_limit` sets the deadline both here (for the Python outer loops, which test
:func:`expired` between rounds) and in the compiled core (``fcr::Deadline``: the iterative C++
kernels stop at the end of an iteration once it has passed and return their current iterate as
not converged).  Unlike an interrupt nothing unwinds: every loop ends as at its own iteration
limit, so the fit returns the best network found so far.  Nested limits keep the tighter one.
"""
from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager

from . import _core

_state = threading.local()  # .deadline: time.monotonic() value, inf for none


def _deadline() -> float:
    return getattr(_state, "deadline", math.inf)


def expired() -> bool:
    """True once the innermost :func:`time_limit` of this thread has passed."""
    dl = _deadline()
    return dl != math.inf and time.monotonic() >= dl


def remaining() -> float:
    """Seconds left before this thread's time limit (inf without one, >= 0)."""
    dl = _deadline()
    return math.inf if dl == math.inf else max(0.0, dl - time.monotonic())


def _set_core(deadline: float) -> None:
    _core._set_time_limit(math.inf if deadline == math.inf else deadline - time.monotonic())


@contextmanager
def time_limit(seconds):
    """Limit the fits run inside the block to ``seconds`` (None: no new limit).

    Yields a callable that tells whether the limit passed before the block ended."""
    previous = _deadline()
    new = previous if seconds is None else min(previous, time.monotonic() + float(seconds))
    _state.deadline = new
    _set_core(new)
    ended = [None]
    try:
        yield lambda: expired() if ended[0] is None else ended[0]
    finally:
        ended[0] = new != math.inf and time.monotonic() >= new
        _state.deadline = previous
        _set_core(previous)
