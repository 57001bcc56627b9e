"""Writes of the reports app: generating a report file, the background job around it, and saving an
edited narrative template. Keyword-only; template saves are audited."""

import datetime as dt
import logging
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.audit.services import audit_record
from xiaobao.lib import jobs
from xiaobao.lib.atomicfile import atomic_path
from xiaobao.reports import yearend
from xiaobao.reports.figures import placeholder_names, year_figures
from xiaobao.reports.models import JobStatus, NarrativeTemplate, ReportJob, ReportKind

log = logging.getLogger(__name__)


def stored_texts() -> dict[str, tuple[str, str]]:
    return {t.key: (t.heading, t.body) for t in NarrativeTemplate.objects.all()}


def yearend_write(*, unit, year: int, target, actor=None, snapshot_id: int | None = None) -> dict:
    """Write the year-end summary of `unit` for `year` as .docx to `target` (a path or a file).

    1. Compute the figures (freezing a KPI snapshot of the year unless one is given).
    2. Fill the stored or default narrative templates.
    3. Write the Word document; return the snapshot id and the filled document.
    """
    figs = year_figures(unit=unit, year=year, snapshot_id=snapshot_id, actor=actor)
    document = yearend.build_document(figs, stored_texts())
    yearend.write_docx(document, target)
    return {"snapshot": figs.snapshot, "document": document, "figures": figs}


