"""Permission-matrix rows of the KPI pages (see accounts/tests/test_permission_matrix.py)."""

from xiaobao.accounts.models import Role
from xiaobao.accounts.tests.test_permission_matrix import ALL, page, post_page, scoped_object

MANAGE = {Role.ADMIN, Role.OFFICER}


def recompute_rule(role, where):
    if where == "outside" and role != Role.ADMIN:
        return 404
    return 302 if role in MANAGE else 403


MATRIX = {
    "kpi-index": (lambda o: {}, "get", page(ALL)),
    "kpi-freeze": (lambda o: {}, "post", post_page(MANAGE, 400)),
    "kpi-records": (lambda o: {"kpi_id": "persistency_13m"}, "get", page(ALL)),
    "kpi-snapshots": (lambda o: {}, "get", page(ALL)),
    "kpi-snapshot-compare": (lambda o: {}, "get", lambda role, where: 400),  # no snapshots chosen
    "kpi-snapshot-detail": (lambda o: {"pk": o["snapshot"].pk}, "get", scoped_object(ALL)),
    "kpi-snapshot-recompute": (lambda o: {"pk": o["snapshot"].pk}, "post", recompute_rule),
    "kpi-quality-settings": (lambda o: {}, "get", page({Role.ADMIN})),
    "kpi-quality-values": (lambda o: {}, "get", page(MANAGE)),
}


def objects(base):
    """A snapshot of unit C1 over the empty store (recomputing it is quick)."""
    from django.utils import timezone

    from xiaobao.kpi import engine
    from xiaobao.kpi.models import KpiSnapshot
    from xiaobao.kpi.periods import parse_period

    period = parse_period("2024-07")
    snapshot = KpiSnapshot.objects.create(
        period=period.code,
        unit=base["unit"],
        backend="duckdb",
        computed_at=timezone.now(),
        results={},
        store_versions={"policies": None, "premiums": None, "surrenders": None, "claims": None},
        cases_cutoff=timezone.now(),
        cases_sha256="0" * 64,
        parameters=engine.current_parameters(base["unit"], period, timezone.localdate()),
    )
    return {"snapshot": snapshot}
