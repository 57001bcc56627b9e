"""Applying the retention rules (保存期限), and changing them. Keyword-only; changes and runs are audited.

retention_run() applies every rule as of a day: what each class of record keeps, and for how long,
is in models.DEFAULTS. Each class is applied in its own transaction (files are removed after the rows
that point at them are updated), so a run interrupted at any point can simply be run again. A dry run
counts what would go and changes nothing.
"""

import datetime as dt
import logging
import shutil
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, TextField, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaobao.accounts import access
from xiaobao.audit.services import audit_record
from xiaobao.retention.models import DEFAULTS, RecordClass, RetentionRule, RetentionRun, RunTrigger

log = logging.getLogger(__name__)
MAX_DAYS = 36500  # a hundred years


def rules_ensure() -> dict[str, RetentionRule]:
    """Every record class has its rule (the defaults, for a class added since the last run)."""
    rules = {rule.record_class: rule for rule in RetentionRule.objects.all()}
    for record_class, (days, _action) in DEFAULTS.items():
        if record_class not in rules:
            rules[record_class], _created = RetentionRule.objects.get_or_create(
                record_class=record_class, defaults={"keep_days": days}
            )
    return rules


@transaction.atomic
def rule_update(*, actor, rule: RetentionRule, keep_days: int | None, request=None) -> RetentionRule:
    """Change how many days a class keeps its records (administrators only; the audit log stays for ever)."""
    access.require_admin(actor)
    if rule.fixed:
        raise ValidationError(_("审计日志永久保存, 不能设置保存期限"))
    if keep_days is None or not 0 <= keep_days <= MAX_DAYS:
        raise ValidationError({"keep_days": _("保存天数须为 0 到 %(max)s 之间的整数") % {"max": MAX_DAYS}})
    before = rule.keep_days
    rule.keep_days = keep_days
    rule.updated_by = actor
    rule.updated_at = timezone.now()
    rule.save()
    audit_record(
        actor=actor,
        action="update",
        obj=rule,
        details={"record_class": rule.record_class, "keep_days": [before, keep_days]},
        request=request,
    )
    return rule


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# ------------------------------------------------------------------ the classes


def _case_personal(cutoff: dt.datetime, *, dry_run: bool, actor) -> int:
    """Customers whose every case ended (办结, 撤诉, 合并) before the cut-off: crypto-shred them."""
    from xiaobao.cases.models import Case, CaseStatus
    from xiaobao.customers.models import Customer
    from xiaobao.privacy.services import subject_erase

    ended = [CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.MERGED]
    cases = Case.objects.filter(customer=OuterRef("pk"))
    due = (
        Customer.objects.filter(subject__erased_at=None)
        .filter(Exists(cases))
        .exclude(Exists(cases.exclude(status__in=ended)))
        .exclude(
            Exists(cases.annotate(ended_at=Coalesce("closed_at", "updated_at")).filter(ended_at__gte=cutoff))
        )
        .select_related("subject")
    )
    if dry_run:
        return due.count()
    count = 0
    for customer in due.iterator(chunk_size=500):
        with transaction.atomic():
            subject_erase(
                actor=actor,
                subject=customer.subject,
                holders=[customer],
                reason=_("保存期限届满 (工单办结已满 %(days)s 天)")
                % {"days": (timezone.now() - cutoff).days},
            )
        count += 1
    return count


def _remove_files(due, field: str, **changes) -> int:
    """Blank the file column of the due rows (with any other changes) in one update, then delete their
    files: a run stopped in between leaves files nothing points at, never rows pointing at nothing."""
    rows = list(due.values_list("pk", field))
    with transaction.atomic():
        due.model.objects.filter(pk__in=[pk for pk, _path in rows]).update(**{field: ""}, **changes)
    for _pk, path in rows:
        Path(path).unlink(missing_ok=True)
    return len(rows)


def _import_errors(cutoff: dt.datetime, *, dry_run: bool, actor) -> int:
    from xiaobao.imports.models import ImportBatch

    due = ImportBatch.objects.filter(finished_at__lt=cutoff).exclude(errors_file="")
    if dry_run:
        return due.count()
    note = Value(" (错误文件已按保存期限删除)")
    return _remove_files(due, "errors_file", message=Concat("message", note, output_field=TextField()))


