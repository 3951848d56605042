"""Every call of a target runs in a worker thread, under a time limit.

:func:`run` is the one place a target is called (``conventions.base.invoke`` goes through it). The call runs in
a daemon worker thread while the caller waits at most the time limit (``DEFAULT_TIME_LIMIT`` seconds unless a
:func:`time_limit` block says otherwise). This gives three guarantees:

* **A call that does not return fails, with its input.** :class:`CallTimedOut` is a ``BaseException``:
  Hypothesis only treats ``Exception`` (and ``SystemExit``, ``GeneratorExit``) as a test failure, so it ends the
  law's search at once instead of shrinking on further calls that would each wait the time limit; the law's
  check attaches the input that hung (``Law.verify``) and the runner reports it.
* **Whatever the target raises is the target's failure.** The worker catches every ``BaseException`` the target
  raises, ``SystemExit`` and ``KeyboardInterrupt`` included, and hands it back as data. This is also how a
  ``KeyboardInterrupt`` *raised by the target* is told apart from a real Ctrl-C: CPython runs signal handlers in
  the main thread only, so a SIGINT delivered to the process raises ``KeyboardInterrupt`` in the caller
  (interrupting its wait, which is interruptible on POSIX), never inside the worker, and it propagates and stops
  the run; a ``KeyboardInterrupt`` caught in the worker can only come from the target's own code.
* **A stuck call is left alone.** A thread cannot be killed in Python. The worker of a call that did not return
  is abandoned: it is a daemon thread, so it never keeps the process from exiting, and it goes on running (using
  CPU if the target spins) until the call returns, if ever, and then exits. While it runs, the same target is
  *not called again* (:class:`StillRunning`, and the runner skips the target's remaining laws): a second call
  would run concurrently with the stuck one, and a target with state (a module-level cache, a buffer or RNG it
  reuses, a torch or BLAS thread pool, a lock the stuck call holds) could then give corrupted answers, or hang
  in turn and leave one more stuck thread per law. A verdict that depends on the stuck call's state is not
  worth having; the hang is already a failure. Other targets may still be called (they share no state with
  it; at worst a spinning thread slows them down).
"""

from __future__ import annotations

import contextvars
import math
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from lineage.laws.law import LawAborted, LawViolation

DEFAULT_TIME_LIMIT = 10.0  # seconds per call of a target

_TIME_LIMIT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "lineage_oracle_time_limit", default=DEFAULT_TIME_LIMIT
)


def check_time_limit(seconds: float | None) -> float | None:
    """``seconds`` if it is a valid time limit (a positive number, or None for no limit), else ValueError."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"time_limit: expected a positive number of seconds (or None for no limit), got {seconds!r}")
    return float(seconds)


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Calls made inside the block (in this context) wait at most ``seconds`` (None: no limit)."""
    token = _TIME_LIMIT.set(check_time_limit(seconds))
    try:
        yield
    finally:
        _TIME_LIMIT.reset(token)


def current_time_limit() -> float | None:
    return _TIME_LIMIT.get()


class CallTimedOut(LawAborted):
    """A call of the target did not return within the time limit (it is still running in a daemon thread)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the target did not return within {seconds:g} s")
        self.seconds = seconds


class TargetRaised(Exception):
    """What the target raised in the worker thread (``error``), for ``invoke`` to describe."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class StillRunning(LawViolation):
    """The target was not called: an earlier call of it did not return and is still running."""


@dataclass
class _Job:
    thunk: Callable[[], object]
    context: contextvars.Context
    done: threading.Event = field(default_factory=threading.Event)
    value: object = None
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.context.run(self.thunk)
        except BaseException as error:  # the target's, whatever it is (see the module docstring)
            self.error = error
        finally:
            self.done.set()


class _Worker:
    """A daemon thread that runs jobs one after another (one per calling thread: starting a thread per call
    costs ~10x more than handing a job over)."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="lineage-oracle-call", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        _local.in_worker = True
        while (job := self.jobs.get()) is not None:
            job.run()

    def retire(self) -> None:
        """Let the thread exit once its current job (if any) returns."""
        self.jobs.put(None)


@dataclass(frozen=True)
class Stuck:
    """A call that did not return: the thread running it and the limit it exceeded."""

    thread: threading.Thread
    seconds: float

    def message(self) -> str:
        return (
            f"the target did not return within {self.seconds:g} s; that call is still running (in a background "
            "thread), and lineage does not call the target again meanwhile"
        )


_local = threading.local()
_stuck: dict[object, Stuck] = {}
_stuck_lock = threading.Lock()


def _key(function) -> object:
    try:
        hash(function)
    except TypeError:
        return id(function)
    return function


def stuck(function) -> Stuck | None:
    """The call of ``function`` that is still running after exceeding its time limit, if any."""
    with _stuck_lock:
        entry = _stuck.get(_key(function))
        if entry is not None and not entry.thread.is_alive():
            del _stuck[_key(function)]
            return None
        return entry


def run(function, thunk: Callable[[], object]) -> object:
    """``thunk()`` (a call of the target ``function``) in the worker thread, under the current time limit.

    Returns the call's value; raises :class:`TargetRaised` holding whatever the target raised,
    :class:`CallTimedOut` if it did not return in time and :class:`StillRunning` if ``function`` is stuck in an
    earlier call. A KeyboardInterrupt delivered to this thread while it waits propagates untouched."""
    if getattr(_local, "in_worker", False):  # a call made from inside a call: already in a worker thread
        job = _Job(thunk, contextvars.copy_context())
        job.run()
        if job.error is not None:
            raise TargetRaised(job.error)
        return job.value
    entry = stuck(function)
    if entry is not None:
        raise StillRunning(entry.message())
    worker = getattr(_local, "worker", None)
    if worker is None:
        worker = _local.worker = _Worker()
    seconds = current_time_limit()
    job = _Job(thunk, contextvars.copy_context())
    worker.jobs.put(job)
    try:
        finished = job.done.wait(seconds)
    except BaseException:  # a real KeyboardInterrupt: stop waiting, leave the call to finish on its own
        _abandon(worker)
        raise
    if not finished:
        _abandon(worker)
        with _stuck_lock:
            _stuck[_key(function)] = Stuck(worker.thread, seconds)
        raise CallTimedOut(seconds)
    if job.error is not None:
        raise TargetRaised(job.error)
    return job.value


def _abandon(worker: _Worker) -> None:
    worker.retire()
    if getattr(_local, "worker", None) is worker:
        _local.worker = None
