"""Run by `xiaobao worker` once per loop (found with app_modules("reminders")): fail the report jobs a
killed or restarted web process left queued or running (see reports.services.report_jobs_recover)."""

from xiaobao.reports.services import report_jobs_recover


def run() -> dict[str, int]:
    recovered = report_jobs_recover()
    return {"interrupted_reports": recovered} if recovered else {}
