"""Permission-matrix rows for 业务数据 (see xiaobao/accounts/tests/test_permission_matrix.py)."""

from xiaobao.accounts.tests.test_permission_matrix import ALL, IMPORT, page, scoped_object

MATRIX = {
    "book-index": (lambda o: {}, "get", page(ALL)),
    "book-table": (lambda o: {"table": "policies"}, "get", page(ALL)),
    "book-import": (lambda o: {}, "get", page(IMPORT)),
    "book-import-job": (lambda o: {"pk": o["book_job"].pk}, "get", scoped_object(IMPORT)),
    "book-import-errors": (lambda o: {"pk": o["book_job"].pk}, "get", scoped_object(IMPORT)),
}


def objects(base):
    """A finished import job of alice's (unit C1) whose batch has an error file."""
    from pathlib import Path

    from django.conf import settings

    from xiaobao.book.models import ImportJob, JobStatus
    from xiaobao.imports.models import BatchStatus, ImportBatch

    alice = base["alice"]
    errors = Path(settings.DATA_DIR) / "imports" / "errors" / "matrix-errors.xlsx"
    errors.parent.mkdir(parents=True, exist_ok=True)
    errors.write_bytes(b"PK\x03\x04 not really a workbook")
    batch = ImportBatch.objects.create(
        kind="policies",
        file_name="p.csv",
        file_sha256="0" * 64,
        actor=alice,
        unit=alice.unit,
        status=BatchStatus.DONE,
        rejected=1,
        errors_file=str(errors),
    )
    job = ImportJob.objects.create(
        kind="policies",
        file_name="p.csv",
        actor=alice,
        unit=alice.unit,
        status=JobStatus.FINISHED,
        batch=batch,
    )
    return {"book_job": job}
