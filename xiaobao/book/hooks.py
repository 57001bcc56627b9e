"""Hooks other apps hang on the book app, so that book never imports them.

on_rows_written: called once an import has committed a new version of a book table, with the
import batch and the table's name ("policies", "premiums", "surrenders", "claims"). The rows that
batch wrote are those of the table's current version whose `_batch` is the batch's id. A hook may
return a note {"key": str, "details": {...}, "message": str}: the details go to batch.details[key]
and the message is appended to the batch's message (e.g. "命中疑似退保黑产信息库 3 行").

A failing hook is logged and skipped: the import itself has already been committed.
"""

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

on_rows_written: list[Callable[[Any, str], dict | None]] = []


def rows_written(batch: Any, table: str) -> list[dict]:
    """Run the hooks for a batch that wrote `table`; their notes, also recorded in batch.details."""
    notes = []
    for hook in on_rows_written:
        try:
            note = hook(batch, table)
        except Exception:
            log.exception("book hook %r failed for batch %s", hook, getattr(batch, "pk", None))
            continue
        if note:
            notes.append(note)
            if batch is not None:
                batch.details = batch.details or {}
                batch.details[note["key"]] = {**note.get("details", {}), "message": note.get("message", "")}
                if note.get("message"):
                    batch.details.setdefault("notes", []).append(note["message"])
    return notes


def message_with_notes(message: str, notes: list[str]) -> str:
    """The batch message followed by the hooks' sentences (each once)."""
    extra = "; ".join(n for n in notes if n and n not in message)
    return f"{message}; {extra}" if extra else message