def _report_files(cutoff: dt.datetime, *, dry_run: bool, actor) -> int:
    from xiaobao.reports.models import ReportJob

    due = ReportJob.objects.filter(finished_at__lt=cutoff).exclude(file_path="")
    if dry_run:
        return due.count()
    return _remove_files(
        due, "file_path", message=_("报告文件已按保存期限删除, 可按所引用的指标快照重新生成")
    )


def _notifications(cutoff: dt.datetime, *, dry_run: bool, actor) -> int:
    from xiaobao.cases.models import Notification

    due = Notification.objects.filter(created_at__lt=cutoff)
    return due.count() if dry_run else due.delete()[0]


def _store_versions(cutoff: dt.datetime, *, dry_run: bool, actor) -> int:
    from xiaobao.book import store
    from xiaobao.book.schema import SCHEMAS
    from xiaobao.kpi.selectors import snapshot_store_versions

    cited = snapshot_store_versions()
    count = 0
    for table in SCHEMAS:
        current = store.current_version(table)
        for version in store.versions(table):
            folder = store.table_dir(table) / version
            if version == current or version in cited.get(table, set()):
                continue
            if dt.datetime.fromtimestamp(folder.stat().st_mtime, dt.UTC) >= cutoff:
                continue
            if not dry_run:
                shutil.rmtree(folder)
            count += 1
    return count


def _sessions(cutoff: dt.datetime, *, dry_run: bool, actor) -> int:
    from django.contrib.sessions.models import Session

    due = Session.objects.filter(expire_date__lt=cutoff)
    return due.count() if dry_run else due.delete()[0]


APPLY = {
    RecordClass.CASE_PERSONAL: _case_personal,
    RecordClass.IMPORT_ERRORS: _import_errors,
    RecordClass.REPORT_FILES: _report_files,
    RecordClass.NOTIFICATIONS: _notifications,
    RecordClass.STORE_VERSIONS: _store_versions,
    RecordClass.SESSIONS: _sessions,
}


def retention_run(
    *, trigger: str, actor=None, as_of: dt.date | None = None, dry_run: bool = False, request=None
) -> RetentionRun:
    """Apply every rule as of `as_of` (today by default) and record the run with its counts.

    The worker's run claims the day first (one row per day, unique): of two workers only one applies
    the rules; the other gets IntegrityError and returns None from retention_daily().
    """
    today = as_of or timezone.localdate()
    with transaction.atomic():
        run = RetentionRun.objects.create(
            day=today,
            trigger=trigger,
            dry_run=dry_run,
            actor_name=actor.get_username() if actor is not None else "系统",
        )
    started = time.perf_counter()
    results: dict[str, dict] = {}
    for record_class, rule in rules_ensure().items():
        apply = APPLY.get(RecordClass(record_class))
        if apply is None or rule.keep_days is None:
            results[record_class] = {"keep_days": rule.keep_days, "count": 0, "kept_for_ever": True}
            continue
        cutoff = _start_of(today - dt.timedelta(days=rule.keep_days))
        if record_class == RecordClass.SESSIONS:
            cutoff = timezone.now()  # a session is due the moment it expires
        try:
            count = apply(cutoff, dry_run=dry_run, actor=actor)
        except Exception as exc:  # one class failing must not stop the others; recorded and logged
            log.exception("retention %s failed", record_class)
            results[record_class] = {"keep_days": rule.keep_days, "error": f"{exc.__class__.__name__}: {exc}"}
            continue
        results[record_class] = {"keep_days": rule.keep_days, "cutoff": cutoff.isoformat(), "count": count}
    run.results = results
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save(update_fields=["results", "finished_at"])
        audit_record(
            actor=actor,
            actor_name=run.actor_name,
            action="retention",
            obj=run,
            details={
                "dry_run": dry_run,
                "day": today.isoformat(),
                "seconds": round(time.perf_counter() - started, 2),
                **{k: v.get("count", 0) for k, v in results.items()},
            },
            request=request,
        )
    return run


def retention_daily(*, now: dt.datetime | None = None) -> RetentionRun | None:
    """The worker's once-a-day run; None when another worker (or an earlier loop) has claimed today."""
    today = timezone.localdate(now or timezone.now())
    try:
        return retention_run(trigger=RunTrigger.WORKER, as_of=today)
    except IntegrityError:
        return None
