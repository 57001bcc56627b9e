"""Logins, failed logins, logouts and lockouts go into the audit trail."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from xiaobao.audit.services import audit_record


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit_record(actor=user, action="login", request=request, unit=user.unit)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action="logout", request=request)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Never log the attempted password; the username is what an inspector needs.
    audit_record(
        action="login_failed", actor_name=str(credentials.get("username", ""))[:150], request=request
    )


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(
        action="locked_out", actor_name=str(username or "")[:150], request=request, details={"ip": ip_address}
    )
