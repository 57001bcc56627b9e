"""Run by `xiaobao worker` once per loop (found with app_modules("reminders")): apply the retention
rules once a day (services.retention_daily)."""

from xiaobao.retention.services import retention_daily


def run() -> dict[str, int]:
    done = retention_daily()
    removed = sum(r.get("count", 0) for r in done.results.values()) if done is not None else 0
    return {"retention_removed": removed} if removed else {}
