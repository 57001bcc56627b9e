"""Run by `xiaobao worker` once per loop (found with app_modules("reminders")): close the import
batches a killed or crashed process left 'running' (see imports.services.import_batches_recover)."""

from xiaobao.imports.services import import_batches_recover


def run() -> dict[str, int]:
    recovered = import_batches_recover()
    return {"interrupted_imports": recovered} if recovered else {}
