"""Permission-matrix rows of retention (read by xiaobao/accounts/tests/test_permission_matrix.py).

The rules are the whole installation's: administrators, officers and auditors read them wherever their
unit is; only administrators change a rule or run the rules (an empty rule form: 400; a run: 302).
"""

from xiaobao.accounts.models import Role

READ = {Role.ADMIN, Role.OFFICER, Role.AUDITOR}


def page(allowed, ok=200):
    return lambda role, where: ok if role in allowed else 403


def objects(base: dict) -> dict:
    from xiaobao.retention.services import rules_ensure

    return {"retention_rule": rules_ensure()["notifications"]}


MATRIX = {
    "retention-index": (lambda o: {}, "get", page(READ)),
    "retention-rule": (lambda o: {"pk": o["retention_rule"].pk}, "post", page({Role.ADMIN}, 400)),
    "retention-run": (lambda o: {}, "post", page({Role.ADMIN}, 302)),
}
