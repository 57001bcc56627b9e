"""Files that appear whole or not at all.

A report or an export is written to a hidden scratch file beside its target, flushed to disk and
then moved over the target with os.replace, which is atomic on POSIX. A crash at any moment (kill -9
included) leaves either the previous file or the new one, never half of one; the scratch files a
killed writer leaves behind are hidden and removed by the next write to the same target.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCRATCH_PREFIX = ".xiaobao-part-"


def _scratch_of(target: Path) -> str:
    return f"{SCRATCH_PREFIX}{target.stem}-"


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a scratch path to write; on success it replaces `target`, on an exception it is removed.

    The scratch name keeps the target's suffix, so writers that look at the extension see the same.
    """
    target = Path(target)
    folder = target.parent
    for stale in folder.glob(f"{_scratch_of(target)}*{target.suffix}"):
        stale.unlink(missing_ok=True)
    scratch = folder / f"{_scratch_of(target)}{uuid.uuid4().hex[:12]}{target.suffix}"
    try:
        yield scratch
        with open(scratch, "rb") as written:
            os.fsync(written.fileno())
        os.replace(scratch, target)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - a folder that cannot be opened cannot be synced either
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
