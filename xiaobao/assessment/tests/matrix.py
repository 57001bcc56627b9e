"""Permission-matrix rows for 消保自评 (see xiaobao/accounts/tests/test_permission_matrix.py)."""

from xiaobao.accounts.models import Role
from xiaobao.accounts.tests.test_permission_matrix import ALL, page, scoped_object

ASSESS = {Role.ADMIN, Role.OFFICER}


def assess_post(ok_status):
    """An officer's POST on the C1 self-assessment: outsiders 404, other roles 403."""

    def rule(role, where):
        if where == "outside" and role != Role.ADMIN:
            return 404
        return ok_status if role in ASSESS else 403

    return rule


def admin_post(ok_status):
    return lambda role, where: ok_status if role == Role.ADMIN else 403


MATRIX = {
    "assessment-index": (lambda o: {}, "get", page(ALL)),
    "assessment-catalogues": (lambda o: {}, "post", admin_post(400)),
    "assessment-catalogue": (lambda o: {"year": o["assessment"].catalogue.year}, "get", page(ALL)),
    "assessment-detail": (lambda o: {"pk": o["assessment"].pk}, "get", scoped_object(ALL)),
    "assessment-score": (
        lambda o: {"pk": o["assessment"].pk, "iid": o["indicator"].pk},
        "post",
        assess_post(400),
    ),
    "assessment-evidence": (
        lambda o: {"pk": o["assessment"].pk, "iid": o["indicator"].pk},
        "post",
        assess_post(400),
    ),
    "assessment-prefill": (lambda o: {"pk": o["assessment"].pk}, "post", assess_post(302)),
    "assessment-submit": (lambda o: {"pk": o["assessment"].pk}, "post", assess_post(302)),
}


def objects(base):
    from xiaobao.assessment.services import assessment_create, catalogue_create

    catalogue = catalogue_create(actor=None, year=2024)
    assessment = assessment_create(actor=base["alice"], unit=base["tree"]["C1"], year=2024)
    return {"assessment": assessment, "indicator": catalogue.indicators.first()}
