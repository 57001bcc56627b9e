"""Writes of the book app: importing a core-system extract, from the command line or the import page."""

import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from xiaobao.book import hooks
from xiaobao.book.bulk import Progress, bulk_import
from xiaobao.book.models import ImportJob, JobStatus
from xiaobao.imports.models import BatchStatus, ImportBatch
from xiaobao.imports.services import import_run
from xiaobao.lib import jobs

log = logging.getLogger(__name__)
PROGRESS_EVERY = 1.0  # seconds between two progress writes of one job


def book_import(
    *,
    kind: str,
    path: Path | str,
    actor: AbstractBaseUser | None = None,
    actor_name: str = "",
    profile: str = "",
    dry_run: bool = False,
    strict: bool = False,
    sheet: str | None = None,
    file_name: str = "",
    progress: Progress | None = None,
) -> ImportBatch:
    """Import one file of a book format: the vectorised pass for a plain CSV file, the framework's
    import_run for everything else (and for a CSV the pass hands back). Same checks, batch, summary."""
    options: dict[str, Any] = {
        "kind": kind,
        "path": path,
        "actor": actor,
        "actor_name": actor_name,
        "profile": profile,
        "dry_run": dry_run,
        "strict": strict,
        "sheet": sheet,
        "file_name": file_name,
    }
    batch = bulk_import(**options, progress=progress)
    if batch is None:
        batch = import_run(**options)
        notes = (batch.details or {}).get("notes") or []
        if notes and batch.status == BatchStatus.DONE:
            # The framework wrote the message after the importer's hooks ran: add their sentences.
            batch.message = hooks.message_with_notes(batch.message, notes)
            batch.save(update_fields=["message"])
    return batch


# ---------------------------------------------------------------- the import page's jobs


def uploads_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports" / "uploads"


_running: dict[int, threading.Thread] = {}  # job → its thread, for tests and a clean shutdown


@transaction.atomic
def import_job_start(
    *, actor: AbstractBaseUser, upload: Any, kind: str, fmt: str, dry_run: bool, strict: bool
) -> ImportJob:
    """Queue an uploaded file for import and start it in a background thread once committed.

    1. Save the upload under <data dir>/imports/uploads/ with a random name (its own name is kept
       on the job and the batch, never used as a path).
    2. Record the job as queued, in the actor's unit.
    3. After commit, run it (import_job_run) in a thread: the request returns at once.
    """
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.{fmt}"
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    job = ImportJob.objects.create(
        kind=kind,
        file_name=upload.name[:255],
        upload_path=str(path),
        dry_run=dry_run,
        strict=strict,
        actor=actor,
        unit=getattr(actor, "unit", None),
    )
    transaction.on_commit(lambda: _start(job.pk))
    return job


def _start(job_id: int) -> None:
    _running[job_id] = jobs.start(import_job_run, job_id, name=f"book-import-{job_id}")


def import_job_wait(job_id: int, timeout: float | None = None) -> None:
    thread = _running.get(job_id)
    if thread is not None:
        thread.join(timeout)


def import_job_run(job_id: int) -> None:
    """The background run of one job.

    1. Claim the job (queued → running) with a conditional update, so it runs once.
    2. Import with book_import; every second or so, store the rows read on the job (and link its
       batch as soon as there is one), which is what the progress bar shows.
    3. Finish the job with its batch, delete the upload (it holds personal data in plain text) and
       close this thread's database connection.
    """
    try:
        if not ImportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, heartbeat_at=timezone.now()
        ):
            return
        job = ImportJob.objects.select_related("actor", "actor__unit").get(pk=job_id)
        last = [0.0]

        def progress(batch: ImportBatch, rows: int, total: int) -> None:
            now = timezone.now()
            if rows and now.timestamp() - last[0] < PROGRESS_EVERY:
                return
            last[0] = now.timestamp()
            ImportJob.objects.filter(pk=job_id).update(
                batch=batch, rows_read=rows, rows_total=total, heartbeat_at=now
            )

        try:
            batch = book_import(
                kind=job.kind,
                path=job.upload_path,
                actor=job.actor,
                dry_run=job.dry_run,
                strict=job.strict,
                file_name=job.file_name,
                progress=progress,
            )
        except Exception as exc:
            log.exception("book import job %s crashed", job_id)
            ImportJob.objects.filter(pk=job_id).update(
                status=JobStatus.CRASHED,
                message=f"导入程序出错: {exc.__class__.__name__}: {exc}",
                finished_at=timezone.now(),
            )
            return
        ImportJob.objects.filter(pk=job_id).update(
            status=JobStatus.FINISHED,
            batch=batch,
            rows_read=batch.rows_read,
            rows_total=max(batch.rows_read, job.rows_total),
            message=batch.message,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
    finally:
        job_path = ImportJob.objects.filter(pk=job_id).values_list("upload_path", flat=True).first()
        if job_path:
            Path(job_path).unlink(missing_ok=True)
            ImportJob.objects.filter(pk=job_id).update(upload_path="")
        _running.pop(job_id, None)
        close_old_connections()
        connection.close()
