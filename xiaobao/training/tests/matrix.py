"""Permission-matrix rows of training (read by xiaobao/accounts/tests/test_permission_matrix.py)."""

from xiaobao.accounts.models import Role

ALL = {Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD, Role.AUDITOR}
WRITE = {Role.ADMIN, Role.OFFICER, Role.HANDLER, Role.UNIT_HEAD}
IMPORT = {Role.ADMIN, Role.OFFICER}


def page(allowed, ok=200):
    return lambda role, where: ok if role in allowed else 403


def scoped(allowed):
    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return 200 if role in allowed else 403

    return rule


def post(ok_status):
    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return ok_status if role in WRITE else 403

    return rule


MATRIX = {
    "training-index": (lambda o: {}, "get", page(ALL)),
    "training-session-new": (lambda o: {}, "get", page(WRITE)),
    "training-session-detail": (lambda o: {"pk": o["training_session"].pk}, "get", scoped(ALL)),
    # An empty form clears the writer's own scope of the attendance: 302 (rolled back per persona).
    "training-attendance": (lambda o: {"pk": o["training_session"].pk}, "post", post(302)),
    # Without a file the page says so and sends the user back: 302 for importers.
    "training-attendance-import": (lambda o: {}, "post", page(IMPORT, 302)),
    "training-coverage": (lambda o: {}, "get", page(ALL)),
    "training-untrained-export": (lambda o: {}, "get", page(ALL)),
}


def objects(base: dict) -> dict:
    from django.utils import timezone

    from xiaobao.training import services

    alice = base["alice"]
    session = services.session_create(
        actor=alice,
        unit=base["tree"]["C1"],
        topic="投诉处理技能",
        kind="投诉处理技能",
        trainer="外部讲师",
        held_on=timezone.localdate(),
    )
    services.attendance_set(actor=alice, session=session, users=[alice])
    return {"training_session": session}
