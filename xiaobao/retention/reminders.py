"""Run by `xiaobao worker` once per loop (found with app_modules("reminders")): apply the retention
rules once a day (services.retention_daily)."""

from xiaobao.retention.services import retention_daily


def run() -> dict[str, int]:
    done = retention_daily()
    if done is None:
        return {}
    return {"retention_removed": sum(r.get("count", 0) for r in done.results.values())}
