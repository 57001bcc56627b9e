"""A process-wide setting that several users may need at once (two imports in two threads of one
server): the first to enter applies it, the last to leave puts back what was there before."""

import threading
from collections.abc import Callable
from typing import Any


class ProcessWide:
    def __init__(self, apply: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        """apply() sets the setting and returns what restore() needs to put the old one back."""
        self._apply, self._restore = apply, restore
        self._users = 0
        self._saved: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = self._apply()
            self._users += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._restore(self._saved)
