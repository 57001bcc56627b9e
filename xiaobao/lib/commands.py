"""The base of xiaobao's own management commands."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """A command that skips Django's system checks.

    The checks import every URL module, view and admin (seconds per run); an import, a report or a
    sweep runs without a web server. `xiaobao check` runs them, and the server runs them at start.
    """

    requires_system_checks: list[str] = []
