"""{% risk_case_flags case %}: the watchlist flag a hotline handler sees on a case page."""

from django import template

from xiaobao.risk.watchlist import flags_for_case

register = template.Library()


@register.inclusion_tag("risk/_case_flags.html")
def risk_case_flags(case):
    return {"flags": flags_for_case(case)}