def pdf_from_docx(path: Path) -> Path | None:
    """The PDF of a .docx beside it, through LibreOffice when it is installed; None otherwise."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(path.parent),
                str(path),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    pdf = path.with_suffix(".pdf")
    return pdf if pdf.exists() else None


@transaction.atomic
def narrative_template_save(*, actor, key: str, heading: str, body: str) -> NarrativeTemplate:
    """Store an edited paragraph template.

    1. The key must be a paragraph of the year-end report.
    2. Every {placeholder} in heading and body must be a known figure; otherwise the save is refused
       with the list of valid placeholders.
    3. Save and audit.
    """
    if yearend.default_block(key) is None:
        raise ValidationError({"key": _("没有这个段落: %(key)s") % {"key": key}})
    if not body.strip():
        raise ValidationError({"body": _("正文不能为空")})
    valid = ", ".join("{" + n + "}" for n in placeholder_names())
    for field, text in (("heading", heading), ("body", body)):
        try:
            unknown = yearend.unknown_placeholders(text)
        except ValueError as exc:
            raise ValidationError(
                {
                    field: _("占位符写法有误: %(bad)s。只能使用 {名称} 形式, 可用的占位符: %(valid)s")
                    % {"bad": str(exc), "valid": valid}
                }
            ) from None
        if unknown:
            raise ValidationError(
                {
                    field: _("未知的占位符: %(unknown)s。可用的占位符: %(valid)s")
                    % {"unknown": ", ".join("{" + n + "}" for n in unknown), "valid": valid}
                }
            )
    template, _created = NarrativeTemplate.objects.update_or_create(
        key=key, defaults={"heading": heading, "body": body, "updated_by": actor}
    )
    audit_record(actor=actor, action="report_template_save", obj=template, details={"key": key})
    return template


@transaction.atomic
def narrative_template_reset(*, actor, key: str) -> None:
    """Drop the stored text of a paragraph: the default applies again."""
    deleted, _rows = NarrativeTemplate.objects.filter(key=key).delete()
    if deleted:
        audit_record(actor=actor, action="report_template_reset", details={"key": key})


# ---- background jobs -------------------------------------------------------------------------

EXTENSIONS = {
    ReportKind.YEAREND: ("docx",),
    ReportKind.COMPLAINTS: ("xlsx",),
    ReportKind.COMMITTEE: ("docx", "xlsx"),
}

_running: dict[int, threading.Thread] = {}  # job → its thread, for tests and a clean shutdown


def reports_dir() -> Path:
    return Path(settings.DATA_DIR) / "reports"


def report_file_name(kind: str, period: str, unit, fmt: str) -> str:
    label = ReportKind(kind).label
    return f"{unit.name}-{period}-{label}.{fmt}"


def report_write(*, kind: str, period: str, unit, target: Path, fmt: str, actor=None, snapshot_id=None):
    """Write one report of any kind to `target`; returns the KPI snapshot it cites (or None)."""
    if isinstance(target, str | Path):
        # Whole or not at all: a report killed mid-write leaves no half file under its name.
        with atomic_path(target) as scratch:
            return _report_write(
                kind=kind,
                period=period,
                unit=unit,
                target=scratch,
                fmt=fmt,
                actor=actor,
                snapshot_id=snapshot_id,
            )
    return _report_write(
        kind=kind, period=period, unit=unit, target=target, fmt=fmt, actor=actor, snapshot_id=snapshot_id
    )


def _report_write(*, kind: str, period: str, unit, target, fmt: str, actor=None, snapshot_id=None):
    from xiaobao.reports import committee, complaints

    if kind == ReportKind.YEAREND:
        return yearend_write(
            unit=unit, year=int(period), target=target, actor=actor, snapshot_id=snapshot_id
        )["snapshot"]
    if kind == ReportKind.COMPLAINTS:
        return complaints.write_xlsx(
            unit=unit, quarter=period, target=target, actor=actor, snapshot_id=snapshot_id
        )
    if kind == ReportKind.COMMITTEE:
        return committee.write(unit=unit, month=period, target=target, fmt=fmt, actor=actor)
    raise ValueError(kind)


@transaction.atomic
def report_job_start(*, actor, kind: str, period: str, unit, fmt: str) -> ReportJob:
    """Queue a report and generate it in a background thread once committed.

    1. Check the format against the kind (the view has checked the period and the unit).
    2. Record the job as queued.
    3. After commit, run it (report_job_run) in a thread: the request returns at once.
    """
    if fmt not in EXTENSIONS[kind]:
        raise ValidationError({"fmt": _("该报告不支持 %(fmt)s 格式") % {"fmt": fmt}})
    report_jobs_recover()
    job = ReportJob.objects.create(
        kind=kind, period=period, fmt=fmt, unit=unit, actor=actor, owner=jobs.owner_tag()
    )
    audit_record(
        actor=actor, action="report_request", obj=job, unit=unit, details={"kind": kind, "period": period}
    )
    transaction.on_commit(lambda: _start(job.pk))
    return job


INTERRUPTED_AFTER = dt.timedelta(hours=6)  # no report takes this long; its process is gone


def report_jobs_recover(*, now: dt.datetime | None = None) -> int:
    """Fail the jobs a dead process left queued or running (the web server killed or restarted).

    A job's file is written whole or not at all (atomic_path), so such a job left no file; it is
    marked failed with a message saying so and can be asked for again. Returns how many.
    """
    now = now or timezone.now()
    open_jobs = ReportJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    dead = [
        job.pk
        for job in open_jobs.only("pk", "owner", "created_at")
        if jobs.owner_gone(job.owner) or job.created_at < now - INTERRUPTED_AFTER
    ]
    if not dead:
        return 0
    return open_jobs.filter(pk__in=dead).update(
        status=JobStatus.FAILED,
        step="",
        message="生成进程在完成前中断, 未留下文件; 请重新生成",
        finished_at=now,
    )


def _start(job_id: int) -> None:
    _running[job_id] = jobs.start(report_job_run, job_id, name=f"report-{job_id}")


def report_job_wait(job_id: int, timeout: float | None = None) -> None:
    thread = _running.get(job_id)
    if thread is not None:
        thread.join(timeout)


def report_job_run(job_id: int) -> None:
    """The background run of one job.

    1. Claim it (queued → running) with a conditional update, so it runs once.
    2. Write the file under <data dir>/reports/ with a random name (the display name is kept on the job).
    3. Record done with the file and the snapshot, or failed with the error; close this thread's connection.
    """
    try:
        if not ReportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, step=_("正在计算指标并生成文件"), owner=jobs.owner_tag()
        ):
            return
        job = ReportJob.objects.select_related("unit", "actor").get(pk=job_id)
        folder = reports_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.{job.fmt}"
        started = time.perf_counter()
        try:
            snapshot = report_write(
                kind=job.kind, period=job.period, unit=job.unit, target=path, fmt=job.fmt, actor=job.actor
            )
        except Exception as exc:
            log.exception("report job %s failed", job_id)
            path.unlink(missing_ok=True)
            ReportJob.objects.filter(pk=job_id).update(
                status=JobStatus.FAILED,
                step="",
                message=f"{exc.__class__.__name__}: {exc}"[:1000],
                finished_at=timezone.now(),
            )
            return
        ReportJob.objects.filter(pk=job_id).update(
            status=JobStatus.DONE,
            step="",
            file_path=str(path),
            file_name=report_file_name(job.kind, job.period, job.unit, job.fmt),
            snapshot=snapshot,
            seconds=round(time.perf_counter() - started, 2),
            finished_at=timezone.now(),
        )
    finally:
        _running.pop(job_id, None)
        close_old_connections()
        connection.close()
