"""{% risk_case_flags case %}: the watchlist flag a hotline handler sees on a case page.

The entries recorded against the case (at intake, when listed, by the daily scan) and, so that a
case is never shown unflagged in between, a live check of its customer's tokens."""

from django import template

from xiaobao.risk.intake import stored_flags
from xiaobao.risk.watchlist import flags_for_case

register = template.Library()


@register.inclusion_tag("risk/_case_flags.html")
def risk_case_flags(case):
    flags = {entry.pk: entry for entry in stored_flags(case)}
    for entry in flags_for_case(case):
        flags.setdefault(entry.pk, entry)
    return {"flags": sorted(flags.values(), key=lambda e: e.pk)}
