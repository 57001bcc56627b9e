"""Running an import: the one entry point the command line and the web upload share."""

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, transaction
from django.utils import timezone

from xiaobao.audit.models import AuditAction
from xiaobao.audit.services import audit_record
from xiaobao.imports.engine import ImportEngine, RunResult
from xiaobao.imports.errorfile import ErrorFileWriter
from xiaobao.imports.mapping import profile_default, profile_load
from xiaobao.imports.models import BatchStatus, ImportBatch, ImportChange
from xiaobao.imports.readers import file_sha256, open_table
from xiaobao.imports.registry import importer_for
from xiaobao.imports.spec import Change, ImportRefused
from xiaobao.lib import jobs


class _RollBack(Exception):
    """Unwinds the import's transaction for --dry-run and for --strict with bad rows."""


def errors_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports" / "errors"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def _change_recorder(batch: ImportBatch) -> Callable[[list[Change]], None]:
    def record(changes: list[Change]) -> None:
        ImportChange.objects.bulk_create(
            [
                ImportChange(
                    batch=batch,
                    key="|".join(str(part) for part in change.record.key)[:255],
                    row=change.record.first_row,
                    changes={
                        name: [_jsonable(old), _jsonable(new)] for name, (old, new) in change.changes.items()
                    },
                )
                for change in changes
            ],
            batch_size=1000,
        )

    return record


def _message(batch: ImportBatch) -> str:
    counts = (
        f"读取 {batch.rows_read} 行: 新增 {batch.created}, 更新 {batch.updated}, "
        f"未变 {batch.unchanged}, 拒绝 {batch.rejected}"
    )
    where = f"; 错误明细见 {batch.errors_file}" if batch.errors_file else ""
    if batch.status == BatchStatus.DRY_RUN:
        return f"试运行, 未写入任何数据. {counts}{where}"
    if batch.status == BatchStatus.REJECTED:
        return f"严格模式: {batch.rejected} 行有错误, 未写入任何数据. {counts}{where}"
    # Sentences an importer's hooks added (e.g. rows that touch the 疑似退保黑产信息库).
    notes = "".join(f"; {note}" for note in (batch.details or {}).get("notes") or [] if note)
    return f"导入完成. {counts}{where}{notes}"


def _details(result: RunResult, *, encoding: str, sheet: str, seconds: float) -> dict[str, Any]:
    details: dict[str, Any] = {
        "header_row": result.header_row,
        "unknown_columns": result.unknown_columns,
        "warnings": result.warnings,
        "errors": result.errors,
        "error_count": result.error_count,
        "conflicts": result.conflicts,
        "records": result.records,
        "seconds": round(seconds, 3),
    }
    if encoding:
        details["encoding"] = encoding
    if sheet:
        details["sheet"] = sheet
    return details


INTERRUPTED_AFTER = dt.timedelta(hours=24)  # a batch 'running' this long has lost its process anyway


def import_batches_recover(*, now: dt.datetime | None = None) -> int:
    """Close the batches a dead process left 'running' (kill -9, a crash, a restart); returns how many.

    The rows of a batch are written in one transaction, so such a batch wrote nothing: it is marked
    failed with a message saying so, and the same file can simply be imported again. A batch is dead
    when its recorded process is gone from this host, or when it has run longer than INTERRUPTED_AFTER.
    """
    now = now or timezone.now()
    recovered = 0
    for batch in ImportBatch.objects.filter(status=BatchStatus.RUNNING).only(
        "pk", "details", "started_at", "unit"
    ):
        owner = (batch.details or {}).get("owner", "")
        if not jobs.owner_gone(owner) and batch.started_at > now - INTERRUPTED_AFTER:
            continue
        message = "导入进程在完成前中断, 本批次未写入任何数据; 可重新导入同一文件"
        with transaction.atomic():
            if not ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.RUNNING).update(
                status=BatchStatus.FAILED, message=message, finished_at=now
            ):
                continue  # another process closed it meanwhile
            audit_record(
                actor=None,
                actor_name="系统",
                action=AuditAction.IMPORT,
                obj=batch,
                unit=batch.unit,
                details={"status": BatchStatus.FAILED, "interrupted": True, "owner": owner},
            )
        recovered += 1
    return recovered


