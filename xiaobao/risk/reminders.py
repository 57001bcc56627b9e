"""The daily risk scan, run by `xiaobao worker` (which calls `run()` once per loop; it finds this
module with app_modules("reminders")).

At most once per local day, from XIAOBAO_RISK_SCAN_HOUR o'clock (a Django setting, default 2):
1. Claim the day: one conditional UPDATE of the ScanState row "daily" (last_date before today →
   today). Of two workers looping at the same moment exactly one changes the row; the other sees 0
   rows and does nothing. That UPDATE is all a loop costs once the day's scan is done.
2. Run the ring scan and the surrender monitor (services.scan_run, as of yesterday) and record the
   watchlist hits of existing cases (a token listed since, a customer changed by an import update).
3. Store when it finished and its counts on the row (and log them; the worker's summary line stays
   the reminders' counts); a failure is logged and stored there too, and the scan waits for the
   next day (a scan that fails every loop would only repeat the failure).
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from xiaobao.risk.models import HitSource, ScanState

log = logging.getLogger(__name__)

NAME = "daily"


def scan_hour() -> int:
    return int(getattr(settings, "XIAOBAO_RISK_SCAN_HOUR", 2))


def claim(today: dt.date) -> bool:
    """True for the one caller that moves the day's scan from 'not run' to 'running today'."""
    due = Q(last_date__isnull=True) | Q(last_date__lt=today)
    now = timezone.now()
    if ScanState.objects.filter(due, name=NAME).update(last_date=today, started_at=now, finished_at=None):
        return True
    if ScanState.objects.filter(name=NAME).exists():
        return False  # already scanned today (by this or another worker)
    try:
        ScanState.objects.create(name=NAME, last_date=today, started_at=now)
    except IntegrityError:
        return False  # another worker created it first, claiming the day
    return True


def scan(as_of: dt.date) -> dict[str, int]:
    from xiaobao.risk import intake, services

    result = services.scan_run(as_of=as_of)
    flagged = intake.flag_existing_cases(source=HitSource.SCAN)
    flagged_rows = intake.flag_existing_rows()
    return {
        "risk_clusters": len(result["clusters"]),
        "risk_alerts_created": result["alerts_created"],
        "risk_alerts_updated": result["alerts_updated"],
        "risk_case_hits": flagged,
        "risk_row_hits": flagged_rows,
    }


def run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """One round for the worker: the day's scan if it is due and nobody ran it yet. Returns {}."""
    local = timezone.localtime(now or timezone.now())
    if local.hour < scan_hour():
        return {}
    today = local.date()
    if not claim(today):
        return {}
    try:
        counts = scan(today - dt.timedelta(days=1))
    except Exception as exc:
        log.exception("每日风险扫描失败")
        ScanState.objects.filter(name=NAME).update(
            finished_at=timezone.now(), result={"error": f"{exc.__class__.__name__}: {exc}"}
        )
        return {}
    ScanState.objects.filter(name=NAME).update(finished_at=timezone.now(), result=counts)
    log.info("每日风险扫描完成: %s", counts)
    # Nothing for the worker's summary line, which counts reminders (queued, sent, failed): the
    # scan's figures are on the ScanState row and in the log, its alerts in the risk queue.
    return {}
