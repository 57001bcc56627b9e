"""Database writes on a second thread, on the caller's own connection and inside its transaction.

An import alternates between Python work (reading and checking the next rows) and database work
(writing the last chunk). The database's own share of a write runs in C without Python's lock (SQLite
steps a statement, PostgreSQL's server takes a COPY), so a writer thread lets the two overlap on two
cores. The rule that makes this safe: one connection, never used by two threads at once. The caller
calls wait() before it touches the database itself; submit() waits for the job before it.

    with BackgroundWriter() as writer:
        for chunk in chunks:
            prepare(chunk)              # no database here
            writer.wait()               # before any query of the caller's own
            check(chunk)
            writer.submit(write, chunk)

InlineWriter has the same interface and runs each job at once, in the caller's thread.

The writer gives up Python's lock for every statement it runs and must get it back afterwards,
while the caller holds it for its Python work. By default Python makes a waiting thread wait up to
5 ms (sys.getswitchinterval()) for the lock: a job of a few dozen statements then spends most of its
time queueing, and the threads take turns instead of overlapping. While a BackgroundWriter is open
the interval is 0.05 ms. Measured here (a thread running 600 INSERTs of 500 rows beside a thread
busy in Python): 5.6 s at 5 ms, 1.7 s at 0.05 ms (1.5 s of its own CPU), the busy thread 2 % slower.
Statements should still write many rows each: executemany queues for the lock once per row.
"""

import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from xiaobao.lib.processwide import ProcessWide

SWITCH_INTERVAL = 0.00005  # seconds: how long the writer may wait for Python's lock (default 0.005)


def _short_interval() -> float:
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL))
    return before


# Held while any writer of the process is open.
_short_switch = ProcessWide(_short_interval, sys.setswitchinterval)


class InlineWriter:
    def __enter__(self) -> "InlineWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, job: Callable[..., Any], *args: Any) -> None:
        job(*args)

    def wait(self) -> None:
        return None


class BackgroundWriter(InlineWriter):
    def __init__(self, alias: str = DEFAULT_DB_ALIAS) -> None:
        self.alias = alias
        self.connection = connections[alias]
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    def __enter__(self) -> "BackgroundWriter":
        _short_switch.__enter__()
        self.connection.inc_thread_sharing()
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="xiaobao-writer", initializer=self._adopt
        )
        return self

    def _adopt(self) -> None:
        # Django's connections are per thread: the writer takes the caller's, with its transaction.
        connections[self.alias] = self.connection

    def submit(self, job: Callable[..., Any], *args: Any) -> None:
        """Run job(*args) on the writer thread, after the job before it (whose error is raised here)."""
        self.wait()
        assert self._pool is not None, "BackgroundWriter used outside its with block"
        self._pending = self._pool.submit(job, *args)

    def wait(self) -> None:
        """Block until the job in flight has finished; its exception is raised here, in the caller."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        try:
            if exc_type is None:
                self.wait()
            elif self._pending is not None:
                # The caller failed: the job in flight still holds the connection, so it must end
                # before the caller rolls back. Its own outcome no longer matters.
                wait_all([self._pending])
                self._pending = None
        finally:
            assert self._pool is not None
            self._pool.shutdown(wait=True)
            self.connection.dec_thread_sharing()
            _short_switch.__exit__()