def import_run(
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
) -> ImportBatch:
    """Import one file of `kind` and return its batch, whatever happened (see batch.status).

    1. Record the batch as running, with who, the file's name and its SHA-256.
    2. Load the profile and open the file; a file that cannot be read at all fails the batch.
    3. Stream it through the format's importer inside one transaction; rejected rows go to
       `<data dir>/imports/errors/<batch>-errors.xlsx`.
    4. Roll back for --strict when any row was rejected, and for --dry-run (which does not write
       in the first place: the rollback is a second lock on the same door).
    5. Finish the batch and append one audit entry, in one transaction.

    An unknown kind raises ImportRefused before anything is recorded: that is a usage error.
    """
    importer_class = importer_for(kind)
    import_batches_recover()
    path = Path(path)
    if actor is not None and not actor_name:
        actor_name = actor.get_username()
    batch = ImportBatch.objects.create(
        kind=kind,
        file_name=(file_name or path.name)[:255],
        file_sha256="",
        profile=profile[:64],
        actor=actor,
        actor_name=actor_name[:150],
        unit=getattr(actor, "unit", None),
        dry_run=dry_run,
        strict=strict,
        details={"owner": jobs.owner_tag()},
    )
    started = time.monotonic()
    errors = ErrorFileWriter(errors_dir() / f"{batch.pk}-errors.xlsx", header=[])
    unexpected: BaseException | None = None
    try:
        batch.file_sha256 = file_sha256(path)
        spec = importer_class.spec
        chosen = profile_load(name=profile, spec=spec) if profile else profile_default(kind)
        importer = importer_class(key=chosen.key, options=chosen.options)
        importer.batch = batch
        with open_table(path, sheet=sheet or chosen.sheet) as table:
            engine = ImportEngine(
                importer=importer,
                profile=chosen,
                errors=errors,
                on_changes=_change_recorder(batch),
                write=not dry_run,
            )
            try:
                with transaction.atomic():
                    result = engine.run(table)
                    if dry_run or (strict and result.rows["rejected"]):
                        raise _RollBack
            except _RollBack:
                pass
        batch.rows_read = result.rows_read
        batch.created = result.rows["created"]
        batch.updated = result.rows["updated"]
        batch.unchanged = result.rows["unchanged"]
        batch.rejected = result.rows["rejected"]
        batch.errors_file = errors.close()
        batch.details = _details(
            result, encoding=table.encoding, sheet=table.sheet, seconds=time.monotonic() - started
        )
        for name, value in importer.report().items():
            batch.details.setdefault(name, value)  # what the importer did besides its records
        if dry_run:
            batch.status = BatchStatus.DRY_RUN
        elif strict and batch.rejected:
            batch.status = BatchStatus.REJECTED
        else:
            batch.status = BatchStatus.DONE
        batch.message = _message(batch)
    except ImportRefused as exc:
        errors.discard()
        batch.status = BatchStatus.FAILED
        batch.message = str(exc)
    except DatabaseError as exc:
        errors.discard()
        batch.status = BatchStatus.FAILED
        batch.message = f"写入数据库失败, 已全部回滚: {exc}"
    except Exception as exc:
        # A bug, not a bad file: recorded like any failure, then raised so it is seen and fixed.
        errors.discard()
        batch.status = BatchStatus.FAILED
        batch.message = f"导入程序出错, 已全部回滚: {exc.__class__.__name__}: {exc}"
        unexpected = exc
    batch.finished_at = timezone.now()
    with transaction.atomic():
        batch.save()
        audit_record(
            actor=actor,
            actor_name=actor_name,
            action=AuditAction.IMPORT,
            obj=batch,
            unit=batch.unit,
            details={
                "kind": kind,
                "file": batch.file_name,
                "sha256": batch.file_sha256,
                "profile": batch.profile,
                "status": batch.status,
                "dry_run": dry_run,
                "strict": strict,
                "rows_read": batch.rows_read,
                "created": batch.created,
                "updated": batch.updated,
                "unchanged": batch.unchanged,
                "rejected": batch.rejected,
                "errors_file": batch.errors_file,
            },
        )
    if unexpected is not None:
        raise unexpected
    return batch
