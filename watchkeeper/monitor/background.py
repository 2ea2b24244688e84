"""Work off the caller's thread: a FIFO of jobs run in order by one background thread.

The Monitor hands the folding of buffered single rows, every window's analysis and the
saving of kept predictions to a :class:`Background`, so ``Monitor.log`` of one row only
appends: the caller's worst call stays in microseconds whatever a batch or an analysis
costs.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable

__all__ = ["IDLE_SECONDS", "Background"]

log = logging.getLogger("watchkeeper.monitor")

IDLE_SECONDS = 5.0
"""How long the thread waits for work before it ends (a new job starts it again), so an
idle or forgotten monitor holds no thread."""

Job = Callable[[], None]
Origin = int
"""The number of the job a caller submitted; a job submitted by a running job inherits
the running job's origin."""


class Background:
    """Runs submitted jobs one at a time, in submission order, on a daemon thread.

    Parameters
    ----------
    name
        The thread's name (seen in stack dumps and profilers).
    idle_seconds
        How long the thread waits for a job before it ends.

    Notes
    -----
    The thread starts with the first job and ends after ``idle_seconds`` without one; the
    next job starts a new one. A job that raises is logged and counted in :attr:`errors`;
    the jobs after it still run. :meth:`wait` returns once every job submitted before the
    call has run, and every job those jobs submitted in turn (folding buffered rows closes
    windows, whose analyses are then queued: a wait covers them), which makes the results
    of a run the same whatever the machine's load, only later. After :meth:`close`, or
    when no thread can be started (interpreter shutdown), jobs run inline on the caller's
    thread.

    Examples
    --------
    >>> done = []
    >>> background = Background("example")
    >>> for i in range(3):
    ...     background.submit(lambda i=i: done.append(i))
    >>> background.wait()
    True
    >>> done
    [0, 1, 2]
    >>> background.close()
    """

    def __init__(self, name: str, *, idle_seconds: float = IDLE_SECONDS) -> None:
        self.name = name
        self.idle_seconds = idle_seconds
        self.errors = 0
        """Jobs that raised."""
        self._jobs: collections.deque[tuple[Job, Origin]] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._roots = 0  # jobs submitted by callers (not by jobs): the next origin
        self._outstanding: collections.Counter[Origin] = collections.Counter()
        self._running: Origin = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet."""
        with self._cond:
            return sum(self._outstanding.values())

    def submit(self, job: Job) -> None:
        """Queue ``job``; it runs after every job submitted before it."""
        with self._cond:
            if not self._closed:
                worker = self.is_worker()
                origin = self._running if worker else self._roots
                self._jobs.append((job, origin))
                if self._thread is None and not self._start():
                    self._jobs.pop()
                else:
                    self._roots += 0 if worker else 1
                    self._outstanding[origin] += 1
                    self._cond.notify_all()
                    return
        self._run(job)  # closed, or no thread can be started: run it here

    def is_worker(self) -> bool:
        """Whether the calling thread is this background's thread (running a job)."""
        return threading.current_thread() is self._thread

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job submitted so far, and every job those submitted, has run;
        ``False`` on timeout. Called from a job (e.g. by a listener), it returns at once
        rather than wait for itself."""
        if self.is_worker():
            return True
        with self._cond:
            target = self._roots
            return self._cond.wait_for(
                lambda: min(self._outstanding, default=target) >= target, timeout
            )

    def close(self, timeout: float | None = None) -> None:
        """Run what is queued, then end the thread; later jobs run inline."""
        self.wait(timeout)
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _start(self) -> bool:
        thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        try:
            thread.start()
        except RuntimeError:  # interpreter shutdown: no new threads
            return False
        self._thread = thread
        return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._jobs and not self._closed:
                    self._cond.wait_for(lambda: self._jobs or self._closed, self.idle_seconds)
                if not self._jobs:  # idle or closed: end (a new job starts a new thread)
                    self._thread = None
                    return
                job, origin = self._jobs.popleft()
                self._running = origin
            self._run(job)
            with self._cond:
                self._outstanding[origin] -= 1
                if not self._outstanding[origin]:
                    del self._outstanding[origin]
                self._cond.notify_all()

    def _run(self, job: Job) -> None:
        try:
            job()
        except Exception:
            self.errors += 1
            log.exception("watchkeeper: background job %r failed", job)
