"""Work off the caller's thread: a FIFO of jobs run in order by one background thread.

The Monitor hands every window's analysis (and the saving of kept predictions) to a
:class:`Background`, so ``Monitor.log`` never runs an analysis inline: the caller's worst
call stays in microseconds whatever an analysis costs.
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
    call has run, which makes the results of a run the same whatever the machine's load,
    only later. After :meth:`close`, or when no thread can be started (interpreter
    shutdown), jobs run inline on the caller's thread.

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
        self._jobs: collections.deque[Job] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._submitted = 0
        self._done = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet."""
        with self._cond:
            return self._submitted - self._done

    def submit(self, job: Job) -> None:
        """Queue ``job``; it runs after every job submitted before it."""
        with self._cond:
            if not self._closed:
                self._jobs.append(job)
                self._submitted += 1
                if self._thread is None and not self._start():
                    self._jobs.pop()
                    self._submitted -= 1
                else:
                    self._cond.notify_all()
                    return
        self._run(job)  # closed, or no thread can be started: run it here

    def is_worker(self) -> bool:
        """Whether the calling thread is this background's thread (running a job)."""
        return threading.current_thread() is self._thread

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job submitted so far has run; ``False`` on timeout. Called
        from a job (e.g. by a listener), it returns at once rather than wait for itself."""
        if self.is_worker():
            return True
        with self._cond:
            target = self._submitted
            return self._cond.wait_for(lambda: self._done >= target, timeout)

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
                job = self._jobs.popleft()
            self._run(job)
            with self._cond:
                self._done += 1
                self._cond.notify_all()

    def _run(self, job: Job) -> None:
        try:
            job()
        except Exception:
            self.errors += 1
            log.exception("watchkeeper: background job %r failed", job)
