"""Background jobs of the web process (an import, a report): one thread each, so the request that
started the job returns at once and the job page polls its progress.

An in-memory SQLite database (Django's test database) is one shared cache whose table locks fail at
once (SQLITE_LOCKED) instead of waiting as a file database in WAL mode with busy_timeout does, as
xiaobao runs: the job's thread and the next request would refuse each other. There the job runs to
its end before start() returns — the same code, only not concurrently.
"""

import os
import socket
import threading
from collections.abc import Callable

from django.db import connection


def start(target: Callable[[int], None], job_id: int, name: str) -> threading.Thread:
    thread = threading.Thread(target=target, args=(job_id,), name=name, daemon=True)
    thread.start()
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        thread.join()
    return thread


def owner_tag() -> str:
    """Who runs a job: "host:pid" of this process, recorded on the job's row when it starts."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_gone(tag: str) -> bool:
    """Whether the process that recorded `tag` has died (killed, crashed, restarted).

    Only a process on this host can be checked; a tag from another host, or none, is never "gone"
    here (the caller's age limit covers those).
    """
    host, _, pid = (tag or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
