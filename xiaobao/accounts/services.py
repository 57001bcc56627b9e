"""Writes to users: only administrators create and change accounts, and every change is audited."""

from django.db import transaction

from xiaobao.accounts import access
from xiaobao.accounts.models import User
from xiaobao.audit.services import audit_record


@transaction.atomic
def user_save(*, actor, form, request=None) -> User:
    """Create or update a user from a validated UserForm.

    1. Only an administrator may; the form already checked unit, roles and password strength.
    2. A new password, when given, is hashed; it never reaches the audit trail.
    3. The audit entry lists the fields that changed.
    """
    access.require_admin(actor)
    user = form.save(commit=False)
    creating = user.pk is None
    if form.cleaned_data.get("password"):
        user.set_password(form.cleaned_data["password"])
    user.save()
    changed = [f for f in form.changed_data if f != "password"]
    audit_record(
        actor=actor,
        action="create" if creating else "update",
        obj=user,
        unit=user.unit,
        request=request,
        details={
            "fields": changed,
            "roles": user.roles,
            "password_set": bool(form.cleaned_data.get("password")),
        },
    )
    return user
